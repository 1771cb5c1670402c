#include "encoding/decimal.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace refsum::encoding {

absl::StatusOr<uint64_t> ParseCanonicalDecimal(absl::string_view text,
                                               absl::string_view what) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " \"", absl::CEscape(text), "\" is not a plain decimal"));
  }
  if (text.size() > 1 && text[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", text, "\" has a leading zero"));
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  for (const char c : text) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", text, "\" does not fit in 64 bits"));
    }
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace refsum::encoding
