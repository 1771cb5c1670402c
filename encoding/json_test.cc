#include "encoding/json.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gtest/gtest.h"

namespace refsum::encoding {
namespace {

// Returns the compact re-serialization of `text`, or its error message.
std::string Reserialized(absl::string_view text,
                         const JsonLimits& limits = {}) {
  absl::StatusOr<JsonValue> value = ParseJson(text, limits);
  if (!value.ok()) return std::string(value.status().message());
  return SerializeJson(*value);
}

// RFC 8259 section 13, first example. Every number in it is an integer.
constexpr absl::string_view kRfc8259Image = R"({
      "Image": {
          "Width":  800,
          "Height": 600,
          "Title":  "View from 15th Floor",
          "Thumbnail": {
              "Url":    "http://www.example.com/image/481989943",
              "Height": 125,
              "Width":  100
          },
          "Animated" : false,
          "IDs": [116, 943, 234, 38793]
        }
    })";

TEST(JsonTest, ParsesRfc8259ImageExample) {
  absl::StatusOr<JsonValue> value = ParseJson(kRfc8259Image);
  ASSERT_TRUE(value.ok()) << value.status();
  const JsonValue* image = value->Find("Image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->Find("Width")->AsInteger(), 800);
  EXPECT_EQ(*image->Find("Title")->AsString(), "View from 15th Floor");
  EXPECT_EQ(image->Find("Animated")->AsBool(), false);
  EXPECT_EQ(image->Find("IDs")->AsArray()->size(), 4u);
  EXPECT_EQ(SerializeJson(*value),
            R"({"Image":{"Width":800,"Height":600,)"
            R"("Title":"View from 15th Floor","Thumbnail":)"
            R"({"Url":"http://www.example.com/image/481989943",)"
            R"("Height":125,"Width":100},"Animated":false,)"
            R"("IDs":[116,943,234,38793]}})");
}

// RFC 8259 section 13, second example: valid JSON, but its fractional
// coordinates are outside refsum's integer-only subset.
TEST(JsonTest, RejectsRfc8259CoordinatesExampleForItsFractions) {
  constexpr absl::string_view kCoordinates = R"([
        {
           "precision": "zip",
           "Latitude":  37.7668,
           "Longitude": -122.3959,
           "Address":   "",
           "City":      "SAN FRANCISCO",
           "State":     "CA",
           "Zip":       "94107",
           "Country":   "US"
        }
      ])";
  EXPECT_EQ(Reserialized(kCoordinates),
            "JSON: non-integer number at offset 67");
}

struct ValidCase {
  std::string input;
  std::string serialized;
};

class JsonValidTest : public testing::TestWithParam<ValidCase> {};

