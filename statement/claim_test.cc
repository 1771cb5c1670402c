#include "statement/claim.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/fields.h"
#include "statement/test_util.h"

namespace refsum::statement {
namespace {

constexpr absl::string_view kImageSha256 =
    "9edc897a4aeac884b812c1feabdea39c2495f2c773da7c4ec6c5688d072ce826";
constexpr absl::string_view kCommit =
    "4015b57a143aec5156fd1444a017a32137a3fd0f";
constexpr absl::string_view kSnpSha384 =
    "a8ac7ff237deeb24a88fc850f1114fe643a26810cd2552f31a0b5b239a086c59"
    "853720a89ad0b0b653d62353434a33e1";
constexpr absl::string_view kMrtdSha384 =
    "65c69c481b771f015388a8d1a6d2a7ab4fe503517b1673d17f652dc2628ab366"
    "99467ea94c04253075aea045af555297";
constexpr absl::string_view kPcr4Sha256 =
    "edf65e82a025f1be44b336402f91562ac0ad030ff22aa971d9c0bb4bbc225e31";
constexpr absl::string_view kNitroPcr0Sha384 =
    "25eb0941df6fa40bf04e3fe22f23e58f106e462823e0d501b18ebabf2520ea6e"
    "21f3d0a873272f07009aae2f115f5836";

// DESIGN.md's claim example with real hex filled in.
std::string DesignClaim() {
  return absl::StrCat(R"({
  "_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": "os-image-v1.2.0.raw", "digest": {"sha256": ")",
                      kImageSha256, R"("}}],
  "predicateType": "urn:refsum:predicate:reference-values:v1",
  "predicate": {
    "source": {"repository": "https://github.com/example/os-image", "commit": ")",
                      kCommit, R"(", "tag": "v1.2.0"},
    "build": {"recipe": "nix build .#image", "toolchain": "optional free text"},
    "referenceValues": [
      {"platform": "amd-sev-snp", "kind": "launch-measurement", "digest": {"sha384": ")",
                      kSnpSha384, R"("},
       "parameters": {"vcpus": "4", "vmm": "qemu", "policy": "0x30000"}},
      {"platform": "intel-tdx", "kind": "mrtd", "digest": {"sha384": ")",
                      kMrtdSha384, R"("}},
      {"platform": "tpm", "kind": "pcr", "index": 4, "digest": {"sha256": ")",
                      kPcr4Sha256, R"("}},
      {"platform": "aws-nitro", "kind": "pcr", "index": 0, "digest": {"sha384": ")",
                      kNitroPcr0Sha384, R"("}}
    ],
    "measurementTool": {"name": "sev-snp-measure", "version": "0.0.11"}
  }
})");
}

// The canonical form of DesignClaim(): compact, parameters sorted.
std::string CanonicalDesignClaim() {
  return absl::StrCat(
      R"({"_type":"https://in-toto.io/Statement/v1",)",
      R"("subject":[{"name":"os-image-v1.2.0.raw","digest":{"sha256":")",
      kImageSha256, R"("}}],)",
      R"("predicateType":"urn:refsum:predicate:reference-values:v1",)",
      R"("predicate":{"source":{"repository":"https://github.com/example/os-image",)",
      R"("commit":")", kCommit, R"(","tag":"v1.2.0"},)",
      R"("build":{"recipe":"nix build .#image","toolchain":"optional free text"},)",
      R"("referenceValues":[)",
      R"({"platform":"amd-sev-snp","kind":"launch-measurement","digest":{"sha384":")",
      kSnpSha384,
      R"("},"parameters":{"policy":"0x30000","vcpus":"4","vmm":"qemu"}},)",
      R"({"platform":"intel-tdx","kind":"mrtd","digest":{"sha384":")",
      kMrtdSha384, R"("}},)",
      R"({"platform":"tpm","kind":"pcr","index":4,"digest":{"sha256":")",
      kPcr4Sha256, R"("}},)",
      R"({"platform":"aws-nitro","kind":"pcr","index":0,"digest":{"sha384":")",
      kNitroPcr0Sha384, R"("}}],)",
      R"("measurementTool":{"name":"sev-snp-measure","version":"0.0.11"}}})");
}

