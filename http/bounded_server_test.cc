#include "http/bounded_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/tls_testing.h"

namespace refsum::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Serves GET /plain ("plain", no Cache-Control), GET /cached (with one),
// GET /throw (a handler that throws) and POST /post (echoes the body).
void AddTestHandlers(httplib::Server& server) {
  server.Get("/plain",
             [](const httplib::Request&, httplib::Response& response) {
               response.set_content("plain", "text/plain");
             });
  server.Get("/cached",
             [](const httplib::Request&, httplib::Response& response) {
               response.set_header("Cache-Control", "max-age=60");
               response.set_content("cached", "text/plain");
             });
  server.Get("/throw",
             [](const httplib::Request&, httplib::Response& response) {
               AnswerOrFail(response, [&] {
                 response.set_header("X-Partial", "yes");
                 response.set_content("partial", "text/plain");
                 throw std::runtime_error("secret details");
               });
             });
  server.Post("/post",
              [](const httplib::Request& request, httplib::Response& response) {
                response.set_content(request.body, "text/plain");
              });
}

std::unique_ptr<BoundedServer> StartOrDie(
    const BoundedServerOptions& options,
    absl::FunctionRef<void(httplib::Server&)> add_handlers = AddTestHandlers) {
  absl::StatusOr<std::unique_ptr<BoundedServer>> server =
      BoundedServer::Start(options, add_handlers);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// Connects a raw socket to `server`; -1 on failure.
int ConnectTo(const BoundedServer& server) {
  const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket < 0) return -1;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
    ::close(socket);
    return -1;
  }
  // Only a hang guard.
  const timeval timeout = {60, 0};
  setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return socket;
}

// Reads from `socket` until the server closes it (or the hang guard fires).
std::string ReadUntilClosed(int socket) {
  std::string received;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(socket, buffer, sizeof(buffer), 0);
    if (n <= 0) return received;
    received.append(buffer, static_cast<size_t>(n));
  }
}

httplib::Client ClientFor(const BoundedServer& server) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(10, 0);
  return client;
}

TEST(BoundedServerTest, ServesTheCallersRoutesOneRequestPerConnection) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  httplib::Client client = ClientFor(*server);
  const httplib::Result plain = client.Get("/plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "plain");
  EXPECT_EQ(plain->get_header_value("Cache-Control"), kDefaultCacheControl);
  EXPECT_EQ(plain->get_header_value("Connection"), "close");

  const httplib::Result cached = client.Get("/cached");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->get_header_value("Cache-Control"), "max-age=60");
}

TEST(BoundedServerTest, CpphttplibsOwnAnswersAreNotCacheable) {
  BoundedServerOptions options;
  options.max_body_bytes = 4;
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  httplib::Client client = ClientFor(*server);
  const httplib::Result small = client.Post("/post", "1234", "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(small->body, "1234");
  const httplib::Result large = client.Post("/post", "12345", "text/plain");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  EXPECT_EQ(large->get_header_value("Cache-Control"), kDefaultCacheControl);
  const httplib::Result missing = client.Get("/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Cache-Control"), kDefaultCacheControl);
}

TEST(BoundedServerTest, AnswerOrFailTurnsAnExceptionIntoABare500) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  httplib::Client client = ClientFor(*server);
  const httplib::Result result = client.Get("/throw");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 500);
  EXPECT_EQ(result->body, "");
  EXPECT_FALSE(result->has_header("X-Partial"));
  for (const auto& [name, value] : result->headers) {
    EXPECT_EQ(value.find("secret"), std::string::npos) << name;
  }
}

