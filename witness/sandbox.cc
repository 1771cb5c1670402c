#include "witness/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "encoding/json.h"
#include "witness/files.h"
#include "witness/unique_fd.h"

namespace refsum::witness {
namespace {

// The build's identity inside the sandbox, the same on every witness.
constexpr char kBuildUser[] = "builder";
constexpr char kBuildId[] = "1000";
constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "builder:x:1000:1000:builder:/tmp:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "builder:x:1000:\n"
    "nogroup:x:65534:\n";
constexpr char kHosts[] =
    "127.0.0.1\tlocalhost\n"
    "127.0.1.1\tbuilder\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n";

// How long the processes of a stopped build may take to end. They are all
// killed with SIGKILL; only a process stuck in the kernel takes longer.
constexpr absl::Duration kBuildEndTimeout = absl::Seconds(30);

// A sealed-off in-memory file holding `contents`, positioned at its start,
// for bubblewrap's --ro-bind-data.
absl::StatusOr<UniqueFd> DataFd(const char* name, absl::string_view contents) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "memfd_create");
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t written =
        write(fd.get(), contents.data() + done, contents.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return ErrnoStatus(errno, "writing a memfd");
    done += static_cast<size_t>(written);
  }
  if (lseek(fd.get(), 0, SEEK_SET) != 0) {
    return ErrnoStatus(errno, "rewinding a memfd");
  }
  return fd;
}

absl::Status CheckEmptyDirectory(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the sandbox's output directory ", path, ": ", strerror(errno)));
  }
  bool empty = true;
  while (const struct dirent* entry = readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") empty = false;
  }
  closedir(dir);
  if (!empty) {
    return absl::InvalidArgumentError(
        absl::StrCat("the sandbox's output directory ", path, " is not empty"));
  }
  return absl::OkStatus();
}

absl::Status CheckDirectory(const std::string& path, absl::string_view what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the sandbox's ", what, " ", path, " is not a directory"));
  }
  return absl::OkStatus();
}

// The disk space a build's writable host directories take.
absl::StatusOr<uint64_t> BuildDiskUsage(const SandboxRun& run) {
  ASSIGN_OR_RETURN(const uint64_t source, DiskUsage(run.source_dir));
  ASSIGN_OR_RETURN(const uint64_t out, DiskUsage(run.out_dir));
  return source + out;
}


// The init process of a build's pid namespace, as bubblewrap reports it on
// its --info-fd. Every process of a build lives in that namespace, and the
// kernel lets its init end only after it has killed and reaped every other
// one (zap_pid_ns_processes), so once the init's pidfd is readable nothing
// of the build runs any more. bubblewrap's own process, which the
// subprocess waits for, can end first: when it is killed (time limit,
// cancellation, disk limit), the init gets its SIGKILL from the parent-death
// signal, asynchronously.
//
// Not thread-safe; the watchdog thread reads the report while the build
// runs, and Run's thread reads the rest and waits after joining it.
class BuildInit {
 public:
  explicit BuildInit(UniqueFd info) : info_(std::move(info)) {}

