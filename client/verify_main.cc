// refsum-verify: checks a reference value, an artifact digest or a claim
// against a policy, online (fetching the bundle from a log) or offline (from
// a bundle file), and remembers each log's newest verified checkpoint.
//
//   refsum-verify --policy FILE --state_dir DIR (--log HOST:PORT | --bundle FILE)
//       (--value platform/kind[/index]=ALG:HEX | --artifact sha256:HEX |
//        --claim INDEX)
//       [--save_bundle FILE] [--json]
//
// Exit codes: 0 trusted, 1 not trusted (the first failed check is named),
// 2 usage error or a policy file that does not load.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/command_line.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/log_client.h"
#include "client/policy.h"
#include "client/state.h"
#include "client/verify.h"
#include "encoding/json.h"
#include "statement/digest.h"
#include "statement/value_spec.h"
#include "tlog/bundle.h"

ABSL_FLAG(std::string, policy, "", "The trust policy file.");
ABSL_FLAG(std::string, state_dir, "",
          "Where the newest verified checkpoint of each log is kept.");
ABSL_FLAG(std::string, log, "", "Verify online: the log's gRPC HOST:PORT.");
ABSL_FLAG(std::string, tls_ca, "",
          "Verify online over TLS: the log's certificate must chain to the "
          "CA certificates in this PEM file.");
ABSL_FLAG(std::string, bundle, "", "Verify offline: a bundle JSON file.");
ABSL_FLAG(std::string, value, "",
          "The reference value and the register it is for, "
          "platform/kind[/index]=ALG:HEX, e.g. tpm/pcr/4=sha256:HEX.");
ABSL_FLAG(std::string, artifact, "", "The artifact digest, sha256:HEX.");
ABSL_FLAG(std::string, claim, "", "The claim's log index.");
ABSL_FLAG(std::string, save_bundle, "",
          "Online: also write the verified bundle here for offline use.");
ABSL_FLAG(bool, json, false, "Print the result as JSON.");

namespace refsum::client {
namespace {

constexpr char kUsage[] =
    "refsum-verify --policy FILE --state_dir DIR (--log HOST:PORT | --bundle "
    "FILE) (--value platform/kind[/index]=ALG:HEX | --artifact sha256:HEX | "
    "--claim INDEX) "
    "[--save_bundle FILE] [--json]";

absl::StatusOr<Query> QueryFromFlags() {
  const std::string value = absl::GetFlag(FLAGS_value);
  const std::string artifact = absl::GetFlag(FLAGS_artifact);
  const std::string claim = absl::GetFlag(FLAGS_claim);
  if (value.empty() + artifact.empty() + claim.empty() != 2) {
    return absl::InvalidArgumentError(
        "give exactly one of --value, --artifact and --claim");
  }
  if (!value.empty()) return ParseValueQuery(value);
  if (!artifact.empty()) return ParseArtifactQuery(artifact);
  Query query;
  query.kind = Query::Kind::kClaimIndex;
  if (!absl::SimpleAtoi(claim, &query.claim_index)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--claim \"", claim, "\" is not a log index"));
  }
  return query;
}

absl::Status CheckFlags() {
  if (absl::GetFlag(FLAGS_policy).empty() ||
      absl::GetFlag(FLAGS_state_dir).empty()) {
    return absl::InvalidArgumentError("--policy and --state_dir are required");
  }
  if (absl::GetFlag(FLAGS_log).empty() == absl::GetFlag(FLAGS_bundle).empty()) {
    return absl::InvalidArgumentError(
        "give exactly one of --log (online) and --bundle (offline)");
  }
  if (!absl::GetFlag(FLAGS_save_bundle).empty() &&
      absl::GetFlag(FLAGS_log).empty()) {
    return absl::InvalidArgumentError("--save_bundle needs --log");
  }
  return absl::OkStatus();
}

absl::StatusOr<FetchedBundle> FetchBundle(LogClient& log, const Query& query) {
  switch (query.kind) {
    case Query::Kind::kClaimIndex:
      return log.GetBundleForClaim(query.claim_index);
    case Query::Kind::kArtifact:
      return log.GetBundleForArtifact(query.artifact_sha256);
    case Query::Kind::kReferenceValue:
      // The log looks values up by digest; Verify binds the register.
      return log.GetBundleForValue(query.value.digest);
  }
  return absl::InternalError("unknown query kind");
}

