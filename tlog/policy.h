// C2SP tlog-policy: which logs a checkpoint may come from, which witnesses
// may cosign it, and how many of them must (the quorum), and the check of a
// cosigned checkpoint against such a policy.
//
//   log example.com/log+8a1b2c3d+AU0vHm... https://log.example.com/
//   witness X1 w1.example/w+12345678+BOvN63...
//   witness X2 w2.example/w+9abcdef0+BEqSG3... https://w2.example/
//   group X-witnesses any X1 X2
//   quorum X-witnesses
//
// The k-of-n groups are a separate class, ThresholdGroups, because refsum's
// client policy (an extension of this format, issue 4) defines groups of
// rebuilders with the same semantics; ParseTlogPolicy hands the lines it does
// not know to an ExtraLineHandler so that the client can parse them while
// this file keeps the tlog-policy rules in one place.

#ifndef REFSUM_TLOG_POLICY_H_
#define REFSUM_TLOG_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/note.h"
#include "tlog/checkpoint.h"

namespace refsum::tlog {

// The outcome of ThresholdGroups::Evaluate.
struct ThresholdResult {
  bool satisfied = false;
  // When satisfied: the present leaves the result rests on, in the order they
  // were defined. A leaf counts if it is reached from the evaluated name
  // through satisfied groups only, so a present leaf in a subgroup that fell
  // short of its own threshold does not count. Empty when not satisfied and
  // for ThresholdGroups::kNone.
  std::vector<std::string> counted;
  // When not satisfied: what is missing, naming the evaluated group and every
  // unsatisfied group below it, e.g. "group g needs 2 of w1 w2 w3; group h
  // needs 1 of a b", or "needs w1" for a single leaf. Empty when satisfied.
  std::string shortfall;
};

// Named leaves (witnesses, rebuilders) and k-of-n groups over them, with the
// semantics of C2SP tlog-policy groups:
//   - leaves and groups share one namespace, and names are opaque octet
//     strings compared byte for byte;
//   - the name kNone is predefined, is always satisfied, and cannot be
//     defined again or be a group member;
//   - a group lists members defined before it (so there are no cycles), at
//     least one, and is satisfied when at least k of them are, 1 <= k <= n;
//   - each name may be a member of at most one group, and at most once, so
//     that a leaf contributes to the quorum in only one way (tlog-policy:
//     "Each defined name can be listed as a group member at most once").
//     The groups therefore form a forest.
// Copyable. Const methods are thread-safe; the Add methods need exclusive
// access.
class ThresholdGroups {
 public:
  // The predefined name that needs nothing ("quorum none").
  static constexpr absl::string_view kNone = "none";
  // Limits that bound evaluation cost. tlog-policy recommends supporting at
  // least 32 witnesses and 32 groups.
  static constexpr size_t kMaxLeaves = 256;
  static constexpr size_t kMaxGroups = 256;

  // Defines a leaf. Returns InvalidArgument, and changes nothing, if `name`
  // is empty, kNone or already defined, or kMaxLeaves leaves exist.
  absl::Status AddLeaf(absl::string_view name);

  // Defines a group named `name` of `members` with `threshold` "all" (k = n),
  // "any" (k = 1) or ASCII decimal digits (leading zeros allowed, as
  // tlog-policy only asks for decimal). Returns InvalidArgument naming the
  // problem, and changes nothing, if the name is empty, kNone or already
  // defined; kMaxGroups groups exist; there are no members; a member is
  // undefined, kNone, listed twice, or already a member of another group; or
  // the threshold is malformed or outside 1..n.
  absl::Status AddGroup(absl::string_view name, absl::string_view threshold,
                        absl::Span<const absl::string_view> members);

  // Returns true if `name` is kNone or was defined.
  bool IsDefined(absl::string_view name) const;

  // Evaluates `name` given the leaves in `present`; names in `present` that
  // are not leaves here are ignored. An undefined `name` is not satisfied
  // (fail closed), with a shortfall saying so.
  ThresholdResult Evaluate(
      absl::string_view name,
      const absl::flat_hash_set<std::string>& present) const;

  // Returns Evaluate(name, present).satisfied.
  bool Satisfied(absl::string_view name,
                 const absl::flat_hash_set<std::string>& present) const;

