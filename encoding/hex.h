// Lowercase hexadecimal, the only hex form refsum writes or accepts.

#ifndef REFSUM_ENCODING_HEX_H_
#define REFSUM_ENCODING_HEX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::encoding {

// Returns the lowercase hex encoding of `bytes`. Thread-safe.
std::string HexEncode(absl::string_view bytes);

// Decodes lowercase hex. Returns InvalidArgument when `hex` has odd length or
// any character outside [0-9a-f] (uppercase is rejected: refsum's formats
// require lowercase so that every value has exactly one spelling).
absl::StatusOr<std::string> HexDecode(absl::string_view hex);

// Returns true when `hex` is exactly `byte_length` bytes of lowercase hex.
bool IsLowerHex(absl::string_view hex, size_t byte_length);

}  // namespace refsum::encoding

#endif  // REFSUM_ENCODING_HEX_H_
