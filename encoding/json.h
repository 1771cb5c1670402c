// Strict JSON (RFC 8259) for refsum's signed formats, plus readers for
// checking a parsed document against a fixed schema.
//
// Strictness is the point: a signed statement must have exactly one meaning,
// so everything other parsers tolerate is an error here: duplicate object
// keys, invalid UTF-8 (overlong forms, encoded surrogates, code points above
// U+10FFFF), lone surrogate escapes, comments, trailing data, whitespace other
// than RFC 8259's four characters. refsum's formats carry only integers, so
// numbers are limited to int64 integers written without fraction, exponent,
// leading zeros or a minus sign on zero.
//
// The parser reads hostile input (it is a fuzz target): it recurses at most
// JsonLimits::max_depth levels and rejects input above
// JsonLimits::max_input_bytes before looking at it.
//
// Error messages are ASCII: object keys taken from the input are C-escaped
// before they appear in a message or a path.
//
// All functions are thread-safe; they keep no state between calls.

#ifndef REFSUM_ENCODING_JSON_H_
#define REFSUM_ENCODING_JSON_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::encoding {

// A JSON value: null, boolean, integer, string, array or object. Objects keep
// their members in insertion order, which is the order SerializeJson writes.
// A value is a tree it owns; copies are deep. Destruction and serialization
// recurse once per nesting level, which ParseJson bounds for parsed values.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kInteger, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  // Constructs null.
  JsonValue() = default;

  static JsonValue Bool(bool value);
  static JsonValue Integer(int64_t value);
  // `value` should be valid UTF-8: SerializeJson copies it through unchanged,
  // so invalid UTF-8 would produce a document ParseJson rejects.
  static JsonValue String(std::string value);
  static JsonValue MakeArray(Array elements);
  // Keys in `members` must be unique (asserted in debug builds): a duplicate
  // would serialize to a document ParseJson rejects.
  static JsonValue MakeObject(Object members);

  Type type() const;

  // Each accessor returns the value when it has that type, and nullopt or
  // nullptr otherwise. Pointers stay valid while this value is unchanged.
  std::optional<bool> AsBool() const;
  std::optional<int64_t> AsInteger() const;
  const std::string* AsString() const;
  const Array* AsArray() const;
  const Object* AsObject() const;

  // Returns the value of the member named `key`, or nullptr when this is not
  // an object or has no such member.
  const JsonValue* Find(absl::string_view key) const;

  friend bool operator==(const JsonValue& a, const JsonValue& b) {
    return a.value_ == b.value_;
  }
  friend bool operator!=(const JsonValue& a, const JsonValue& b) {
    return !(a == b);
  }

 private:
  // Alternatives in the order of Type, which type() relies on.
  std::variant<std::monostate, bool, int64_t, std::string, Array, Object>
      value_;
};

// Returns "null", "boolean", "integer", "string", "array" or "object".
absl::string_view JsonTypeName(JsonValue::Type type);

struct JsonLimits {
  // Arrays and objects nested deeper than this are rejected; `[]` is depth 1.
  // The parser's recursion depth is bounded by this value.
  size_t max_depth = 64;
  // Longer input is rejected without being read.
  size_t max_input_bytes = size_t{1} << 20;
};

// Parses `text` as exactly one JSON value (RFC 8259, strict as described at
// the top of this file). On failure returns InvalidArgument
// "JSON: <problem> at offset <byte offset>".
absl::StatusOr<JsonValue> ParseJson(absl::string_view text,
                                    const JsonLimits& limits = {});

// Returns the compact serialization of `value`: no whitespace, object members
// in stored order, strings escaped minimally (`"`, `\` and control
// characters; \b \f \n \r \t in short form, the rest as \u00xx) with all
// other UTF-8 written as is. For every value ParseJson returns,
// ParseJson(SerializeJson(v)) == v.
std::string SerializeJson(const JsonValue& value);

// Paths name a value inside a document for error messages, e.g.
// `predicate.referenceValues[2].digest.sha384`. The root's path is empty.
//
// Returns the path of member `key` of the object at `parent`. Keys made of
// [A-Za-z0-9_-] are appended as `.key`; any other key as `["key"]`,
// C-escaped, so that the path is unambiguous and printable.
std::string JsonPathMember(absl::string_view parent, absl::string_view key);

// Returns the path of element `index` of the array at `parent`.
std::string JsonPathElement(absl::string_view parent, size_t index);

