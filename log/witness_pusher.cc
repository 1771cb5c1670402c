#include "log/witness_pusher.h"

#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"
#include "tlog/witness_protocol.h"

namespace refsum::log {
namespace {

// The most of an answer the pusher reads. A 200 answer is a few cosignature
// lines of ~120 bytes; anything this large is not one.
constexpr size_t kMaxResponseBytes = 64 << 10;
// How much of an unexpected answer's body goes into the error message.
constexpr size_t kMaxQuotedBytes = 200;
// Round targets kept for cosignatures still in flight. Normally there are
// one or two; more pile up only while witnesses keep forcing new rounds.
constexpr size_t kMaxTrackedCheckpoints = 16;

// A witness's submission prefix, split the way httplib::Client wants it.
struct SubmissionPrefix {
  // "http://host:port" or "https://host".
  std::string scheme_host_port;
  // The path without a trailing slash; empty for the root.
  std::string path;
};

absl::StatusOr<SubmissionPrefix> ParseSubmissionPrefix(absl::string_view url) {
  const size_t separator = url.find("://");
  const absl::string_view scheme =
      separator == absl::string_view::npos ? "" : url.substr(0, separator);
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL \"", url, "\" does not start with http:// or https://"));
  }
  if (url.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL \"", url,
                     "\" has a query or fragment; a submission prefix has "
                     "neither"));
  }
  const absl::string_view rest = url.substr(separator + 3);
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL \"", url, "\" needs a host (and no user information)"));
  }
  absl::string_view path = rest.substr(authority.size());
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  return SubmissionPrefix{absl::StrCat(scheme, "://", authority),
                          std::string(path)};
}

std::string Quote(absl::string_view body) {
  return absl::StrCat("\"", absl::CHexEscape(body.substr(0, kMaxQuotedBytes)),
                      body.size() > kMaxQuotedBytes ? "\"..." : "\"");
}

// Returns the media type of a Content-Type value, lowercased, without
// parameters.
std::string MediaType(absl::string_view content_type) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      content_type.substr(0, content_type.find(';'))));
}

absl::Status ShuttingDown() {
  return absl::UnavailableError(
      "the log is shutting down before a checkpoint covering the entry met "
      "its witness policy");
}

bool SameKey(const crypto::NoteSignature& signature,
             const crypto::NoteVerifier& verifier) {
  return signature.name == verifier.name() &&
         signature.key_id == verifier.key_id();
}

}  // namespace

struct WitnessPusher::Worker {
  // Index in policy_.witnesses().
  size_t index = 0;
  const tlog::PolicyWitness* witness = nullptr;
  // Where requests go: <submission prefix>/add-checkpoint.
  std::string url;
  std::string path;
  // Used by the worker's thread; Shutdown calls stop() from another thread,
  // which cpp-httplib supports, to cut a request in flight short.
  std::unique_ptr<httplib::Client> client;
  // Started by Start; joined by Shutdown under join_mu_.
  std::thread thread;

  // Owned by the worker's thread.
  // The size the witness says it stores for this log; unknown at first.
  std::optional<uint64_t> witness_size;
  // The size of the last checkpoint this witness cosigned for the pusher.
  std::optional<uint64_t> cosigned_size;
  // The last error reported, so that a witness that stays down is reported
  // once rather than at every retry.
  std::string last_error;
};

struct WitnessPusher::PushResult {
  WitnessPushOutcome outcome = WitnessPushOutcome::kRejected;
  // False when the pusher could not even build a request.
  bool requested = true;
  // Why the push failed, for outcomes other than kCosigned and kConflict.
  absl::Status error;
};

