#include "witness/follower.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>

#include <algorithm>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/state.h"
#include "crypto/dsse.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "witness/files.h"

namespace refsum::witness {
namespace {

constexpr char kPositionFile[] = "position";
constexpr char kAttestationsDir[] = "attestations";
constexpr char kCheckpointsDir[] = "checkpoints";
constexpr char kRecordSuffix[] = ".json";
constexpr char kSubmittedSuffix[] = ".submitted";

// Operator messages: the witness has no other log.
void Tell(absl::string_view origin, absl::string_view message) {
  std::fprintf(stderr, "refsum-witness: log %.*s: %.*s\n",
               static_cast<int>(origin.size()), origin.data(),
               static_cast<int>(message.size()), message.data());
}

absl::StatusOr<uint64_t> ReadPosition(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, 64);
  if (absl::IsNotFound(text.status())) return 0;
  if (!text.ok()) return text.status();
  uint64_t position = 0;
  absl::string_view digits = *text;
  if (!absl::ConsumeSuffix(&digits, "\n") ||
      !absl::SimpleAtoi(digits, &position)) {
    return absl::DataLossError(
        absl::StrCat(path, " does not hold a position: \"", *text, "\""));
  }
  return position;
}

// Reads which claims have a recorded envelope and which of those the log
// has accepted, from the file names in `dir`.
absl::Status ListRecords(const std::string& dir, std::set<int64_t>* recorded,
                         std::set<int64_t>* submitted) {
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("listing ", dir));
  }
  while (const struct dirent* entry = readdir(listing)) {
    absl::string_view name = entry->d_name;
    int64_t index = 0;
    if (absl::ConsumeSuffix(&name, kRecordSuffix) &&
        absl::SimpleAtoi(name, &index)) {
      recorded->insert(index);
    } else if (absl::ConsumeSuffix(&name, kSubmittedSuffix) &&
               absl::SimpleAtoi(name, &index)) {
      submitted->insert(index);
    }
  }
  closedir(listing);
  return absl::OkStatus();
}

}  // namespace

std::string RebuildGitDir(absl::string_view state_dir) {
  return absl::StrCat(state_dir, "/rebuild/git");
}

std::string RebuildBuildsDir(absl::string_view state_dir) {
  return absl::StrCat(state_dir, "/rebuild/builds");
}

std::string FollowerStateDir(absl::string_view state_dir,
                             absl::string_view origin) {
  return absl::StrCat(state_dir, "/rebuild/logs/", crypto::Sha256Hex(origin));
}

absl::StatusOr<std::unique_ptr<Follower>> Follower::Create(
    FollowerOptions options, const Rebuilder* rebuilder, ThreadPool* pool) {
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteVerifier> verifier,
                   crypto::NewNoteVerifierFromKey(options.log.vkey));
  ASSIGN_OR_RETURN(std::unique_ptr<client::LogClient> client,
                   client::LogClient::Connect(options.log.grpc_address,
                                              options.rpc_deadline,
                                              options.log.tls_ca_pem));
  const std::string records =
      absl::StrCat(options.state_dir, "/", kAttestationsDir);
  RETURN_IF_ERROR(MakeDirectories(records, 0700));
  // Says whose state this is, for the operator reading the directory.
  RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(options.state_dir, "/origin"),
                          options.log.origin + "\n", 0644));
  ASSIGN_OR_RETURN(
      const uint64_t position,
      ReadPosition(absl::StrCat(options.state_dir, "/", kPositionFile)));
  std::set<int64_t> recorded;
  std::set<int64_t> submitted;
  RETURN_IF_ERROR(ListRecords(records, &recorded, &submitted));
  return absl::WrapUnique(new Follower(std::move(options), rebuilder, pool,
                                       std::move(client), std::move(verifier),
                                       position, std::move(recorded),
                                       std::move(submitted)));
}

Follower::Follower(FollowerOptions options, const Rebuilder* rebuilder,
                   ThreadPool* pool, std::unique_ptr<client::LogClient> client,
                   std::unique_ptr<crypto::NoteVerifier> verifier,
                   uint64_t position, std::set<int64_t> recorded,
                   std::set<int64_t> submitted)
    : options_(std::move(options)),
      rebuilder_(rebuilder),
      pool_(pool),
      client_(std::move(client)),
      verifier_(std::move(verifier)),
      position_(position),
      scanned_(position),
      recorded_(std::move(recorded)),
      submitted_(std::move(submitted)) {}

