// Fuzzes log::ReadKeysFile, refsum-log's --keys signer list ("vendor NAME
// PEMFILE" / "rebuilder NAME PEMFILE"). The input is written as a file in
// KeyDir() beside vendor.pub and rebuilder.pub; inputs that could name
// other files are skipped. Every key read has a distinct key ID and name, a
// known role, and PEM that parses back to that key ID.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"
#include "log/admission.h"
#include "log/storage.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/key_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (!refsum::fuzz::NamesOnlyKeyDirFiles(input)) return 0;
  const std::string path = refsum::fuzz::KeyDir() + "/keys.txt";
  {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(input.data(), input.size());
    if (!file.good()) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::abort();
    }
  }
  absl::StatusOr<std::vector<refsum::log::KnownKey>> keys =
      refsum::log::ReadKeysFile(path);
  if (!keys.ok()) {
    FUZZ_CHECK(keys.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  absl::flat_hash_set<std::string> keyids;
  absl::flat_hash_set<std::string> names;
  for (const refsum::log::KnownKey& key : *keys) {
    FUZZ_CHECK(keyids.insert(key.keyid).second);
    FUZZ_CHECK(names.insert(key.name).second);
    FUZZ_CHECK(key.role == refsum::log::kRoleVendor ||
               key.role == refsum::log::kRoleRebuilder);
    absl::StatusOr<refsum::crypto::PublicKey> parsed =
        refsum::crypto::PublicKey::FromPem(key.public_key_pem);
    FUZZ_CHECK_OK(parsed);
    FUZZ_CHECK(parsed->keyid() == key.keyid);
  }
  return 0;
}