absl::StatusOr<std::unique_ptr<WitnessPusher>> WitnessPusher::Start(
    tlog::TlogPolicy policy, Storage* storage,
    const crypto::NoteVerifier* log_verifier, WitnessPusherOptions options) {
  // The witnessed note carries the log's signature and one line per
  // witness, and notes with more lines do not parse.
  if (policy.witnesses().size() >= crypto::kMaxNoteSignatures) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the witness policy lists ", policy.witnesses().size(),
        " witnesses; a log can use at most ", crypto::kMaxNoteSignatures - 1));
  }
  std::unique_ptr<WitnessPusher> pusher(new WitnessPusher(
      std::move(policy), storage, log_verifier, std::move(options)));
  const std::vector<tlog::PolicyWitness>& witnesses =
      pusher->policy_.witnesses();
  for (size_t i = 0; i < witnesses.size(); ++i) {
    const tlog::PolicyWitness& witness = witnesses[i];
    const std::string line =
        absl::StrCat("line ", witness.line, ": witness ", witness.name);
    if (witness.url.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(line,
                       " has no URL; the log needs its tlog-witness submission "
                       "prefix to post checkpoints to"));
    }
    absl::StatusOr<SubmissionPrefix> prefix =
        ParseSubmissionPrefix(witness.url);
    if (!prefix.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(line, ": ", prefix.status().message()));
    }
    auto worker = std::make_unique<Worker>();
    worker->index = i;
    worker->witness = &witness;
    worker->path = absl::StrCat(prefix->path, tlog::kAddCheckpointPath);
    worker->url = absl::StrCat(prefix->scheme_host_port, worker->path);
    worker->client =
        std::make_unique<httplib::Client>(prefix->scheme_host_port);
    if (!worker->client->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          line, ": cannot make an HTTP client for \"", witness.url, "\""));
    }
    const WitnessPusherOptions& o = pusher->options_;
    worker->client->set_connection_timeout(
        absl::ToChronoMicroseconds(o.connect_timeout));
    worker->client->set_read_timeout(absl::ToChronoMicroseconds(o.io_timeout));
    worker->client->set_write_timeout(absl::ToChronoMicroseconds(o.io_timeout));
    // tlog-witness: "Clients SHOULD use ... HTTP keep-alive".
    worker->client->set_keep_alive(true);
    // For https witnesses; unused by plain http ones.
    worker->client->enable_server_certificate_verification(true);
    if (!o.tls_ca_path.empty()) {
      worker->client->set_ca_cert_path(o.tls_ca_path.c_str());
    }
    // The configured path is sent as written.
    worker->client->set_url_encode(false);
    pusher->workers_.push_back(std::move(worker));
  }
  RETURN_IF_ERROR(pusher->Reload());

  absl::MutexLock lock(&pusher->join_mu_);
  for (const std::unique_ptr<Worker>& worker : pusher->workers_) {
    worker->thread = std::thread([raw = pusher.get(), worker = worker.get()] {
      raw->RunWorker(*worker);
    });
  }
  pusher->publisher_ =
      std::thread([raw = pusher.get()] { raw->RunPublisher(); });
  return pusher;
}

WitnessPusher::WitnessPusher(tlog::TlogPolicy policy, Storage* storage,
                             const crypto::NoteVerifier* log_verifier,
                             WitnessPusherOptions options)
    : policy_(std::move(policy)),
      storage_(storage),
      log_verifier_(log_verifier),
      options_(std::move(options)) {}

WitnessPusher::~WitnessPusher() { Shutdown(); }

absl::Status WitnessPusher::Reload() {
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   storage_->ReadWitnessedCheckpoint());
  if (!stored.has_value()) return absl::OkStatus();
  std::vector<const crypto::NoteVerifier*> verifiers = {log_verifier_};
  for (const tlog::PolicyWitness& witness : policy_.witnesses()) {
    verifiers.push_back(witness.verifier.get());
  }
  const auto not_ours = [this](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("the stored witnessed checkpoint is not one of the log ",
                     log_verifier_->name(), ": ", why));
  };
  absl::StatusOr<crypto::VerifiedNote> opened =
      crypto::OpenNote(*stored, verifiers);
  if (!opened.ok()) return not_ours(opened.status().message());
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpointBody(opened->text);
  if (!checkpoint.ok()) return not_ours(checkpoint.status().message());
  if (checkpoint->origin != log_verifier_->name()) {
    return not_ours(absl::StrCat("its origin is ", checkpoint->origin));
  }

  Tracked tracked;
  tracked.note.text = opened->text;
  absl::flat_hash_set<std::string> cosigners;
  for (crypto::NoteSignature& signature : opened->verified) {
    if (SameKey(signature, *log_verifier_)) {
      tracked.note.signatures.push_back(std::move(signature));
      continue;
    }
    for (size_t i = 0; i < policy_.witnesses().size(); ++i) {
      if (SameKey(signature, *policy_.witnesses()[i].verifier)) {
        cosigners.insert(policy_.witnesses()[i].name);
        tracked.cosignatures[i] = std::move(signature);
        break;
      }
    }
  }
  if (tracked.note.signatures.empty()) {
    return not_ours("it lacks the log's signature");
  }
  auto log_checkpoint = std::make_shared<SignedCheckpoint>();
  log_checkpoint->checkpoint = *checkpoint;
  log_checkpoint->note = crypto::FormatNote(tracked.note);
  tracked.checkpoint = std::move(log_checkpoint);

  const tlog::ThresholdResult quorum = policy_.EvaluateQuorum(cosigners);
  absl::MutexLock lock(&mu_);
  if (quorum.satisfied) {
    witnessed_ = WitnessedNote(tracked);
    witnessed_cosigners_ = tracked.cosignatures.size();
    if (options_.metrics != nullptr) {
      options_.metrics->SetWitnessedTreeSize(checkpoint->size);
    }
  } else {
    std::fprintf(stderr,
                 "refsum-log: the stored witnessed checkpoint of size %llu "
                 "does not meet the current witness policy (%s); witnessing "
                 "starts over\n",
                 static_cast<unsigned long long>(checkpoint->size),
                 quorum.shortfall.c_str());
  }
  // Its cosignatures still count towards the same checkpoint.
  tracked_.emplace(checkpoint->size, std::move(tracked));
  return absl::OkStatus();
}

