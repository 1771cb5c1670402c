// End to end: the limits of a real refsum-log's entry points, set by its
// flags. Slow-loris clients on raw loopback sockets do not keep others from
// the tlog-tiles API; an oversized gRPC request and a signer beyond its
// submission rate get RESOURCE_EXHAUSTED.

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/log_client.h"
#include "client/testing.h"
#include "crypto/dsse.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tests/log_server.h"

namespace refsum::tests {
namespace {

using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::NewTestSigner;
using ::refsum::client::testing::SampleClaim;
using ::refsum::client::testing::TestSigner;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "log.example.org/limits-e2e";
// Generous: an upper bound, never an expectation of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);

class LimitsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("limits_e2e"));
    LogServerOptions options;
    ASSERT_OK_AND_ASSIGN(options.key,
                         GenerateLogKey(kOrigin, dir_ + "/log-key"));
    options.data_dir = dir_ + "/log-data";
    options.output_dir = dir_;
    options.timeout = kTimeout;
    // Open mode; one submission per key and 1000 s, small requests.
    options.extra_flags = {"--submit_rate_per_key=0.001",
                           "--grpc_max_receive_bytes=16384"};
    ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(options));
  }

  // Submits a claim made from `seed`, signed by `signer`.
  absl::Status Submit(const TestSigner& signer, absl::string_view seed) {
    statement::Claim claim = SampleClaim(seed);
    absl::StatusOr<std::string> payload = statement::SerializeClaim(claim);
    if (!payload.ok()) return payload.status();
    absl::StatusOr<crypto::DsseEnvelope> envelope =
        crypto::DsseSign(statement::kPayloadType, *payload, *signer.signer);
    if (!envelope.ok()) return envelope.status();
    return log_->client()
        .Submit(crypto::EncodeDsseJson(*envelope), signer.public_key().ToPem())
        .status();
  }

  std::string dir_;
  std::unique_ptr<LogServer> log_;
};

// Connects a raw socket to the log's HTTP port; -1 on failure.
int ConnectRaw(int port) {
  const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket < 0) return -1;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
    ::close(socket);
    return -1;
  }
  return socket;
}

TEST_F(LimitsE2eTest, SlowLorisClientsDoNotKeepOthersFromTheTiles) {
  // More slow clients than the server has workers (16), each with most of
  // a request header sent a byte at a time and never finished.
  constexpr int kSlowClients = 40;
  std::vector<int> slow;
  for (int i = 0; i < kSlowClients; ++i) {
    const int socket = ConnectRaw(log_->http_port());
    ASSERT_GE(socket, 0);
    slow.push_back(socket);
  }
  const std::string partial =
      "GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  for (char byte : partial) {
    for (int socket : slow) {
      ASSERT_EQ(::send(socket, &byte, 1, MSG_NOSIGNAL), 1);
    }
  }

  // They keep dribbling (a byte each per 100 ms, well within any per-read
  // timeout) while another client is served. Sends fail harmlessly once the
  // server has closed a connection.
  std::atomic<bool> done{false};
  std::thread dribble([&] {
    while (!done) {
      for (int socket : slow) ::send(socket, "x", 1, MSG_NOSIGNAL);
      absl::SleepFor(absl::Milliseconds(100));
    }
  });

  httplib::Client client(log_->http_host(), log_->http_port());
  client.set_connection_timeout(absl::ToChronoSeconds(kTimeout));
  client.set_read_timeout(absl::ToChronoSeconds(kTimeout));
  for (int i = 0; i < 3; ++i) {
    const httplib::Result result = client.Get("/checkpoint");
    // Not ASSERT: the dribbling thread must be joined.
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    if (!result) break;
    EXPECT_EQ(result->status, 200);
    EXPECT_THAT(result->body, HasSubstr(kOrigin));
  }
  done = true;
  dribble.join();
  for (int socket : slow) ::close(socket);
}

TEST_F(LimitsE2eTest, SubmissionsBeyondTheRateOrSizeAreResourceExhausted) {
  ASSERT_OK_AND_ASSIGN(TestSigner acme,
                       NewTestSigner("acme", crypto::KeyType::kEd25519));
  ASSERT_OK_AND_ASSIGN(TestSigner initech,
                       NewTestSigner("initech", crypto::KeyType::kEcdsaP256));

  EXPECT_OK(Submit(acme, "first"));
  const absl::Status second = Submit(acme, "second");
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted) << second;
  EXPECT_THAT(std::string(second.message()),
              HasSubstr(absl::StrCat("key ", acme.public_key().keyid())));
  EXPECT_OK(Submit(initech, "another key"));

  // Not an envelope either way: the size is refused before any parsing.
  const absl::Status small = log_->client().Submit(std::string(100, 'x'), "").status();
  EXPECT_EQ(small.code(), absl::StatusCode::kInvalidArgument) << small;
  const absl::Status oversized =
      log_->client().Submit(std::string(20000, 'x'), "").status();
  EXPECT_EQ(oversized.code(), absl::StatusCode::kResourceExhausted)
      << oversized;
  ASSERT_OK_AND_ASSIGN(std::string checkpoint, log_->client().GetCheckpoint());
  EXPECT_THAT(checkpoint, HasSubstr(absl::StrCat(kOrigin, "\n2\n")));
}

}  // namespace
}  // namespace refsum::tests
