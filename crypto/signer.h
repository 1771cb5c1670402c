// Signing and verification behind two small interfaces, so that callers never
// see OpenSSL and a key of the wrong type cannot be used by accident.
//
// Ed25519 signs the message itself (RFC 8032, "pure" Ed25519); ECDSA P-256
// signs SHA-256 of the message and produces ASN.1 DER signatures with a low
// S value (s <= n/2). Verification accepts only strict DER and low S, so
// every signature has exactly one accepted form and a signed entry cannot be
// altered into a second valid one. These are
// the DSSE algorithms DESIGN.md allows; signed notes and cosignatures use
// Ed25519 only.

#ifndef REFSUM_CRYPTO_SIGNER_H_
#define REFSUM_CRYPTO_SIGNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"

namespace refsum::crypto {

// Thread-safe: Sign may be called concurrently.
class Signer {
 public:
  virtual ~Signer() = default;

  // Returns the signature of `data`. Returns Internal only if OpenSSL fails.
  virtual absl::StatusOr<std::string> Sign(absl::string_view data) const = 0;

  virtual const PublicKey& public_key() const = 0;
};

// Thread-safe: Verify may be called concurrently.
class Verifier {
 public:
  virtual ~Verifier() = default;

  // Returns OK if `signature` is a valid signature of `data` under this key;
  // otherwise InvalidArgument ("signature does not verify" or a description
  // of why the signature is malformed, e.g. a non-DER ECDSA signature).
  virtual absl::Status Verify(absl::string_view signature,
                              absl::string_view data) const = 0;

  virtual const PublicKey& public_key() const = 0;
};

// Returns a signer for `key` (Ed25519 or ECDSA P-256 with SHA-256).
absl::StatusOr<std::unique_ptr<Signer>> NewSigner(const PrivateKey& key);

// Returns a verifier for `key`.
absl::StatusOr<std::unique_ptr<Verifier>> NewVerifier(const PublicKey& key);

// Returns a signer that accepts only Ed25519 keys; InvalidArgument otherwise.
// For signed notes and cosignatures, which DESIGN.md restricts to Ed25519.
absl::StatusOr<std::unique_ptr<Signer>> NewEd25519Signer(const PrivateKey& key);

// Returns a verifier that accepts only Ed25519 keys; InvalidArgument
// otherwise.
absl::StatusOr<std::unique_ptr<Verifier>> NewEd25519Verifier(
    const PublicKey& key);

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_SIGNER_H_
