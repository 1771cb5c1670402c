#include "witness/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "witness/unique_fd.h"

namespace refsum::witness {
namespace {

// How often a waiting thread looks at the cancellation flag and the child.
constexpr absl::Duration kWakeInterval = absl::Milliseconds(100);
// How long output is still read after the program itself has ended: only
// descendants that left its process group can still hold the pipe, and they
// must not keep the caller waiting until the timeout.
constexpr absl::Duration kDrainAfterExit = absl::Seconds(5);

// Closes the descriptors [first, last]; `fd_limit` bounds the fallback loop
// for kernels without close_range. Runs between fork and exec: system calls
// only.
void CloseRange(int first, unsigned last, int fd_limit) {
  if (first < 0 || static_cast<unsigned>(first) > last) return;
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

[[noreturn]] void ReportErrnoAndExit(int error_fd) {
  const int error = errno;
  const ssize_t ignored = write(error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

// Everything the child needs, prepared before fork: between fork and exec in
// a multithreaded process only async-signal-safe calls are allowed, so no
// allocation happens there.
struct ChildPlan {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // null: keep
  const int* pass_fds;
  int pass_count;
  int output_fd;
  int error_fd;
  pid_t parent;
  int fd_limit;
  const char* staging_dir;  // null: none
  const StagedBind* staged;
  // One buffer per staged bind for the path it is mounted from.
  std::array<char, 32>* staged_sources;
  int staged_count;
  bool set_gid;
  gid_t gid;
  bool set_uid;
  uid_t uid;
};

// Writes "/proc/self/fd/<fd>" into `out` (at least 32 bytes) without
// allocating, for use between fork and exec.
void FormatProcFdPath(int fd, char* out) {
  static constexpr char kPrefix[] = "/proc/self/fd/";
  char digits[12];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  size_t length = 0;
  for (const char* c = kPrefix; *c != '\0'; ++c) out[length++] = *c;
  while (count > 0) out[length++] = digits[--count];
  out[length] = '\0';
}

[[noreturn]] void RunChild(const ChildPlan& plan) {
  const int error_fd_low = plan.error_fd;
  // Lift the error pipe above the slots the passed descriptors go to.
  const int error_fd =
      fcntl(error_fd_low, F_DUPFD_CLOEXEC, 3 + plan.pass_count);
  if (error_fd < 0) ReportErrnoAndExit(error_fd_low);

  sigset_t empty;
  sigemptyset(&empty);
  if (sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) {
    ReportErrnoAndExit(error_fd);
  }
  // Ignored signals stay ignored across exec; the program gets defaults.
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &default_action, nullptr);
  }
  // Its own process group, so that a timeout kills everything it started.
  if (setpgid(0, 0) != 0) ReportErrnoAndExit(error_fd);
  if (plan.staging_dir != nullptr) {
    // MS_PRIVATE first, so that none of these mounts propagates back.
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ReportErrnoAndExit(error_fd);
    }
    // The sources are opened before the tmpfs covers staging_dir, which may
    // be an ancestor of a source (a state directory under /tmp); they are
    // then bound through /proc/self/fd, which still names the covered
    // directories. Opened here, in the new namespace, because a bind mount
    // must come from the caller's own mount namespace.
    for (int i = 0; i < plan.staged_count; ++i) {
      const int fd =
          open(plan.staged[i].source.c_str(), O_PATH | O_CLOEXEC);
      if (fd < 0) ReportErrnoAndExit(error_fd);
      FormatProcFdPath(fd, plan.staged_sources[i].data());
    }
    if (mount("tmpfs", plan.staging_dir, "tmpfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") != 0) {
      ReportErrnoAndExit(error_fd);
    }
    for (int i = 0; i < plan.staged_count; ++i) {
      const StagedBind& bind = plan.staged[i];
      if (bind.directory) {
        if (mkdir(bind.target.c_str(), 0755) != 0) {
          ReportErrnoAndExit(error_fd);
        }
      } else {
        const int created =
            open(bind.target.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (created < 0) ReportErrnoAndExit(error_fd);
        close(created);
      }
      if (mount(plan.staged_sources[i].data(), bind.target.c_str(), nullptr,
                MS_BIND | MS_REC, nullptr) != 0) {
        ReportErrnoAndExit(error_fd);
      }
    }
  }
  // Raw system calls: glibc's wrappers would try to change the credentials
  // of every thread of the parent, which do not exist here.
  if (plan.set_gid) {
    if (syscall(SYS_setgroups, 0, nullptr) != 0) ReportErrnoAndExit(error_fd);
    if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
      ReportErrnoAndExit(error_fd);
    }
  }
  if (plan.set_uid &&
      syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
    ReportErrnoAndExit(error_fd);
  }
  // After the credential change, which clears the death signal.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ReportErrnoAndExit(error_fd);
  if (getppid() != plan.parent) _exit(127);

  const int in = open("/dev/null", O_RDONLY);
  if (in < 0) ReportErrnoAndExit(error_fd);
  if (dup2(in, 0) < 0 || dup2(plan.output_fd, 1) < 0 ||
      dup2(plan.output_fd, 2) < 0) {
    ReportErrnoAndExit(error_fd);
  }
  // Two steps, so that moving one descriptor into its slot cannot overwrite
  // another that is still to be moved.
  int lifted[64];
  if (plan.pass_count > 64) {
    errno = EMFILE;
    ReportErrnoAndExit(error_fd);
  }
  for (int i = 0; i < plan.pass_count; ++i) {
    lifted[i] = fcntl(plan.pass_fds[i], F_DUPFD, 3 + plan.pass_count);
    if (lifted[i] < 0) ReportErrnoAndExit(error_fd);
  }
  for (int i = 0; i < plan.pass_count; ++i) {
    if (dup2(lifted[i], 3 + i) < 0) ReportErrnoAndExit(error_fd);
  }
  if (plan.cwd != nullptr && chdir(plan.cwd) != 0) ReportErrnoAndExit(error_fd);
  CloseRange(3 + plan.pass_count, static_cast<unsigned>(error_fd - 1),
             plan.fd_limit);
  CloseRange(error_fd + 1, ~0u, plan.fd_limit);
  execve(plan.program, plan.argv, plan.envp);
  ReportErrnoAndExit(error_fd);
}

// Receives the child's output, keeping at most `limit` bytes.
class OutputSink {
 public:
  OutputSink(int file_fd, size_t limit, std::string* memory)
      : file_fd_(file_fd), limit_(limit), memory_(memory) {}