  size_t leaf_count() const { return leaf_count_; }
  size_t group_count() const { return nodes_.size() - leaf_count_; }

 private:
  static constexpr size_t kNoGroup = static_cast<size_t>(-1);

  struct Node {
    std::string name;
    bool leaf = true;
    size_t threshold = 0;         // groups only
    std::vector<size_t> members;  // groups only; indices of earlier nodes
    size_t group = kNoGroup;      // the group this node is a member of
  };

  absl::Status CheckNewName(absl::string_view name) const;
  void DescribeShortfall(size_t node, const std::vector<bool>& satisfied,
                         std::vector<std::string>& parts) const;

  // In definition order, so a group's members precede it.
  std::vector<Node> nodes_;
  absl::flat_hash_map<std::string, size_t> index_;
  size_t leaf_count_ = 0;
};

// A `log <vkey> [<url>]` line.
struct PolicyLog {
  // The vkey as written.
  std::string vkey;
  // The vkey's key name, which tlog-policy requires to be the log's origin.
  std::string origin;
  // Empty when the line has none. Opaque: its meaning is the application's.
  std::string url;
  // The 1-based line it was defined on.
  int line = 0;
  // Verifies the log's Ed25519 (type 0x01) checkpoint signatures. Never null;
  // immutable and thread-safe.
  std::shared_ptr<const crypto::NoteVerifier> verifier;
};

// A `witness <name> <vkey> [<url>]` line.
struct PolicyWitness {
  // The name used in groups and the quorum; it means nothing outside the
  // policy. Signature lines carry the vkey's key name, verifier->name().
  std::string name;
  // The vkey as written.
  std::string vkey;
  // Empty when the line has none. tlog-policy recommends the witness's
  // tlog-witness "submission prefix", which a log posts
  // <url>/add-checkpoint to; it is not checked here.
  std::string url;
  // The 1-based line it was defined on.
  int line = 0;
  // Verifies the witness's cosignature/v1 (type 0x04) signatures. Never null;
  // immutable and thread-safe.
  std::shared_ptr<const crypto::NoteVerifier> verifier;
};

// A line of a policy whose keyword is not one of tlog-policy's, as given to
// an ExtraLineHandler. The views point into the parsed text and are valid
// only during the call.
struct PolicyLine {
  // 1-based.
  int number = 0;
  absl::string_view keyword;
  // The fields after the keyword, split on runs of spaces and tabs.
  std::vector<absl::string_view> args;
};

// Parses one line with a keyword other than log, witness, group and quorum.
// Called in file order, interleaved with the standard lines, never for blank
// or comment lines. Returns OK to accept the line, or an error whose message
// names the problem (the parser prefixes the line number).
using ExtraLineHandler = std::function<absl::Status(const PolicyLine& line)>;

class TlogPolicy;

// Parses a C2SP tlog-policy file:
//   - the octets must be 0x09, 0x0A, 0x20-0x7E or 0x80-0xFF;
//   - every line ends in a newline, the last one included, so that a file
//     cut short mid-line (which could drop group members) is never taken for
//     a shorter policy;
//   - fields are separated by spaces and tabs only; blank lines and lines
//     whose first non-blank character is '#' are ignored ('#' later in a line
//     is an ordinary character);
//   - `log <vkey> [<url>]`: a type 0x01 vkey; no two logs with the same
//     public key, whatever their names and key IDs;
//   - `witness <name> <vkey> [<url>]`: a type 0x04 (cosignature/v1) vkey; no
//     two witnesses with the same public key; the name as in ThresholdGroups;
//   - `group <name> all|any|<k> <member>...`: as ThresholdGroups::AddGroup,
//     members being witnesses and groups defined on earlier lines;
//   - `quorum <name>`: exactly one, naming an earlier witness or group, or
//     `none`;
//   - at most kMaxPolicyLogs logs, ThresholdGroups::kMaxLeaves witnesses and
//     ThresholdGroups::kMaxGroups groups.
// Keywords are case-sensitive. Lines with any other keyword go to `extra`;
// without a handler they are errors.
//
// Returns InvalidArgument "line N: <problem>" for the first problem found;
// a file without a quorum line gives "policy has no quorum line", the one
// error that belongs to no line. An error from `extra` is returned with its
// code kept (it may fail for reasons other than the text, such as an
// unreadable key file) and "line N: " prefixed to its message. Thread-safe
// when `extra` is.
absl::StatusOr<TlogPolicy> ParseTlogPolicy(
    absl::string_view text, const ExtraLineHandler& extra = nullptr);

// A parsed tlog-policy; only ParseTlogPolicy makes one, so every instance
// satisfies its rules. Copyable (verifiers are shared); immutable, hence
// thread-safe.
class TlogPolicy {
 public:
  static constexpr size_t kMaxPolicyLogs = 256;

