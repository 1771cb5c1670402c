// The one decimal syntax of the C2SP formats: checkpoint tree sizes,
// tlog-proof indices and tile path levels and widths are all written as ASCII
// digits "with no leading zeroes (unless the [value] is 0)". refsum writes
// the register index of a value selector (platform/kind/index) the same way.

#ifndef REFSUM_ENCODING_DECIMAL_H_
#define REFSUM_ENCODING_DECIMAL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::encoding {

// Parses `text` as a canonical unsigned decimal: one or more ASCII digits, no
// sign, no whitespace, no leading zero unless the value is 0, and at most
// 2^64 - 1. Returns InvalidArgument otherwise, with a message that starts with
// `what` (e.g. "tree size") and names the problem. Thread-safe.
absl::StatusOr<uint64_t> ParseCanonicalDecimal(absl::string_view text,
                                               absl::string_view what);

}  // namespace refsum::encoding

#endif  // REFSUM_ENCODING_DECIMAL_H_
