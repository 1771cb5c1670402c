// Command-line parsing for refsum's binaries on top of Abseil flags, with the
// exit code convention every refsum tool follows: 2 for usage errors.

#ifndef REFSUM_BASE_COMMAND_LINE_H_
#define REFSUM_BASE_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace refsum {

// Parses the Abseil flags in argv and returns the positional arguments,
// argv[0] first. Unlike absl::ParseCommandLine, which exits with code 1 on
// an unknown flag or a value that does not parse, it returns InvalidArgument
// naming the flag, so the caller can exit 2. --help and the other Abseil
// usage flags still print usage and exit as Abseil defines. Call once, from
// main, before starting threads.
absl::StatusOr<std::vector<std::string>> ParseCommandLine(int argc,
                                                          char** argv);

}  // namespace refsum

#endif  // REFSUM_BASE_COMMAND_LINE_H_
