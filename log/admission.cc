#include "log/admission.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tlog/merkle.h"
#include "tlog/tiles.h"

namespace refsum::log {
namespace {

absl::Status LineError(const std::string& path, int line,
                       absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":", line, ": ", problem));
}

// Returns the predicateType of an in-toto payload without validating the
// rest, so the right strict parser can be chosen.
absl::StatusOr<std::string> PeekPredicateType(absl::string_view payload) {
  ASSIGN_OR_RETURN(encoding::JsonValue document, encoding::ParseJson(payload));
  const encoding::JsonValue* type = document.Find("predicateType");
  if (type == nullptr || type->AsString() == nullptr) {
    return absl::InvalidArgumentError(
        "payload has no string predicateType: it is neither a claim nor a "
        "rebuild attestation");
  }
  return *type->AsString();
}

absl::Status CheckRole(const KnownKey& signer, absl::string_view required) {
  if (signer.role == kRoleOpen || signer.role == required) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "key ", signer.keyid, " (", signer.role, " ", signer.name,
      ") may not submit ",
      required == kRoleVendor ? "claims" : "rebuild attestations"));
}

// A claim's lookup keys: each subject's sha256, each reference value, and
// the source repository and commit.
absl::StatusOr<std::vector<std::string>> ClaimLookupKeys(
    const statement::Claim& claim) {
  const statement::ClaimLookupKeys keys = statement::LookupKeys(claim);
  std::vector<std::string> lookup_keys;
  for (const std::string& hex : keys.subject_sha256) {
    ASSIGN_OR_RETURN(std::string bytes, encoding::HexDecode(hex));
    lookup_keys.push_back(LookupKeyForArtifact(bytes));
  }
  for (const statement::Digest& digest : keys.reference_values) {
    ASSIGN_OR_RETURN(std::string bytes, encoding::HexDecode(digest.hex));
    lookup_keys.push_back(LookupKeyForReferenceValue(digest.algorithm, bytes));
  }
  lookup_keys.push_back(
      LookupKeyForSource(claim.source.repository, claim.source.commit));
  return lookup_keys;
}

}  // namespace

absl::StatusOr<std::vector<KnownKey>> ReadKeysFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string contents, ReadFile(path, 1 << 20));
  std::vector<KnownKey> keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3 ||
        (fields[0] != kRoleVendor && fields[0] != kRoleRebuilder)) {
      return LineError(path, line_number,
                       "expected \"vendor NAME PEMFILE\" or "
                       "\"rebuilder NAME PEMFILE\"");
    }
    absl::StatusOr<crypto::PublicKey> key =
        crypto::ReadPublicKeyFile(ResolvePath(DirectoryOf(path), fields[2]));
    if (!key.ok()) return LineError(path, line_number, key.status().message());
    for (const KnownKey& earlier : keys) {
      if (earlier.keyid == key->keyid() || earlier.name == fields[1]) {
        return LineError(path, line_number,
                         absl::StrCat("signer ", fields[1], " or its key is "
                                      "already listed"));
      }
    }
    keys.push_back(KnownKey{key->keyid(), std::string(fields[0]),
                            std::string(fields[1]), key->ToPem()});
  }
  return keys;
}

absl::StatusOr<std::unique_ptr<Admission>> Admission::Create(
    AdmissionOptions options, const LogReader* reader) {
  SignerMap configured;
  for (const KnownKey& key : options.keys) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Signer> signer, MakeSigner(key));
    configured.emplace(signer->key.keyid, std::move(signer));
  }
  return std::unique_ptr<Admission>(
      new Admission(std::move(options), reader, std::move(configured)));
}

Admission::Admission(AdmissionOptions options, const LogReader* reader,
                     SignerMap configured)
    : options_(std::move(options)),
      reader_(reader),
      configured_(std::move(configured)) {}

const KnownKey* Admission::FindConfiguredKey(absl::string_view keyid) const {
  auto it = configured_.find(keyid);
  return it == configured_.end() ? nullptr : &it->second->key;
}

absl::StatusOr<std::shared_ptr<const Admission::Signer>>
Admission::MakeSigner(KnownKey key) {
  absl::StatusOr<crypto::PublicKey> public_key =
      crypto::PublicKey::FromPem(key.public_key_pem);
  if (!public_key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key: ", public_key.status().message()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Verifier> verifier,
                   crypto::NewVerifier(*public_key));
  key.keyid = public_key->keyid();
  key.public_key_pem = public_key->ToPem();
  return std::make_shared<const Signer>(
      Signer{std::move(key), std::move(verifier)});
}

