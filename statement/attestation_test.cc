#include "statement/attestation.h"

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/test_util.h"

namespace refsum::statement {
namespace {

constexpr absl::string_view kImageSha256 =
    "9edc897a4aeac884b812c1feabdea39c2495f2c773da7c4ec6c5688d072ce826";
constexpr absl::string_view kSnpSha384 =
    "a8ac7ff237deeb24a88fc850f1114fe643a26810cd2552f31a0b5b239a086c59"
    "853720a89ad0b0b653d62353434a33e1";
constexpr absl::string_view kLeafHash =
    "9f91161f43433e49a6de6db680d79f60159f2e4ac9172621a12846428158440b";
constexpr absl::string_view kReportSha256 =
    "845e91831319e89c4d656bdb80c278ac09a7230d61e5dfd2e1b1fbb436ac8917";

// DESIGN.md's attestation example with real values filled in.
std::string DesignAttestation() {
  return absl::StrCat(
      R"({
  "_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": "os-image-v1.2.0.raw", "digest": {"sha256": ")",
      kImageSha256, R"("}}],
  "predicateType": "urn:refsum:predicate:rebuild:v1",
  "predicate": {
    "claim": {"origin": "log.refsum.example/main", "index": 42, "leafHash": ")",
      kLeafHash, R"("},
    "verdict": "MATCH",
    "rebuilt": {
      "subject": [{"name": "os-image-v1.2.0.raw", "digest": {"sha256": ")",
      kImageSha256, R"("}}],
      "referenceValues": [
        {"platform": "amd-sev-snp", "kind": "launch-measurement", "digest": {"sha384": ")",
      kSnpSha384, R"("},
         "parameters": {"vcpus": "4", "vmm": "qemu", "policy": "0x30000"}}
      ]
    },
    "rebuilder": {"id": "witness.example.org", "recipe": "nix build .#image"},
    "rebuiltAt": "2026-11-27T12:00:00Z",
    "report": {"digest": {"sha256": ")",
      kReportSha256,
      R"("}, "uri": "https://witness.example.org/reports/42.html"}
  }
})");
}

std::string CanonicalDesignAttestation() {
  const std::string subject =
      absl::StrCat(R"([{"name":"os-image-v1.2.0.raw","digest":{"sha256":")",
                   kImageSha256, R"("}}])");
  return absl::StrCat(
      R"({"_type":"https://in-toto.io/Statement/v1","subject":)", subject,
      R"(,"predicateType":"urn:refsum:predicate:rebuild:v1","predicate":{)",
      R"("claim":{"origin":"log.refsum.example/main","index":42,"leafHash":")",
      kLeafHash, R"("},"verdict":"MATCH","rebuilt":{"subject":)", subject,
      R"(,"referenceValues":[{"platform":"amd-sev-snp",)",
      R"("kind":"launch-measurement","digest":{"sha384":")", kSnpSha384,
      R"("},"parameters":{"policy":"0x30000","vcpus":"4","vmm":"qemu"}}]},)",
      R"("rebuilder":{"id":"witness.example.org","recipe":"nix build .#image"},)",
      R"("rebuiltAt":"2026-11-27T12:00:00Z","report":{"digest":{"sha256":")",
      kReportSha256,
      R"("},"uri":"https://witness.example.org/reports/42.html"}}})");
}

// Applies each (path, replacement) edit to the example in turn.
std::string Edited(
    std::initializer_list<
        std::pair<absl::string_view, std::optional<absl::string_view>>>
        edits) {
  std::string payload = DesignAttestation();
  for (const auto& [path, replacement] : edits) {
    payload = EditJson(payload, path, replacement).value();
  }
  return payload;
}