TEST(BoundedServerTest, RefusesAPortAnotherServerListensOn) {
  const std::unique_ptr<BoundedServer> first = StartOrDie({});
  ASSERT_NE(first, nullptr);
  BoundedServerOptions options;
  options.port = first->port();
  const absl::StatusOr<std::unique_ptr<BoundedServer>> second =
      BoundedServer::Start(options, AddTestHandlers);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(BoundedServerTest, NoMoreRequestsRunAtOnceThanThereAreWorkers) {
  BoundedServerOptions options;
  options.worker_threads = 2;
  absl::Mutex mu;
  int running = 0;
  int most_running = 0;
  const std::unique_ptr<BoundedServer> server =
      StartOrDie(options, [&](httplib::Server& http) {
        http.Get("/slow",
                 [&](const httplib::Request&, httplib::Response& response) {
                   {
                     absl::MutexLock lock(&mu);
                     most_running = std::max(most_running, ++running);
                   }
                   absl::SleepFor(absl::Milliseconds(50));
                   {
                     absl::MutexLock lock(&mu);
                     --running;
                   }
                   response.set_content("slow", "text/plain");
                 });
      });
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 8;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&server, &statuses, i] {
      httplib::Client client = ClientFor(*server);
      const httplib::Result result = client.Get("/slow");
      if (result) statuses[i] = result->status;
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(statuses[i], 200) << i;
  absl::MutexLock lock(&mu);
  EXPECT_GE(most_running, 1);
  EXPECT_LE(most_running, 2);
}

TEST(BoundedServerTest, IdleConnectionsGet408AfterTheRequestTimeout) {
  BoundedServerOptions options;
  options.request_timeout = absl::Seconds(1);
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  const int socket = ConnectTo(*server);
  ASSERT_GE(socket, 0);
  EXPECT_THAT(ReadUntilClosed(socket), StartsWith("HTTP/1.1 408 "));
  ::close(socket);
}

TEST(BoundedServerTest, SlowLorisClientsDoNotHoldTheWorkers) {
  BoundedServerOptions options;
  options.worker_threads = 1;
  // Long enough that the slow clients are still connected while the fast
  // one is served, however slow the machine.
  options.request_timeout = absl::Minutes(5);
  options.connection_timeout = absl::Minutes(5);
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  constexpr int kSlowClients = 8;
  std::vector<int> slow;
  for (int i = 0; i < kSlowClients; ++i) {
    const int socket = ConnectTo(*server);
    ASSERT_GE(socket, 0);
    slow.push_back(socket);
  }
  // Each sends a request line and headers, a byte at a time, never the
  // blank line that ends the header.
  const std::string partial = "GET /plain HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  for (char byte : partial) {
    for (int socket : slow) {
      ASSERT_EQ(::send(socket, &byte, 1, MSG_NOSIGNAL), 1);
    }
  }

  httplib::Client client = ClientFor(*server);
  const httplib::Result result = client.Get("/plain");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "plain");

  // The slow clients were waited for, not dropped: each finishes its
  // request now and is answered.
  for (int socket : slow) {
    ASSERT_EQ(::send(socket, "1\r\n\r\n", 5, MSG_NOSIGNAL), 5);
  }
  for (int socket : slow) {
    EXPECT_THAT(ReadUntilClosed(socket), StartsWith("HTTP/1.1 200 "));
    ::close(socket);
  }
}

