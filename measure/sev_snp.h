// The SEV-SNP launch digest of a guest booted from an OVMF image: what the
// AMD secure processor puts into the attestation report's MEASUREMENT field,
// computed ahead of time from the firmware image, as virtee/sev-snp-measure
// computes it, bit for bit.
//
// AMD's SNP firmware ABI measures every page the VMM hands to
// SNP_LAUNCH_UPDATE: the launch digest starts as 48 zero bytes and each page
// extends it as
//
//   digest = SHA-384(digest || contents || PAGE_INFO)
//
// where `contents` is SHA-384 of the page for normal and VMSA pages and 48
// zero bytes otherwise, and PAGE_INFO is the 16 bytes {length 0x70 (u16),
// page type (u8), IMI page 0, VMPL3/2/1 permissions 0, reserved 0, guest
// physical address (u64)}, little-endian. In order:
//   1. every 4 KiB page of the OVMF image, as normal pages, at
//      4 GiB - size (or a precomputed digest of them: the "OVMF hash");
//   2. the sections of OVMF's SEV metadata ("ASEV"), in their order:
//      SEC_MEM (zero pages; unmeasured pages on GCE) and SVSM_CAA zero
//      pages, the SECRETS page, the CPUID page
//      (measured last on EC2, after all others), and the kernel hashes page
//      (the SEV hashes table of kernel, initrd and command line at the
//      offset OVMF's footer table names, or zero pages without a kernel);
//   3. one VMSA page per vCPU (the boot processor's, then the application
//      processors', whose EIP comes from OVMF's SEV-ES reset block), at
//      guest physical address 0xFFFFFFFFF000, with the initial register
//      state of the VMM type (QEMU, EC2 or GCE).
//
// Everything read from the image is bounds-checked: a truncated image, a
// footer table or metadata that runs past the image, entries shorter than
// their header, sections that overlap, are empty, are not page-aligned or
// reach beyond 4 GiB, unknown section types, and missing GUIDs the
// measurement needs are InvalidArgument errors naming the problem.
//
// Pure: bytes in, digest out. All functions are thread-safe.

#ifndef REFSUM_MEASURE_SEV_SNP_H_
#define REFSUM_MEASURE_SEV_SNP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::measure {

inline constexpr size_t kSnpDigestSize = 48;

// The VMMs whose initial vCPU state differs.
enum class VmmType { kQemu, kEc2, kGce };

// "qemu" (also sev-snp-measure's "QEMU"), "ec2" or "gce". InvalidArgument
// otherwise.
absl::StatusOr<VmmType> ParseVmmType(absl::string_view name);

// The CPUID Fn0000_0001_EAX signature of a QEMU CPU model (EPYC, EPYC-v1
// ... EPYC-v4, EPYC-IBPB, EPYC-Rome[-v1..v3], EPYC-Milan[-v1, -v2],
// EPYC-Genoa[-v1], EPYC-Turin). NotFound for other names.
absl::StatusOr<uint32_t> QemuCpuSignature(absl::string_view model);

// The signature of family/model/stepping, as CPUID encodes it (extended
// family and model above 15).
uint32_t CpuSignature(uint32_t family, uint32_t model, uint32_t stepping);

// The SEV metadata section types of OVMF.
enum class SnpSectionType : uint32_t {
  kSecMemory = 1,
  kSecrets = 2,
  kCpuid = 3,
  kSvsmCaa = 4,
  kKernelHashes = 0x10,
};

struct SnpSection {
  uint32_t gpa = 0;
  uint32_t size = 0;
  SnpSectionType type = SnpSectionType::kSecMemory;
};

// What an OVMF image tells the SNP calculator, parsed and checked.
struct OvmfSevInfo {
  // Where the image is loaded: 4 GiB - its size.
  uint64_t gpa = 0;
  // OVMF's SEV metadata sections, in their order in the image.
  std::vector<SnpSection> sections;
  // The application processors' reset EIP (SEV-ES reset block), if named.
  std::optional<uint32_t> reset_eip;
  // Where OVMF expects the SEV hashes table, if it supports one.
  std::optional<uint32_t> hashes_table_gpa;
};

// Parses the GUIDed footer table and the SEV metadata of `image`.
absl::StatusOr<OvmfSevInfo> ParseOvmf(absl::string_view image);

// What is measured besides the firmware: the kernel, initrd and command
// line whose SHA-256 digests OVMF checks (QEMU's -kernel, -initrd,
// -append).
struct SnpKernel {
  std::string kernel;
  // Absent: the empty initrd QEMU passes without -initrd.
  std::optional<std::string> initrd;
  // Absent: no -append (hashed as a lone NUL).
  std::optional<std::string> append;
};

struct SnpLaunchInputs {
  int vcpus = 1;
  // The vCPUs' CPUID signature (QEMU only; EC2 and GCE fix their own).
  uint32_t vcpu_signature = 0;
  VmmType vmm = VmmType::kQemu;
  // The VMSA's SEV_FEATURES; bit 0 (SNP active) is required.
  uint64_t guest_features = 0x1;
  std::optional<SnpKernel> kernel;
  // A precomputed digest of the OVMF image's pages (SnpOvmfHash), 48 bytes,
  // used instead of hashing them; the image is still parsed for its
  // metadata.
  std::optional<std::string> ovmf_hash;
};

// The launch digest (48 bytes). InvalidArgument for a malformed image, a
// kernel given to an OVMF without a kernel hashes section ("OVMF metadata
// doesn't include SNP_KERNEL_HASHES"), vcpus outside 1..512, guest
// features without SNP, or an ovmf_hash that is not 48 bytes.
absl::StatusOr<std::string> SnpLaunchDigest(absl::string_view ovmf_image,
                                            const SnpLaunchInputs& inputs);

// The digest of the OVMF image's pages alone (sev-snp-measure's
// snp:ovmf-hash), to pass as SnpLaunchInputs::ovmf_hash.
absl::StatusOr<std::string> SnpOvmfHash(absl::string_view ovmf_image);

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_SEV_SNP_H_
