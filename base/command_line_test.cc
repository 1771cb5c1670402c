#include "base/command_line.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, count, 1, "a number");
ABSL_FLAG(bool, verbose, false, "a switch");
ABSL_FLAG(std::string, name, "", "a string");

namespace refsum {
namespace {

absl::StatusOr<std::vector<std::string>> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(CommandLineTest, ParsesFlagsAndReturnsPositionalArguments) {
  absl::StatusOr<std::vector<std::string>> positional =
      Parse({"serve", "--count=3", "--verbose", "--name", "x", "-count", "4",
             "--", "--not-a-flag"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(*positional,
            (std::vector<std::string>{"program", "serve", "--not-a-flag"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 4);
  EXPECT_TRUE(absl::GetFlag(FLAGS_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "x");
  ASSERT_TRUE(Parse({"--noverbose"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_verbose));
}

TEST(CommandLineTest, LeavesUsageFlagsToAbseil) {
  // --help would print usage and exit, so only check that it is not refused;
  // --only_check_args is a usage flag that ParseCommandLine then honours.
  EXPECT_DEATH_IF_SUPPORTED((void)Parse({"--help"}), "");
}

TEST(CommandLineTest, ReportsUnknownFlagsAndBadValuesInsteadOfExiting) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--no_such_flag=1"}, "unknown flag --no_such_flag"},
      {{"--count=many"}, "flag --count"},
      {{"--count"}, "needs a value"},
      {{"--verbose=perhaps"}, "flag --verbose"},
      {{"--noname"}, "unknown flag --noname"},
  };
  for (const auto& [args, message] : cases) {
    absl::Status status = Parse(args).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << args[0];
    EXPECT_NE(status.message().find(message), absl::string_view::npos)
        << status;
  }
}

}  // namespace
}  // namespace refsum