TEST(ClaimTest, ParsesDesignExample) {
  absl::StatusOr<Claim> claim = ParseClaim(DesignClaim());
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_EQ(claim->subjects.size(), 1u);
  EXPECT_EQ(claim->subjects[0].name, "os-image-v1.2.0.raw");
  EXPECT_EQ(claim->subjects[0].digest,
            (DigestSet{{"sha256", std::string(kImageSha256)}}));
  EXPECT_EQ(claim->subjects[0].download_location, std::nullopt);
  EXPECT_EQ(claim->source.repository, "https://github.com/example/os-image");
  EXPECT_EQ(claim->source.commit, kCommit);
  EXPECT_EQ(claim->source.tag, "v1.2.0");
  EXPECT_EQ(claim->build.recipe, "nix build .#image");
  EXPECT_EQ(claim->build.toolchain, "optional free text");
  ASSERT_EQ(claim->reference_values.size(), 4u);
  const ReferenceValue& snp = claim->reference_values[0];
  EXPECT_EQ(snp.platform, "amd-sev-snp");
  EXPECT_EQ(snp.kind, "launch-measurement");
  EXPECT_EQ(snp.index, std::nullopt);
  EXPECT_EQ(snp.digest, (Digest{"sha384", std::string(kSnpSha384)}));
  EXPECT_EQ(
      snp.parameters,
      (Parameters{{"vcpus", "4"}, {"vmm", "qemu"}, {"policy", "0x30000"}}));
  EXPECT_EQ(claim->reference_values[2].index, 4);
  EXPECT_EQ(claim->reference_values[3].index, 0);
  ASSERT_TRUE(claim->measurement_tool.has_value());
  EXPECT_EQ(claim->measurement_tool->name, "sev-snp-measure");
  EXPECT_EQ(claim->measurement_tool->version, "0.0.11");
}

TEST(ClaimTest, SerializesCanonicallyAndStably) {
  absl::StatusOr<Claim> claim = ParseClaim(DesignClaim());
  ASSERT_TRUE(claim.ok()) << claim.status();
  absl::StatusOr<std::string> serialized = SerializeClaim(*claim);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  EXPECT_EQ(*serialized, CanonicalDesignClaim());

  absl::StatusOr<Claim> reparsed = ParseClaim(*serialized);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(SerializeClaim(*reparsed).value_or(""), *serialized);
}

TEST(ClaimTest, RoundTripsOptionalFieldsAndGenericValues) {
  Claim claim = *ParseClaim(DesignClaim());
  claim.subjects[0].digest["sha512"] = std::string(128, 'e');
  claim.subjects[0].download_location = "https://example.com/os-image.raw";
  claim.subjects.push_back(
      {"os-image.efi", {{"sha256", std::string(64, '1')}}, std::nullopt});
  claim.source.commit = std::string(64, 'c');
  claim.reference_values.push_back(
      {"generic", "uki-pcr-11", 11, {"sha512", std::string(128, 'a')}, {}});
  claim.reference_values.push_back({"generic",
                                    "x",
                                    std::nullopt,
                                    {"sha256", std::string(64, 'b')},
                                    {{"empty", ""}, {"a.b_c-D", "v"}}});
  claim.reference_values.push_back(
      {"intel-tdx", "rtmr", 3, {"sha384", std::string(96, 'f')}, {}});
  claim.reference_values.push_back(
      {"tpm", "pcr", 23, {"sha384", std::string(96, '0')}, {}});

  absl::StatusOr<std::string> serialized = SerializeClaim(claim);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  absl::StatusOr<Claim> reparsed = ParseClaim(*serialized);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(SerializeClaim(*reparsed).value_or(""), *serialized);
  EXPECT_EQ(reparsed->subjects[0].download_location,
            "https://example.com/os-image.raw");
  EXPECT_EQ(reparsed->reference_values[5].parameters.at("empty"), "");
}

