#include "witness/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "witness/unique_fd.h"

namespace refsum::witness {
namespace {

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Opens directory `name` under `parent_fd`; when its mode keeps the owner
// out (a build may leave mode 000), adds the owner's rwx and tries again.
int OpenDirectoryAt(int parent_fd, const char* name) {
  int fd = openat(parent_fd, name, kDirectoryFlags);
  if (fd >= 0 || errno != EACCES) return fd;
  struct stat st;
  if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISDIR(st.st_mode) ||
      fchmodat(parent_fd, name, (st.st_mode & 07777) | S_IRWXU, 0) != 0) {
    errno = EACCES;
    return -1;
  }
  return openat(parent_fd, name, kDirectoryFlags);
}

// The names in the directory `fd` (which stays open), without "." and "..".
absl::StatusOr<std::vector<std::string>> ListNames(int fd,
                                                   const std::string& path) {
  // fdopendir takes ownership of its descriptor, so it gets a copy.
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return ErrnoStatus(errno, absl::StrCat("listing ", path));
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    const int error = errno;
    close(copy);
    return ErrnoStatus(error, absl::StrCat("listing ", path));
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const struct dirent* entry = readdir(dir);
    if (entry == nullptr) break;
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error = errno;
  closedir(dir);
  if (error != 0) return ErrnoStatus(error, absl::StrCat("listing ", path));
  return names;
}

struct Visitor {
  // Called for each entry below the root, with its parent directory's
  // descriptor, before a directory's contents are visited.
  std::function<absl::Status(int parent_fd, const std::string& name,
                             const struct stat& st)>
      entry;
  // Called for each directory below the root after its contents.
  std::function<absl::Status(int parent_fd, const std::string& name)>
      after_directory;
};

// Walks the tree under `root` depth first without recursion and with one
// directory open at a time (going back up through ".."), so that a build
// that nests directories a million deep exhausts neither the stack nor the
// descriptor table. Follows no symbolic link.
absl::Status WalkTree(const std::string& root, const Visitor& visitor) {
  UniqueFd current(OpenDirectoryAt(AT_FDCWD, root.c_str()));
  if (current.get() < 0) {
    return ErrnoStatus(errno, absl::StrCat("opening ", root));
  }
  struct Level {
    std::vector<std::string> names;
    size_t next = 0;
    // The directory's name in its parent; empty for the root.
    std::string name;
  };
  std::vector<Level> stack;
  ASSIGN_OR_RETURN(std::vector<std::string> root_names,
                   ListNames(current.get(), root));
  stack.push_back(Level{std::move(root_names), 0, ""});
  while (true) {
    if (stack.back().next == stack.back().names.size()) {
      const std::string name = std::move(stack.back().name);
      stack.pop_back();
      if (stack.empty()) return absl::OkStatus();
      const int parent = openat(current.get(), "..", kDirectoryFlags);
      if (parent < 0) {
        return ErrnoStatus(errno, absl::StrCat("walking back up in ", root));
      }
      current.Reset(parent);
      if (visitor.after_directory) {
        RETURN_IF_ERROR(visitor.after_directory(current.get(), name));
      }
      continue;
    }
    const std::string name = stack.back().names[stack.back().next++];
    struct stat st;
    if (fstatat(current.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, absl::StrCat("examining ", name, " in ", root));
    }
    if (visitor.entry) {
      RETURN_IF_ERROR(visitor.entry(current.get(), name, st));
    }
    if (!S_ISDIR(st.st_mode)) continue;
    UniqueFd child(OpenDirectoryAt(current.get(), name.c_str()));
    if (child.get() < 0) {
      return ErrnoStatus(errno, absl::StrCat("opening ", name, " in ", root));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     ListNames(child.get(), name));
    current.Reset(child.Release());
    stack.push_back(Level{std::move(names), 0, name});
  }
}

}  // namespace

absl::StatusOr<int> OpenFileBeneath(const std::string& root,
                                    absl::string_view relative_path) {
  if (relative_path.empty() || relative_path.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", relative_path, "\" is not a relative path"));
  }
  const std::vector<std::string> parts = absl::StrSplit(relative_path, '/');
  for (const std::string& part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", relative_path, "\" has an empty, \".\" or \"..\" component"));
    }
  }
  UniqueFd directory(open(root.c_str(), kDirectoryFlags));
  if (directory.get() < 0) {
    return ErrnoStatus(errno, absl::StrCat("opening ", root));
  }
  const auto not_plain = [&]() {
    return absl::FailedPreconditionError(
        absl::StrCat(relative_path, " in ", root,
                     " is not a regular file reached without symbolic links"));
  };
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const int next = openat(directory.get(), parts[i].c_str(), kDirectoryFlags);
    if (next < 0) {
      if (errno == ELOOP || errno == ENOTDIR) return not_plain();
      return ErrnoStatus(errno,
                         absl::StrCat("opening ", relative_path, " in ", root));
    }
    directory.Reset(next);
  }
  // O_NONBLOCK: opening a FIFO the build left must not wait for a writer.
  UniqueFd file(openat(directory.get(), parts.back().c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ELOOP) return not_plain();
    return ErrnoStatus(errno,
                       absl::StrCat("opening ", relative_path, " in ", root));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("examining ", relative_path));
  }
  if (!S_ISREG(st.st_mode)) return not_plain();
  return file.Release();
}

