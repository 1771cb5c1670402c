#include "client/verify.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "statement/attestation.h"
#include "statement/digest.h"
#include "statement/in_toto.h"
#include "tlog/policy.h"
#include "tlog/proof.h"

namespace refsum::client {
namespace {

// Returns the status as a failure of `check`, "<check>: <reason>".
absl::Status Failed(absl::string_view check, absl::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat(check, ": ", reason));
}

absl::Status InCheck(absl::string_view check, const absl::Status& status) {
  if (status.ok()) return status;
  return Failed(check, status.message());
}

std::string HashHex(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

// A logged entry whose inclusion proof and signature verified.
struct OpenedEntry {
  uint64_t index = 0;
  tlog::Hash leaf_hash = {};
  crypto::DsseEnvelope envelope;
  std::string keyid;
};

absl::Status CheckInclusion(const tlog::BundleEntry& entry,
                            const tlog::Checkpoint& checkpoint) {
  if (entry.proof.index >= checkpoint.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", entry.proof.index,
                     " is beyond the checkpoint's tree size ",
                     checkpoint.size));
  }
  absl::Status status = tlog::VerifyInclusion(
      entry.proof.index, checkpoint.size, tlog::HashLeaf(entry.leaf),
      entry.proof.inclusion_proof, checkpoint.root);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry ", entry.proof.index, " is not in the log: ", status.message()));
  }
  return absl::OkStatus();
}

// Checks the entry's inclusion and decodes its envelope, which must have one
// signature.
absl::StatusOr<OpenedEntry> OpenEntry(const tlog::BundleEntry& entry,
                                      const tlog::Checkpoint& checkpoint) {
  RETURN_IF_ERROR(CheckInclusion(entry, checkpoint));
  OpenedEntry opened;
  opened.index = entry.proof.index;
  opened.leaf_hash = tlog::HashLeaf(entry.leaf);
  ASSIGN_OR_RETURN(opened.envelope, crypto::DecodeDsseLeaf(entry.leaf));
  if (opened.envelope.signatures.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry ", opened.index, " does not have exactly one signature"));
  }
  if (opened.envelope.payload_type != statement::kPayloadType) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry ", opened.index, " is not an in-toto statement"));
  }
  opened.keyid = opened.envelope.signatures[0].keyid;
  return opened;
}

absl::Status CheckSignature(const OpenedEntry& entry,
                            const crypto::PublicKey& key) {
  if (key.keyid() != entry.keyid) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", entry.index, " names key ", entry.keyid,
                     " but the key given is ", key.keyid()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Verifier> verifier,
                   crypto::NewVerifier(key));
  absl::Status status = crypto::DsseVerify(entry.envelope, *verifier);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", entry.index, ": ", status.message()));
  }
  return absl::OkStatus();
}

// Step 2: the bundle's checkpoint against the one stored for its log.
bool SameSubjects(const std::vector<statement::Subject>& claimed,
                  const std::vector<statement::Subject>& rebuilt) {
  if (claimed.size() != rebuilt.size()) return false;
  return std::all_of(
      claimed.begin(), claimed.end(), [&](const statement::Subject& subject) {
        return std::any_of(rebuilt.begin(), rebuilt.end(),
                           [&](const statement::Subject& other) {
                             return other.name == subject.name &&
                                    other.digest == subject.digest;
                           });
      });
}

// Compares as multisets: the same values (statement::SameValue: how each
// was obtained aside), each as often, in any order.
bool SameValues(const std::vector<statement::ReferenceValue>& claimed,
                const std::vector<statement::ReferenceValue>& rebuilt) {
  if (claimed.size() != rebuilt.size()) return false;
  return std::all_of(claimed.begin(), claimed.end(),
                     [&](const statement::ReferenceValue& value) {
                       const auto same = [&](const auto& other) {
                         return statement::SameValue(value, other);
                       };
                       return std::count_if(claimed.begin(), claimed.end(),
                                            same) ==
                              std::count_if(rebuilt.begin(), rebuilt.end(),
                                            same);
                     });
}

