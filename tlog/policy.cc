#include "tlog/policy.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "crypto/cosignature.h"
#include "encoding/decimal.h"

namespace refsum::tlog {
namespace {

constexpr absl::string_view kAll = "all";
constexpr absl::string_view kAny = "any";

// Parses a group threshold for a group of `n` members. Leading zeros are
// stripped before the canonical parse because tlog-policy asks only for
// "decimal", and a Go implementation (strconv.Atoi) accepts them.
absl::StatusOr<size_t> ParseThreshold(absl::string_view group,
                                      absl::string_view text, size_t n) {
  if (text == kAll) return n;
  if (text == kAny) return 1;
  const bool digits =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      });
  if (!digits) {
    return absl::InvalidArgumentError(
        absl::StrCat("group \"", group, "\" threshold \"", text,
                     "\" is not all, any or a decimal number"));
  }
  absl::string_view stripped = text;
  while (stripped.size() > 1 && stripped.front() == '0') {
    stripped.remove_prefix(1);
  }
  absl::StatusOr<uint64_t> k = encoding::ParseCanonicalDecimal(stripped, "threshold");
  if (!k.ok() || *k < 1 || *k > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("group \"", group, "\" threshold ", text,
                     " is not between 1 and its number of members, ", n));
  }
  return static_cast<size_t>(*k);
}

// A hint appended to field-count errors: tlog-policy has no trailing
// comments, and a '#' after the fields is the likeliest cause of extra ones.
std::string CommentHint(absl::Span<const absl::string_view> args) {
  for (absl::string_view arg : args) {
    if (absl::StartsWith(arg, "#")) {
      return " (comments must be on lines of their own)";
    }
  }
  return "";
}

absl::Status CheckOctets(absl::string_view line) {
  for (const char c : line) {
    const auto octet = static_cast<unsigned char>(c);
    if ((octet < 0x20 && octet != '\t') || octet == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "octet 0x", absl::Hex(octet, absl::kZeroPad2),
          " is not allowed (only tab, newline, 0x20-0x7E and 0x80-0xFF)"));
    }
  }
  return absl::OkStatus();
}

// Wraps the result of a verifier constructor, `what` naming the line's kind
// in messages.
template <typename T>
absl::StatusOr<std::shared_ptr<const crypto::NoteVerifier>> MakeVerifier(
    absl::StatusOr<T> verifier, absl::string_view what) {
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " key: ", verifier.status().message()));
  }
  return std::shared_ptr<const crypto::NoteVerifier>(*std::move(verifier));
}

std::string JoinOrNone(const std::vector<std::string>& names) {
  return names.empty() ? "none" : absl::StrJoin(names, " ");
}

}  // namespace

absl::Status ThresholdGroups::CheckNewName(absl::string_view name) const {
  if (name.empty()) return absl::InvalidArgumentError("empty name");
  if (name == kNone) {
    return absl::InvalidArgumentError(
        "the name \"none\" is predefined and cannot be defined again");
  }
  if (index_.contains(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the name \"", name, "\" is already defined"));
  }
  return absl::OkStatus();
}

absl::Status ThresholdGroups::AddLeaf(absl::string_view name) {
  RETURN_IF_ERROR(CheckNewName(name));
  if (leaf_count_ == kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxLeaves, " leaves"));
  }
  Node leaf;
  leaf.name = std::string(name);
  index_.emplace(name, nodes_.size());
  nodes_.push_back(std::move(leaf));
  ++leaf_count_;
  return absl::OkStatus();
}

