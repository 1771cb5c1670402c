// Test support for the client library's tests: a real log in memory (an
// Ed25519 log key signing C2SP checkpoints, witnesses cosigning them with
// cosignature/v1, an RFC 6962 tree built with CompactRange and NodeStore),
// real DSSE signers for vendors and rebuilders, valid sample claims and
// rebuild attestations, and bundle entries with real inclusion proofs.

#ifndef REFSUM_CLIENT_TESTING_H_
#define REFSUM_CLIENT_TESTING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/status_testing.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "tlog/bundle.h"
#include "tlog/merkle.h"


namespace refsum::client::testing {

// The POSIX time every test witness stamps its cosignatures with.
inline constexpr uint64_t kCosignatureTime = 1767225600;  // 2026-01-01

// Returns a new, empty directory under $TEST_TMPDIR (or /tmp), whose name
// starts with `prefix`.
absl::StatusOr<std::string> NewTempDir(absl::string_view prefix);

// Returns the names of the entries of `dir`, sorted, without "." and "..".
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);

// A DSSE signing key of a vendor or rebuilder.
struct TestSigner {
  std::string name;
  crypto::PrivateKey key;
  std::shared_ptr<const crypto::Signer> signer;

  const crypto::PublicKey& public_key() const { return key.public_key(); }
  // The base64 DER SubjectPublicKeyInfo, as a policy line can give it.
  std::string Base64Spki() const;
};

// Generates a fresh key of `type` for a signer called `name`.
absl::StatusOr<TestSigner> NewTestSigner(absl::string_view name,
                                         crypto::KeyType type);

// A witness: a cosignature/v1 key under its vkey name, and the name a policy
// gives it.
struct TestWitness {
  // The name in the policy's witness line, group and quorum.
  std::string policy_name;
  // The key name in its vkey and signature lines.
  std::string key_name;
  crypto::PrivateKey key;
  std::shared_ptr<const crypto::NoteSigner> cosigner;

  // The type 0x04 verifier key string.
  std::string Vkey() const;
};

// Generates a fresh witness stamping its cosignatures with kCosignatureTime.
absl::StatusOr<TestWitness> NewTestWitness(absl::string_view policy_name,
                                           absl::string_view key_name);

// A log held in memory: its leaves, and an Ed25519 key named by the origin
// that signs checkpoints of any size up to the current one. Copyable: a copy
// shares the keys and can grow a different tree (a fork by the same log).
class TestLog {
 public:
  static absl::StatusOr<TestLog> Create(absl::string_view origin);

  const std::string& origin() const { return origin_; }
  // The type 0x01 verifier key string of the log key.
  const std::string& vkey() const { return vkey_; }
  // The number of leaves appended so far.
  uint64_t size() const { return leaf_hashes_.size(); }
  const std::string& leaf(uint64_t index) const { return leaves_[index]; }
  const tlog::Hash& leaf_hash(uint64_t index) const {
    return leaf_hashes_[index];
  }

  // Appends `leaf` and returns its index.
  uint64_t Append(std::string leaf);

  // The RFC 6962 root of the tree of the first `size` leaves, computed with a
  // CompactRange.
  absl::StatusOr<tlog::Hash> Root(uint64_t size) const;

  // The checkpoint of the first `size` leaves, signed by the log and then
  // cosigned by each of `witnesses`.
  absl::StatusOr<std::string> SignCheckpoint(
      uint64_t size, absl::Span<const TestWitness* const> witnesses) const;

  // Proofs built from a NodeStore of the first `size` (`new_size`) leaves.
  absl::StatusOr<std::vector<tlog::Hash>> InclusionProof(uint64_t index,
                                                         uint64_t size) const;
  absl::StatusOr<std::vector<tlog::Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;

  // The bundle entry of leaf `index`: its leaf, its inclusion proof in the
  // tree of `checkpoint`'s size, that checkpoint, and `public_key_der`.
  absl::StatusOr<tlog::BundleEntry> Entry(
      uint64_t index, const std::string& checkpoint,
      absl::string_view public_key_der) const;

 private:
  TestLog() = default;

  std::string origin_;
  std::string vkey_;
  std::shared_ptr<const crypto::NoteSigner> signer_;
  std::vector<std::string> leaves_;
  std::vector<tlog::Hash> leaf_hashes_;
};

// Returns `hex_digits` lowercase hex digits derived from `seed`, so that
// different seeds give different digests.
std::string SeededHex(absl::string_view seed, size_t hex_digits);

// A valid claim whose artifact digest, commit and reference values derive
// from `seed`: one subject, an AMD SEV-SNP launch measurement (sha384), an
// Intel TDX MRTD (sha384) and a TPM PCR 4 (sha256).
statement::Claim SampleClaim(absl::string_view seed);

// A valid attestation with `verdict` of `claim`, logged at `index` with
// `leaf_hash` in the log `origin`, by rebuilder `rebuilder_id`. MATCH and
// MISMATCH carry the claim's subjects and values as rebuilt (MISMATCH changes
// the first value's digest and carries a report).
statement::RebuildAttestation SampleAttestation(const statement::Claim& claim,
                                                absl::string_view origin,
                                                uint64_t index,
                                                const tlog::Hash& leaf_hash,
                                                statement::Verdict verdict,
                                                absl::string_view rebuilder_id);

// The leaf (DSSE envelope in refsum's protobuf encoding) of `claim` or
// `attestation` signed by `signer`, with the in-toto payload type.
absl::StatusOr<std::string> ClaimLeaf(const statement::Claim& claim,
                                      const TestSigner& signer);
absl::StatusOr<std::string> AttestationLeaf(
    const statement::RebuildAttestation& attestation, const TestSigner& signer);

// Returns the lowercase hex of `hash`.
std::string HashHex(const tlog::Hash& hash);

// Returns `text` with bit `bit` (0-7) of byte `byte` flipped.
std::string FlipBit(absl::string_view text, size_t byte, int bit = 0);

// Returns `hash` with its lowest bit of byte `byte` flipped.
tlog::Hash FlipHashBit(const tlog::Hash& hash, size_t byte = 0);

}  // namespace refsum::client::testing

#endif  // REFSUM_CLIENT_TESTING_H_
