// RETURN_IF_ERROR and ASSIGN_OR_RETURN: the project's only status macros.
// Debian's Abseil (20220623) does not ship them.

#ifndef REFSUM_BASE_STATUS_MACROS_H_
#define REFSUM_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once and returns it from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    ::absl::Status refsum_status_macro_status = (expr);         \
    if (!refsum_status_macro_status.ok()) {                     \
      return refsum_status_macro_status;                        \
    }                                                           \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status from the
// enclosing function when it is not OK, else moves its value into `lhs`,
// which may be a declaration (`auto x`) or an existing lvalue.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                       \
  REFSUM_ASSIGN_OR_RETURN_IMPL(                                            \
      REFSUM_STATUS_MACROS_CONCAT(refsum_statusor_, __LINE__), lhs, rexpr)

#define REFSUM_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) {                                    \
    return std::move(statusor).status();                   \
  }                                                        \
  lhs = *std::move(statusor)

#define REFSUM_STATUS_MACROS_CONCAT_INNER(x, y) x##y
#define REFSUM_STATUS_MACROS_CONCAT(x, y) REFSUM_STATUS_MACROS_CONCAT_INNER(x, y)

#endif  // REFSUM_BASE_STATUS_MACROS_H_
