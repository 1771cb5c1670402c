#include "statement/value_spec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::statement {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kHex64(64, 'a');
const std::string kHex96(96, 'b');
const std::string kHex128(128, 'c');

TEST(ValueSpecTest, ParsesAllParts) {
  const absl::StatusOr<ReferenceValue> value = ParseValueSpec(
      absl::StrCat("amd-sev-snp/launch-measurement=sha384:", kHex96,
                   ",vcpus=4,vmm=qemu,policy=0x30000"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->platform, "amd-sev-snp");
  EXPECT_EQ(value->kind, "launch-measurement");
  EXPECT_FALSE(value->index.has_value());
  EXPECT_EQ(value->digest, (Digest{"sha384", kHex96}));
  EXPECT_EQ(value->parameters,
            (Parameters{
                {"policy", "0x30000"}, {"vcpus", "4"}, {"vmm", "qemu"}}));
}

TEST(ValueSpecTest, ParsesAnIndex) {
  const absl::StatusOr<ReferenceValue> value =
      ParseValueSpec(absl::StrCat("tpm/pcr/4=sha256:", kHex64));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->platform, "tpm");
  EXPECT_EQ(value->kind, "pcr");
  EXPECT_EQ(value->index, 4);
  EXPECT_EQ(value->digest, (Digest{"sha256", kHex64}));
  EXPECT_TRUE(value->parameters.empty());

  const absl::StatusOr<ReferenceValue> zero =
      ParseValueSpec(absl::StrCat("aws-nitro/pcr/0=sha384:", kHex96));
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->index, 0);
}

TEST(ValueSpecTest, GenericKindsWithAndWithoutIndex) {
  const absl::StatusOr<ReferenceValue> plain =
      ParseValueSpec(absl::StrCat("generic/firmware-blob=sha512:", kHex128));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->index.has_value());
  const absl::StatusOr<ReferenceValue> indexed = ParseValueSpec(
      absl::StrCat("generic/register/4294967295=sha256:", kHex64));
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  EXPECT_EQ(indexed->index, 4294967295);
}

TEST(ValueSpecTest, ParameterValuesRunToTheNextComma) {
  const absl::StatusOr<ReferenceValue> value = ParseValueSpec(
      absl::StrCat("tpm/pcr/8=sha256:", kHex64, ",cmdline=,append=a=b"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->parameters,
            (Parameters{{"append", "a=b"}, {"cmdline", ""}}));
}

struct BadSpec {
  std::string spec;
  std::string problem;
};

void PrintTo(const BadSpec& bad, std::ostream* os) { *os << bad.spec; }

class BadValueSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadValueSpecTest, NamesTheSpecAndTheProblem) {
  const absl::StatusOr<ReferenceValue> value =
      ParseValueSpec(GetParam().spec);
  ASSERT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(value.status().message());
  EXPECT_THAT(message,
              StartsWith(absl::StrCat("--value \"", GetParam().spec, "\": ")));
  EXPECT_THAT(message, HasSubstr(GetParam().problem));
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, BadValueSpecTest,
    ::testing::Values(
        BadSpec{"", "expected platform/kind[/index]=alg:hex"},
        BadSpec{"tpm/pcr/4", "expected platform/kind[/index]=alg:hex"},
        BadSpec{"tpm=sha256:" + kHex64, "platform/kind or platform/kind/index"},
        BadSpec{"tpm/pcr/4/1=sha256:" + kHex64, "platform/kind/index"},
        BadSpec{"/pcr/4=sha256:" + kHex64, "the platform is empty"},
        BadSpec{"tpm//4=sha256:" + kHex64, "the kind is empty"},
        BadSpec{"tpm/pcr/04=sha256:" + kHex64, "index"},
        BadSpec{"tpm/pcr/-1=sha256:" + kHex64, "index"},
        BadSpec{"tpm/pcr/=sha256:" + kHex64, "index"},
        BadSpec{"tpm/pcr/99999999999999999999=sha256:" + kHex64, "index"},
        BadSpec{"generic/r/9223372036854775808=sha256:" + kHex64,
                "index: too large"},
        BadSpec{"tpm/pcr/4=sha256", "after '=' must come alg:hex"},
        BadSpec{"tpm/pcr/4=:" + kHex64, "after '=' must come alg:hex"},
        BadSpec{"tpm/pcr/4=sha256:", "after '=' must come alg:hex"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ":x",
                "after '=' must come alg:hex"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",", "empty parameter"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",,a=b", "empty parameter"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",vcpus",
                "parameter \"vcpus\" is not name=value"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",=4", "has no name"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",a=1,a=2",
                "parameter \"a\" is given twice"}));

