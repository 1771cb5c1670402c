#include "crypto/keys.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/openssl.h"
#include "crypto/sha256.h"
#include "encoding/base64.h"

namespace refsum::crypto {
namespace {

using internal::BioPtr;
using internal::OpenSslError;

constexpr absl::string_view kPublicKeyLabel = "PUBLIC KEY";
constexpr absl::string_view kPrivateKeyLabel = "PRIVATE KEY";

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* pkey) {
  return std::shared_ptr<EVP_PKEY>(pkey, internal::EvpPkeyDeleter());
}

// Returns the key's type, or InvalidArgument if refsum does not accept it.
absl::StatusOr<KeyType> TypeOf(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyType::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64];
    size_t group_length = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_length) ==
            1 &&
        (std::strcmp(group, "prime256v1") == 0 ||
         std::strcmp(group, "P-256") == 0)) {
      return KeyType::kEcdsaP256;
    }
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        "EC key is not on curve P-256, the only curve refsum accepts");
  }
  return absl::InvalidArgumentError(
      "key is neither Ed25519 nor ECDSA P-256, the types refsum accepts");
}

// Decodes the single PEM block of `pem` with the given label; only
// whitespace may surround it.
absl::StatusOr<std::string> DecodePemBlock(absl::string_view pem,
                                           absl::string_view label) {
  const std::string text =
      std::string(absl::StripAsciiWhitespace(pem)) + "\n";
  const std::string begin = absl::StrCat("-----BEGIN ", label, "-----");
  if (!absl::StartsWith(text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("not PEM: expected a line \"", begin, "\""));
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (bio == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "BIO_new_mem_buf");
  }
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed or truncated PEM");
  }
  const std::string found_label = name;
  const bool has_headers = header[0] != '\0';
  std::string der(reinterpret_cast<const char*>(data),
                  static_cast<size_t>(length));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (found_label != label) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PEM block is \"", found_label, "\", expected \"", label, "\""));
  }
  if (has_headers) {
    return absl::InvalidArgumentError(
        "PEM block has headers (encrypted keys are not supported)");
  }
  if (BIO_ctrl_pending(bio.get()) != 0) {
    return absl::InvalidArgumentError("data after the PEM block");
  }
  return der;
}

// RFC 7468 PEM: base64 lines of 64 characters between BEGIN and END lines.
std::string EncodePem(absl::string_view label, absl::string_view der) {
  const std::string base64 = encoding::Base64Encode(der);
  std::string pem = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t i = 0; i < base64.size(); i += 64) {
    absl::StrAppend(&pem, absl::string_view(base64).substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END ", label, "-----\n");
  return pem;
}

absl::StatusOr<std::string> SubjectPublicKeyInfo(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(pkey, &der);
  if (length <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "i2d_PUBKEY");
  }
  std::string out(reinterpret_cast<const char*>(der),
                  static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> RawKey(EVP_PKEY* pkey, bool private_part) {
  std::string raw(kEd25519KeySize, '\0');
  size_t length = raw.size();
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  const int ok = private_part ? EVP_PKEY_get_raw_private_key(pkey, out, &length)
                              : EVP_PKEY_get_raw_public_key(pkey, out, &length);
  if (ok != 1 || length != kEd25519KeySize) {
    return OpenSslError(absl::StatusCode::kInternal, "reading a raw key");
  }
  return raw;
}

}  // namespace

absl::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ed25519";
    case KeyType::kEcdsaP256:
      return "ecdsa-p256";
  }
  return "unknown";
}

absl::StatusOr<KeyType> ParseKeyType(absl::string_view name) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    if (name == KeyTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown key type \"", name, "\" (want ed25519 or ecdsa-p256)"));
}

PublicKey::PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type,
                     std::string der)
    : pkey_(std::move(pkey)),
      type_(type),
      der_(std::move(der)),
      keyid_(Sha256Hex(der_)) {}

absl::StatusOr<PublicKey> PublicKey::FromDer(absl::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* parsed =
      d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size()));
  if (parsed == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed SubjectPublicKeyInfo");
  }
  std::shared_ptr<EVP_PKEY> pkey = Share(parsed);
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) +
                    der.size()) {
    return absl::InvalidArgumentError(
        "trailing data after the SubjectPublicKeyInfo");
  }
  ASSIGN_OR_RETURN(KeyType type, TypeOf(pkey.get()));
  ASSIGN_OR_RETURN(std::string canonical, SubjectPublicKeyInfo(pkey.get()));
  if (canonical != der) {
    return absl::InvalidArgumentError(
        "SubjectPublicKeyInfo is not in canonical (uncompressed DER) form");
  }
  return PublicKey(std::move(pkey), type, std::move(canonical));
}