TEST_P(JsonValidTest, ParsesAndSerializesCompactly) {
  EXPECT_EQ(Reserialized(GetParam().input), GetParam().serialized);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, JsonValidTest,
    testing::Values(
        // RFC 8259 section 13: scalars are complete texts.
        ValidCase{R"("Hello world!")", R"("Hello world!")"},
        ValidCase{"42", "42"}, ValidCase{"true", "true"},
        ValidCase{"false", "false"}, ValidCase{"null", "null"},
        ValidCase{" \t\r\n[ 1 , 2 ]\n", "[1,2]"}, ValidCase{"[]", "[]"},
        ValidCase{"{}", "{}"}, ValidCase{"[[],{}]", "[[],{}]"},
        ValidCase{R"({"b":1,"a":2})", R"({"b":1,"a":2})"},
        ValidCase{R"({"a":{"a":1}})", R"({"a":{"a":1}})"}, ValidCase{"0", "0"},
        ValidCase{"-1", "-1"},
        ValidCase{"9223372036854775807", "9223372036854775807"},
        ValidCase{"-9223372036854775808", "-9223372036854775808"},
        // Escapes decode, and only `"`, `\` and controls are re-escaped.
        ValidCase{R"("\"\\\/\b\f\n\r\t")", R"("\"\\/\b\f\n\r\t")"},
        ValidCase{R"("\u0000\u001F\u007f")",
                  std::string("\"\\u0000\\u001f\x7f\"")},
        ValidCase{R"("\u0041\u00e9\u00E9")", "\"A\xc3\xa9\xc3\xa9\""},
        ValidCase{R"("\ud83d\ude00")", "\"\xf0\x9f\x98\x80\""},
        ValidCase{R"("\uDBFF\uDFFF")", "\"\xf4\x8f\xbf\xbf\""},
        ValidCase{R"("\ud7ff\ue000\uffff")",
                  "\"\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\""},
        // UTF-8 at each sequence-length boundary passes through.
        ValidCase{"\"\x7f\xc2\x80\xdf\xbf\"", "\"\x7f\xc2\x80\xdf\xbf\""},
        ValidCase{"\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"",
                  "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\""},
        ValidCase{"\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"",
                  "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""}));

struct InvalidCase {
  std::string input;
  std::string error;
};

class JsonInvalidTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(JsonInvalidTest, IsRejectedWithOffset) {
  absl::StatusOr<JsonValue> value = ParseJson(GetParam().input);
  ASSERT_FALSE(value.ok()) << "accepted " << GetParam().input;
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(value.status().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Structure, JsonInvalidTest,
    testing::Values(
        InvalidCase{"", "JSON: unexpected end of input at offset 0"},
        InvalidCase{" \n", "JSON: unexpected end of input at offset 2"},
        InvalidCase{"1 2",
                    "JSON: unexpected data after the JSON value at offset 2"},
        InvalidCase{"{} x",
                    "JSON: unexpected data after the JSON value at offset 3"},
        InvalidCase{"[1,]", "JSON: unexpected character at offset 3"},
        InvalidCase{R"({"a":1,})", "JSON: expected a string key at offset 7"},
        InvalidCase{"[1 2]", "JSON: expected ',' or ']' at offset 3"},
        InvalidCase{R"({"a" 1})", "JSON: expected ':' at offset 5"},
        InvalidCase{R"({"a":1 "b":2})",
                    "JSON: expected ',' or '}' at offset 7"},
        InvalidCase{"{a:1}", "JSON: expected a string key at offset 1"},
        InvalidCase{"['a']", "JSON: unexpected character at offset 1"},
        InvalidCase{"[", "JSON: unexpected end of input at offset 1"},
        InvalidCase{R"({"a":)", "JSON: unexpected end of input at offset 5"},
        InvalidCase{"tru", "JSON: invalid literal at offset 0"},
        InvalidCase{"True", "JSON: unexpected character at offset 0"},
        InvalidCase{"nul", "JSON: invalid literal at offset 0"},
        InvalidCase{"[nulll]", "JSON: expected ',' or ']' at offset 5"},
        InvalidCase{"// c\n1", "JSON: unexpected character at offset 0"},
        InvalidCase{"/* c */1", "JSON: unexpected character at offset 0"},
        InvalidCase{"[1]// c",
                    "JSON: unexpected data after the JSON value at offset 3"},
        // Whitespace is only space, tab, line feed and carriage return.
        InvalidCase{"\f1", "JSON: unexpected character at offset 0"},
        InvalidCase{"\v1", "JSON: unexpected character at offset 0"},
        InvalidCase{"\xc2\xa0[]", "JSON: unexpected character at offset 0"},
        InvalidCase{"\xef\xbb\xbf[]", "JSON: unexpected character at offset 0"},
        InvalidCase{std::string("1\0", 2),
                    "JSON: unexpected data after the JSON value at offset 1"},
        // Duplicate keys, including ones spelled differently.
        InvalidCase{R"({"subject":1,"x":2,"subject":3})",
                    "JSON: duplicate key \"subject\" at offset 19"},
        InvalidCase{R"({"a":1,"\u0061":2})",
                    "JSON: duplicate key \"a\" at offset 7"},
        InvalidCase{R"([{"k":{"a":1,"a":1}}])",
                    "JSON: duplicate key \"a\" at offset 13"},
        InvalidCase{"{\"\\n\":1,\"\\n\":2}",
                    "JSON: duplicate key \"\\n\" at offset 8"}));

INSTANTIATE_TEST_SUITE_P(
    Numbers, JsonInvalidTest,
    testing::Values(
        InvalidCase{"1.0", "JSON: non-integer number at offset 0"},
        InvalidCase{"[1.5]", "JSON: non-integer number at offset 1"},
        InvalidCase{"1e3", "JSON: non-integer number at offset 0"},
        InvalidCase{"1E3", "JSON: non-integer number at offset 0"},
        InvalidCase{"1.", "JSON: non-integer number at offset 0"},
        InvalidCase{"-0", "JSON: non-integer number at offset 0"},
        InvalidCase{"-0.0", "JSON: non-integer number at offset 0"},
        InvalidCase{"01", "JSON: invalid number: leading zero at offset 0"},
        InvalidCase{"-01", "JSON: invalid number: leading zero at offset 0"},
        InvalidCase{"00", "JSON: invalid number: leading zero at offset 0"},
        InvalidCase{"-", "JSON: invalid number at offset 0"},
        InvalidCase{"-a", "JSON: invalid number at offset 0"},
        InvalidCase{"+1", "JSON: unexpected character at offset 0"},
        InvalidCase{".5", "JSON: unexpected character at offset 0"},
        InvalidCase{"0x10",
                    "JSON: unexpected data after the JSON value at offset 1"},
        InvalidCase{"9223372036854775808",
                    "JSON: number out of range at offset 0"},
        InvalidCase{"-9223372036854775809",
                    "JSON: number out of range at offset 0"},
        InvalidCase{"[123456789012345678901234567890]",
                    "JSON: number out of range at offset 1"}));

INSTANTIATE_TEST_SUITE_P(
    Strings, JsonInvalidTest,
    testing::Values(
        InvalidCase{"\"abc", "JSON: unterminated string at offset 0"},
        InvalidCase{"[\"a\\", "JSON: unterminated string at offset 3"},
        InvalidCase{"\"a\nb\"",
                    "JSON: control character in string at offset 2"},
        InvalidCase{"\"\t\"", "JSON: control character in string at offset 1"},
        InvalidCase{std::string("\"\0\"", 3),
                    "JSON: control character in string at offset 1"},
        InvalidCase{"\"\x1f\"",
                    "JSON: control character in string at offset 1"},
        InvalidCase{R"("\x41")", "JSON: invalid escape at offset 1"},
        InvalidCase{R"("\'")", "JSON: invalid escape at offset 1"},
        InvalidCase{R"("\U0041")", "JSON: invalid escape at offset 1"},
        InvalidCase{R"("\u004")", "JSON: invalid \\u escape at offset 1"},
        InvalidCase{R"("\u00g1")", "JSON: invalid \\u escape at offset 1"},
        InvalidCase{R"("\u00)", "JSON: invalid \\u escape at offset 1"},
        // Surrogate escapes must come as a high-low pair.
        InvalidCase{R"("\ud83d")",
                    "JSON: unpaired high surrogate escape at offset 1"},
        InvalidCase{R"("\ud83dx")",
                    "JSON: unpaired high surrogate escape at offset 1"},
        InvalidCase{R"("\ud83d\n")",
                    "JSON: unpaired high surrogate escape at offset 1"},
        InvalidCase{R"("\ud83d\u0041")",
                    "JSON: unpaired high surrogate escape at offset 1"},
        InvalidCase{R"("\ud83d\ud83d")",
                    "JSON: unpaired high surrogate escape at offset 1"},
        InvalidCase{R"("\ude00")",
                    "JSON: unpaired low surrogate escape at offset 1"},
        InvalidCase{R"("\ude00\ud83d")",
                    "JSON: unpaired low surrogate escape at offset 1"},
        InvalidCase{R"("a\ud83d\u12")",
                    "JSON: invalid \\u escape at offset 2"}));

INSTANTIATE_TEST_SUITE_P(
    Utf8, JsonInvalidTest,
    testing::Values(
        // Lone continuation bytes and bytes that never occur in UTF-8.
        InvalidCase{"\"\x80\"", "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"a\xbf\"", "JSON: invalid UTF-8 in string at offset 2"},
        InvalidCase{"\"\xc0\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xc1\xbf\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf5\x80\x80\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xff\"", "JSON: invalid UTF-8 in string at offset 1"},
        // Overlong three- and four-byte forms.
        InvalidCase{"\"\xe0\x80\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xe0\x9f\xbf\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf0\x80\x80\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf0\x8f\xbf\xbf\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        // Surrogates encoded directly, and code points above U+10FFFF.
        InvalidCase{"\"\xed\xa0\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xed\xbf\xbf\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf4\x90\x80\x80\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        // Truncated sequences, at the quote and at the end of input.
        InvalidCase{"\"\xc3\"", "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xe2\x82\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf0\x9f\x98\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xf0\x9f\x98",
                    "JSON: invalid UTF-8 in string at offset 1"},
        InvalidCase{"\"\xe2\x82z\"",
                    "JSON: invalid UTF-8 in string at offset 1"},
        // Outside strings, any non-ASCII byte is simply unexpected.
        InvalidCase{"[\xc3\xa9]", "JSON: unexpected character at offset 1"}));

JsonLimits DepthLimit(size_t max_depth) {
  JsonLimits limits;
  limits.max_depth = max_depth;
  return limits;
}

JsonLimits SizeLimit(size_t max_input_bytes) {
  JsonLimits limits;
  limits.max_input_bytes = max_input_bytes;
  return limits;
}

std::string Nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonTest, AcceptsNestingUpToTheLimit) {
  EXPECT_EQ(Reserialized(Nested(64)), Nested(64));
  EXPECT_EQ(Reserialized("1", DepthLimit(0)), "1");
  std::string objects;
  for (int i = 0; i < 63; ++i) objects += R"({"a":)";
  objects += "[]" + std::string(63, '}');
  EXPECT_EQ(Reserialized(objects), objects);
}

TEST(JsonTest, RejectsNestingBeyondTheLimit) {
  EXPECT_EQ(Reserialized(Nested(65)),
            "JSON: nesting deeper than 64 at offset 64");
  EXPECT_EQ(Reserialized("[{\"a\":[]}]", DepthLimit(2)),
            "JSON: nesting deeper than 2 at offset 6");
  EXPECT_EQ(Reserialized("[]", DepthLimit(0)),
            "JSON: nesting deeper than 0 at offset 0");
}

TEST(JsonTest, RejectsHostileNestingWithoutRecursingIntoIt) {
  const std::string deep_arrays(1 << 20, '[');
  EXPECT_EQ(Reserialized(deep_arrays),
            "JSON: nesting deeper than 64 at offset 64");
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += R"({"a":)";
  EXPECT_EQ(Reserialized(deep_objects),
            "JSON: nesting deeper than 64 at offset 320");
}

TEST(JsonTest, RejectsInputAboveTheSizeLimit) {
  const std::string big = "\"" + std::string((1 << 20) - 2, 'a') + "\"";
  EXPECT_EQ(Reserialized(big), big);
  EXPECT_EQ(Reserialized(big + " "),
            "JSON: input of 1048577 bytes exceeds the limit of 1048576 bytes");
  EXPECT_EQ(Reserialized("[1, 2]", SizeLimit(5)),
            "JSON: input of 6 bytes exceeds the limit of 5 bytes");
}

TEST(JsonTest, RoundTripsBuiltValues) {
  const JsonValue value = JsonValue::MakeObject({
      {"null", JsonValue()},
      {"bool", JsonValue::Bool(true)},
      {"min", JsonValue::Integer(std::numeric_limits<int64_t>::min())},
      {"max", JsonValue::Integer(std::numeric_limits<int64_t>::max())},
      {"text", JsonValue::String(std::string("q\"b\\s/\x01\x1f\x7f\0\xc3\xa9"
                                             "\xf0\x9f\x98\x80",
                                             16))},
      {"esc\"aped\nkey", JsonValue::MakeArray({})},
      {"list", JsonValue::MakeArray(
                   {JsonValue::Integer(1), JsonValue::MakeObject({})})},
  });
  const std::string serialized = SerializeJson(value);
  EXPECT_EQ(serialized, std::string(R"({"null":null,"bool":true,)"
                                    R"("min":-9223372036854775808,)"
                                    R"("max":9223372036854775807,)"
                                    R"("text":"q\"b\\s/\u0001\u001f)") +
                            "\x7f\\u0000\xc3\xa9\xf0\x9f\x98\x80\"," +
                            R"("esc\"aped\nkey":[],"list":[1,{}]})");
  absl::StatusOr<JsonValue> parsed = ParseJson(serialized);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, value);
}

TEST(JsonTest, RoundTripsEveryEscapedControlCharacter) {
  std::string controls;
  for (char c = 0; c < 0x20; ++c) controls += c;
  const JsonValue value = JsonValue::String(controls);
  absl::StatusOr<JsonValue> parsed = ParseJson(SerializeJson(value));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, value);
}

TEST(JsonTest, EqualityIsDeepAndTypeAware) {
  EXPECT_EQ(*ParseJson(R"({"a":[1,{"b":null}]})"),
            *ParseJson(R"({ "a" : [ 1 , { "b" : null } ] })"));
  EXPECT_NE(*ParseJson(R"({"a":1,"b":2})"), *ParseJson(R"({"b":2,"a":1})"));
  EXPECT_NE(*ParseJson("1"), *ParseJson("\"1\""));
  EXPECT_NE(*ParseJson("0"), *ParseJson("false"));
  EXPECT_NE(*ParseJson("null"), *ParseJson("{}"));
}

TEST(JsonTest, AccessorsReturnNothingForOtherTypes) {
  const JsonValue text = JsonValue::String("x");
  EXPECT_EQ(text.type(), JsonValue::Type::kString);
  EXPECT_EQ(text.AsBool(), std::nullopt);
  EXPECT_EQ(text.AsInteger(), std::nullopt);
  EXPECT_EQ(text.AsArray(), nullptr);
  EXPECT_EQ(text.AsObject(), nullptr);
  EXPECT_EQ(text.Find("x"), nullptr);
  EXPECT_EQ(JsonValue().type(), JsonValue::Type::kNull);
  EXPECT_EQ(JsonValue().AsString(), nullptr);
}

TEST(JsonPathTest, NamesMembersAndElements) {
  EXPECT_EQ(JsonPathMember("", "predicate"), "predicate");
  EXPECT_EQ(JsonPathMember("predicate", "referenceValues"),
            "predicate.referenceValues");
  EXPECT_EQ(JsonPathElement("predicate.referenceValues", 2),
            "predicate.referenceValues[2]");
  EXPECT_EQ(JsonPathMember("x[2]", "_type"), "x[2]._type");
  EXPECT_EQ(JsonPathMember("p", "a.b"), "p[\"a.b\"]");
  EXPECT_EQ(JsonPathMember("p", ""), "p[\"\"]");
  EXPECT_EQ(JsonPathMember("p", "q\"\n\xc3\xa9"), "p[\"q\\\"\\n\\xc3\\xa9\"]");
  EXPECT_EQ(JsonPathMember("", "a b"), "[\"a b\"]");
}

TEST(JsonPathTest, ErrorsNameThePath) {
  EXPECT_EQ(JsonPathError("a.b", "bad").message(), "a.b: bad");
  EXPECT_EQ(JsonPathError("", "bad").message(), "bad");
  EXPECT_EQ(JsonPathError("", "bad").code(),
            absl::StatusCode::kInvalidArgument);
}

constexpr absl::string_view kDocument = R"({
  "name": "image",
  "size": 42,
  "signed": true,
  "digest": {"sha256": "ab"},
  "values": [{"kind": "pcr"}, 7],
  "nothing": null
})";

TEST(JsonReaderTest, ReadsRequiredAndOptionalFields) {
  const JsonValue document = *ParseJson(kDocument);
  absl::StatusOr<JsonObjectReader> root =
      ReadJsonAs<JsonObjectReader>(document, "");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root->Required<std::string>("name"), "image");
  EXPECT_EQ(*root->Required<int64_t>("size"), 42);
  EXPECT_EQ(*root->Required<bool>("signed"), true);
  EXPECT_EQ(*root->Optional<std::string>("name"), "image");
  EXPECT_EQ(*root->Optional<std::string>("absent"), std::nullopt);

  absl::StatusOr<JsonObjectReader> digest =
      root->Required<JsonObjectReader>("digest");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(digest->path(), "digest");
  ASSERT_EQ(digest->members().size(), 1u);
  EXPECT_EQ(digest->members()[0].first, "sha256");

  absl::StatusOr<JsonArrayReader> values =
      root->Required<JsonArrayReader>("values");
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(values->size(), 2u);
  absl::StatusOr<JsonObjectReader> first = values->At<JsonObjectReader>(0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first->Required<std::string>("kind"), "pcr");
  EXPECT_EQ(first->MemberPath("kind"), "values[0].kind");
  EXPECT_EQ(*values->At<int64_t>(1), 7);
}

