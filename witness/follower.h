// The rebuild pipeline's driver: follows a log, rebuilds the claims in the
// witness's scopes, and submits the signed attestations to the log.
//
// What the witness binary calls (see RebuildPipeline below):
//
//   ASSIGN_OR_RETURN(std::unique_ptr<RebuildPipeline> pipeline,
//                    RebuildPipeline::Start(config, rebuild_key, report_url));
//   ...
//   pipeline->Shutdown();  // or destroy it
//
// One Follower per log. Its own thread reads the log from a persisted
// position: it fetches the newest checkpoint (verified against the log's
// vkey, and refused unless it provably extends the checkpoint the follower
// read before, kept in <state>/checkpoints/ by client::AdvanceCheckpoint:
// a rolled-back, forked or unprovable checkpoint stops the follower until
// the log serves one that extends it), reads the entries after the
// position, decodes each leaf
// (crypto::DecodeDsseLeaf) and picks the claims (statement::ParseClaim)
// whose repository starts with a scope's prefix; everything else
// (attestations, claims out of scope, leaves it cannot read) is passed by.
// Each picked claim becomes a job on a thread pool shared by all followers,
// which bounds how many rebuilds run at once; the follower thread never
// waits for a rebuild, and nothing here touches the cosigner.
//
// Crash safety, so that a claim is never attested twice with different
// contents:
//   1. a job records the signed envelope, <state>/attestations/<index>.json
//      (written atomically), before anything is submitted;
//   2. the follower thread submits recorded envelopes and then writes
//      <index>.submitted (the attestation's index in the log);
//   3. <state>/position advances only past entries that are not claims in
//      scope or whose envelope is recorded.
// After a restart, a claim with a recorded envelope is never rebuilt: the
// recorded envelope is submitted (again), and the log's duplicate detection
// makes that idempotent. A claim whose rebuild was interrupted has no
// record, and is rebuilt from scratch.
//
// A rebuild that fails for a reason that may pass (the repository cannot be
// fetched, the witness's disk is full) is retried after retry_delay,
// doubling each time; after max_attempts it is attested FAILED with the last
// error. A submission the log refuses or cannot take is retried every
// poll_interval.

#ifndef REFSUM_WITNESS_FOLLOWER_H_
#define REFSUM_WITNESS_FOLLOWER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/thread_pool.h"
#include "client/log_client.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "witness/config.h"
#include "witness/git.h"
#include "witness/rebuild.h"
#include "witness/sandbox.h"

namespace refsum::witness {

// The rebuild pipeline's directories under a witness's state_dir:
//   rebuild/git/               git caches (GitFetcher)
//   rebuild/builds/            build directories, emptied at every start
//   rebuild/logs/<hex SHA-256 of the origin>/   one follower's state
// Reports go to ReportsDir(state_dir) (config.h).
std::string RebuildGitDir(absl::string_view state_dir);
std::string RebuildBuildsDir(absl::string_view state_dir);
std::string FollowerStateDir(absl::string_view state_dir,
                             absl::string_view origin);

struct FollowerOptions {
  LogConfig log;
  std::vector<ScopeConfig> scopes;
  // This follower's own directory (FollowerStateDir); created if missing.
  std::string state_dir;
  // The rebuild key's public key PEM, sent with submissions (a log in open
  // mode learns the key from it).
  std::string public_key_pem;
  // How often the log is asked for new entries (and refused submissions are
  // tried again).
  absl::Duration poll_interval = absl::Seconds(10);
  // The deadline of each call to the log. A submission waits for the entry
  // to be integrated, so it must be generous; the follower thread finishes
  // its current call before it stops.
  absl::Duration rpc_deadline = absl::Seconds(60);
  // Entries asked for per GetEntries call.
  uint64_t batch_size = 256;
  // Claims picked but not yet recorded, at most (plus one batch): bounds
  // memory when the pool is far behind the log.
  size_t max_in_flight = 64;
  int max_attempts = 5;
  absl::Duration retry_delay = absl::Minutes(1);
};

// Thread-safe.
class Follower {
 public:
  // Loads the state, connects to the log (lazily, see LogClient::Connect)
  // and returns a follower that has not started. `rebuilder` and `pool` must
  // outlive it. Returns InvalidArgument for a bad vkey or address, and the
  // errors of creating or reading the state directory (DataLoss for a
  // position file that does not parse).
  static absl::StatusOr<std::unique_ptr<Follower>> Create(
      FollowerOptions options, const Rebuilder* rebuilder, ThreadPool* pool);

  // Shuts down.
  ~Follower();

  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Starts the follower thread. Call at most once.
  void Start();

  // Asks everything to stop: the follower thread after its current call to
  // the log, running rebuilds at once (their sandboxes are killed; nothing
  // is recorded for them). Returns at once.
  void RequestShutdown();

