// SHA-256 over OpenSSL 3, with the EVP_MD fetched once per process: OpenSSL
// 3's one-shot calls look the algorithm up again on every call, which makes
// small hashes (every Merkle node) several times slower.

#ifndef REFSUM_CRYPTO_SHA256_H_
#define REFSUM_CRYPTO_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace refsum::crypto {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// Returns the digest as a string_view over its bytes (valid while `digest`
// lives).
inline absl::string_view DigestBytes(const Sha256Digest& digest) {
  return absl::string_view(reinterpret_cast<const char*>(digest.data()),
                           digest.size());
}

// Returns SHA-256(data). Thread-safe. SHA-256 only fails when OpenSSL itself
// is broken (no default provider, out of memory); the process then aborts
// with a message, as there is no meaningful way to continue.
Sha256Digest Sha256(absl::string_view data);

// Returns SHA-256 of the concatenation of `parts`, without concatenating them.
Sha256Digest Sha256(std::initializer_list<absl::string_view> parts);

// Returns the lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Incremental SHA-256 for data that arrives in pieces (files, streams).
// Not thread-safe; use one per thread.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view data);
  // Returns the digest of everything passed to Update and resets the hasher
  // so it can be used again.
  Sha256Digest Finish();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_SHA256_H_
