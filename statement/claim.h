// Claims: a vendor's signed statement that a source commit builds to an
// artifact with these digests and these reference values (DESIGN.md,
// "Records"). A claim is an in-toto Statement v1 (see in_toto.h) with
// predicateType kClaimPredicateType:
//
//   "predicate": {
//     "source": {"repository": ..., "commit": ..., "tag": ...},
//     "build": {"recipe": ..., "toolchain": ...},
//     "referenceValues": [...],
//     "measurementTool": {"name": ..., "version": ...}
//   }
//
// Required and optional, where DESIGN.md's example leaves it open:
//   - source.tag is optional: what is checked is the commit, and a build
//     need not be tagged.
//   - build is required, with a required recipe: a claim that does not say
//     how it was built cannot be rebuilt. build.toolchain is optional free
//     text, as DESIGN.md marks it.
//   - measurementTool is optional, since values may come straight out of the
//     build; when present it needs both name and version, without which a
//     rebuilder could not run the same tool.
// An optional field is absent or non-empty, never "" or {}.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_CLAIM_H_
#define REFSUM_STATEMENT_CLAIM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"
#include "statement/in_toto.h"

namespace refsum::statement {

inline constexpr absl::string_view kClaimPredicateType =
    "urn:refsum:predicate:reference-values:v1";

struct Source {
  // An absolute URI (see CheckUri), e.g. https://github.com/example/os-image.
  // Lookups by repository match it exactly, so vendors should keep to one
  // spelling.
  std::string repository;
  // A git commit: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters.
  std::string commit;
  std::optional<std::string> tag;
};

struct Build {
  std::string recipe;
  std::optional<std::string> toolchain;
};

struct MeasurementTool {
  std::string name;
  std::string version;
};

struct Claim {
  std::vector<Subject> subjects;
  Source source;
  Build build;
  std::vector<ReferenceValue> reference_values;
  std::optional<MeasurementTool> measurement_tool;
};

// Parses and validates a claim payload (the DSSE payload, not the envelope).
// Returns InvalidArgument naming the JSON path of the first field at fault,
// or the byte offset when the payload is not strict JSON.
absl::StatusOr<Claim> ParseClaim(absl::string_view payload_json);

// Checks `claim` against the rules of this file, in_toto.h and digest.h.
// Returns InvalidArgument naming the JSON path of the first field at fault.
absl::Status ValidateClaim(const Claim& claim);

// Validates `claim` and returns its canonical JSON: compact, members in the
// order of DESIGN.md, digest sets and parameters sorted by key. For every
// payload p that ParseClaim accepts, SerializeClaim(ParseClaim(p)) parses
// back to the same claim and serializes to the same bytes. Fails with
// InvalidArgument when validation fails or the result exceeds
// kMaxPayloadBytes.
absl::StatusOr<std::string> SerializeClaim(const Claim& claim);

// The digests the log indexes a claim under, each listed once, in the order
// of first appearance.
struct ClaimLookupKeys {
  // Lowercase hex sha256 of each subject: lookups by artifact digest.
  std::vector<std::string> subject_sha256;
  // The digest of each reference value: lookups by reference value.
  std::vector<Digest> reference_values;
};

// Returns the lookup keys of `claim`, which should have passed ValidateClaim
// (a subject without a sha256 digest contributes no key).
ClaimLookupKeys LookupKeys(const Claim& claim);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_CLAIM_H_
