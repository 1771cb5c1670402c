// Invariant checks for fuzz targets. A fuzz target may only crash on a bug:
// FUZZ_CHECK aborts, after printing what broke, when a round-trip or other
// invariant of the API under test does not hold, which libFuzzer and the
// replay test (driver_main.cc) both report as a failure with the input.

#ifndef REFSUM_TESTS_FUZZ_CHECK_H_
#define REFSUM_TESTS_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FUZZ_CHECK(condition)                                              \
  do {                                                                     \
    if (!(condition)) {                                                    \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
                   __LINE__, #condition);                                  \
      std::abort();                                                        \
    }                                                                      \
  } while (false)

// Like FUZZ_CHECK for an absl::Status or StatusOr that must be OK, printing
// the status.
#define FUZZ_CHECK_OK(expr)                                                   \
  do {                                                                        \
    const auto& fuzz_check_ok_result = (expr);                                \
    if (!::refsum::fuzz::StatusOf(fuzz_check_ok_result).ok()) {               \
      std::fprintf(                                                           \
          stderr, "%s:%d: fuzz invariant failed: %s: %s\n", __FILE__,         \
          __LINE__, #expr,                                                    \
          ::refsum::fuzz::StatusOf(fuzz_check_ok_result).ToString().c_str()); \
      std::abort();                                                           \
    }                                                                         \
  } while (false)

namespace refsum::fuzz {

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace refsum::fuzz

#endif  // REFSUM_TESTS_FUZZ_CHECK_H_
