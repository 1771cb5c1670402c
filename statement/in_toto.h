// The in-toto Statement v1 layer that claims and rebuild attestations share:
//
//   {"_type": "https://in-toto.io/Statement/v1", "subject": [...],
//    "predicateType": "<URI>", "predicate": {...}}
//
// refsum departs from in-toto's parsing rules in one deliberate way: unknown
// fields are rejected rather than ignored, at every level, because a signed
// statement in a transparency log must mean exactly what every reader thinks
// it means. `predicate`, optional in in-toto, is required.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_IN_TOTO_H_
#define REFSUM_STATEMENT_IN_TOTO_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "encoding/json.h"
#include "statement/digest.h"

namespace refsum::statement {

inline constexpr absl::string_view kStatementType =
    "https://in-toto.io/Statement/v1";
// The DSSE payloadType of every refsum statement.
inline constexpr absl::string_view kPayloadType =
    "application/vnd.in-toto+json";

// Largest statement payload. A leaf is the protobuf encoding of a DSSE
// envelope and must fit 65535 bytes (tile entry bundles use a uint16
// length). Besides the payload, the envelope holds the payloadType, one
// signature (at most 72 bytes, DER ECDSA P-256), a 64-character keyid and
// protobuf tags and lengths: under 200 bytes, so 511 bytes are reserved.
inline constexpr size_t kMaxPayloadBytes = 65535 - 511;

// The deepest nesting a statement needs is 6 (the statement, predicate,
// rebuilt, referenceValues, one value and its digest). Two more levels let a
// misplaced value still be reported by its path; anything deeper is refused
// by the parser before it is read.
inline constexpr size_t kMaxStatementDepth = 8;

inline constexpr size_t kMaxSubjects = 64;

// An in-toto ResourceDescriptor restricted to what refsum uses. The name is
// required and unique within a statement, since refsum matches artifacts by
// it; `downloadLocation` says where rebuilders can fetch the vendor's
// artifact to explain a mismatch.
struct Subject {
  std::string name;
  // Must hold sha256; may add sha384 and sha512 (see ValidateDigestSet).
  DigestSet digest;
  std::optional<std::string> download_location;

  friend bool operator==(const Subject& a, const Subject& b) {
    return a.name == b.name && a.digest == b.digest &&
           a.download_location == b.download_location;
  }
  friend bool operator!=(const Subject& a, const Subject& b) {
    return !(a == b);
  }
};

// Checks 1 to kMaxSubjects subjects with unique names (CheckNonEmptyString),
// valid digest sets and, when present, a downloadLocation that passes
// CheckUri. `path` is the array's, e.g. "subject".
absl::Status ValidateSubjects(const std::vector<Subject>& subjects,
                              absl::string_view path);

// Reads an array of subjects: `name`, `digest` and optional
// `downloadLocation`, nothing else.
absl::StatusOr<std::vector<Subject>> ReadSubjects(
    const encoding::JsonArrayReader& array);

// Returns the JSON array, members in the order name, digest,
// downloadLocation.
encoding::JsonValue SubjectsToJson(const std::vector<Subject>& subjects);

// Parses `payload_json` (at most kMaxPayloadBytes) as a Statement whose
// `predicateType` is `predicate_type`, and hands its predicate object to
// `read_predicate`, whose error is returned unchanged. Returns the subjects,
// read but not validated. Errors are InvalidArgument naming the JSON path, or
// the parser's offset for malformed JSON.
absl::StatusOr<std::vector<Subject>> ParseStatement(
    absl::string_view payload_json, absl::string_view predicate_type,
    absl::FunctionRef<absl::Status(const encoding::JsonObjectReader&)>
        read_predicate);

// Returns the canonical JSON of a Statement with these parts, or
// InvalidArgument when it exceeds kMaxPayloadBytes. Does not validate.
absl::StatusOr<std::string> SerializeStatement(
    const std::vector<Subject>& subjects, absl::string_view predicate_type,
    encoding::JsonValue predicate);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_IN_TOTO_H_
