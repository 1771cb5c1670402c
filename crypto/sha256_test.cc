#include "crypto/sha256.h"

#include <array>
#include <string>
#include <thread>
#include <vector>

#include "encoding/hex.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

std::string Hex(const Sha256Digest& digest) {
  return encoding::HexEncode(DigestBytes(digest));
}

// FIPS 180-2 appendix B vectors.
TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Hex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, PartsHashLikeTheirConcatenation) {
  EXPECT_EQ(Sha256({"ab", "", "c"}), Sha256("abc"));
  EXPECT_EQ(Sha256({}), Sha256(""));
}

TEST(Sha256Test, HasherIsIncrementalAndReusable) {
  Sha256Hasher hasher;
  hasher.Update("a");
  hasher.Update("bc");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
  hasher.Update("abc");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
  EXPECT_EQ(hasher.Finish(), Sha256(""));
}

TEST(Sha256Test, ThreadsHashIndependently) {
  std::vector<std::thread> threads;
  // Not std::vector<bool>: its elements share words, so threads writing
  // different elements would race.
  std::array<bool, 4> ok = {};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &ok] {
      const std::string data(100 + t, static_cast<char>('a' + t));
      const Sha256Digest expected = Sha256(data);
      bool all_equal = true;
      for (int i = 0; i < 1000; ++i) all_equal &= Sha256(data) == expected;
      ok[t] = all_equal;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(ok[t]) << t;
}

}  // namespace
}  // namespace refsum::crypto