  void Take(const char* data, size_t size) {
    const size_t keep = std::min(size, limit_ - std::min(limit_, kept_));
    if (keep < size) truncated_ = true;
    if (keep == 0) return;
    kept_ += keep;
    if (file_fd_ < 0) {
      memory_->append(data, keep);
      return;
    }
    // A failing write (full disk) only loses log text; the outcome of the
    // program does not depend on it.
    size_t done = 0;
    while (done < keep) {
      const ssize_t written = write(file_fd_, data + done, keep - done);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) break;
      done += static_cast<size_t>(written);
    }
  }

  bool truncated() const { return truncated_; }

 private:
  const int file_fd_;
  const size_t limit_;
  std::string* const memory_;
  size_t kept_ = 0;
  bool truncated_ = false;
};

int PollMillis(absl::Duration wait) {
  const int64_t millis = absl::ToInt64Milliseconds(
      std::max(absl::ZeroDuration(), std::min(wait, kWakeInterval)));
  return static_cast<int>(std::max<int64_t>(millis, 1));
}

// Reads what is available; returns false at end of file or on error.
bool ReadAvailable(int fd, OutputSink& sink) {
  char buffer[16384];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got > 0) {
      sink.Take(buffer, static_cast<size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return true;
    return false;
  }
}

// True when `pid` has ended; it is left unreaped, so that its pid, and with
// it the process group id, cannot be reused before the group is killed.
bool HasEnded(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  int result;
  do {
    result = waitid(P_PID, static_cast<id_t>(pid), &info,
                    WEXITED | WNOHANG | WNOWAIT);
  } while (result < 0 && errno == EINTR);
  return result == 0 && info.si_pid == pid;
}

}  // namespace

std::vector<std::string> HelperEnvironment() {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C",
                                  "HOME=/nonexistent"};
  for (const char* name : {"http_proxy", "https_proxy", "no_proxy",
                           "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}) {
    if (const char* value = getenv(name); value != nullptr) {
      env.push_back(absl::StrCat(name, "=", value));
    }
  }
  return env;
}

