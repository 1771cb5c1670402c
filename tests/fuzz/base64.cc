// Fuzzes encoding::Base64Decode and Base64DecodeStdOrUrl. Strict standard
// base64 has one spelling per byte string, so what Base64Decode accepts
// re-encodes to the input; the lenient decoder accepts everything the strict
// one does with the same bytes, and re-decodes its own output's encoding.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "encoding/base64.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::encoding::Base64Decode;
  using refsum::encoding::Base64DecodeStdOrUrl;
  using refsum::encoding::Base64Encode;
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::string> strict = Base64Decode(input);
  absl::StatusOr<std::string> lenient = Base64DecodeStdOrUrl(input);
  if (strict.ok()) {
    FUZZ_CHECK(Base64Encode(*strict) == input);
    FUZZ_CHECK(lenient.ok());
    FUZZ_CHECK(*lenient == *strict);
  } else {
    FUZZ_CHECK(strict.status().code() == absl::StatusCode::kInvalidArgument);
  }
  if (lenient.ok()) {
    std::string encoded = Base64Encode(*lenient);
    absl::StatusOr<std::string> again = Base64Decode(encoded);
    FUZZ_CHECK_OK(again);
    FUZZ_CHECK(*again == *lenient);
    FUZZ_CHECK(encoded.size() >= input.size());
  } else {
    FUZZ_CHECK(lenient.status().code() == absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