absl::StatusOr<std::string> ReadFileBeneath(const std::string& root,
                                            absl::string_view relative_path,
                                            size_t max_size) {
  ASSIGN_OR_RETURN(const int raw_fd, OpenFileBeneath(root, relative_path));
  UniqueFd fd(raw_fd);
  std::string contents;
  char buffer[16384];
  while (true) {
    const ssize_t got = read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return ErrnoStatus(errno, absl::StrCat("reading ", relative_path));
    }
    if (got == 0) return contents;
    if (contents.size() + static_cast<size_t>(got) > max_size) {
      return absl::InvalidArgumentError(
          absl::StrCat(relative_path, " is larger than ", max_size, " bytes"));
    }
    contents.append(buffer, static_cast<size_t>(got));
  }
}

absl::StatusOr<uint64_t> TreeSize(const std::string& root) {
  uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> linked;
  Visitor visitor;
  visitor.entry = [&](int, const std::string&, const struct stat& st) {
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return absl::OkStatus();
    if (st.st_nlink > 1 && !linked.emplace(st.st_dev, st.st_ino).second) {
      return absl::OkStatus();
    }
    total += static_cast<uint64_t>(st.st_size);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(WalkTree(root, visitor));
  return total;
}

absl::StatusOr<uint64_t> DiskUsage(const std::string& root) {
  const auto usage = [](const struct stat& st) {
    return std::max(static_cast<uint64_t>(st.st_blocks) * 512, kInodeBytes);
  };
  struct stat root_st;
  if (lstat(root.c_str(), &root_st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("examining ", root));
  }
  uint64_t total = usage(root_st);
  std::set<std::pair<dev_t, ino_t>> linked;
  Visitor visitor;
  visitor.entry = [&](int, const std::string&, const struct stat& st) {
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) &&
        !linked.emplace(st.st_dev, st.st_ino).second) {
      return absl::OkStatus();
    }
    total += usage(st);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(WalkTree(root, visitor));
  return total;
}

absl::Status ChownTree(const std::string& root, uid_t uid, gid_t gid) {
  if (lchown(root.c_str(), uid, gid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("changing the owner of ", root));
  }
  Visitor visitor;
  visitor.entry = [&](int parent_fd, const std::string& name,
                      const struct stat&) {
    if (fchownat(parent_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(
          errno, absl::StrCat("changing the owner of ", name, " in ", root));
    }
    return absl::OkStatus();
  };
  return WalkTree(root, visitor);
}

absl::Status RemoveTree(const std::string& root) {
  struct stat st;
  if (lstat(root.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("examining ", root));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(root.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("removing ", root));
    }
    return absl::OkStatus();
  }
  // Entries can only be removed from a directory the owner may write.
  if ((st.st_mode & S_IRWXU) != S_IRWXU) {
    chmod(root.c_str(), (st.st_mode & 07777) | S_IRWXU);
  }
  Visitor visitor;
  visitor.entry = [&](int parent_fd, const std::string& name,
                      const struct stat& entry_st) {
    if (S_ISDIR(entry_st.st_mode)) {
      if ((entry_st.st_mode & S_IRWXU) != S_IRWXU) {
        fchmodat(parent_fd, name.c_str(), (entry_st.st_mode & 07777) | S_IRWXU,
                 0);
      }
      return absl::OkStatus();
    }
    if (unlinkat(parent_fd, name.c_str(), 0) != 0) {
      return ErrnoStatus(errno, absl::StrCat("removing ", name, " in ", root));
    }
    return absl::OkStatus();
  };
  visitor.after_directory = [&](int parent_fd, const std::string& name) {
    if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) {
      return ErrnoStatus(errno, absl::StrCat("removing ", name, " in ", root));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(WalkTree(root, visitor));
  if (rmdir(root.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("removing ", root));
  }
  return absl::OkStatus();
}

}  // namespace refsum::witness
