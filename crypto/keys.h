// Asymmetric keys: Ed25519 and ECDSA P-256 over OpenSSL 3, with PEM (PKCS#8
// private keys, SubjectPublicKeyInfo public keys) and refsum's key ID.
//
// Keys are immutable values. Copies share the underlying OpenSSL key, which is
// never modified after construction, so keys are safe to use from any number
// of threads.

#ifndef REFSUM_CRYPTO_KEYS_H_
#define REFSUM_CRYPTO_KEYS_H_

#include <openssl/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::crypto {

enum class KeyType { kEd25519, kEcdsaP256 };

// Returns "ed25519" or "ecdsa-p256", the names refsum's CLIs use.
absl::string_view KeyTypeName(KeyType type);

// Parses a name returned by KeyTypeName. Returns InvalidArgument otherwise.
absl::StatusOr<KeyType> ParseKeyType(absl::string_view name);

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class PublicKey {
 public:
  // Parses one PEM "PUBLIC KEY" block (DER SubjectPublicKeyInfo) holding an
  // Ed25519 or P-256 key; only whitespace may surround the block. Returns
  // InvalidArgument naming the problem for anything else (garbage, truncated
  // or trailing data, another label, another algorithm or curve).
  static absl::StatusOr<PublicKey> FromPem(absl::string_view pem);

  // Parses a DER SubjectPublicKeyInfo with the same rules as FromPem; the
  // encoding must be canonical (re-encoding gives the same bytes).
  static absl::StatusOr<PublicKey> FromDer(absl::string_view der);

  // Makes an Ed25519 key from its 32-byte RFC 8032 encoding. Returns
  // InvalidArgument for any other length.
  static absl::StatusOr<PublicKey> FromEd25519Raw(absl::string_view raw);

  KeyType type() const { return type_; }

  // The DER SubjectPublicKeyInfo.
  const std::string& der() const { return der_; }

  // The PEM "PUBLIC KEY" block, ending in a newline.
  std::string ToPem() const;

  // refsum's key ID: lowercase hex SHA-256 of der(). DSSE envelopes carry it.
  const std::string& keyid() const { return keyid_; }

  // The 32-byte RFC 8032 encoding. Returns FailedPrecondition for non-Ed25519
  // keys.
  absl::StatusOr<std::string> Ed25519Raw() const;

  // The OpenSSL key, owned by this object and shared by its copies; for the
  // implementations in crypto/ only. Must not be modified.
  EVP_PKEY* evp_pkey() const { return pkey_.get(); }

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type, std::string der);

  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  std::string der_;
  std::string keyid_;
};

class PrivateKey {
 public:
  // Generates a fresh key from OpenSSL's CSPRNG. Returns Internal if OpenSSL
  // fails.
  static absl::StatusOr<PrivateKey> Generate(KeyType type);

  // Parses one unencrypted PEM "PRIVATE KEY" block (PKCS#8) holding an
  // Ed25519 or P-256 key; only whitespace may surround it. Returns
  // InvalidArgument naming the problem otherwise (legacy "EC PRIVATE KEY"
  // blocks, encrypted keys, other algorithms, truncated or garbage input).
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);

  // Makes an Ed25519 key from its 32-byte RFC 8032 seed (the form C2SP
  // signed-note private keys carry). Returns InvalidArgument for any other
  // length.
  static absl::StatusOr<PrivateKey> FromEd25519Seed(absl::string_view seed);

  KeyType type() const { return type_; }
  const PublicKey& public_key() const { return public_key_; }

  // The PKCS#8 PEM "PRIVATE KEY" block, ending in a newline. Returns Internal
  // only if OpenSSL cannot encode the key.
  absl::StatusOr<std::string> ToPem() const;

  // The 32-byte Ed25519 seed. Returns FailedPrecondition for other keys.
  absl::StatusOr<std::string> Ed25519Seed() const;

  // The OpenSSL key; see PublicKey::evp_pkey.
  EVP_PKEY* evp_pkey() const { return pkey_.get(); }

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type,
             PublicKey public_key);

  static absl::StatusOr<PrivateKey> FromEvpPkey(std::shared_ptr<EVP_PKEY> pkey);

  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  PublicKey public_key_;
};

// Writes `key` as PKCS#8 PEM to `path`, mode 0600, atomically (see
// WriteFileAtomically for the error contract).
absl::Status WritePrivateKeyFile(const std::string& path,
                                 const PrivateKey& key);

// Reads a private key written by WritePrivateKeyFile. Returns
// FailedPrecondition when the file is readable by its group or others (a
// leaked signing key cannot be revoked from an append-only log), NotFound
// when it is missing, and InvalidArgument (naming the path) when it does not
// parse.
absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path);

// Reads a file that holds a secret, such as a TLS private key, of at most
// `max_bytes`, after the same check as ReadPrivateKeyFile: FailedPrecondition
// (naming the path and its mode) when its group or others may access it,
// NotFound when it is missing. `what` names the file in messages, e.g.
// "TLS key".
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path,
                                            absl::string_view what,
                                            size_t max_bytes = 64 * 1024);

// Writes `key` as PEM to `path`, mode 0644, atomically.
absl::Status WritePublicKeyFile(const std::string& path, const PublicKey& key);

// Reads a PEM public key file. Returns NotFound when it is missing and
// InvalidArgument (naming the path) when it does not parse.
absl::StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path);

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_KEYS_H_