absl::StatusOr<std::shared_ptr<const Admission::Signer>>
Admission::ResolveSigner(absl::string_view keyid,
                         absl::string_view public_key_pem,
                         std::optional<KnownKey>* new_key) const {
  if (auto it = configured_.find(keyid); it != configured_.end()) {
    return it->second;
  }
  if (!options_.open) {
    return absl::PermissionDeniedError(
        absl::StrCat("key ", keyid, " is not admitted by this log"));
  }
  {
    absl::MutexLock lock(&mu_);
    if (auto it = learned_.find(keyid); it != learned_.end()) {
      return it->second;
    }
  }
  ASSIGN_OR_RETURN(std::optional<KnownKey> stored, reader_->ReadKey(keyid));
  if (stored.has_value()) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Signer> signer,
                     MakeSigner(*std::move(stored)));
    absl::MutexLock lock(&mu_);
    learned_.emplace(std::string(keyid), signer);
    return signer;
  }
  if (public_key_pem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key ", keyid,
        " is unknown to this log; send its public key with the submission"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Signer> signer,
                   MakeSigner(KnownKey{"", std::string(kRoleOpen), "",
                                       std::string(public_key_pem)}));
  if (signer->key.keyid != keyid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the public key sent has keyid ", signer->key.keyid,
        " but the signature names ", keyid));
  }
  // Remembered only once the sequencer has stored it with this entry.
  *new_key = signer->key;
  return signer;
}

absl::StatusOr<PendingEntry> Admission::Admit(
    const crypto::DsseEnvelope& envelope, absl::string_view public_key_pem,
    uint64_t tree_size) const {
  PendingEntry entry;
  entry.leaf = crypto::EncodeDsseLeaf(envelope);
  if (entry.leaf.size() > tlog::kMaxEntrySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("the entry is ", entry.leaf.size(),
                     " bytes as a leaf; the limit is ", tlog::kMaxEntrySize));
  }
  if (envelope.signatures.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the envelope has ", envelope.signatures.size(),
                     " signatures; exactly one is required"));
  }
  const crypto::DsseSignature& signature = envelope.signatures[0];
  if (signature.keyid.empty()) {
    return absl::InvalidArgumentError(
        "the signature has no keyid (hex SHA-256 of the signer's "
        "SubjectPublicKeyInfo)");
  }
  if (envelope.payload_type != statement::kPayloadType) {
    return absl::InvalidArgumentError(
        absl::StrCat("payloadType is \"", envelope.payload_type,
                     "\"; refsum logs only ", statement::kPayloadType));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Signer> signer,
                   ResolveSigner(signature.keyid, public_key_pem,
                                 &entry.new_key));
  if (absl::Status verified = crypto::DsseVerify(envelope, *signer->verifier);
      !verified.ok()) {
    return absl::PermissionDeniedError(verified.message());
  }
  ASSIGN_OR_RETURN(std::string predicate_type,
                   PeekPredicateType(envelope.payload));
  if (predicate_type == statement::kClaimPredicateType) {
    ASSIGN_OR_RETURN(entry.lookup_keys,
                     CheckClaim(envelope.payload, signer->key));
  } else if (predicate_type == statement::kRebuildPredicateType) {
    ASSIGN_OR_RETURN(entry.lookup_keys,
                     CheckAttestation(envelope.payload, signer->key,
                                      tree_size));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "predicateType: \"", absl::CEscape(predicate_type),
        "\" is neither ", statement::kClaimPredicateType, " nor ",
        statement::kRebuildPredicateType));
  }
  entry.leaf_hash = tlog::HashLeaf(entry.leaf);
  return entry;
}

absl::StatusOr<std::vector<std::string>> Admission::CheckClaim(
    absl::string_view payload, const KnownKey& signer) const {
  RETURN_IF_ERROR(CheckRole(signer, kRoleVendor));
  ASSIGN_OR_RETURN(statement::Claim claim, statement::ParseClaim(payload));
  return ClaimLookupKeys(claim);
}

absl::StatusOr<std::vector<std::string>> Admission::CheckAttestation(
    absl::string_view payload, const KnownKey& signer,
    uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckRole(signer, kRoleRebuilder));
  ASSIGN_OR_RETURN(statement::RebuildAttestation attestation,
                   statement::ParseRebuildAttestation(payload));
  const statement::ClaimRef& ref = attestation.claim;
  if (ref.origin != options_.origin) {
    return absl::InvalidArgumentError(
        absl::StrCat("predicate.claim.origin: the attestation is for log \"",
                     absl::CEscape(ref.origin), "\", this log is \"",
                     options_.origin, "\""));
  }
  const auto index = static_cast<uint64_t>(ref.index);
  if (index >= tree_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "predicate.claim.index: entry ", index,
        " is not in the log (tree size ", tree_size, ")"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                   reader_->ReadEntries(index, 1));
  if (leaves.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("predicate.claim.index: entry ", index, " is not stored"));
  }
  const std::string stored_hash = encoding::HexEncode(
      crypto::DigestBytes(tlog::HashLeaf(leaves[0])));
  if (stored_hash != ref.leaf_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "predicate.claim.leafHash: entry ", index, " has leaf hash ",
        stored_hash, ", not ", ref.leaf_hash));
  }
  ASSIGN_OR_RETURN(crypto::DsseEnvelope claim_envelope,
                   crypto::DecodeDsseLeaf(leaves[0]));
  absl::StatusOr<statement::Claim> claim =
      statement::ParseClaim(claim_envelope.payload);
  if (!claim.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "predicate.claim.index: entry ", index, " is not a claim"));
  }
  if (claim->subjects != attestation.subjects) {
    return absl::InvalidArgumentError(
        "subject: an attestation's subject must be its claim's subject");
  }
  return std::vector<std::string>{LookupKeyForAttestationsOf(index)};
}

}  // namespace refsum::log
