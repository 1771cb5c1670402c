#include "measure/calculator.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::measure {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return ReadFile(absl::StrCat(srcdir != nullptr ? srcdir : ".",
                               "/refsum/measure/testdata/sev-snp/", name))
      .value();
}

// The claim's parameters reach the calculator: sev-snp-measure's published
// vectors (testdata/sev-snp/vectors.tsv) for EPYC-v4 with guest features
// 0x1, and for GCE with four vCPUs and an empty kernel and initrd.
TEST(CalculatorTest, SevSnpFromClaimParameters) {
  Calculation c;
  c.calculator = "sev-snp";
  c.algorithm = "sha384";
  c.parameters = {{"vcpus", "1"}, {"vcpu-type", "EPYC-v4"}};
  c.inputs = {{"ovmf", Fixture("ovmf_AmdSev_suffix.bin")}};
  EXPECT_EQ(encoding::HexEncode(Calculate(c).value()),
            "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ec"
            "abe033c48dd6f6db5d6d76e7c5df632d");
  c.parameters = {{"vcpus", "4"}, {"vmm-type", "gce"}};
  c.inputs["kernel"] = "";
  c.inputs["initrd"] = "";
  EXPECT_EQ(encoding::HexEncode(Calculate(c).value()),
            "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452"
            "a15a00eae11886a93d6fd1e7ab81e29d");
}

TEST(CalculatorTest, SeparatorAndErrors) {
  Calculation c;
  c.calculator = "tpm-separator";
  c.algorithm = "sha256";
  EXPECT_EQ(encoding::HexEncode(Calculate(c).value()),
            "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969");
  c.calculator = "tdx-mrtd";
  EXPECT_EQ(Calculate(c).status().code(), absl::StatusCode::kUnimplemented);
  c.calculator = "uki-pcr";
  c.index = 9;
  c.inputs = {{"uki", "MZ"}};
  EXPECT_EQ(Calculate(c).status().code(), absl::StatusCode::kUnimplemented);
  c.calculator = "sev-snp";
  c.algorithm = "sha384";
  c.parameters = {{"vcpus", "four"}};
  EXPECT_THAT(std::string(Calculate(c).status().message()),
              HasSubstr("sev-snp: parameter vcpus: is not a number"));
  c.parameters = {{"vcpus", "1"}, {"vcpu-type", "EPYC"}};
  c.inputs = {{"ovmf", "not an image"}};
  EXPECT_THAT(std::string(Calculate(c).status().message()),
              HasSubstr("the OVMF image is malformed"));
}

}  // namespace
}  // namespace refsum::measure