TEST(AttestationTest, ParsesDesignExample) {
  absl::StatusOr<RebuildAttestation> attestation =
      ParseRebuildAttestation(DesignAttestation());
  ASSERT_TRUE(attestation.ok()) << attestation.status();
  ASSERT_EQ(attestation->subjects.size(), 1u);
  EXPECT_EQ(attestation->subjects[0].name, "os-image-v1.2.0.raw");
  EXPECT_EQ(attestation->claim.origin, "log.refsum.example/main");
  EXPECT_EQ(attestation->claim.index, 42);
  EXPECT_EQ(attestation->claim.leaf_hash, kLeafHash);
  EXPECT_EQ(attestation->verdict, Verdict::kMatch);
  ASSERT_TRUE(attestation->rebuilt.has_value());
  EXPECT_EQ(attestation->rebuilt->subjects[0].digest.at("sha256"),
            kImageSha256);
  ASSERT_EQ(attestation->rebuilt->reference_values.size(), 1u);
  EXPECT_EQ(attestation->rebuilt->reference_values[0].digest,
            (Digest{"sha384", std::string(kSnpSha384)}));
  EXPECT_EQ(attestation->rebuilder.id, "witness.example.org");
  EXPECT_EQ(attestation->rebuilder.recipe, "nix build .#image");
  EXPECT_EQ(attestation->rebuilt_at, "2026-11-27T12:00:00Z");
  ASSERT_TRUE(attestation->report.has_value());
  EXPECT_EQ(attestation->report->digest,
            (DigestSet{{"sha256", std::string(kReportSha256)}}));
  EXPECT_EQ(attestation->report->uri,
            "https://witness.example.org/reports/42.html");
}

TEST(AttestationTest, SerializesCanonicallyAndStably) {
  absl::StatusOr<RebuildAttestation> attestation =
      ParseRebuildAttestation(DesignAttestation());
  ASSERT_TRUE(attestation.ok()) << attestation.status();
  absl::StatusOr<std::string> serialized =
      SerializeRebuildAttestation(*attestation);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  EXPECT_EQ(*serialized, CanonicalDesignAttestation());

  absl::StatusOr<RebuildAttestation> reparsed =
      ParseRebuildAttestation(*serialized);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(SerializeRebuildAttestation(*reparsed).value_or(""), *serialized);
}

TEST(AttestationTest, RoundTripsEachVerdict) {
  struct Variant {
    std::string payload;
    Verdict verdict;
    bool has_rebuilt;
    bool has_report;
  };
  const Variant variants[] = {
      {Edited({{"predicate.verdict", "\"MISMATCH\""}}), Verdict::kMismatch,
       true, true},
      {Edited({{"predicate.report", std::nullopt}}), Verdict::kMatch, true,
       false},
      {Edited({{"predicate.verdict", "\"FAILED\""},
               {"predicate.rebuilt", std::nullopt}}),
       Verdict::kFailed, false, true},
      {Edited({{"predicate.verdict", "\"FAILED\""},
               {"predicate.rebuilt", std::nullopt},
               {"predicate.report", std::nullopt}}),
       Verdict::kFailed, false, false},
  };
  for (const Variant& variant : variants) {
    absl::StatusOr<RebuildAttestation> attestation =
        ParseRebuildAttestation(variant.payload);
    ASSERT_TRUE(attestation.ok()) << attestation.status();
    EXPECT_EQ(attestation->verdict, variant.verdict);
    EXPECT_EQ(attestation->rebuilt.has_value(), variant.has_rebuilt);
    EXPECT_EQ(attestation->report.has_value(), variant.has_report);
    absl::StatusOr<std::string> serialized =
        SerializeRebuildAttestation(*attestation);
    ASSERT_TRUE(serialized.ok()) << serialized.status();
    absl::StatusOr<RebuildAttestation> reparsed =
        ParseRebuildAttestation(*serialized);
    ASSERT_TRUE(reparsed.ok()) << reparsed.status();
    EXPECT_EQ(SerializeRebuildAttestation(*reparsed).value_or(""), *serialized);
  }
}

TEST(AttestationTest, NamesVerdicts) {
  EXPECT_EQ(VerdictName(Verdict::kMatch), "MATCH");
  EXPECT_EQ(VerdictName(Verdict::kMismatch), "MISMATCH");
  EXPECT_EQ(VerdictName(Verdict::kFailed), "FAILED");
  EXPECT_EQ(VerdictName(static_cast<Verdict>(7)), "");
}

TEST(AttestationTest, EnforcesWhatEachVerdictCarries) {
  auto error = [](const std::string& payload) {
    return std::string(ParseRebuildAttestation(payload).status().message());
  };
  EXPECT_EQ(error(Edited({{"predicate.rebuilt", std::nullopt}})),
            "predicate.rebuilt: required when verdict is MATCH");
  EXPECT_EQ(error(Edited({{"predicate.verdict", "\"MISMATCH\""},
                          {"predicate.rebuilt", std::nullopt}})),
            "predicate.rebuilt: required when verdict is MISMATCH");
  EXPECT_EQ(error(Edited({{"predicate.verdict", "\"MISMATCH\""},
                          {"predicate.report", std::nullopt}})),
            "predicate.report: required when verdict is MISMATCH");
  EXPECT_EQ(error(Edited({{"predicate.verdict", "\"FAILED\""}})),
            "predicate.rebuilt: not allowed when verdict is FAILED");
}

