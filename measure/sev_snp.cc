#include "measure/sev_snp.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "crypto/digest.h"
#include "encoding/hex.h"
#include "measure/little_endian.h"

namespace refsum::measure {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kFourGiB = uint64_t{1} << 32;
// Where the SNP firmware measures every VMSA page.
constexpr uint64_t kVmsaGpa = 0xFFFFFFFFF000;
// The boot processor starts at the reset vector.
constexpr uint32_t kBspEip = 0xfffffff0;
constexpr int kMaxVcpus = 512;

// SNP_LAUNCH_UPDATE page types (SNP firmware ABI, PAGE_INFO.PAGE_TYPE).
enum class PageType : uint8_t {
  kNormal = 1,
  kVmsa = 2,
  kZero = 3,
  kUnmeasured = 4,
  kSecrets = 5,
  kCpuid = 6,
};

// OVMF's footer table: it ends 32 bytes before the end of the image, with
// an entry {u16 size, GUID} whose size covers the whole table; every entry
// is {data, u16 size, GUID}, its size counting all three, read backwards
// from the footer.
constexpr size_t kEntryHeaderSize = 18;
constexpr size_t kFooterOffsetFromEnd = 32;
constexpr char kFooterGuid[] = "96b582de-1fb2-45f7-baea-a366c55a082d";
constexpr char kSevMetadataGuid[] = "dc886566-984a-4798-a75e-5585a7bf67cc";
constexpr char kSevEsResetBlockGuid[] = "00f771de-1a7e-4fcb-890e-68c77e2fb44e";
constexpr char kSevHashTableGuid[] = "7255371f-3a3b-4b04-927b-1da6efa8d454";
// The SEV hashes table (OVMF's SEV_HASH_TABLE) and its entries.
constexpr char kHashTableHeaderGuid[] = "9438d606-4f22-4cc9-b479-a793d411fd21";
constexpr char kKernelEntryGuid[] = "4de79437-abd2-427f-b835-d5b172d2045b";
constexpr char kInitrdEntryGuid[] = "44baf731-3a2f-4bd7-9af1-41e29169781d";
constexpr char kCmdlineEntryGuid[] = "97d02dd8-bd20-4c94-aa78-e7714d36ab2a";

// A GUID in its byte order in memory (the first three fields
// little-endian), from its text form.
std::string GuidBytes(absl::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c != '-') hex.push_back(c);
  }
  const std::string big_endian = encoding::HexDecode(hex).value();
  std::string bytes = big_endian;
  std::reverse(bytes.begin(), bytes.begin() + 4);
  std::reverse(bytes.begin() + 4, bytes.begin() + 6);
  std::reverse(bytes.begin() + 6, bytes.begin() + 8);
  return bytes;
}

std::string Le(uint64_t value, int bytes) {
  std::string out(bytes, '\0');
  PutLe(out, 0, value, bytes);
  return out;
}

absl::Status Malformed(absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("the OVMF image is malformed: ", problem));
}

