#include "crypto/cosignature.h"

#include <chrono>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "crypto/signer.h"

namespace refsum::crypto {
namespace {

constexpr uint64_t kMaxTimestamp = std::numeric_limits<int64_t>::max();

std::string BigEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

class CosignatureV1Signer : public NoteSigner {
 public:
  CosignatureV1Signer(std::string name, uint32_t key_id,
                      std::unique_ptr<Signer> signer, Clock clock)
      : name_(std::move(name)),
        key_id_(key_id),
        signer_(std::move(signer)),
        clock_(std::move(clock)) {}

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }

  absl::StatusOr<std::string> Sign(absl::string_view text) const override {
    const uint64_t timestamp = clock_();
    if (timestamp > kMaxTimestamp) {
      return absl::InternalError("clock returned a time beyond 2^63-1");
    }
    ASSIGN_OR_RETURN(std::string signature,
                     signer_->Sign(CosignatureV1Message(text, timestamp)));
    return BigEndian64(timestamp) + signature;
  }

 private:
  const std::string name_;
  const uint32_t key_id_;
  const std::unique_ptr<Signer> signer_;
  const Clock clock_;
};

class CosignatureV1Verifier : public NoteVerifier {
 public:
  CosignatureV1Verifier(std::string name, uint32_t key_id,
                        std::unique_ptr<Verifier> verifier)
      : name_(std::move(name)),
        key_id_(key_id),
        verifier_(std::move(verifier)) {}

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }

  absl::Status Verify(absl::string_view text,
                      absl::string_view signature) const override {
    ASSIGN_OR_RETURN(uint64_t timestamp, CosignatureV1Timestamp(signature));
    return verifier_->Verify(signature.substr(8),
                             CosignatureV1Message(text, timestamp));
  }

 private:
  const std::string name_;
  const uint32_t key_id_;
  const std::unique_ptr<Verifier> verifier_;
};

absl::StatusOr<uint32_t> CosignatureKeyId(absl::string_view name,
                                          const PublicKey& key) {
  if (!IsValidNoteKeyName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid cosigner name \"", name, "\""));
  }
  absl::StatusOr<std::string> raw = key.Ed25519Raw();
  if (!raw.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cosigner \"", name, "\" needs an Ed25519 key, got ",
        KeyTypeName(key.type())));
  }
  return NoteKeyId(name, kNoteSignatureTypeCosignatureV1, *raw);
}

}  // namespace

std::string CosignatureV1Message(absl::string_view checkpoint_body,
                                 uint64_t timestamp) {
  return absl::StrCat("cosignature/v1\ntime ", timestamp, "\n",
                      checkpoint_body);
}

absl::StatusOr<uint64_t> CosignatureV1Timestamp(absl::string_view signature) {
  if (signature.size() != kCosignatureV1Size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cosignature/v1 signature has ", signature.size(), " bytes, want ",
        kCosignatureV1Size));
  }
  uint64_t timestamp = 0;
  for (size_t i = 0; i < 8; ++i) {
    timestamp = (timestamp << 8) | static_cast<uint8_t>(signature[i]);
  }
  if (timestamp > kMaxTimestamp) {
    return absl::InvalidArgumentError(
        "cosignature/v1 timestamp exceeds 2^63-1");
  }
  return timestamp;
}

Clock SystemClock() {
  return [] {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
}

absl::StatusOr<std::unique_ptr<NoteSigner>> NewCosignatureV1Signer(
    absl::string_view name, const PrivateKey& key, Clock clock) {
  ASSIGN_OR_RETURN(uint32_t key_id, CosignatureKeyId(name, key.public_key()));
  ASSIGN_OR_RETURN(std::unique_ptr<Signer> signer, NewEd25519Signer(key));
  return std::make_unique<CosignatureV1Signer>(
      std::string(name), key_id, std::move(signer), std::move(clock));
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NewCosignatureV1Verifier(
    absl::string_view name, const PublicKey& key) {
  ASSIGN_OR_RETURN(uint32_t key_id, CosignatureKeyId(name, key));
  ASSIGN_OR_RETURN(std::unique_ptr<Verifier> verifier,
                   NewEd25519Verifier(key));
  return std::make_unique<CosignatureV1Verifier>(std::string(name), key_id,
                                                 std::move(verifier));
}

absl::StatusOr<std::unique_ptr<NoteVerifier>>
NewCosignatureV1VerifierFromKey(absl::string_view vkey) {
  ASSIGN_OR_RETURN(VerifierKey key, ParseVerifierKey(vkey));
  if (key.signature_type != kNoteSignatureTypeCosignatureV1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "verifier key \"%s\" has signature type 0x%02x, want 0x04 "
        "(cosignature/v1)",
        key.name, key.signature_type));
  }
  ASSIGN_OR_RETURN(PublicKey public_key,
                   PublicKey::FromEd25519Raw(key.public_key));
  return NewCosignatureV1Verifier(key.name, public_key);
}

}  // namespace refsum::crypto
