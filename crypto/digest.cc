#include "crypto/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace refsum::crypto {
namespace {

[[noreturn]] void DieOpenSslBroken(const char* what) {
  std::fprintf(stderr, "refsum: OpenSSL SHA-2 failed in %s\n", what);
  std::abort();
}

const char* OpenSslName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "SHA256";
    case HashAlgorithm::kSha384:
      return "SHA384";
    case HashAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA256";
}

// Each algorithm's implementation, fetched once and never freed (it must
// outlive every context that refers to it).
const EVP_MD* Fetched(HashAlgorithm algorithm) {
  static const EVP_MD* const mds[] = {
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  const EVP_MD* md = mds[static_cast<int>(algorithm)];
  if (md == nullptr) DieOpenSslBroken(OpenSslName(algorithm));
  return md;
}

}  // namespace

struct Hasher::Context {
  EVP_MD_CTX* ctx = nullptr;
  ~Context() { EVP_MD_CTX_free(ctx); }
};

absl::string_view HashAlgorithmName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha384:
      return "sha384";
    case HashAlgorithm::kSha512:
      return "sha512";
  }
  return "";
}

absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name) {
  for (HashAlgorithm algorithm : {HashAlgorithm::kSha256,
                                  HashAlgorithm::kSha384,
                                  HashAlgorithm::kSha512}) {
    if (name == HashAlgorithmName(algorithm)) return algorithm;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", absl::CHexEscape(name),
                   "\" is not a hash algorithm (sha256, sha384, sha512)"));
}

size_t DigestSize(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

Hasher::Hasher(HashAlgorithm algorithm)
    : algorithm_(algorithm), context_(std::make_unique<Context>()) {
  context_->ctx = EVP_MD_CTX_new();
  if (context_->ctx == nullptr ||
      EVP_DigestInit_ex2(context_->ctx, Fetched(algorithm), nullptr) != 1) {
    DieOpenSslBroken("EVP_DigestInit_ex2");
  }
}

Hasher::~Hasher() = default;

void Hasher::Update(absl::string_view data) {
  if (EVP_DigestUpdate(context_->ctx, data.data(), data.size()) != 1) {
    DieOpenSslBroken("EVP_DigestUpdate");
  }
}

std::string Hasher::Finish() {
  std::string digest(DigestSize(algorithm_), '\0');
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context_->ctx,
                         reinterpret_cast<unsigned char*>(digest.data()),
                         &size) != 1 ||
      size != digest.size() ||
      EVP_DigestInit_ex2(context_->ctx, nullptr, nullptr) != 1) {
    DieOpenSslBroken("EVP_DigestFinal_ex");
  }
  return digest;
}

std::string Hash(HashAlgorithm algorithm, absl::string_view data) {
  return Hash(algorithm, {data});
}

std::string Hash(HashAlgorithm algorithm,
                 std::initializer_list<absl::string_view> parts) {
  // One reusable context per thread and algorithm avoids an allocation per
  // hash (the SEV-SNP calculator hashes every 4 KiB page).
  thread_local std::unique_ptr<Hasher> hashers[3];
  std::unique_ptr<Hasher>& hasher = hashers[static_cast<int>(algorithm)];
  if (hasher == nullptr) hasher = std::make_unique<Hasher>(algorithm);
  for (absl::string_view part : parts) hasher->Update(part);
  return hasher->Finish();
}

}  // namespace refsum::crypto