// The footer table's entries by GUID (bytes), each GUID at most once.
absl::StatusOr<std::vector<std::pair<std::string, absl::string_view>>>
ParseFooterTable(absl::string_view image) {
  std::vector<std::pair<std::string, absl::string_view>> entries;
  if (image.size() < kFooterOffsetFromEnd + kEntryHeaderSize) {
    return Malformed(absl::StrCat("it is ", image.size(),
                                  " bytes, too short for a footer table"));
  }
  const size_t footer = image.size() - kFooterOffsetFromEnd - kEntryHeaderSize;
  if (image.substr(footer + 2, 16) != GuidBytes(kFooterGuid)) {
    return Malformed("it has no GUIDed footer table (OVMF_TABLE_FOOTER_GUID)");
  }
  const size_t table_size = Le16(image, footer);
  if (table_size < kEntryHeaderSize || table_size - kEntryHeaderSize > footer) {
    return Malformed(absl::StrCat("the footer table's size ", table_size,
                                  " runs past the start of the image"));
  }
  absl::string_view table =
      image.substr(footer - (table_size - kEntryHeaderSize),
                   table_size - kEntryHeaderSize);
  // Each entry takes at least its header off the end, so this ends.
  while (!table.empty()) {
    if (table.size() < kEntryHeaderSize) {
      return Malformed(absl::StrCat("the footer table has ", table.size(),
                                    " bytes left, less than an entry header"));
    }
    const size_t header = table.size() - kEntryHeaderSize;
    const size_t size = Le16(table, header);
    std::string guid(table.substr(header + 2, 16));
    if (size < kEntryHeaderSize || size > table.size()) {
      return Malformed(absl::StrCat(
          "a footer table entry's size ", size, " is ",
          size < kEntryHeaderSize ? "smaller than its header"
                                  : "larger than what is left of the table"));
    }
    for (const auto& [other, data] : entries) {
      if (other == guid) {
        return Malformed(absl::StrCat("the footer table names GUID ",
                                      encoding::HexEncode(guid), " twice"));
      }
    }
    entries.emplace_back(std::move(guid),
                         table.substr(table.size() - size,
                                      size - kEntryHeaderSize));
    table.remove_suffix(size);
  }
  return entries;
}

// The entry's first four bytes, little-endian.
absl::StatusOr<std::optional<uint32_t>> EntryU32(
    const std::vector<std::pair<std::string, absl::string_view>>& entries,
    absl::string_view guid_text, absl::string_view what) {
  const std::string guid = GuidBytes(guid_text);
  for (const auto& [other, data] : entries) {
    if (other != guid) continue;
    if (data.size() < 4) {
      return Malformed(absl::StrCat("the ", what, " entry holds ", data.size(),
                                    " bytes, less than 4"));
    }
    return std::optional<uint32_t>(Le32(data, 0));
  }
  return std::optional<uint32_t>();
}

absl::StatusOr<SnpSectionType> SectionType(uint32_t value) {
  switch (value) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 0x10:
      return static_cast<SnpSectionType>(value);
  }
  return Malformed(absl::StrCat("unknown SEV metadata section type ", value));
}

// The launch digest as it grows page by page.
class LaunchDigest {
 public:
  explicit LaunchDigest(std::string seed = std::string(kSnpDigestSize, '\0'))
      : digest_(std::move(seed)) {}

  void Update(PageType type, uint64_t gpa, absl::string_view contents) {
    std::string page_info;
    page_info.reserve(0x70);
    page_info.append(digest_);
    page_info.append(contents.data(), contents.size());
    page_info.append(Le(0x70, 2));
    page_info.push_back(static_cast<char>(type));
    // IMI page, VMPL3, VMPL2 and VMPL1 permissions, reserved.
    page_info.append(5, '\0');
    page_info.append(Le(gpa, 8));
    digest_ = crypto::Hash(crypto::HashAlgorithm::kSha384, page_info);
  }

  void NormalPages(uint64_t gpa, absl::string_view data) {
    for (size_t offset = 0; offset < data.size(); offset += kPageSize) {
      Update(PageType::kNormal, gpa + offset,
             crypto::Hash(crypto::HashAlgorithm::kSha384,
                          data.substr(offset, kPageSize)));
    }
  }

  void Pages(PageType type, uint64_t gpa, uint64_t size) {
    const std::string zeros(kSnpDigestSize, '\0');
    for (uint64_t offset = 0; offset < size; offset += kPageSize) {
      Update(type, gpa + offset, zeros);
    }
  }

  const std::string& digest() const { return digest_; }

 private:
  std::string digest_;
};

