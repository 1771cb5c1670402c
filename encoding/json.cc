#include "encoding/json.h"

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "encoding/utf8.h"

namespace refsum::encoding {
namespace {

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

bool IsHighSurrogate(uint32_t unit) { return unit >= 0xd800 && unit <= 0xdbff; }
bool IsLowSurrogate(uint32_t unit) { return unit >= 0xdc00 && unit <= 0xdfff; }

// RFC 8259's two-character escapes as (letter, character). "\/" is also
// valid input, but '/' needs no escaping, so it is never written.
constexpr std::pair<char, char> kShortEscapes[] = {
    {'"', '"'},  {'\\', '\\'}, {'b', '\b'}, {'f', '\f'},
    {'n', '\n'}, {'r', '\r'},  {'t', '\t'},
};

// Returns the character `\<letter>` stands for, or nullopt when that is not
// a two-character escape.
std::optional<char> EscapedCharacter(char letter) {
  if (letter == '/') return '/';
  for (const auto& [escape_letter, character] : kShortEscapes) {
    if (escape_letter == letter) return character;
  }
  return std::nullopt;
}

// Returns the letter of the two-character escape SerializeJson writes for
// `character`, or nullopt when it has none.
std::optional<char> EscapeLetter(char character) {
  for (const auto& [letter, escaped] : kShortEscapes) {
    if (escaped == character) return letter;
  }
  return std::nullopt;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent parser over one input. Every container goes through
// ParseValue with its depth, so recursion never exceeds limits.max_depth.
class Parser {
 public:
  Parser(absl::string_view text, const JsonLimits& limits)
      : text_(text), limits_(limits) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    if (text_.size() > limits_.max_input_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JSON: input of ", text_.size(), " bytes exceeds the limit of ",
          limits_.max_input_bytes, " bytes"));
    }
    SkipWhitespace();
    ASSIGN_OR_RETURN(JsonValue value, ParseValue(0));
    SkipWhitespace();
    if (!AtEnd()) return Error("unexpected data after the JSON value");
    return value;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // RFC 8259 section 2: only space, tab, line feed and carriage return.
  void SkipWhitespace() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                        text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  absl::Status ErrorAt(size_t offset, absl::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON: ", problem, " at offset ", offset));
  }
  absl::Status Error(absl::string_view problem) const {
    return ErrorAt(pos_, problem);
  }

  // `depth` counts the containers enclosing the value.
  absl::StatusOr<JsonValue> ParseValue(size_t depth) {
    if (AtEnd()) return Error("unexpected end of input");
    switch (text_[pos_]) {
      case '{':
      case '[':
        if (depth >= limits_.max_depth) {
          return Error(absl::StrCat("nesting deeper than ", limits_.max_depth));
        }
        return text_[pos_] == '{' ? ParseObject(depth + 1)
                                  : ParseArray(depth + 1);
      case '"': {
        ASSIGN_OR_RETURN(std::string text, ParseString());
        return JsonValue::String(std::move(text));
      }
      case 't':
        return ParseLiteral("true", JsonValue::Bool(true));
      case 'f':
        return ParseLiteral("false", JsonValue::Bool(false));
      case 'n':
        return ParseLiteral("null", JsonValue());
      default:
        if (text_[pos_] == '-' || absl::ascii_isdigit(text_[pos_])) {
          return ParseNumber();
        }
        return Error("unexpected character");
    }
  }

  absl::StatusOr<JsonValue> ParseLiteral(absl::string_view word,
                                         JsonValue value) {
    if (text_.substr(pos_, word.size()) != word) {
      return Error("invalid literal");
    }
    pos_ += word.size();
    return value;
  }

