#include "measure/tpm.h"

#include <string>
#include <vector>

#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::measure {
namespace {

using crypto::HashAlgorithm;
using ::testing::HasSubstr;

std::string Hex(const std::string& bytes) { return encoding::HexEncode(bytes); }
std::string Sha256(absl::string_view data) {
  return crypto::Hash(HashAlgorithm::kSha256, data);
}

// The values below are from the unit tests of edgelesssys/constellation's
// image/measured-boot/measure (../shared/vectors/README.md, tpm-uki/).

TEST(TpmTest, Pcr4OfTheBootOptionEvents) {
  EXPECT_EQ(Hex(PcrOfDigests(HashAlgorithm::kSha256,
                             {Sha256(kBootOptionAction),
                              SeparatorDigest(HashAlgorithm::kSha256),
                              std::string(32, '\0'), std::string(32, '\1')})
                    .value()),
            "22116dee861aa6b44242ac469eab24cead344d52c77131f54ac1cac9d6a2408e");
}

TEST(TpmTest, Pcr9OfACommandLineAndAnInitrd) {
  EXPECT_EQ(
      Hex(PcrOfDigests(HashAlgorithm::kSha256,
                       {CommandLineDigest(HashAlgorithm::kSha256,
                                          "console=tty0")
                            .value(),
                        std::string(32, '\0')})
              .value()),
      "eb4f7bca865807d3163b95174d6e66cfc74acf8b930a553e95ec94662cb6facd");
}

TEST(TpmTest, Pcr11OfUkiSectionDigests) {
  EXPECT_EQ(
      Hex(PcrOfDigests(HashAlgorithm::kSha256,
                       {Sha256(std::string(".linux\0", 7)),
                        std::string(32, '\0'),
                        Sha256(std::string(".initrd\0", 8)),
                        std::string(32, '\1')})
              .value()),
      "9dfe399fcd4432639f0e20f49df823aa66b095f0664f0a4b9fbdc11ea64683e2");
}

TEST(TpmTest, SeparatorOnlyPcr) {
  EXPECT_EQ(Hex(SeparatorOnlyPcr(HashAlgorithm::kSha256)),
            "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969");
}

TEST(TpmTest, BadSizesAndInputsAreRefused) {
  EXPECT_EQ(ExtendPcr(HashAlgorithm::kSha384, std::string(32, '\0'),
                      std::string(48, '\0'))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CommandLineDigest(HashAlgorithm::kSha256, "\xff").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(UkiPcr11(HashAlgorithm::kSha256, "MZ",
                                   {".linux", ".pcrsig"})
                              .status()
                              .message()),
              HasSubstr(".pcrsig is never measured"));
  EXPECT_THAT(std::string(UkiPcr11(HashAlgorithm::kSha256, "MZ",
                                   {".linux", ".linux"})
                              .status()
                              .message()),
              HasSubstr("twice"));
  EXPECT_THAT(std::string(UkiPcr4(HashAlgorithm::kSha256, "not a PE")
                              .status()
                              .message()),
              HasSubstr("no DOS header"));
}

}  // namespace
}  // namespace refsum::measure
