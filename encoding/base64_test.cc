#include "encoding/base64.h"

#include <string>

#include "gtest/gtest.h"

namespace refsum::encoding {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
      {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    absl::StatusOr<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsAllLengthsAndBytes) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data += static_cast<char>(i * 7);
    absl::StatusOr<std::string> decoded = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, data);
  }
}

TEST(Base64Test, RejectsMalformedInput) {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "Zg=A", "=Zg=", "Zm 9v",
                          "Zm9v\n", "Zm-_", "Zh==", "Zm9=", "====",
                          "Zm9vYmFy===="}) {
    absl::Status status = Base64Decode(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Base64Test, ErrorsNameTheProblem) {
  EXPECT_NE(Base64Decode("Zm9").status().message().find("multiple of 4"),
            absl::string_view::npos);
  EXPECT_NE(Base64Decode("Zm!v").status().message().find("offset 2"),
            absl::string_view::npos);
  EXPECT_NE(Base64Decode("Zh==").status().message().find("canonical"),
            absl::string_view::npos);
}

TEST(Base64Test, StdOrUrlAcceptsBothAlphabetsWithOrWithoutPadding) {
  const std::string bytes("\xfb\xff\xbf", 3);  // "+/+/" and "-_-_"
  for (const char* text : {"+/+/", "-_-_"}) {
    absl::StatusOr<std::string> decoded = Base64DecodeStdOrUrl(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status();
    EXPECT_EQ(*decoded, bytes);
  }
  for (const char* text : {"Zm8=", "Zm8", "Zg==", "Zg"}) {
    EXPECT_TRUE(Base64DecodeStdOrUrl(text).ok()) << text;
  }
  EXPECT_EQ(*Base64DecodeStdOrUrl("Zm9vYg"), "foob");
}

TEST(Base64Test, StdOrUrlRejectsMixingAndMalformedInput) {
  EXPECT_EQ(Base64DecodeStdOrUrl("+/-_").status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* text : {"Z", "Zh", "Zm9=A", "Zm 9v", "Z==="}) {
    EXPECT_FALSE(Base64DecodeStdOrUrl(text).ok()) << text;
  }
}

}  // namespace
}  // namespace refsum::encoding
