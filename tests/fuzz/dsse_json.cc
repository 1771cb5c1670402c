// Fuzzes crypto::DecodeDsseJson, the DSSE envelope JSON that submitters
// send and claim files hold. A decoded envelope encodes to JSON that decodes
// to the same envelope, and to a leaf that decodes to it too.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/dsse.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::crypto::DsseEnvelope;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<DsseEnvelope> envelope = refsum::crypto::DecodeDsseJson(input);
  if (!envelope.ok()) {
    FUZZ_CHECK(envelope.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string json = refsum::crypto::EncodeDsseJson(*envelope);
  absl::StatusOr<DsseEnvelope> from_json = refsum::crypto::DecodeDsseJson(json);
  FUZZ_CHECK_OK(from_json);
  FUZZ_CHECK(*from_json == *envelope);
  FUZZ_CHECK(refsum::crypto::EncodeDsseJson(*from_json) == json);

  const std::string leaf = refsum::crypto::EncodeDsseLeaf(*envelope);
  absl::StatusOr<DsseEnvelope> from_leaf = refsum::crypto::DecodeDsseLeaf(leaf);
  FUZZ_CHECK_OK(from_leaf);
  FUZZ_CHECK(*from_leaf == *envelope);
  return 0;
}