Follower::~Follower() { Shutdown(); }

void Follower::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Follower::RequestShutdown() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (!cancel_.HasBeenNotified()) cancel_.Notify();
}

void Follower::Shutdown() {
  RequestShutdown();
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* outstanding) { return *outstanding == 0; }, &outstanding_));
}

Follower::Progress Follower::progress() const {
  absl::MutexLock lock(&mu_);
  Progress progress;
  progress.position = position_;
  progress.scanned = scanned_;
  progress.in_flight = in_flight_.size();
  progress.refusal = refusal_;
  for (const int64_t index : recorded_) {
    if (submitted_.count(index) == 0) ++progress.unsubmitted;
  }
  return progress;
}

std::string Follower::CheckpointsDir() const {
  return absl::StrCat(options_.state_dir, "/", kCheckpointsDir);
}

std::string Follower::RecordPath(int64_t index) const {
  return absl::StrCat(options_.state_dir, "/", kAttestationsDir, "/", index,
                      kRecordSuffix);
}

std::string Follower::SubmittedPath(int64_t index) const {
  return absl::StrCat(options_.state_dir, "/", kAttestationsDir, "/", index,
                      kSubmittedSuffix);
}

void Follower::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      wake_ = false;
      const absl::Time now = absl::Now();
      while (!retries_.empty() && retries_.front().due <= now) {
        Job job = std::move(retries_.front().job);
        retries_.pop_front();
        ++outstanding_;
        pool_->Schedule(
            [this, job = std::move(job)]() mutable { RunJob(std::move(job)); });
      }
    }
    SubmitRecorded();
    Scan();
    PersistPosition();
    absl::MutexLock lock(&mu_);
    absl::Duration wait = options_.poll_interval;
    if (!retries_.empty()) {
      wait = std::min(wait, retries_.front().due - absl::Now());
    }
    const auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || wake_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken),
                         std::max(wait, absl::ZeroDuration()));
  }
}

void Follower::Scan() {
  absl::StatusOr<std::string> note = client_->GetCheckpoint();
  if (!note.ok()) {
    Tell(options_.log.origin, note.status().ToString());
    return;
  }
  const crypto::NoteVerifier* verifiers[] = {verifier_.get()};
  absl::StatusOr<crypto::VerifiedNote> opened =
      crypto::OpenNote(*note, verifiers);
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      opened.ok() ? tlog::ParseCheckpointBody(opened->text)
                  : absl::StatusOr<tlog::Checkpoint>(opened.status());
  if (!checkpoint.ok() || checkpoint->origin != options_.log.origin) {
    const std::string refusal =
        absl::StrCat("the log's checkpoint does not verify: ",
                     checkpoint.ok() ? "another origin"
                                     : checkpoint.status().ToString());
    Tell(options_.log.origin, refusal);
    absl::MutexLock lock(&mu_);
    refusal_ = refusal;
    return;
  }
  // Only a history that extends the one followed so far is read.
  const absl::Status advanced = client::AdvanceCheckpoint(
      client::CheckpointStore(CheckpointsDir()), *checkpoint, *note,
      [this](uint64_t old_size, uint64_t new_size) {
        return client_->GetConsistencyProof(old_size, new_size);
      });
  {
    absl::MutexLock lock(&mu_);
    refusal_ = advanced.ok() ? "" : std::string(advanced.message());
  }
  if (!advanced.ok()) {
    Tell(options_.log.origin,
         absl::StrCat("refusing the log's checkpoint (possible log "
                      "misbehaviour): ",
                      advanced.message()));
    return;
  }
  while (true) {
    uint64_t start;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || scanned_ >= checkpoint->size ||
          in_flight_.size() >= options_.max_in_flight) {
        return;
      }
      start = scanned_;
    }
    const uint64_t count =
        std::min(options_.batch_size, checkpoint->size - start);
    absl::StatusOr<std::vector<std::string>> leaves =
        client_->GetEntries(start, count);
    if (!leaves.ok()) {
      Tell(options_.log.origin, leaves.status().ToString());
      return;
    }
    for (size_t i = 0; i < leaves->size(); ++i) {
      Consider(static_cast<int64_t>(start + i), (*leaves)[i]);
    }
    absl::MutexLock lock(&mu_);
    scanned_ = start + leaves->size();
  }
}

