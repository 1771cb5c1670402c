#include "crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "encoding/hex.h"

namespace refsum::crypto {
namespace {

[[noreturn]] void DieOpenSslBroken(const char* what) {
  std::fprintf(stderr, "refsum: OpenSSL SHA-256 failed in %s\n", what);
  std::abort();
}

// The process-wide SHA-256 implementation, fetched once. Never freed: it
// must outlive every thread-local context that refers to it.
const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) DieOpenSslBroken("EVP_MD_fetch");
    return fetched;
  }();
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtxPtr NewInitializedContext() {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), FetchedSha256(),
                                           nullptr) != 1) {
    DieOpenSslBroken("EVP_DigestInit_ex2");
  }
  return ctx;
}

void Update(EVP_MD_CTX* ctx, absl::string_view data) {
  if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    DieOpenSslBroken("EVP_DigestUpdate");
  }
}

// Finishes the digest and re-initialises `ctx` for the next one.
Sha256Digest FinishAndReset(EVP_MD_CTX* ctx) {
  Sha256Digest digest;
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx, digest.data(), &size) != 1 ||
      size != kSha256Size) {
    DieOpenSslBroken("EVP_DigestFinal_ex");
  }
  if (EVP_DigestInit_ex2(ctx, nullptr, nullptr) != 1) {
    DieOpenSslBroken("EVP_DigestInit_ex2");
  }
  return digest;
}

// One reusable context per thread avoids an allocation per hash.
EVP_MD_CTX* ThreadContext() {
  thread_local MdCtxPtr ctx = NewInitializedContext();
  return ctx.get();
}

}  // namespace

Sha256Digest Sha256(absl::string_view data) {
  EVP_MD_CTX* ctx = ThreadContext();
  Update(ctx, data);
  return FinishAndReset(ctx);
}

Sha256Digest Sha256(std::initializer_list<absl::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  for (absl::string_view part : parts) Update(ctx, part);
  return FinishAndReset(ctx);
}

std::string Sha256Hex(absl::string_view data) {
  return encoding::HexEncode(DigestBytes(Sha256(data)));
}

struct Sha256Hasher::Context {
  MdCtxPtr ctx = NewInitializedContext();
};

Sha256Hasher::Sha256Hasher() : context_(std::make_unique<Context>()) {}
Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(absl::string_view data) {
  refsum::crypto::Update(context_->ctx.get(), data);
}

Sha256Digest Sha256Hasher::Finish() {
  return FinishAndReset(context_->ctx.get());
}

}  // namespace refsum::crypto
