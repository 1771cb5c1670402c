#include "crypto/signer.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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

struct BignumDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

// The order n of P-256. Never freed: it lives as long as the process.
const BIGNUM* P256Order() {
  static const BIGNUM* const order = [] {
    EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM* copy = group == nullptr ? nullptr
                                    : BN_dup(EC_GROUP_get0_order(group));
    EC_GROUP_free(group);
    return copy;
  }();
  return order;
}

// ECDSA signatures are malleable: (r, s) and (r, n - s) both verify. refsum
// accepts only s <= n/2 ("low S"), so a logged entry cannot be re-logged
// under another index by rewriting its signature.
absl::StatusOr<bool> HasLowS(const ECDSA_SIG* sig) {
  const BIGNUM* order = P256Order();
  std::unique_ptr<BIGNUM, BignumDeleter> half(BN_dup(order));
  if (order == nullptr || half == nullptr ||
      BN_rshift1(half.get(), half.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "P-256 order");
  }
  return BN_cmp(ECDSA_SIG_get0_s(sig), half.get()) <= 0;
}

absl::StatusOr<EcdsaSigPtr> ParseEcdsaSignature(absl::string_view der) {
  const unsigned char* cursor = Bytes(der);
  EcdsaSigPtr sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  internal::ClearOpenSslErrors();
  if (sig == nullptr || cursor != Bytes(der) + der.size()) {
    return absl::InvalidArgumentError("ECDSA signature is not valid DER");
  }
  return sig;
}

// Rewrites a DER ECDSA signature with s replaced by n - s when s > n/2.
absl::StatusOr<std::string> NormalizeToLowS(const std::string& der) {
  ASSIGN_OR_RETURN(EcdsaSigPtr sig, ParseEcdsaSignature(der));
  ASSIGN_OR_RETURN(bool low, HasLowS(sig.get()));
  if (low) return der;
  BIGNUM* r = BN_dup(ECDSA_SIG_get0_r(sig.get()));
  BIGNUM* s = BN_new();
  if (r == nullptr || s == nullptr ||
      BN_sub(s, P256Order(), ECDSA_SIG_get0_s(sig.get())) != 1 ||
      ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslError(absl::StatusCode::kInternal, "normalizing ECDSA s");
  }
  unsigned char* out = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &out);
  if (length <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "i2d_ECDSA_SIG");
  }
  std::string normalized(reinterpret_cast<char*>(out),
                         static_cast<size_t>(length));
  OPENSSL_free(out);
  return normalized;
}

absl::Status RequireLowS(absl::string_view der) {
  ASSIGN_OR_RETURN(EcdsaSigPtr sig, ParseEcdsaSignature(der));
  ASSIGN_OR_RETURN(bool low, HasLowS(sig.get()));
  if (!low) {
    return absl::InvalidArgumentError(
        "ECDSA signature has s > n/2; refsum accepts only low-S signatures");
  }
  return absl::OkStatus();
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
    if (key_.type() == KeyType::kEcdsaP256) return NormalizeToLowS(signature);
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
    if (key_.type() == KeyType::kEcdsaP256) {
      RETURN_IF_ERROR(RequireLowS(signature));
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
