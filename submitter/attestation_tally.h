// Counting the rebuild attestations a vendor waits for after submitting a
// claim: how many distinct rebuilders have logged MATCH for it.
//
// A rebuilder is counted by the key that signed its attestation (the keyid
// the log admitted it under), not by the id inside the statement, which is
// the signer's own words: one key cannot count twice by naming itself
// differently. This is the submitter's progress measure only; a verifier
// decides which rebuilders it trusts and checks their attestations in full
// (client/verify.h).
//
// Not thread-safe.

#ifndef REFSUM_SUBMITTER_ATTESTATION_TALLY_H_
#define REFSUM_SUBMITTER_ATTESTATION_TALLY_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statement/attestation.h"
#include "tlog/merkle.h"

namespace refsum::submitter {

class AttestationTally {
 public:
  // Tallies attestations of the claim at `claim_index`, with leaf hash
  // `claim_leaf_hash`, in the log `origin`.
  AttestationTally(std::string origin, uint64_t claim_index,
                   const tlog::Hash& claim_leaf_hash);

  // One attestation as read.
  struct Reading {
    uint64_t index = 0;
    statement::Verdict verdict = statement::Verdict::kFailed;
    // The rebuilder's id as its statement gives it, and its signing keyid.
    std::string rebuilder_id;
    std::string keyid;
    // The URI of the MISMATCH or FAILED report, if the attestation has one.
    std::optional<std::string> report_uri;
    // True when this is the first MATCH by its key, so that matches() grew.
    bool counted = false;
  };

  // Reads `leaf`, the log entry at `index` that the log lists as an
  // attestation of the claim, and counts it if it is a MATCH by a key not
  // counted before. Returns DataLoss, and counts nothing, when the leaf is
  // not a DSSE envelope with one signature holding a valid rebuild
  // attestation, or when the attestation names another claim (origin, index
  // or leaf hash): the log should never list such an entry. An index seen
  // before is not counted again.
  absl::StatusOr<Reading> Add(uint64_t index, absl::string_view leaf);

  // True when the entry at `index` was added.
  bool Seen(uint64_t index) const { return seen_.count(index) != 0; }

  // The number of distinct keys that logged MATCH.
  size_t matches() const { return matching_rebuilders_.size(); }

  // The rebuilder ids of those MATCHes, one per key, in the order counted.
  const std::vector<std::string>& matching_rebuilders() const {
    return matching_rebuilders_;
  }

 private:
  const std::string origin_;
  const uint64_t claim_index_;
  const std::string claim_leaf_hash_hex_;
  std::set<uint64_t> seen_;
  std::set<std::string> matching_keyids_;
  std::vector<std::string> matching_rebuilders_;
};

}  // namespace refsum::submitter

#endif  // REFSUM_SUBMITTER_ATTESTATION_TALLY_H_
