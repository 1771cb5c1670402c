// A verifier's trust policy: a C2SP tlog-policy (which logs, which
// witnesses, what quorum of cosignatures) plus refsum's own lines saying
// whose claims and whose rebuilds count:
//
//   vendor NAME PEMFILE|BASE64-SPKI       the claim must be signed by one of
//                                         these (if any vendor line exists)
//   rebuilder NAME PEMFILE|BASE64-SPKI    whose MATCH attestations count
//   rebuild-group NAME all|any|K MEMBER...
//   rebuild-quorum NAME|none              exactly once
//   on-mismatch reject|warn               at most once; default reject
//
// Rebuild groups follow tlog-policy's group rules: members are rebuilders
// or groups defined on earlier lines, each listed at most once. A PEMFILE
// is relative to the policy file's directory unless absolute.

#ifndef REFSUM_CLIENT_POLICY_H_
#define REFSUM_CLIENT_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"
#include "tlog/policy.h"

namespace refsum::client {

// A named signer of claims (vendor) or attestations (rebuilder).
struct PolicySigner {
  std::string name;
  crypto::PublicKey key;
};

enum class OnMismatch { kReject, kWarn };

// Immutable once parsed; thread-safe.
class Policy {
 public:
  // Parses policy text. PEM files named in it are read relative to
  // `base_dir`. Returns InvalidArgument "line N: <problem>" for the first
  // bad line (unreadable key files included), or for a missing
  // rebuild-quorum line.
  static absl::StatusOr<Policy> Parse(absl::string_view text,
                                      const std::string& base_dir);

  // Reads and parses the policy file at `path`; errors start with the path.
  static absl::StatusOr<Policy> ReadFile(const std::string& path);

  const tlog::TlogPolicy& checkpoints() const { return checkpoints_; }
  // Empty when the policy lists no vendors: then any signer's claim counts.
  const std::vector<PolicySigner>& vendors() const { return vendors_; }
  const std::vector<PolicySigner>& rebuilders() const { return rebuilders_; }
  const tlog::ThresholdGroups& rebuild_groups() const {
    return rebuild_groups_;
  }
  // A rebuilder or rebuild group name, or "none".
  const std::string& rebuild_quorum() const { return rebuild_quorum_; }
  OnMismatch on_mismatch() const { return on_mismatch_; }

  // Returns the vendor or rebuilder whose key has `keyid`, or null.
  const PolicySigner* FindVendor(absl::string_view keyid) const;
  const PolicySigner* FindRebuilder(absl::string_view keyid) const;

 private:
  Policy(tlog::TlogPolicy checkpoints, std::vector<PolicySigner> vendors,
         std::vector<PolicySigner> rebuilders,
         tlog::ThresholdGroups rebuild_groups, std::string rebuild_quorum,
         OnMismatch on_mismatch);

  tlog::TlogPolicy checkpoints_;
  std::vector<PolicySigner> vendors_;
  std::vector<PolicySigner> rebuilders_;
  tlog::ThresholdGroups rebuild_groups_;
  std::string rebuild_quorum_;
  OnMismatch on_mismatch_ = OnMismatch::kReject;
};

}  // namespace refsum::client

#endif  // REFSUM_CLIENT_POLICY_H_
