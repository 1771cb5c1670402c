// OpenSSL plumbing shared by crypto/'s implementations: owning pointers with
// explicit deleters, and conversion of OpenSSL's error queue into a status.
// Not part of crypto/'s public API (Bazel visibility keeps it inside).

#ifndef REFSUM_CRYPTO_OPENSSL_H_
#define REFSUM_CRYPTO_OPENSSL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refsum::crypto::internal {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Returns a status with `code` and the message "<what>: <OpenSSL's reasons>",
// and empties this thread's OpenSSL error queue so that stale errors never
// leak into a later call's report.
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// Empties this thread's OpenSSL error queue.
void ClearOpenSslErrors();

}  // namespace refsum::crypto::internal

#endif  // REFSUM_CRYPTO_OPENSSL_H_