INSTANTIATE_TEST_SUITE_P(
    ClaimRules, BadValueSpecTest,
    ::testing::Values(
        BadSpec{"sev/launch=sha384:" + kHex96, "platform: unknown platform"},
        BadSpec{"tpm/mrtd/1=sha384:" + kHex96, "kind: unknown kind"},
        BadSpec{"tpm/pcr/24=sha256:" + kHex64,
                "index: must be between 0 and 23 for tpm pcr"},
        BadSpec{"tpm/pcr=sha256:" + kHex64, "index: required for tpm pcr"},
        BadSpec{"amd-sev-snp/launch-measurement/0=sha384:" + kHex96,
                "index: not allowed"},
        BadSpec{"amd-sev-snp/launch-measurement=sha256:" + kHex64,
                "digest.sha256: amd-sev-snp launch-measurement values are "
                "sha384 digests"},
        BadSpec{"tpm/pcr/4=sha256:" + std::string(64, 'A'), "digest.sha256"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex96, "digest.sha256"},
        BadSpec{"tpm/pcr/4=md5:" + std::string(32, 'a'),
                "unsupported digest algorithm"},
        BadSpec{"tpm/pcr/4=sha256:" + kHex64 + ",v cpus=4",
                "parameters[\"v cpus\"]"}));

TEST(ValueSpecTest, EscapesControlCharactersInMessages) {
  const absl::StatusOr<ReferenceValue> value =
      ParseValueSpec("tpm/pcr/4\x1b[2J");
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(std::string(value.status().message()),
              StartsWith("--value \"tpm/pcr/4\\x1b[2J\": "));
}


TEST(ValueSelectorTest, BindsPlatformKindIndexAndDigest) {
  const std::string zeros(64, '0');
  const absl::StatusOr<ValueSelector> selector =
      ParseValueSelector(absl::StrCat("tpm/pcr/16=sha256:", zeros));
  ASSERT_TRUE(selector.ok()) << selector.status();
  EXPECT_EQ(*selector,
            (ValueSelector{"tpm", "pcr", 16, Digest{"sha256", zeros}}));

  ReferenceValue claimed;
  claimed.platform = "tpm";
  claimed.kind = "pcr";
  claimed.index = 16;
  claimed.digest = {"sha256", zeros};
  claimed.parameters = {{"bank", "sha256"}};
  EXPECT_TRUE(SelectorMatches(*selector, claimed));

  // The same digest claimed for another register, platform or algorithm is
  // not the value asked for.
  ReferenceValue other = claimed;
  other.index = 7;
  EXPECT_FALSE(SelectorMatches(*selector, other));
  other = claimed;
  other.platform = "aws-nitro";
  EXPECT_FALSE(SelectorMatches(*selector, other));
  other = claimed;
  other.index.reset();
  EXPECT_FALSE(SelectorMatches(*selector, other));
  other = claimed;
  other.digest = {"sha384", std::string(96, '0')};
  EXPECT_FALSE(SelectorMatches(*selector, other));
}

TEST(ValueSelectorTest, FormatsAsItParses) {
  for (const std::string& text :
       {absl::StrCat("tpm/pcr/4=sha256:", kHex64),
        absl::StrCat("amd-sev-snp/launch-measurement=sha384:", kHex96),
        absl::StrCat("generic/firmware-blob=sha512:", kHex128)}) {
    const absl::StatusOr<ValueSelector> selector = ParseValueSelector(text);
    ASSERT_TRUE(selector.ok()) << selector.status();
    EXPECT_EQ(FormatValueSelector(*selector), text);
  }
}

TEST(ValueSelectorTest, RefusesABareDigestWithTheSelectorForm) {
  const absl::StatusOr<ValueSelector> selector =
      ParseValueSelector(absl::StrCat("sha256:", kHex64));
  ASSERT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(selector.status().message());
  EXPECT_THAT(message, StartsWith(absl::StrCat("--value \"sha256:", kHex64)));
  EXPECT_THAT(message, HasSubstr("names no register"));
  EXPECT_THAT(message, HasSubstr("platform/kind[/index]=alg:hex"));
  EXPECT_THAT(message, HasSubstr("tpm/pcr/4=sha256:"));
}

TEST(ValueSelectorTest, RefusesParametersAndWhatASpecRefuses) {
  EXPECT_THAT(
      std::string(ParseValueSelector(absl::StrCat("tpm/pcr/4=sha256:", kHex64,
                                                  ",bank=sha256"))
                      .status()
                      .message()),
      HasSubstr("a selector has no parameters"));
  EXPECT_THAT(std::string(ParseValueSelector(absl::StrCat("tpm/pcr/24=sha256:",
                                                          kHex64))
                              .status()
                              .message()),
              HasSubstr("index: must be between 0 and 23 for tpm pcr"));
  EXPECT_THAT(
      std::string(
          ParseValueSelector(absl::StrCat("tpm/pcr=sha256:", kHex64))
              .status()
              .message()),
      HasSubstr("index: required for tpm pcr"));
  EXPECT_THAT(std::string(ParseValueSelector("tpm/pcr/4").status().message()),
              HasSubstr("expected platform/kind[/index]=alg:hex"));
}

}  // namespace
}  // namespace refsum::statement
