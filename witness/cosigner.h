// The cosigning half of a witness: C2SP tlog-witness v1.0.0 add-checkpoint,
// answered with C2SP tlog-cosignature v1.0.1 cosignature/v1 lines. It is
// independent of HTTP: AddCheckpoint takes a request body and returns the
// status, content type and body to answer with (witness/http_server.h puts
// it on the wire).
//
// For each configured log the cosigner keeps the newest checkpoint it
// cosigned, and cosigns a new one only if
//   - the log's key (the configured vkey, named by the origin) signed it
//     (otherwise 403; an origin that is not configured gets 404),
//   - the request's old size is at most the checkpoint's size (else 400) and
//     equals the stored size, 0 before the first cosignature (else 409 with
//     Content-Type text/x.tlog.size and the stored size as body, from which
//     the log learns where to prove from),
//   - for an unchanged size, the root is the stored one (else 409: a fork;
//     never cosigned),
//   - and the consistency proof from the stored (size, root) to the new one
//     verifies (else 422). Before any cosignature the stored tree is the
//     empty one, so the first checkpoint is taken on trust with old size 0
//     and an empty proof, as the spec has it.
// Malformed bodies and checkpoints get 400. On success the new checkpoint is
// written to disk, atomically and synced, before the cosignature is
// returned; a failed write answers 500 (503 when worth retrying, e.g. a full
// disk) and changes nothing.
//
// State: <state_dir>/cosigned/checkpoint-<hex SHA-256 of the origin>, one
// file per origin, holding the checkpoint note with the log's signature (the
// format of client::CheckpointStore). It is read once, by Create.
//
// Thread-safe. Requests for one origin are serialized, so the check of the
// old size and the write of the new state are atomic (the rollback race the
// spec describes cannot happen); requests for different origins run in
// parallel. One Cosigner per state directory: two processes sharing one
// would each trust their own view of the stored size.

#ifndef REFSUM_WITNESS_COSIGNER_H_
#define REFSUM_WITNESS_COSIGNER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "client/state.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "witness/config.h"

namespace refsum::witness {

struct AddCheckpointResponse {
  // The HTTP status code.
  int status = 200;
  std::string content_type;
  // For 200, one cosignature line "— <name> <base64>\n"; for 409 on the old
  // size, the stored size and a newline; otherwise a message for people.
  std::string body;
  // Set when the log's own signature verified but the checkpoint is not
  // consistent with the stored one (a fork) or its proof fails: the request
  // may prove log misbehaviour and is worth keeping (the spec lets a witness
  // log it).
  bool evidence = false;
  // For 500 and 503, what went wrong inside the witness, for its operator's
  // log; never sent to the client (it names files).
  absl::Status error;
};

class Cosigner {
 public:
  // Creates a cosigner named `name` (a valid note key name) signing with the
  // Ed25519 `key` and the time of `clock`, for `logs` (distinct origins,
  // each with a type 0x01 vkey named by the origin), keeping state under
  // `state_dir` (created if missing). Loads the stored state. Returns
  // InvalidArgument for a bad name, key, vkey or duplicate origin, DataLoss
  // for a state file that does not hold a checkpoint of its origin, and the
  // file system's errors.
  static absl::StatusOr<std::unique_ptr<Cosigner>> Create(
      absl::string_view name, const crypto::PrivateKey& key,
      absl::Span<const LogConfig> logs, const std::string& state_dir,
      crypto::Clock clock = crypto::SystemClock());

  Cosigner(const Cosigner&) = delete;
  Cosigner& operator=(const Cosigner&) = delete;

  // Handles one add-checkpoint request body, as described above.
  AddCheckpointResponse AddCheckpoint(absl::string_view body);

  // Returns the newest checkpoint cosigned for `origin`, or nullopt before
  // the first. Returns NotFound for an origin that is not configured.
  absl::StatusOr<std::optional<client::StoredCheckpoint>> Latest(
      absl::string_view origin) const;

  const std::string& name() const { return name_; }
  // The type 0x04 verifier key of the cosignatures, as keygen writes it to
  // cosign.vkey.
  const std::string& vkey() const { return vkey_; }

 private:
  // One configured log. The map holding these never changes after Create.
  struct Log {
    std::unique_ptr<crypto::NoteVerifier> verifier;
    // Held from the check of the old size until the new state is stored.
    mutable absl::Mutex mu;
    std::optional<client::StoredCheckpoint> latest ABSL_GUARDED_BY(mu);
  };

  Cosigner(std::string name, std::string vkey,
           std::unique_ptr<crypto::NoteSigner> signer,
           client::CheckpointStore store,
           absl::flat_hash_map<std::string, std::unique_ptr<Log>> logs);

  const std::string name_;
  const std::string vkey_;
  const std::unique_ptr<crypto::NoteSigner> signer_;
  // Writes of one origin are serialized by its Log::mu; writes of different
  // origins go to different files (WriteFileAtomically uses a fresh
  // temporary file each time).
  const client::CheckpointStore store_;
  const absl::flat_hash_map<std::string, std::unique_ptr<Log>> logs_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_COSIGNER_H_
