// Test support for the log's unit tests: a real log (RocksDB storage in a
// fresh directory, an Ed25519 log key and a running sequencer), real DSSE
// signers with the roles the log admits, and valid sample claims and rebuild
// attestations to sign.

#ifndef REFSUM_LOG_TESTING_H_
#define REFSUM_LOG_TESTING_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "log/sequencer.h"
#include "log/storage.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "base/status_testing.h"
#include "tlog/merkle.h"


namespace refsum::log {

// Lets gtest print a KnownKey in failure messages.
void PrintTo(const KnownKey& key, std::ostream* os);

namespace testing {

// An upper bound for anything a test waits for; never an expectation of how
// fast the machine is.
inline constexpr absl::Duration kTimeout = absl::Seconds(120);

// Returns a new, empty directory under $TEST_TMPDIR (or /tmp), whose name
// starts with `prefix`.
absl::StatusOr<std::string> NewTempDir(absl::string_view prefix);

// Writes `contents` to `path` (mode 0644), replacing it.
absl::Status WriteTestFile(const std::string& path, absl::string_view contents);

// A fresh Ed25519 log key for `origin`: its checkpoint signer and verifier.
struct TestLogKey {
  std::unique_ptr<crypto::NoteSigner> signer;
  std::unique_ptr<crypto::NoteVerifier> verifier;
};
absl::StatusOr<TestLogKey> NewTestLogKey(absl::string_view origin);

// A real log: RocksDB storage in a fresh directory, a fresh Ed25519 log key
// and a running sequencer that integrates each entry as soon as it can.
class TestLog {
 public:
  // Opens storage in a new directory and starts the sequencer with
  // `options`.
  static absl::StatusOr<std::unique_ptr<TestLog>> Create(
      absl::string_view origin, SequencerOptions options = {});

  // Shuts the sequencer down before the storage closes.
  ~TestLog();

  TestLog(const TestLog&) = delete;
  TestLog& operator=(const TestLog&) = delete;

  const std::string& origin() const { return origin_; }
  const std::string& dir() const { return dir_; }
  Storage& storage() { return *storage_; }
  Sequencer& sequencer() { return *sequencer_; }
  // The verifier of the log's checkpoint signatures.
  const crypto::NoteVerifier& verifier() const { return *verifier_; }
  // The log's verifier key, as a tlog-policy `log` line takes it.
  const std::string& vkey() const { return vkey_; }
  // The number of entries in the newest checkpoint.
  uint64_t size() const;

  // Adds `entry` to the sequencer and waits (at most kTimeout) until it is
  // integrated. Returns the sequencer's result, or DeadlineExceeded.
  absl::StatusOr<Integrated> Append(PendingEntry entry);

 private:
  TestLog() = default;

  std::string origin_;
  std::string dir_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<crypto::NoteSigner> signer_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  std::string vkey_;
  std::unique_ptr<Sequencer> sequencer_;
};

// A DSSE signing key and the KnownKey a log would hold for it.
struct TestSigner {
  std::shared_ptr<const crypto::Signer> signer;
  // keyid, role, name and canonical PEM of the public key.
  KnownKey key;

  const crypto::PublicKey& public_key() const { return signer->public_key(); }
};

// Generates a fresh key of `type` for a signer with `role` and `name`.
absl::StatusOr<TestSigner> NewTestSigner(crypto::KeyType type,
                                         absl::string_view role,
                                         absl::string_view name);

// Returns `hex_digits` lowercase hex digits derived from `seed` (SHA-256
// based), so that different seeds give different digests.
std::string SeededHex(absl::string_view seed, size_t hex_digits);

// A valid claim whose artifact digest, commit and reference values all
// derive from `seed`: one subject, an AMD SEV-SNP launch measurement
// (sha384) and a TPM PCR 4 (sha256) value.
statement::Claim SampleClaim(absl::string_view seed);

// A valid MATCH attestation of `claim`, logged at `index` with leaf hash
// `leaf_hash` in the log `origin`.
statement::RebuildAttestation SampleAttestation(const statement::Claim& claim,
                                                absl::string_view origin,
                                                uint64_t index,
                                                const tlog::Hash& leaf_hash);

// Serializes and signs a claim or attestation as a DSSE envelope with the
// in-toto payload type.
absl::StatusOr<crypto::DsseEnvelope> SignClaim(const statement::Claim& claim,
                                               const TestSigner& signer);
absl::StatusOr<crypto::DsseEnvelope> SignAttestation(
    const statement::RebuildAttestation& attestation, const TestSigner& signer);

// Signs an arbitrary payload with `payload_type`.
absl::StatusOr<crypto::DsseEnvelope> SignPayload(absl::string_view payload_type,
                                                 absl::string_view payload,
                                                 const TestSigner& signer);

// Returns the lowercase hex of `hash`.
std::string HashHex(const tlog::Hash& hash);

}  // namespace testing
}  // namespace refsum::log

#endif  // REFSUM_LOG_TESTING_H_
