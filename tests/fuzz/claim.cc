// Fuzzes statement::ParseClaim, the vendor's in-toto claim (DESIGN.md
// "Records"), read by the log, the witnesses and every verifier. A parsed
// claim validates, and its canonical serialization parses back to a claim
// that serializes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "statement/claim.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<refsum::statement::Claim> claim =
      refsum::statement::ParseClaim(input);
  if (!claim.ok()) {
    FUZZ_CHECK(claim.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK_OK(refsum::statement::ValidateClaim(*claim));
  absl::StatusOr<std::string> serialized =
      refsum::statement::SerializeClaim(*claim);
  FUZZ_CHECK_OK(serialized);
  absl::StatusOr<refsum::statement::Claim> reparsed =
      refsum::statement::ParseClaim(*serialized);
  FUZZ_CHECK_OK(reparsed);
  absl::StatusOr<std::string> again =
      refsum::statement::SerializeClaim(*reparsed);
  FUZZ_CHECK_OK(again);
  FUZZ_CHECK(*again == *serialized);
  (void)refsum::statement::LookupKeys(*claim);
  return 0;
}
