// The rebuild sandbox: runs a recipe (a shell command) under bubblewrap so
// that a hostile source tree can neither reach the network nor see or change
// anything of the witness, and cannot exhaust its host.
//
// What the recipe sees:
//   /usr, /bin, /lib*, /sbin     the host's, read-only (SandboxOptions::
//                                system_paths; symbolic links such as
//                                merged-/usr's /bin -> usr/bin are recreated)
//   /etc                         only the host files system_paths names
//                                (dynamic linker cache, alternatives, ...),
//                                read-only, plus a generated passwd, group
//                                and hosts naming the build user
//   /src                         the source tree, writable; the working
//                                directory
//   /out                         empty at the start, writable: the build's
//                                output, read by the witness afterwards
//   /in/...                      SandboxRun::inputs, read-only
//   /tmp, /var/tmp, /dev/shm     fresh tmpfs, each at most memory_bytes
//   /proc, /dev                  a procfs of its own pid namespace; null,
//                                zero, full, random, urandom, tty (/dev
//                                is read-only but for /dev/shm)
// Everything else, and in particular the witness's state directory with its
// keys, the git cache and other builds, is absent: the root is an empty
// tmpfs, made read-only once the mounts are in place. There is no network
// (an empty network namespace with only loopback), no IPC, UTS or cgroup
// namespace shared with the host, no capability, and no way to make another
// user namespace (--disable-userns). The recipe runs as uid and gid 1000
// ("builder") inside, on every witness, so that builds that record their
// user agree; HOME is /tmp, PATH is /usr/local/bin:/usr/bin:/bin, LANG is
// C.UTF-8, TZ is UTC, USER is builder; nothing else is set unless
// SandboxRun::env sets it (in particular not SOURCE_DATE_EPOCH: a reproducible
// recipe sets its own).
//
// Limits:
//   - wall time: bubblewrap's process group is killed (SIGKILL) when it runs
//     out; --die-with-parent and the pid namespace take every process of the
//     build with it. The kernel does that asynchronously, so Run then waits
//     for the init of the build's pid namespace (which bubblewrap names on
//     its --info-fd) to end: the kernel ends it only after every other
//     process of the namespace. Run therefore never returns while anything
//     of the build still runs, and a caller may read /out and remove /src
//     at once.
//   - memory: RLIMIT_AS of memory_bytes on every process of the build, and
//     the same size for each tmpfs (tmpfs pages are not address space).
//     cgroups are not used: they need a writable (delegated) hierarchy,
//     which a witness running as an ordinary user seldom has, while rlimits
//     work everywhere. A build of N processes can therefore use up to N
//     times the limit; max_processes bounds N.
//   - processes: RLIMIT_NPROC of max_processes, set inside the build's own
//     user namespace, where the kernel counts only the build's tasks
//     (threads included). The kernel does not apply RLIMIT_NPROC to uid 0,
//     so a witness running as root runs bubblewrap as build_uid:build_gid
//     instead; the directories it binds are handed to that user first and
//     mounted, for bubblewrap only, where build_uid can reach them (see
//     SandboxOptions::staging_dir; this needs CAP_SYS_ADMIN, which root
//     has), so that build_uid needs no access to the paths above them, such
//     as the witness's state directory.
//   - output: the size of /out is measured after the run (files and links,
//     each inode once); more than output_bytes fails the run.
//   - disk: /src and /out live on the host's file system. RLIMIT_FSIZE of
//     max_disk_bytes bounds every file a build writes, and a watchdog
//     measures the disk use of /src and /out (DiskUsage) every
//     disk_check_interval (or ten times as long as the last measurement
//     took, when that is longer): when they grew by more than max_disk_bytes since
//     the start, the build is killed and fails. A build can therefore
//     overshoot by what it writes in one interval (and in /tmp, /var/tmp
//     and /dev/shm, which are bounded tmpfs).
//   - log: stdout and stderr go to SandboxRun::log_path, at most
//     max_log_bytes of it.
//
// Requires bubblewrap 0.8 or later (--disable-userns, --size),
// not installed setuid, unprivileged user namespaces, and util-linux's
// prlimit.
//
// Thread-safe: a Sandbox may run any number of builds at once.

