// Fuzzes measure::PeImage and the UKI PCRs on PE files: whatever parses has
// every section's raw data inside the file; Authenticode digests have the
// algorithm's size and do not change when computed again; loaded section
// contents are VirtualSize bytes of the file; everything else is
// InvalidArgument.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/digest.h"
#include "measure/pe.h"
#include "measure/tpm.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::measure;  // NOLINT: a fuzz target's one function
  using refsum::crypto::HashAlgorithm;
  if (size > (256 << 10)) return 0;
  absl::string_view file(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<PeImage> image = PeImage::Parse(file);
  if (!image.ok()) {
    FUZZ_CHECK(image.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    for (const PeSection& section : image->sections()) {
      FUZZ_CHECK(uint64_t{section.raw_offset} + section.raw_size <= size);
      absl::StatusOr<std::string> contents = image->LoadedContents(section);
      if (contents.ok()) {
        FUZZ_CHECK(contents->size() == section.virtual_size);
        FUZZ_CHECK(file.substr(section.raw_offset, section.virtual_size) ==
                   *contents);
      }
    }
    const std::string digest =
        image->AuthenticodeDigest(HashAlgorithm::kSha256);
    FUZZ_CHECK(digest.size() == 32);
    FUZZ_CHECK(image->AuthenticodeDigest(HashAlgorithm::kSha256) == digest);
  }
  for (HashAlgorithm bank : {HashAlgorithm::kSha256, HashAlgorithm::kSha384}) {
    for (const absl::StatusOr<std::string>& pcr :
         {UkiPcr4(bank, file), UkiPcr11(bank, file)}) {
      if (pcr.ok()) {
        FUZZ_CHECK(image.ok());
        FUZZ_CHECK(pcr->size() == refsum::crypto::DigestSize(bank));
      } else {
        FUZZ_CHECK(pcr.status().code() == absl::StatusCode::kInvalidArgument);
      }
    }
  }
  return 0;
}
