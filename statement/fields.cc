#include "statement/fields.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "encoding/utf8.h"

namespace refsum::statement {
namespace {

// Returns true when valid UTF-8 `text` holds a C0 or C1 control character or
// DEL. C1 characters (U+0080 to U+009F) are encoded as 0xc2 0x80-0x9f, and in
// valid UTF-8 a 0xc2 byte is always a lead byte.
bool HasControlCharacter(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return true;
    if (byte == 0xc2 && i + 1 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return true;
    }
  }
  return false;
}

bool IsSchemeCharacter(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '+' ||
         c == '-' || c == '.';
}

bool IsAbsoluteUri(absl::string_view value) {
  const size_t colon = value.find(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      colon + 1 == value.size() || !absl::ascii_islower(value[0])) {
    return false;
  }
  for (const char c : value.substr(0, colon)) {
    if (!IsSchemeCharacter(c)) return false;
  }
  return value.find(' ') == absl::string_view::npos;
}

}  // namespace

absl::Status CheckString(absl::string_view value, absl::string_view path) {
  if (value.size() > kMaxStringBytes) {
    return encoding::JsonPathError(
        path, absl::StrCat("longer than ", kMaxStringBytes, " bytes"));
  }
  if (!encoding::IsValidUtf8(value)) {
    return encoding::JsonPathError(path, "not valid UTF-8");
  }
  if (HasControlCharacter(value)) {
    return encoding::JsonPathError(path, "contains a control character");
  }
  return absl::OkStatus();
}

absl::Status CheckNonEmptyString(absl::string_view value,
                                 absl::string_view path) {
  if (value.empty()) return encoding::JsonPathError(path, "must not be empty");
  return CheckString(value, path);
}

absl::Status CheckOptionalString(const std::optional<std::string>& value,
                                 absl::string_view path) {
  if (!value.has_value()) return absl::OkStatus();
  return CheckNonEmptyString(*value, path);
}

absl::Status CheckUri(absl::string_view value, absl::string_view path) {
  RETURN_IF_ERROR(CheckNonEmptyString(value, path));
  if (!IsAbsoluteUri(value)) {
    return encoding::JsonPathError(
        path, "must be an absolute URI with a lowercase scheme and no spaces");
  }
  return absl::OkStatus();
}

absl::Status CheckLowerHex(absl::string_view value,
                           std::initializer_list<size_t> byte_lengths,
                           absl::string_view path) {
  for (const size_t length : byte_lengths) {
    if (encoding::IsLowerHex(value, length)) return absl::OkStatus();
  }
  return encoding::JsonPathError(
      path, absl::StrCat("must be ",
                         absl::StrJoin(byte_lengths, " or ",
                                       [](std::string* out, size_t length) {
                                         absl::StrAppend(out, 2 * length);
                                       }),
                         " lowercase hex characters"));
}

void AppendOptionalString(absl::string_view key,
                          const std::optional<std::string>& value,
                          encoding::JsonValue::Object* members) {
  if (!value.has_value()) return;
  members->emplace_back(std::string(key), encoding::JsonValue::String(*value));
}

}  // namespace refsum::statement
