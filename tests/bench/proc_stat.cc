#include "tests/bench/proc_stat.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refsum::bench {

absl::StatusOr<absl::Duration> ProcessCpuTime(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // The command name (field 2) is in parentheses and may hold spaces; the
  // fields after the last ')' start with field 3 (state).
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return absl::DataLossError(absl::StrCat(path, ": no ')' in ", stat));
  }
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // utime and stime are fields 14 and 15, i.e. 11 and 12 after the state.
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat(path, ": no utime/stime"));
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  return absl::Seconds(static_cast<double>(utime + stime) /
                       static_cast<double>(ticks));
}

absl::Duration ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

}  // namespace refsum::bench
