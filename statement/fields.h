// Rules for the string fields of refsum statements, shared by claims and
// rebuild attestations. Every check returns OK or InvalidArgument
// "<path>: <problem>", where `path` is the JSON path of the field (see
// encoding::JsonPathMember). Error messages never repeat the offending value,
// which may be hostile.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_FIELDS_H_
#define REFSUM_STATEMENT_FIELDS_H_

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "encoding/json.h"

namespace refsum::statement {

// Longest string any statement field may hold. Generous for names, URIs and
// build commands, and small enough that the counted limits below keep a
// statement far from the leaf size limit (see in_toto.h).
inline constexpr size_t kMaxStringBytes = 4096;

// Checks that `value` is at most kMaxStringBytes of valid UTF-8 without
// control characters (C0, DEL or C1). Control characters are refused because
// clients print these strings: a terminal escape sequence in a subject name
// could disguise what a user is asked to trust.
absl::Status CheckString(absl::string_view value, absl::string_view path);

// CheckString, and `value` is not empty. For required fields: in-toto treats
// an empty value like an absent one, and refsum wants one spelling for each.
absl::Status CheckNonEmptyString(absl::string_view value,
                                 absl::string_view path);

// For optional fields: absent is fine, present means CheckNonEmptyString.
absl::Status CheckOptionalString(const std::optional<std::string>& value,
                                 absl::string_view path);

// CheckNonEmptyString, and `value` is an absolute URI: a lowercase RFC 3986
// scheme ([a-z][a-z0-9+.-]*), a ':' and a non-empty rest without spaces,
// e.g. `https://github.com/example/os-image`. This is syntax only: which
// URIs a witness fetches is its own policy, and integrity comes from the
// digests and commits next to the URI, never from the transport. A lowercase
// scheme keeps lookups by repository from splitting over `HTTPS:` and
// `https:`.
absl::Status CheckUri(absl::string_view value, absl::string_view path);

// Checks that `value` is lowercase hex encoding one of `byte_lengths` bytes.
absl::Status CheckLowerHex(absl::string_view value,
                           std::initializer_list<size_t> byte_lengths,
                           absl::string_view path);

// Appends member `key` to `members` when `value` is present, so that an
// absent optional field is omitted rather than written as null or "".
void AppendOptionalString(absl::string_view key,
                          const std::optional<std::string>& value,
                          encoding::JsonValue::Object* members);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_FIELDS_H_