absl::Status ThresholdGroups::AddGroup(
    absl::string_view name, absl::string_view threshold,
    absl::Span<const absl::string_view> members) {
  RETURN_IF_ERROR(CheckNewName(name));
  if (group_count() == kMaxGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxGroups, " groups"));
  }
  if (members.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("group \"", name, "\" has no members"));
  }
  Node group;
  group.name = std::string(name);
  group.leaf = false;
  ASSIGN_OR_RETURN(group.threshold,
                   ParseThreshold(name, threshold, members.size()));
  for (absl::string_view member : members) {
    if (member == kNone) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group \"", name, "\": \"none\" cannot be a group member"));
    }
    const auto it = index_.find(member);
    if (it == index_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("group \"", name, "\": member \"", member,
                       "\" is not defined on an earlier line"));
    }
    const size_t index = it->second;
    if (std::find(group.members.begin(), group.members.end(), index) !=
        group.members.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("group \"", name, "\" lists \"", member, "\" twice"));
    }
    if (nodes_[index].group != kNoGroup) {
      return absl::InvalidArgumentError(
          absl::StrCat("group \"", name, "\": \"", member,
                       "\" is already a member of group \"",
                       nodes_[nodes_[index].group].name,
                       "\" (a name may be a group member only once)"));
    }
    group.members.push_back(index);
  }
  // Only now, with every check passed, is anything changed.
  const size_t self = nodes_.size();
  for (const size_t member : group.members) nodes_[member].group = self;
  index_.emplace(name, self);
  nodes_.push_back(std::move(group));
  return absl::OkStatus();
}

bool ThresholdGroups::IsDefined(absl::string_view name) const {
  return name == kNone || index_.contains(name);
}

void ThresholdGroups::DescribeShortfall(size_t node,
                                        const std::vector<bool>& satisfied,
                                        std::vector<std::string>& parts) const {
  const Node& group = nodes_[node];
  std::vector<absl::string_view> names;
  for (const size_t member : group.members) {
    names.push_back(nodes_[member].name);
  }
  parts.push_back(absl::StrCat("group ", group.name, " needs ", group.threshold,
                               " of ", absl::StrJoin(names, " ")));
  for (const size_t member : group.members) {
    if (!nodes_[member].leaf && !satisfied[member]) {
      DescribeShortfall(member, satisfied, parts);
    }
  }
}

ThresholdResult ThresholdGroups::Evaluate(
    absl::string_view name,
    const absl::flat_hash_set<std::string>& present) const {
  ThresholdResult result;
  if (name == kNone) {
    result.satisfied = true;
    return result;
  }
  const auto it = index_.find(name);
  if (it == index_.end()) {
    result.shortfall = absl::StrCat("\"", name, "\" is not defined");
    return result;
  }
  const size_t root = it->second;
  // Members precede their group, so one pass in definition order settles
  // every node up to the root.
  std::vector<bool> satisfied(root + 1);
  for (size_t i = 0; i <= root; ++i) {
    const Node& node = nodes_[i];
    if (node.leaf) {
      satisfied[i] = present.contains(node.name);
      continue;
    }
    size_t count = 0;
    for (const size_t member : node.members) count += satisfied[member];
    satisfied[i] = count >= node.threshold;
  }
  result.satisfied = satisfied[root];
  if (!result.satisfied) {
    if (nodes_[root].leaf) {
      result.shortfall = absl::StrCat("needs ", name);
    } else {
      std::vector<std::string> parts;
      DescribeShortfall(root, satisfied, parts);
      result.shortfall = absl::StrJoin(parts, "; ");
    }
    return result;
  }
  std::vector<size_t> counted;
  std::vector<size_t> stack = {root};
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    if (nodes_[i].leaf) {
      counted.push_back(i);
      continue;
    }
    for (const size_t member : nodes_[i].members) {
      if (satisfied[member]) stack.push_back(member);
    }
  }
  std::sort(counted.begin(), counted.end());
  for (const size_t i : counted) result.counted.push_back(nodes_[i].name);
  return result;
}

bool ThresholdGroups::Satisfied(
    absl::string_view name,
    const absl::flat_hash_set<std::string>& present) const {
  return Evaluate(name, present).satisfied;
}

absl::Status TlogPolicy::AddLog(int line,
                                absl::Span<const absl::string_view> args) {
  if (args.empty() || args.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("log line has ", args.size() + 1,
                     " fields, want: log <vkey> [<url>]", CommentHint(args)));
  }
  if (logs_.size() == kMaxPolicyLogs) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxPolicyLogs, " logs"));
  }
  ASSIGN_OR_RETURN(
      std::shared_ptr<const crypto::NoteVerifier> verifier,
      MakeVerifier(crypto::NewNoteVerifierFromKey(args[0]), "log"));
  // The verifier's constructor parsed and checked the same string.
  const crypto::VerifierKey key = *crypto::ParseVerifierKey(args[0]);
  const auto [duplicate, added] = log_key_lines_.emplace(key.public_key, line);
  if (!added) {
    return absl::InvalidArgumentError(
        absl::StrCat("log key has the same public key as the log on line ",
                     duplicate->second));
  }
  logs_.push_back(PolicyLog{std::string(args[0]), key.name,
                            args.size() == 2 ? std::string(args[1]) : "", line,
                            std::move(verifier)});
  return absl::OkStatus();
}