  // Reads what bubblewrap has written so far without blocking, and opens
  // the init's pidfd once the report is complete.
  void Poll() {
    if (info_.get() < 0) return;
    char buffer[1024];
    while (true) {
      const ssize_t got = read(info_.get(), buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      report_.append(buffer, static_cast<size_t>(got));
      if (report_.size() > 4096) break;
    }
    if (report_.size() > 4096) {  // not bubblewrap's report
      info_.Reset();
      return;
    }
    // The report is one JSON object; until it parses, more is to come.
    const absl::StatusOr<encoding::JsonValue> report =
        encoding::ParseJson(report_);
    if (!report.ok()) return;
    info_.Reset();
    Open(*report);
  }

  // Kills the init (and with it everything in its namespace) and waits
  // until it has ended, at most `timeout`. OK as well when bubblewrap never
  // reported one (it failed before starting the build) or it ended before
  // it could be opened; an error when the init could not be watched.
  absl::Status Wait(absl::Duration timeout) {
    Poll();
    RETURN_IF_ERROR(open_status_);
    if (pidfd_.get() < 0) return absl::OkStatus();
    // bubblewrap's parent-death signal kills the init too, but only once
    // bubblewrap itself has gone, asynchronously; a killed init takes its
    // namespace with it. Signalling an init that has already ended is
    // harmless.
    syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    struct pollfd poll_fd = {pidfd_.get(), POLLIN, 0};
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const int millis = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now())));
      const int ready = poll(&poll_fd, 1, millis);
      if (ready > 0) return absl::OkStatus();
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return ErrnoStatus(errno, "waiting for a build to end");
      return absl::DeadlineExceededError(absl::StrCat(
          "the processes of a build (pid namespace ", namespace_,
          ") had not ended ", absl::FormatDuration(timeout),
          " after it was stopped"));
    }
  }

 private:
  void Open(const encoding::JsonValue& report) {
    const encoding::JsonValue* pid = report.Find("child-pid");
    const encoding::JsonValue* ns = report.Find("pid-namespace");
    if (pid == nullptr || ns == nullptr || !pid->AsInteger().has_value() ||
        !ns->AsInteger().has_value() || *pid->AsInteger() <= 0) {
      open_status_ = absl::InternalError(
          "bubblewrap's --info-fd report names no child-pid and "
          "pid-namespace");
      return;
    }
    namespace_ = *ns->AsInteger();
    const pid_t init = static_cast<pid_t>(*pid->AsInteger());
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, init, 0)));
    if (pidfd.get() < 0) {
      // ESRCH: it has ended and been reaped, and its namespace with it.
      // Anything else means the build cannot be watched.
      if (errno != ESRCH) {
        open_status_ = ErrnoStatus(errno, "opening a pidfd for a build");
      }
      return;
    }
    // The pid may have been reused after the init was reaped: it is the
    // init only if it is still in the namespace bubblewrap named.
    const absl::StatusOr<bool> same = InNamespace(init);
    if (!same.ok()) {
      open_status_ = same.status();
      return;
    }
    if (*same) pidfd_ = std::move(pidfd);
  }

  // Whether process `pid` is in the pid namespace `namespace_`. Without
  // the right to read its namespace link (a root witness without
  // CAP_SYS_PTRACE over a build running as build_uid), whether it is the
  // first process of some pid namespace (/proc/PID/status "NSpid: PID 1"),
  // which another build's init could also be: then this waits for that
  // build, at worst, never for an unrelated process.
  absl::StatusOr<bool> InNamespace(pid_t pid) const {
    char link[64];
    const std::string path = absl::StrCat("/proc/", pid, "/ns/pid");
    const ssize_t length = readlink(path.c_str(), link, sizeof(link) - 1);
    if (length > 0) {
      return absl::string_view(link, static_cast<size_t>(length)) ==
             absl::StrCat("pid:[", namespace_, "]");
    }
    if (errno == ENOENT || errno == ESRCH) return false;  // it has ended
    if (errno != EACCES && errno != EPERM) {
      return ErrnoStatus(errno, absl::StrCat("reading ", path));
    }
    absl::StatusOr<std::string> status =
        ReadFile(absl::StrCat("/proc/", pid, "/status"), 1 << 16);
    if (!status.ok()) {
      if (absl::IsNotFound(status.status())) return false;  // it has ended
      return status.status();
    }
    for (absl::string_view line : absl::StrSplit(*status, '\n')) {
      if (!absl::ConsumePrefix(&line, "NSpid:")) continue;
      const std::vector<absl::string_view> pids =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      return pids.size() >= 2 && pids.back() == "1";
    }
    return false;
  }

  UniqueFd info_;
  std::string report_;
  absl::Status open_status_;
  int64_t namespace_ = 0;
  UniqueFd pidfd_;
};

}  // namespace

std::vector<std::string> DefaultSystemPaths() {
  return {
      "/usr",
      "/bin",
      "/sbin",
      "/lib",
      "/lib32",
      "/lib64",
      "/libx32",
      // Debian's alternatives (awk, cc, ...) resolve through here.
      "/etc/alternatives",
      // The dynamic linker's search path.
      "/etc/ld.so.cache",
      "/etc/ld.so.conf",
      "/etc/ld.so.conf.d",
      "/etc/nsswitch.conf",
      // OpenSSL's configuration; the rest of /etc/ssl holds private keys.
      "/etc/ssl/openssl.cnf",
  };
}

std::string SandboxResult::Describe(const SandboxLimits& limits) const {
  if (process.cancelled) return "the build was cancelled";
  if (disk_exceeded) {
    return absl::StrCat("the recipe wrote more than the disk limit of ",
                        max_disk_bytes, " bytes in /src and /out");
  }
  if (process.timed_out || !process.ok()) {
    return absl::StrCat("the recipe ", process.timed_out ? "" : "failed: ",
                        process.Describe(limits.wall_time));
  }
  if (output_too_large) {
    return absl::StrCat("the recipe left ", output_bytes,
                        " bytes in /out, more than the limit of ",
                        limits.output_bytes);
  }
  return "ok";
}

Sandbox::Sandbox(SandboxOptions options) : options_(std::move(options)) {}

