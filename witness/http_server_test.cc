#include "witness/http_server.h"

#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "client/testing.h"
#include "crypto/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/witness_protocol.h"
#include "witness/config.h"
#include "witness/cosigner.h"

namespace refsum::witness {
namespace {

using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::TestLog;
using ::refsum::tlog::FormatAddCheckpointRequest;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kOrigin[] = "log.example.org/a";
constexpr char kName[] = "witness.example.org/w1";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(state_dir_, NewTempDir("http_server"));
    ASSERT_OK_AND_ASSIGN(TestLog log, TestLog::Create(kOrigin));
    log_ = std::make_unique<TestLog>(std::move(log));
    for (int i = 0; i < 10; ++i) log_->Append(absl::StrCat("leaf", i));
    ASSERT_OK_AND_ASSIGN(
        const crypto::PrivateKey key,
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    const LogConfig logs[] = {LogConfig{kOrigin, log_->vkey(), "127.0.0.1:1"}};
    ASSERT_OK_AND_ASSIGN(cosigner_,
                         Cosigner::Create(kName, key, logs, state_dir_));
    reports_dir_ = ReportsDir(state_dir_);
    ASSERT_OK(MakeDirectories(reports_dir_, 0700));
    HttpServerOptions options;
    options.reports_dir = reports_dir_;
    ASSERT_OK_AND_ASSIGN(server_, HttpServer::Start(options, cosigner_.get()));
  }

  std::string Request(uint64_t old_size, uint64_t new_size) const {
    absl::StatusOr<std::string> note = log_->SignCheckpoint(new_size, {});
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        log_->ConsistencyProof(old_size, new_size);
    EXPECT_TRUE(note.ok() && proof.ok());
    return FormatAddCheckpointRequest({old_size, *proof, *note});
  }

  httplib::Result Post(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", server_->port());
    return client.Post(path.c_str(), body, "text/plain");
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->port());
    return client.Get(path.c_str());
  }

  std::string state_dir_;
  std::string reports_dir_;
  std::unique_ptr<TestLog> log_;
  std::unique_ptr<Cosigner> cosigner_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AddCheckpointAnswersAsTheCosigner) {
  const httplib::Result cosigned = Post("/add-checkpoint", Request(0, 5));
  ASSERT_TRUE(cosigned);
  EXPECT_EQ(cosigned->status, 200);
  EXPECT_EQ(cosigned->get_header_value("Content-Type"),
            "text/plain; charset=utf-8");
  EXPECT_EQ(cosigned->get_header_value("Cache-Control"), "no-store");
  EXPECT_THAT(cosigned->body,
              StartsWith(absl::StrCat("\xe2\x80\x94 ", kName, " ")));

  const httplib::Result conflict = Post("/add-checkpoint", Request(0, 8));
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409);
  EXPECT_EQ(conflict->get_header_value("Content-Type"), "text/x.tlog.size");
  EXPECT_EQ(conflict->body, "5\n");

  // A query string is ignored.
  const httplib::Result extended =
      Post("/add-checkpoint?from=test", Request(5, 8));
  ASSERT_TRUE(extended);
  EXPECT_EQ(extended->status, 200) << extended->body;

  const httplib::Result malformed = Post("/add-checkpoint", "old 8\n");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
}

TEST_F(HttpServerTest, EveryOtherPathOrMethodIsRefused) {
  httplib::Client client("127.0.0.1", server_->port());
  const httplib::Result get = client.Get("/add-checkpoint");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  const httplib::Result put = client.Put("/add-checkpoint", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  for (const char* path :
       {"/", "/add-checkpoint/", "/add%2Dcheckpoint", "/witness/add-checkpoint",
        "//add-checkpoint", "/ADD-CHECKPOINT"}) {
    const httplib::Result post = Post(path, Request(0, 5));
    ASSERT_TRUE(post) << path;
    EXPECT_EQ(post->status, 404) << path;
  }
  ASSERT_OK_AND_ASSIGN(auto latest, cosigner_->Latest(kOrigin));
  EXPECT_FALSE(latest.has_value());
}

TEST_F(HttpServerTest, LargeBodiesAre413) {
  const httplib::Result result =
      Post("/add-checkpoint", std::string(kMaxRequestBytes + 1, 'x'));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 413);
}

TEST_F(HttpServerTest, OneRequestPerConnection) {
  const httplib::Result result = Get("/reports/none");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->get_header_value("Connection"), "close");
}

TEST_F(HttpServerTest, SubmissionPrefix) {
  HttpServerOptions options;
  options.submission_prefix = "/witness/v1.0";
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<HttpServer> prefixed,
                       HttpServer::Start(options, cosigner_.get()));
  httplib::Client client("127.0.0.1", prefixed->port());
  const httplib::Result under_prefix =
      client.Post("/witness/v1.0/add-checkpoint", Request(0, 5), "text/plain");
  ASSERT_TRUE(under_prefix);
  EXPECT_EQ(under_prefix->status, 200);
  // '.' is not a regex wildcard.
  const httplib::Result dot =
      client.Post("/witness/v1x0/add-checkpoint", Request(5, 6), "text/plain");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->status, 404);
  const httplib::Result bare =
      client.Post("/add-checkpoint", Request(5, 6), "text/plain");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 404);

  for (const char* bad :
       {"witness", "/witness/", "/wit ness", "/w?x", "/w%41"}) {
    options.submission_prefix = bad;
    EXPECT_TRUE(absl::IsInvalidArgument(
        HttpServer::Start(options, cosigner_.get()).status()))
        << bad;
  }
}