TEST(ClaimTest, RoundTripsMinimalClaim) {
  Claim claim;
  claim.subjects = {
      {"a", {{"sha256", std::string(kImageSha256)}}, std::nullopt}};
  claim.source = {"file:///srv/git/os-image", std::string(kCommit), {}};
  claim.build = {"make", {}};
  claim.reference_values = {
      {"tpm", "pcr", 0, {"sha256", std::string(kPcr4Sha256)}, {}}};
  absl::StatusOr<std::string> serialized = SerializeClaim(claim);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  EXPECT_EQ(*serialized,
            absl::StrCat(
                R"({"_type":"https://in-toto.io/Statement/v1","subject":)",
                R"([{"name":"a","digest":{"sha256":")", kImageSha256,
                R"("}}],"predicateType":)",
                R"("urn:refsum:predicate:reference-values:v1","predicate":)",
                R"({"source":{"repository":"file:///srv/git/os-image",)",
                R"("commit":")", kCommit, R"("},"build":{"recipe":"make"},)",
                R"("referenceValues":[{"platform":"tpm","kind":"pcr",)",
                R"("index":0,"digest":{"sha256":")", kPcr4Sha256, R"("}}]}})"));
  EXPECT_TRUE(ParseClaim(*serialized).ok());
}

TEST(ClaimTest, ListsLookupKeysOnce) {
  Claim claim = *ParseClaim(DesignClaim());
  claim.subjects.push_back(
      {"copy", {{"sha256", std::string(kImageSha256)}}, std::nullopt});
  claim.subjects.push_back(
      {"other", {{"sha256", std::string(64, '2')}}, std::nullopt});
  claim.reference_values.push_back({"generic",
                                    "same",
                                    std::nullopt,
                                    {"sha256", std::string(kPcr4Sha256)},
                                    {}});
  ASSERT_TRUE(ValidateClaim(claim).ok());

  const ClaimLookupKeys keys = LookupKeys(claim);
  EXPECT_EQ(keys.subject_sha256,
            (std::vector<std::string>{std::string(kImageSha256),
                                      std::string(64, '2')}));
  EXPECT_EQ(keys.reference_values,
            (std::vector<Digest>{{"sha384", std::string(kSnpSha384)},
                                 {"sha384", std::string(kMrtdSha384)},
                                 {"sha256", std::string(kPcr4Sha256)},
                                 {"sha384", std::string(kNitroPcr0Sha384)}}));
}

TEST(ClaimTest, RejectsOtherStatementTypes) {
  const std::string attestation = *EditJson(
      DesignClaim(), "predicateType", R"("urn:refsum:predicate:rebuild:v1")");
  EXPECT_EQ(ParseClaim(attestation).status().message(),
            "predicateType: must be "
            "\"urn:refsum:predicate:reference-values:v1\"");
}

TEST(ClaimTest, RejectsMalformedJsonWithOffset) {
  EXPECT_EQ(ParseClaim(R"({"_type": 1, "_type": 2})").status().message(),
            "JSON: duplicate key \"_type\" at offset 13");
  EXPECT_EQ(ParseClaim("[]").status().message(), "expected object, got array");
}

TEST(ClaimTest, RejectsOversizedPayloadsAndNesting) {
  const std::string big =
      *EditJson(DesignClaim(), "predicate.build.toolchain",
                absl::StrCat("\"", std::string(kMaxPayloadBytes, 'x'), "\""));
  EXPECT_TRUE(
      absl::StartsWith(ParseClaim(big).status().message(), "JSON: input of "));
  const std::string deep =
      *EditJson(DesignClaim(), "predicate.source.tag", "[[[[[[[1]]]]]]]");
  EXPECT_TRUE(absl::StartsWith(ParseClaim(deep).status().message(),
                               "JSON: nesting deeper than 8 at offset"));
}

TEST(ClaimTest, SerializeRefusesInvalidAndOversizedClaims) {
  Claim claim = *ParseClaim(DesignClaim());
  claim.subjects.clear();
  EXPECT_EQ(SerializeClaim(claim).status().message(),
            "subject: at least one subject is required");

  claim = *ParseClaim(DesignClaim());
  for (int i = 0; i < 40; ++i) {
    claim.reference_values.push_back(
        {"generic",
         "filler",
         i,
         {"sha256", std::string(64, 'a')},
         {{"text", std::string(kMaxStringBytes, 'x')}}});
  }
  ASSERT_TRUE(ValidateClaim(claim).ok());
  EXPECT_TRUE(absl::StartsWith(SerializeClaim(claim).status().message(),
                               "statement of "));
}

class ClaimMutationTest : public testing::TestWithParam<Mutation> {};