TEST(JsonReaderTest, ErrorsNameTheFieldPath) {
  const JsonValue document = *ParseJson(kDocument);
  const JsonObjectReader root = *ReadJsonAs<JsonObjectReader>(document, "");
  const JsonArrayReader values = *root.Required<JsonArrayReader>("values");

  EXPECT_EQ(root.Required<std::string>("absent").status().message(),
            "absent: missing required field");
  EXPECT_EQ(root.Required<std::string>("size").status().message(),
            "size: expected string, got integer");
  EXPECT_EQ(root.Required<int64_t>("name").status().message(),
            "name: expected integer, got string");
  EXPECT_EQ(root.Required<bool>("size").status().message(),
            "size: expected boolean, got integer");
  EXPECT_EQ(root.Optional<std::string>("nothing").status().message(),
            "nothing: expected string, got null");
  EXPECT_EQ(root.Required<JsonArrayReader>("digest").status().message(),
            "digest: expected array, got object");
  EXPECT_EQ(values.At<JsonObjectReader>(1).status().message(),
            "values[1]: expected object, got integer");
  EXPECT_EQ(values.At<JsonObjectReader>(2).status().message(),
            "values[2]: index out of range");
  EXPECT_EQ(values.At<JsonObjectReader>(0)
                ->Required<int64_t>("kind")
                .status()
                .message(),
            "values[0].kind: expected integer, got string");
  EXPECT_EQ(
      ReadJsonAs<JsonObjectReader>(*ParseJson("[]"), "").status().message(),
      "expected object, got array");
}