// The page holding the SEV hashes table at `offset` (OVMF's
// SEV_HASH_TABLE: a header GUID and length, then one {GUID, length,
// SHA-256} entry each for the command line, initrd and kernel, padded to
// 16 bytes).
absl::StatusOr<std::string> KernelHashesPage(const SnpKernel& kernel,
                                             uint32_t offset) {
  constexpr size_t kEntrySize = 16 + 2 + 32;
  constexpr size_t kTableSize = 16 + 2 + 3 * kEntrySize;
  constexpr size_t kPaddedSize = (kTableSize + 15) / 16 * 16;
  if (offset + kPaddedSize > kPageSize) {
    return Malformed(absl::StrCat("the SEV hashes table at page offset ",
                                  offset, " does not fit its page"));
  }
  const auto sha256 = [](absl::string_view data) {
    return crypto::Hash(crypto::HashAlgorithm::kSha256, data);
  };
  const auto entry = [&](absl::string_view guid, absl::string_view data) {
    return absl::StrCat(GuidBytes(guid), Le(kEntrySize, 2), sha256(data));
  };
  const std::string cmdline =
      kernel.append.has_value() ? absl::StrCat(*kernel.append, std::string(1, '\0'))
                                : std::string(1, '\0');
  std::string table = absl::StrCat(
      GuidBytes(kHashTableHeaderGuid), Le(kTableSize, 2),
      entry(kCmdlineEntryGuid, cmdline),
      entry(kInitrdEntryGuid, kernel.initrd.value_or("")),
      entry(kKernelEntryGuid, kernel.kernel));
  table.resize(kPaddedSize, '\0');
  std::string page(kPageSize, '\0');
  page.replace(offset, table.size(), table);
  return page;
}

void PutSegment(std::string& vmsa, size_t at, uint16_t selector,
                uint16_t attributes, uint32_t limit, uint64_t base) {
  PutLe(vmsa, at, selector, 2);
  PutLe(vmsa, at + 2, attributes, 2);
  PutLe(vmsa, at + 4, limit, 4);
  PutLe(vmsa, at + 8, base, 8);
}

// A vCPU's initial VMSA page: the SEV-ES save area (AMD APM Vol. 2, Table
// B-4) in the state each VMM gives a vCPU at reset. QEMU: KVM's reset state
// with the CPUID signature in RDX and the x87/SSE control words KVM sets
// since Linux 6.9. EC2: its own segment attributes, RDX 0x600 and no
// control words. GCE: QEMU's segments, RDX 0x600, no control words and the
// PAT its hypervisor writes (0x70106, as Google's gce-tcb-verifier states).
// sev-snp-measure 0.0.13's published vectors pin all three.
std::string VmsaPage(uint32_t eip, const SnpLaunchInputs& inputs) {
  uint16_t cs_attributes = 0x9b;
  uint16_t ss_attributes = 0x93;
  uint16_t tr_attributes = 0x8b;
  uint64_t rdx = inputs.vcpu_signature;
  uint32_t mxcsr = 0x1f80;
  uint16_t x87_fcw = 0x37f;
  uint64_t g_pat = 0x0007040600070406;
  switch (inputs.vmm) {
    case VmmType::kQemu:
      break;
    case VmmType::kEc2:
      cs_attributes = eip == kBspEip ? 0x9a : 0x9b;
      ss_attributes = 0x92;
      tr_attributes = 0x83;
      rdx = 0x600;
      mxcsr = 0;
      x87_fcw = 0;
      break;
    case VmmType::kGce:
      rdx = 0x600;
      mxcsr = 0;
      x87_fcw = 0;
      g_pat = 0x00070106;
      break;
  }
  std::string vmsa(kPageSize, '\0');
  PutSegment(vmsa, 0x00, 0, 0x93, 0xffff, 0);  // es
  PutSegment(vmsa, 0x10, 0xf000, cs_attributes, 0xffff,
             eip & 0xffff0000u);                         // cs
  PutSegment(vmsa, 0x20, 0, ss_attributes, 0xffff, 0);  // ss
  PutSegment(vmsa, 0x30, 0, 0x93, 0xffff, 0);           // ds
  PutSegment(vmsa, 0x40, 0, 0x93, 0xffff, 0);           // fs
  PutSegment(vmsa, 0x50, 0, 0x93, 0xffff, 0);           // gs
  PutSegment(vmsa, 0x60, 0, 0, 0xffff, 0);              // gdtr
  PutSegment(vmsa, 0x70, 0, 0x82, 0xffff, 0);           // ldtr
  PutSegment(vmsa, 0x80, 0, 0, 0xffff, 0);              // idtr
  PutSegment(vmsa, 0x90, 0, tr_attributes, 0xffff, 0);  // tr
  PutLe(vmsa, 0xd0, 0x1000, 8);                         // efer: SVME
  PutLe(vmsa, 0x148, 0x40, 8);                          // cr4: MCE
  PutLe(vmsa, 0x158, 0x10, 8);                          // cr0: ET
  PutLe(vmsa, 0x160, 0x400, 8);                         // dr7
  PutLe(vmsa, 0x168, 0xffff0ff0, 8);                    // dr6
  PutLe(vmsa, 0x170, 0x2, 8);                           // rflags
  PutLe(vmsa, 0x178, eip & 0xffff, 8);                  // rip
  PutLe(vmsa, 0x268, g_pat, 8);                         // g_pat
  PutLe(vmsa, 0x310, rdx, 8);                           // rdx
  PutLe(vmsa, 0x3b0, inputs.guest_features, 8);         // sev_features
  PutLe(vmsa, 0x3e8, 0x1, 8);                           // xcr0
  PutLe(vmsa, 0x408, mxcsr, 4);                         // mxcsr
  PutLe(vmsa, 0x410, x87_fcw, 2);                       // x87_fcw
  return vmsa;
}

