// Rebuild attestations: a witness's signed statement that it rebuilt a
// logged claim and got the same result (MATCH), a different one (MISMATCH),
// or no result (FAILED) (DESIGN.md, "Records"). An attestation is an in-toto
// Statement v1 (see in_toto.h) whose subject is the claim's subject and whose
// predicateType is kRebuildPredicateType:
//
//   "predicate": {
//     "claim": {"origin": ..., "index": 42, "leafHash": ...},
//     "verdict": "MATCH",
//     "rebuilt": {"subject": [...], "referenceValues": [...]},
//     "rebuilder": {"id": ..., "recipe": ...},
//     "rebuiltAt": "2026-11-27T12:00:00Z",
//     "report": {"digest": {"sha256": ...}, "uri": ...}
//   }
//
// Required and optional, where DESIGN.md leaves it open:
//   - rebuilt is required for MATCH and MISMATCH and refused for FAILED: a
//     build that failed has no output to describe.
//   - report is required for MISMATCH and optional otherwise (a FAILED
//     rebuild may point at its build log). Its digest follows the subject
//     rule: sha256 required, sha384 and sha512 allowed.
//   - rebuilder.recipe is required: an attestation that does not say what
//     ran cannot be checked by anyone else.
//
// Checks that need the claim itself (that the subject is the claim's, that
// MATCH values equal the claimed ones) belong to whoever holds both.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_ATTESTATION_H_
#define REFSUM_STATEMENT_ATTESTATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"
#include "statement/in_toto.h"

namespace refsum::statement {

inline constexpr absl::string_view kRebuildPredicateType =
    "urn:refsum:predicate:rebuild:v1";

// The logged claim an attestation is about.
struct ClaimRef {
  // The log's origin (its checkpoint's first line); non-empty.
  std::string origin;
  // The claim's index in that log; non-negative.
  int64_t index = 0;
  // The claim's RFC 6962 leaf hash: 64 lowercase hex characters.
  std::string leaf_hash;
};

enum class Verdict {
  kMatch,     // Every subject digest and claimed value reproduced bit for bit.
  kMismatch,  // It built, but something differs; the report says what.
  kFailed,    // It did not build; says nothing about the claim.
};

// Returns "MATCH", "MISMATCH" or "FAILED", the JSON spelling, or "" for a
// value outside the enum.
absl::string_view VerdictName(Verdict verdict);

// What the rebuild produced, validated like a claim's subjects and values.
struct RebuiltOutput {
  std::vector<Subject> subjects;
  std::vector<ReferenceValue> reference_values;
};

struct Rebuilder {
  // The witness's name.
  std::string id;
  // What ran.
  std::string recipe;
};

// A diffoscope-style report explaining a mismatch.
struct Report {
  DigestSet digest;
  // Where the report is served; an absolute URI (see CheckUri).
  std::string uri;
};

struct RebuildAttestation {
  std::vector<Subject> subjects;
  ClaimRef claim;
  // FAILED asserts nothing about the claim, so it is the harmless default.
  Verdict verdict = Verdict::kFailed;
  std::optional<RebuiltOutput> rebuilt;
  Rebuilder rebuilder;
  // RFC 3339 in UTC to the second, exactly "YYYY-MM-DDTHH:MM:SSZ", naming a
  // real date and time. Leap seconds (:60) are refused: refsum's clocks never
  // produce them.
  std::string rebuilt_at;
  std::optional<Report> report;
};

// Parses and validates an attestation payload (the DSSE payload, not the
// envelope). Returns InvalidArgument naming the JSON path of the first field
// at fault, or the byte offset when the payload is not strict JSON.
absl::StatusOr<RebuildAttestation> ParseRebuildAttestation(
    absl::string_view payload_json);

// Checks `attestation` against the rules of this file, in_toto.h and
// digest.h. Returns InvalidArgument naming the JSON path of the first field
// at fault.
absl::Status ValidateRebuildAttestation(const RebuildAttestation& attestation);

// Validates `attestation` and returns its canonical JSON: compact, members
// in the order of DESIGN.md, digest sets and parameters sorted by key, so
// that serializing a parsed attestation is stable. Fails with
// InvalidArgument when validation fails or the result exceeds
// kMaxPayloadBytes.
absl::StatusOr<std::string> SerializeRebuildAttestation(
    const RebuildAttestation& attestation);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_ATTESTATION_H_
