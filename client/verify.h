// Verification of a reference value, an artifact digest or a claim against
// a policy, from a bundle (DESIGN.md "The client"). It fails closed: it
// succeeds only when, in this order,
//   1. checkpoint:  the bundle's checkpoint is signed by a policy log and
//                   cosigned by a quorum of policy witnesses;
//   2. consistency: it is consistent with the checkpoint stored for that log
//                   (which is then advanced), else a possible split view;
//   3. claim:       a claim in the bundle matches the query (for a value:
//                   it claims that digest for that platform, kind and
//                   index), its inclusion proof holds, its signature
//                   verifies (by a policy vendor, if the policy lists
//                   vendors) and it parses strictly;
//   4. attestations: every attestation's inclusion proof holds; those by
//                   policy rebuilders verify, refer to the claim, and a MATCH
//                   reproduces exactly the claimed subjects and values;
//   5. mismatch:    no policy rebuilder reports MISMATCH (unless the policy
//                   says on-mismatch warn);
//   6. rebuild quorum: the rebuilders with MATCH meet the policy's quorum.
// Each failure is reported as "<check>: <reason>".

#ifndef REFSUM_CLIENT_VERIFY_H_
#define REFSUM_CLIENT_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/policy.h"
#include "client/state.h"
#include "statement/claim.h"
#include "statement/value_spec.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"

namespace refsum::client {

// What to verify.
struct Query {
  enum class Kind { kReferenceValue, kArtifact, kClaimIndex };
  Kind kind = Kind::kReferenceValue;
  // kReferenceValue: the value and the register it is for. Only a claimed
  // value with the same platform, kind, index and digest matches.
  statement::ValueSelector value;
  // kArtifact: the artifact's lowercase hex sha256.
  std::string artifact_sha256;
  // kClaimIndex.
  uint64_t claim_index = 0;
};

// Parses a value selector, platform/kind[/index]=alg:hex (--value; see
// statement/value_spec.h), or "sha256:hex" (--artifact). Returns
// InvalidArgument naming the problem; for a bare "alg:hex" as a value, the
// message shows the selector form.
absl::StatusOr<Query> ParseValueQuery(absl::string_view text);
absl::StatusOr<Query> ParseArtifactQuery(absl::string_view text);

// Returns the query as people write it: "reference value
// tpm/pcr/4=sha256:HEX", "artifact sha256:HEX" or "claim 12".
std::string DescribeQuery(const Query& query);

// A claim that passed every check.
struct VerifiedClaim {
  uint64_t index = 0;
  statement::Claim claim;
  // The policy vendor that signed it, or its keyid if the policy lists none.
  std::string vendor;
  // For a kReferenceValue query: the claimed value it matched, with its
  // parameters.
  std::optional<statement::ReferenceValue> matched_value;
  // Policy rebuilders whose MATCH counted toward the quorum, in policy order.
  std::vector<std::string> matched_rebuilders;
  // Non-fatal findings, e.g. a MISMATCH under on-mismatch warn.
  std::vector<std::string> warnings;
  tlog::Checkpoint checkpoint;
  // Witnesses whose cosignatures verified.
  std::vector<std::string> witnesses;
};

// Runs the checks above. On success the store holds the bundle's checkpoint
// (if it is newer than the stored one). Returns FailedPrecondition
// "<check>: <reason>" for a failed check; the store is then unchanged unless
// checks 1 and 2 had already passed.
absl::StatusOr<VerifiedClaim> Verify(const Policy& policy,
                                     const CheckpointStore& store,
                                     const tlog::Bundle& bundle,
                                     const Query& query,
                                     const ConsistencyProver& prover);

}  // namespace refsum::client

#endif  // REFSUM_CLIENT_VERIFY_H_
