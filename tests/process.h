// Child processes for end-to-end tests: start a binary with its stdout and
// stderr written to files, wait until it reports that it is ready (by
// writing a file), send it signals, and reap it with its exit status.
//
// A Process never outlives its object: the destructor kills (SIGKILL) and
// reaps a child that is still running, so a failing test leaves nothing
// behind. A child is also killed if the thread that started it dies (Linux
// PR_SET_PDEATHSIG), which covers a test binary that crashes or is killed
// by Bazel's timeout; start children from a thread that outlives them, such
// as the test's main thread.
//
// Not thread-safe: use each Process from one thread at a time. Starting
// processes from several threads at once is safe.

#ifndef REFSUM_TESTS_PROCESS_H_
#define REFSUM_TESTS_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace refsum::tests {

// How a process ended.
struct ExitStatus {
  // True if the process exited (see `code`); false if a signal ended it
  // (see `signal`).
  bool exited = false;
  int code = 0;
  int signal = 0;

  // True if the process exited with exit code `expected`.
  bool ExitedWith(int expected) const { return exited && code == expected; }
  // True if signal `expected` ended the process.
  bool KilledBy(int expected) const { return !exited && signal == expected; }

  // "exit code N" or "signal N (name)", for messages.
  std::string ToString() const;
};

class Process {
 public:
  // Starts `binary` (a path; PATH is not searched) with `args` as argv[1..],
  // stdin from /dev/null, stdout and stderr truncated and written to
  // `stdout_path` and `stderr_path` (which may be the same file), the
  // environment and working directory of the caller, an empty signal mask
  // and default SIGPIPE handling, and no file descriptors of the caller's
  // besides 0-2. Returns once the binary has been executed, or an error:
  // NotFound / PermissionDenied etc. (from the errno) if it could not be
  // executed or the output files could not be opened, Internal if fork
  // fails.
  static absl::StatusOr<std::unique_ptr<Process>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const std::string& stdout_path, const std::string& stderr_path);

  // Kills the child with SIGKILL and reaps it if it has not been reaped.
  ~Process();

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // Returns the exit status if the child has ended (reaping it), nullopt if
  // it is still running.
  std::optional<ExitStatus> Poll();

  // Sends `signal` to the child. Returns FailedPrecondition if the child has
  // already been reaped (a pid must not be signalled after that: it may
  // belong to another process by now).
  absl::Status Signal(int signal);

  // Waits up to `timeout` for the child to end and returns its exit status
  // (at once if it was reaped before). Returns DeadlineExceeded if it is
  // still running then; it is left running.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);

  // Sends `signal`, then waits as Wait does.
  absl::StatusOr<ExitStatus> SignalAndWait(int signal, absl::Duration timeout);

  // Waits up to `timeout` for the file `path` to exist with non-empty
  // contents and returns them; a writer must therefore create it atomically
  // (e.g. by renaming). Returns FailedPrecondition, with the exit status and
  // the end of stderr, if the child ends first, and DeadlineExceeded if the
  // time runs out.
  absl::StatusOr<std::string> WaitForFile(const std::string& path,
                                          absl::Duration timeout);

  // Returns what the child has written to stdout / stderr so far (empty if
  // the file cannot be read).
  std::string ReadStdout() const;
  std::string ReadStderr() const;

 private:
  Process(pid_t pid, std::string stdout_path, std::string stderr_path);

  const pid_t pid_;
  const std::string stdout_path_;
  const std::string stderr_path_;
  // Set once the child is reaped.
  std::optional<ExitStatus> exit_status_;
};

// The outcome of RunProcess.
struct RunResult {
  ExitStatus status;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `binary` with `args` until it ends, with stdout and stderr in files
// named `output_prefix`.stdout / .stderr, and returns its exit status and
// output. Kills it and returns DeadlineExceeded if it runs longer than
// `timeout`; returns Process::Start's errors.
absl::StatusOr<RunResult> RunProcess(const std::string& binary,
                                     const std::vector<std::string>& args,
                                     const std::string& output_prefix,
                                     absl::Duration timeout);

// Returns a port on 127.0.0.1 that was free a moment ago (bound and
// released), for a server that must be named before it starts, e.g. in
// another server's configuration. The port is below the kernel's ephemeral
// range, so no outgoing connection takes it meanwhile. Returns Unavailable if
// no port is free, or the errno status if a socket cannot be bound.
absl::StatusOr<int> ReserveLoopbackPort();

}  // namespace refsum::tests

#endif  // REFSUM_TESTS_PROCESS_H_
