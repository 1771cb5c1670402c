// PE/COFF images, as UEFI firmware loads and measures them: the section
// table, and the Authenticode digest exactly as EDK2's measured boot
// (DxeTpm2MeasureBootLib's HashPeImage, Tcg2Dxe) computes it for the TPM
// event log. That digest is what `pesign -h` prints; osslsigncode's
// Authenticode digest can differ for images with data after the last
// section.
//
// The EDK2 algorithm: hash the headers up to the optional header's
// CheckSum, skip it, hash on up to the certificate table's data-directory
// entry, skip it, hash the rest of the headers (SizeOfHeaders bytes in
// all); then each section's raw data in the order of PointerToRawData; then
// whatever follows in the file, less the certificate table at its end.
//
// Every offset and size read from the image is bounds-checked: a file too
// short for its headers, a bad DOS or PE signature, an optional header
// too small for its fields, more sections than PE allows, a section table
// or section data past the end of the file, sections whose raw data
// overlap, or a certificate table larger than what follows the sections
// is an InvalidArgument error naming the problem.
//
// Pure: bytes in, digests out. Thread-safe.

#ifndef REFSUM_MEASURE_PE_H_
#define REFSUM_MEASURE_PE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/digest.h"

namespace refsum::measure {

struct PeSection {
  // The name as the 8-byte field holds it, up to its first NUL.
  std::string name;
  uint32_t virtual_size = 0;
  uint32_t virtual_address = 0;
  uint32_t raw_size = 0;
  uint32_t raw_offset = 0;
};

// A parsed image. It refers to the bytes it was parsed from, which must
// outlive it.
class PeImage {
 public:
  static absl::StatusOr<PeImage> Parse(absl::string_view file);

  const std::vector<PeSection>& sections() const { return sections_; }

  // The section named `name`, or nullptr.
  const PeSection* Find(absl::string_view name) const;

  // The section's contents as loaded into memory: its first VirtualSize
  // bytes. InvalidArgument when VirtualSize exceeds SizeOfRawData: the
  // loader would zero-fill the rest, which a UKI's payload sections never
  // need, and a hostile header could ask for gigabytes of zeros.
  absl::StatusOr<std::string> LoadedContents(const PeSection& section) const;

  // The Authenticode digest as EDK2 measures the image (see above).
  std::string AuthenticodeDigest(crypto::HashAlgorithm algorithm) const;

 private:
  PeImage() = default;

  absl::string_view file_;
  size_t checksum_offset_ = 0;
  // The certificate table's data-directory entry; 0 when the image has
  // none (NumberOfRvaAndSizes <= 4).
  size_t security_entry_offset_ = 0;
  uint32_t certificate_size_ = 0;
  uint32_t size_of_headers_ = 0;
  std::vector<PeSection> sections_;
};

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_PE_H_
