#include "statement/fields.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace refsum::statement {
namespace {

TEST(FieldsTest, CheckStringAcceptsPrintableUtf8UpToTheLimit) {
  EXPECT_TRUE(CheckString("", "p").ok());
  EXPECT_TRUE(
      CheckString("os-image v1.2 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "p")
          .ok());
  EXPECT_TRUE(CheckString(std::string(kMaxStringBytes, 'x'), "p").ok());
  // U+00A0, the first code point after the C1 controls.
  EXPECT_TRUE(CheckString("\xc2\xa0", "p").ok());
}

TEST(FieldsTest, CheckStringRejectsWhatCouldMisleadAReader) {
  EXPECT_EQ(CheckString(std::string(kMaxStringBytes + 1, 'x'), "a.b").message(),
            "a.b: longer than 4096 bytes");
  EXPECT_EQ(CheckString("\xc0\xaf", "a.b").message(), "a.b: not valid UTF-8");
  EXPECT_EQ(CheckString("\xed\xa0\x80", "a.b").message(),
            "a.b: not valid UTF-8");
  for (const std::string& controls :
       {std::string("\0", 1), std::string("\t"), std::string("\n"),
        std::string("\x1b[31m"), std::string("\x7f"), std::string("\xc2\x80"),
        std::string("\xc2\x9b"
                    "2J")}) {
    EXPECT_EQ(CheckString("x" + controls, "a.b").message(),
              "a.b: contains a control character");
  }
}

TEST(FieldsTest, CheckNonEmptyAndOptionalString) {
  EXPECT_EQ(CheckNonEmptyString("", "p").message(), "p: must not be empty");
  EXPECT_TRUE(CheckNonEmptyString("x", "p").ok());
  EXPECT_TRUE(CheckOptionalString(std::nullopt, "p").ok());
  EXPECT_TRUE(CheckOptionalString("x", "p").ok());
  EXPECT_EQ(CheckOptionalString("", "p").message(), "p: must not be empty");
  EXPECT_EQ(CheckOptionalString("\n", "p").message(),
            "p: contains a control character");
}

TEST(FieldsTest, CheckUriAcceptsAbsoluteUris) {
  for (const char* uri :
       {"https://github.com/example/os-image", "http://127.0.0.1:8080/repo.git",
        "file:///srv/git/os-image", "git+https://example.com/a",
        "ssh://git@example.com/a.git", "urn:x", "oci://registry/image"}) {
    EXPECT_TRUE(CheckUri(uri, "p").ok()) << uri;
  }
}

TEST(FieldsTest, CheckUriRejectsRelativeAndOddSpellings) {
  for (const char* uri :
       {"github.com/example/os-image", "git@github.com:example/os-image",
        "HTTPS://github.com/example", "https:", ":rest", "1https://x",
        "ht tp://x", "https://example.com/a b", "/srv/git/os-image"}) {
    EXPECT_EQ(CheckUri(uri, "p").message(),
              "p: must be an absolute URI with a lowercase scheme and no "
              "spaces")
        << uri;
  }
  EXPECT_EQ(CheckUri("", "p").message(), "p: must not be empty");
}

TEST(FieldsTest, CheckLowerHexNamesTheLengths) {
  EXPECT_TRUE(CheckLowerHex(std::string(40, 'a'), {20, 32}, "p").ok());
  EXPECT_TRUE(CheckLowerHex(std::string(64, '0'), {20, 32}, "p").ok());
  EXPECT_EQ(CheckLowerHex(std::string(40, 'A'), {20, 32}, "p").message(),
            "p: must be 40 or 64 lowercase hex characters");
  EXPECT_EQ(CheckLowerHex("abc", {32}, "p").message(),
            "p: must be 64 lowercase hex characters");
}

TEST(FieldsTest, AppendOptionalStringOmitsAbsentValues) {
  encoding::JsonValue::Object members;
  AppendOptionalString("tag", std::nullopt, &members);
  EXPECT_TRUE(members.empty());
  AppendOptionalString("tag", "v1", &members);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].first, "tag");
  EXPECT_EQ(members[0].second, encoding::JsonValue::String("v1"));
}

}  // namespace
}  // namespace refsum::statement
