#include "tests/fuzz/key_dir.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/keys.h"

namespace refsum::fuzz {
namespace {

std::string* key_dir = nullptr;

void RemoveKeyDir() {
  std::error_code ignored;
  std::filesystem::remove_all(*key_dir, ignored);
}

// Makes "<base>/<prefix>-XXXXXX" or aborts.
std::string MakeTempDir(absl::string_view base, absl::string_view prefix) {
  std::string pattern = absl::StrCat(base, "/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

void WriteKey(const std::string& path, crypto::KeyType type) {
  absl::StatusOr<crypto::PrivateKey> key = crypto::PrivateKey::Generate(type);
  absl::Status written =
      key.ok() ? crypto::WritePublicKeyFile(path, key->public_key())
               : key.status();
  if (!written.ok()) {
    std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(),
                 written.ToString().c_str());
    std::abort();
  }
}

}  // namespace

const std::string& KeyDir() {
  if (key_dir != nullptr) return *key_dir;
  const char* tmp = std::getenv("TEST_TMPDIR");
  key_dir = new std::string(
      MakeTempDir(tmp != nullptr ? tmp : "/tmp", "refsum-fuzz-keys"));
  std::atexit(RemoveKeyDir);
  WriteKey(*key_dir + "/vendor.pub", crypto::KeyType::kEd25519);
  WriteKey(*key_dir + "/rebuilder.pub", crypto::KeyType::kEcdsaP256);
  return *key_dir;
}

std::string NewScratchDir(absl::string_view prefix) {
  std::error_code error;
  const std::string base =
      std::filesystem::is_directory("/dev/shm", error) ? "/dev/shm" : KeyDir();
  return MakeTempDir(base, prefix);
}

bool NamesOnlyKeyDirFiles(absl::string_view input) {
  for (absl::string_view word :
       absl::StrSplit(input, absl::ByAnyChar(" \t\n\v\f\r"))) {
    if (absl::StartsWith(word, "/") || absl::StrContains(word, "..")) {
      return false;
    }
  }
  return true;
}

}  // namespace refsum::fuzz