TEST(AttestationTest, ValidateChecksInMemoryAttestations) {
  const RebuildAttestation valid =
      *ParseRebuildAttestation(DesignAttestation());
  ASSERT_TRUE(ValidateRebuildAttestation(valid).ok());

  RebuildAttestation attestation = valid;
  attestation.verdict = static_cast<Verdict>(7);
  EXPECT_EQ(ValidateRebuildAttestation(attestation).message(),
            "predicate.verdict: must be MATCH, MISMATCH or FAILED");
  EXPECT_FALSE(SerializeRebuildAttestation(attestation).ok());

  attestation = valid;
  attestation.rebuilder.id = "witness\x1b[2J";
  EXPECT_EQ(ValidateRebuildAttestation(attestation).message(),
            "predicate.rebuilder.id: contains a control character");

  attestation = valid;
  attestation.rebuilt->reference_values.clear();
  EXPECT_EQ(ValidateRebuildAttestation(attestation).message(),
            "predicate.rebuilt.referenceValues: at least one reference value "
            "is required");
}

class AttestationMutationTest : public testing::TestWithParam<Mutation> {};

TEST_P(AttestationMutationTest, IsRejectedNamingThePath) {
  ExpectRejectedAtPath(DesignAttestation(), GetParam(),
                       [](absl::string_view payload) {
                         return ParseRebuildAttestation(payload).status();
                       });
}

INSTANTIATE_TEST_SUITE_P(
    MissingFields, AttestationMutationTest,
    testing::Values(
        Mutation{"_type", std::nullopt, "_type"},
        Mutation{"subject", std::nullopt, "subject"},
        Mutation{"predicateType", std::nullopt, "predicateType"},
        Mutation{"predicate", std::nullopt, "predicate"},
        Mutation{"predicate.claim", std::nullopt, "predicate.claim"},
        Mutation{"predicate.claim.origin", std::nullopt,
                 "predicate.claim.origin"},
        Mutation{"predicate.claim.index", std::nullopt,
                 "predicate.claim.index"},
        Mutation{"predicate.claim.leafHash", std::nullopt,
                 "predicate.claim.leafHash"},
        Mutation{"predicate.verdict", std::nullopt, "predicate.verdict"},
        Mutation{"predicate.rebuilt", std::nullopt, "predicate.rebuilt"},
        Mutation{"predicate.rebuilt.subject", std::nullopt,
                 "predicate.rebuilt.subject"},
        Mutation{"predicate.rebuilt.referenceValues", std::nullopt,
                 "predicate.rebuilt.referenceValues"},
        Mutation{"predicate.rebuilt.subject.0.digest", std::nullopt,
                 "predicate.rebuilt.subject[0].digest"},
        Mutation{"predicate.rebuilt.referenceValues.0.kind", std::nullopt,
                 "predicate.rebuilt.referenceValues[0].kind"},
        Mutation{"predicate.rebuilder", std::nullopt, "predicate.rebuilder"},
        Mutation{"predicate.rebuilder.id", std::nullopt,
                 "predicate.rebuilder.id"},
        Mutation{"predicate.rebuilder.recipe", std::nullopt,
                 "predicate.rebuilder.recipe"},
        Mutation{"predicate.rebuiltAt", std::nullopt, "predicate.rebuiltAt"},
        Mutation{"predicate.report.digest", std::nullopt,
                 "predicate.report.digest"},
        Mutation{"predicate.report.digest.sha256", std::nullopt,
                 "predicate.report.digest.sha256"},
        Mutation{"predicate.report.uri", std::nullopt,
                 "predicate.report.uri"}));

