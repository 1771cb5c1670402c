// refsum's bundle (DESIGN.md "Bundle"): everything a client needs to check
// a reference value offline. For each claim it holds the claim's leaf and
// tlog-proof and those of its rebuild attestations, every proof against the
// same checkpoint:
//
//   {"mediaType": "application/vnd.refsum.bundle.v1+json",
//    "claims": [{"leaf": "<base64 leaf>", "proof": "<tlog-proof text>",
//                "publicKey": "<base64 DER SubjectPublicKeyInfo>",
//                "attestations": [{"leaf": "...", "proof": "...",
//                                  "publicKey": "..."}]}]}
//
// publicKey is the key the log admitted the entry under, so a verifier can
// check the signature of an entry by a signer its policy does not list.
//
// Nothing here verifies a signature or a proof: that is the client's job.

#ifndef REFSUM_TLOG_BUNDLE_H_
#define REFSUM_TLOG_BUNDLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/tlog_proof.h"

namespace refsum::tlog {

inline constexpr absl::string_view kBundleMediaType =
    "application/vnd.refsum.bundle.v1+json";

// A logged entry with its proof of inclusion.
struct BundleEntry {
  // The leaf data (DESIGN.md "Envelope and leaf").
  std::string leaf;
  TlogProof proof;
  // The signer's DER SubjectPublicKeyInfo, as the log admitted it. Not
  // authenticated by the bundle: check it against the signature's keyid.
  std::string public_key;

  friend bool operator==(const BundleEntry& a, const BundleEntry& b) {
    return a.leaf == b.leaf && a.proof == b.proof &&
           a.public_key == b.public_key;
  }
};

struct BundleClaim {
  BundleEntry claim;
  std::vector<BundleEntry> attestations;

  friend bool operator==(const BundleClaim& a, const BundleClaim& b) {
    return a.claim == b.claim && a.attestations == b.attestations;
  }
};

struct Bundle {
  std::vector<BundleClaim> claims;

  friend bool operator==(const Bundle& a, const Bundle& b) {
    return a.claims == b.claims;
  }
};

// Returns the bundle JSON. Returns InvalidArgument if the bundle has no
// claims, its proofs are not all against one checkpoint, or a proof does not
// format (see FormatTlogProof).
absl::StatusOr<std::string> EncodeBundle(const Bundle& bundle);

// Parses bundle JSON strictly (unknown fields rejected, every proof a valid
// tlog-proof, all against the same checkpoint text, at least one claim).
// Returns InvalidArgument naming the JSON path at fault otherwise.
absl::StatusOr<Bundle> DecodeBundle(absl::string_view json);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_BUNDLE_H_