absl::Status TlogPolicy::AddWitness(int line,
                                    absl::Span<const absl::string_view> args) {
  if (args.size() < 2 || args.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "witness line has ", args.size() + 1,
        " fields, want: witness <name> <vkey> [<url>]", CommentHint(args)));
  }
  if (witnesses_.size() == ThresholdGroups::kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", ThresholdGroups::kMaxLeaves, " witnesses"));
  }
  ASSIGN_OR_RETURN(
      std::shared_ptr<const crypto::NoteVerifier> verifier,
      MakeVerifier(crypto::NewCosignatureV1VerifierFromKey(args[1]),
                   "witness"));
  // The verifier's constructor parsed and checked the same string.
  const crypto::VerifierKey key = *crypto::ParseVerifierKey(args[1]);
  const auto duplicate = witness_key_indices_.find(key.public_key);
  if (duplicate != witness_key_indices_.end()) {
    const PolicyWitness& witness = witnesses_[duplicate->second];
    return absl::InvalidArgumentError(
        absl::StrCat("witness key has the same public key as witness \"",
                     witness.name, "\" on line ", witness.line));
  }
  RETURN_IF_ERROR(groups_.AddLeaf(args[0]));
  witness_key_indices_.emplace(key.public_key, witnesses_.size());
  witnesses_.push_back(PolicyWitness{
      std::string(args[0]), std::string(args[1]),
      args.size() == 3 ? std::string(args[2]) : "", line, std::move(verifier)});
  return absl::OkStatus();
}

absl::Status TlogPolicy::SetQuorum(int line,
                                   absl::Span<const absl::string_view> args) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("quorum line has ", args.size() + 1,
                     " fields, want: quorum <name>", CommentHint(args)));
  }
  if (quorum_line_ != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "second quorum line (the first is line ", quorum_line_, ")"));
  }
  if (!groups_.IsDefined(args[0])) {
    return absl::InvalidArgumentError(
        absl::StrCat("quorum \"", args[0],
                     "\" is not none or a witness or group defined on an "
                     "earlier line"));
  }
  quorum_ = std::string(args[0]);
  quorum_line_ = line;
  return absl::OkStatus();
}

const PolicyWitness* TlogPolicy::FindWitness(absl::string_view name) const {
  for (const PolicyWitness& witness : witnesses_) {
    if (witness.name == name) return &witness;
  }
  return nullptr;
}

ThresholdResult TlogPolicy::EvaluateQuorum(
    const absl::flat_hash_set<std::string>& witnesses) const {
  return groups_.Evaluate(quorum_, witnesses);
}

absl::StatusOr<TlogPolicy> ParseTlogPolicy(absl::string_view text,
                                           const ExtraLineHandler& extra) {
  TlogPolicy policy;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const size_t newline = text.find('\n');
    const absl::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == absl::string_view::npos ? text.size()
                                                          : newline + 1);
    absl::Status status = CheckOctets(line);
    if (status.ok() && newline == absl::string_view::npos) {
      status = absl::InvalidArgumentError(
          "the last line does not end in a newline (is the file truncated?)");
    }
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (status.ok() && !fields.empty() && !absl::StartsWith(fields[0], "#")) {
      const absl::string_view keyword = fields[0];
      const absl::Span<const absl::string_view> args =
          absl::MakeConstSpan(fields).subspan(1);
      if (keyword == "log") {
        status = policy.AddLog(number, args);
      } else if (keyword == "witness") {
        status = policy.AddWitness(number, args);
      } else if (keyword == "group") {
        status =
            args.size() < 3
                ? absl::InvalidArgumentError(
                      absl::StrCat("group line has ", args.size() + 1,
                                   " fields, want: group <name> all|any|<k> "
                                   "<member>..."))
                : policy.groups_.AddGroup(args[0], args[1], args.subspan(2));
      } else if (keyword == "quorum") {
        status = policy.SetQuorum(number, args);
      } else if (extra) {
        status = extra(PolicyLine{number, keyword, {args.begin(), args.end()}});
      } else {
        status = absl::InvalidArgumentError(
            absl::StrCat("unknown keyword \"", keyword, "\""));
      }
    }
    if (!status.ok()) {
      return absl::Status(
          status.code(), absl::StrCat("line ", number, ": ", status.message()));
    }
  }
  if (policy.quorum_line_ == 0) {
    return absl::InvalidArgumentError("policy has no quorum line");
  }
  return policy;
}