TEST_P(ClaimMutationTest, IsRejectedNamingThePath) {
  ExpectRejectedAtPath(
      DesignClaim(), GetParam(),
      [](absl::string_view payload) { return ParseClaim(payload).status(); });
}

INSTANTIATE_TEST_SUITE_P(
    MissingFields, ClaimMutationTest,
    testing::Values(
        Mutation{"_type", std::nullopt, "_type"},
        Mutation{"subject", std::nullopt, "subject"},
        Mutation{"predicateType", std::nullopt, "predicateType"},
        Mutation{"predicate", std::nullopt, "predicate"},
        Mutation{"subject.0.name", std::nullopt, "subject[0].name"},
        Mutation{"subject.0.digest", std::nullopt, "subject[0].digest"},
        Mutation{"subject.0.digest.sha256", std::nullopt,
                 "subject[0].digest.sha256"},
        Mutation{"predicate.source", std::nullopt, "predicate.source"},
        Mutation{"predicate.source.repository", std::nullopt,
                 "predicate.source.repository"},
        Mutation{"predicate.source.commit", std::nullopt,
                 "predicate.source.commit"},
        Mutation{"predicate.build", std::nullopt, "predicate.build"},
        Mutation{"predicate.build.recipe", std::nullopt,
                 "predicate.build.recipe"},
        Mutation{"predicate.referenceValues", std::nullopt,
                 "predicate.referenceValues"},
        Mutation{"predicate.referenceValues.0.platform", std::nullopt,
                 "predicate.referenceValues[0].platform"},
        Mutation{"predicate.referenceValues.1.kind", std::nullopt,
                 "predicate.referenceValues[1].kind"},
        Mutation{"predicate.referenceValues.2.digest", std::nullopt,
                 "predicate.referenceValues[2].digest"},
        Mutation{"predicate.referenceValues.2.index", std::nullopt,
                 "predicate.referenceValues[2].index"},
        Mutation{"predicate.referenceValues.3.index", std::nullopt,
                 "predicate.referenceValues[3].index"},
        Mutation{"predicate.measurementTool.name", std::nullopt,
                 "predicate.measurementTool.name"},
        Mutation{"predicate.measurementTool.version", std::nullopt,
                 "predicate.measurementTool.version"}));

INSTANTIATE_TEST_SUITE_P(
    UnknownFields, ClaimMutationTest,
    testing::Values(
        Mutation{"extra", "1", "extra"},
        Mutation{"subject.0.uri", Quoted("https://example.com"),
                 "subject[0].uri"},
        Mutation{"subject.0.annotations", "{}", "subject[0].annotations"},
        Mutation{"subject.0.digest.md5", Quoted(std::string(32, 'a')),
                 "subject[0].digest.md5"},
        Mutation{"predicate.extra", "{}", "predicate.extra"},
        Mutation{"predicate.source.branch", Quoted("main"),
                 "predicate.source.branch"},
        Mutation{"predicate.build.env", "{}", "predicate.build.env"},
        Mutation{"predicate.referenceValues.0.note", Quoted("x"),
                 "predicate.referenceValues[0].note"},
        Mutation{"predicate.measurementTool.uri", Quoted("x"),
                 "predicate.measurementTool.uri"},
        Mutation{"predicate.referenceValues.0.weird key", "1",
                 "predicate.referenceValues[0][\"weird key\"]"}));

INSTANTIATE_TEST_SUITE_P(
    WrongTypes, ClaimMutationTest,
    testing::Values(
        Mutation{"_type", "1", "_type"}, Mutation{"subject", "{}", "subject"},
        Mutation{"subject.0", Quoted("image"), "subject[0]"},
        Mutation{"subject.0.name", "null", "subject[0].name"},
        Mutation{"subject.0.digest", "[]", "subject[0].digest"},
        Mutation{"subject.0.digest.sha256", "1", "subject[0].digest.sha256"},
        Mutation{"predicate", "[]", "predicate"},
        Mutation{"predicate.source.tag", "null", "predicate.source.tag"},
        Mutation{"predicate.build.toolchain", "false",
                 "predicate.build.toolchain"},
        Mutation{"predicate.referenceValues", "{}",
                 "predicate.referenceValues"},
        Mutation{"predicate.referenceValues.2.index", Quoted("4"),
                 "predicate.referenceValues[2].index"},
        Mutation{"predicate.referenceValues.0.parameters.vcpus", "4",
                 "predicate.referenceValues[0].parameters.vcpus"},
        Mutation{"predicate.referenceValues.0.parameters", "[]",
                 "predicate.referenceValues[0].parameters"},
        Mutation{"predicate.measurementTool", Quoted("sev-snp-measure"),
                 "predicate.measurementTool"}));

