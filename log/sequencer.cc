#include "log/sequencer.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "log/batch_nodes.h"
#include "log/stored_tree.h"

namespace refsum::log {

absl::StatusOr<std::unique_ptr<Sequencer>> Sequencer::Start(
    Storage* storage, std::string origin, const crypto::NoteSigner* signer,
    const crypto::NoteVerifier* verifier, SequencerOptions options) {
  if (options.max_batch_entries == 0) {
    return absl::InvalidArgumentError("the batch size must be at least 1");
  }
  std::unique_ptr<Sequencer> sequencer(
      new Sequencer(storage, std::move(origin), signer, verifier, options));
  RETURN_IF_ERROR(sequencer->LoadStoredTree());
  absl::MutexLock lock(&sequencer->join_mu_);
  sequencer->thread_ = std::thread([raw = sequencer.get()] { raw->Run(); });
  return sequencer;
}

Sequencer::Sequencer(Storage* storage, std::string origin,
                     const crypto::NoteSigner* signer,
                     const crypto::NoteVerifier* verifier,
                     SequencerOptions options)
    : storage_(storage),
      origin_(std::move(origin)),
      signer_(signer),
      verifier_(verifier),
      options_(options) {}

Sequencer::~Sequencer() { Shutdown(); }

absl::Status Sequencer::LoadStoredTree() {
  ASSIGN_OR_RETURN(std::optional<std::string> note,
                   storage_->ReadCheckpoint());
  if (!note.has_value()) {
    range_ = tlog::CompactRange();
    ASSIGN_OR_RETURN(std::shared_ptr<const SignedCheckpoint> empty,
                     SignTree(range_));
    Batch batch;
    batch.checkpoint = empty->note;
    RETURN_IF_ERROR(storage_->Write(batch));
    absl::MutexLock lock(&mu_);
    latest_ = std::move(empty);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   OpenStoredCheckpoint(*note, origin_, *verifier_));
  ASSIGN_OR_RETURN(range_, ReadStoredRange(*storage_, checkpoint));
  auto latest = std::make_shared<SignedCheckpoint>();
  latest->checkpoint = std::move(checkpoint);
  latest->note = *std::move(note);
  absl::MutexLock lock(&mu_);
  latest_ = std::move(latest);
  return absl::OkStatus();
}

void Sequencer::Add(PendingEntry entry, Callback done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Queued{std::move(entry), std::move(done), absl::Now()});
      return;
    }
  }
  done(absl::UnavailableError("the log is shutting down"));
}

std::shared_ptr<const SignedCheckpoint> Sequencer::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

void Sequencer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

void Sequencer::Run() {
  while (true) {
    std::vector<Queued> batch = TakeBatch();
    if (batch.empty()) return;
    Integrate(std::move(batch));
  }
}

std::vector<Sequencer::Queued> Sequencer::TakeBatch() {
  absl::MutexLock lock(&mu_);
  auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  };
  mu_.Await(absl::Condition(&has_work));
  if (queue_.empty()) return {};
  if (options_.max_batch_delay > absl::ZeroDuration()) {
    const absl::Time deadline = queue_.front().added + options_.max_batch_delay;
    auto full_or_stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return queue_.size() >= options_.max_batch_entries || stopping_;
    };
    mu_.AwaitWithDeadline(absl::Condition(&full_or_stopping), deadline);
  }
  const size_t count = std::min(queue_.size(), options_.max_batch_entries);
  std::vector<Queued> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

absl::StatusOr<std::shared_ptr<const SignedCheckpoint>> Sequencer::SignTree(
    const tlog::CompactRange& range) const {
  ASSIGN_OR_RETURN(tlog::Hash root, range.Root());
  auto signed_checkpoint = std::make_shared<SignedCheckpoint>();
  signed_checkpoint->checkpoint = tlog::Checkpoint{origin_, range.end(), root, {}};
  ASSIGN_OR_RETURN(std::string body,
                   tlog::FormatCheckpointBody(signed_checkpoint->checkpoint));
  const crypto::NoteSigner* signers[] = {signer_};
  ASSIGN_OR_RETURN(signed_checkpoint->note, crypto::SignNote(body, signers));
  return signed_checkpoint;
}

