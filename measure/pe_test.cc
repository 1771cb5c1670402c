#include "measure/pe.h"

#include <functional>
#include <string>
#include <vector>

#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::measure {
namespace {

using ::testing::HasSubstr;

// Debian 12's systemd-stub (package systemd-boot-efi, which
// deploy/install-deps.sh installs): a real PE32+ image with 8 sections,
// its section table at 392, each 40-byte header {name, VirtualSize,
// VirtualAddress, SizeOfRawData, PointerToRawData, ...}.
constexpr char kStub[] = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";

std::string Stub() {
  absl::StatusOr<std::string> stub = ReadFile(kStub);
  EXPECT_TRUE(stub.ok()) << stub.status()
                         << " (deploy/install-deps.sh installs it)";
  return stub.value_or("");
}

void PutU32(std::string& file, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) file[at + i] = static_cast<char>(value >> (8 * i));
}

TEST(PeTest, ParsesTheSectionTable) {
  const std::string stub = Stub();
  absl::StatusOr<PeImage> image = PeImage::Parse(stub);
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->sections().size(), 8u);
  const PeSection* sbat = image->Find(".sbat");
  ASSERT_NE(sbat, nullptr);
  EXPECT_EQ(sbat->raw_offset, 69632u);
  // .sbat is text: "sbat,1,..." as Debian's stub carries it.
  absl::StatusOr<std::string> contents = image->LoadedContents(*sbat);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->size(), sbat->virtual_size);
  EXPECT_EQ(contents->substr(0, 5), "sbat,");
  EXPECT_EQ(image->Find(".linux"), nullptr);
}

struct Damage {
  std::string name;
  std::function<void(std::string&)> apply;
  std::string problem;
};

TEST(PeTest, MalformedImagesAreRefusedNamingTheProblem) {
  const std::string stub = Stub();
  constexpr size_t kTable = 392;
  const std::vector<Damage> damages = {
      {"empty", [](std::string& f) { f.clear(); }, "no DOS header"},
      {"truncated optional header", [](std::string& f) { f.resize(300); },
       "optional header runs past the end"},
      {"truncated headers", [](std::string& f) { f.resize(500); },
       "SizeOfHeaders 1024 does not cover"},
      {"truncated section table",
       [](std::string& f) {
         PutU32(f, 128 + 24 + 60, 450);  // SizeOfHeaders
         f.resize(600);
       },
       "section table runs past the end"},
      {"no MZ", [](std::string& f) { f[0] = 'X'; }, "no DOS header"},
      {"e_lfanew past the end",
       [](std::string& f) { PutU32(f, 0x3c, 0x7fffffff); },
       "no PE signature"},
      {"bad optional magic", [](std::string& f) { f[128 + 24] = 7; },
       "neither PE32 nor PE32+"},
      {"too many sections",
       [](std::string& f) {
         f[128 + 6] = static_cast<char>(200);
         f[128 + 7] = 0;
       },
       "more than 96"},
      {"section data past the end",
       [](std::string& f) { PutU32(f, kTable + 20, 0x7fffff00); },
       "raw data past the end of the file"},
      {"overlapping sections",
       [](std::string& f) { PutU32(f, kTable + 40 + 20, 1024); },
       "overlaps section \".text\""},
      {"SizeOfHeaders past the end",
       [](std::string& f) { PutU32(f, 128 + 24 + 60, 0x7fffffff); },
       "SizeOfHeaders"},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    std::string file = stub;
    damage.apply(file);
    absl::StatusOr<PeImage> image = PeImage::Parse(file);
    ASSERT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument)
        << image.status();
    EXPECT_THAT(std::string(image.status().message()),
                HasSubstr(damage.problem));
  }
}

TEST(PeTest, ZeroFilledContentsAreRefused) {
  std::string stub = Stub();
  // .sbat's VirtualSize (at its header + 8) made larger than its raw data.
  PutU32(stub, 392 + 6 * 40 + 8, 0x40000000);
  absl::StatusOr<PeImage> image = PeImage::Parse(stub);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(
      std::string(image->LoadedContents(*image->Find(".sbat")).status().message()),
      HasSubstr("more than its 512 bytes of data"));
}

}  // namespace
}  // namespace refsum::measure