TEST(JsonReaderTest, RejectsUnknownFields) {
  const JsonValue document = *ParseJson(kDocument);
  const JsonObjectReader root = *ReadJsonAs<JsonObjectReader>(document, "");
  EXPECT_TRUE(root.RejectUnknownFields(
                      {"name", "size", "signed", "digest", "values", "nothing"})
                  .ok());
  const absl::Status status =
      root.RejectUnknownFields({"name", "size", "signed", "values", "nothing"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "digest: unknown field");
  const JsonObjectReader digest = *root.Required<JsonObjectReader>("digest");
  EXPECT_EQ(digest.RejectUnknownFields({"sha384"}).message(),
            "digest.sha256: unknown field");
}

// The pattern statement/ uses: each step either yields a reader one level
// down or returns an error that already names the path.
absl::Status ReadNestedField(const JsonValue& document) {
  ASSIGN_OR_RETURN(JsonObjectReader root,
                   ReadJsonAs<JsonObjectReader>(document, ""));
  ASSIGN_OR_RETURN(JsonArrayReader a, root.Required<JsonArrayReader>("a"));
  ASSIGN_OR_RETURN(JsonObjectReader element, a.At<JsonObjectReader>(0));
  ASSIGN_OR_RETURN(JsonObjectReader b, element.Required<JsonObjectReader>("b"));
  RETURN_IF_ERROR(b.RejectUnknownFields({"c"}));
  return b.Required<int64_t>("c").status();
}

TEST(JsonReaderTest, ReadersCompose) {
  EXPECT_TRUE(ReadNestedField(*ParseJson(R"({"a":[{"b":{"c":1}}]})")).ok());
  EXPECT_EQ(ReadNestedField(*ParseJson(R"({"a":[{"b":{"c":"x"}}]})")).message(),
            "a[0].b.c: expected integer, got string");
  EXPECT_EQ(
      ReadNestedField(*ParseJson(R"({"a":[{"b":{"c":1,"d":2}}]})")).message(),
      "a[0].b.d: unknown field");
}

}  // namespace
}  // namespace refsum::encoding
