#include "base/daemon.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace refsum {
namespace {

int RunProgram(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return RunSubcommands(
      static_cast<int>(argv.size()), argv.data(), "program", "usage text",
      {{"ok", [] { return absl::OkStatus(); }},
       {"bad-input", [] { return absl::InvalidArgumentError("bad input"); }},
       {"broken", [] { return absl::UnavailableError("broken"); }}});
}

TEST(DaemonTest, RunSubcommandsMapsOutcomesToExitCodes) {
  EXPECT_EQ(RunProgram({"ok"}), 0);
  EXPECT_EQ(RunProgram({"bad-input"}), 2);
  EXPECT_EQ(RunProgram({"broken"}), 1);
  EXPECT_EQ(RunProgram({}), 2);
  EXPECT_EQ(RunProgram({"unknown"}), 2);
  EXPECT_EQ(RunProgram({"ok", "extra"}), 2);
  EXPECT_EQ(RunProgram({"ok", "--no_such_flag"}), 2);
}

}  // namespace
}  // namespace refsum