void Follower::Consider(int64_t index, const std::string& leaf) {
  // Leaves that are not claims in scope are none of the rebuilder's
  // business, whatever they are.
  const absl::StatusOr<crypto::DsseEnvelope> envelope =
      crypto::DecodeDsseLeaf(leaf);
  if (!envelope.ok() || envelope->payload_type != statement::kPayloadType) {
    return;
  }
  absl::StatusOr<statement::Claim> claim =
      statement::ParseClaim(envelope->payload);
  if (!claim.ok()) return;
  const ScopeConfig* scope =
      FindScope(options_.scopes, claim->source.repository);
  if (scope == nullptr) return;
  {
    absl::MutexLock lock(&mu_);
    // Attested before a restart: the recorded envelope is submitted
    // instead, never a new one.
    if (recorded_.count(index) != 0) return;
    in_flight_.insert(index);
  }
  Job job;
  job.claim.ref.origin = options_.log.origin;
  job.claim.ref.index = index;
  const tlog::Hash leaf_hash = tlog::HashLeaf(leaf);
  job.claim.ref.leaf_hash = encoding::HexEncode(absl::string_view(
      reinterpret_cast<const char*>(leaf_hash.data()), leaf_hash.size()));
  job.claim.claim = *std::move(claim);
  job.scope = scope;
  Schedule(std::move(job));
}

void Follower::Schedule(Job job) {
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  pool_->Schedule(
      [this, job = std::move(job)]() mutable { RunJob(std::move(job)); });
}

void Follower::RunJob(Job job) {
  const int64_t index = job.claim.ref.index;
  const auto finish = [this]() {
    absl::MutexLock lock(&mu_);
    --outstanding_;
  };
  const auto retry_later = [&](const absl::Status& error, int attempt) {
    Tell(options_.log.origin,
         absl::StrCat("claim ", index, ": ", error.ToString(),
                      "; trying again later"));
    absl::MutexLock lock(&mu_);
    job.attempt = attempt;
    const absl::Time due =
        absl::Now() + options_.retry_delay *
                          (int64_t{1} << std::clamp(job.attempt - 1, 0, 16));
    auto position =
        std::find_if(retries_.begin(), retries_.end(),
                     [&](const Retry& retry) { return retry.due > due; });
    retries_.insert(position, Retry{due, std::move(job)});
    --outstanding_;
  };
  if (cancel_.HasBeenNotified()) return finish();

  absl::StatusOr<RebuildOutcome> outcome =
      rebuilder_->Rebuild(job.claim, *job.scope, &cancel_);
  if (absl::IsCancelled(outcome.status())) return finish();
  if (!outcome.ok()) {
    if (job.attempt + 1 < options_.max_attempts) {
      return retry_later(outcome.status(), job.attempt + 1);
    }
    outcome = rebuilder_->AttestFailure(
        job.claim, *job.scope,
        absl::StrCat("gave up after ", options_.max_attempts,
                     " attempts: ", outcome.status().ToString()));
    if (!outcome.ok()) return retry_later(outcome.status(), job.attempt);
  }
  // Recorded before it is submitted: see the top of follower.h.
  const absl::Status recorded =
      WriteFileAtomically(RecordPath(index), outcome->envelope_json, 0600);
  if (!recorded.ok()) return retry_later(recorded, job.attempt);
  Tell(options_.log.origin,
       absl::StrCat("claim ", index, ": ",
                    statement::VerdictName(outcome->attestation.verdict),
                    outcome->summary.empty() ? "" : ": ", outcome->summary));
  absl::MutexLock lock(&mu_);
  in_flight_.erase(index);
  recorded_.insert(index);
  wake_ = true;
  --outstanding_;
}