absl::Status CheckImageSize(absl::string_view image) {
  if (image.empty() || image.size() % kPageSize != 0 ||
      image.size() > kFourGiB) {
    return Malformed(absl::StrCat("its size ", image.size(),
                                  " is not a whole number of 4 KiB pages "
                                  "below 4 GiB"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VmmType> ParseVmmType(absl::string_view name) {
  if (name == "qemu" || name == "QEMU") return VmmType::kQemu;
  if (name == "ec2") return VmmType::kEc2;
  if (name == "gce") return VmmType::kGce;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown VMM type \"", absl::CHexEscape(name), "\" (qemu, ec2, gce)"));
}

uint32_t CpuSignature(uint32_t family, uint32_t model, uint32_t stepping) {
  uint32_t family_low = family;
  uint32_t family_high = 0;
  if (family > 0xf) {
    family_low = 0xf;
    family_high = (family - 0xf) & 0xff;
  }
  return family_high << 20 | ((model >> 4) & 0xf) << 16 | family_low << 8 |
         (model & 0xf) << 4 | (stepping & 0xf);
}

absl::StatusOr<uint32_t> QemuCpuSignature(absl::string_view model) {
  struct Model {
    const char* name;
    uint32_t family, model, stepping;
  };
  static constexpr Model kModels[] = {
      {"EPYC", 23, 1, 2},          {"EPYC-v1", 23, 1, 2},
      {"EPYC-v2", 23, 1, 2},       {"EPYC-IBPB", 23, 1, 2},
      {"EPYC-v3", 23, 1, 2},       {"EPYC-v4", 23, 1, 2},
      {"EPYC-Rome", 23, 49, 0},    {"EPYC-Rome-v1", 23, 49, 0},
      {"EPYC-Rome-v2", 23, 49, 0}, {"EPYC-Rome-v3", 23, 49, 0},
      {"EPYC-Milan", 25, 1, 1},    {"EPYC-Milan-v1", 25, 1, 1},
      {"EPYC-Milan-v2", 25, 1, 1}, {"EPYC-Genoa", 25, 17, 0},
      {"EPYC-Genoa-v1", 25, 17, 0}, {"EPYC-Turin", 26, 0, 0},
  };
  for (const Model& m : kModels) {
    if (model == m.name) return CpuSignature(m.family, m.model, m.stepping);
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown vCPU type \"", absl::CHexEscape(model),
      "\" (EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome[-v1..v3], "
      "EPYC-Milan[-v1, -v2], EPYC-Genoa[-v1], EPYC-Turin)"));
}

absl::StatusOr<OvmfSevInfo> ParseOvmf(absl::string_view image) {
  RETURN_IF_ERROR(CheckImageSize(image));
  OvmfSevInfo info;
  info.gpa = kFourGiB - image.size();
  ASSIGN_OR_RETURN(const auto entries, ParseFooterTable(image));
  ASSIGN_OR_RETURN(info.reset_eip,
                   EntryU32(entries, kSevEsResetBlockGuid, "SEV-ES reset block"));
  ASSIGN_OR_RETURN(info.hashes_table_gpa,
                   EntryU32(entries, kSevHashTableGuid, "SEV hash table"));
  ASSIGN_OR_RETURN(const std::optional<uint32_t> metadata_offset,
                   EntryU32(entries, kSevMetadataGuid, "SEV metadata"));
  if (!metadata_offset.has_value()) return info;

  // The metadata: "ASEV", u32 size (header included), u32 version 1, u32
  // item count, then {u32 gpa, u32 size, u32 type} per section.
  constexpr size_t kHeaderSize = 16;
  constexpr size_t kItemSize = 12;
  if (*metadata_offset > image.size() ||
      *metadata_offset < kHeaderSize) {
    return Malformed(absl::StrCat("the SEV metadata offset ", *metadata_offset,
                                  " is outside the image"));
  }
  const size_t start = image.size() - *metadata_offset;
  absl::string_view header = image.substr(start, kHeaderSize);
  if (header.substr(0, 4) != "ASEV") {
    return Malformed("the SEV metadata does not start with \"ASEV\"");
  }
  const uint32_t size = Le32(header, 4);
  const uint32_t version = Le32(header, 8);
  const uint32_t count = Le32(header, 12);
  if (version != 1) {
    return Malformed(absl::StrCat("SEV metadata version ", version,
                                  " is not 1"));
  }
  if (size < kHeaderSize || size > *metadata_offset) {
    return Malformed(absl::StrCat("the SEV metadata's size ", size,
                                  " runs past the end of the image"));
  }
  // Real OVMF images list a handful; the cap keeps the overlap check (one
  // pass over the earlier sections per section) cheap on hostile input.
  constexpr uint32_t kMaxSections = 64;
  if (count > kMaxSections) {
    return Malformed(absl::StrCat("the SEV metadata lists ", count,
                                  " sections, more than ", kMaxSections));
  }
  if (uint64_t{count} * kItemSize > size - kHeaderSize) {
    return Malformed(absl::StrCat("the SEV metadata lists ", count,
                                  " sections, more than its ", size,
                                  " bytes hold"));
  }
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = start + kHeaderSize + i * kItemSize;
    SnpSection section;
    section.gpa = Le32(image, at);
    section.size = Le32(image, at + 4);
    ASSIGN_OR_RETURN(section.type, SectionType(Le32(image, at + 8)));
    const std::string name = absl::StrCat("SEV metadata section ", i);
    if (section.size == 0) return Malformed(absl::StrCat(name, " is empty"));
    if (section.gpa % kPageSize != 0 || section.size % kPageSize != 0) {
      return Malformed(absl::StrCat(name, " (gpa 0x", absl::Hex(section.gpa),
                                    ", size ", section.size,
                                    ") is not page-aligned"));
    }
    if (uint64_t{section.gpa} + section.size > kFourGiB) {
      return Malformed(absl::StrCat(name, " reaches beyond 4 GiB"));
    }
    for (const SnpSection& other : info.sections) {
      if (section.gpa < uint64_t{other.gpa} + other.size &&
          other.gpa < uint64_t{section.gpa} + section.size) {
        return Malformed(absl::StrCat(name, " (gpa 0x", absl::Hex(section.gpa),
                                      ") overlaps an earlier section (gpa 0x",
                                      absl::Hex(other.gpa), ")"));
      }
    }
    info.sections.push_back(section);
  }
  return info;
}