void WitnessPusher::Offer(std::shared_ptr<const SignedCheckpoint> checkpoint) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || checkpoint == nullptr) return;
  if (newest_ != nullptr &&
      checkpoint->checkpoint.size <= newest_->checkpoint.size) {
    return;
  }
  newest_ = std::move(checkpoint);
  AdvanceRoundLocked();
}

std::shared_ptr<const SignedCheckpoint> WitnessPusher::Witnessed() const {
  absl::MutexLock lock(&mu_);
  return witnessed_;
}

void WitnessPusher::WhenWitnessed(uint64_t size, WitnessedCallback done) {
  std::shared_ptr<const SignedCheckpoint> witnessed;
  {
    absl::MutexLock lock(&mu_);
    if (witnessed_ != nullptr && witnessed_->checkpoint.size >= size) {
      witnessed = witnessed_;
    } else if (!stopping_) {
      waiters_.push_back(Waiter{size, std::move(done)});
      return;
    }
  }
  if (witnessed != nullptr) {
    done(std::move(witnessed));
  } else {
    done(ShuttingDown());
  }
}

void WitnessPusher::Shutdown() {
  std::vector<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  for (const std::unique_ptr<Worker>& worker : workers_) {
    worker->client->stop();
  }
  for (Waiter& waiter : waiters) waiter.done(ShuttingDown());
  absl::MutexLock lock(&join_mu_);
  for (const std::unique_ptr<Worker>& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  if (publisher_.joinable()) publisher_.join();
}

void WitnessPusher::StartRoundLocked(
    std::shared_ptr<const SignedCheckpoint> checkpoint) {
  const uint64_t size = checkpoint->checkpoint.size;
  // Only a log that lost data offers a checkpoint older than the witnessed
  // one; witnessing it could not move Witnessed() anyway.
  if (witnessed_ != nullptr && size < witnessed_->checkpoint.size) return;
  Tracked& tracked = tracked_[size];
  if (tracked.checkpoint == nullptr) {
    absl::StatusOr<crypto::Note> note = crypto::ParseNote(checkpoint->note);
    if (!note.ok()) {
      // The sequencer's notes always parse; a round on one that does not
      // could never be published.
      std::fprintf(stderr,
                   "refsum-log: not witnessing checkpoint %llu, its note does "
                   "not parse: %s\n",
                   static_cast<unsigned long long>(size),
                   std::string(note.status().message()).c_str());
      tracked_.erase(size);
      return;
    }
    tracked.checkpoint = std::move(checkpoint);
    tracked.note = *std::move(note);
  }
  round_size_ = size;
  // The quorum may need no cosignature at all ("quorum none").
  publish_pending_ = true;
  // Drop the oldest abandoned rounds; never the witnessed checkpoint's entry
  // (late cosignatures go there) or the current round's.
  const uint64_t witnessed_size =
      witnessed_ == nullptr ? UINT64_MAX : witnessed_->checkpoint.size;
  for (auto it = tracked_.begin();
       tracked_.size() > kMaxTrackedCheckpoints && it != tracked_.end();) {
    if (it->first == witnessed_size || it->first == size) {
      ++it;
    } else {
      it = tracked_.erase(it);
    }
  }
}

bool WitnessPusher::RoundOpenLocked() const {
  return round_size_.has_value() &&
         (witnessed_ == nullptr || witnessed_->checkpoint.size < *round_size_);
}

void WitnessPusher::AdvanceRoundLocked() {
  if (newest_ == nullptr || RoundOpenLocked()) return;
  if (round_size_.has_value() && newest_->checkpoint.size <= *round_size_) {
    return;
  }
  StartRoundLocked(newest_);
}

std::optional<WitnessPusher::Candidate> WitnessPusher::FindCandidateLocked()
    const {
  const std::vector<tlog::PolicyWitness>& witnesses = policy_.witnesses();
  for (auto it = tracked_.rbegin(); it != tracked_.rend(); ++it) {
    const uint64_t size = it->first;
    const Tracked& tracked = it->second;
    if (witnessed_ != nullptr && size < witnessed_->checkpoint.size) break;
    absl::flat_hash_set<std::string> cosigners;
    for (const auto& [index, signature] : tracked.cosignatures) {
      cosigners.insert(witnesses[index].name);
    }
    if (!policy_.EvaluateQuorum(cosigners).satisfied) continue;
    if (witnessed_ != nullptr && size == witnessed_->checkpoint.size &&
        tracked.cosignatures.size() <= witnessed_cosigners_) {
      break;
    }
    return Candidate{WitnessedNote(tracked), tracked.cosignatures.size()};
  }
  return std::nullopt;
}

std::shared_ptr<const SignedCheckpoint> WitnessPusher::WitnessedNote(
    const Tracked& tracked) const {
  crypto::Note note = tracked.note;
  // The map's order is the policy's order.
  for (const auto& [index, signature] : tracked.cosignatures) {
    note.signatures.push_back(signature);
  }
  auto witnessed = std::make_shared<SignedCheckpoint>();
  witnessed->checkpoint = tracked.checkpoint->checkpoint;
  witnessed->note = crypto::FormatNote(note);
  return witnessed;
}

void WitnessPusher::RunWorker(Worker& worker) {
  absl::Duration backoff = options_.min_backoff;
  absl::Time retry_at = absl::InfinitePast();
  // A 409 is retried at once, with the size it names, but only once in a
  // row: a witness whose stored size keeps changing under the pusher (or
  // that answers 409 to everything) gets backoff like any other failure.
  bool conflict_retried = false;
  const std::string& name = worker.witness->name;
  for (;;) {
    const std::shared_ptr<const SignedCheckpoint> target =
        NextTarget(worker, retry_at);
    if (target == nullptr) return;
    PushResult result = Push(worker, *target);
    if (result.requested && options_.metrics != nullptr) {
      options_.metrics->RecordWitnessPush(name, result.outcome);
    }
    if (result.outcome == WitnessPushOutcome::kCosigned) {
      if (!worker.last_error.empty()) {
        std::fprintf(stderr, "refsum-log: witness %s cosigns again\n",
                     name.c_str());
        worker.last_error.clear();
      }
      backoff = options_.min_backoff;
      retry_at = absl::InfinitePast();
      conflict_retried = false;
      continue;
    }
    if (result.outcome == WitnessPushOutcome::kConflict && !conflict_retried) {
      conflict_retried = true;
      retry_at = absl::InfinitePast();
      continue;
    }
    conflict_retried = false;
    const std::string error = result.error.ok()
                                  ? "its stored size keeps changing (409)"
                                  : std::string(result.error.message());
    if (error != worker.last_error) {
      std::fprintf(stderr,
                   "refsum-log: witness %s (%s): %s; retrying with backoff "
                   "up to %s\n",
                   name.c_str(), worker.url.c_str(), error.c_str(),
                   absl::FormatDuration(options_.max_backoff).c_str());
      worker.last_error = error;
    }
    retry_at = absl::Now() + backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

std::shared_ptr<const SignedCheckpoint> WitnessPusher::NextTarget(
    Worker& worker, absl::Time retry_at) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&stopping_), retry_at);
  const std::optional<uint64_t> cosigned = worker.cosigned_size;
  const auto has_work = [this, cosigned]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (round_size_.has_value() && round_size_ != cosigned);
  };
  mu_.Await(absl::Condition(&has_work));
  if (stopping_) return nullptr;
  if (worker.witness_size.has_value() && *worker.witness_size > *round_size_ &&
      newest_->checkpoint.size > *round_size_) {
    // The witness already holds a newer checkpoint of this log than the
    // round's target (anyone may show a witness the log's checkpoints), so
    // it can never cosign the target. A round that waits for it could stall
    // the quorum, so the round moves on to the newest checkpoint.
    StartRoundLocked(newest_);
  }
  return tracked_.at(*round_size_).checkpoint;
}