INSTANTIATE_TEST_SUITE_P(
    BadValues, ClaimMutationTest,
    testing::Values(
        Mutation{"_type", Quoted("https://in-toto.io/Statement/v0.1"), "_type"},
        Mutation{"predicateType", Quoted("https://slsa.dev/provenance/v1"),
                 "predicateType"},
        Mutation{"subject", "[]", "subject"},
        Mutation{"subject.0.name", Quoted(""), "subject[0].name"},
        Mutation{"subject.0.name", Quoted("a\\u001bb"), "subject[0].name"},
        Mutation{"subject.0.name", Quoted("a\\u0085b"), "subject[0].name"},
        Mutation{"subject.0.digest", "{}", "subject[0].digest.sha256"},
        Mutation{"subject.0.digest.sha256", Quoted(std::string(64, 'A')),
                 "subject[0].digest.sha256"},
        Mutation{"subject.0.digest.sha256", Quoted(std::string(63, 'a')),
                 "subject[0].digest.sha256"},
        Mutation{"subject.0.digest.sha256", Quoted(std::string(96, 'a')),
                 "subject[0].digest.sha256"},
        Mutation{"subject.0.digest.sha384", Quoted(std::string(64, 'a')),
                 "subject[0].digest.sha384"},
        Mutation{"subject.0.downloadLocation", Quoted(""),
                 "subject[0].downloadLocation"},
        Mutation{"subject.0.downloadLocation", Quoted("example.com/image"),
                 "subject[0].downloadLocation"},
        Mutation{"predicate.source.repository", Quoted(""),
                 "predicate.source.repository"},
        Mutation{"predicate.source.repository",
                 Quoted("git@github.com:example/os-image"),
                 "predicate.source.repository"},
        Mutation{"predicate.source.repository",
                 Quoted("HTTPS://github.com/example/os-image"),
                 "predicate.source.repository"},
        Mutation{"predicate.source.repository",
                 Quoted("https://github.com/example/os image"),
                 "predicate.source.repository"},
        Mutation{"predicate.source.repository", Quoted("https:"),
                 "predicate.source.repository"},
        Mutation{"predicate.source.commit", Quoted(std::string(40, 'A')),
                 "predicate.source.commit"},
        Mutation{"predicate.source.commit", Quoted(std::string(41, 'a')),
                 "predicate.source.commit"},
        Mutation{"predicate.source.commit", Quoted("v1.2.0"),
                 "predicate.source.commit"},
        Mutation{"predicate.source.tag", Quoted(""), "predicate.source.tag"},
        Mutation{"predicate.build.recipe", Quoted(""),
                 "predicate.build.recipe"},
        Mutation{"predicate.build.toolchain", Quoted(""),
                 "predicate.build.toolchain"},
        Mutation{"predicate.build.recipe", Quoted(std::string(4097, 'x')),
                 "predicate.build.recipe"},
        Mutation{"predicate.measurementTool.version", Quoted(""),
                 "predicate.measurementTool.version"},
        Mutation{"predicate.referenceValues", "[]",
                 "predicate.referenceValues"}));