absl::StatusOr<VerifiedCheckpoint> VerifyCheckpoint(
    const TlogPolicy& policy, absl::string_view signed_note) {
  const auto malformed = [](const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint is malformed: ", status.message()));
  };
  absl::StatusOr<crypto::Note> note = crypto::ParseNote(signed_note);
  if (!note.ok()) return malformed(note.status());
  absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointBody(note->text);
  if (!checkpoint.ok()) return malformed(checkpoint.status());

  // The verifiers: the policy's logs for this origin, then its witnesses.
  // A log key named otherwise cannot sign this checkpoint (tlog-policy: the
  // key name is the origin), so it is not a known key here.
  std::vector<const crypto::NoteVerifier*> verifiers;
  for (const PolicyLog& log : policy.logs()) {
    if (log.origin == checkpoint->origin)
      verifiers.push_back(log.verifier.get());
  }
  const size_t log_count = verifiers.size();
  for (const PolicyWitness& witness : policy.witnesses()) {
    verifiers.push_back(witness.verifier.get());
  }
  // Returns the index in `verifiers` of the key that made `signature`, or
  // verifiers.size(). The first match wins, as in crypto::OpenNote.
  const auto find_key = [&verifiers](const crypto::NoteSignature& signature) {
    size_t i = 0;
    while (i < verifiers.size() &&
           (verifiers[i]->name() != signature.name ||
            verifiers[i]->key_id() != signature.key_id)) {
      ++i;
    }
    return i;
  };

  // OpenNote would also fail a note without any known signature, but could
  // not say that the log's is the one missing.
  if (std::none_of(note->signatures.begin(), note->signatures.end(),
                   [&](const crypto::NoteSignature& signature) {
                     return find_key(signature) < log_count;
                   })) {
    return absl::UnauthenticatedError(
        absl::StrCat("checkpoint is not signed by a log in the policy (origin ",
                     checkpoint->origin, ")"));
  }
  absl::StatusOr<crypto::VerifiedNote> opened =
      crypto::OpenNote(signed_note, verifiers);
  if (!opened.ok()) {
    if (opened.status().code() == absl::StatusCode::kUnauthenticated) {
      return absl::UnauthenticatedError(absl::StrCat(
          "checkpoint has a bad signature: ", opened.status().message()));
    }
    return malformed(opened.status());
  }

  VerifiedCheckpoint result;
  absl::flat_hash_set<std::string> cosigned;
  for (const crypto::NoteSignature& signature : opened->verified) {
    const size_t key = find_key(signature);
    if (key < log_count) continue;
    const PolicyWitness& witness = policy.witnesses()[key - log_count];
    // The verifier already checked the signature's size and timestamp.
    const uint64_t timestamp =
        *crypto::CosignatureV1Timestamp(signature.signature);
    result.cosignatures.push_back(
        WitnessCosignature{witness.name, timestamp, signature});
    cosigned.insert(witness.name);
  }
  const ThresholdResult quorum = policy.EvaluateQuorum(cosigned);
  if (!quorum.satisfied) {
    std::vector<std::string> have;
    for (const WitnessCosignature& cosignature : result.cosignatures) {
      have.push_back(cosignature.witness);
    }
    return absl::UnauthenticatedError(
        absl::StrCat("checkpoint cosignatures do not meet the quorum: have ",
                     JoinOrNone(have), "; ", quorum.shortfall));
  }
  result.checkpoint = *std::move(checkpoint);
  result.note = *std::move(opened);
  return result;
}

}  // namespace refsum::tlog