WitnessPusher::PushResult WitnessPusher::Push(Worker& worker,
                                              const SignedCheckpoint& target) {
  const uint64_t size = target.checkpoint.size;
  const uint64_t old_size = worker.witness_size.value_or(0);
  PushResult result;
  if (old_size > size) {
    result.requested = false;
    result.error = absl::FailedPreconditionError(
        absl::StrCat("it has cosigned tree size ", old_size,
                     " of this log, more than the newest checkpoint's ", size,
                     "; it was shown checkpoints this log never stored"));
    return result;
  }
  // Empty for old size 0 and for old size == size, as tlog-witness asks.
  absl::StatusOr<std::vector<tlog::Hash>> proof =
      tlog::BuildConsistencyProof(old_size, size, *storage_);
  if (!proof.ok()) {
    result.requested = false;
    result.error = absl::Status(
        proof.status().code(),
        absl::StrCat("cannot build the consistency proof from ", old_size,
                     " to ", size, ": ", proof.status().message()));
    return result;
  }

  httplib::Request request;
  request.method = "POST";
  request.path = worker.path;
  request.body = tlog::FormatAddCheckpointRequest(
      {old_size, *std::move(proof), target.note});
  request.set_header("Content-Type", "text/plain; charset=utf-8");
  std::string body;
  bool too_long = false;
  request.content_receiver = [&body, &too_long](const char* data, size_t length,
                                                uint64_t, uint64_t) {
    if (body.size() + length > kMaxResponseBytes) {
      too_long = true;
      return false;
    }
    body.append(data, length);
    return true;
  };
  const httplib::Result response = worker.client->send(request);
  if (too_long) {
    result.outcome = WitnessPushOutcome::kInvalidResponse;
    result.error = absl::InvalidArgumentError(absl::StrCat(
        "its answer is longer than ", kMaxResponseBytes, " bytes"));
    return result;
  }
  if (!response) {
    result.outcome = WitnessPushOutcome::kUnreachable;
    result.error = absl::UnavailableError(absl::StrCat(
        "no HTTP answer (", httplib::to_string(response.error()), " error)"));
    return result;
  }

  const int status = response->status;
  if (status == 200) {
    absl::StatusOr<crypto::NoteSignature> cosignature =
        VerifyCosignature(worker, target, body);
    if (!cosignature.ok()) {
      result.outcome = WitnessPushOutcome::kInvalidResponse;
      result.error = absl::Status(
          cosignature.status().code(),
          absl::StrCat("its 200 answer holds no valid cosignature: ",
                       cosignature.status().message(), "; answer ",
                       Quote(body)));
      return result;
    }
    worker.witness_size = size;
    worker.cosigned_size = size;
    RecordCosignature(worker.index, target, *std::move(cosignature));
    result.outcome = WitnessPushOutcome::kCosigned;
    return result;
  }
  if (status == 409) {
    result.outcome = WitnessPushOutcome::kRejected;
    const std::string media_type =
        MediaType(response->get_header_value("Content-Type"));
    const absl::StatusOr<uint64_t> witness_size = tlog::ParseTlogSize(body);
    if (media_type != tlog::kTlogSizeContentType || !witness_size.ok()) {
      // tlog-witness answers a checkpoint of the stored size with another
      // root with a 409 that names no size (the witness's own answer
      // explains it, e.g. "the log has forked"): the witness holds a
      // different tree of this log than the one the request proves from.
      // Like any refusal it is retried with backoff.
      result.error = absl::FailedPreconditionError(absl::StrCat(
          "409 without a tree size (Content-Type \"", media_type, "\", body ",
          Quote(body), "): it may hold a different tree of size ", old_size,
          " than this log (split view?) and refuses checkpoint ", size));
      return result;
    }
    if (*witness_size == old_size) {
      // A 409 for the stored size itself: the request's old size was right,
      // so the witness refused the checkpoint for holding another root at
      // that size. Either the witness saw a different tree of this log
      // (split view) or it is broken; the log can only report it.
      result.error = absl::FailedPreconditionError(absl::StrCat(
          "it holds a different tree of size ", old_size,
          " than this log (split view?) and refuses checkpoint ", size));
      return result;
    }
    worker.witness_size = *witness_size;
    result.outcome = WitnessPushOutcome::kConflict;
    return result;
  }
  result.error =
      absl::UnavailableError(absl::StrCat("HTTP ", status, " ", Quote(body)));
  return result;
}

