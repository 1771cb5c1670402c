#include "statement/digest.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "encoding/json.h"
#include "gtest/gtest.h"

namespace refsum::statement {
namespace {

ReferenceValue Value(std::string platform, std::string kind,
                     std::optional<int64_t> index, std::string algorithm) {
  const size_t hex_length = algorithm == "sha256"   ? 64
                            : algorithm == "sha384" ? 96
                                                    : 128;
  return {std::move(platform),
          std::move(kind),
          index,
          Digest{std::move(algorithm), std::string(hex_length, 'a')},
          {}};
}

absl::Status Validate(const ReferenceValue& value) {
  return ValidateReferenceValues({value}, "values");
}

TEST(ReferenceValueTest, AcceptsEveryKnownPlatformAndKind) {
  const std::vector<ReferenceValue> valid = {
      Value("amd-sev-snp", "launch-measurement", std::nullopt, "sha384"),
      Value("intel-tdx", "mrtd", std::nullopt, "sha384"),
      Value("intel-tdx", "mrconfigid", std::nullopt, "sha384"),
      Value("intel-tdx", "mrowner", std::nullopt, "sha384"),
      Value("intel-tdx", "mrownerconfig", std::nullopt, "sha384"),
      Value("intel-tdx", "rtmr", 0, "sha384"),
      Value("intel-tdx", "rtmr", 3, "sha384"),
      Value("tpm", "pcr", 0, "sha256"),
      Value("tpm", "pcr", 23, "sha384"),
      Value("tpm", "pcr", 7, "sha512"),
      Value("aws-nitro", "pcr", 0, "sha384"),
      Value("aws-nitro", "pcr", 31, "sha384"),
      Value("generic", "uki", std::nullopt, "sha256"),
      Value("generic", "0-9", 0, "sha512"),
      Value("generic", std::string(64, 'k'), kMaxGenericIndex, "sha384"),
  };
  for (const ReferenceValue& value : valid) {
    EXPECT_TRUE(Validate(value).ok())
        << value.platform << " " << value.kind << ": " << Validate(value);
  }
  EXPECT_TRUE(ValidateReferenceValues(valid, "values").ok());
}

struct RejectedValue {
  ReferenceValue value;
  std::string error;
};

class ReferenceValueRejectionTest
    : public testing::TestWithParam<RejectedValue> {};

TEST_P(ReferenceValueRejectionTest, NamesTheField) {
  EXPECT_EQ(Validate(GetParam().value).message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    IndexRules, ReferenceValueRejectionTest,
    testing::Values(
        RejectedValue{Value("intel-tdx", "rtmr", std::nullopt, "sha384"),
                      "values[0].index: required for intel-tdx rtmr"},
        RejectedValue{Value("intel-tdx", "rtmr", 4, "sha384"),
                      "values[0].index: must be between 0 and 3 for "
                      "intel-tdx rtmr"},
        RejectedValue{Value("intel-tdx", "mrtd", 0, "sha384"),
                      "values[0].index: not allowed for intel-tdx mrtd"},
        RejectedValue{Value("tpm", "pcr", std::nullopt, "sha256"),
                      "values[0].index: required for tpm pcr"},
        RejectedValue{Value("tpm", "pcr", -1, "sha256"),
                      "values[0].index: must be between 0 and 23 for tpm pcr"},
        RejectedValue{Value("aws-nitro", "pcr", 32, "sha384"),
                      "values[0].index: must be between 0 and 31 for "
                      "aws-nitro pcr"},
        RejectedValue{Value("generic", "k", kMaxGenericIndex + 1, "sha256"),
                      "values[0].index: must be between 0 and 4294967295 for "
                      "generic k"},
        RejectedValue{Value("generic", "k", -1, "sha256"),
                      "values[0].index: must be between 0 and 4294967295 for "
                      "generic k"}));

INSTANTIATE_TEST_SUITE_P(
    NamesAndDigests, ReferenceValueRejectionTest,
    testing::Values(
        RejectedValue{Value("", "pcr", 0, "sha256"),
                      "values[0].platform: unknown platform (expected one of "
                      "amd-sev-snp, intel-tdx, tpm, aws-nitro, generic)"},
        RejectedValue{Value("tpm", "PCR", 0, "sha256"),
                      "values[0].kind: unknown kind for platform tpm "
                      "(expected one of pcr)"},
        RejectedValue{Value("generic", "a_b", std::nullopt, "sha256"),
                      "values[0].kind: unknown kind for platform generic "
                      "(expected one of [a-z0-9-]{1,64})"},
        RejectedValue{
            Value("generic", std::string(65, 'k'), std::nullopt, "sha256"),
            "values[0].kind: unknown kind for platform generic "
            "(expected one of [a-z0-9-]{1,64})"},
        RejectedValue{Value("aws-nitro", "pcr", 0, "sha512"),
                      "values[0].digest.sha512: aws-nitro pcr values are "
                      "sha384 digests"},
        RejectedValue{Value("intel-tdx", "rtmr", 1, "sha256"),
                      "values[0].digest.sha256: intel-tdx rtmr values are "
                      "sha384 digests"},
        RejectedValue{{"tpm", "pcr", 0, {"sha256", std::string(64, 'F')}, {}},
                      "values[0].digest.sha256: must be 64 lowercase hex "
                      "characters"},
        RejectedValue{{"tpm", "pcr", 0, {"sha1", std::string(40, 'a')}, {}},
                      "values[0].digest.sha1: unsupported digest algorithm "
                      "(expected sha256, sha384 or sha512)"},
        RejectedValue{{"tpm", "pcr", 0, {"SHA256", std::string(64, 'a')}, {}},
                      "values[0].digest.SHA256: unsupported digest algorithm "
                      "(expected sha256, sha384 or sha512)"}));

TEST(ReferenceValueTest, ChecksParameters) {
  ReferenceValue value = Value("tpm", "pcr", 4, "sha256");
  value.parameters = {{"vcpus", "4"}, {"Kernel.Cmdline_x-1", ""}};
  EXPECT_TRUE(Validate(value).ok());
  value.parameters = {{"", "x"}};
  EXPECT_EQ(Validate(value).message(),
            "values[0].parameters[\"\"]: parameter names are 1 to 64 "
            "characters of [A-Za-z0-9._-]");
  value.parameters = {{"vmm", "qemu\x1b"}};
  EXPECT_EQ(Validate(value).message(),
            "values[0].parameters.vmm: contains a control character");
}

TEST(ReferenceValueTest, ChecksTheCount) {
  EXPECT_EQ(ValidateReferenceValues({}, "values").message(),
            "values: at least one reference value is required");
  const std::vector<ReferenceValue> too_many(kMaxReferenceValues + 1,
                                             Value("tpm", "pcr", 4, "sha256"));
  EXPECT_EQ(ValidateReferenceValues(too_many, "values").message(),
            "values: more than 256 reference values");
}

absl::StatusOr<std::vector<ReferenceValue>> Read(absl::string_view json) {
  absl::StatusOr<encoding::JsonValue> value = encoding::ParseJson(json);
  if (!value.ok()) return value.status();
  absl::StatusOr<encoding::JsonArrayReader> array =
      encoding::ReadJsonAs<encoding::JsonArrayReader>(*value, "values");
  if (!array.ok()) return array.status();
  return ReadReferenceValues(*array, ValueSource::kClaim);
}

TEST(ReferenceValueTest, ReadsAndWritesJson) {
  const std::string json =
      R"([{"platform":"tpm","kind":"pcr","index":4,"digest":{"sha256":")" +
      std::string(64, 'a') +
      R"("},"parameters":{"b":"2","a":"1"}},{"platform":"generic",)"
      R"("kind":"k","digest":{"sha512":")" +
      std::string(128, 'b') + R"("}}])";
  absl::StatusOr<std::vector<ReferenceValue>> values = Read(json);
  ASSERT_TRUE(values.ok()) << values.status();
  ASSERT_EQ(values->size(), 2u);
  EXPECT_EQ((*values)[0].index, 4);
  EXPECT_EQ((*values)[0].parameters, (Parameters{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ((*values)[1].index, std::nullopt);
  EXPECT_EQ((*values)[1].digest, (Digest{"sha512", std::string(128, 'b')}));
  EXPECT_EQ(
      encoding::SerializeJson(ReferenceValuesToJson(*values)),
      R"([{"platform":"tpm","kind":"pcr","index":4,"digest":{"sha256":")" +
          std::string(64, 'a') +
          R"("},"parameters":{"a":"1","b":"2"}},{"platform":"generic",)"
          R"("kind":"k","digest":{"sha512":")" +
          std::string(128, 'b') + R"("}}])");
}

