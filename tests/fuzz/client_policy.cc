// Fuzzes client::Policy::Parse, the verifier's policy file: tlog-policy
// lines plus vendor, rebuilder, rebuild-group, rebuild-quorum and
// on-mismatch. Key files resolve in KeyDir() (vendor.pub, rebuilder.pub);
// inputs that could name other files are skipped. Every parsed signer is
// found again by its key ID, and the rebuild quorum is met when every
// rebuilder attests.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "client/policy.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/key_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::client::Policy;
  using refsum::client::PolicySigner;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (!refsum::fuzz::NamesOnlyKeyDirFiles(input)) return 0;

  absl::StatusOr<Policy> policy = Policy::Parse(input, refsum::fuzz::KeyDir());
  if (!policy.ok()) return 0;
  FUZZ_CHECK(!policy->rebuild_quorum().empty());
  FUZZ_CHECK(!policy->checkpoints().quorum().empty());
  for (const PolicySigner& vendor : policy->vendors()) {
    const PolicySigner* found = policy->FindVendor(vendor.key.keyid());
    FUZZ_CHECK(found != nullptr && found->key.der() == vendor.key.der());
  }
  absl::flat_hash_set<std::string> all;
  for (const PolicySigner& rebuilder : policy->rebuilders()) {
    const PolicySigner* found = policy->FindRebuilder(rebuilder.key.keyid());
    FUZZ_CHECK(found != nullptr && found->key.der() == rebuilder.key.der());
    all.insert(rebuilder.name);
  }
  FUZZ_CHECK(policy->rebuild_groups()
                 .Evaluate(policy->rebuild_quorum(), all)
                 .satisfied);
  return 0;
}
