#include "statement/in_toto.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "encoding/json.h"
#include "gtest/gtest.h"

namespace refsum::statement {
namespace {

constexpr absl::string_view kPredicateType = "urn:example:test:v1";

std::string Sha256Hex() { return std::string(64, 'a'); }

std::string Statement(absl::string_view predicate) {
  return absl::StrCat(
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a",)",
      R"("digest":{"sha256":")", Sha256Hex(), R"("}}],"predicateType":")",
      kPredicateType, R"(","predicate":)", predicate, "}");
}

absl::Status AcceptAnyPredicate(const encoding::JsonObjectReader&) {
  return absl::OkStatus();
}

TEST(InTotoTest, ParsesTheStatementLayer) {
  std::string seen_path;
  absl::StatusOr<std::vector<Subject>> subjects =
      ParseStatement(Statement(R"({"x":1})"), kPredicateType,
                     [&seen_path](const encoding::JsonObjectReader& predicate) {
                       seen_path = predicate.path();
                       return predicate.RejectUnknownFields({"x"});
                     });
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(seen_path, "predicate");
  ASSERT_EQ(subjects->size(), 1u);
  EXPECT_EQ((*subjects)[0].name, "a");
  EXPECT_EQ((*subjects)[0].digest.at("sha256"), Sha256Hex());
}

TEST(InTotoTest, PassesPredicateErrorsThrough) {
  absl::StatusOr<std::vector<Subject>> subjects =
      ParseStatement(Statement(R"({"x":1})"), kPredicateType,
                     [](const encoding::JsonObjectReader& predicate) {
                       return predicate.RejectUnknownFields({"y"});
                     });
  EXPECT_EQ(subjects.status().message(), "predicate.x: unknown field");
}

TEST(InTotoTest, RejectsOtherTypesAndShapes) {
  EXPECT_EQ(ParseStatement(Statement("{}"), "urn:other", AcceptAnyPredicate)
                .status()
                .message(),
            "predicateType: must be \"urn:other\"");
  EXPECT_EQ(
      ParseStatement(Statement("null"), kPredicateType, AcceptAnyPredicate)
          .status()
          .message(),
      "predicate: expected object, got null");
  EXPECT_EQ(ParseStatement("{}", kPredicateType, AcceptAnyPredicate)
                .status()
                .message(),
            "_type: missing required field");
  EXPECT_EQ(ParseStatement(
                R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[]})",
                kPredicateType, AcceptAnyPredicate)
                .status()
                .message(),
            "_type: must be \"https://in-toto.io/Statement/v1\"");
}

TEST(InTotoTest, ValidatesSubjects) {
  const Subject subject{"a", {{"sha256", Sha256Hex()}}, std::nullopt};
  EXPECT_TRUE(ValidateSubjects({subject}, "subject").ok());
  EXPECT_EQ(ValidateSubjects({}, "subject").message(),
            "subject: at least one subject is required");
  EXPECT_EQ(ValidateSubjects({subject, subject}, "subject").message(),
            "subject[1].name: duplicate subject name");
  EXPECT_EQ(ValidateSubjects(std::vector<Subject>(kMaxSubjects + 1, subject),
                             "subject")
                .message(),
            "subject: more than 64 subjects");
  Subject located = subject;
  located.download_location = "https://example.com/a";
  EXPECT_TRUE(ValidateSubjects({located}, "s").ok());
  located.download_location = "a";
  EXPECT_EQ(ValidateSubjects({located}, "s").message(),
            "s[0].downloadLocation: must be an absolute URI with a lowercase "
            "scheme and no spaces");
}

TEST(InTotoTest, SerializesInStatementOrder) {
  const Subject subject{
      "a", {{"sha256", Sha256Hex()}}, "https://example.com/a"};
  absl::StatusOr<std::string> payload =
      SerializeStatement({subject}, kPredicateType,
                         encoding::JsonValue::MakeObject(
                             {{"x", encoding::JsonValue::Integer(1)}}));
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload,
            absl::StrCat(R"({"_type":"https://in-toto.io/Statement/v1",)",
                         R"("subject":[{"name":"a","digest":{"sha256":")",
                         Sha256Hex(),
                         R"("},"downloadLocation":"https://example.com/a"}],)",
                         R"("predicateType":"urn:example:test:v1",)",
                         R"("predicate":{"x":1}})"));
}

TEST(InTotoTest, RefusesPayloadsAboveTheLeafBudget) {
  const Subject subject{"a", {{"sha256", Sha256Hex()}}, std::nullopt};
  const std::string empty_payload = *SerializeStatement(
      {subject}, kPredicateType, encoding::JsonValue::MakeObject({}));
  // Fill the predicate so the payload lands exactly on the limit, then one
  // byte past it.
  const size_t filler =
      kMaxPayloadBytes - empty_payload.size() - std::string(R"("x":"")").size();
  auto with_filler = [&](size_t bytes) {
    return SerializeStatement(
        {subject}, kPredicateType,
        encoding::JsonValue::MakeObject(
            {{"x", encoding::JsonValue::String(std::string(bytes, 'f'))}}));
  };
  absl::StatusOr<std::string> at_limit = with_filler(filler);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->size(), kMaxPayloadBytes);
  EXPECT_TRUE(
      ParseStatement(*at_limit, kPredicateType, AcceptAnyPredicate).ok());
  EXPECT_EQ(
      with_filler(filler + 1).status().message(),
      absl::StrCat("statement of ", kMaxPayloadBytes + 1,
                   " bytes exceeds the limit of ", kMaxPayloadBytes, " bytes"));
}

}  // namespace
}  // namespace refsum::statement
