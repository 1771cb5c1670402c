#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace refsum {
namespace {

absl::StatusCode CodeForErrno(int error_number) {
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::StatusCode::kResourceExhausted;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EINVAL:
    case EISDIR:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

// Closes `fd` on scope exit unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("writing ", path));
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}


absl::Status SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", dir));
  FdCloser closer(fd);
  if (fsync(fd) != 0) return ErrnoStatus(errno, absl::StrCat("syncing ", dir));
  return absl::OkStatus();
}

absl::Status WriteAndSync(int fd, absl::string_view contents, mode_t mode,
                          const std::string& temp_path) {
  if (fchmod(fd, mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("setting the mode of ", temp_path));
  }
  absl::Status status = WriteAll(fd, contents, temp_path);
  if (!status.ok()) return status;
  if (fsync(fd) != 0) {
    return ErrnoStatus(errno, absl::StrCat("syncing ", temp_path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoStatus(int error_number, absl::string_view what) {
  return absl::Status(CodeForErrno(error_number),
                      absl::StrCat(what, ": ", std::strerror(error_number)));
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents, mode_t mode) {
  std::string temp_path = absl::StrCat(path, ".tmp.XXXXXX");
  std::vector<char> temp_template(temp_path.begin(), temp_path.end());
  temp_template.push_back('\0');
  const int fd = mkostemp(temp_template.data(), O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("creating a temporary file for ",
                                           path));
  }
  temp_path = temp_template.data();
  absl::Status status;
  {
    FdCloser closer(fd);
    status = WriteAndSync(fd, contents, mode, temp_path);
  }
  if (status.ok() && rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("renaming ", temp_path, " to ",
                                             path));
  }
  if (!status.ok()) {
    unlink(temp_path.c_str());
    return status;
  }
  return SyncDirectory(DirectoryOf(path));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string ResolvePath(const std::string& base_dir, absl::string_view path) {
  if ((!path.empty() && path[0] == '/') || base_dir == ".") {
    return std::string(path);
  }
  return absl::StrCat(base_dir, "/", path);
}

absl::Status MakeDirectories(const std::string& path, mode_t mode) {
  for (size_t slash = path.find('/', 1); ; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), mode) != 0 &&
        errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("creating directory ", prefix));
    }
    if (slash == std::string::npos) break;
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path));
  FdCloser closer(fd);
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("reading ", path));
    }
    if (got == 0) break;
    if (contents.size() + static_cast<size_t>(got) > max_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " is larger than the limit of ", max_size, " bytes"));
    }
    contents.append(buffer, static_cast<size_t>(got));
  }
  return contents;
}

}  // namespace refsum
