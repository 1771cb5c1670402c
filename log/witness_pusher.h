// The log's side of C2SP tlog-witness v1.0.0: pushes the log's checkpoints
// to the witnesses of a tlog-policy, collects their cosignatures, and keeps
// the newest checkpoint whose cosignatures meet the policy's quorum (the
// "witnessed" checkpoint), which the log then serves instead of the newest
// one.
//
// Checkpoints come from the sequencer (SequencerOptions::on_checkpoint ->
// Offer) and are witnessed in rounds: the pusher picks the newest checkpoint
// as the round's target and every witness is asked to cosign that one. Once
// the target's cosignatures meet the quorum it is published, and the next
// round targets whatever is newest then. Asking all witnesses for the same
// checkpoint is what lets a quorum form while the log keeps growing; asking
// each for the newest one at the time it is free would spread their
// cosignatures over different sizes.
//
// Each witness has its own worker thread, so a slow or unreachable witness
// delays only its own cosignatures. A worker remembers the tree size its
// witness last cosigned; it starts out not knowing it, sends "old 0", and
// learns the size from the witness's 409 (text/x.tlog.size) answer. It sends
// a consistency proof from that size to the target, read from storage.
// A 409 that names no size (a witness holding another root for the size the
// request proves from: a possible split view) is reported as an error. The
// wire format is tlog/witness_protocol.h's.
// Errors back off exponentially (min_backoff doubling up to max_backoff),
// and every request has connect and I/O timeouts. A cosignature counts only
// if it verifies under the witness's cosignature/v1 key from the policy;
// lines by other keys in a response are ignored.
//
// A separate publisher thread persists each newly witnessed checkpoint
// (Storage::WriteWitnessedCheckpoint, synced) before Witnessed() returns it
// or any WhenWitnessed callback sees it, so a served witnessed checkpoint
// never goes back after a crash. It also republishes a witnessed checkpoint
// when late cosignatures for the same tree size arrive, so that clients
// with stricter policies than the log's see every cosignature the log got.
//
// Nothing here ever blocks the sequencer: Offer takes a mutex for a few
// instructions and never does I/O.

#ifndef REFSUM_LOG_WITNESS_PUSHER_H_
#define REFSUM_LOG_WITNESS_PUSHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/note.h"
#include "log/metrics.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"
#include "tlog/policy.h"

namespace refsum::log {

struct WitnessPusherOptions {
  // How long connecting to a witness may take.
  absl::Duration connect_timeout = absl::Seconds(5);
  // How long each read or write on a witness connection may take; bounds
  // how long a witness that accepts the connection but never answers holds
  // its worker.
  absl::Duration io_timeout = absl::Seconds(10);
  // The wait after a failed request, doubled after each further failure up
  // to max_backoff, and reset by a success.
  absl::Duration min_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(60);
  // Where pushes and the witnessed tree size are recorded; may be null. Must
  // outlive the pusher.
  Metrics* metrics = nullptr;
  // A PEM file of the CA certificates that https witnesses' certificates
  // must chain to; empty for the system's default CA store. The host name
  // (or IP address) of the URL must match the certificate either way.
  std::string tls_ca_path;
};

// Thread-safe.
class WitnessPusher {
 public:
  // Receives a witnessed checkpoint whose tree has at least the requested
  // size, or Unavailable once the pusher shuts down.
  using WitnessedCallback = std::function<void(
      absl::StatusOr<std::shared_ptr<const SignedCheckpoint>>)>;

  // Starts a worker per witness of `policy` and the publisher, which wait
  // for the first Offer. Every witness needs a URL, its tlog-witness
  // submission prefix ("http://" or "https://", host, optional port and
  // path, no query), which the pusher posts <url>/add-checkpoint to (a final
  // '/' of the prefix is dropped first, so that "https://w.example/" posts
  // to /add-checkpoint); the policy's `log` lines are not used. Reloads the
  // witnessed checkpoint `storage` holds: it must be signed by `log_verifier`
  // (the log's key, its name the log's origin), and is served again if its
  // cosignatures still meet the policy's quorum (the policy may have changed
  // since it was stored; it is dropped otherwise, and witnessing starts over).
  //
  // `storage` and `log_verifier` must outlive the pusher. Returns
  // InvalidArgument naming the policy line of a witness without a usable
  // URL, FailedPrecondition if the stored witnessed checkpoint is not this
  // log's, and storage errors.
  static absl::StatusOr<std::unique_ptr<WitnessPusher>> Start(
      tlog::TlogPolicy policy, Storage* storage,
      const crypto::NoteVerifier* log_verifier,
      WitnessPusherOptions options = {});

  // Shuts down (see Shutdown).
  ~WitnessPusher();

  WitnessPusher(const WitnessPusher&) = delete;
  WitnessPusher& operator=(const WitnessPusher&) = delete;

