// Fuzzes the PEM and DER key parsers (crypto::PublicKey::FromPem / FromDer,
// PrivateKey::FromPem): signer lists, policies, the log's --key and the
// witness's keys are all read with them, and DER public keys arrive in
// submissions and bundles. Parsed keys encode back to keys with the same
// DER; accepted DER is canonical, so it is the input itself.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/keys.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::crypto::PrivateKey;
  using refsum::crypto::PublicKey;
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<PublicKey> der = PublicKey::FromDer(input);
  if (der.ok()) {
    FUZZ_CHECK(der->der() == input);
    absl::StatusOr<PublicKey> pem = PublicKey::FromPem(der->ToPem());
    FUZZ_CHECK_OK(pem);
    FUZZ_CHECK(pem->der() == der->der() && pem->keyid() == der->keyid());
  } else {
    FUZZ_CHECK(der.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<PublicKey> public_key = PublicKey::FromPem(input);
  if (public_key.ok()) {
    absl::StatusOr<PublicKey> again = PublicKey::FromDer(public_key->der());
    FUZZ_CHECK_OK(again);
    FUZZ_CHECK(again->keyid() == public_key->keyid());
    FUZZ_CHECK(again->type() == public_key->type());
  } else {
    FUZZ_CHECK(public_key.status().code() ==
               absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<PrivateKey> private_key = PrivateKey::FromPem(input);
  if (private_key.ok()) {
    absl::StatusOr<std::string> pem = private_key->ToPem();
    FUZZ_CHECK_OK(pem);
    absl::StatusOr<PrivateKey> again = PrivateKey::FromPem(*pem);
    FUZZ_CHECK_OK(again);
    FUZZ_CHECK(again->public_key().der() == private_key->public_key().der());
  } else {
    FUZZ_CHECK(private_key.status().code() ==
               absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