std::string SubjectLine(const statement::Subject& subject) {
  auto sha256 = subject.digest.find("sha256");
  return absl::StrCat(subject.name, " sha256:",
                      sha256 == subject.digest.end() ? "" : sha256->second);
}

// "tpm/pcr/4=sha256:HEX", then the value's parameters, if any:
// " (vcpus=4, vmm=qemu)".
std::string ValueLine(const statement::ReferenceValue& value) {
  std::string line =
      statement::FormatValueSelector(statement::SelectorOf(value));
  if (!value.parameters.empty()) {
    absl::StrAppend(&line, " (",
                    absl::StrJoin(value.parameters, ", ",
                                  absl::PairFormatter("=")),
                    ")");
  }
  return line;
}

void PrintText(const VerifiedClaim& verified) {
  const statement::Claim& claim = verified.claim;
  std::printf("TRUSTED\n");
  std::printf("  source      %s @ %s%s\n", claim.source.repository.c_str(),
              claim.source.commit.c_str(),
              claim.source.tag.has_value()
                  ? absl::StrCat(" (tag ", *claim.source.tag, ")").c_str()
                  : "");
  if (verified.matched_value.has_value()) {
    std::printf("  value       %s\n",
                ValueLine(*verified.matched_value).c_str());
  }
  for (const statement::Subject& subject : claim.subjects) {
    std::printf("  subject     %s\n", SubjectLine(subject).c_str());
  }
  std::printf("  vendor      %s\n", verified.vendor.c_str());
  std::printf("  rebuilders  %s\n",
              verified.matched_rebuilders.empty()
                  ? "none required by the policy"
                  : absl::StrCat(absl::StrJoin(verified.matched_rebuilders,
                                               ", "),
                                 " (MATCH)")
                        .c_str());
  std::printf("  log         %s, claim %llu, checkpoint size %llu%s\n",
              verified.checkpoint.origin.c_str(),
              static_cast<unsigned long long>(verified.index),
              static_cast<unsigned long long>(verified.checkpoint.size),
              verified.witnesses.empty()
                  ? ""
                  : absl::StrCat(", cosigned by ",
                                 absl::StrJoin(verified.witnesses, ", "))
                        .c_str());
  for (const std::string& warning : verified.warnings) {
    std::printf("  WARNING     %s\n", warning.c_str());
  }
}

encoding::JsonValue StringArray(const std::vector<std::string>& strings) {
  encoding::JsonValue::Array array;
  for (const std::string& s : strings) {
    array.push_back(encoding::JsonValue::String(s));
  }
  return encoding::JsonValue::MakeArray(std::move(array));
}

std::string ResultJson(const VerifiedClaim& verified) {
  using encoding::JsonValue;
  const statement::Claim& claim = verified.claim;
  JsonValue::Array subjects;
  for (const statement::Subject& subject : claim.subjects) {
    auto sha256 = subject.digest.find("sha256");
    subjects.push_back(JsonValue::MakeObject({
        {"name", JsonValue::String(subject.name)},
        {"sha256", JsonValue::String(sha256 == subject.digest.end()
                                         ? ""
                                         : sha256->second)},
    }));
  }
  JsonValue::Object result = {
      {"trusted", JsonValue::Bool(true)},
      {"origin", JsonValue::String(verified.checkpoint.origin)},
      {"treeSize",
       JsonValue::Integer(static_cast<int64_t>(verified.checkpoint.size))},
      {"claimIndex", JsonValue::Integer(static_cast<int64_t>(verified.index))},
      {"repository", JsonValue::String(claim.source.repository)},
      {"commit", JsonValue::String(claim.source.commit)},
      {"tag", JsonValue::String(claim.source.tag.value_or(""))},
      {"subjects", JsonValue::MakeArray(std::move(subjects))},
      {"vendor", JsonValue::String(verified.vendor)},
      {"rebuilders", StringArray(verified.matched_rebuilders)},
      {"witnesses", StringArray(verified.witnesses)},
      {"warnings", StringArray(verified.warnings)},
  };
  if (verified.matched_value.has_value()) {
    // The value as the claim holds it (statement/digest.h's JSON form):
    // platform, kind, index, digest and parameters.
    result.emplace_back(
        "value", statement::ReferenceValuesToJson({*verified.matched_value})
                     .AsArray()
                     ->front());
  }
  return encoding::SerializeJson(JsonValue::MakeObject(std::move(result)));
}

