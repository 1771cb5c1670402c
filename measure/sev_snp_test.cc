#include "measure/sev_snp.h"

#include <cstdlib>
#include <functional>
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


// Malformed images, each made from the AmdSev fixture by changing the bytes
// the comment names (offsets within its 4 KiB: the footer entry at 4046,
// the SEV-ES reset block entry's header at 4028 with its data at 4024, the
// SEV metadata entry's data at 3950, the "ASEV" header at 2732 and its
// 12-byte section descriptors from 2748).
struct Damage {
  std::string name;
  std::function<void(std::string&)> apply;
  std::string problem;
};

void PutU32(std::string& image, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) image[at + i] = static_cast<char>(value >> (8 * i));
}

void PutU16(std::string& image, size_t at, uint16_t value) {
  image[at] = static_cast<char>(value);
  image[at + 1] = static_cast<char>(value >> 8);
}

TEST(SevSnpTest, MalformedImagesAreRefusedNamingTheProblem) {
  const std::string fixture = ReadTestdata("ovmf_AmdSev_suffix.bin");
  ASSERT_EQ(fixture.size(), 4096u);
  ASSERT_EQ(fixture.substr(2732, 4), "ASEV");
  constexpr size_t kItems = 2748;
  const std::vector<Damage> damages = {
      {"truncated", [](std::string& i) { i.resize(2048); },
       "not a whole number of 4 KiB pages"},
      {"empty", [](std::string& i) { i.clear(); },
       "not a whole number of 4 KiB pages"},
      {"no footer", [](std::string& i) { i.assign(4096, '\0'); },
       "no GUIDed footer table"},
      {"footer table past the start",
       [](std::string& i) { PutU16(i, 4046, 0xffff); },
       "runs past the start of the image"},
      {"entry smaller than its header",
       [](std::string& i) { PutU16(i, 4028, 5); }, "smaller than its header"},
      {"entry larger than the table",
       [](std::string& i) { PutU16(i, 4028, 200); },
       "larger than what is left of the table"},
      {"duplicate GUID",
       [](std::string& i) { i.replace(3934, 16, i.substr(4030, 16)); },
       "twice"},
      {"metadata offset outside the image",
       [](std::string& i) { PutU32(i, 3950, 5000); }, "outside the image"},
      {"metadata signature", [](std::string& i) { i[2732] = 'X'; }, "ASEV"},
      {"metadata version", [](std::string& i) { PutU32(i, 2740, 2); },
       "version 2 is not 1"},
      {"metadata size past the end",
       [](std::string& i) { PutU32(i, 2736, 2000); },
       "runs past the end of the image"},
      {"more sections than bytes",
       [](std::string& i) { PutU32(i, 2744, 20); }, "more than its"},
      {"too many sections",
       [](std::string& i) { PutU32(i, 2744, 100000); }, "more than 64"},
      {"zero-size section", [](std::string& i) { PutU32(i, kItems + 4, 0); },
       "section 0 is empty"},
      {"unaligned section",
       [](std::string& i) { PutU32(i, kItems, 0x800001); },
       "is not page-aligned"},
      {"overlapping sections",
       [](std::string& i) { PutU32(i, kItems + 12, 0x800000); },
       "overlaps an earlier section"},
      {"section beyond 4 GiB",
       [](std::string& i) {
         PutU32(i, kItems, 0xfffff000);
         PutU32(i, kItems + 4, 0x2000);
       },
       "reaches beyond 4 GiB"},
      {"unknown section type", [](std::string& i) { PutU32(i, kItems + 8, 7); },
       "unknown SEV metadata section type 7"},
      {"no reset block", [](std::string& i) { i[4030] ^= 1; },
       "no SEV-ES reset block"},
  };
  SnpLaunchInputs inputs;
  inputs.vcpu_signature = QemuCpuSignature("EPYC-v4").value();
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    std::string image = fixture;
    damage.apply(image);
    const absl::StatusOr<std::string> digest = SnpLaunchDigest(image, inputs);
    ASSERT_EQ(digest.status().code(), absl::StatusCode::kInvalidArgument)
        << digest.status();
    EXPECT_THAT(std::string(digest.status().message()),
                HasSubstr(damage.problem));
  }
}

TEST(SevSnpTest, BadInputsAreRefused) {
  const std::string fixture = ReadTestdata("ovmf_AmdSev_suffix.bin");
  SnpLaunchInputs inputs;
  inputs.vcpus = 0;
  EXPECT_THAT(std::string(SnpLaunchDigest(fixture, inputs).status().message()),
              HasSubstr("vcpus 0"));
  inputs.vcpus = 1;
  inputs.guest_features = 0x20;
  EXPECT_THAT(std::string(SnpLaunchDigest(fixture, inputs).status().message()),
              HasSubstr("SNP active"));
  inputs.guest_features = 1;
  inputs.ovmf_hash = std::string(47, 'x');
  EXPECT_THAT(std::string(SnpLaunchDigest(fixture, inputs).status().message()),
              HasSubstr("47 bytes"));
  EXPECT_EQ(ParseVmmType("kvm").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVmmType("QEMU").value(), VmmType::kQemu);
}

}  // namespace
}  // namespace refsum::measure
