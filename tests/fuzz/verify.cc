// Fuzzes client::Verify end to end on outside data, as `refsum-verify
// --bundle` runs it: a bundle (its checkpoint, cosignatures, proofs, leaves,
// envelopes, signatures, claims and attestations) against a policy, for a
// query. Input: a query line ("alg:hex" for a reference value, or
// "artifact sha256:hex"), the policy text, a line "---", the bundle JSON.
// Key files resolve in KeyDir(); inputs whose policy could name other files
// are skipped. The pinned-checkpoint state lives in a directory emptied
// after every input. A verified claim holds the queried value or artifact,
// its rebuild quorum is met by the rebuilders it names, and its index is in
// the checkpoint's tree.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "client/policy.h"
#include "client/state.h"
#include "client/verify.h"
#include "statement/claim.h"
#include "statement/value_spec.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/key_dir.h"
#include "tlog/bundle.h"

namespace {

// The pinned-checkpoint directory, made once.
const std::string& StateDir() {
  static const std::string* dir = [] {
    auto* made =
        new std::string(refsum::fuzz::NewScratchDir("refsum-fuzz-state"));
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(StateDir(), ignored);
    });
    return made;
  }();
  return *dir;
}

void EmptyStateDir() {
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(StateDir(), error)) {
    std::filesystem::remove_all(entry.path(), error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::client;  // NOLINT: a fuzz target's one function
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t query_end = input.find('\n');
  if (query_end == absl::string_view::npos) return 0;
  absl::string_view query_text = input.substr(0, query_end);
  const absl::string_view rest = input.substr(query_end + 1);
  const size_t separator = rest.find("\n---\n");
  if (separator == absl::string_view::npos) return 0;
  const absl::string_view policy_text = rest.substr(0, separator + 1);
  const absl::string_view bundle_json = rest.substr(separator + 5);
  if (!refsum::fuzz::NamesOnlyKeyDirFiles(policy_text)) return 0;

  const bool artifact = absl::ConsumePrefix(&query_text, "artifact ");
  absl::StatusOr<Query> query =
      artifact ? ParseArtifactQuery(query_text) : ParseValueQuery(query_text);
  if (!query.ok()) return 0;
  absl::StatusOr<Policy> policy =
      Policy::Parse(policy_text, refsum::fuzz::KeyDir());
  if (!policy.ok()) return 0;
  absl::StatusOr<refsum::tlog::Bundle> bundle =
      refsum::tlog::DecodeBundle(bundle_json);
  if (!bundle.ok()) return 0;

  const CheckpointStore store(StateDir());
  absl::StatusOr<VerifiedClaim> verified =
      Verify(*policy, store, *bundle, *query, /*prover=*/nullptr);
  EmptyStateDir();
  if (!verified.ok()) return 0;

  FUZZ_CHECK_OK(refsum::statement::ValidateClaim(verified->claim));
  FUZZ_CHECK(verified->index < verified->checkpoint.size);
  bool found = false;
  if (query->kind == Query::Kind::kArtifact) {
    for (const refsum::statement::Subject& subject : verified->claim.subjects) {
      for (const auto& [algorithm, hex] : subject.digest) {
        found |= algorithm == "sha256" && hex == query->artifact_sha256;
      }
    }
  } else {
    // The value matched is the one asked for, register and all, and the
    // claim holds it.
    FUZZ_CHECK(verified->matched_value.has_value());
    FUZZ_CHECK(refsum::statement::SelectorMatches(query->value,
                                                  *verified->matched_value));
    for (const refsum::statement::ReferenceValue& value :
         verified->claim.reference_values) {
      found |= value == *verified->matched_value;
    }
  }
  FUZZ_CHECK(found);
  if (!policy->vendors().empty()) {
    bool listed = false;
    for (const PolicySigner& vendor : policy->vendors()) {
      listed |= vendor.name == verified->vendor;
    }
    FUZZ_CHECK(listed);
  }
  const absl::flat_hash_set<std::string> matched(
      verified->matched_rebuilders.begin(), verified->matched_rebuilders.end());
  FUZZ_CHECK(policy->rebuild_groups()
                 .Evaluate(policy->rebuild_quorum(), matched)
                 .satisfied);
  return 0;
}