  // `depth` counts the containers enclosing the members, this one included.
  absl::StatusOr<JsonValue> ParseObject(size_t depth) {
    ++pos_;  // '{'
    JsonValue::Object members;
    absl::flat_hash_set<std::string> keys;
    SkipWhitespace();
    if (Consume('}')) return JsonValue::MakeObject(std::move(members));
    while (true) {
      SkipWhitespace();
      if (Peek() != '"') return Error("expected a string key");
      const size_t key_offset = pos_;
      ASSIGN_OR_RETURN(std::string key, ParseString());
      if (!keys.insert(key).second) {
        return ErrorAt(key_offset, absl::StrCat("duplicate key \"",
                                                absl::CHexEscape(key), "\""));
      }
      SkipWhitespace();
      if (!Consume(':')) return Error("expected ':'");
      SkipWhitespace();
      ASSIGN_OR_RETURN(JsonValue value, ParseValue(depth));
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Consume('}')) return JsonValue::MakeObject(std::move(members));
      if (!Consume(',')) return Error("expected ',' or '}'");
    }
  }

  absl::StatusOr<JsonValue> ParseArray(size_t depth) {
    ++pos_;  // '['
    JsonValue::Array elements;
    SkipWhitespace();
    if (Consume(']')) return JsonValue::MakeArray(std::move(elements));
    while (true) {
      SkipWhitespace();
      ASSIGN_OR_RETURN(JsonValue element, ParseValue(depth));
      elements.push_back(std::move(element));
      SkipWhitespace();
      if (Consume(']')) return JsonValue::MakeArray(std::move(elements));
      if (!Consume(',')) return Error("expected ',' or ']'");
    }
  }

  // Accepts RFC 8259's integer grammar only, within int64.
  absl::StatusOr<JsonValue> ParseNumber() {
    const size_t start = pos_;
    Consume('-');
    const size_t digits_start = pos_;
    while (!AtEnd() && absl::ascii_isdigit(text_[pos_])) ++pos_;
    const absl::string_view digits =
        text_.substr(digits_start, pos_ - digits_start);
    if (digits.empty()) return ErrorAt(start, "invalid number");
    if (digits.size() > 1 && digits[0] == '0') {
      return ErrorAt(start, "invalid number: leading zero");
    }
    if (Peek() == '.' || Peek() == 'e' || Peek() == 'E' ||
        (digits == "0" && digits_start != start)) {
      return ErrorAt(start, "non-integer number");
    }
    int64_t number = 0;
    if (!absl::SimpleAtoi(text_.substr(start, pos_ - start), &number)) {
      return ErrorAt(start, "number out of range");
    }
    return JsonValue::Integer(number);
  }

  // Parses the string whose opening quote is at pos_.
  absl::StatusOr<std::string> ParseString() {
    const size_t start = pos_;
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        RETURN_IF_ERROR(ParseEscape(&out));
        continue;
      }
      if (c < 0x20) return Error("control character in string");
      const size_t length = Utf8SequenceLength(text_.substr(pos_));
      if (length == 0) return Error("invalid UTF-8 in string");
      out.append(text_.data() + pos_, length);
      pos_ += length;
    }
  }

  // Parses the escape sequence whose backslash is at pos_.
  absl::Status ParseEscape(std::string* out) {
    const size_t start = pos_;
    ++pos_;  // '\'
    if (AtEnd()) return ErrorAt(start, "unterminated string");
    const char letter = text_[pos_++];
    if (letter == 'u') return ParseUnicodeEscape(start, out);
    const std::optional<char> escaped = EscapedCharacter(letter);
    if (!escaped.has_value()) return ErrorAt(start, "invalid escape");
    out->push_back(*escaped);
    return absl::OkStatus();
  }

  // Parses the rest of a \u escape that started at `start`; a high surrogate
  // must be followed at once by a \u escape of a low surrogate.
  absl::Status ParseUnicodeEscape(size_t start, std::string* out) {
    ASSIGN_OR_RETURN(uint32_t unit, ParseHex4(start));
    if (IsLowSurrogate(unit)) {
      return ErrorAt(start, "unpaired low surrogate escape");
    }
    uint32_t code_point = unit;
    if (IsHighSurrogate(unit)) {
      if (text_.substr(pos_, 2) != "\\u") {
        return ErrorAt(start, "unpaired high surrogate escape");
      }
      pos_ += 2;
      ASSIGN_OR_RETURN(uint32_t low, ParseHex4(start));
      if (!IsLowSurrogate(low)) {
        return ErrorAt(start, "unpaired high surrogate escape");
      }
      code_point = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
    }
    AppendUtf8(code_point, out);
    return absl::OkStatus();
  }

  absl::StatusOr<uint32_t> ParseHex4(size_t escape_start) {
    uint32_t unit = 0;
    for (size_t i = 0; i < 4; ++i) {
      const int digit = AtEnd() ? -1 : HexDigitValue(text_[pos_]);
      if (digit < 0) return ErrorAt(escape_start, "invalid \\u escape");
      unit = (unit << 4) | static_cast<unsigned>(digit);
      ++pos_;
    }
    return unit;
  }

  const absl::string_view text_;
  const JsonLimits limits_;
  size_t pos_ = 0;
};

