#include "submitter/attestation_tally.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/dsse.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"

namespace refsum::submitter {

AttestationTally::AttestationTally(std::string origin, uint64_t claim_index,
                                   const tlog::Hash& claim_leaf_hash)
    : origin_(std::move(origin)),
      claim_index_(claim_index),
      claim_leaf_hash_hex_(
          encoding::HexEncode(crypto::DigestBytes(claim_leaf_hash))) {}

absl::StatusOr<AttestationTally::Reading> AttestationTally::Add(
    uint64_t index, absl::string_view leaf) {
  const auto bad = [index, this](absl::string_view problem) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, ", listed as an attestation of entry ",
                     claim_index_, ", ", problem));
  };
  const absl::StatusOr<crypto::DsseEnvelope> envelope =
      crypto::DecodeDsseLeaf(leaf);
  if (!envelope.ok()) {
    return bad(
        absl::StrCat("is not a DSSE envelope: ", envelope.status().message()));
  }
  if (envelope->signatures.size() != 1) {
    return bad(absl::StrCat("has ", envelope->signatures.size(),
                            " signatures, not one"));
  }
  const absl::StatusOr<statement::RebuildAttestation> attestation =
      statement::ParseRebuildAttestation(envelope->payload);
  if (!attestation.ok()) {
    return bad(absl::StrCat("is not a rebuild attestation: ",
                            attestation.status().message()));
  }
  const statement::ClaimRef& claim = attestation->claim;
  if (claim.origin != origin_ ||
      claim.index != static_cast<int64_t>(claim_index_) ||
      claim.leaf_hash != claim_leaf_hash_hex_) {
    return bad(absl::StrCat("is about entry ", claim.index, " of log \"",
                            claim.origin, "\" with leaf hash ",
                            claim.leaf_hash));
  }
  Reading reading;
  reading.index = index;
  reading.verdict = attestation->verdict;
  reading.rebuilder_id = attestation->rebuilder.id;
  reading.keyid = envelope->signatures[0].keyid;
  if (attestation->report.has_value()) {
    reading.report_uri = attestation->report->uri;
  }
  const bool first_reading = seen_.insert(index).second;
  if (first_reading && reading.verdict == statement::Verdict::kMatch &&
      matching_keyids_.insert(reading.keyid).second) {
    matching_rebuilders_.push_back(reading.rebuilder_id);
    reading.counted = true;
  }
  return reading;
}

}  // namespace refsum::submitter
