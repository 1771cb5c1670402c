// Fuzzes tlog::ParseTlogPolicy (C2SP tlog-policy), which the log reads from
// --witnesses and verifiers read inside their policy. A parsed policy's
// witnesses can be found by name, and its quorum is met when every witness
// has cosigned (groups need 1 <= k <= n of their members, so all suffice).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<refsum::tlog::TlogPolicy> policy =
      refsum::tlog::ParseTlogPolicy(input);
  if (!policy.ok()) {
    FUZZ_CHECK(policy.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!policy->quorum().empty());
  FUZZ_CHECK(policy->logs().size() <= refsum::tlog::TlogPolicy::kMaxPolicyLogs);
  absl::flat_hash_set<std::string> all;
  for (const refsum::tlog::PolicyWitness& witness : policy->witnesses()) {
    FUZZ_CHECK(policy->FindWitness(witness.name) == &witness);
    all.insert(witness.name);
  }
  refsum::tlog::ThresholdResult everyone = policy->EvaluateQuorum(all);
  FUZZ_CHECK(everyone.satisfied);
  FUZZ_CHECK(everyone.counted.size() <= all.size());
  refsum::tlog::ThresholdResult no_one = policy->EvaluateQuorum({});
  FUZZ_CHECK(no_one.satisfied ==
             (policy->quorum() == refsum::tlog::ThresholdGroups::kNone));
  FUZZ_CHECK(no_one.satisfied || !no_one.shortfall.empty());
  return 0;
}
