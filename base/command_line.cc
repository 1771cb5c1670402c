#include "base/command_line.h"

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace refsum {
namespace {

// Checks one "-name[=value]" or "--name[=value]" argument; a non-boolean
// flag without "=" takes the next argument as its value (*consumed_next).
absl::Status CheckFlag(absl::string_view arg, const char* next,
                       bool* consumed_next) {
  *consumed_next = false;
  absl::ConsumePrefix(&arg, "-");
  absl::ConsumePrefix(&arg, "-");
  const size_t equals = arg.find('=');
  const absl::string_view name = arg.substr(0, equals);
  // Abseil's usage flags are not registered flags; absl::ParseCommandLine
  // handles them itself (printing usage and exiting).
  for (absl::string_view usage_flag :
       {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch",
        "version", "only_check_args"}) {
    if (name == usage_flag) return absl::OkStatus();
  }
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && absl::StartsWith(name, "no")) {
    // --nofoo negates the boolean flag foo.
    flag = absl::FindCommandLineFlag(name.substr(2));
    if (flag != nullptr && flag->IsOfType<bool>() &&
        equals == absl::string_view::npos) {
      return absl::OkStatus();
    }
    flag = nullptr;
  }
  if (flag == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
  }
  std::string value;
  if (equals != absl::string_view::npos) {
    value = std::string(arg.substr(equals + 1));
  } else if (flag->IsOfType<bool>()) {
    value = "true";
  } else if (next == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", name, " needs a value"));
  } else {
    value = next;
    *consumed_next = true;
  }
  // Parsing into a copy would be cleaner, but Abseil exposes no such call;
  // absl::ParseCommandLine sets the same value again right after.
  std::string error;
  if (!flag->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", name, ": ", error));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseCommandLine(int argc,
                                                          char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    bool consumed_next = false;
    absl::Status status =
        CheckFlag(arg, i + 1 < argc ? argv[i + 1] : nullptr, &consumed_next);
    if (!status.ok()) return status;
    if (consumed_next) ++i;
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return std::vector<std::string>(positional.begin(), positional.end());
}

}  // namespace refsum
