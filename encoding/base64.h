// Standard base64 (RFC 4648 section 4, with padding), as used by C2SP signed
// notes, checkpoints, tlog-proof and DSSE's JSON envelope.

#ifndef REFSUM_ENCODING_BASE64_H_
#define REFSUM_ENCODING_BASE64_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::encoding {

// Returns the padded standard base64 encoding of `bytes`. Thread-safe.
std::string Base64Encode(absl::string_view bytes);

// Decodes padded standard base64 strictly: the length must be a multiple of
// four, padding is required, no whitespace or URL-safe characters, and the
// unused bits of the last group must be zero, so each byte string has exactly
// one accepted encoding. Returns InvalidArgument naming the problem otherwise.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// Decodes base64 in either the standard or the URL-safe alphabet (RFC 4648
// sections 4 and 5, not mixed), with or without padding, as DSSE envelopes
// allow. Unused bits must still be zero. Returns InvalidArgument naming the
// problem otherwise.
absl::StatusOr<std::string> Base64DecodeStdOrUrl(absl::string_view text);

}  // namespace refsum::encoding

#endif  // REFSUM_ENCODING_BASE64_H_
