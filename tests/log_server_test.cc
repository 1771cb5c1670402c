// Tests of the contracts of tests/log_server.h with the real refsum-log.

#include "tests/log_server.h"

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_testing.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/process.h"

namespace refsum::tests {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kOrigin[] = "log.refsum.example/log-server-test";

absl::StatusOr<std::string> NewTempDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                  "/log-server-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("creating ", path));
  }
  return path;
}

class LogServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir());
    ASSERT_OK_AND_ASSIGN(options_.key, GenerateLogKey(kOrigin, dir_ + "/key"));
    options_.data_dir = dir_ + "/data";
    options_.output_dir = dir_;
  }

  std::string dir_;
  LogServerOptions options_;
};

TEST_F(LogServerTest, GenerateLogKeyReturnsTheKeygenFiles) {
  EXPECT_EQ(options_.key.origin, kOrigin);
  EXPECT_EQ(options_.key.key_path, dir_ + "/key/log.key");
  EXPECT_EQ(options_.key.vkey_path, dir_ + "/key/log.vkey");
  EXPECT_EQ(ReadFile(options_.key.vkey_path).value_or(""),
            options_.key.vkey + "\n");
  ASSERT_NE(options_.key.verifier, nullptr);
  EXPECT_EQ(options_.key.verifier->name(), kOrigin);
  // keygen refuses to overwrite the key, and that is an error here.
  const absl::StatusOr<LogKey> again = GenerateLogKey(kOrigin, dir_ + "/key");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInternal)
      << again.status();
}

TEST_F(LogServerTest, StartsStopsAndRestartsOnTheSameData) {
  options_.batch_size = 4;
  options_.batch_interval = absl::Milliseconds(1);
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<LogServer> log,
                       LogServer::Start(options_));
  EXPECT_EQ(log->origin(), kOrigin);
  EXPECT_EQ(log->vkey_path(), options_.key.vkey_path);
  EXPECT_THAT(log->grpc_address(), StartsWith("127.0.0.1:"));
  EXPECT_EQ(log->http_host(), "127.0.0.1");
  EXPECT_GT(log->http_port(), 0);
  ASSERT_OK_AND_ASSIGN(const std::string note, log->client().GetCheckpoint());
  EXPECT_THAT(note, StartsWith(absl::StrCat(kOrigin, "\n0\n")));
  const crypto::NoteVerifier* const verifiers[] = {&log->verifier()};
  EXPECT_TRUE(crypto::OpenNote(note, verifiers).ok());

  // Restart needs the run to have ended, and changes nothing until then.
  const std::string address = log->grpc_address();
  EXPECT_EQ(log->Restart().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->grpc_address(), address);
  EXPECT_FALSE(log->process().Poll().has_value());
  EXPECT_TRUE(log->client().GetCheckpoint().ok());

  ASSERT_OK_AND_ASSIGN(const ExitStatus terminated, log->Terminate());
  EXPECT_TRUE(terminated.ExitedWith(0)) << terminated.ToString();
  ASSERT_OK(log->Restart());
  EXPECT_EQ(log->client().GetCheckpoint().value_or(""), note);

  ASSERT_OK_AND_ASSIGN(const ExitStatus killed, log->Kill());
  EXPECT_TRUE(killed.KilledBy(SIGKILL)) << killed.ToString();
  // A run that has ended cannot be signalled again.
  EXPECT_EQ(log->Terminate().status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(log->Restart());
  EXPECT_EQ(log->client().GetCheckpoint().value_or(""), note);
}

TEST_F(LogServerTest, StartFailsOnMissingOptionsAndOnALogThatExits) {
  LogServerOptions no_data = options_;
  no_data.data_dir.clear();
  EXPECT_EQ(LogServer::Start(no_data).status().code(),
            absl::StatusCode::kInvalidArgument);
  LogServerOptions no_key = options_;
  no_key.key = LogKey();
  EXPECT_EQ(LogServer::Start(no_key).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The log refuses --batch_size=0 (so the flag reaches it) and exits.
  LogServerOptions bad_flag = options_;
  bad_flag.batch_size = 0;
  const absl::StatusOr<std::unique_ptr<LogServer>> exited =
      LogServer::Start(bad_flag);
  EXPECT_EQ(exited.status().code(), absl::StatusCode::kFailedPrecondition)
      << exited.status();
  EXPECT_THAT(exited.status().message(), HasSubstr("--batch_size"));
}

}  // namespace
}  // namespace refsum::tests
