#include "crypto/signer.h"

#include <openssl/evp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/openssl.h"

namespace refsum::crypto {
namespace {

using internal::EvpMdCtxPtr;
using internal::OpenSslError;

// The digest each key type signs with: none for Ed25519 (it hashes
// internally), SHA-256 for ECDSA P-256.
const char* DigestName(KeyType type) {
  return type == KeyType::kEcdsaP256 ? "SHA256" : nullptr;
}

const unsigned char* Bytes(absl::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

class EvpSigner : public Signer {
 public:
  explicit EvpSigner(PrivateKey key) : key_(std::move(key)) {}

  absl::StatusOr<std::string> Sign(absl::string_view data) const override {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (ctx == nullptr ||
        EVP_DigestSignInit_ex(ctx.get(), nullptr, DigestName(key_.type()),
                              nullptr, nullptr, key_.evp_pkey(),
                              nullptr) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSignInit");
    }
    size_t length = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &length, Bytes(data),
                       data.size()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSign");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(),
                       reinterpret_cast<unsigned char*>(signature.data()),
                       &length, Bytes(data), data.size()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSign");
    }
    signature.resize(length);
    return signature;
  }

  const PublicKey& public_key() const override { return key_.public_key(); }

 private:
  const PrivateKey key_;
};

class EvpVerifier : public Verifier {
 public:
  explicit EvpVerifier(PublicKey key) : key_(std::move(key)) {}

  absl::Status Verify(absl::string_view signature,
                      absl::string_view data) const override {
    if (key_.type() == KeyType::kEd25519 &&
        signature.size() != kEd25519SignatureSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Ed25519 signature has ", signature.size(), " bytes, want 64"));
    }
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (ctx == nullptr ||
        EVP_DigestVerifyInit_ex(ctx.get(), nullptr, DigestName(key_.type()),
                                nullptr, nullptr, key_.evp_pkey(),
                                nullptr) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestVerifyInit");
    }
    // OpenSSL rejects ECDSA signatures that are not strict DER (it re-encodes
    // and compares), so a signature has exactly one accepted encoding.
    const int result = EVP_DigestVerify(ctx.get(), Bytes(signature),
                                        signature.size(), Bytes(data),
                                        data.size());
    internal::ClearOpenSslErrors();
    if (result != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          KeyTypeName(key_.type()), " signature does not verify under key ",
          key_.keyid()));
    }
    return absl::OkStatus();
  }

  const PublicKey& public_key() const override { return key_; }

 private:
  const PublicKey key_;
};

absl::Status RequireEd25519(KeyType type) {
  if (type != KeyType::kEd25519) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an Ed25519 key is required, got ", KeyTypeName(type)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Signer>> NewSigner(const PrivateKey& key) {
  return std::make_unique<EvpSigner>(key);
}

absl::StatusOr<std::unique_ptr<Verifier>> NewVerifier(const PublicKey& key) {
  return std::make_unique<EvpVerifier>(key);
}

absl::StatusOr<std::unique_ptr<Signer>> NewEd25519Signer(
    const PrivateKey& key) {
  absl::Status status = RequireEd25519(key.type());
  if (!status.ok()) return status;
  return NewSigner(key);
}

absl::StatusOr<std::unique_ptr<Verifier>> NewEd25519Verifier(
    const PublicKey& key) {
  absl::Status status = RequireEd25519(key.type());
  if (!status.ok()) return status;
  return NewVerifier(key);
}

}  // namespace refsum::crypto