absl::Status Sandbox::SelfTest(const std::string& scratch_dir) const {
  RETURN_IF_ERROR(MakeDirectories(scratch_dir, 0700));
  std::string dir = absl::StrCat(scratch_dir, "/selftest-XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return ErrnoStatus(errno,
                       absl::StrCat("creating a directory in ", scratch_dir));
  }
  SandboxRun run;
  run.recipe = "echo ok > /out/ok";
  run.source_dir = dir + "/src";
  run.out_dir = dir + "/out";
  run.log_path = dir + "/log";
  run.limits.wall_time = absl::Minutes(5);
  absl::Status status = MakeDirectories(run.source_dir, 0755);
  if (status.ok()) status = MakeDirectories(run.out_dir, 0755);
  absl::StatusOr<SandboxResult> result;
  if (status.ok()) {
    result = Run(run);
    status = result.status();
  }
  if (status.ok()) {
    absl::StatusOr<std::string> out = ReadFileBeneath(run.out_dir, "ok", 16);
    if (!result->ok() || !out.ok() || *out != "ok\n") {
      const absl::StatusOr<std::string> log = ReadFile(run.log_path);
      status = absl::FailedPreconditionError(
          absl::StrCat("the rebuild sandbox (", options_.bwrap_path,
                       ") does not work here: ", result->Describe(run.limits),
                       ": ", log.ok() ? *log : std::string()));
    }
  }
  const absl::Status removed = RemoveTree(dir);
  return status.ok() ? removed : status;
}

