#include "log/testing.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "statement/in_toto.h"

namespace refsum::log {

void PrintTo(const KnownKey& key, std::ostream* os) {
  *os << "{keyid: " << key.keyid << ", role: " << key.role
      << ", name: " << key.name << ", pem: " << key.public_key_pem << "}";
}

namespace testing {

absl::StatusOr<std::string> NewTempDir(absl::string_view prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, "_XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("mkdtemp ", pattern));
  }
  return pattern;
}

absl::Status WriteTestFile(const std::string& path,
                           absl::string_view contents) {
  return WriteFileAtomically(path, contents, 0644);
}

absl::StatusOr<TestLogKey> NewTestLogKey(absl::string_view origin) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  TestLogKey log_key;
  ASSIGN_OR_RETURN(log_key.signer, crypto::NewEd25519NoteSigner(origin, key));
  ASSIGN_OR_RETURN(log_key.verifier,
                   crypto::NewEd25519NoteVerifier(origin, key.public_key()));
  return log_key;
}

absl::StatusOr<std::unique_ptr<TestLog>> TestLog::Create(
    absl::string_view origin, SequencerOptions options) {
  std::unique_ptr<TestLog> log(new TestLog());
  log->origin_ = std::string(origin);
  ASSIGN_OR_RETURN(log->dir_, NewTempDir("log"));
  ASSIGN_OR_RETURN(log->storage_, Storage::Open(log->dir_));
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(log->signer_, crypto::NewEd25519NoteSigner(origin, key));
  ASSIGN_OR_RETURN(log->verifier_,
                   crypto::NewEd25519NoteVerifier(origin, key.public_key()));
  ASSIGN_OR_RETURN(log->vkey_,
                   crypto::FormatVerifierKey(origin,
                                             crypto::kNoteSignatureTypeEd25519,
                                             key.public_key()));
  ASSIGN_OR_RETURN(log->sequencer_,
                   Sequencer::Start(log->storage_.get(), log->origin_,
                                    log->signer_.get(), log->verifier_.get(),
                                    std::move(options)));
  return log;
}

TestLog::~TestLog() {
  if (sequencer_ != nullptr) sequencer_->Shutdown();
  sequencer_.reset();
  storage_.reset();
}

uint64_t TestLog::size() const { return sequencer_->Latest()->checkpoint.size; }

absl::StatusOr<Integrated> TestLog::Append(PendingEntry entry) {
  struct Outcome {
    absl::Notification done;
    absl::StatusOr<Integrated> result = absl::UnknownError("not integrated");
  };
  auto outcome = std::make_shared<Outcome>();
  sequencer_->Add(std::move(entry),
                  [outcome](absl::StatusOr<Integrated> result) {
                    outcome->result = std::move(result);
                    outcome->done.Notify();
                  });
  if (!outcome->done.WaitForNotificationWithTimeout(kTimeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("the entry was not integrated within ",
                     absl::FormatDuration(kTimeout)));
  }
  return outcome->result;
}

absl::StatusOr<TestSigner> NewTestSigner(crypto::KeyType type,
                                         absl::string_view role,
                                         absl::string_view name) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  TestSigner result;
  result.key = KnownKey{key.public_key().keyid(), std::string(role),
                        std::string(name), key.public_key().ToPem()};
  result.signer = std::move(signer);
  return result;
}

std::string SeededHex(absl::string_view seed, size_t hex_digits) {
  std::string hex;
  for (int counter = 0; hex.size() < hex_digits; ++counter) {
    hex += crypto::Sha256Hex(absl::StrCat(seed, "#", counter));
  }
  hex.resize(hex_digits);
  return hex;
}

statement::Claim SampleClaim(absl::string_view seed) {
  statement::Claim claim;
  claim.subjects.push_back(statement::Subject{
      absl::StrCat("os-image-", seed, ".raw"),
      {{"sha256", SeededHex(absl::StrCat("artifact ", seed), 64)}},
      std::nullopt});
  claim.source.repository = "https://github.com/example/os-image";
  claim.source.commit = SeededHex(absl::StrCat("commit ", seed), 40);
  claim.source.tag = absl::StrCat("v-", seed);
  claim.build.recipe = "nix build .#image";
  statement::ReferenceValue snp;
  snp.platform = "amd-sev-snp";
  snp.kind = "launch-measurement";
  snp.digest = {"sha384", SeededHex(absl::StrCat("snp ", seed), 96)};
  snp.parameters = {{"vcpus", "4"}, {"vmm", "qemu"}};
  claim.reference_values.push_back(snp);
  statement::ReferenceValue pcr;
  pcr.platform = "tpm";
  pcr.kind = "pcr";
  pcr.index = 4;
  pcr.digest = {"sha256", SeededHex(absl::StrCat("pcr4 ", seed), 64)};
  claim.reference_values.push_back(pcr);
  return claim;
}

statement::RebuildAttestation SampleAttestation(const statement::Claim& claim,
                                                absl::string_view origin,
                                                uint64_t index,
                                                const tlog::Hash& leaf_hash) {
  statement::RebuildAttestation attestation;
  attestation.subjects = claim.subjects;
  attestation.claim.origin = std::string(origin);
  attestation.claim.index = static_cast<int64_t>(index);
  attestation.claim.leaf_hash = HashHex(leaf_hash);
  attestation.verdict = statement::Verdict::kMatch;
  attestation.rebuilt =
      statement::RebuiltOutput{claim.subjects, claim.reference_values};
  attestation.rebuilder.id = "witness.example.org";
  attestation.rebuilder.recipe = "nix build .#image";
  attestation.rebuilt_at = "2026-11-27T12:00:00Z";
  return attestation;
}

absl::StatusOr<crypto::DsseEnvelope> SignPayload(absl::string_view payload_type,
                                                 absl::string_view payload,
                                                 const TestSigner& signer) {
  return crypto::DsseSign(payload_type, payload, *signer.signer);
}

absl::StatusOr<crypto::DsseEnvelope> SignClaim(const statement::Claim& claim,
                                               const TestSigner& signer) {
  ASSIGN_OR_RETURN(std::string payload, statement::SerializeClaim(claim));
  return SignPayload(statement::kPayloadType, payload, signer);
}

absl::StatusOr<crypto::DsseEnvelope> SignAttestation(
    const statement::RebuildAttestation& attestation,
    const TestSigner& signer) {
  ASSIGN_OR_RETURN(std::string payload,
                   statement::SerializeRebuildAttestation(attestation));
  return SignPayload(statement::kPayloadType, payload, signer);
}

std::string HashHex(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

}  // namespace testing
}  // namespace refsum::log