INSTANTIATE_TEST_SUITE_P(
    BadReferenceValues, ClaimMutationTest,
    testing::Values(
        Mutation{"predicate.referenceValues.0.platform", Quoted("amd-sev"),
                 "predicate.referenceValues[0].platform"},
        Mutation{"predicate.referenceValues.0.platform", Quoted("AMD-SEV-SNP"),
                 "predicate.referenceValues[0].platform"},
        Mutation{"predicate.referenceValues.0.kind", Quoted("mrtd"),
                 "predicate.referenceValues[0].kind"},
        Mutation{"predicate.referenceValues.1.kind", Quoted("rtmr0"),
                 "predicate.referenceValues[1].kind"},
        Mutation{"predicate.referenceValues.2.kind", Quoted("nvindex"),
                 "predicate.referenceValues[2].kind"},
        Mutation{"predicate.referenceValues.0.index", "0",
                 "predicate.referenceValues[0].index"},
        Mutation{"predicate.referenceValues.1.index", "1",
                 "predicate.referenceValues[1].index"},
        Mutation{"predicate.referenceValues.2.index", "24",
                 "predicate.referenceValues[2].index"},
        Mutation{"predicate.referenceValues.2.index", "-1",
                 "predicate.referenceValues[2].index"},
        Mutation{"predicate.referenceValues.3.index", "32",
                 "predicate.referenceValues[3].index"},
        Mutation{"predicate.referenceValues.0.digest", "{}",
                 "predicate.referenceValues[0].digest"},
        Mutation{"predicate.referenceValues.0.digest.sha512",
                 Quoted(std::string(128, 'a')),
                 "predicate.referenceValues[0].digest"},
        Mutation{"predicate.referenceValues.0.digest.sha384",
                 Quoted(std::string(96, 'A')),
                 "predicate.referenceValues[0].digest.sha384"},
        Mutation{"predicate.referenceValues.0.digest.sha384",
                 Quoted(std::string(64, 'a')),
                 "predicate.referenceValues[0].digest.sha384"},
        Mutation{"predicate.referenceValues.2.digest",
                 absl::StrCat(R"({"sha1":")", std::string(40, 'a'), "\"}"),
                 "predicate.referenceValues[2].digest.sha1"},
        Mutation{"predicate.referenceValues.0.digest",
                 absl::StrCat(R"({"sha256":")", std::string(64, 'a'), "\"}"),
                 "predicate.referenceValues[0].digest.sha256"},
        Mutation{"predicate.referenceValues.3.digest",
                 absl::StrCat(R"({"sha512":")", std::string(128, 'a'), "\"}"),
                 "predicate.referenceValues[3].digest.sha512"},
        Mutation{"predicate.referenceValues.0.parameters", "{}",
                 "predicate.referenceValues[0].parameters"},
        Mutation{"predicate.referenceValues.0.parameters.vcpu count",
                 Quoted("4"),
                 "predicate.referenceValues[0].parameters[\"vcpu count\"]"},
        Mutation{"predicate.referenceValues.0.parameters.vmm",
                 Quoted("qemu\\n"),
                 "predicate.referenceValues[0].parameters.vmm"}));

// The generic platform takes any lowercase kind and an optional index.
INSTANTIATE_TEST_SUITE_P(
    BadGenericValues, ClaimMutationTest,
    testing::Values(
        Mutation{"predicate.referenceValues.2",
                 absl::StrCat(R"({"platform":"generic","kind":"Uki",)",
                              R"("digest":{"sha256":")", std::string(64, 'a'),
                              "\"}}"),
                 "predicate.referenceValues[2].kind"},
        Mutation{"predicate.referenceValues.2",
                 absl::StrCat(R"({"platform":"generic","kind":")",
                              std::string(65, 'k'), R"(","digest":{"sha256":")",
                              std::string(64, 'a'), "\"}}"),
                 "predicate.referenceValues[2].kind"},
        Mutation{"predicate.referenceValues.2",
                 absl::StrCat(R"({"platform":"generic","kind":"",)",
                              R"("digest":{"sha256":")", std::string(64, 'a'),
                              "\"}}"),
                 "predicate.referenceValues[2].kind"},
        Mutation{"predicate.referenceValues.2",
                 absl::StrCat(R"({"platform":"generic","kind":"k","index":)",
                              "4294967296,", R"("digest":{"sha256":")",
                              std::string(64, 'a'), "\"}}"),
                 "predicate.referenceValues[2].index"}));

TEST(ClaimTest, RejectsDuplicateSubjectNames) {
  const std::string payload = *EditJson(
      DesignClaim(), "subject",
      absl::StrCat(R"([{"name":"a","digest":{"sha256":")", kImageSha256,
                   R"("}},{"name":"a","digest":{"sha256":")", kPcr4Sha256,
                   R"("}}])"));
  EXPECT_EQ(ParseClaim(payload).status().message(),
            "subject[1].name: duplicate subject name");
}