  // RequestShutdown, then waits for the follower thread and for every job
  // this follower scheduled on the pool (a job that starts after the
  // request returns at once; so the pool must not be blocked by work that
  // is not being stopped too). Idempotent.
  void Shutdown();

  struct Progress {
    // Every entry below this is handled; it is what the state file says.
    uint64_t position = 0;
    // The first entry not read yet.
    uint64_t scanned = 0;
    // Claims picked whose attestation is not recorded yet.
    size_t in_flight = 0;
    // Recorded attestations the log has not accepted yet.
    size_t unsubmitted = 0;
    // Why the log's newest checkpoint was refused (its signature does not
    // verify, or AdvanceCheckpoint's message), or empty when it was
    // accepted or not read yet.
    std::string refusal;
  };
  Progress progress() const;

 private:
  // A claim to rebuild, and how often that was tried.
  struct Job {
    LoggedClaim claim;
    const ScopeConfig* scope;
    int attempt = 0;
  };
  struct Retry {
    absl::Time due;
    Job job;
  };

  Follower(FollowerOptions options, const Rebuilder* rebuilder,
           ThreadPool* pool, std::unique_ptr<client::LogClient> client,
           std::unique_ptr<crypto::NoteVerifier> verifier, uint64_t position,
           std::set<int64_t> recorded, std::set<int64_t> submitted);

  // The follower thread.
  void Loop();
  // Reads new entries and schedules their claims.
  void Scan();
  // Schedules `job` or drops it if the leaf is not a claim in scope.
  void Consider(int64_t index, const std::string& leaf);
  void Schedule(Job job);
  // Runs on the pool.
  void RunJob(Job job);
  // Submits every recorded, unsubmitted envelope.
  void SubmitRecorded();
  // Writes the position if it moved.
  void PersistPosition();

  // Where the newest checkpoint followed is kept (client::CheckpointStore).
  std::string CheckpointsDir() const;
  std::string RecordPath(int64_t index) const;
  std::string SubmittedPath(int64_t index) const;

  const FollowerOptions options_;
  const Rebuilder* const rebuilder_;
  ThreadPool* const pool_;
  const std::unique_ptr<client::LogClient> client_;
  const std::unique_ptr<crypto::NoteVerifier> verifier_;
  // Notified by RequestShutdown; kills running rebuilds.
  absl::Notification cancel_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set when there is something for the follower thread to do before its
  // next poll (a job recorded an envelope).
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t position_ ABSL_GUARDED_BY(mu_);
  uint64_t scanned_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> in_flight_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> recorded_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> submitted_ ABSL_GUARDED_BY(mu_);
  std::deque<Retry> retries_ ABSL_GUARDED_BY(mu_);
  std::string refusal_ ABSL_GUARDED_BY(mu_);
  // Jobs scheduled on the pool and not finished.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

// Extra settings of a RebuildPipeline, for tests and unusual hosts.
struct RebuildPipelineOptions {
  SandboxOptions sandbox;
  GitOptions git;  // cache_dir is set from the state directory
  // diffoscope, when installed (DefaultDiffoscopePath()).
  std::string diffoscope_path = DefaultDiffoscopePath();
  absl::Duration poll_interval = absl::Seconds(10);
  absl::Duration retry_delay = absl::Minutes(1);
};

// Everything of the rebuild half of a witness: a sandbox, a git cache, a
// rebuilder, a pool of config.parallelism threads and one follower per
// configured log. Thread-safe.
class RebuildPipeline {
 public:
  // Starts rebuilding as `config` says: checks that the sandbox works on
  // this host (Sandbox::SelfTest), empties rebuild/builds/ of a previous
  // run's leftovers, and starts a follower for each log. Attestations are
  // signed with `rebuild_key` and point at reports under `report_url`
  // (ending in '/'). With no scopes configured nothing starts, and Start
  // returns a pipeline that does nothing. Returns the sandbox's
  // FailedPrecondition when it does not work, and the errors of the state
  // directory, of the key and of Follower::Create.
  static absl::StatusOr<std::unique_ptr<RebuildPipeline>> Start(
      const WitnessConfig& config, const crypto::PrivateKey& rebuild_key,
      const std::string& report_url,
      RebuildPipelineOptions options = RebuildPipelineOptions());

  // Shuts down.
  ~RebuildPipeline();

  RebuildPipeline(const RebuildPipeline&) = delete;
  RebuildPipeline& operator=(const RebuildPipeline&) = delete;

  // Stops every follower and rebuild (see Follower::Shutdown) and waits for
  // them. Idempotent.
  void Shutdown();

  // The follower of `origin`, or null; for tests and status pages.
  const Follower* follower(absl::string_view origin) const;

 private:
  RebuildPipeline() = default;

  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<GitFetcher> git_;
  std::unique_ptr<Rebuilder> rebuilder_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<std::string> origins_;
  std::vector<std::unique_ptr<Follower>> followers_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_FOLLOWER_H_
