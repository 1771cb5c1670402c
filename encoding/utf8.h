// UTF-8 validation shared by every parser of outside text (signed notes,
// JSON, checkpoints).

#ifndef REFSUM_ENCODING_UTF8_H_
#define REFSUM_ENCODING_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace refsum::encoding {

// Returns the length (1-4) of the well-formed UTF-8 sequence at the start of
// `text`, or 0 if it is not well-formed (RFC 3629: no overlong forms, no
// UTF-16 surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncation).
// `text` must not be empty.
size_t Utf8SequenceLength(absl::string_view text);

// Returns true when all of `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

}  // namespace refsum::encoding

#endif  // REFSUM_ENCODING_UTF8_H_