TEST(ClaimTest, ValidateChecksInMemoryClaims) {
  const Claim valid = *ParseClaim(DesignClaim());
  ASSERT_TRUE(ValidateClaim(valid).ok());

  Claim claim = valid;
  claim.subjects[0].name = "bad\xff";
  EXPECT_EQ(ValidateClaim(claim).message(), "subject[0].name: not valid UTF-8");

  claim = valid;
  claim.subjects.resize(kMaxSubjects + 1, valid.subjects[0]);
  EXPECT_EQ(ValidateClaim(claim).message(), "subject: more than 64 subjects");

  claim = valid;
  claim.reference_values.resize(kMaxReferenceValues + 1,
                                valid.reference_values[1]);
  EXPECT_EQ(ValidateClaim(claim).message(),
            "predicate.referenceValues: more than 256 reference values");

  claim = valid;
  for (int i = 0; i <= static_cast<int>(kMaxParameters); ++i) {
    claim.reference_values[0].parameters[absl::StrCat("p", i)] = "v";
  }
  EXPECT_EQ(ValidateClaim(claim).message(),
            "predicate.referenceValues[0].parameters: more than 32 parameters");

  claim = valid;
  claim.reference_values[1].parameters[std::string(65, 'n')] = "v";
  EXPECT_TRUE(
      absl::StartsWith(ValidateClaim(claim).message(),
                       absl::StrCat("predicate.referenceValues[1].parameters.",
                                    std::string(65, 'n'), ": ")));

  claim = valid;
  claim.measurement_tool = MeasurementTool{"", "1"};
  EXPECT_EQ(ValidateClaim(claim).message(),
            "predicate.measurementTool.name: must not be empty");

  claim = valid;
  claim.reference_values[0].digest.algorithm = "";
  EXPECT_EQ(ValidateClaim(claim).message(),
            "predicate.referenceValues[0].digest[\"\"]: unsupported digest "
            "algorithm (expected sha256, sha384 or sha512)");
}

TEST(ClaimTest, ErrorMessagesExplainTheRule) {
  auto error = [](absl::string_view path, absl::string_view replacement) {
    return std::string(ParseClaim(*EditJson(DesignClaim(), path, replacement))
                           .status()
                           .message());
  };
  EXPECT_EQ(error("predicate.referenceValues.0.platform", Quoted("sgx")),
            "predicate.referenceValues[0].platform: unknown platform "
            "(expected one of amd-sev-snp, intel-tdx, tpm, aws-nitro, "
            "generic)");
  EXPECT_EQ(error("predicate.referenceValues.1.kind", Quoted("rtmr0")),
            "predicate.referenceValues[1].kind: unknown kind for platform "
            "intel-tdx (expected one of mrtd, rtmr, mrconfigid, mrowner, "
            "mrownerconfig)");
  EXPECT_EQ(error("predicate.referenceValues.2.index", "24"),
            "predicate.referenceValues[2].index: must be between 0 and 23 "
            "for tpm pcr");
  EXPECT_EQ(error("predicate.referenceValues.0.index", "1"),
            "predicate.referenceValues[0].index: not allowed for "
            "amd-sev-snp launch-measurement");
  EXPECT_EQ(error("predicate.referenceValues.0.digest",
                  absl::StrCat(R"({"sha256":")", kPcr4Sha256, "\"}")),
            "predicate.referenceValues[0].digest.sha256: amd-sev-snp "
            "launch-measurement values are sha384 digests");
  EXPECT_EQ(error("predicate.source.commit", Quoted("abc")),
            "predicate.source.commit: must be 40 or 64 lowercase hex "
            "characters");
  EXPECT_EQ(error("subject.0.digest.sha256", Quoted("abc")),
            "subject[0].digest.sha256: must be 64 lowercase hex characters");
}


// A claim whose PCR 4 value names the uki-pcr calculator, reading the
// claim's own subject.
std::string CalculatedClaim() {
  return EditJson(DesignClaim(), "predicate.referenceValues.2.calculator",
                  R"({"name": "uki-pcr", "inputs": {"uki": "os-image-v1.2.0.raw"}})")
      .value();
}

