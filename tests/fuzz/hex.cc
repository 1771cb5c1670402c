// Fuzzes encoding::HexDecode: whatever it accepts is lowercase hex of half
// the length that HexEncode gives back byte for byte, and IsLowerHex agrees.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "encoding/hex.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> bytes = refsum::encoding::HexDecode(input);
  FUZZ_CHECK(bytes.ok() ==
             (size % 2 == 0 && refsum::encoding::IsLowerHex(input, size / 2)));
  if (!bytes.ok()) {
    FUZZ_CHECK(bytes.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(bytes->size() * 2 == size);
  FUZZ_CHECK(refsum::encoding::HexEncode(*bytes) == input);
  return 0;
}
