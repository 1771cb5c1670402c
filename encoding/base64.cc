#include "encoding/base64.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace refsum::encoding {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Returns the 6-bit value of a base64 character, or -1.
int SextetValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(absl::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (static_cast<uint8_t>(bytes[i]) << 16) |
                           (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                           static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += kAlphabet[(group >> 6) & 0x3f];
    out += kAlphabet[group & 0x3f];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += rest == 2 ? kAlphabet[(group >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base64 length ", text.size(), " is not a multiple of 4"));
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t data_chars = last ? 4 - padding : 4;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      int value = 0;
      if (j < data_chars) {
        value = SextetValue(text[i + j]);
        if (value < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "base64 has an invalid character at offset ", i + j));
        }
      }
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    out += static_cast<char>(group >> 16);
    if (data_chars > 2) out += static_cast<char>((group >> 8) & 0xff);
    if (data_chars > 3) out += static_cast<char>(group & 0xff);
    if (last && ((padding == 1 && (group & 0xff) != 0) ||
                 (padding == 2 && (group & 0xffff) != 0))) {
      return absl::InvalidArgumentError(
          "base64 is not canonical: unused bits of the last group are set");
    }
  }
  return out;
}

absl::StatusOr<std::string> Base64DecodeStdOrUrl(absl::string_view text) {
  const bool has_standard = text.find_first_of("+/") != absl::string_view::npos;
  const bool has_url_safe = text.find_first_of("-_") != absl::string_view::npos;
  if (has_standard && has_url_safe) {
    return absl::InvalidArgumentError(
        "base64 mixes the standard and URL-safe alphabets");
  }
  std::string standard(text);
  if (has_url_safe) {
    for (char& c : standard) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
  }
  if (standard.find('=') == std::string::npos) {
    switch (standard.size() % 4) {
      case 2:
        standard += "==";
        break;
      case 3:
        standard += "=";
        break;
      default:
        break;
    }
  }
  return Base64Decode(standard);
}

}  // namespace refsum::encoding
