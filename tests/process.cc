#include "tests/process.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file.h"

namespace refsum::tests {
namespace {

// How often the waiting functions look again.
constexpr absl::Duration kPollInterval = absl::Milliseconds(5);
// How much of stderr an error message quotes.
constexpr size_t kStderrTailBytes = 4000;

ExitStatus FromWaitStatus(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exited = true;
    status.code = WEXITSTATUS(wait_status);
  } else {
    status.signal = WTERMSIG(wait_status);
  }
  return status;
}

std::string ReadOrEmpty(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFile(path, 64 << 20);
  return contents.ok() ? *std::move(contents) : std::string();
}

std::string Tail(const std::string& text) {
  return text.size() <= kStderrTailBytes
             ? text
             : "..." + text.substr(text.size() - kStderrTailBytes);
}

// Closes the file descriptors [first, last]; `fd_limit` bounds `last` when
// close_range is not available. Runs in the child between fork and exec, so
// it uses system calls only.
void CloseRange(int first, unsigned last, int fd_limit) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, static_cast<unsigned>(first), last, 0u) == 0) {
    return;
  }
#endif
  for (int fd = first; fd < fd_limit && static_cast<unsigned>(fd) <= last;
       ++fd) {
    close(fd);
  }
}

// In the child: reports errno to the parent on `error_fd` and exits.
[[noreturn]] void ReportErrnoAndExit(int error_fd) {
  const int error = errno;
  const ssize_t ignored = write(error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

// The child's side of Start: never returns. Reports an exec failure's errno
// on `error_fd` and exits with 127.
[[noreturn]] void ExecChild(const char* binary, char* const argv[],
                            const char* stdout_path, const char* stderr_path,
                            pid_t parent, int error_fd, int fd_limit) {
  const auto fail = [error_fd]() { ReportErrnoAndExit(error_fd); };
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
  // The parent may have died before prctl took effect.
  if (getppid() != parent) _exit(127);

  // Not close-on-exec: descriptors above 2 are closed below, and one that
  // already is 0, 1 or 2 must survive exec.
  const int in = open("/dev/null", O_RDONLY);
  const int out = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) fail();
  const int err = strcmp(stdout_path, stderr_path) == 0
                      ? out
                      : open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err < 0) fail();
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) fail();
  // Everything else the test process holds (sockets, other children's
  // pipes) stays out of the child. error_fd is close-on-exec, so it is kept
  // only until exec.
  if (error_fd > 3)
    CloseRange(3, static_cast<unsigned>(error_fd - 1), fd_limit);
  CloseRange(error_fd + 1, ~0u, fd_limit);
  execv(binary, argv);
  ReportErrnoAndExit(error_fd);
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exit code ", code);
  return absl::StrCat("signal ", signal, " (", strsignal(signal), ")");
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const std::string& stdout_path, const std::string& stderr_path) {
  // Everything the child needs is prepared here: between fork and exec in a
  // multithreaded process only async-signal-safe calls are allowed.
  std::vector<std::string> argv_strings;
  argv_strings.reserve(args.size() + 1);
  argv_strings.push_back(binary);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  struct rlimit limit;
  int fd_limit = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY) {
    fd_limit = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  }

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "creating a pipe");
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(error_pipe[0]);
    close(error_pipe[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(error)));
  }
  if (pid == 0) {
    close(error_pipe[0]);
    ExecChild(binary.c_str(), argv.data(), stdout_path.c_str(),
              stderr_path.c_str(), parent, error_pipe[1], fd_limit);
  }
  close(error_pipe[1]);
  // The pipe closes without data once exec succeeds.
  int child_errno = 0;
  ssize_t got;
  do {
    got = read(error_pipe[0], &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (got == 0) {
    return absl::WrapUnique(new Process(pid, stdout_path, stderr_path));
  }
  int ignored;
  while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof(child_errno)) {
    return absl::InternalError(
        absl::StrCat("starting ", binary, ": the child failed before exec"));
  }
  return ErrnoStatus(child_errno, absl::StrCat("starting ", binary));
}

Process::Process(pid_t pid, std::string stdout_path, std::string stderr_path)
    : pid_(pid),
      stdout_path_(std::move(stdout_path)),
      stderr_path_(std::move(stderr_path)) {}

Process::~Process() {
  if (exit_status_.has_value()) return;
  kill(pid_, SIGKILL);
  int ignored;
  while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
  }
}

std::optional<ExitStatus> Process::Poll() {
  if (exit_status_.has_value()) return exit_status_;
  int wait_status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid_, &wait_status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == pid_) exit_status_ = FromWaitStatus(wait_status);
  return exit_status_;
}

absl::Status Process::Signal(int signal) {
  if (exit_status_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " has already ended with ",
                     exit_status_->ToString()));
  }
  if (kill(pid_, signal) != 0) {
    return ErrnoStatus(errno, absl::StrCat("signalling process ", pid_));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (std::optional<ExitStatus> status = Poll()) return *status;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " still runs after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::StatusOr<ExitStatus> Process::SignalAndWait(int signal,
                                                  absl::Duration timeout) {
  if (absl::Status sent = Signal(signal); !sent.ok()) return sent;
  return Wait(timeout);
}

absl::StatusOr<std::string> Process::WaitForFile(const std::string& path,
                                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::string contents = ReadOrEmpty(path);
    if (!contents.empty()) return contents;
    if (std::optional<ExitStatus> status = Poll()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "process ", pid_, " ended with ", status->ToString(),
          " before writing ", path, "; stderr:\n", Tail(ReadStderr())));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "process ", pid_, " did not write ", path, " within ",
          absl::FormatDuration(timeout), "; stderr:\n", Tail(ReadStderr())));
    }
    absl::SleepFor(kPollInterval);
  }
}

std::string Process::ReadStdout() const { return ReadOrEmpty(stdout_path_); }

std::string Process::ReadStderr() const { return ReadOrEmpty(stderr_path_); }

absl::StatusOr<RunResult> RunProcess(const std::string& binary,
                                     const std::vector<std::string>& args,
                                     const std::string& output_prefix,
                                     absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(
      binary, args, output_prefix + ".stdout", output_prefix + ".stderr");
  if (!process.ok()) return process.status();
  absl::StatusOr<ExitStatus> status = (*process)->Wait(timeout);
  if (!status.ok()) return status.status();  // The destructor kills it.
  return RunResult{*status, (*process)->ReadStdout(), (*process)->ReadStderr()};
}

absl::StatusOr<int> ReserveLoopbackPort() {
  // Ports below Linux's ephemeral range (32768 and up): a port the kernel
  // hands out for port 0 can go to another process's outgoing connection
  // before our server binds it.
  constexpr int kFirstPort = 20000;
  constexpr int kPorts = 12768;
  // Processes start at different places (by pid) and step through ports.
  static std::atomic<uint32_t> next{static_cast<uint32_t>(getpid()) * 7919u};
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = kFirstPort + static_cast<int>(next.fetch_add(1) % kPorts);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus(errno, "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound =
        bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const int error = errno;
    close(fd);
    if (bound) return port;
    if (error != EADDRINUSE) {
      return ErrnoStatus(error, absl::StrCat("binding 127.0.0.1:", port));
    }
  }
  return absl::UnavailableError(
      "no free port on 127.0.0.1 below the ephemeral range after 200 tries");
}

}  // namespace refsum::tests
