// Fuzzes tlog::DecodeBundle, the offline verification bundle (DESIGN.md
// "Bundle") that refsum-verify --bundle reads. A decoded bundle encodes to
// JSON that decodes to the same bundle and encodes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::tlog::Bundle;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Bundle> bundle = refsum::tlog::DecodeBundle(input);
  if (!bundle.ok()) {
    FUZZ_CHECK(bundle.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!bundle->claims.empty());
  absl::StatusOr<std::string> encoded = refsum::tlog::EncodeBundle(*bundle);
  FUZZ_CHECK_OK(encoded);
  absl::StatusOr<Bundle> decoded = refsum::tlog::DecodeBundle(*encoded);
  FUZZ_CHECK_OK(decoded);
  FUZZ_CHECK(*decoded == *bundle);
  absl::StatusOr<std::string> again = refsum::tlog::EncodeBundle(*decoded);
  FUZZ_CHECK_OK(again);
  FUZZ_CHECK(*again == *encoded);
  return 0;
}
