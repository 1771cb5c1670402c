#include "encoding/hex.h"

#include <string>

#include "gtest/gtest.h"

namespace refsum::encoding {
namespace {

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST(HexTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  absl::StatusOr<std::string> decoded = HexDecode(HexEncode(all));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, all);
}

TEST(HexTest, RejectsOddLengthUppercaseAndNonHex) {
  EXPECT_EQ(HexDecode("abc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("AB").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status status = HexDecode("00zz").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("offset 2"), absl::string_view::npos)
      << status;
}

TEST(HexTest, IsLowerHexChecksLengthAndAlphabet) {
  EXPECT_TRUE(IsLowerHex("00ff", 2));
  EXPECT_FALSE(IsLowerHex("00ff", 3));
  EXPECT_FALSE(IsLowerHex("00FF", 2));
  EXPECT_FALSE(IsLowerHex("0g", 1));
}

}  // namespace
}  // namespace refsum::encoding