#ifndef REFSUM_WITNESS_SANDBOX_H_
#define REFSUM_WITNESS_SANDBOX_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "witness/config.h"
#include "witness/subprocess.h"

namespace refsum::witness {

// The host paths a build sees read-only, by default: the system, and the
// few files under /etc that programs need to start and behave the same
// everywhere. Missing paths are skipped.
std::vector<std::string> DefaultSystemPaths();

struct SandboxOptions {
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string prlimit_path = "/usr/bin/prlimit";
  // See the top of this file; each is bound read-only at the same path, or
  // recreated when it is a symbolic link.
  std::vector<std::string> system_paths = DefaultSystemPaths();
  // The unprivileged user and group a witness running as root runs builds
  // as. Ignored when the witness is not root (builds then run as the
  // witness's user, still under RLIMIT_NPROC in their own namespace).
  uid_t build_uid = 65534;
  gid_t build_gid = 65534;
  // Where a witness running as root mounts the directories of a build for
  // bubblewrap, in a mount namespace of bubblewrap's own (see
  // SubprocessOptions::staging_dir): an existing directory every user can
  // traverse. The host's view of it does not change.
  std::string staging_dir = "/tmp";
  // RLIMIT_NPROC inside the build.
  uint64_t max_processes = 1024;
  // The most of the build's stdout and stderr kept in the log.
  size_t max_log_bytes = 1 << 20;
  // How much /src and /out together may grow during a build, and how often
  // that is measured.
  uint64_t max_disk_bytes = uint64_t{16} << 30;
  absl::Duration disk_check_interval = absl::Milliseconds(250);
};

// A host file or directory a build reads at `sandbox_path` (an absolute
// path under /in/).
struct SandboxInput {
  std::string host_path;
  std::string sandbox_path;
};

struct SandboxRun {
  // A shell command, run by /bin/sh -c in /src.
  std::string recipe;
  // An existing directory, bound writable at /src.
  std::string source_dir;
  // An existing empty directory, bound writable at /out.
  std::string out_dir;
  // Created or truncated; receives the build's stdout and stderr.
  std::string log_path;
  // Variables set besides the fixed ones above (which they may override).
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<SandboxInput> inputs;
  SandboxLimits limits;
  // Kills the build when notified (see SubprocessOptions::cancel). May be
  // null.
  const absl::Notification* cancel = nullptr;
};

struct SandboxResult {
  // How bubblewrap, and so the recipe, ended. bubblewrap exits with the
  // recipe's exit code; a recipe killed by signal N shows as 128 + N.
  SubprocessResult process;
  // The size of /out after the run, and whether it exceeds output_bytes.
  uint64_t output_bytes = 0;
  bool output_too_large = false;
  // The build was killed because /src and /out grew by more than
  // max_disk_bytes (process then shows the SIGKILL, and not `cancelled`).
  bool disk_exceeded = false;
  uint64_t max_disk_bytes = 0;

  // The recipe exited 0 within its limits.
  bool ok() const {
    return process.ok() && !output_too_large && !disk_exceeded;
  }
  // Why the run failed, e.g. "the recipe failed: exit code 2" or
  // "the recipe timed out after 1h"; "ok" when it did not.
  std::string Describe(const SandboxLimits& limits) const;
};

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options);

  // Runs a trivial build in a scratch directory made under `scratch_dir`
  // (and removed), so that a witness whose host cannot sandbox fails at
  // start rather than failing every rebuild. Returns FailedPrecondition with
  // bubblewrap's message when the sandbox does not work.
  absl::Status SelfTest(const std::string& scratch_dir) const;

  // Runs `run.recipe` as described at the top of this file and returns how
  // it ended, once every process of the build has ended. A failing or
  // timed-out recipe is a result, not an error. Returns InvalidArgument when
  // source_dir or out_dir is not a directory, out_dir is not empty or an
  // input path is not under /in/, DeadlineExceeded when the build's
  // processes had not ended 30 s after they were killed (a process stuck in
  // the kernel), and the errors of preparing the directories or starting
  // bubblewrap.
  absl::StatusOr<SandboxResult> Run(const SandboxRun& run) const;

  const SandboxOptions& options() const { return options_; }

 private:
  const SandboxOptions options_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_SANDBOX_H_