TEST(ReferenceValueTest, ReadRejectsShapeErrors) {
  EXPECT_EQ(Read(R"([{"platform":"tpm","kind":"pcr","digest":{}}])")
                .status()
                .message(),
            "values[0].digest: must hold exactly one digest");
  EXPECT_EQ(Read(R"([{"platform":"tpm","kind":"pcr","digest":{"a":"b"},)"
                 R"("parameters":{}}])")
                .status()
                .message(),
            "values[0].parameters: must not be empty (omit it instead)");
  EXPECT_EQ(Read(R"([{"platform":"tpm","kind":"pcr","digest":{"a":1}}])")
                .status()
                .message(),
            "values[0].digest.a: expected string, got integer");
  EXPECT_EQ(Read(R"([{"platform":"tpm","kind":"pcr","digest":{"a":"b"},)"
                 R"("index":1,"Index":1}])")
                .status()
                .message(),
            "values[0].Index: unknown field");
}

TEST(DigestSetTest, RequiresSha256AndChecksEveryEntry) {
  const std::string sha256(64, 'a');
  EXPECT_TRUE(ValidateDigestSet({{"sha256", sha256}}, "d").ok());
  EXPECT_TRUE(ValidateDigestSet({{"sha256", sha256},
                                 {"sha384", std::string(96, 'b')},
                                 {"sha512", std::string(128, 'c')}},
                                "d")
                  .ok());
  EXPECT_EQ(ValidateDigestSet({}, "d").message(),
            "d.sha256: missing required digest");
  EXPECT_EQ(
      ValidateDigestSet({{"sha512", std::string(128, 'c')}}, "d").message(),
      "d.sha256: missing required digest");
  EXPECT_EQ(ValidateDigestSet({{"sha256", sha256}, {"sha384", sha256}}, "d")
                .message(),
            "d.sha384: must be 96 lowercase hex characters");
  EXPECT_EQ(ValidateDigestSet({{"sha256", sha256}, {"gitCommit", sha256}}, "d")
                .message(),
            "d.gitCommit: unsupported digest algorithm (expected sha256, "
            "sha384 or sha512)");
}

TEST(DigestSetTest, WritesSortedByAlgorithm) {
  EXPECT_EQ(encoding::SerializeJson(
                DigestSetToJson({{"sha512", "c"}, {"sha256", "a"}})),
            R"({"sha256":"a","sha512":"c"})");
}

}  // namespace
}  // namespace refsum::statement
