// Admission: every check an entry must pass before the sequencer may append
// it. Nothing is stored here; a rejected submission leaves no trace.

#ifndef REFSUM_LOG_ADMISSION_H_
#define REFSUM_LOG_ADMISSION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "crypto/dsse.h"
#include "crypto/signer.h"
#include "log/sequencer.h"
#include "log/storage.h"

namespace refsum::log {

inline constexpr absl::string_view kRoleVendor = "vendor";
inline constexpr absl::string_view kRoleRebuilder = "rebuilder";
inline constexpr absl::string_view kRoleOpen = "open";

// Reads a --keys file: one signer per line, "vendor NAME PEMFILE" or
// "rebuilder NAME PEMFILE" (PEMFILE relative to the file's directory unless
// absolute); blank lines and lines starting with '#' are ignored. Returns
// InvalidArgument naming the file and line for a malformed line, a bad or
// duplicate key, or a duplicate name.
absl::StatusOr<std::vector<KnownKey>> ReadKeysFile(const std::string& path);

struct AdmissionOptions {
  // The log's origin; attestations must name it.
  std::string origin;
  // Signers admitted by configuration.
  std::vector<KnownKey> keys;
  // Open mode: also admit any key sent with the submission (and remember it).
  bool open = false;
};

// Thread-safe.
class Admission {
 public:
  // Returns InvalidArgument if a configured key's PEM does not parse.
  // `reader` must outlive the Admission.
  static absl::StatusOr<std::unique_ptr<Admission>> Create(
      AdmissionOptions options, const LogReader* reader);

  // Checks a submission against the tree of `tree_size` entries: one
  // signature, an admitted key whose role may submit this kind of statement,
  // a verifying signature, an in-toto payload that parses strictly as a claim
  // or a rebuild attestation, an attestation's claim present in the tree with
  // the named leaf hash and this log's origin and the same subjects, and a
  // leaf of at most 65535 bytes. `public_key_pem` is used only in open mode.
  // Returns InvalidArgument for malformed input, PermissionDenied for an
  // unadmitted key, a wrong role or a bad signature, FailedPrecondition for
  // an attestation whose claim is not (yet) in the log, and storage errors.
  absl::StatusOr<PendingEntry> Admit(const crypto::DsseEnvelope& envelope,
                                     absl::string_view public_key_pem,
                                     uint64_t tree_size) const;

  // Returns the configured signer with `keyid`, if any.
  const KnownKey* FindConfiguredKey(absl::string_view keyid) const;

 private:
  struct Signer {
    KnownKey key;
    std::unique_ptr<crypto::Verifier> verifier;
  };

  // Parses `key`'s PEM and sets its keyid and canonical PEM from it.
  static absl::StatusOr<std::shared_ptr<const Signer>> MakeSigner(KnownKey key);

  using SignerMap =
      absl::flat_hash_map<std::string, std::shared_ptr<const Signer>>;

  Admission(AdmissionOptions options, const LogReader* reader,
            SignerMap configured);

  // Finds the signer of `keyid`: configured, remembered from open mode, or
  // (open mode) the key sent with the submission, which is then returned in
  // *new_key for the sequencer to store.
  absl::StatusOr<std::shared_ptr<const Signer>> ResolveSigner(
      absl::string_view keyid, absl::string_view public_key_pem,
      std::optional<KnownKey>* new_key) const;

  absl::StatusOr<std::vector<std::string>> CheckClaim(
      absl::string_view payload, const KnownKey& signer) const;
  absl::StatusOr<std::vector<std::string>> CheckAttestation(
      absl::string_view payload, const KnownKey& signer,
      uint64_t tree_size) const;

  const AdmissionOptions options_;
  const LogReader* const reader_;
  const SignerMap configured_;
  // Open-mode signers read back from storage, by keyid.
  mutable absl::Mutex mu_;
  mutable SignerMap learned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_ADMISSION_H_
