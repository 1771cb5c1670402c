// SHA-2 digests by algorithm: SHA-256, SHA-384 and SHA-512 over OpenSSL 3,
// each EVP_MD fetched once per process. For the measurement calculators
// (SEV-SNP and TDX measurements are SHA-384, TPM banks SHA-256 or SHA-384)
// and for hashing artifacts with every algorithm a claim names. Merkle
// hashing keeps its own, faster SHA-256 (sha256.h).
//
// SHA-2 only fails when OpenSSL itself is broken (no default provider, out
// of memory); the process then aborts with a message, as sha256.h does.
//
// Thread-safe, but a Hasher is for one thread at a time.

#ifndef REFSUM_CRYPTO_DIGEST_H_
#define REFSUM_CRYPTO_DIGEST_H_

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::crypto {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };

// "sha256", "sha384" or "sha512": the names claims use.
absl::string_view HashAlgorithmName(HashAlgorithm algorithm);

// Parses one of the names above. Returns InvalidArgument naming it
// otherwise.
absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name);

// 32, 48 or 64.
size_t DigestSize(HashAlgorithm algorithm);

// Returns the digest of `data` (DigestSize bytes).
std::string Hash(HashAlgorithm algorithm, absl::string_view data);

// Returns the digest of the concatenation of `parts`.
std::string Hash(HashAlgorithm algorithm,
                 std::initializer_list<absl::string_view> parts);

// Incremental hashing for data that arrives in pieces.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  HashAlgorithm algorithm() const { return algorithm_; }
  void Update(absl::string_view data);
  // Returns the digest of everything passed to Update and starts over.
  std::string Finish();

 private:
  struct Context;
  const HashAlgorithm algorithm_;
  std::unique_ptr<Context> context_;
};

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_DIGEST_H_
