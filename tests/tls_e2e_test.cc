// End to end over TLS: a real refsum-log serving gRPC and tlog-tiles with
// --tls_cert/--tls_key, reached by refsum-submit and refsum-verify with
// --tls_ca; a real refsum-witness serving add-checkpoint over HTTPS; plain
// text clients and clients trusting another CA are refused; and every
// daemon refuses private keys (signing keys and TLS keys) that its group or
// others may read. The CA and certificates are made afresh by each test
// (http/tls_testing.h).

#include <httplib.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/log_client.h"
#include "client/testing.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/tls_testing.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/witness_protocol.h"

namespace refsum::tests {
namespace {

using ::refsum::client::testing::NewTempDir;
using ::testing::HasSubstr;

constexpr char kSubmitBinary[] = "submitter/refsum-submit";
constexpr char kVerifyBinary[] = "client/refsum-verify";
constexpr char kWitnessBinary[] = "witness/refsum-witness";
constexpr char kOrigin[] = "log.example.org/tls-e2e";
constexpr char kWitnessName[] = "witness.example.org/tls-e2e";
// Generous: an upper bound, never an expectation of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("tls_e2e"));
    ASSERT_OK_AND_ASSIGN(pki_, http::testing::MakeTestPki());
    ASSERT_OK(http::testing::WriteTestPki(pki_, dir_));
    ASSERT_OK_AND_ASSIGN(log_key_, GenerateLogKey(kOrigin, dir_ + "/log-key"));
  }

  LogServerOptions TlsLogOptions() const {
    LogServerOptions options;
    options.key = log_key_;
    options.data_dir = dir_ + "/log-data";
    options.output_dir = dir_;
    options.timeout = kTimeout;
    options.extra_flags = {"--tls_cert=" + dir_ + "/server.pem",
                           "--tls_key=" + dir_ + "/server.key"};
    options.tls_ca_pem = pki_.ca_pem;
    return options;
  }

  absl::StatusOr<RunResult> Run(const char* binary,
                                const std::vector<std::string>& args) {
    return RunProcess(binary, args, absl::StrCat(dir_, "/run-", ++runs_),
                      kTimeout);
  }

