#include "encoding/hex.h"

#include "absl/strings/str_cat.h"

namespace refsum::encoding {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// Returns the value of a lowercase hex digit, or -1.
int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string HexEncode(absl::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[byte >> 4];
    out[2 * i + 1] = kDigits[byte & 0x0f];
  }
  return out;
}

absl::StatusOr<std::string> HexDecode(absl::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hex string has odd length ", hex.size()));
  }
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = DigitValue(hex[2 * i]);
    const int low = DigitValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hex string has a character that is not lowercase hex at offset ",
          high < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((high << 4) | low);
  }
  return out;
}

bool IsLowerHex(absl::string_view hex, size_t byte_length) {
  if (hex.size() != 2 * byte_length) return false;
  for (char c : hex) {
    if (DigitValue(c) < 0) return false;
  }
  return true;
}

}  // namespace refsum::encoding
