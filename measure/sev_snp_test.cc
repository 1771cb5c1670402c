#include "measure/sev_snp.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::measure {
namespace {

using ::testing::HasSubstr;

std::string Testdata(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".",
                      "/refsum/measure/testdata/sev-snp/", name);
}

std::string ReadTestdata(const std::string& name) {
  absl::StatusOr<std::string> contents = ReadFile(Testdata(name));
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.value_or("");
}

// One row of vectors.tsv (see its header): sev-snp-measure 0.0.13's own
// expected launch digests.
struct Vector {
  std::string line;
  std::string ovmf;
  SnpLaunchInputs inputs;
  std::string expected_hex;
};

std::vector<Vector> Vectors() {
  std::vector<Vector> vectors;
  for (absl::string_view line :
       absl::StrSplit(ReadTestdata("vectors.tsv"), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    EXPECT_EQ(f.size(), 10u) << line;
    if (f.size() != 10) continue;
    Vector v;
    v.line = std::string(line);
    v.ovmf = f[0];
    EXPECT_TRUE(absl::SimpleAtoi(f[1], &v.inputs.vcpus)) << line;
    if (f[2] != "-") v.inputs.vcpu_signature = QemuCpuSignature(f[2]).value();
    v.inputs.vmm = ParseVmmType(f[3]).value();
    if (f[4] != "-") {
      SnpKernel kernel;
      EXPECT_EQ(f[4], "empty");
      if (f[5] != "-") kernel.initrd = "";
      if (f[6] != "-") kernel.append = f[6];
      v.inputs.kernel = kernel;
    }
    EXPECT_TRUE(absl::SimpleHexAtoi(f[7], &v.inputs.guest_features)) << line;
    if (f[8] != "-") v.inputs.ovmf_hash = encoding::HexDecode(f[8]).value();
    v.expected_hex = f[9];
    vectors.push_back(std::move(v));
  }
  return vectors;
}

TEST(SevSnpTest, PublishedVectors) {
  const std::vector<Vector> vectors = Vectors();
  ASSERT_EQ(vectors.size(), 14u);
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.line);
    absl::StatusOr<std::string> digest =
        SnpLaunchDigest(ReadTestdata(v.ovmf), v.inputs);
    ASSERT_TRUE(digest.ok()) << digest.status();
    EXPECT_EQ(encoding::HexEncode(*digest), v.expected_hex);
  }
}

// The intermediate OVMF hash sev-snp-measure publishes for the AmdSev
// fixture.
TEST(SevSnpTest, OvmfHashOfThePublishedFixture) {
  absl::StatusOr<std::string> hash =
      SnpOvmfHash(ReadTestdata("ovmf_AmdSev_suffix.bin"));
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(encoding::HexEncode(*hash),
            "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa"
            "16aff8c374c2a55c467a50da6d466b74");
}

// As sev-snp-measure refuses it: OvmfX64 has no kernel hashes section.
TEST(SevSnpTest, KernelHashesNeedTheirSection) {
  SnpLaunchInputs inputs;
  inputs.vcpu_signature = QemuCpuSignature("EPYC-v4").value();
  inputs.kernel = SnpKernel{"", std::string(), std::string()};
  absl::StatusOr<std::string> digest =
      SnpLaunchDigest(ReadTestdata("ovmf_OvmfX64_suffix.bin"), inputs);
  EXPECT_EQ(digest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(digest.status().message()),
              HasSubstr("SNP_KERNEL_HASHES"));
}

// The QEMU models' signatures as the vectors README gives them
// (family/model/stepping), and CPUID's encoding of them.
TEST(SevSnpTest, CpuSignatures) {
  EXPECT_EQ(QemuCpuSignature("EPYC-v4").value(), 0x800f12u);
  EXPECT_EQ(QemuCpuSignature("EPYC-Rome").value(), 0x830f10u);
  EXPECT_EQ(QemuCpuSignature("EPYC-Milan-v2").value(), 0xa00f11u);
  EXPECT_EQ(QemuCpuSignature("EPYC-Genoa").value(), 0xa10f10u);
  EXPECT_EQ(QemuCpuSignature("EPYC-Turin").value(), 0xb00f00u);
  EXPECT_EQ(QemuCpuSignature("Opteron").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace refsum::measure
