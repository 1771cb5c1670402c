#include "encoding/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace refsum::encoding {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const char* text :
       {"", "ascii", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "\xe2\x80\x94 em dash", "\xe8\xaa\x9e"}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
  }
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
}

TEST(Utf8Test, RejectsMalformedText) {
  for (const char* text : {
           "\x80",              // lone continuation byte
           "\xc0\x80",          // overlong NUL
           "\xc1\xbf",          // overlong
           "\xe0\x9f\xbf",      // overlong 3-byte
           "\xed\xa0\x80",      // UTF-16 surrogate U+D800
           "\xed\xbf\xbf",      // surrogate U+DFFF
           "\xf0\x8f\xbf\xbf",  // overlong 4-byte
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",  // invalid lead byte
           "\xff",              // invalid byte
           "\xc2",              // truncated
           "\xe2\x80",          // truncated
           "\xf0\x90\x80",      // truncated
           "\xe2\x28\xa1",      // bad continuation
           "ok\xc2",            // truncated at the end
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << testing::PrintToString(text);
  }
}

TEST(Utf8Test, SequenceLengthMatchesLeadByte) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc2\xa9"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x80\x94"), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf"), 0u);
}

}  // namespace
}  // namespace refsum::encoding