absl::StatusOr<crypto::NoteSignature> WitnessPusher::VerifyCosignature(
    const Worker& worker, const SignedCheckpoint& target,
    absl::string_view body) const {
  // As tlog-witness suggests: append the lines to the checkpoint and open
  // the note with the witness's key only. OpenNote ignores lines by other
  // keys, rejects the whole answer if a line by the witness's key does not
  // verify, and fails if no line is by the witness's key.
  const crypto::NoteVerifier& verifier = *worker.witness->verifier;
  const crypto::NoteVerifier* verifiers[] = {&verifier};
  ASSIGN_OR_RETURN(
      crypto::VerifiedNote opened,
      crypto::OpenNote(absl::StrCat(target.note, body), verifiers));
  for (crypto::NoteSignature& signature : opened.verified) {
    if (SameKey(signature, verifier)) return std::move(signature);
  }
  return absl::UnauthenticatedError("no cosignature by the witness's key");
}

void WitnessPusher::RecordCosignature(size_t index,
                                      const SignedCheckpoint& target,
                                      crypto::NoteSignature cosignature) {
  absl::MutexLock lock(&mu_);
  const auto it = tracked_.find(target.checkpoint.size);
  // Dropped when the witnessed checkpoint moved past it.
  if (it == tracked_.end() ||
      !(it->second.checkpoint->checkpoint == target.checkpoint)) {
    return;
  }
  it->second.cosignatures[index] = std::move(cosignature);
  publish_pending_ = true;
}