std::string SubprocessResult::Describe(absl::Duration timeout) const {
  if (timed_out) {
    return absl::StrCat("timed out after ", absl::FormatDuration(timeout));
  }
  if (cancelled) return "cancelled";
  if (exited) return absl::StrCat("exit code ", exit_code);
  return absl::StrCat("signal ", signal, " (", strsignal(signal), ")");
}

absl::StatusOr<SubprocessResult> RunSubprocess(
    const SubprocessOptions& options) {
  if (options.argv.empty() || options.argv[0].empty() ||
      options.argv[0][0] != '/') {
    return absl::InvalidArgumentError(
        "a subprocess needs an absolute program path");
  }
  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = options.env;
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  int fd_limit = 65536;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY) {
    fd_limit = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  }

  UniqueFd file;
  if (!options.output_path.empty()) {
    file = UniqueFd(open(options.output_path.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (file.get() < 0) {
      return ErrnoStatus(errno, absl::StrCat("opening ", options.output_path));
    }
  }
  int output_pipe[2];
  if (pipe2(output_pipe, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "creating a pipe");
  }
  UniqueFd output_read(output_pipe[0]);
  UniqueFd output_write(output_pipe[1]);
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "creating a pipe");
  }
  UniqueFd error_read(error_pipe[0]);
  UniqueFd error_write(error_pipe[1]);

  std::vector<std::array<char, 32>> staged_sources(
      options.staged_binds.size());
  const ChildPlan plan{
      argv[0],
      argv.data(),
      envp.data(),
      options.cwd.empty() ? nullptr : options.cwd.c_str(),
      options.pass_fds.data(),
      static_cast<int>(options.pass_fds.size()),
      output_write.get(),
      error_write.get(),
      getpid(),
      fd_limit,
      options.staging_dir.empty() ? nullptr : options.staging_dir.c_str(),
      options.staged_binds.data(),
      staged_sources.data(),
      static_cast<int>(options.staged_binds.size()),
      options.gid.has_value(),
      options.gid.value_or(0),
      options.uid.has_value(),
      options.uid.value_or(0),
  };
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) RunChild(plan);
  // Also from here, so that the group exists before any kill below; the
  // child may have exec'd already, which makes this fail harmlessly.
  setpgid(pid, pid);
  output_write.Reset();
  error_write.Reset();

  int child_errno = 0;
  ssize_t got;
  do {
    got = read(error_read.get(), &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  if (got != 0) {
    int ignored;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof(child_errno)) {
      return absl::InternalError(absl::StrCat(
          "starting ", options.argv[0], ": the child failed before exec"));
    }
    return ErrnoStatus(child_errno, absl::StrCat("starting ", options.argv[0]));
  }

  SubprocessResult result;
  OutputSink sink(file.get(), options.max_output_bytes, &result.output);
  fcntl(output_read.get(), F_SETFL,
        fcntl(output_read.get(), F_GETFL) | O_NONBLOCK);
  const absl::Time deadline = absl::Now() + options.timeout;
  std::optional<absl::Time> drain_deadline;
  bool output_open = true;
  bool ended = false;
  while (true) {
    const absl::Time now = absl::Now();
    if (!ended && HasEnded(pid)) {
      ended = true;
      // Stragglers the program left in its group go with it.
      kill(-pid, SIGKILL);
      drain_deadline = now + kDrainAfterExit;
    }
    if (options.cancel != nullptr && options.cancel->HasBeenNotified()) {
      result.cancelled = !ended;
      break;
    }
    if (now >= deadline) {
      result.timed_out = !ended;
      break;
    }
    if (ended && (!output_open || now >= *drain_deadline)) break;
    const int wait_ms = PollMillis(deadline - now);
    if (output_open) {
      struct pollfd poll_fd = {output_read.get(), POLLIN, 0};
      const int ready = poll(&poll_fd, 1, wait_ms);
      if (ready > 0) output_open = ReadAvailable(output_read.get(), sink);
    } else {
      poll(nullptr, 0, wait_ms);
    }
  }
  // The child is not reaped yet, so its group id still names its group.
  kill(-pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (output_open) ReadAvailable(output_read.get(), sink);
  result.output_truncated = sink.truncated();
  if (WIFEXITED(wait_status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.signal = WTERMSIG(wait_status);
  }
  return result;
}

}  // namespace refsum::witness