void AppendQuoted(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    if (const std::optional<char> letter = EscapeLetter(c)) {
      out->push_back('\\');
      out->push_back(*letter);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(c));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendJson(const JsonValue& value, std::string* out) {
  switch (value.type()) {
    case JsonValue::Type::kNull:
      out->append("null");
      return;
    case JsonValue::Type::kBool:
      out->append(*value.AsBool() ? "true" : "false");
      return;
    case JsonValue::Type::kInteger:
      absl::StrAppend(out, *value.AsInteger());
      return;
    case JsonValue::Type::kString:
      AppendQuoted(*value.AsString(), out);
      return;
    case JsonValue::Type::kArray: {
      out->push_back('[');
      const char* separator = "";
      for (const JsonValue& element : *value.AsArray()) {
        out->append(separator);
        AppendJson(element, out);
        separator = ",";
      }
      out->push_back(']');
      return;
    }
    case JsonValue::Type::kObject: {
      out->push_back('{');
      const char* separator = "";
      for (const auto& [key, member] : *value.AsObject()) {
        out->append(separator);
        AppendQuoted(key, out);
        out->push_back(':');
        AppendJson(member, out);
        separator = ",";
      }
      out->push_back('}');
      return;
    }
  }
}

[[maybe_unused]] bool HasUniqueKeys(const JsonValue::Object& members) {
  absl::flat_hash_set<absl::string_view> keys;
  for (const auto& member : members) {
    if (!keys.insert(member.first).second) return false;
  }
  return true;
}

const JsonValue* FindMember(const JsonValue::Object& object,
                            absl::string_view key) {
  for (const auto& [member_key, member_value] : object) {
    if (member_key == key) return &member_value;
  }
  return nullptr;
}

absl::Status TypeError(const JsonValue& value, JsonValue::Type expected,
                       absl::string_view path) {
  return JsonPathError(
      path, absl::StrCat("expected ", JsonTypeName(expected), ", got ",
                         JsonTypeName(value.type())));
}

bool IsPlainKey(absl::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

JsonValue JsonValue::Bool(bool value) {
  JsonValue json;
  json.value_ = value;
  return json;
}

JsonValue JsonValue::Integer(int64_t value) {
  JsonValue json;
  json.value_ = value;
  return json;
}

JsonValue JsonValue::String(std::string value) {
  JsonValue json;
  json.value_ = std::move(value);
  return json;
}

JsonValue JsonValue::MakeArray(Array elements) {
  JsonValue json;
  json.value_ = std::move(elements);
  return json;
}

JsonValue JsonValue::MakeObject(Object members) {
  assert(HasUniqueKeys(members));
  JsonValue json;
  json.value_ = std::move(members);
  return json;
}

JsonValue::Type JsonValue::type() const {
  return static_cast<Type>(value_.index());
}

std::optional<bool> JsonValue::AsBool() const {
  if (const bool* value = std::get_if<bool>(&value_)) return *value;
  return std::nullopt;
}

std::optional<int64_t> JsonValue::AsInteger() const {
  if (const int64_t* value = std::get_if<int64_t>(&value_)) return *value;
  return std::nullopt;
}

const std::string* JsonValue::AsString() const {
  return std::get_if<std::string>(&value_);
}

const JsonValue::Array* JsonValue::AsArray() const {
  return std::get_if<Array>(&value_);
}

const JsonValue::Object* JsonValue::AsObject() const {
  return std::get_if<Object>(&value_);
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  const Object* object = AsObject();
  return object == nullptr ? nullptr : FindMember(*object, key);
}

absl::string_view JsonTypeName(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kBool:
      return "boolean";
    case JsonValue::Type::kInteger:
      return "integer";
    case JsonValue::Type::kString:
      return "string";
    case JsonValue::Type::kArray:
      return "array";
    case JsonValue::Type::kObject:
      return "object";
  }
  return "unknown";
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text,
                                    const JsonLimits& limits) {
  return Parser(text, limits).ParseDocument();
}

std::string SerializeJson(const JsonValue& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

std::string JsonPathMember(absl::string_view parent, absl::string_view key) {
  if (!IsPlainKey(key)) {
    return absl::StrCat(parent, "[\"", absl::CHexEscape(key), "\"]");
  }
  if (parent.empty()) return std::string(key);
  return absl::StrCat(parent, ".", key);
}

std::string JsonPathElement(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

absl::Status JsonPathError(absl::string_view path, absl::string_view problem) {
  if (path.empty()) return absl::InvalidArgumentError(problem);
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

template <>
absl::StatusOr<bool> ReadJsonAs<bool>(const JsonValue& value,
                                      absl::string_view path) {
  std::optional<bool> result = value.AsBool();
  if (!result.has_value()) {
    return TypeError(value, JsonValue::Type::kBool, path);
  }
  return *result;
}

template <>
absl::StatusOr<int64_t> ReadJsonAs<int64_t>(const JsonValue& value,
                                            absl::string_view path) {
  std::optional<int64_t> result = value.AsInteger();
  if (!result.has_value()) {
    return TypeError(value, JsonValue::Type::kInteger, path);
  }
  return *result;
}

template <>
absl::StatusOr<std::string> ReadJsonAs<std::string>(const JsonValue& value,
                                                    absl::string_view path) {
  const std::string* result = value.AsString();
  if (result == nullptr) {
    return TypeError(value, JsonValue::Type::kString, path);
  }
  return *result;
}

template <>
absl::StatusOr<JsonObjectReader> ReadJsonAs<JsonObjectReader>(
    const JsonValue& value, absl::string_view path) {
  const JsonValue::Object* object = value.AsObject();
  if (object == nullptr) {
    return TypeError(value, JsonValue::Type::kObject, path);
  }
  return JsonObjectReader(*object, std::string(path));
}

template <>
absl::StatusOr<JsonArrayReader> ReadJsonAs<JsonArrayReader>(
    const JsonValue& value, absl::string_view path) {
  const JsonValue::Array* array = value.AsArray();
  if (array == nullptr) {
    return TypeError(value, JsonValue::Type::kArray, path);
  }
  return JsonArrayReader(*array, std::string(path));
}

absl::Status JsonObjectReader::RejectUnknownFields(
    std::initializer_list<absl::string_view> allowed) const {
  for (const auto& member : *object_) {
    bool known = false;
    for (absl::string_view key : allowed) known = known || key == member.first;
    if (!known) return JsonPathError(MemberPath(member.first), "unknown field");
  }
  return absl::OkStatus();
}

const JsonValue* JsonObjectReader::Find(absl::string_view key) const {
  return FindMember(*object_, key);
}

}  // namespace refsum::encoding