TEST_F(HttpServerTest, ServesReports) {
  ASSERT_OK(WriteFileAtomically(reports_dir_ + "/claim-7.txt",
                                "claimed a, rebuilt b\n", 0644));
  ASSERT_OK(WriteFileAtomically(reports_dir_ + "/claim-7.html", "<p>diff</p>\n",
                                0644));
  ASSERT_OK(WriteFileAtomically(reports_dir_ + "/claim-7.json", "{}\n", 0644));

  const httplib::Result text = Get("/reports/claim-7.txt");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200);
  EXPECT_EQ(text->body, "claimed a, rebuilt b\n");
  EXPECT_EQ(text->get_header_value("Content-Type"),
            "text/plain; charset=utf-8");
  EXPECT_EQ(text->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(text->get_header_value("Cache-Control"), "no-cache");

  const httplib::Result html = Get("/reports/claim-7.html");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(html->get_header_value("Content-Security-Policy"),
              StartsWith("sandbox"));

  const httplib::Result json = Get("/reports/claim-7.json?x=1");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");

  httplib::Client client("127.0.0.1", server_->port());
  const httplib::Result head = client.Head("/reports/claim-7.txt");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  const httplib::Result post =
      client.Post("/reports/claim-7.txt", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
}

TEST_F(HttpServerTest, ReportNamesCannotLeaveTheDirectory) {
  // Files outside the reports directory that a traversal would reach.
  ASSERT_OK(WriteFileAtomically(state_dir_ + "/secret", "secret\n", 0600));
  ASSERT_OK(MakeDirectories(reports_dir_ + "/sub", 0700));
  ASSERT_OK(WriteFileAtomically(reports_dir_ + "/sub/x", "x\n", 0644));
  ASSERT_OK(WriteFileAtomically(reports_dir_ + "/.hidden", "h\n", 0644));
  ASSERT_EQ(symlink((state_dir_ + "/secret").c_str(),
                    (reports_dir_ + "/link").c_str()),
            0);
  for (const char* path :
       {"/reports/", "/reports/../secret", "/reports/..%2fsecret",
        "/reports/%2e%2e/secret", "/reports/sub/x", "/reports/sub",
        "/reports/.hidden", "/reports/.", "/reports/..", "/reports/link",
        "/reports/missing", "/reports//secret", "/reports/a%00b",
        "/reports/r\\..\\secret"}) {
    const httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
    EXPECT_THAT(result->body, ::testing::Not(HasSubstr("secret\n"))) << path;
  }
  const httplib::Result long_name =
      Get(absl::StrCat("/reports/", std::string(256, 'a')));
  ASSERT_TRUE(long_name);
  EXPECT_EQ(long_name->status, 404);
}

TEST_F(HttpServerTest, ReportsDirectoryMayBeMissing) {
  HttpServerOptions options;
  options.reports_dir = state_dir_ + "/nowhere";
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<HttpServer> server,
                       HttpServer::Start(options, cosigner_.get()));
  httplib::Client client("127.0.0.1", server->port());
  const httplib::Result result = client.Get("/reports/a.txt");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
}

TEST_F(HttpServerTest, ServesManyClientsAtOnce) {
  // More clients than worker threads, so that connections queue; requests
  // for one origin are serialized by the cosigner, and exactly one of those
  // from size 0 wins.
  constexpr int kClients = 40;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  const std::string body = Request(0, 7);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([this, i, &statuses, &body] {
      const httplib::Result result =
          i % 2 == 0 ? Post("/add-checkpoint", body) : Get("/reports/none");
      if (result) statuses[i] = result->status;
    });
  }
  for (std::thread& client : clients) client.join();
  int cosigned = 0;
  for (int i = 0; i < kClients; ++i) {
    if (i % 2 == 1) {
      EXPECT_EQ(statuses[i], 404) << i;
    } else if (statuses[i] == 200) {
      ++cosigned;
    } else {
      // The first to be served stored size 7; the others are told so.
      EXPECT_EQ(statuses[i], 409) << i;
    }
  }
  EXPECT_EQ(cosigned, 1);
  ASSERT_OK_AND_ASSIGN(auto latest, cosigner_->Latest(kOrigin));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->checkpoint.size, 7u);
}

TEST_F(HttpServerTest, ShutdownIsIdempotentAndStopsServing) {
  const int port = server_->port();
  server_->Shutdown();
  server_->Shutdown();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  EXPECT_FALSE(client.Get("/reports/x"));
}

TEST_F(HttpServerTest, StartFailsOnAPortInUse) {
  HttpServerOptions options;
  options.port = server_->port();
  EXPECT_EQ(HttpServer::Start(options, cosigner_.get()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace refsum::witness