absl::StatusOr<SandboxResult> Sandbox::Run(const SandboxRun& run) const {
  RETURN_IF_ERROR(CheckDirectory(run.source_dir, "source directory"));
  RETURN_IF_ERROR(CheckDirectory(run.out_dir, "output directory"));
  RETURN_IF_ERROR(CheckEmptyDirectory(run.out_dir));
  for (const SandboxInput& input : run.inputs) {
    if (!absl::StartsWith(input.sandbox_path, "/in/") ||
        absl::StrContains(input.sandbox_path, "/../") ||
        absl::EndsWith(input.sandbox_path, "/..")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a sandbox input goes to ", input.sandbox_path, ", not under /in/"));
    }
  }
  const bool as_root = geteuid() == 0;
  if (as_root) {
    RETURN_IF_ERROR(
        ChownTree(run.source_dir, options_.build_uid, options_.build_gid));
    RETURN_IF_ERROR(
        ChownTree(run.out_dir, options_.build_uid, options_.build_gid));
  }

  // Descriptors handed to bubblewrap, which sees them as 3, 4, ... in order.
  std::vector<UniqueFd> fds;
  const auto pass = [&fds](UniqueFd fd) {
    fds.push_back(std::move(fd));
    return std::to_string(2 + fds.size());
  };
  std::vector<std::string> argv = {
      options_.bwrap_path,
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--uid",
      kBuildId,
      "--gid",
      kBuildId,
      "--hostname",
      kBuildUser,
      "--die-with-parent",
      // Its own session: no way to push input into a terminal of the
      // witness (TIOCSTI).
      "--new-session",
  };
  for (const std::string& path : options_.system_paths) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t length = readlink(path.c_str(), target, sizeof(target));
      if (length <= 0 || static_cast<size_t>(length) >= sizeof(target)) {
        continue;
      }
      argv.insert(argv.end(), {"--symlink", std::string(target, length), path});
    } else {
      argv.insert(argv.end(), {"--ro-bind", path, path});
    }
  }
  // bubblewrap reports its pid namespace's init here (see BuildInit).
  int info_pipe[2];
  if (pipe2(info_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "creating a pipe");
  }
  BuildInit build_init{UniqueFd(info_pipe[0])};
  argv.insert(argv.end(), {"--info-fd", pass(UniqueFd(info_pipe[1]))});
  ASSIGN_OR_RETURN(UniqueFd passwd, DataFd("passwd", kPasswd));
  argv.insert(argv.end(),
              {"--ro-bind-data", pass(std::move(passwd)), "/etc/passwd"});
  ASSIGN_OR_RETURN(UniqueFd group, DataFd("group", kGroup));
  argv.insert(argv.end(),
              {"--ro-bind-data", pass(std::move(group)), "/etc/group"});
  ASSIGN_OR_RETURN(UniqueFd hosts, DataFd("hosts", kHosts));
  argv.insert(argv.end(),
              {"--ro-bind-data", pass(std::move(hosts)), "/etc/hosts"});
  const std::string tmpfs_size = std::to_string(run.limits.memory_bytes);
  argv.insert(argv.end(),
              {"--proc", "/proc", "--dev", "/dev", "--size", tmpfs_size,
               "--tmpfs", "/dev/shm",
               // Nothing but the tmpfs above is writable in /dev; device
               // nodes stay writable on a read-only mount.
               "--remount-ro", "/dev", "--size", tmpfs_size, "--tmpfs", "/tmp",
               "--dir", "/var", "--size", tmpfs_size, "--tmpfs", "/var/tmp"});
  SubprocessOptions subprocess;
  // The host paths bubblewrap binds: the caller's, or when bubblewrap runs
  // as build_uid, the same directories mounted where build_uid reaches them.
  const auto reachable = [&](const std::string& host_path,
                             absl::string_view name, bool directory) {
    if (!as_root) return host_path;
    std::string staged = absl::StrCat(options_.staging_dir, "/", name);
    subprocess.staged_binds.push_back({host_path, staged, directory});
    return staged;
  };
  argv.insert(argv.end(),
              {"--bind", reachable(run.source_dir, "src", true), "/src",
               "--bind", reachable(run.out_dir, "out", true), "/out"});
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    const SandboxInput& input = run.inputs[i];
    struct stat st;
    if (stat(input.host_path.c_str(), &st) != 0) {
      return ErrnoStatus(errno, absl::StrCat("examining ", input.host_path));
    }
    argv.insert(argv.end(), {"--ro-bind",
                             reachable(input.host_path, absl::StrCat("in", i),
                                       S_ISDIR(st.st_mode)),
                             input.sandbox_path});
  }
  argv.insert(argv.end(),
              {"--remount-ro", "/", "--chdir", "/src", "--clearenv"});
  const std::pair<const char*, const char*> fixed_env[] = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"HOME", "/tmp"},
      {"LANG", "C.UTF-8"},
      {"TZ", "UTC"},
      {"USER", kBuildUser},
  };
  for (const auto& [name, value] : fixed_env) {
    argv.insert(argv.end(), {"--setenv", name, value});
  }
  for (const auto& [name, value] : run.env) {
    argv.insert(argv.end(), {"--setenv", name, value});
  }
  // prlimit runs inside the build's user namespace, where RLIMIT_NPROC
  // counts only the build's processes (see the top of sandbox.h).
  argv.insert(argv.end(), {"--", options_.prlimit_path,
                           absl::StrCat("--as=", run.limits.memory_bytes),
                           absl::StrCat("--nproc=", options_.max_processes),
                           absl::StrCat("--fsize=", options_.max_disk_bytes),
                           "--core=0", "--", "/bin/sh", "-c", run.recipe});

  subprocess.argv = std::move(argv);
  subprocess.timeout = run.limits.wall_time;
  // The build stops when the caller cancels it or the watchdog finds the
  // disk limit exceeded.
  absl::Notification stop;
  subprocess.cancel = &stop;
  subprocess.max_output_bytes = options_.max_log_bytes;
  subprocess.output_path = run.log_path;
  for (const UniqueFd& fd : fds) subprocess.pass_fds.push_back(fd.get());
  if (as_root) {
    subprocess.uid = options_.build_uid;
    subprocess.gid = options_.build_gid;
    subprocess.staging_dir = options_.staging_dir;
  }
  SandboxResult result;
  result.max_disk_bytes = options_.max_disk_bytes;
  ASSIGN_OR_RETURN(const uint64_t disk_at_start, BuildDiskUsage(run));
  absl::Notification finished;
  bool disk_exceeded = false;  // written by the watchdog, read after join
  std::thread watchdog([&] {
    // Measuring a large tree takes time: it waits ten times as long as the
    // last measurement took, so that it never uses more than a tenth of a
    // core.
    absl::Duration wait = absl::Milliseconds(10);
    build_init.Poll();
    while (!finished.WaitForNotificationWithTimeout(wait)) {
      build_init.Poll();
      if (run.cancel != nullptr && run.cancel->HasBeenNotified()) {
        stop.Notify();
        return;
      }
      // A build that removes files while they are measured makes the walk
      // fail; it is measured again next time.
      const absl::Time start = absl::Now();
      const absl::StatusOr<uint64_t> usage = BuildDiskUsage(run);
      wait = std::max(options_.disk_check_interval,
                      10 * (absl::Now() - start));
      if (usage.ok() && *usage > disk_at_start &&
          *usage - disk_at_start > options_.max_disk_bytes) {
        disk_exceeded = true;
        stop.Notify();
        return;
      }
    }
  });
  absl::StatusOr<SubprocessResult> process = RunSubprocess(subprocess);
  finished.Notify();
  watchdog.join();
  // bubblewrap has ended; what it started may still be running (killed, but
  // not yet gone), and nothing may read or remove /src and /out before it
  // is.
  RETURN_IF_ERROR(build_init.Wait(kBuildEndTimeout));
  RETURN_IF_ERROR(process.status());
  result.process = *std::move(process);
  if (disk_exceeded) {
    result.disk_exceeded = true;
    result.process.cancelled = false;
  }
  ASSIGN_OR_RETURN(result.output_bytes, TreeSize(run.out_dir));
  result.output_too_large = result.output_bytes > run.limits.output_bytes;
  return result;
}

}  // namespace refsum::witness