void WitnessPusher::RunPublisher() {
  for (;;) {
    std::optional<Candidate> candidate;
    {
      absl::MutexLock lock(&mu_);
      const auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || publish_pending_;
      };
      mu_.Await(absl::Condition(&has_work));
      if (stopping_) return;
      publish_pending_ = false;
      candidate = FindCandidateLocked();
    }
    if (!candidate.has_value()) continue;
    // Stored before anyone sees it. Only this thread writes it, so the
    // stored note only ever moves forward.
    const absl::Status stored =
        storage_->WriteWitnessedCheckpoint(candidate->witnessed->note);
    if (!stored.ok()) {
      std::fprintf(stderr,
                   "refsum-log: cannot store the witnessed checkpoint of "
                   "size %llu: %s\n",
                   static_cast<unsigned long long>(
                       candidate->witnessed->checkpoint.size),
                   std::string(stored.message()).c_str());
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.min_backoff);
      publish_pending_ = true;
      continue;
    }
    const uint64_t size = candidate->witnessed->checkpoint.size;
    std::vector<Waiter> ready;
    {
      absl::MutexLock lock(&mu_);
      witnessed_ = candidate->witnessed;
      witnessed_cosigners_ = candidate->cosigners;
      // Smaller checkpoints can no longer be published. The current round's
      // target is the largest tracked one, so it stays.
      tracked_.erase(tracked_.begin(), tracked_.lower_bound(size));
      const auto waiting = std::partition(
          waiters_.begin(), waiters_.end(),
          [size](const Waiter& waiter) { return waiter.size > size; });
      std::move(waiting, waiters_.end(), std::back_inserter(ready));
      waiters_.erase(waiting, waiters_.end());
      AdvanceRoundLocked();
    }
    if (options_.metrics != nullptr) {
      options_.metrics->SetWitnessedTreeSize(size);
    }
    for (Waiter& waiter : ready) waiter.done(candidate->witnessed);
  }
}

}  // namespace refsum::log