  // Hands over a checkpoint the log has stored (signed by the log's key).
  // Checkpoints no larger than the newest one offered so far are ignored,
  // so offering the same one twice is harmless. Never blocks on I/O; safe to
  // call from the sequencer's thread, also after Shutdown (it is then
  // ignored).
  void Offer(std::shared_ptr<const SignedCheckpoint> checkpoint);

  // Returns the newest checkpoint that meets the quorum, with the log's
  // signature followed by the witnesses' cosignature lines (in policy
  // order), or null if there is none yet. Its note is stored (see above).
  std::shared_ptr<const SignedCheckpoint> Witnessed() const;

  // Calls `done` once a witnessed checkpoint has at least `size` leaves:
  // right away, on the calling thread, if Witnessed() already has; otherwise
  // later on the publisher's thread, where it must not block. Calls it with
  // Unavailable, instead, once Shutdown has begun. No thread waits
  // meanwhile.
  void WhenWitnessed(uint64_t size, WitnessedCallback done);

  // Stops the workers and the publisher, interrupting requests in flight
  // (each is in any case bounded by the timeouts), joins their threads and
  // fails pending WhenWitnessed callbacks with Unavailable. Idempotent.
  void Shutdown();

 private:
  // A checkpoint that witnesses were asked to cosign, with the valid
  // cosignatures collected for it so far.
  struct Tracked {
    std::shared_ptr<const SignedCheckpoint> checkpoint;
    // The log's note, split: its text and the log's signature line(s).
    crypto::Note note;
    // By index in policy_.witnesses().
    std::map<size_t, crypto::NoteSignature> cosignatures;
  };

  // A witness and its worker.
  struct Worker;

  // What one add-checkpoint request came to.
  struct PushResult;

  // A witnessed checkpoint the publisher is about to store.
  struct Candidate {
    std::shared_ptr<const SignedCheckpoint> witnessed;
    size_t cosigners = 0;
  };

  struct Waiter {
    uint64_t size;
    WitnessedCallback done;
  };

  WitnessPusher(tlog::TlogPolicy policy, Storage* storage,
                const crypto::NoteVerifier* log_verifier,
                WitnessPusherOptions options);

  // Restores the stored witnessed checkpoint, if any (see Start).
  absl::Status Reload();
  // Makes `checkpoint` the target of a new round.
  void StartRoundLocked(std::shared_ptr<const SignedCheckpoint> checkpoint)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts a round with the newest checkpoint if the current round's target
  // is witnessed (or there is none) and a newer checkpoint exists.
  void AdvanceRoundLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RoundOpenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the newest tracked checkpoint whose cosignatures meet the
  // quorum, if publishing it would add something to Witnessed().
  std::optional<Candidate> FindCandidateLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the checkpoint of `tracked` with its cosignatures appended to
  // the note.
  std::shared_ptr<const SignedCheckpoint> WitnessedNote(
      const Tracked& tracked) const;

  void RunWorker(Worker& worker);
  // Picks the checkpoint `worker` pushes next; null when stopping.
  std::shared_ptr<const SignedCheckpoint> NextTarget(Worker& worker,
                                                     absl::Time retry_at);
  // Sends one add-checkpoint request for `target` and interprets the answer.
  PushResult Push(Worker& worker, const SignedCheckpoint& target);
  // Verifies the cosignature lines of a 200 answer to a push of `target`.
  absl::StatusOr<crypto::NoteSignature> VerifyCosignature(
      const Worker& worker, const SignedCheckpoint& target,
      absl::string_view body) const;
  // Keeps a verified cosignature of `target` by the witness `index`.
  void RecordCosignature(size_t index, const SignedCheckpoint& target,
                         crypto::NoteSignature cosignature);

  void RunPublisher();

  const tlog::TlogPolicy policy_;
  Storage* const storage_;
  const crypto::NoteVerifier* const log_verifier_;
  const WitnessPusherOptions options_;
  // One per witness, in policy order. Set before any thread starts.
  std::vector<std::unique_ptr<Worker>> workers_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The newest checkpoint offered.
  std::shared_ptr<const SignedCheckpoint> newest_ ABSL_GUARDED_BY(mu_);
  // The size of the current round's target, an entry of tracked_.
  std::optional<uint64_t> round_size_ ABSL_GUARDED_BY(mu_);
  // The round targets that may still gain cosignatures, by tree size: the
  // current round's, the witnessed one's (late cosignatures are added to
  // it) and any in between whose requests may still be in flight.
  std::map<uint64_t, Tracked> tracked_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const SignedCheckpoint> witnessed_ ABSL_GUARDED_BY(mu_);
  // The number of cosignatures witnessed_ carries.
  size_t witnessed_cosigners_ ABSL_GUARDED_BY(mu_) = 0;
  // Set when tracked_ gained something the publisher should look at.
  bool publish_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);

  // Serializes joining, so that concurrent Shutdown calls are safe.
  absl::Mutex join_mu_;
  std::thread publisher_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_WITNESS_PUSHER_H_