  std::unique_ptr<httplib::SSLClient> HttpsClient(int port,
                                                  const std::string& ca_file) {
    auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    client->set_ca_cert_path(ca_file.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(absl::ToChronoSeconds(kTimeout));
    client->set_read_timeout(absl::ToChronoSeconds(kTimeout));
    return client;
  }

  // Writes a witness configuration following `log` and starts
  // `refsum-witness serve` with `flags`; returns its HTTP port.
  absl::StatusOr<int> StartWitness(const LogServer& log,
                                   const std::vector<std::string>& flags,
                                   int port = 0) {
    const std::string config = absl::StrCat(
        "name ", kWitnessName, "\n", "cosign_key witness-keys/cosign.key\n",
        "rebuild_key witness-keys/rebuild.key\n", "http_addr 127.0.0.1:",
        port, "\n",
        "state_dir witness-state\n", "log ", kOrigin, " ", log_key_.vkey, " ",
        log.grpc_address(), "\n");
    RETURN_IF_ERROR(
        WriteFileAtomically(dir_ + "/witness.conf", config, 0644));
    const std::string prefix = absl::StrCat(dir_, "/witness-", ++runs_);
    std::vector<std::string> args = {"serve", "--config=" + dir_ + "/witness.conf",
                                     "--ready_file=" + prefix + ".ready.json"};
    args.insert(args.end(), flags.begin(), flags.end());
    ASSIGN_OR_RETURN(witness_, Process::Start(kWitnessBinary, args,
                                              prefix + ".stdout",
                                              prefix + ".stderr"));
    ASSIGN_OR_RETURN(const std::string json,
                     witness_->WaitForFile(prefix + ".ready.json", kTimeout));
    ASSIGN_OR_RETURN(const encoding::JsonValue value,
                     encoding::ParseJson(absl::StripSuffix(json, "\n")));
    const encoding::JsonValue* http = value.Find("http");
    int bound = 0;
    if (http == nullptr || http->AsString() == nullptr ||
        !absl::SimpleAtoi(absl::StripPrefix(*http->AsString(), "127.0.0.1:"),
                          &bound)) {
      return absl::InternalError(absl::StrCat("bad ready file: ", json));
    }
    return bound;
  }

  absl::Status WitnessKeygen() {
    ASSIGN_OR_RETURN(const RunResult keygen,
                     Run(kWitnessBinary,
                         {"keygen", absl::StrCat("--name=", kWitnessName),
                          "--out=" + dir_ + "/witness-keys"}));
    if (!keygen.status.ExitedWith(0)) {
      return absl::InternalError(keygen.stderr_text);
    }
    return absl::OkStatus();
  }

  std::string dir_;
  http::testing::TestPki pki_;
  LogKey log_key_;
  std::unique_ptr<Process> witness_;
  int runs_ = 0;
};

TEST_F(TlsE2eTest, LogServesGrpcAndTilesOverTlsToSubmitAndVerify) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
                       LogServer::Start(TlsLogOptions()));

  // The vendor submits with refsum-submit over TLS (open mode).
  ASSERT_OK_AND_ASSIGN(const RunResult keygen,
                       Run(kSubmitBinary, {"keygen", "--type=ecdsa-p256",
                                           "--out=" + dir_ + "/vendor"}));
  ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
  ASSERT_OK(WriteFileAtomically(dir_ + "/image.raw", "an image\n", 0644));
  const std::string value =
      "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  ASSERT_OK_AND_ASSIGN(
      const RunResult claim,
      Run(kSubmitBinary,
          {"claim", "--key=" + dir_ + "/vendor.key",
           "--artifact=" + dir_ + "/image.raw",
           "--repository=https://github.com/example/os-image",
           "--commit=8f3c1e0a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
           "--recipe=make", "--value=tpm/pcr/4=" + value,
           "--out=" + dir_ + "/claim.json"}));
  ASSERT_TRUE(claim.status.ExitedWith(0)) << claim.stderr_text;
  const std::vector<std::string> submit = {
      "submit", "--log=" + log->grpc_address(),
      "--log_key=" + log->vkey_path(), "--public_key=" + dir_ + "/vendor.pub",
      "--out=" + dir_ + "/claim.tlog-proof", dir_ + "/claim.json"};

  std::vector<std::string> plain = submit;
  ASSERT_OK_AND_ASSIGN(const RunResult refused, Run(kSubmitBinary, plain));
  EXPECT_FALSE(refused.status.ExitedWith(0)) << refused.stdout_text;
  std::vector<std::string> wrong_ca = submit;
  wrong_ca.push_back("--tls_ca=" + dir_ + "/other-ca.pem");
  ASSERT_OK_AND_ASSIGN(const RunResult distrusted,
                       Run(kSubmitBinary, wrong_ca));
  EXPECT_FALSE(distrusted.status.ExitedWith(0)) << distrusted.stdout_text;
  std::vector<std::string> with_ca = submit;
  with_ca.push_back("--tls_ca=" + dir_ + "/ca.pem");
  ASSERT_OK_AND_ASSIGN(const RunResult submitted, Run(kSubmitBinary, with_ca));
  ASSERT_TRUE(submitted.status.ExitedWith(0)) << submitted.stderr_text;

  // The verifier checks it online over TLS.
  ASSERT_OK(WriteFileAtomically(
      dir_ + "/policy.txt",
      absl::StrCat("log ", log_key_.vkey, "\nquorum none\nvendor acme ",
                   dir_, "/vendor.pub\nrebuild-quorum none\n"),
      0644));
  const std::vector<std::string> verify = {
      "--policy=" + dir_ + "/policy.txt", "--state_dir=" + dir_ + "/state",
      "--log=" + log->grpc_address(), "--value=tpm/pcr/4=" + value,
      "--tls_ca=" + dir_ + "/ca.pem"};
  ASSERT_OK_AND_ASSIGN(const RunResult verified, Run(kVerifyBinary, verify));
  EXPECT_TRUE(verified.status.ExitedWith(0)) << verified.stderr_text;
  EXPECT_THAT(verified.stdout_text, HasSubstr("TRUSTED"));

  // gRPC clients without TLS or trusting another CA get nothing.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<client::LogClient> plain_client,
                       client::LogClient::Connect(log->grpc_address(),
                                                  absl::Seconds(30)));
  EXPECT_EQ(plain_client->GetCheckpoint().status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<client::LogClient> other_client,
      client::LogClient::Connect(log->grpc_address(), absl::Seconds(30),
                                 pki_.other_ca_pem));
  EXPECT_EQ(other_client->GetCheckpoint().status().code(),
            absl::StatusCode::kUnavailable);

  // The tlog-tiles API is HTTPS only.
  const auto https = HttpsClient(log->http_port(), dir_ + "/ca.pem");
  const httplib::Result checkpoint = https->Get("/checkpoint");
  ASSERT_TRUE(checkpoint) << httplib::to_string(checkpoint.error());
  EXPECT_EQ(checkpoint->status, 200);
  EXPECT_THAT(checkpoint->body, HasSubstr(kOrigin));
  const auto distrusting = HttpsClient(log->http_port(), dir_ + "/other-ca.pem");
  const httplib::Result refused_tiles = distrusting->Get("/checkpoint");
  EXPECT_FALSE(refused_tiles);
  httplib::Client plain_http("127.0.0.1", log->http_port());
  plain_http.set_read_timeout(absl::ToChronoSeconds(kTimeout));
  const httplib::Result plain_tiles = plain_http.Get("/checkpoint");
  EXPECT_FALSE(plain_tiles && plain_tiles->status == 200);
}

