#include "encoding/decimal.h"

#include <cstdint>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace refsum::encoding {
namespace {

TEST(ParseCanonicalDecimalTest, AcceptsCanonicalValues) {
  const struct {
    const char* text;
    uint64_t value;
  } kCases[] = {
      {"0", 0},
      {"7", 7},
      {"20852163", 20852163},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<uint64_t> value = ParseCanonicalDecimal(c.text, "n");
    ASSERT_TRUE(value.ok()) << c.text << ": " << value.status();
    EXPECT_EQ(*value, c.value);
  }
}

TEST(ParseCanonicalDecimalTest, RejectsEverythingElse) {
  const struct {
    const char* text;
    const char* problem;
  } kCases[] = {
      {"", "tree size is empty"},
      {"00", "leading zero"},
      {"007", "leading zero"},
      {"+7", "not a plain decimal"},
      {"-1", "not a plain decimal"},
      {" 7", "not a plain decimal"},
      {"7 ", "not a plain decimal"},
      {"7\n", "not a plain decimal"},
      {"0x10", "not a plain decimal"},
      {"1e3", "not a plain decimal"},
      {"١", "not a plain decimal"},
      {"18446744073709551616", "does not fit in 64 bits"},
      {"99999999999999999999999", "does not fit in 64 bits"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<uint64_t> value =
        ParseCanonicalDecimal(c.text, "tree size");
    ASSERT_FALSE(value.ok()) << c.text;
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(value.status().message().find(c.problem), absl::string_view::npos)
        << c.text << ": " << value.status();
  }
}

}  // namespace
}  // namespace refsum::encoding
