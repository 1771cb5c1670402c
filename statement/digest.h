// Digests and reference values: the parts of claims and rebuild attestations
// that carry hashes (DESIGN.md, "Records").
//
// Each type comes with a Validate function (semantic rules, errors name the
// JSON path given by the caller), a Read function (JSON shape: types,
// required and unknown fields; errors name the reader's path) and a ToJson
// function (the canonical JSON form, for values that validate). Reading does
// not validate; claim.h and attestation.h run both.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_DIGEST_H_
#define REFSUM_STATEMENT_DIGEST_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "encoding/json.h"

namespace refsum::statement {

// The digest algorithms refsum accepts, named as in-toto DigestSet keys.
inline constexpr absl::string_view kSha256 = "sha256";
inline constexpr absl::string_view kSha384 = "sha384";
inline constexpr absl::string_view kSha512 = "sha512";

// An in-toto DigestSet: algorithm name to lowercase hex. Ordered, so that its
// JSON form is canonical.
using DigestSet = std::map<std::string, std::string>;

// A single digest, as a reference value holds.
struct Digest {
  std::string algorithm;
  std::string hex;

  friend bool operator==(const Digest& a, const Digest& b) {
    return a.algorithm == b.algorithm && a.hex == b.hex;
  }
  friend bool operator!=(const Digest& a, const Digest& b) { return !(a == b); }
};

// Checks that `digest` names sha256, sha384 or sha512 and holds lowercase
// hex of that algorithm's length. Returns InvalidArgument naming
// `<path>.<algorithm>` (just the algorithm when `path` is empty).
absl::Status ValidateDigest(const Digest& digest, absl::string_view path);

// Checks a digest set as refsum's ResourceDescriptors (subjects, reports)
// carry it: a sha256 entry is required, every algorithm is sha256, sha384 or
// sha512, and every value is lowercase hex of the algorithm's length. Errors
// name the entry, e.g. `subject[0].digest.sha256`.
absl::Status ValidateDigestSet(const DigestSet& digests,
                               absl::string_view path);

// Reads a JSON object of strings as a DigestSet, without judging the
// algorithms or values.
absl::StatusOr<DigestSet> ReadDigestSet(
    const encoding::JsonObjectReader& object);

encoding::JsonValue DigestSetToJson(const DigestSet& digests);

// Limits on one claim's reference values.
inline constexpr size_t kMaxReferenceValues = 256;
inline constexpr size_t kMaxParameters = 32;
inline constexpr size_t kMaxParameterNameBytes = 64;
// The largest index of a `generic` reference value: any register number a
// platform could use fits 32 bits.
inline constexpr int64_t kMaxGenericIndex = 0xffffffff;

// Measurement parameters (vCPU count, VMM, policy, ...): name to value.
// Ordered, so that its JSON form is canonical.
using Parameters = std::map<std::string, std::string>;

// The calculator a claimed value names (DESIGN.md "Calculated reference
// values", contract): refsum computes the value from the claim's own
// subjects with it. `inputs` maps each role (e.g. "ovmf", "uki") to the
// name of a subject of the same claim; the calculator's parameters are the
// value's `parameters`. statement/calculators.h holds the names, roles and
// rules.
struct Calculator {
  std::string name;
  std::map<std::string, std::string> inputs;

  friend bool operator==(const Calculator& a, const Calculator& b) {
    return a.name == b.name && a.inputs == b.inputs;
  }
};

// How a witness obtained a rebuilt value (rebuild attestations only): it
// computed it from the rebuilt artifact with `calculator` of `tool`
// ("refsum 0.2.0"), or read what the recipe reported.
struct ComputedBy {
  std::string calculator;
  std::string tool;

  friend bool operator==(const ComputedBy& a, const ComputedBy& b) {
    return a.calculator == b.calculator && a.tool == b.tool;
  }
};

// Where a list of values comes from, which decides the members they may
// have besides platform, kind, index, digest and parameters.
enum class ValueSource {
  // A claim's values: `calculator` allowed.
  kClaim,
  // A rebuild attestation's rebuilt values: `computedBy` or `reportedBy`
  // ("recipe") allowed, not both.
  kRebuilt,
  // A recipe's /out/reference-values.json: nothing more.
  kPlain,
};

// One reference value: what a verifier compares a measurement against.
//
// Platforms and kinds (DESIGN.md), with their `index` and digest rules:
//   amd-sev-snp  launch-measurement                        no index, sha384
//   intel-tdx    mrtd, mrconfigid, mrowner, mrownerconfig  no index, sha384
//   intel-tdx    rtmr                                      index 0-3, sha384
//   tpm          pcr                  index 0-23, sha256, sha384 or sha512
//   aws-nitro    pcr                                      index 0-31, sha384
//   generic      any [a-z0-9-]{1,64}  optional index up to kMaxGenericIndex,
//                                     sha256, sha384 or sha512
// The fixed sha384 rules are the hardware's: SEV-SNP and TDX measurements
// and Nitro PCRs are SHA-384 values, so any other algorithm is a mistake.
struct ReferenceValue {
  std::string platform;
  std::string kind;
  std::optional<int64_t> index;
  Digest digest;
  // Empty means none; the JSON form then omits `parameters`. Names are 1 to
  // kMaxParameterNameBytes characters of [A-Za-z0-9._-]; values may be empty
  // (an empty kernel command line is not the same as none).
  Parameters parameters;
  // ValueSource::kClaim only.
  std::optional<Calculator> calculator;
  // ValueSource::kRebuilt only; at most one of them.
  std::optional<ComputedBy> computed_by;
  bool reported_by_recipe = false;

  friend bool operator==(const ReferenceValue& a, const ReferenceValue& b) {
    return a.platform == b.platform && a.kind == b.kind &&
           a.index == b.index && a.digest == b.digest &&
           a.parameters == b.parameters && a.calculator == b.calculator &&
           a.computed_by == b.computed_by &&
           a.reported_by_recipe == b.reported_by_recipe;
  }
  friend bool operator!=(const ReferenceValue& a, const ReferenceValue& b) {
    return !(a == b);
  }
};

// Checks 1 to kMaxReferenceValues values, each by the table above.
absl::Status ValidateReferenceValues(const std::vector<ReferenceValue>& values,
                                     absl::string_view path);

// The same measurement: platform, kind, index and parameters equal (the
// digest, calculator and provenance aside).
bool SameMeasurement(const ReferenceValue& a, const ReferenceValue& b);

// The same value as a verifier or witness compares them: SameMeasurement
// and the same digest.
bool SameValue(const ReferenceValue& a, const ReferenceValue& b);

// Reads an array of reference values from `source`. A `digest` object must
// hold exactly one digest, a `parameters` object that is present must not be
// empty, and members `source` does not allow are unknown fields.
absl::StatusOr<std::vector<ReferenceValue>> ReadReferenceValues(
    const encoding::JsonArrayReader& array, ValueSource source);

// Returns the JSON array, members in the order platform, kind, index, digest,
// parameters, calculator, computedBy, reportedBy.
encoding::JsonValue ReferenceValuesToJson(
    const std::vector<ReferenceValue>& values);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_DIGEST_H_