// Returns InvalidArgument "<path>: <problem>" (just "<problem>" at the root),
// the form of every schema error in refsum.
absl::Status JsonPathError(absl::string_view path, absl::string_view problem);

// Schema readers. A reader borrows the JsonValue it reads, which must outlive
// it, and carries the path of that value so every error names where in the
// document it occurred. Readers are cheap to copy; their const methods are
// thread-safe. A typical schema check:
//
//   ASSIGN_OR_RETURN(JsonObjectReader source,
//                    predicate.Required<JsonObjectReader>("source"));
//   RETURN_IF_ERROR(source.RejectUnknownFields({"repository", "tag"}));
//   ASSIGN_OR_RETURN(std::string repository,
//                    source.Required<std::string>("repository"));
//   ASSIGN_OR_RETURN(std::optional<std::string> tag,
//                    source.Optional<std::string>("tag"));
class JsonObjectReader;
class JsonArrayReader;

// Returns `value` as a T, or InvalidArgument
// "<path>: expected <type>, got <type>". T is one of bool, int64_t,
// std::string, JsonObjectReader and JsonArrayReader (other types fail to
// link). A returned reader borrows `value`.
template <typename T>
absl::StatusOr<T> ReadJsonAs(const JsonValue& value, absl::string_view path);
template <>
absl::StatusOr<bool> ReadJsonAs<bool>(const JsonValue& value,
                                      absl::string_view path);
template <>
absl::StatusOr<int64_t> ReadJsonAs<int64_t>(const JsonValue& value,
                                            absl::string_view path);
template <>
absl::StatusOr<std::string> ReadJsonAs<std::string>(const JsonValue& value,
                                                    absl::string_view path);
template <>
absl::StatusOr<JsonObjectReader> ReadJsonAs<JsonObjectReader>(
    const JsonValue& value, absl::string_view path);
template <>
absl::StatusOr<JsonArrayReader> ReadJsonAs<JsonArrayReader>(
    const JsonValue& value, absl::string_view path);

// Reads the members of one JSON object.
class JsonObjectReader {
 public:
  // Borrows `object`, found at `path`. ReadJsonAs is the usual way in.
  JsonObjectReader(const JsonValue::Object& object, std::string path)
      : object_(&object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const JsonValue::Object& members() const { return *object_; }
  std::string MemberPath(absl::string_view key) const {
    return JsonPathMember(path_, key);
  }

  // Returns InvalidArgument "<path>.<key>: unknown field" for the first
  // member whose key is not in `allowed`.
  absl::Status RejectUnknownFields(
      std::initializer_list<absl::string_view> allowed) const;

  // Returns member `key` as a T (see ReadJsonAs), or InvalidArgument
  // "<path>.<key>: missing required field" when there is none.
  template <typename T>
  absl::StatusOr<T> Required(absl::string_view key) const {
    const JsonValue* value = Find(key);
    if (value == nullptr) {
      return JsonPathError(MemberPath(key), "missing required field");
    }
    return ReadJsonAs<T>(*value, MemberPath(key));
  }

  // Returns member `key` as a T, or nullopt when there is none. A member
  // that is present but null is a type error, not an absent field.
  template <typename T>
  absl::StatusOr<std::optional<T>> Optional(absl::string_view key) const {
    const JsonValue* value = Find(key);
    if (value == nullptr) return std::optional<T>();
    absl::StatusOr<T> result = ReadJsonAs<T>(*value, MemberPath(key));
    if (!result.ok()) return result.status();
    return std::optional<T>(*std::move(result));
  }

 private:
  const JsonValue* Find(absl::string_view key) const;

  const JsonValue::Object* object_;
  std::string path_;
};

// Reads the elements of one JSON array.
class JsonArrayReader {
 public:
  // Borrows `array`, found at `path`. ReadJsonAs is the usual way in.
  JsonArrayReader(const JsonValue::Array& array, std::string path)
      : array_(&array), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  size_t size() const { return array_->size(); }
  std::string ElementPath(size_t index) const {
    return JsonPathElement(path_, index);
  }

  // Returns element `index` as a T (see ReadJsonAs), or InvalidArgument
  // naming the element when the index is out of range.
  template <typename T>
  absl::StatusOr<T> At(size_t index) const {
    if (index >= array_->size()) {
      return JsonPathError(ElementPath(index), "index out of range");
    }
    return ReadJsonAs<T>((*array_)[index], ElementPath(index));
  }

 private:
  const JsonValue::Array* array_;
  std::string path_;
};

}  // namespace refsum::encoding

#endif  // REFSUM_ENCODING_JSON_H_
