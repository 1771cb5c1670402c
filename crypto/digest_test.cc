#include "crypto/digest.h"

#include <string>

#include "encoding/hex.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

std::string Hex(const std::string& bytes) { return encoding::HexEncode(bytes); }

// FIPS 180-4 example "abc" (NIST CSRC, SHA examples).
TEST(DigestTest, MatchesTheFipsExamples) {
  EXPECT_EQ(Hex(Hash(HashAlgorithm::kSha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Hash(HashAlgorithm::kSha384, "abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Hex(Hash(HashAlgorithm::kSha512, "abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(DigestTest, PartsAndIncrementalAgreeWithOneShot) {
  for (HashAlgorithm algorithm : {HashAlgorithm::kSha256,
                                  HashAlgorithm::kSha384,
                                  HashAlgorithm::kSha512}) {
    const std::string whole = Hash(algorithm, "hello world");
    EXPECT_EQ(whole.size(), DigestSize(algorithm));
    EXPECT_EQ(Hash(algorithm, {"hello", " ", "world"}), whole);
    Hasher hasher(algorithm);
    hasher.Update("hello ");
    hasher.Update("world");
    EXPECT_EQ(hasher.Finish(), whole);
    // Finish starts over.
    hasher.Update("hello world");
    EXPECT_EQ(hasher.Finish(), whole);
  }
}

TEST(DigestTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (HashAlgorithm algorithm : {HashAlgorithm::kSha256,
                                  HashAlgorithm::kSha384,
                                  HashAlgorithm::kSha512}) {
    EXPECT_EQ(ParseHashAlgorithm(HashAlgorithmName(algorithm)).value(),
              algorithm);
  }
  EXPECT_EQ(ParseHashAlgorithm("md5").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHashAlgorithm("SHA256").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refsum::crypto