absl::StatusOr<PublicKey> PublicKey::FromPem(absl::string_view pem) {
  ASSIGN_OR_RETURN(std::string der, DecodePemBlock(pem, kPublicKeyLabel));
  return FromDer(der);
}

absl::StatusOr<PublicKey> PublicKey::FromEd25519Raw(absl::string_view raw) {
  if (raw.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Ed25519 public key has ", raw.size(), " bytes, want 32"));
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "invalid Ed25519 public key");
  }
  std::shared_ptr<EVP_PKEY> shared = Share(pkey);
  ASSIGN_OR_RETURN(std::string der, SubjectPublicKeyInfo(shared.get()));
  return PublicKey(std::move(shared), KeyType::kEd25519, std::move(der));
}

std::string PublicKey::ToPem() const {
  return EncodePem(kPublicKeyLabel, der_);
}

absl::StatusOr<std::string> PublicKey::Ed25519Raw() const {
  if (type_ != KeyType::kEd25519) {
    return absl::FailedPreconditionError("not an Ed25519 key");
  }
  return RawKey(pkey_.get(), /*private_part=*/false);
}

PrivateKey::PrivateKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type,
                       PublicKey public_key)
    : pkey_(std::move(pkey)), type_(type), public_key_(std::move(public_key)) {}

absl::StatusOr<PrivateKey> PrivateKey::FromEvpPkey(
    std::shared_ptr<EVP_PKEY> pkey) {
  ASSIGN_OR_RETURN(KeyType type, TypeOf(pkey.get()));
  ASSIGN_OR_RETURN(std::string der, SubjectPublicKeyInfo(pkey.get()));
  ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromDer(der));
  return PrivateKey(std::move(pkey), type, std::move(public_key));
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* pkey = type == KeyType::kEd25519
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "key generation failed");
  }
  return FromEvpPkey(Share(pkey));
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  ASSIGN_OR_RETURN(std::string der, DecodePemBlock(pem, kPrivateKeyLabel));
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  PKCS8_PRIV_KEY_INFO* info =
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(der.size()));
  if (info == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed PKCS#8 private key");
  }
  const bool trailing =
      cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size();
  EVP_PKEY* pkey = trailing ? nullptr : EVP_PKCS82PKEY(info);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (trailing) {
    return absl::InvalidArgumentError("trailing data after the PKCS#8 key");
  }
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "unusable PKCS#8 private key");
  }
  return FromEvpPkey(Share(pkey));
}

absl::StatusOr<PrivateKey> PrivateKey::FromEd25519Seed(
    absl::string_view seed) {
  if (seed.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Ed25519 seed has ", seed.size(), " bytes, want 32"));
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key_ex(
      nullptr, "ED25519", nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "invalid Ed25519 seed");
  }
  return FromEvpPkey(Share(pkey));
}

absl::StatusOr<std::string> PrivateKey::ToPem() const {
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(pkey_.get());
  if (info == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_PKEY2PKCS8");
  }
  unsigned char* der = nullptr;
  const int length = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (length <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "i2d_PKCS8_PRIV_KEY_INFO");
  }
  std::string pem = EncodePem(
      kPrivateKeyLabel,
      absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(length)));
  OPENSSL_clear_free(der, static_cast<size_t>(length));
  return pem;
}

absl::StatusOr<std::string> PrivateKey::Ed25519Seed() const {
  if (type_ != KeyType::kEd25519) {
    return absl::FailedPreconditionError("not an Ed25519 key");
  }
  return RawKey(pkey_.get(), /*private_part=*/true);
}

absl::Status WritePrivateKeyFile(const std::string& path,
                                 const PrivateKey& key) {
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  return WriteFileAtomically(path, pem, 0600);
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path,
                                            absl::string_view what,
                                            size_t max_bytes) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat(what, " ", path));
  }
  if ((info.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is accessible by group or others (mode ",
        absl::StrFormat("%04o", info.st_mode & 0777),
        "); run chmod 600 on it"));
  }
  return ReadFile(path, max_bytes);
}

absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadPrivateFile(path, "private key"));
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key ", path, ": ", key.status().message()));
  }
  return key;
}

absl::Status WritePublicKeyFile(const std::string& path,
                                const PublicKey& key) {
  return WriteFileAtomically(path, key.ToPem(), 0644);
}

absl::StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path, 64 * 1024));
  absl::StatusOr<PublicKey> key = PublicKey::FromPem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key ", path, ": ", key.status().message()));
  }
  return key;
}

}  // namespace refsum::crypto