// Returns whether the claim matches the query; for a value, also the
// claimed value that matched.
// Whether every claimed value that names a calculator was computed with
// it by the rebuilder: a MATCH whose recipe merely reported such a value
// says nothing about it.
bool ComputedWhereClaimed(
    const std::vector<statement::ReferenceValue>& claimed,
    const std::vector<statement::ReferenceValue>& rebuilt) {
  return std::all_of(
      claimed.begin(), claimed.end(),
      [&](const statement::ReferenceValue& value) {
        if (!value.calculator.has_value()) return true;
        return std::any_of(
            rebuilt.begin(), rebuilt.end(),
            [&](const statement::ReferenceValue& other) {
              return statement::SameValue(value, other) &&
                     other.computed_by.has_value() &&
                     other.computed_by->calculator == value.calculator->name;
            });
      });
}

bool Matches(const Query& query, const OpenedEntry& entry,
             const statement::Claim& claim,
             std::optional<statement::ReferenceValue>* matched_value) {
  switch (query.kind) {
    case Query::Kind::kClaimIndex:
      return entry.index == query.claim_index;
    case Query::Kind::kArtifact:
      return std::any_of(claim.subjects.begin(), claim.subjects.end(),
                         [&](const statement::Subject& subject) {
                           auto it = subject.digest.find("sha256");
                           return it != subject.digest.end() &&
                                  it->second == query.artifact_sha256;
                         });
    case Query::Kind::kReferenceValue:
      for (const statement::ReferenceValue& value : claim.reference_values) {
        if (statement::SelectorMatches(query.value, value)) {
          *matched_value = value;
          return true;
        }
      }
      return false;
  }
  return false;
}

// The registers other than the one asked for that `claim` holds the
// queried digest for, "platform/kind[/index]" each.
std::vector<std::string> OtherTargets(const Query& query,
                                      const statement::Claim& claim) {
  std::vector<std::string> targets;
  if (query.kind != Query::Kind::kReferenceValue) return targets;
  for (const statement::ReferenceValue& value : claim.reference_values) {
    if (value.digest == query.value.digest) {
      targets.push_back(statement::FormatValueTarget(value));
    }
  }
  return targets;
}

// Step 3 for one bundle claim: inclusion, signer, signature and payload.
absl::StatusOr<std::pair<OpenedEntry, statement::Claim>> OpenClaim(
    const Policy& policy, const tlog::BundleEntry& entry,
    const tlog::Checkpoint& checkpoint, std::string* vendor) {
  ASSIGN_OR_RETURN(OpenedEntry opened, OpenEntry(entry, checkpoint));
  std::optional<crypto::PublicKey> key;
  if (!policy.vendors().empty()) {
    const PolicySigner* signer = policy.FindVendor(opened.keyid);
    if (signer == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat(
          "claim ", opened.index, " is signed by key ", opened.keyid,
          ", which is not a vendor in the policy"));
    }
    key = signer->key;
    *vendor = signer->name;
  } else {
    ASSIGN_OR_RETURN(key, crypto::PublicKey::FromDer(entry.public_key));
    *vendor = key->keyid();
  }
  RETURN_IF_ERROR(CheckSignature(opened, *key));
  ASSIGN_OR_RETURN(statement::Claim claim,
                   statement::ParseClaim(opened.envelope.payload));
  return std::make_pair(std::move(opened), std::move(claim));
}

// What the policy's rebuilders say about one claim.
struct Rebuilds {
  absl::flat_hash_set<std::string> matched;
  std::vector<std::string> mismatches;
  // Policy rebuilders whose MATCH did not compute a value the claim names a
  // calculator for; their MATCH does not count.
  std::vector<std::string> uncomputed;
};