TEST(BoundedServerTest, OversizedHeadersGet431) {
  BoundedServerOptions options;
  options.max_header_bytes = 1024;
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);

  const int fits = ConnectTo(*server);
  ASSERT_GE(fits, 0);
  const std::string small = absl::StrCat(
      "GET /plain HTTP/1.1\r\nHost: x\r\nX-Pad: ", std::string(900, 'a'),
      "\r\n\r\n");
  ASSERT_EQ(::send(fits, small.data(), small.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(small.size()));
  EXPECT_THAT(ReadUntilClosed(fits), StartsWith("HTTP/1.1 200 "));
  ::close(fits);

  // Many small header lines add up too.
  const int many = ConnectTo(*server);
  ASSERT_GE(many, 0);
  std::string large = "GET /plain HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&large, "X-H", i, ": v\r\n");
  large += "\r\n";
  ASSERT_EQ(::send(many, large.data(), large.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(large.size()));
  EXPECT_THAT(ReadUntilClosed(many), StartsWith("HTTP/1.1 431 "));
  ::close(many);
}

TEST(BoundedServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  BoundedServerOptions options;
  options.max_connections = 2;
  options.request_timeout = absl::Minutes(5);
  options.connection_timeout = absl::Minutes(5);
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  const int first = ConnectTo(*server);
  const int second = ConnectTo(*server);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  // Connected in the kernel's backlog at once; closed once accepted.
  const int third = ConnectTo(*server);
  ASSERT_GE(third, 0);
  EXPECT_EQ(ReadUntilClosed(third), "");
  ::close(third);
  // The first two still get answers.
  for (int socket : {first, second}) {
    const std::string request = "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::send(socket, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    EXPECT_THAT(ReadUntilClosed(socket), StartsWith("HTTP/1.1 200 "));
    ::close(socket);
  }
}

class BoundedServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700) == 0 || errno == EEXIST, true);
    absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    ASSERT_TRUE(testing::WriteTestPki(pki_, dir_).ok());
    BoundedServerOptions options;
    options.max_body_bytes = 1024;
    options.tls = std::make_shared<TlsServerCredentials>(
        TlsServerCredentials{pki_.server_chain_pem, pki_.server_key_pem});
    server_ = StartOrDie(options);
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& ca_file) {
    auto client =
        std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    client->set_ca_cert_path(ca_file.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(10, 0);
    client->set_read_timeout(10, 0);
    return client;
  }

  std::string dir_;
  testing::TestPki pki_;
  std::unique_ptr<BoundedServer> server_;
};

TEST_F(BoundedServerTlsTest, ServesHttpsToClientsThatTrustTheCa) {
  const auto client = Client(dir_ + "/ca.pem");
  const httplib::Result plain = client->Get("/plain");
  ASSERT_TRUE(plain) << httplib::to_string(plain.error());
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "plain");
  const httplib::Result post = client->Post("/post", "body", "text/plain");
  ASSERT_TRUE(post) << httplib::to_string(post.error());
  EXPECT_EQ(post->body, "body");
}

TEST_F(BoundedServerTlsTest, ClientsWithAnotherCaFail) {
  const auto client = Client(dir_ + "/other-ca.pem");
  const httplib::Result result = client->Get("/plain");
  EXPECT_FALSE(result);
  EXPECT_EQ(result.error(), httplib::Error::SSLServerVerification);
}

TEST_F(BoundedServerTlsTest, PlainHttpIsRefused) {
  httplib::Client client = ClientFor(*server_);
  const httplib::Result result = client.Get("/plain");
  EXPECT_FALSE(result && result->status == 200);
}

TEST(BoundedServerTest, RefusesTlsCredentialsThatDoNotLoad) {
  absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki();
  ASSERT_TRUE(pki.ok()) << pki.status();
  absl::StatusOr<testing::TestPki> other = testing::MakeTestPki();
  ASSERT_TRUE(other.ok()) << other.status();
  BoundedServerOptions options;
  options.tls = std::make_shared<TlsServerCredentials>(
      TlsServerCredentials{"not a certificate", pki->server_key_pem});
  absl::StatusOr<std::unique_ptr<BoundedServer>> garbage =
      BoundedServer::Start(options, AddTestHandlers);
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(garbage.status().message()),
              HasSubstr("certificate"));
  options.tls = std::make_shared<TlsServerCredentials>(
      TlsServerCredentials{pki->server_chain_pem, other->server_key_pem});
  absl::StatusOr<std::unique_ptr<BoundedServer>> mismatch =
      BoundedServer::Start(options, AddTestHandlers);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(mismatch.status().message()),
              HasSubstr("does not belong"));
}

TEST(BoundedServerTest, ShutdownStopsListeningAndIsIdempotent) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Shutdown();
  server->Shutdown();
  EXPECT_EQ(server->port(), port);
  httplib::Client client = ClientFor(*server);
  EXPECT_FALSE(client.Get("/plain"));
}

}  // namespace
}  // namespace refsum::http
