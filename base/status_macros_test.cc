#include "base/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace refsum {
namespace {

absl::Status FailIf(bool fail) {
  return fail ? absl::InvalidArgumentError("asked to fail") : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<std::string>> MakeString(bool fail) {
  if (fail) return absl::NotFoundError("no string");
  return std::make_unique<std::string>("made");
}

int calls = 0;
absl::Status CountedFailIf(bool fail) {
  ++calls;
  return FailIf(fail);
}

absl::Status UseReturnIfError(bool fail) {
  RETURN_IF_ERROR(CountedFailIf(fail));
  return absl::OkStatus();
}

absl::StatusOr<std::string> UseAssignOrReturn(bool fail) {
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> made, MakeString(fail));
  std::string existing;
  ASSIGN_OR_RETURN(auto again, MakeString(false));
  existing = *again;
  return *made + "," + existing;
}

TEST(StatusMacrosTest, ReturnIfErrorPassesErrorsThroughOnce) {
  calls = 0;
  EXPECT_TRUE(UseReturnIfError(false).ok());
  absl::Status status = UseReturnIfError(true);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "asked to fail");
  EXPECT_EQ(calls, 2);
}

TEST(StatusMacrosTest, AssignOrReturnMovesValueOrReturnsStatus) {
  absl::StatusOr<std::string> ok = UseAssignOrReturn(false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "made,made");
  absl::StatusOr<std::string> failed = UseAssignOrReturn(true);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace refsum
