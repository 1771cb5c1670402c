#include "http/tls_testing.h"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"

namespace refsum::http::testing {
namespace {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509ExtensionDeleter {
  void operator()(X509_EXTENSION* extension) const {
    X509_EXTENSION_free(extension);
  }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using CertPtr = std::unique_ptr<X509, X509Deleter>;

absl::Status Fail(absl::string_view what) {
  return absl::InternalError(absl::StrCat("making test certificates: ", what));
}

absl::StatusOr<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return Fail("EVP_EC_gen");
  return key;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, X509ExtensionDeleter> extension(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (extension == nullptr || X509_add_ext(cert, extension.get(), -1) != 1) {
    return Fail(absl::StrCat("extension ", value));
  }
  return absl::OkStatus();
}

// Makes a certificate for `key` named `common_name`, signed by
// `issuer_key` as `issuer` (itself when null).
absl::StatusOr<CertPtr> NewCertificate(EVP_PKEY* key, const char* common_name,
                                       X509* issuer, EVP_PKEY* issuer_key,
                                       bool is_ca, long serial) {
  CertPtr cert(X509_new());
  if (cert == nullptr) return Fail("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer == nullptr ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints,
                                 "critical,CA:TRUE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage,
                                 "critical,keyCertSign,cRLSign"));
  } else {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints,
                                 "critical,CA:FALSE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_ext_key_usage,
                                 "serverAuth"));
    RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_subject_alt_name,
                     "IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost"));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return Fail("X509_sign");
  }
  return cert;
}

absl::StatusOr<std::string> BioText(BIO* bio) {
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio, &memory);
  if (memory == nullptr) return Fail("BIO_get_mem_ptr");
  return std::string(memory->data, memory->length);
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return Fail("PEM certificate");
  return BioText(bio.get());
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return Fail("PEM key");
  }
  return BioText(bio.get());
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki() {
  ASSIGN_OR_RETURN(KeyPtr ca_key, NewKey());
  ASSIGN_OR_RETURN(CertPtr ca, NewCertificate(ca_key.get(), "refsum test CA",
                                              nullptr, ca_key.get(), true, 1));
  ASSIGN_OR_RETURN(KeyPtr server_key, NewKey());
  ASSIGN_OR_RETURN(CertPtr server,
                   NewCertificate(server_key.get(), "localhost", ca.get(),
                                  ca_key.get(), false, 2));
  ASSIGN_OR_RETURN(KeyPtr other_key, NewKey());
  ASSIGN_OR_RETURN(CertPtr other,
                   NewCertificate(other_key.get(), "refsum test CA", nullptr,
                                  other_key.get(), true, 1));
  TestPki pki;
  ASSIGN_OR_RETURN(pki.ca_pem, CertPem(ca.get()));
  ASSIGN_OR_RETURN(std::string server_pem, CertPem(server.get()));
  pki.server_chain_pem = server_pem + pki.ca_pem;
  ASSIGN_OR_RETURN(pki.server_key_pem, KeyPem(server_key.get()));
  ASSIGN_OR_RETURN(pki.other_ca_pem, CertPem(other.get()));
  return pki;
}

absl::Status WriteTestPki(const TestPki& pki, const std::string& dir) {
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/ca.pem", pki.ca_pem, 0644));
  RETURN_IF_ERROR(
      WriteFileAtomically(dir + "/server.pem", pki.server_chain_pem, 0644));
  RETURN_IF_ERROR(
      WriteFileAtomically(dir + "/server.key", pki.server_key_pem, 0600));
  return WriteFileAtomically(dir + "/other-ca.pem", pki.other_ca_pem, 0644);
}

}  // namespace refsum::http::testing
