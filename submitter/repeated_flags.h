// Repeatable command-line flags for refsum-submit (--artifact, --value).
//
// Abseil's std::vector<std::string> flags split their value at commas and
// keep only the last occurrence, but a --value SPEC holds commas
// (`...,vcpus=4`) and a vendor naturally writes `--value A --value B`. So
// these flags are taken out of argv before Abseil parses the rest: every
// occurrence, in order, each value verbatim.

#ifndef REFSUM_SUBMITTER_REPEATED_FLAGS_H_
#define REFSUM_SUBMITTER_REPEATED_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace refsum::submitter {

struct RepeatedFlags {
  // argv without the repeated flags and their values, argv[0] first, for
  // refsum::ParseCommandLine. The pointers are the caller's argv strings.
  std::vector<char*> remaining;
  // For each name in `names` given at least once, its values in order.
  std::map<std::string, std::vector<std::string>> values;
};

// Takes every occurrence of the flags `names` out of argv. A flag is written
// as Abseil reads flags: "--name=value", "-name=value", or "--name" /
// "-name" with the value in the next argument. Arguments after "--" are
// positional and kept as they are. So that a value is never mistaken for a
// flag, the value of any other registered non-boolean Abseil flag given as
// "--flag value" is skipped, exactly as Abseil will read it. Returns
// InvalidArgument when one of `names` is the last argument, with no value.
absl::StatusOr<RepeatedFlags> ExtractRepeatedFlags(
    int argc, char** argv, absl::Span<const absl::string_view> names);

}  // namespace refsum::submitter

#endif  // REFSUM_SUBMITTER_REPEATED_FLAGS_H_