TEST(ClaimTest, RoundTripsACalculator) {
  absl::StatusOr<Claim> claim = ParseClaim(CalculatedClaim());
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_TRUE(claim->reference_values[2].calculator.has_value());
  EXPECT_EQ(*claim->reference_values[2].calculator,
            (Calculator{"uki-pcr", {{"uki", "os-image-v1.2.0.raw"}}}));
  absl::StatusOr<std::string> serialized = SerializeClaim(*claim);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  EXPECT_EQ(ParseClaim(*serialized).value().reference_values,
            claim->reference_values);
}

// Unknown calculators, roles and inputs that are not subjects are refused,
// naming the field (issue 13; DESIGN.md "Calculated reference values").
TEST(ClaimTest, RefusesCalculatorsThatBreakTheirRules) {
  const auto error = [](absl::string_view path,
                        std::optional<absl::string_view> replacement) {
    return std::string(
        ParseClaim(EditJson(CalculatedClaim(), path, replacement).value())
            .status()
            .message());
  };
  const std::string calc = "predicate.referenceValues.2.calculator";
  EXPECT_EQ(error(calc + ".name", Quoted("tpm-magic")),
            "predicate.referenceValues[2].calculator.name: unknown calculator "
            "\"tpm-magic\" (expected one of sev-snp, tdx-mrtd, uki-pcr, "
            "tpm-separator, dm-verity)");
  EXPECT_EQ(error(calc + ".inputs.kernel", Quoted("os-image-v1.2.0.raw")),
            "predicate.referenceValues[2].calculator.inputs.kernel: unknown "
            "role for uki-pcr (expected uki)");
  EXPECT_EQ(error(calc + ".inputs.uki", Quoted("other.raw")),
            "predicate.referenceValues[2].calculator.inputs.uki: names no "
            "subject of the claim");
  EXPECT_EQ(error(calc + ".inputs", std::nullopt),
            "predicate.referenceValues[2].calculator.inputs: uki-pcr needs "
            "the input uki");
  EXPECT_EQ(error("predicate.referenceValues.2.index", "7"),
            "predicate.referenceValues[2].index: uki-pcr computes PCR 4, 9, "
            "11");
  EXPECT_EQ(error(calc + ".name", Quoted("sev-snp")),
            "predicate.referenceValues[2].calculator.name: sev-snp computes "
            "amd-sev-snp/launch-measurement values, not tpm/pcr");
  EXPECT_EQ(error("predicate.referenceValues.2.parameters",
                  R"({"vcpus": "4"})"),
            "predicate.referenceValues[2].parameters.vcpus: not a parameter "
            "of uki-pcr (expected sections)");
  EXPECT_EQ(error("predicate.referenceValues.2.parameters",
                  R"({"sections": ".linux"})"),
            "predicate.referenceValues[2].parameters.sections: only PCR 11 "
            "measures sections");
  EXPECT_THAT(error(calc + ".colour", Quoted("red")),
              ::testing::HasSubstr("colour"));
  // A claim never says how a witness got its values.
  EXPECT_THAT(error("predicate.referenceValues.2.reportedBy", Quoted("recipe")),
              ::testing::HasSubstr("reportedBy"));
}


TEST(ClaimTest, RefusesSevSnpParametersThatWouldNotBeUsed) {
  const auto error = [](absl::string_view parameters) {
    const std::string claim =
        EditJson(EditJson(DesignClaim(), "predicate.referenceValues.0.calculator",
                          R"({"name": "sev-snp", "inputs": {"ovmf": "os-image-v1.2.0.raw"}})")
                     .value(),
                 "predicate.referenceValues.0.parameters", parameters)
            .value();
    return std::string(ParseClaim(claim).status().message());
  };
  EXPECT_EQ(error(R"({"vcpus": "4", "vcpu-type": "EPYC-v4"})"), "");
  EXPECT_THAT(error(R"({"vcpus": "4", "vcpu-type": "EPYC", "vcpu-sig": "0x800f12"})"),
              ::testing::HasSubstr("give vcpu-type or vcpu-sig, not both"));
  EXPECT_THAT(error(R"({"vcpus": "4", "vmm-type": "ec2", "vcpu-type": "EPYC"})"),
              ::testing::HasSubstr("fixes its own vCPU signature"));
  EXPECT_THAT(error(R"({"vmm-type": "ec2"})"),
              ::testing::HasSubstr("sev-snp needs vcpus"));
}

}  // namespace
}  // namespace refsum::statement
