#include "submitter/repeated_flags.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace refsum::submitter {

absl::StatusOr<RepeatedFlags> ExtractRepeatedFlags(
    int argc, char** argv, absl::Span<const absl::string_view> names) {
  RepeatedFlags result;
  if (argc > 0) result.remaining.push_back(argv[0]);
  int i = 1;
  for (; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') {
      result.remaining.push_back(argv[i]);
      continue;
    }
    absl::ConsumePrefix(&arg, "-");
    absl::ConsumePrefix(&arg, "-");
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      std::vector<std::string>& values = result.values[std::string(name)];
      if (equals != absl::string_view::npos) {
        values.emplace_back(arg.substr(equals + 1));
      } else if (i + 1 < argc) {
        values.emplace_back(argv[++i]);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      continue;
    }
    result.remaining.push_back(argv[i]);
    if (equals != absl::string_view::npos) continue;
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && !flag->IsOfType<bool>() && i + 1 < argc) {
      result.remaining.push_back(argv[++i]);
    }
  }
  for (; i < argc; ++i) result.remaining.push_back(argv[i]);
  return result;
}

}  // namespace refsum::submitter
