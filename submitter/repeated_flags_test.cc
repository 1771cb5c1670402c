#include "submitter/repeated_flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, text, "", "A string flag for the test.");
ABSL_FLAG(bool, switch, false, "A boolean flag for the test.");

namespace refsum::submitter {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::string_view kNames[] = {"artifact", "value"};

// Runs ExtractRepeatedFlags over `args` (argv[0] first).
absl::StatusOr<RepeatedFlags> Extract(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ExtractRepeatedFlags(static_cast<int>(argv.size()), argv.data(),
                              kNames);
}

std::vector<std::string> Strings(const std::vector<char*>& argv) {
  return std::vector<std::string>(argv.begin(), argv.end());
}

TEST(RepeatedFlagsTest, CollectsEveryOccurrenceInOrderVerbatim) {
  std::vector<std::string> args = {
      "refsum-submit",
      "claim",
      "--value",
      "amd-sev-snp/launch-measurement=sha384:ab,vcpus=4",
      "--artifact=a",
      "-artifact",
      "b",
      "-value=tpm/pcr/4=sha256:cd,x=1,y=2",
      "--out",
      "claim.json"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values.at("artifact"), ElementsAre("a", "b"));
  EXPECT_THAT(flags->values.at("value"),
              ElementsAre("amd-sev-snp/launch-measurement=sha384:ab,vcpus=4",
                          "tpm/pcr/4=sha256:cd,x=1,y=2"));
  EXPECT_THAT(Strings(flags->remaining),
              ElementsAre("refsum-submit", "claim", "--out", "claim.json"));
}

TEST(RepeatedFlagsTest, AbsentFlagsHaveNoEntry) {
  std::vector<std::string> args = {"refsum-submit", "keygen", "--switch"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values, IsEmpty());
  EXPECT_THAT(Strings(flags->remaining),
              ElementsAre("refsum-submit", "keygen", "--switch"));
}

TEST(RepeatedFlagsTest, AnotherFlagsValueIsNotTakenForAFlag) {
  // Abseil reads "--text --value" as --text with the value "--value".
  std::vector<std::string> args = {"prog", "--text",   "--value",    "--value",
                                   "v",    "--switch", "--artifact", "--text"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values.at("value"), ElementsAre("v"));
  // A boolean flag takes no value, so "--artifact" after it is a flag.
  EXPECT_THAT(flags->values.at("artifact"), ElementsAre("--text"));
  EXPECT_THAT(Strings(flags->remaining),
              ElementsAre("prog", "--text", "--value", "--switch"));
}

TEST(RepeatedFlagsTest, ArgumentsAfterDoubleDashArePositional) {
  std::vector<std::string> args = {"prog", "--value=a", "--", "--value", "b"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values.at("value"), ElementsAre("a"));
  EXPECT_THAT(Strings(flags->remaining),
              ElementsAre("prog", "--", "--value", "b"));
}

TEST(RepeatedFlagsTest, EmptyValuesAreKept) {
  std::vector<std::string> args = {"prog", "--value=", "--artifact", ""};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values.at("value"), ElementsAre(""));
  EXPECT_THAT(flags->values.at("artifact"), ElementsAre(""));
}

TEST(RepeatedFlagsTest, AFlagWithoutValueIsAnError) {
  std::vector<std::string> args = {"prog", "--artifact=a", "--value"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  EXPECT_EQ(flags.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(flags.status().message(), "flag --value needs a value");
}

TEST(RepeatedFlagsTest, SimilarNamesAreOtherFlags) {
  std::vector<std::string> args = {"prog", "--values=x", "--artifacts", "-",
                                   "-"};
  const absl::StatusOr<RepeatedFlags> flags = Extract(args);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->values, IsEmpty());
  EXPECT_THAT(Strings(flags->remaining),
              ElementsAre("prog", "--values=x", "--artifacts", "-", "-"));
}

}  // namespace
}  // namespace refsum::submitter
