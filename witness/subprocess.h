// Running a helper program (git, bwrap, curl) from the witness, which is a
// multithreaded server: a time limit that kills the program's whole process
// group, a capped capture of its output, a clean environment given by the
// caller, and cancellation so that a shutdown need not wait for a build.
//
// The child gets stdin from /dev/null, stdout and stderr on one pipe that
// the caller's thread reads, its own process group, default signal
// handling, and no file descriptors of the witness besides the ones asked
// for (a rebuild must never see a key file another thread happens to have
// open). It is killed (SIGKILL) if the thread that started it dies.
//
// Thread-safe: any number of threads may run subprocesses at once.

#ifndef REFSUM_WITNESS_SUBPROCESS_H_
#define REFSUM_WITNESS_SUBPROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace refsum::witness {

// A host file or directory to bind-mount at `target` (see
// SubprocessOptions::staging_dir).
struct StagedBind {
  std::string source;
  std::string target;
  bool directory = true;
};

struct SubprocessOptions {
  // argv[0] is the program's absolute path; PATH is not searched.
  std::vector<std::string> argv;
  // The whole environment, "NAME=value" each; nothing is inherited.
  std::vector<std::string> env;
  // The working directory; empty keeps the witness's.
  std::string cwd;
  // At most 64 descriptors the child receives as 3, 4, ... in this order
  // (the caller keeps and closes its own). Everything else above 2 is
  // closed.
  std::vector<int> pass_fds;
  // After this long the process group is killed and the result says
  // timed_out.
  absl::Duration timeout = absl::Minutes(10);
  // When notified, the process group is killed within a fraction of a
  // second and the result says cancelled. May be null.
  const absl::Notification* cancel = nullptr;
  // Output beyond this many bytes is read and dropped, so that a chatty
  // program can neither block on a full pipe nor fill the disk.
  size_t max_output_bytes = 64 << 10;
  // Where the output goes: a file created (mode 0644) or truncated, or,
  // when empty, SubprocessResult::output.
  std::string output_path;
  // Credentials to switch to before exec, for a witness running as root;
  // nullopt keeps the witness's. Supplementary groups are dropped.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // For a witness running as root that switches credentials: when not
  // empty, the child first gets a mount namespace of its own, covers the
  // existing directory `staging_dir` there with a fresh root-owned tmpfs,
  // and bind-mounts each of `staged_binds` at its target (a path under
  // staging_dir). So a program running as an unprivileged user reaches
  // directories whose ancestors it may not traverse (a state directory of
  // mode 0700), while nothing changes for the rest of the system.
  std::string staging_dir;
  std::vector<StagedBind> staged_binds;
};

struct SubprocessResult {
  // How the program ended: exited with exit_code, or killed by `signal`
  // (which is SIGKILL when timed_out or cancelled).
  bool exited = false;
  int exit_code = 0;
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  // True when output beyond max_output_bytes was dropped.
  bool output_truncated = false;
  // The captured output when options.output_path is empty.
  std::string output;

  // Exited with code 0 (and so neither timed out nor was cancelled).
  bool ok() const { return exited && exit_code == 0; }
  // "exit code N", "signal N (name)", "timed out after D" or "cancelled".
  std::string Describe(absl::Duration timeout) const;
};

// The environment for helper programs that need no more: PATH=/usr/bin:/bin,
// LANG=C, LC_ALL=C, HOME=/nonexistent, and the witness's proxy variables
// (http_proxy, https_proxy, no_proxy and their upper-case forms), without
// which a witness behind a proxy could not fetch anything.
std::vector<std::string> HelperEnvironment();

// Runs the program until it ends, the time runs out or `cancel` is
// notified. Returns the outcome, or an error when it could not be run at
// all: the errno-derived status of exec (NotFound for a missing program),
// of opening output_path, or Internal if fork fails. Blocks the calling
// thread throughout.
absl::StatusOr<SubprocessResult> RunSubprocess(
    const SubprocessOptions& options);

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_SUBPROCESS_H_