absl::StatusOr<std::string> SnpOvmfHash(absl::string_view ovmf_image) {
  RETURN_IF_ERROR(CheckImageSize(ovmf_image));
  LaunchDigest digest;
  digest.NormalPages(kFourGiB - ovmf_image.size(), ovmf_image);
  return digest.digest();
}

absl::StatusOr<std::string> SnpLaunchDigest(absl::string_view ovmf_image,
                                            const SnpLaunchInputs& inputs) {
  if (inputs.vcpus < 1 || inputs.vcpus > kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vcpus ", inputs.vcpus, " is not between 1 and ", kMaxVcpus));
  }
  if ((inputs.guest_features & 1) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "guest features 0x", absl::Hex(inputs.guest_features),
        " do not have bit 0 (SNP active) set"));
  }
  ASSIGN_OR_RETURN(const OvmfSevInfo ovmf, ParseOvmf(ovmf_image));
  if (!ovmf.reset_eip.has_value()) {
    return Malformed("it has no SEV-ES reset block, so no AP reset EIP");
  }
  const bool has_kernel_hashes =
      std::any_of(ovmf.sections.begin(), ovmf.sections.end(),
                  [](const SnpSection& section) {
                    return section.type == SnpSectionType::kKernelHashes;
                  });
  if (inputs.kernel.has_value() && !has_kernel_hashes) {
    return absl::InvalidArgumentError(
        "a kernel was given, but the OVMF metadata doesn't include an "
        "SNP_KERNEL_HASHES section");
  }

  LaunchDigest digest;
  if (inputs.ovmf_hash.has_value()) {
    if (inputs.ovmf_hash->size() != kSnpDigestSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("the OVMF hash is ", inputs.ovmf_hash->size(),
                       " bytes, not ", kSnpDigestSize));
    }
    digest = LaunchDigest(*inputs.ovmf_hash);
  } else {
    digest.NormalPages(ovmf.gpa, ovmf_image);
  }

  for (const SnpSection& section : ovmf.sections) {
    switch (section.type) {
      case SnpSectionType::kSecMemory:
        // GCE hands SEC memory over unmeasured; QEMU and EC2 as zero pages.
        digest.Pages(inputs.vmm == VmmType::kGce ? PageType::kUnmeasured
                                                 : PageType::kZero,
                     section.gpa, section.size);
        break;
      case SnpSectionType::kSvsmCaa:
        digest.Pages(PageType::kZero, section.gpa, section.size);
        break;
      case SnpSectionType::kSecrets:
        digest.Pages(PageType::kSecrets, section.gpa, kPageSize);
        break;
      case SnpSectionType::kCpuid:
        // EC2 hands the CPUID page over after every other section.
        if (inputs.vmm != VmmType::kEc2) {
          digest.Pages(PageType::kCpuid, section.gpa, kPageSize);
        }
        break;
      case SnpSectionType::kKernelHashes:
        if (!inputs.kernel.has_value()) {
          digest.Pages(PageType::kZero, section.gpa, section.size);
          break;
        }
        if (!ovmf.hashes_table_gpa.has_value()) {
          return Malformed(
              "it has an SNP_KERNEL_HASHES section but no SEV hash table "
              "entry in its footer table");
        }
        if (section.size != kPageSize) {
          return Malformed(absl::StrCat("the SNP_KERNEL_HASHES section is ",
                                        section.size, " bytes, not one page"));
        }
        {
          ASSIGN_OR_RETURN(
              const std::string page,
              KernelHashesPage(*inputs.kernel,
                               *ovmf.hashes_table_gpa % kPageSize));
          digest.NormalPages(section.gpa, page);
        }
        break;
    }
  }
  if (inputs.vmm == VmmType::kEc2) {
    for (const SnpSection& section : ovmf.sections) {
      if (section.type == SnpSectionType::kCpuid) {
        digest.Pages(PageType::kCpuid, section.gpa, kPageSize);
      }
    }
  }

  const std::string bsp = crypto::Hash(crypto::HashAlgorithm::kSha384,
                                       VmsaPage(kBspEip, inputs));
  const std::string ap = crypto::Hash(crypto::HashAlgorithm::kSha384,
                                      VmsaPage(*ovmf.reset_eip, inputs));
  for (int i = 0; i < inputs.vcpus; ++i) {
    digest.Update(PageType::kVmsa, kVmsaGpa, i == 0 ? bsp : ap);
  }
  return digest.digest();
}

}  // namespace refsum::measure
