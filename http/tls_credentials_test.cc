#include "http/tls_credentials.h"

#include <sys/stat.h>

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/tls_testing.h"

namespace refsum::http {
namespace {

using ::testing::HasSubstr;

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir();
    absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    ASSERT_TRUE(testing::WriteTestPki(pki_, dir_).ok());
  }

  std::string dir_;
  testing::TestPki pki_;
};

TEST_F(TlsCredentialsTest, ReadsBothFilesOrNeither) {
  auto read = ReadTlsServerCredentials(dir_ + "/server.pem",
                                       dir_ + "/server.key");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_NE(*read, nullptr);
  EXPECT_EQ((*read)->certificate_chain_pem, pki_.server_chain_pem);
  EXPECT_EQ((*read)->private_key_pem, pki_.server_key_pem);

  auto none = ReadTlsServerCredentials("", "");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, nullptr);

  EXPECT_EQ(ReadTlsServerCredentials(dir_ + "/server.pem", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTlsServerCredentials("", dir_ + "/server.key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsCredentialsTest, RefusesAKeyOthersMayRead) {
  ASSERT_EQ(chmod((dir_ + "/server.key").c_str(), 0644), 0);
  const absl::Status status =
      ReadTlsServerCredentials(dir_ + "/server.pem", dir_ + "/server.key")
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("TLS key"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("0644"));
}

}  // namespace
}  // namespace refsum::http
