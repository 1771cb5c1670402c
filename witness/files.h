// File-tree helpers for directories a sandboxed build wrote to. Whatever is
// in them is hostile: symbolic links may point at the witness's keys,
// directories may be unreadable (mode 000), names may be anything. Nothing
// here follows a symbolic link or leaves the directory it was given.
//
// All functions are thread-safe (they share no state), but must not run on
// a tree that is still being written.

#ifndef REFSUM_WITNESS_FILES_H_
#define REFSUM_WITNESS_FILES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::witness {

// Opens the regular file at `relative_path` (components separated by '/')
// under the directory `root` for reading, following no symbolic link on the
// way, and returns its descriptor (close-on-exec; the caller closes it).
// Returns InvalidArgument for an empty or absolute path or one with "." or
// ".." components, NotFound when it does not exist, and FailedPrecondition
// when it or a directory on the way is a symbolic link or it is not a
// regular file.
absl::StatusOr<int> OpenFileBeneath(const std::string& root,
                                    absl::string_view relative_path);

// Reads the regular file at `relative_path` under `root` as OpenFileBeneath
// opens it. Returns its errors, and InvalidArgument when the file is larger
// than `max_size` bytes.
absl::StatusOr<std::string> ReadFileBeneath(const std::string& root,
                                            absl::string_view relative_path,
                                            size_t max_size);

// Returns the total size in bytes of the regular files and symbolic links
// under `root`, counting each inode once (hard links do not inflate it).
// Directories the caller owns but cannot read are made readable first.
absl::StatusOr<uint64_t> TreeSize(const std::string& root);

// Returns the disk space everything under `root` (and `root` itself)
// takes: the blocks allocated to each inode (st_blocks, each inode once),
// and at least kInodeBytes for every inode, so that a tree of a million
// empty files is not free. Follows no symbolic link. Entries that vanish
// while it walks are an error of the walk (the caller may measure again).
inline constexpr uint64_t kInodeBytes = 512;
absl::StatusOr<uint64_t> DiskUsage(const std::string& root);

// Gives `root` and everything under it to `uid`:`gid`, without following
// symbolic links. For a witness running as root, which hands a directory to
// the unprivileged user its builds run as.
absl::Status ChownTree(const std::string& root, uid_t uid, gid_t gid);

// Removes `root` and everything under it, making directories writable
// first where a build left them read-only. A missing `root` is not an
// error.
absl::Status RemoveTree(const std::string& root);

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_FILES_H_
