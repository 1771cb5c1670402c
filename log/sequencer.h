// The sequencer: the one owner of the log's tree. It takes admitted entries,
// groups them into batches, assigns indices, extends the tree, signs the new
// checkpoint and writes everything in one synced storage batch, and only then
// tells each submitter its index.

#ifndef REFSUM_LOG_SEQUENCER_H_
#define REFSUM_LOG_SEQUENCER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/note.h"
#include "log/metrics.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/proof.h"

namespace refsum::log {

// An entry that passed admission, waiting for its index.
struct PendingEntry {
  std::string leaf;
  tlog::Hash leaf_hash = {};
  std::vector<std::string> lookup_keys;
  // A signer to remember (open mode), stored with the entry's batch.
  std::optional<KnownKey> new_key;
};

// What a submitter learns once its entry is durably integrated.
struct Integrated {
  uint64_t index = 0;
  // True when the leaf was already in the log (or earlier in the batch).
  bool duplicate = false;
  // A stored checkpoint whose tree contains the entry.
  std::shared_ptr<const SignedCheckpoint> checkpoint;
  // For a new entry: every node of its inclusion proof in `checkpoint`'s
  // tree, as the sequencer computed them for the batch (shared by the
  // batch's entries). Null for a duplicate.
  std::shared_ptr<const tlog::HashReader> batch_nodes;
};

struct SequencerOptions {
  // A batch holds at most this many entries.
  size_t max_batch_entries = 1024;
  // How long a batch waits for more entries after its first one arrived.
  // Zero integrates whatever is queued as soon as the previous batch is
  // written, which batches naturally under load (group commit).
  absl::Duration max_batch_delay = absl::ZeroDuration();
  // Where batch sizes, latencies and the tree size are recorded; may be
  // null. Must outlive the sequencer.
  Metrics* metrics = nullptr;
  // Called on the sequencer's thread with every checkpoint that becomes the
  // newest stored one after Start returns, once it is stored and before the
  // callbacks of its batch run (so that, e.g., a witness pusher already
  // knows a checkpoint when a submitter asks to wait for its cosignatures).
  // It may also be called again with a checkpoint it already received. It
  // must not block: the next batch waits for it. May be empty.
  std::function<void(std::shared_ptr<const SignedCheckpoint>)> on_checkpoint;
};

// Thread-safe. Callbacks run on the sequencer's thread, after the batch that
// holds their entry is durably written; they must not block.
class Sequencer {
 public:
  using Callback = std::function<void(absl::StatusOr<Integrated>)>;

  // Resumes the log stored in `storage` (or starts it with a signed empty
  // checkpoint) and starts the sequencer thread. `storage` and `signer` must
  // outlive the sequencer. Returns FailedPrecondition if the stored log has
  // another origin or a checkpoint `signer` did not sign, DataLoss if the
  // stored tree does not match the stored checkpoint, and storage errors.
  static absl::StatusOr<std::unique_ptr<Sequencer>> Start(
      Storage* storage, std::string origin, const crypto::NoteSigner* signer,
      const crypto::NoteVerifier* verifier, SequencerOptions options = {});

  // Stops after integrating every entry already added (see Shutdown).
  ~Sequencer();

  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Queues `entry`; `done` later receives its index and a covering
  // checkpoint, or the error that kept its batch from being stored
  // (Unavailable / ResourceExhausted from storage; nothing of the batch is
  // stored then), or Unavailable once Shutdown has begun.
  void Add(PendingEntry entry, Callback done);

  // Returns the newest stored checkpoint. Never null.
  std::shared_ptr<const SignedCheckpoint> Latest() const;

  // Refuses new entries, integrates the queued ones, and joins the thread.
  // Idempotent.
  void Shutdown();

 private:
  struct Queued {
    PendingEntry entry;
    Callback done;
    absl::Time added;
  };

  // Where a queued entry ends up: a new index, or an existing one.
  struct Placement {
    uint64_t index;
    bool duplicate;
  };

  Sequencer(Storage* storage, std::string origin,
            const crypto::NoteSigner* signer,
            const crypto::NoteVerifier* verifier, SequencerOptions options);

  // Sets range_ and latest_ from what storage holds, or, for an empty store,
  // writes a signed checkpoint of the empty tree.
  absl::Status LoadStoredTree();
  void Run();
  // Waits for the next batch; returns an empty one only when stopping.
  std::vector<Queued> TakeBatch();
  void Integrate(std::vector<Queued> queued);
  // Places each entry, appending new ones to `range` and `batch`.
  absl::StatusOr<std::vector<Placement>> PlaceEntries(
      std::vector<Queued>& queued, tlog::CompactRange& range,
      Batch& batch) const;
  absl::StatusOr<std::shared_ptr<const SignedCheckpoint>> SignTree(
      const tlog::CompactRange& range) const;
  void RecordBatch(const std::vector<Queued>& queued, size_t new_entries,
                   uint64_t tree_size) const;

  Storage* const storage_;
  const std::string origin_;
  const crypto::NoteSigner* const signer_;
  const crypto::NoteVerifier* const verifier_;
  const SequencerOptions options_;
  // Owned by the sequencer thread (and by Start before it runs).
  tlog::CompactRange range_;
  // Set when the stored state is unknown after a failed write; every later
  // entry then fails rather than risk signing a checkpoint inconsistent with
  // one that might have been stored.
  absl::Status broken_;

  mutable absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const SignedCheckpoint> latest_ ABSL_GUARDED_BY(mu_);

  // Serializes joining, so concurrent Shutdown calls are safe.
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_SEQUENCER_H_
