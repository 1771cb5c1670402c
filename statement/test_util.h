// Helpers for the statement tests: derive malformed variants of a valid
// payload, one change at a time, and check that each is rejected by path.

#ifndef REFSUM_STATEMENT_TEST_UTIL_H_
#define REFSUM_STATEMENT_TEST_UTIL_H_

#include <optional>
#include <ostream>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::statement {

// Returns `document` re-serialized with the value at `path` replaced by the
// JSON text `replacement`, or removed when `replacement` is nullopt. A member
// that does not exist yet is appended. `path` is dot-separated; a numeric
// segment indexes an array, e.g. "predicate.referenceValues.2.digest".
// Fails with InvalidArgument when the path does not lead anywhere.
absl::StatusOr<std::string> EditJson(
    absl::string_view document, absl::string_view path,
    std::optional<absl::string_view> replacement);

// Returns `text` as a JSON string literal (no escaping: test text only).
std::string Quoted(absl::string_view text);

// One change to a valid payload (see EditJson), and the JSON path that the
// resulting error must start with.
struct Mutation {
  std::string path;
  std::optional<std::string> replacement;  // nullopt removes the value.
  std::string error_path;
};

void PrintTo(const Mutation& mutation, std::ostream* os);

// Applies `mutation` to `document` and expects `parse` to reject the result
// with InvalidArgument "<mutation.error_path>: ...".
void ExpectRejectedAtPath(
    absl::string_view document, const Mutation& mutation,
    absl::FunctionRef<absl::Status(absl::string_view)> parse);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_TEST_UTIL_H_
