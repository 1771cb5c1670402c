// Fuzzes statement::ParseRebuildAttestation, a witness's signed rebuild
// verdict (DESIGN.md "Records"), read by the log and every verifier. A
// parsed attestation validates, and its canonical serialization parses back
// to an attestation that serializes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "statement/attestation.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::statement::RebuildAttestation;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<RebuildAttestation> attestation =
      refsum::statement::ParseRebuildAttestation(input);
  if (!attestation.ok()) {
    FUZZ_CHECK(attestation.status().code() ==
               absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK_OK(refsum::statement::ValidateRebuildAttestation(*attestation));
  absl::StatusOr<std::string> serialized =
      refsum::statement::SerializeRebuildAttestation(*attestation);
  FUZZ_CHECK_OK(serialized);
  absl::StatusOr<RebuildAttestation> reparsed =
      refsum::statement::ParseRebuildAttestation(*serialized);
  FUZZ_CHECK_OK(reparsed);
  absl::StatusOr<std::string> again =
      refsum::statement::SerializeRebuildAttestation(*reparsed);
  FUZZ_CHECK_OK(again);
  FUZZ_CHECK(*again == *serialized);
  (void)refsum::statement::VerdictName(attestation->verdict);
  return 0;
}
