#include "client/testing.h"

#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/cosignature.h"
#include "crypto/dsse.h"
#include "crypto/sha256.h"
#include "encoding/base64.h"
#include "encoding/hex.h"
#include "statement/in_toto.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::client::testing {

absl::StatusOr<std::string> NewTempDir(absl::string_view prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, "_XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("mkdtemp ", pattern));
  }
  return pattern;
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("opendir ", dir));
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

std::string TestSigner::Base64Spki() const {
  return encoding::Base64Encode(public_key().der());
}

absl::StatusOr<TestSigner> NewTestSigner(absl::string_view name,
                                         crypto::KeyType type) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  return TestSigner{std::string(name), std::move(key), std::move(signer)};
}

std::string TestWitness::Vkey() const {
  return crypto::FormatVerifierKey(key_name,
                                   crypto::kNoteSignatureTypeCosignatureV1,
                                   key.public_key())
      .value();
}

absl::StatusOr<TestWitness> NewTestWitness(absl::string_view policy_name,
                                           absl::string_view key_name) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteSigner> cosigner,
                   crypto::NewCosignatureV1Signer(
                       key_name, key, [] { return kCosignatureTime; }));
  return TestWitness{std::string(policy_name), std::string(key_name),
                     std::move(key), std::move(cosigner)};
}

absl::StatusOr<TestLog> TestLog::Create(absl::string_view origin) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  TestLog log;
  log.origin_ = std::string(origin);
  ASSIGN_OR_RETURN(log.vkey_, crypto::FormatVerifierKey(
                                  origin, crypto::kNoteSignatureTypeEd25519,
                                  key.public_key()));
  ASSIGN_OR_RETURN(log.signer_, crypto::NewEd25519NoteSigner(origin, key));
  return log;
}

uint64_t TestLog::Append(std::string leaf) {
  leaf_hashes_.push_back(tlog::HashLeaf(leaf));
  leaves_.push_back(std::move(leaf));
  return leaves_.size() - 1;
}

absl::StatusOr<tlog::Hash> TestLog::Root(uint64_t size) const {
  if (size > this->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the test log has only ", this->size(), " leaves"));
  }
  tlog::CompactRange range;
  for (uint64_t i = 0; i < size; ++i) {
    RETURN_IF_ERROR(range.AppendLeaf(leaf_hashes_[i]));
  }
  return range.Root();
}

absl::StatusOr<std::string> TestLog::SignCheckpoint(
    uint64_t size, absl::Span<const TestWitness* const> witnesses) const {
  tlog::Checkpoint checkpoint;
  checkpoint.origin = origin_;
  checkpoint.size = size;
  ASSIGN_OR_RETURN(checkpoint.root, Root(size));
  ASSIGN_OR_RETURN(std::string body, tlog::FormatCheckpointBody(checkpoint));
  std::vector<const crypto::NoteSigner*> signers = {signer_.get()};
  for (const TestWitness* witness : witnesses) {
    signers.push_back(witness->cosigner.get());
  }
  return crypto::SignNote(body, signers);
}

absl::StatusOr<std::vector<tlog::Hash>> TestLog::InclusionProof(
    uint64_t index, uint64_t size) const {
  if (size > this->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the test log has only ", this->size(), " leaves"));
  }
  const tlog::testing::NodeStore store(
      absl::MakeConstSpan(leaf_hashes_).subspan(0, size));
  return tlog::BuildInclusionProof(index, size, store);
}

absl::StatusOr<std::vector<tlog::Hash>> TestLog::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  if (new_size > size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the test log has only ", size(), " leaves"));
  }
  const tlog::testing::NodeStore store(
      absl::MakeConstSpan(leaf_hashes_).subspan(0, new_size));
  return tlog::BuildConsistencyProof(old_size, new_size, store);
}