INSTANTIATE_TEST_SUITE_P(
    UnknownFields, AttestationMutationTest,
    testing::Values(
        Mutation{"extra", "1", "extra"},
        Mutation{"subject.0.mediaType", Quoted("x"), "subject[0].mediaType"},
        Mutation{"predicate.extra", "1", "predicate.extra"},
        Mutation{"predicate.claim.size", "43", "predicate.claim.size"},
        Mutation{"predicate.rebuilt.log", Quoted("x"), "predicate.rebuilt.log"},
        Mutation{"predicate.rebuilt.subject.0.uri", Quoted("x"),
                 "predicate.rebuilt.subject[0].uri"},
        Mutation{
            "predicate.rebuilt.referenceValues.0.parameters.cpu type",
            Quoted("x"),
            "predicate.rebuilt.referenceValues[0].parameters[\"cpu type\"]"},
        Mutation{"predicate.rebuilder.key", Quoted("x"),
                 "predicate.rebuilder.key"},
        Mutation{"predicate.report.mediaType", Quoted("text/html"),
                 "predicate.report.mediaType"},
        Mutation{"predicate.report.digest.sha1", Quoted(std::string(40, 'a')),
                 "predicate.report.digest.sha1"}));

INSTANTIATE_TEST_SUITE_P(
    WrongTypes, AttestationMutationTest,
    testing::Values(
        Mutation{"predicate.claim", "[]", "predicate.claim"},
        Mutation{"predicate.claim.index", Quoted("42"),
                 "predicate.claim.index"},
        Mutation{"predicate.claim.origin", "null", "predicate.claim.origin"},
        Mutation{"predicate.verdict", "true", "predicate.verdict"},
        Mutation{"predicate.rebuilt", "[]", "predicate.rebuilt"},
        Mutation{"predicate.rebuilt.subject", "{}",
                 "predicate.rebuilt.subject"},
        Mutation{"predicate.rebuilder", Quoted("witness"),
                 "predicate.rebuilder"},
        Mutation{"predicate.rebuiltAt", "1795003200", "predicate.rebuiltAt"},
        Mutation{"predicate.report", "null", "predicate.report"},
        Mutation{"predicate.report.uri", "{}", "predicate.report.uri"}));

INSTANTIATE_TEST_SUITE_P(
    BadValues, AttestationMutationTest,
    testing::Values(
        Mutation{"predicateType",
                 Quoted("urn:refsum:predicate:reference-values:v1"),
                 "predicateType"},
        Mutation{"subject", "[]", "subject"},
        Mutation{"subject.0.digest.sha256", Quoted(std::string(64, 'G')),
                 "subject[0].digest.sha256"},
        Mutation{"predicate.claim.origin", Quoted(""),
                 "predicate.claim.origin"},
        Mutation{"predicate.claim.index", "-1", "predicate.claim.index"},
        Mutation{"predicate.claim.leafHash",
                 Quoted(absl::AsciiStrToUpper(kLeafHash)),
                 "predicate.claim.leafHash"},
        Mutation{"predicate.claim.leafHash", Quoted(kLeafHash.substr(2)),
                 "predicate.claim.leafHash"},
        Mutation{"predicate.verdict", Quoted("match"), "predicate.verdict"},
        Mutation{"predicate.verdict", Quoted("PASS"), "predicate.verdict"},
        Mutation{"predicate.verdict", Quoted(""), "predicate.verdict"},
        Mutation{"predicate.rebuilt.subject", "[]",
                 "predicate.rebuilt.subject"},
        Mutation{"predicate.rebuilt.referenceValues", "[]",
                 "predicate.rebuilt.referenceValues"},
        Mutation{"predicate.rebuilt.referenceValues.0.platform", Quoted("sgx"),
                 "predicate.rebuilt.referenceValues[0].platform"},
        Mutation{"predicate.rebuilt.referenceValues.0.index", "1",
                 "predicate.rebuilt.referenceValues[0].index"},
        Mutation{"predicate.rebuilt.referenceValues.0.digest.sha384",
                 Quoted(std::string(95, 'a')),
                 "predicate.rebuilt.referenceValues[0].digest.sha384"},
        Mutation{"predicate.rebuilder.id", Quoted(""),
                 "predicate.rebuilder.id"},
        Mutation{"predicate.rebuilder.recipe", Quoted(""),
                 "predicate.rebuilder.recipe"},
        Mutation{"predicate.report.digest", "{}",
                 "predicate.report.digest.sha256"},
        Mutation{"predicate.report.uri", Quoted("reports/42.html"),
                 "predicate.report.uri"}));

