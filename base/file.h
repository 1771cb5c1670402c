// Whole-file reads and crash-safe whole-file writes.

#ifndef REFSUM_BASE_FILE_H_
#define REFSUM_BASE_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum {

// Replaces `path` with `contents` so that after a crash the file holds either
// the old or the new contents, never a mix: writes a temporary file in the
// same directory with permissions `mode`, fsyncs it, renames it over `path`
// and fsyncs the directory. On error returns a non-OK status naming the path
// (NotFound when the directory does not exist, PermissionDenied, or
// Unavailable / ResourceExhausted for I/O failures such as a full disk) and
// leaves `path` untouched with no temporary file behind.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents, mode_t mode);

// Returns the whole contents of `path`. Returns NotFound when it does not
// exist, PermissionDenied when it cannot be read, and InvalidArgument when it
// is larger than `max_size` bytes (so a hostile file cannot exhaust memory).
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_size = 16 << 20);

// Returns the directory part of `path`: "." when it has none, "/" for a
// file in the root.
std::string DirectoryOf(const std::string& path);

// Returns `path` unchanged when it is absolute or `base_dir` is ".", else
// joined to `base_dir`:
// how configuration files name the key and PEM files beside them.
std::string ResolvePath(const std::string& base_dir, absl::string_view path);

// Creates directory `path` and any missing parents with permissions `mode`
// (like mkdir -p). Existing directories are left as they are. Returns the
// errno-derived status naming the directory that could not be made.
absl::Status MakeDirectories(const std::string& path, mode_t mode);

// Converts the current `errno` into a status whose message is
// "<what>: <strerror>", with the canonical code for that errno.
absl::Status ErrnoStatus(int error_number, absl::string_view what);

}  // namespace refsum

#endif  // REFSUM_BASE_FILE_H_
