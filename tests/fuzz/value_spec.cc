// Fuzzes statement::ParseValueSpec and ParseValueSelector, the --value
// syntax of refsum-submit and refsum-verify: whatever either accepts is a
// valid reference value, errors are InvalidArgument naming the flag, a
// selector prints back to the text it came from, and a spec without
// parameters reads as the same selector.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"
#include "statement/value_spec.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::statement;  // NOLINT: a fuzz target's one function
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<ReferenceValue> spec = ParseValueSpec(input);
  if (!spec.ok()) {
    FUZZ_CHECK(spec.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(spec.status().message(), "--value \""));
  } else {
    FUZZ_CHECK_OK(ValidateReferenceValues({*spec}, ""));
  }

  absl::StatusOr<ValueSelector> selector = ParseValueSelector(input);
  if (!selector.ok()) {
    FUZZ_CHECK(selector.status().code() ==
               absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(selector.status().message(), "--value \""));
    return 0;
  }
  // A selector is a spec without parameters, and means the same value.
  FUZZ_CHECK(spec.ok());
  FUZZ_CHECK(spec->parameters.empty());
  FUZZ_CHECK(SelectorMatches(*selector, *spec));
  FUZZ_CHECK(FormatValueSelector(*selector) == input);
  FUZZ_CHECK(FormatValueSelector(SelectorOf(*spec)) == input);
  return 0;
}
