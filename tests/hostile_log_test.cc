// Tests of tests/hostile_log.h: it forwards to a real refsum-log and
// applies only the tampering asked for.

#include "tests/hostile_log.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/log_client.h"
#include "client/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/log_server.h"
#include "tlog/checkpoint.h"

namespace refsum::tests {
namespace {

using ::refsum::client::testing::NewTempDir;

constexpr char kOrigin[] = "log.example.org/hostile-log-test";

class HostileLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(const std::string dir, NewTempDir("hostile_log"));
    LogServerOptions options;
    ASSERT_OK_AND_ASSIGN(options.key,
                         GenerateLogKey(kOrigin, dir + "/log-key"));
    options.data_dir = dir + "/data";
    options.output_dir = dir;
    ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(options));
  }

  std::unique_ptr<LogServer> log_;
};

TEST_F(HostileLogTest, ForwardsUntouchedAnswers) {
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<HostileLog> hostile,
                       HostileLog::Start(log_->grpc_address(), Tampering()));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<client::LogClient> client,
                       client::LogClient::Connect(hostile->address()));
  ASSERT_OK_AND_ASSIGN(const std::string through, client->GetCheckpoint());
  ASSERT_OK_AND_ASSIGN(const std::string direct,
                       log_->client().GetCheckpoint());
  EXPECT_EQ(through, direct);
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       tlog::ParseCheckpointNote(through));
  EXPECT_EQ(checkpoint.origin, kOrigin);
}

TEST_F(HostileLogTest, AppliesTheTampering) {
  Tampering tampering;
  tampering.checkpoint = [](v1::GetCheckpointResponse* response) {
    response->set_checkpoint("a lie\n");
  };
  ASSERT_OK_AND_ASSIGN(
      const std::unique_ptr<HostileLog> hostile,
      HostileLog::Start(log_->grpc_address(), std::move(tampering)));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<client::LogClient> client,
                       client::LogClient::Connect(hostile->address()));
  ASSERT_OK_AND_ASSIGN(const std::string note, client->GetCheckpoint());
  EXPECT_EQ(note, "a lie\n");
}

}  // namespace
}  // namespace refsum::tests