void Follower::SubmitRecorded() {
  std::vector<int64_t> unsubmitted;
  {
    absl::MutexLock lock(&mu_);
    for (const int64_t index : recorded_) {
      if (submitted_.count(index) == 0) unsubmitted.push_back(index);
    }
  }
  for (const int64_t index : unsubmitted) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<std::string> envelope = ReadFile(RecordPath(index));
    if (!envelope.ok()) {
      Tell(options_.log.origin, envelope.status().ToString());
      continue;
    }
    absl::StatusOr<refsum::v1::SubmitResponse> response =
        client_->Submit(*envelope, options_.public_key_pem);
    if (!response.ok()) {
      Tell(options_.log.origin,
           absl::StrCat("submitting the attestation of claim ", index, ": ",
                        response.status().ToString()));
      // An unreachable log refuses the next one just the same.
      if (absl::IsUnavailable(response.status()) ||
          absl::IsDeadlineExceeded(response.status())) {
        return;
      }
      continue;
    }
    const absl::Status marked = WriteFileAtomically(
        SubmittedPath(index), absl::StrCat(response->index(), "\n"), 0644);
    if (!marked.ok()) {
      // Submitted again later, which the log takes as a duplicate.
      Tell(options_.log.origin, marked.ToString());
      continue;
    }
    absl::MutexLock lock(&mu_);
    submitted_.insert(index);
  }
}

void Follower::PersistPosition() {
  uint64_t position;
  {
    absl::MutexLock lock(&mu_);
    position = in_flight_.empty()
                   ? scanned_
                   : std::min<uint64_t>(scanned_, *in_flight_.begin());
    if (position == position_) return;
  }
  const absl::Status written =
      WriteFileAtomically(absl::StrCat(options_.state_dir, "/", kPositionFile),
                          absl::StrCat(position, "\n"), 0644);
  if (!written.ok()) {
    Tell(options_.log.origin, written.ToString());
    return;
  }
  absl::MutexLock lock(&mu_);
  position_ = position;
}

RebuildPipeline::~RebuildPipeline() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RebuildPipeline>> RebuildPipeline::Start(
    const WitnessConfig& config, const crypto::PrivateKey& rebuild_key,
    const std::string& report_url, RebuildPipelineOptions options) {
  auto pipeline = absl::WrapUnique(new RebuildPipeline());
  if (config.scopes.empty()) return pipeline;

  pipeline->sandbox_ = std::make_unique<Sandbox>(options.sandbox);
  const std::string builds = RebuildBuildsDir(config.state_dir);
  // Whatever a crash left there belongs to no rebuild any more.
  RETURN_IF_ERROR(RemoveTree(builds));
  RETURN_IF_ERROR(pipeline->sandbox_->SelfTest(builds));
  options.git.cache_dir = RebuildGitDir(config.state_dir);
  pipeline->git_ = std::make_unique<GitFetcher>(options.git);

  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(rebuild_key));
  RebuilderOptions rebuilder;
  rebuilder.name = config.name;
  rebuilder.signer = std::move(signer);
  rebuilder.work_dir = builds;
  rebuilder.reports_dir = ReportsDir(config.state_dir);
  rebuilder.report_url = report_url;
  rebuilder.limits = config.limits;
  rebuilder.diffoscope_path = options.diffoscope_path;
  pipeline->rebuilder_ = std::make_unique<Rebuilder>(
      std::move(rebuilder), pipeline->sandbox_.get(), pipeline->git_.get());
  pipeline->pool_ = std::make_unique<ThreadPool>(config.parallelism);

  for (const LogConfig& log : config.logs) {
    FollowerOptions follower;
    follower.log = log;
    follower.scopes = config.scopes;
    follower.state_dir = FollowerStateDir(config.state_dir, log.origin);
    follower.public_key_pem = rebuild_key.public_key().ToPem();
    follower.poll_interval = options.poll_interval;
    follower.retry_delay = options.retry_delay;
    ASSIGN_OR_RETURN(
        std::unique_ptr<Follower> started,
        Follower::Create(std::move(follower), pipeline->rebuilder_.get(),
                         pipeline->pool_.get()));
    pipeline->origins_.push_back(log.origin);
    pipeline->followers_.push_back(std::move(started));
  }
  for (const std::unique_ptr<Follower>& follower : pipeline->followers_) {
    follower->Start();
  }
  return pipeline;
}

void RebuildPipeline::Shutdown() {
  // All at once first, so that no follower waits for a pool thread busy
  // with another follower's rebuild.
  for (const std::unique_ptr<Follower>& follower : followers_) {
    follower->RequestShutdown();
  }
  for (const std::unique_ptr<Follower>& follower : followers_) {
    follower->Shutdown();
  }
}

const Follower* RebuildPipeline::follower(absl::string_view origin) const {
  for (size_t i = 0; i < origins_.size(); ++i) {
    if (origins_[i] == origin) return followers_[i].get();
  }
  return nullptr;
}

}  // namespace refsum::witness
