// Fetching a claim's source: a git repository at exactly the claimed
// commit, outside the sandbox.
//
// Each repository is fetched into a bare cache of its own,
// <cache_dir>/<hex SHA-256 of the URL>-<sha1|sha256>.git (branches and
// tags, forced, pruned), so that a second claim of the same repository
// fetches only what is new. A checkout is a fresh repository holding just
// the claimed commit (fetched from the cache at depth 1) with that commit
// checked out, detached; its HEAD is verified to be the claimed commit.
// When the claim names a tag, the cache's tag must name the same commit.
// Submodules are not fetched: a recipe that needs them must bring them
// itself (it has no network) or the claim must vendor them.
//
// git runs with a clean environment (HelperEnvironment(), no system or
// global configuration, no terminal prompts), a timeout, and configuration that keeps a
// hostile repository from running anything: hooks are off
// (core.hooksPath=/dev/null), the ext:: transport is refused, and
// background maintenance never detaches. Repositories are never checked out
// in the cache, and the checkout sees no filter or other configuration
// coming from the repository.
//
// Thread-safe: checkouts of one repository are serialized (they share its
// cache), checkouts of different repositories run in parallel. One
// GitFetcher per cache directory.

#ifndef REFSUM_WITNESS_GIT_H_
#define REFSUM_WITNESS_GIT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "statement/claim.h"

namespace refsum::witness {

struct GitOptions {
  std::string git_path = "/usr/bin/git";
  // Created if missing.
  std::string cache_dir;
  // The limit of each git command (a fetch of a large repository included).
  absl::Duration timeout = absl::Minutes(30);
};

class GitFetcher {
 public:
  explicit GitFetcher(GitOptions options);

  GitFetcher(const GitFetcher&) = delete;
  GitFetcher& operator=(const GitFetcher&) = delete;

  // Fetches `source.repository` into its cache and checks `source.commit`
  // out into `destination`, a directory that must not exist yet (its parent
  // must). Returns
  //   - InvalidArgument when the commit is not 40 or 64 lowercase hex, or
  //     the tag is not a valid git ref name;
  //   - Unavailable when fetching fails (network, no such repository),
  //     DeadlineExceeded when a git command times out, Cancelled when
  //     `cancel` (may be null) is notified;
  //   - NotFound when the repository has no such commit;
  //   - FailedPrecondition when the claim's tag does not exist or names
  //     another commit, or the checkout's HEAD is not the commit;
  //   - Internal for other git failures, with git's output.
  // On error `destination` may exist, partly filled; the caller removes it.
  absl::Status Checkout(const statement::Source& source,
                        const std::string& destination,
                        const absl::Notification* cancel) const;

  // The cache directory of `repository` for commits of `commit_hex_length`
  // (40 or 64) hex digits.
  std::string CacheDirectory(absl::string_view repository,
                             size_t commit_hex_length) const;

 private:
  // Runs git with `args` and returns its output. Returns Cancelled,
  // DeadlineExceeded or Internal (git failed), each with `what` and the
  // output, or RunSubprocess's error.
  absl::StatusOr<std::string> Git(const std::vector<std::string>& args,
                                  absl::string_view what,
                                  const absl::Notification* cancel) const;

  // Returns the mutex serializing work on `cache`.
  absl::Mutex& CacheMutex(const std::string& cache) const;

  const GitOptions options_;
  const std::vector<std::string> env_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::unique_ptr<absl::Mutex>>
      cache_mutexes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_GIT_H_