class TimestampTest : public testing::TestWithParam<std::string> {};

TEST_P(TimestampTest, IsRejected) {
  RebuildAttestation attestation =
      *ParseRebuildAttestation(DesignAttestation());
  attestation.rebuilt_at = GetParam();
  const absl::Status status = ValidateRebuildAttestation(attestation);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "predicate.rebuiltAt: "))
      << status;
  const std::string payload =
      *EditJson(DesignAttestation(), "predicate.rebuiltAt", Quoted(GetParam()));
  EXPECT_EQ(ParseRebuildAttestation(payload).status(), status);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, TimestampTest,
    testing::Values("", "2026-11-27T12:00:00", "2026-11-27 12:00:00Z",
                    "2026-11-27t12:00:00z", "2026-11-27T12:00:00+00:00",
                    "2026-11-27T12:00:00.5Z", "2026-11-27T12:00Z",
                    "26-11-27T12:00:00Z", "+2026-11-27T12:00:00Z",
                    "2026-1-27T12:00:00Z", "2026-11-27T12:00:00Z ",
                    "2026-11-2xT12:00:00Z"));

INSTANTIATE_TEST_SUITE_P(
    NotARealTime, TimestampTest,
    testing::Values("2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
                    "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                    "2026-04-31T00:00:00Z", "2026-11-00T00:00:00Z",
                    "2026-11-27T24:00:00Z", "2026-11-27T12:60:00Z",
                    "2016-12-31T23:59:60Z"));

TEST(AttestationTest, AcceptsRealTimestamps) {
  RebuildAttestation attestation =
      *ParseRebuildAttestation(DesignAttestation());
  for (const char* time : {"2024-02-29T23:59:59Z", "2000-02-29T00:00:00Z",
                           "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    attestation.rebuilt_at = time;
    EXPECT_TRUE(ValidateRebuildAttestation(attestation).ok()) << time;
  }
}


// Each rebuilt value may say how the witness got it (DESIGN.md "Calculated
// reference values"): computed, with calculator and tool, or reported by
// the recipe; never both, and never a claim's calculator.
TEST(AttestationTest, RebuiltValuesSayHowTheyWereObtained) {
  using ::testing::HasSubstr;
  const std::string value = "predicate.rebuilt.referenceValues.0";
  absl::StatusOr<RebuildAttestation> computed = ParseRebuildAttestation(
      Edited({{value + ".computedBy",
               R"({"calculator": "sev-snp", "tool": "refsum 0.2.0"})"}}));
  ASSERT_TRUE(computed.ok()) << computed.status();
  EXPECT_EQ(computed->rebuilt->reference_values[0].computed_by,
            (ComputedBy{"sev-snp", "refsum 0.2.0"}));
  absl::StatusOr<std::string> serialized =
      SerializeRebuildAttestation(*computed);
  ASSERT_TRUE(serialized.ok()) << serialized.status();
  EXPECT_EQ(ParseRebuildAttestation(*serialized)
                .value()
                .rebuilt->reference_values,
            computed->rebuilt->reference_values);

  absl::StatusOr<RebuildAttestation> reported = ParseRebuildAttestation(
      Edited({{value + ".reportedBy", Quoted("recipe")}}));
  ASSERT_TRUE(reported.ok()) << reported.status();
  EXPECT_TRUE(reported->rebuilt->reference_values[0].reported_by_recipe);

  const auto error = [&](std::initializer_list<std::pair<
                             absl::string_view, std::optional<absl::string_view>>>
                             edits) {
    return std::string(
        ParseRebuildAttestation(Edited(edits)).status().message());
  };
  EXPECT_THAT(error({{value + ".reportedBy", Quoted("vendor")}}),
              HasSubstr("reportedBy: must be \"recipe\""));
  EXPECT_THAT(
      error({{value + ".computedBy",
              R"({"calculator": "sev-snp", "tool": "refsum 0.2.0"})"},
             {value + ".reportedBy", Quoted("recipe")}}),
      HasSubstr("has both computedBy and reportedBy"));
  EXPECT_THAT(error({{value + ".computedBy", R"({"calculator": "sev-snp"})"}}),
              HasSubstr("tool"));
  EXPECT_THAT(error({{value + ".calculator", R"({"name": "sev-snp"})"}}),
              HasSubstr("calculator"));
}

}  // namespace
}  // namespace refsum::statement
