// Status assertions for tests (gtest 1.12 has none): ASSERT_OK(status),
// EXPECT_OK(status), and ASSERT_OK_AND_ASSIGN(lhs, status_or), which fails
// the test unless `status_or` holds a value and then moves it into `lhs`.

#ifndef REFSUM_BASE_STATUS_TESTING_H_
#define REFSUM_BASE_STATUS_TESTING_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

#define REFSUM_TESTING_CONCAT_INNER(x, y) x##y
#define REFSUM_TESTING_CONCAT(x, y) REFSUM_TESTING_CONCAT_INNER(x, y)

namespace refsum {

// For ASSERT_OK and EXPECT_OK: success, or failure that prints `status`.
inline ::testing::AssertionResult StatusIsOk(const absl::Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status;
}

}  // namespace refsum

// Both take more of the failure message with <<.
#define ASSERT_OK(expr) ASSERT_TRUE(::refsum::StatusIsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::refsum::StatusIsOk(expr))

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  REFSUM_TESTING_ASSIGN_IMPL(            \
      REFSUM_TESTING_CONCAT(refsum_testing_statusor_, __LINE__), lhs, rexpr)

#define REFSUM_TESTING_ASSIGN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();       \
  lhs = *std::move(statusor)

#endif  // REFSUM_BASE_STATUS_TESTING_H_