std::string FailureJson(const absl::Status& status) {
  using encoding::JsonValue;
  return encoding::SerializeJson(JsonValue::MakeObject({
      {"trusted", JsonValue::Bool(false)},
      {"error", JsonValue::String(std::string(status.message()))},
  }));
}

absl::StatusOr<VerifiedClaim> Run(const Policy& policy, const Query& query) {
  const CheckpointStore store(absl::GetFlag(FLAGS_state_dir));
  if (!absl::GetFlag(FLAGS_bundle).empty()) {
    ASSIGN_OR_RETURN(std::string json,
                     ReadFile(absl::GetFlag(FLAGS_bundle), 64 << 20));
    ASSIGN_OR_RETURN(tlog::Bundle bundle, tlog::DecodeBundle(json));
    return Verify(policy, store, bundle, query, nullptr);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<LogClient> log,
                   ConnectWithCaFile(absl::GetFlag(FLAGS_log),
                                     absl::GetFlag(FLAGS_tls_ca)));
  absl::StatusOr<FetchedBundle> fetched_or = FetchBundle(*log, query);
  if (absl::IsNotFound(fetched_or.status())) {
    // The log holds no claim for the query: the "value" check fails, as it
    // does offline when the bundle holds none.
    return absl::FailedPreconditionError(
        absl::StrCat("value: the log ", absl::GetFlag(FLAGS_log),
                     " holds no claim with ", DescribeQuery(query)));
  }
  ASSIGN_OR_RETURN(FetchedBundle fetched, std::move(fetched_or));
  if (fetched.truncated) {
    // Fails closed: a left-out attestation may be a MISMATCH.
    return absl::FailedPreconditionError(absl::StrCat(
        "rebuilds: the log ", absl::GetFlag(FLAGS_log),
        " left claims or attestations out of the bundle (more than its page "
        "size match), so a MISMATCH cannot be ruled out"));
  }
  LogClient* raw = log.get();
  ASSIGN_OR_RETURN(
      VerifiedClaim verified,
      Verify(policy, store, fetched.bundle, query,
             [raw](uint64_t old_size, uint64_t new_size) {
               return raw->GetConsistencyProof(old_size, new_size);
             }));
  if (!absl::GetFlag(FLAGS_save_bundle).empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(absl::GetFlag(FLAGS_save_bundle),
                                        fetched.json, 0644));
  }
  return verified;
}

}  // namespace
}  // namespace refsum::client

int main(int argc, char** argv) {
  using refsum::client::kUsage;
  absl::SetProgramUsageMessage(kUsage);
  absl::StatusOr<std::vector<std::string>> args =
      refsum::ParseCommandLine(argc, argv);
  absl::Status usage = args.ok() ? refsum::client::CheckFlags() : args.status();
  if (usage.ok() && args->size() != 1) {
    usage = absl::InvalidArgumentError("unexpected arguments");
  }
  absl::StatusOr<refsum::client::Query> query =
      usage.ok() ? refsum::client::QueryFromFlags() : usage;
  if (!query.ok()) {
    std::fprintf(stderr, "refsum-verify: %s\nusage: %s\n",
                 std::string(query.status().message()).c_str(), kUsage);
    return 2;
  }
  // A policy that does not load is a configuration error, not a verdict.
  absl::StatusOr<refsum::client::Policy> policy =
      refsum::client::Policy::ReadFile(absl::GetFlag(FLAGS_policy));
  if (!policy.ok()) {
    std::fprintf(stderr, "refsum-verify: policy: %s\n",
                 std::string(policy.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<refsum::client::VerifiedClaim> verified =
      refsum::client::Run(*policy, *query);
  const bool json = absl::GetFlag(FLAGS_json);
  if (!verified.ok()) {
    if (json) {
      std::printf("%s\n", refsum::client::FailureJson(verified.status()).c_str());
    }
    std::fprintf(stderr, "REJECTED: %s\n",
                 std::string(verified.status().message()).c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", refsum::client::ResultJson(*verified).c_str());
  } else {
    refsum::client::PrintText(*verified);
  }
  return 0;
}
