// Fuzzes measure::ParseOvmf and SnpLaunchDigest on OVMF images: whatever
// parses has page-aligned, non-empty, non-overlapping sections below 4 GiB;
// a digest is 48 bytes and the same when computed again; everything else
// is InvalidArgument.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "measure/sev_snp.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::measure;  // NOLINT: a fuzz target's one function
  if (size > (64 << 10)) return 0;
  absl::string_view image(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<OvmfSevInfo> info = ParseOvmf(image);
  if (!info.ok()) {
    FUZZ_CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    FUZZ_CHECK(info->gpa + image.size() == (uint64_t{1} << 32));
    for (size_t i = 0; i < info->sections.size(); ++i) {
      const SnpSection& a = info->sections[i];
      FUZZ_CHECK(a.size > 0 && a.gpa % 4096 == 0 && a.size % 4096 == 0);
      FUZZ_CHECK(uint64_t{a.gpa} + a.size <= (uint64_t{1} << 32));
      for (size_t j = 0; j < i; ++j) {
        const SnpSection& b = info->sections[j];
        FUZZ_CHECK(uint64_t{a.gpa} + a.size <= b.gpa ||
                   uint64_t{b.gpa} + b.size <= a.gpa);
      }
    }
  }

  for (VmmType vmm : {VmmType::kQemu, VmmType::kEc2, VmmType::kGce}) {
    SnpLaunchInputs inputs;
    inputs.vcpus = 2;
    inputs.vmm = vmm;
    inputs.vcpu_signature = 0x800f12;
    if (vmm == VmmType::kQemu) inputs.kernel = SnpKernel{"k", "i", "a"};
    absl::StatusOr<std::string> digest = SnpLaunchDigest(image, inputs);
    if (!digest.ok()) {
      FUZZ_CHECK(digest.status().code() == absl::StatusCode::kInvalidArgument);
      continue;
    }
    FUZZ_CHECK(info.ok());
    FUZZ_CHECK(digest->size() == kSnpDigestSize);
    FUZZ_CHECK(SnpLaunchDigest(image, inputs).value() == *digest);
  }
  return 0;
}