// Step 4: checks every attestation and gathers the trusted verdicts.
absl::StatusOr<Rebuilds> CheckAttestations(
    const Policy& policy, const tlog::BundleClaim& bundle_claim,
    const OpenedEntry& claim_entry, const statement::Claim& claim,
    const tlog::Checkpoint& checkpoint) {
  Rebuilds rebuilds;
  const std::string leaf_hash = HashHex(claim_entry.leaf_hash);
  for (const tlog::BundleEntry& entry : bundle_claim.attestations) {
    ASSIGN_OR_RETURN(OpenedEntry opened, OpenEntry(entry, checkpoint));
    const PolicySigner* rebuilder = policy.FindRebuilder(opened.keyid);
    if (rebuilder == nullptr) continue;  // Not trusted: it counts for nothing.
    const std::string who =
        absl::StrCat("attestation ", opened.index, " by ", rebuilder->name);
    absl::Status signature = CheckSignature(opened, rebuilder->key);
    if (!signature.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": ", signature.message()));
    }
    absl::StatusOr<statement::RebuildAttestation> attestation =
        statement::ParseRebuildAttestation(opened.envelope.payload);
    if (!attestation.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": ", attestation.status().message()));
    }
    const statement::ClaimRef& ref = attestation->claim;
    if (ref.origin != checkpoint.origin ||
        ref.index != static_cast<int64_t>(claim_entry.index) ||
        ref.leaf_hash != leaf_hash || attestation->subjects != claim.subjects) {
      return absl::InvalidArgumentError(absl::StrCat(
          who, " is not about claim ", claim_entry.index, " of ",
          checkpoint.origin));
    }
    switch (attestation->verdict) {
      case statement::Verdict::kMatch:
        if (!attestation->rebuilt.has_value() ||
            !SameSubjects(claim.subjects, attestation->rebuilt->subjects) ||
            !SameValues(claim.reference_values,
                        attestation->rebuilt->reference_values)) {
          return absl::InvalidArgumentError(absl::StrCat(
              who,
              " says MATCH but its rebuilt digests differ from the claimed "
              "ones"));
        }
        if (!ComputedWhereClaimed(claim.reference_values,
                                  attestation->rebuilt->reference_values)) {
          // Not a MATCH of the values the claim asks to be computed.
          rebuilds.uncomputed.push_back(rebuilder->name);
          break;
        }
        rebuilds.matched.insert(rebuilder->name);
        break;
      case statement::Verdict::kMismatch:
        rebuilds.mismatches.push_back(absl::StrCat(
            "rebuilder ", rebuilder->name, " reports MISMATCH (attestation ",
            opened.index,
            attestation->report.has_value()
                ? absl::StrCat(", report ", attestation->report->uri)
                : std::string(),
            ")"));
        break;
      case statement::Verdict::kFailed:
        break;
    }
  }
  return rebuilds;
}

// Steps 4 to 6 for one claim that matches the query.
absl::StatusOr<VerifiedClaim> CheckRebuilds(
    const Policy& policy, const tlog::BundleClaim& bundle_claim,
    const OpenedEntry& entry, statement::Claim claim,
    const tlog::Checkpoint& checkpoint) {
  absl::StatusOr<Rebuilds> rebuilds =
      CheckAttestations(policy, bundle_claim, entry, claim, checkpoint);
  RETURN_IF_ERROR(InCheck("attestations", rebuilds.status()));
  VerifiedClaim verified;
  if (!rebuilds->mismatches.empty()) {
    if (policy.on_mismatch() == OnMismatch::kReject) {
      return Failed("mismatch", absl::StrJoin(rebuilds->mismatches, "; "));
    }
    verified.warnings = rebuilds->mismatches;
  }
  const tlog::ThresholdResult quorum = policy.rebuild_groups().Evaluate(
      policy.rebuild_quorum(), rebuilds->matched);
  if (!quorum.satisfied) {
    std::vector<std::string> matched(rebuilds->matched.begin(),
                                     rebuilds->matched.end());
    std::sort(matched.begin(), matched.end());
    return Failed(
        "rebuild quorum",
        absl::StrCat(
            "MATCH attestations from ",
            matched.empty() ? std::string("no policy rebuilder")
                            : absl::StrJoin(matched, ", "),
            " do not meet quorum ", policy.rebuild_quorum(), ": ",
            quorum.shortfall,
            rebuilds->uncomputed.empty()
                ? std::string()
                : absl::StrCat(" (the MATCH of ",
                               absl::StrJoin(rebuilds->uncomputed, ", "),
                               " did not compute the values the claim names "
                               "a calculator for)")));
  }
  verified.index = entry.index;
  verified.claim = std::move(claim);
  verified.matched_rebuilders = quorum.counted;
  verified.checkpoint = checkpoint;
  return verified;
}

}  // namespace