absl::StatusOr<std::vector<Sequencer::Placement>> Sequencer::PlaceEntries(
    std::vector<Queued>& queued, tlog::CompactRange& range,
    Batch& batch) const {
  std::vector<Placement> placements;
  placements.reserve(queued.size());
  absl::flat_hash_map<tlog::Hash, uint64_t> batch_indices;
  const auto store_node = [&batch](const tlog::NodeId& id,
                                   const tlog::Hash& hash) {
    batch.nodes.emplace_back(id, hash);
  };
  for (Queued& item : queued) {
    PendingEntry& entry = item.entry;
    if (auto it = batch_indices.find(entry.leaf_hash);
        it != batch_indices.end()) {
      placements.push_back({it->second, true});
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<uint64_t> existing,
                     storage_->FindLeafHash(entry.leaf_hash));
    if (existing.has_value()) {
      placements.push_back({*existing, true});
      continue;
    }
    const uint64_t index = range.end();
    RETURN_IF_ERROR(range.AppendLeaf(entry.leaf_hash, store_node));
    batch_indices.emplace(entry.leaf_hash, index);
    placements.push_back({index, false});
    if (entry.new_key.has_value()) batch.keys.push_back(*entry.new_key);
    batch.entries.push_back(StoredEntry{index, std::move(entry.leaf),
                                        entry.leaf_hash,
                                        std::move(entry.lookup_keys)});
  }
  return placements;
}

void Sequencer::RecordBatch(const std::vector<Queued>& queued,
                            size_t new_entries, uint64_t tree_size) const {
  Metrics* metrics = options_.metrics;
  if (metrics == nullptr) return;
  metrics->ObserveBatchEntries(new_entries);
  metrics->SetTreeSize(tree_size);
  const absl::Time now = absl::Now();
  for (const Queued& item : queued) {
    metrics->ObserveIntegrationLatency(now - item.added);
  }
}

void Sequencer::Integrate(std::vector<Queued> queued) {
  const auto fail_all = [&queued](const absl::Status& status) {
    for (Queued& item : queued) item.done(status);
  };
  if (!broken_.ok()) return fail_all(broken_);

  tlog::CompactRange range = range_;
  Batch batch;
  absl::StatusOr<std::vector<Placement>> placements =
      PlaceEntries(queued, range, batch);
  if (!placements.ok()) return fail_all(placements.status());

  std::shared_ptr<const SignedCheckpoint> checkpoint = Latest();
  std::shared_ptr<const BatchNodes> batch_nodes;
  if (!batch.entries.empty()) {
    absl::StatusOr<std::shared_ptr<const SignedCheckpoint>> signed_tree =
        SignTree(range);
    if (!signed_tree.ok()) return fail_all(signed_tree.status());
    batch.checkpoint = (*signed_tree)->note;
    if (absl::Status status = storage_->Write(batch); !status.ok()) {
      // A failed write may still have reached the disk; only what storage
      // now says is safe to extend.
      if (absl::Status reloaded = LoadStoredTree(); !reloaded.ok()) {
        broken_ = absl::UnavailableError(absl::StrCat(
            "the log stopped accepting entries after a storage failure (",
            status.message(), ") and cannot read its state back: ",
            reloaded.message()));
      } else if (options_.on_checkpoint) {
        // The failed write may have stored the batch after all, and its
        // checkpoint is then the newest.
        options_.on_checkpoint(Latest());
      }
      return fail_all(status);
    }
    batch_nodes = std::make_shared<const BatchNodes>(range_, batch.nodes);
    range_ = std::move(range);
    checkpoint = *std::move(signed_tree);
    {
      absl::MutexLock lock(&mu_);
      latest_ = checkpoint;
    }
    if (options_.on_checkpoint) options_.on_checkpoint(checkpoint);
  }
  RecordBatch(queued, batch.entries.size(), checkpoint->checkpoint.size);
  for (size_t i = 0; i < queued.size(); ++i) {
    const Placement& placement = (*placements)[i];
    queued[i].done(Integrated{
        placement.index, placement.duplicate, checkpoint,
        placement.duplicate ? nullptr : batch_nodes});
  }
}

}  // namespace refsum::log