absl::StatusOr<tlog::BundleEntry> TestLog::Entry(
    uint64_t index, const std::string& checkpoint,
    absl::string_view public_key_der) const {
  ASSIGN_OR_RETURN(tlog::Checkpoint parsed,
                   tlog::ParseCheckpointNote(checkpoint));
  tlog::BundleEntry entry;
  entry.leaf = leaves_.at(index);
  entry.proof.index = index;
  ASSIGN_OR_RETURN(entry.proof.inclusion_proof,
                   InclusionProof(index, parsed.size));
  entry.proof.checkpoint = checkpoint;
  entry.public_key = std::string(public_key_der);
  return entry;
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
  statement::ReferenceValue mrtd;
  mrtd.platform = "intel-tdx";
  mrtd.kind = "mrtd";
  mrtd.digest = {"sha384", SeededHex(absl::StrCat("mrtd ", seed), 96)};
  claim.reference_values.push_back(mrtd);
  statement::ReferenceValue pcr;
  pcr.platform = "tpm";
  pcr.kind = "pcr";
  pcr.index = 4;
  pcr.digest = {"sha256", SeededHex(absl::StrCat("pcr4 ", seed), 64)};
  claim.reference_values.push_back(pcr);
  return claim;
}

statement::RebuildAttestation SampleAttestation(
    const statement::Claim& claim, absl::string_view origin, uint64_t index,
    const tlog::Hash& leaf_hash, statement::Verdict verdict,
    absl::string_view rebuilder_id) {
  statement::RebuildAttestation attestation;
  attestation.subjects = claim.subjects;
  attestation.claim.origin = std::string(origin);
  attestation.claim.index = static_cast<int64_t>(index);
  attestation.claim.leaf_hash = HashHex(leaf_hash);
  attestation.verdict = verdict;
  if (verdict != statement::Verdict::kFailed) {
    // As an honest witness records them: values that name a calculator
    // computed, the others reported by the recipe.
    std::vector<statement::ReferenceValue> values = claim.reference_values;
    for (statement::ReferenceValue& value : values) {
      if (value.calculator.has_value()) {
        value.computed_by =
            statement::ComputedBy{value.calculator->name, "refsum test"};
        value.calculator.reset();
      } else {
        value.reported_by_recipe = true;
      }
    }
    attestation.rebuilt = statement::RebuiltOutput{claim.subjects, values};
  }
  if (verdict == statement::Verdict::kMismatch) {
    attestation.rebuilt->reference_values[0].digest.hex =
        SeededHex(absl::StrCat("rebuilt by ", rebuilder_id),
                  attestation.rebuilt->reference_values[0].digest.hex.size());
    attestation.report = statement::Report{
        {{"sha256", SeededHex(absl::StrCat("report ", rebuilder_id), 64)}},
        absl::StrCat("https://", rebuilder_id, "/reports/", index)};
  }
  attestation.rebuilder.id = std::string(rebuilder_id);
  attestation.rebuilder.recipe = "nix build .#image";
  attestation.rebuilt_at = "2026-11-27T12:00:00Z";
  return attestation;
}

absl::StatusOr<std::string> ClaimLeaf(const statement::Claim& claim,
                                      const TestSigner& signer) {
  ASSIGN_OR_RETURN(std::string payload, statement::SerializeClaim(claim));
  ASSIGN_OR_RETURN(
      crypto::DsseEnvelope envelope,
      crypto::DsseSign(statement::kPayloadType, payload, *signer.signer));
  return crypto::EncodeDsseLeaf(envelope);
}

absl::StatusOr<std::string> AttestationLeaf(
    const statement::RebuildAttestation& attestation,
    const TestSigner& signer) {
  ASSIGN_OR_RETURN(std::string payload,
                   statement::SerializeRebuildAttestation(attestation));
  ASSIGN_OR_RETURN(
      crypto::DsseEnvelope envelope,
      crypto::DsseSign(statement::kPayloadType, payload, *signer.signer));
  return crypto::EncodeDsseLeaf(envelope);
}

std::string HashHex(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

std::string FlipBit(absl::string_view text, size_t byte, int bit) {
  std::string flipped(text);
  flipped.at(byte) = static_cast<char>(flipped.at(byte) ^ (1 << bit));
  return flipped;
}

tlog::Hash FlipHashBit(const tlog::Hash& hash, size_t byte) {
  tlog::Hash flipped = hash;
  flipped.at(byte) ^= 1;
  return flipped;
}

}  // namespace refsum::client::testing