std::string DescribeQuery(const Query& query) {
  switch (query.kind) {
    case Query::Kind::kClaimIndex:
      return absl::StrCat("claim ", query.claim_index);
    case Query::Kind::kArtifact:
      return absl::StrCat("artifact sha256:", query.artifact_sha256);
    case Query::Kind::kReferenceValue:
      return absl::StrCat("reference value ",
                          statement::FormatValueSelector(query.value));
  }
  return "";
}

absl::StatusOr<Query> ParseValueQuery(absl::string_view text) {
  Query query;
  query.kind = Query::Kind::kReferenceValue;
  ASSIGN_OR_RETURN(query.value, statement::ParseValueSelector(text));
  return query;
}

absl::StatusOr<Query> ParseArtifactQuery(absl::string_view text) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos || text.substr(0, colon) != "sha256") {
    return absl::InvalidArgumentError(
        "artifacts are looked up by sha256:<64 hex digits>");
  }
  Query query;
  query.kind = Query::Kind::kArtifact;
  query.artifact_sha256 = std::string(text.substr(colon + 1));
  RETURN_IF_ERROR(statement::ValidateDigest(
      statement::Digest{"sha256", query.artifact_sha256}, ""));
  return query;
}

absl::StatusOr<VerifiedClaim> Verify(const Policy& policy,
                                     const CheckpointStore& store,
                                     const tlog::Bundle& bundle,
                                     const Query& query,
                                     const ConsistencyProver& prover) {
  if (bundle.claims.empty()) return Failed("claim", "the bundle has no claim");
  const std::string& note = bundle.claims[0].claim.proof.checkpoint;
  absl::StatusOr<tlog::VerifiedCheckpoint> verified_checkpoint =
      tlog::VerifyCheckpoint(policy.checkpoints(), note);
  RETURN_IF_ERROR(InCheck("checkpoint", verified_checkpoint.status()));
  const tlog::Checkpoint& checkpoint = verified_checkpoint->checkpoint;
  RETURN_IF_ERROR(InCheck(
      "consistency", AdvanceCheckpoint(store, checkpoint, note, prover)));

  struct Candidate {
    const tlog::BundleClaim* bundle_claim;
    OpenedEntry entry;
    statement::Claim claim;
    std::string vendor;
    std::optional<statement::ReferenceValue> matched_value;
  };
  std::vector<Candidate> candidates;
  // Where the digest asked for is claimed for another register.
  std::vector<std::string> elsewhere;
  for (const tlog::BundleClaim& bundle_claim : bundle.claims) {
    std::string vendor;
    absl::StatusOr<std::pair<OpenedEntry, statement::Claim>> opened =
        OpenClaim(policy, bundle_claim.claim, checkpoint, &vendor);
    RETURN_IF_ERROR(InCheck("claim", opened.status()));
    std::optional<statement::ReferenceValue> matched_value;
    if (Matches(query, opened->first, opened->second, &matched_value)) {
      candidates.push_back(Candidate{&bundle_claim, std::move(opened->first),
                                     std::move(opened->second),
                                     std::move(vendor),
                                     std::move(matched_value)});
      continue;
    }
    for (std::string& target : OtherTargets(query, opened->second)) {
      elsewhere.push_back(absl::StrCat(target, " in claim ",
                                       opened->first.index));
    }
  }
  if (candidates.empty()) {
    return Failed(
        "value",
        absl::StrCat("no claim in the bundle holds ", DescribeQuery(query),
                     elsewhere.empty()
                         ? std::string()
                         : absl::StrCat(" (its digest is claimed only for ",
                                        absl::StrJoin(elsewhere, ", "),
                                        ", another register)")));
  }
  // Several claims may hold the value; one that passes every check suffices,
  // and otherwise the first one's failure is reported.
  absl::Status first_failure;
  for (Candidate& candidate : candidates) {
    absl::StatusOr<VerifiedClaim> verified =
        CheckRebuilds(policy, *candidate.bundle_claim, candidate.entry,
                      std::move(candidate.claim), checkpoint);
    if (verified.ok()) {
      verified->vendor = std::move(candidate.vendor);
      verified->matched_value = std::move(candidate.matched_value);
      for (const tlog::WitnessCosignature& cosignature :
           verified_checkpoint->cosignatures) {
        verified->witnesses.push_back(cosignature.witness);
      }
      return verified;
    }
    if (first_failure.ok()) first_failure = verified.status();
  }
  return first_failure;
}

}  // namespace refsum::client