TEST_F(TlsE2eTest, WitnessCosignsOverHttps) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
                       LogServer::Start(TlsLogOptions()));
  ASSERT_OK(WitnessKeygen());
  ASSERT_OK_AND_ASSIGN(
      const int port,
      StartWitness(*log, {"--tls_cert=" + dir_ + "/server.pem",
                          "--tls_key=" + dir_ + "/server.key",
                          "--log_tls_ca=" + dir_ + "/ca.pem"}));
  ASSERT_OK_AND_ASSIGN(const std::string note, log->client().GetCheckpoint());
  tlog::AddCheckpointRequest request;
  request.old_size = 0;
  request.checkpoint = note;
  const std::string body = tlog::FormatAddCheckpointRequest(request);

  const auto https = HttpsClient(port, dir_ + "/ca.pem");
  const httplib::Result cosigned =
      https->Post(tlog::kAddCheckpointPath, body, "text/plain");
  ASSERT_TRUE(cosigned) << httplib::to_string(cosigned.error());
  EXPECT_EQ(cosigned->status, 200) << cosigned->body;
  EXPECT_THAT(cosigned->body, HasSubstr(kWitnessName));

  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(absl::ToChronoSeconds(kTimeout));
  const httplib::Result refused =
      plain.Post(tlog::kAddCheckpointPath, body, "text/plain");
  EXPECT_FALSE(refused && refused->status == 200);
  const auto distrusting = HttpsClient(port, dir_ + "/other-ca.pem");
  EXPECT_FALSE(distrusting->Post(tlog::kAddCheckpointPath, body, "text/plain"));
}

TEST_F(TlsE2eTest, LogPushesCheckpointsToAnHttpsWitness) {
  // The witness's port is named in the log's policy before either starts.
  ASSERT_OK_AND_ASSIGN(const int port, ReserveLoopbackPort());
  ASSERT_OK(WitnessKeygen());
  ASSERT_OK_AND_ASSIGN(const std::string vkey,
                       ReadFile(dir_ + "/witness-keys/cosign.vkey"));
  ASSERT_OK(WriteFileAtomically(
      dir_ + "/witnesses.txt",
      absl::StrCat("log ", log_key_.vkey, "\nwitness w1 ",
                   absl::StripSuffix(vkey, "\n"), " https://127.0.0.1:", port,
                   "\nquorum w1\n"),
      0644));
  LogServerOptions options = TlsLogOptions();
  options.extra_flags.push_back("--witnesses=" + dir_ + "/witnesses.txt");
  options.extra_flags.push_back("--witness_tls_ca=" + dir_ + "/ca.pem");
  options.extra_flags.push_back("--witness_max_backoff=1s");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
                       LogServer::Start(options));
  ASSERT_OK(StartWitness(*log,
                         {"--tls_cert=" + dir_ + "/server.pem",
                          "--tls_key=" + dir_ + "/server.key",
                          "--log_tls_ca=" + dir_ + "/ca.pem"},
                         port)
                .status());

  // The log's first checkpoint gets witnessed over HTTPS (hang guard only).
  std::string witnessed;
  const absl::Time give_up = absl::Now() + kTimeout;
  while (witnessed.empty() && absl::Now() < give_up) {
    refsum::v1::GetCheckpointResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
    const grpc::Status status = log->stub().GetCheckpoint(
        &context, refsum::v1::GetCheckpointRequest(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    witnessed = response.witnessed_checkpoint();
    if (witnessed.empty()) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(witnessed, HasSubstr(absl::StrCat("\u2014 ", kWitnessName)));
}

TEST_F(TlsE2eTest, DaemonsRefuseKeysOthersMayRead) {
  // The log's TLS key.
  ASSERT_EQ(chmod((dir_ + "/server.key").c_str(), 0640), 0);
  absl::StatusOr<std::unique_ptr<LogServer>> log =
      LogServer::Start(TlsLogOptions());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("TLS key"));
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("0640"));

  // The log's signing key.
  ASSERT_EQ(chmod((dir_ + "/server.key").c_str(), 0600), 0);
  ASSERT_EQ(chmod(log_key_.key_path.c_str(), 0644), 0);
  log = LogServer::Start(TlsLogOptions());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("private key"));
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("0644"));
  ASSERT_EQ(chmod(log_key_.key_path.c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> running,
                       LogServer::Start(TlsLogOptions()));

  // The witness's TLS key, and its cosigning and rebuild keys.
  ASSERT_OK(WitnessKeygen());
  const std::vector<std::string> tls = {"--tls_cert=" + dir_ + "/server.pem",
                                        "--tls_key=" + dir_ + "/server.key"};
  struct Case {
    std::string path;
    mode_t mode;
    std::string named;
  };
  const std::vector<Case> cases = {
      {dir_ + "/server.key", 0604, "TLS key"},
      {dir_ + "/witness-keys/cosign.key", 0640, "cosign.key"},
      {dir_ + "/witness-keys/rebuild.key", 0604, "rebuild.key"},
  };
  for (const Case& loose : cases) {
    SCOPED_TRACE(loose.path);
    ASSERT_EQ(chmod(loose.path.c_str(), loose.mode), 0);
    const absl::StatusOr<int> port = StartWitness(*running, tls);
    EXPECT_EQ(port.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(port.status().message()), HasSubstr(loose.named));
    EXPECT_THAT(std::string(port.status().message()),
                HasSubstr("accessible by group or others"));
    ASSERT_EQ(chmod(loose.path.c_str(), 0600), 0);
  }
  EXPECT_OK(StartWitness(*running, tls).status());
}

}  // namespace
}  // namespace refsum::tests
