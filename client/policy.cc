#include "client/policy.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "encoding/base64.h"

namespace refsum::client {

namespace {

// The refsum lines of a policy, gathered while tlog/ parses the rest.
struct PolicyLines {
  std::vector<PolicySigner> vendors;
  std::vector<PolicySigner> rebuilders;
  tlog::ThresholdGroups rebuild_groups;
  std::string rebuild_quorum;
  bool has_on_mismatch = false;
  OnMismatch on_mismatch = OnMismatch::kReject;
};

// A key given inline as base64 DER SubjectPublicKeyInfo, or else as the path
// of a PEM file.
absl::StatusOr<crypto::PublicKey> ReadSignerKey(absl::string_view key,
                                                const std::string& base_dir) {
  if (absl::StatusOr<std::string> der = encoding::Base64Decode(key);
      der.ok()) {
    if (absl::StatusOr<crypto::PublicKey> inline_key =
            crypto::PublicKey::FromDer(*der);
        inline_key.ok()) {
      return inline_key;
    }
  }
  return crypto::ReadPublicKeyFile(ResolvePath(base_dir, key));
}

absl::Status CheckArgCount(const tlog::PolicyLine& line, size_t want) {
  if (line.args.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(line.keyword, " takes ", want, " field",
                     want == 1 ? "" : "s", ", got ", line.args.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicySigner> ReadSigner(const tlog::PolicyLine& line,
                                        const std::vector<PolicySigner>& seen,
                                        const std::string& base_dir) {
  RETURN_IF_ERROR(CheckArgCount(line, 2));
  absl::StatusOr<crypto::PublicKey> read_key =
      ReadSignerKey(line.args[1], base_dir);
  if (!read_key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        line.keyword, " ", line.args[0], ": the key is neither a base64 "
        "SubjectPublicKeyInfo nor a readable PEM file (",
        read_key.status().message(), ")"));
  }
  crypto::PublicKey key = *std::move(read_key);
  for (const PolicySigner& other : seen) {
    if (other.name == line.args[0]) {
      return absl::InvalidArgumentError(
          absl::StrCat(line.keyword, " ", other.name, " is already defined"));
    }
    if (other.key.keyid() == key.keyid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the key of ", line.keyword, " ", line.args[0],
          " is already the key of ", other.name));
    }
  }
  return PolicySigner{std::string(line.args[0]), std::move(key)};
}

absl::Status HandleLine(const tlog::PolicyLine& line,
                        const std::string& base_dir, PolicyLines* lines) {
  if (line.keyword == "vendor") {
    ASSIGN_OR_RETURN(PolicySigner vendor,
                     ReadSigner(line, lines->vendors, base_dir));
    lines->vendors.push_back(std::move(vendor));
  } else if (line.keyword == "rebuilder") {
    ASSIGN_OR_RETURN(PolicySigner rebuilder,
                     ReadSigner(line, lines->rebuilders, base_dir));
    RETURN_IF_ERROR(lines->rebuild_groups.AddLeaf(rebuilder.name));
    lines->rebuilders.push_back(std::move(rebuilder));
  } else if (line.keyword == "rebuild-group") {
    if (line.args.size() < 3) {
      return absl::InvalidArgumentError(
          "rebuild-group takes a name, all|any|K and at least one member");
    }
    RETURN_IF_ERROR(lines->rebuild_groups.AddGroup(
        line.args[0], line.args[1],
        absl::MakeConstSpan(line.args).subspan(2)));
  } else if (line.keyword == "rebuild-quorum") {
    RETURN_IF_ERROR(CheckArgCount(line, 1));
    if (!lines->rebuild_quorum.empty()) {
      return absl::InvalidArgumentError("a second rebuild-quorum line");
    }
    if (!lines->rebuild_groups.IsDefined(line.args[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rebuild-quorum ", line.args[0],
          " names no rebuilder or rebuild-group defined above, nor none"));
    }
    lines->rebuild_quorum = std::string(line.args[0]);
  } else if (line.keyword == "on-mismatch") {
    RETURN_IF_ERROR(CheckArgCount(line, 1));
    if (lines->has_on_mismatch) {
      return absl::InvalidArgumentError("a second on-mismatch line");
    }
    if (line.args[0] != "reject" && line.args[0] != "warn") {
      return absl::InvalidArgumentError(
          "on-mismatch takes reject or warn");
    }
    lines->has_on_mismatch = true;
    lines->on_mismatch =
        line.args[0] == "warn" ? OnMismatch::kWarn : OnMismatch::kReject;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown keyword \"", line.keyword,
        "\" (want log, witness, group, quorum, vendor, rebuilder, "
        "rebuild-group, rebuild-quorum or on-mismatch)"));
  }
  return absl::OkStatus();
}

}  // namespace

Policy::Policy(tlog::TlogPolicy checkpoints, std::vector<PolicySigner> vendors,
               std::vector<PolicySigner> rebuilders,
               tlog::ThresholdGroups rebuild_groups,
               std::string rebuild_quorum, OnMismatch on_mismatch)
    : checkpoints_(std::move(checkpoints)),
      vendors_(std::move(vendors)),
      rebuilders_(std::move(rebuilders)),
      rebuild_groups_(std::move(rebuild_groups)),
      rebuild_quorum_(std::move(rebuild_quorum)),
      on_mismatch_(on_mismatch) {}

absl::StatusOr<Policy> Policy::Parse(absl::string_view text,
                                     const std::string& base_dir) {
  PolicyLines lines;
  ASSIGN_OR_RETURN(
      tlog::TlogPolicy checkpoints,
      tlog::ParseTlogPolicy(text, [&](const tlog::PolicyLine& line) {
        return HandleLine(line, base_dir, &lines);
      }));
  if (lines.rebuild_quorum.empty()) {
    return absl::InvalidArgumentError(
        "policy has no rebuild-quorum line (write \"rebuild-quorum none\" to "
        "trust claims without rebuilds)");
  }
  return Policy(std::move(checkpoints), std::move(lines.vendors),
                std::move(lines.rebuilders), std::move(lines.rebuild_groups),
                std::move(lines.rebuild_quorum), lines.on_mismatch);
}

absl::StatusOr<Policy> Policy::ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, refsum::ReadFile(path, 1 << 20));
  absl::StatusOr<Policy> policy = Parse(text, DirectoryOf(path));
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

namespace {

const PolicySigner* FindByKeyid(const std::vector<PolicySigner>& signers,
                                absl::string_view keyid) {
  for (const PolicySigner& signer : signers) {
    if (signer.key.keyid() == keyid) return &signer;
  }
  return nullptr;
}

}  // namespace

const PolicySigner* Policy::FindVendor(absl::string_view keyid) const {
  return FindByKeyid(vendors_, keyid);
}

const PolicySigner* Policy::FindRebuilder(absl::string_view keyid) const {
  return FindByKeyid(rebuilders_, keyid);
}

}  // namespace refsum::client