  // In file order.
  const std::vector<PolicyLog>& logs() const { return logs_; }
  const std::vector<PolicyWitness>& witnesses() const { return witnesses_; }
  // The witnesses as leaves, and the groups.
  const ThresholdGroups& groups() const { return groups_; }
  // The quorum's name: a witness, a group or ThresholdGroups::kNone.
  const std::string& quorum() const { return quorum_; }

  // Returns the witness named `name`, or null. The pointer lives as long as
  // this policy.
  const PolicyWitness* FindWitness(absl::string_view name) const;

  // Evaluates the quorum given the names of the witnesses whose cosignatures
  // the caller verified (e.g. a log deciding which of its checkpoints carries
  // enough cosignatures).
  ThresholdResult EvaluateQuorum(
      const absl::flat_hash_set<std::string>& witnesses) const;

 private:
  friend absl::StatusOr<TlogPolicy> ParseTlogPolicy(
      absl::string_view text, const ExtraLineHandler& extra);

  TlogPolicy() = default;

  absl::Status AddLog(int line, absl::Span<const absl::string_view> args);
  absl::Status AddWitness(int line, absl::Span<const absl::string_view> args);
  absl::Status SetQuorum(int line, absl::Span<const absl::string_view> args);

  std::vector<PolicyLog> logs_;
  std::vector<PolicyWitness> witnesses_;
  // Raw public key -> line of its log, and -> index in witnesses_: the
  // spec's duplicate test ignores key names and key IDs.
  absl::flat_hash_map<std::string, int> log_key_lines_;
  absl::flat_hash_map<std::string, size_t> witness_key_indices_;
  ThresholdGroups groups_;
  std::string quorum_;
  int quorum_line_ = 0;
};

// A verified cosignature by a policy witness.
struct WitnessCosignature {
  // The witness's policy name.
  std::string witness;
  // The POSIX time the witness signed at. Not compared with the current time:
  // tlog-cosignature lets verifiers reject future timestamps, and callers
  // that want to can.
  uint64_t timestamp = 0;
  // The signature line, to pass on with the checkpoint.
  crypto::NoteSignature signature;
};

// A checkpoint that VerifyCheckpoint accepted.
struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  // Cosignatures by policy witnesses, in the note's order; all verified.
  std::vector<WitnessCosignature> cosignatures;
  // The note: the log's and the witnesses' signatures in `verified`, all
  // other signatures (unknown keys, ignored) in `unverified`.
  crypto::VerifiedNote note;
};

// Verifies a checkpoint (a signed note) against `policy`, as tlog-policy
// defines a valid checkpoint:
//   1. the note and its checkpoint body must be well-formed;
//   2. it must carry a signature by a policy log whose key name is the
//      checkpoint's origin;
//   3. every signature by a policy log of that origin or a policy witness
//      must verify (signed-note: a bad signature by a known key rejects the
//      whole note); signatures by other keys are ignored;
//   4. the witnesses whose cosignatures verified must satisfy the quorum
//      (`none` needs none).
// Returns InvalidArgument ("checkpoint is malformed: ...") for step 1 and
// for a note with two signatures by one key; Unauthenticated for steps 2-4,
// naming the step: "checkpoint is not signed by a log in the policy (origin
// X)", "checkpoint has a bad signature: ...", "checkpoint cosignatures do not
// meet the quorum: have w1; group g needs 2 of w1 w2 w3". Unauthenticated
// rather than PermissionDenied because, like crypto::OpenNote's errors, each
// says the note's signatures do not establish it, not that a known party was
// refused. Thread-safe.
absl::StatusOr<VerifiedCheckpoint> VerifyCheckpoint(
    const TlogPolicy& policy, absl::string_view signed_note);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_POLICY_H_
