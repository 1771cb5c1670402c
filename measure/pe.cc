#include "measure/pe.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "measure/little_endian.h"

namespace refsum::measure {
namespace {

// PE/COFF: the COFF header follows "PE\0\0"; the optional header follows
// it; the CheckSum and SizeOfHeaders sit at the same offsets in PE32 and
// PE32+, the data directories do not.
constexpr size_t kCoffHeaderSize = 20;
constexpr size_t kSectionHeaderSize = 40;
constexpr size_t kMaxSections = 96;
constexpr uint16_t kPe32Magic = 0x10b;
constexpr uint16_t kPe32PlusMagic = 0x20b;
constexpr size_t kCheckSumOffset = 64;
constexpr size_t kSizeOfHeadersOffset = 60;
constexpr uint32_t kSecurityDirectory = 4;

absl::Status Malformed(absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("the PE image is malformed: ", problem));
}

}  // namespace

absl::StatusOr<PeImage> PeImage::Parse(absl::string_view file) {
  PeImage image;
  image.file_ = file;
  if (file.size() < 0x40 || file.substr(0, 2) != "MZ") {
    return Malformed("it has no DOS header (\"MZ\")");
  }
  const uint64_t pe = Le32(file, 0x3c);
  if (pe + 4 + kCoffHeaderSize > file.size() || file.substr(pe, 4) !=
                                                    absl::string_view("PE\0\0", 4)) {
    return Malformed("it has no PE signature where e_lfanew points");
  }
  const size_t coff = pe + 4;
  const uint16_t section_count = Le16(file, coff + 2);
  const uint16_t optional_size = Le16(file, coff + 16);
  const size_t optional = coff + kCoffHeaderSize;
  if (optional + optional_size > file.size()) {
    return Malformed("its optional header runs past the end of the file");
  }
  if (optional_size < 2) return Malformed("its optional header is empty");
  const uint16_t magic = Le16(file, optional);
  if (magic != kPe32Magic && magic != kPe32PlusMagic) {
    return Malformed(absl::StrCat("optional header magic 0x", absl::Hex(magic),
                                  " is neither PE32 nor PE32+"));
  }
  const size_t count_offset = magic == kPe32Magic ? 92 : 108;
  const size_t directories = count_offset + 4;
  if (optional_size < directories) {
    return Malformed(absl::StrCat("its optional header is ", optional_size,
                                  " bytes, too small for its fields"));
  }
  image.checksum_offset_ = optional + kCheckSumOffset;
  image.size_of_headers_ = Le32(file, optional + kSizeOfHeadersOffset);
  const uint32_t directory_count = Le32(file, optional + count_offset);
  if (directory_count > 16 ||
      directories + uint64_t{directory_count} * 8 > optional_size) {
    return Malformed(absl::StrCat(directory_count,
                                  " data directories do not fit its optional "
                                  "header"));
  }
  if (directory_count > kSecurityDirectory) {
    image.security_entry_offset_ =
        optional + directories + kSecurityDirectory * 8;
    image.certificate_size_ = Le32(file, image.security_entry_offset_ + 4);
  }
  const uint64_t header_fields_end =
      image.security_entry_offset_ != 0 ? image.security_entry_offset_ + 8
                                        : image.checksum_offset_ + 4;
  if (image.size_of_headers_ < header_fields_end ||
      image.size_of_headers_ > file.size()) {
    return Malformed(absl::StrCat("SizeOfHeaders ", image.size_of_headers_,
                                  " does not cover its headers within the "
                                  "file"));
  }
  if (section_count > kMaxSections) {
    return Malformed(absl::StrCat(section_count, " sections, more than ",
                                  kMaxSections));
  }
  const size_t table = optional + optional_size;
  if (table + uint64_t{section_count} * kSectionHeaderSize > file.size()) {
    return Malformed("its section table runs past the end of the file");
  }
  for (size_t i = 0; i < section_count; ++i) {
    const size_t at = table + i * kSectionHeaderSize;
    PeSection section;
    absl::string_view name = file.substr(at, 8);
    section.name = std::string(name.substr(0, name.find('\0')));
    section.virtual_size = Le32(file, at + 8);
    section.virtual_address = Le32(file, at + 12);
    section.raw_size = Le32(file, at + 16);
    section.raw_offset = Le32(file, at + 20);
    const std::string which =
        absl::StrCat("section ", i, " (\"", absl::CHexEscape(section.name),
                     "\")");
    if (uint64_t{section.raw_offset} + section.raw_size > file.size()) {
      return Malformed(absl::StrCat(which,
                                    " has raw data past the end of the file"));
    }
    for (const PeSection& other : image.sections_) {
      if (section.raw_size != 0 && other.raw_size != 0 &&
          section.raw_offset < uint64_t{other.raw_offset} + other.raw_size &&
          other.raw_offset < uint64_t{section.raw_offset} + section.raw_size) {
        return Malformed(absl::StrCat(which, "'s raw data overlaps section \"",
                                      absl::CHexEscape(other.name), "\""));
      }
    }
    image.sections_.push_back(std::move(section));
  }
  // EDK2 refuses an image whose certificate table is larger than what
  // follows the sections.
  uint64_t hashed = image.size_of_headers_;
  for (const PeSection& section : image.sections_) hashed += section.raw_size;
  if (hashed < file.size() &&
      file.size() < hashed + image.certificate_size_) {
    return Malformed(absl::StrCat("its certificate table of ",
                                  image.certificate_size_,
                                  " bytes is larger than what follows its "
                                  "sections"));
  }
  return image;
}

const PeSection* PeImage::Find(absl::string_view name) const {
  for (const PeSection& section : sections_) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

absl::StatusOr<std::string> PeImage::LoadedContents(
    const PeSection& section) const {
  if (section.virtual_size > section.raw_size) {
    return Malformed(absl::StrCat(
        "section \"", absl::CHexEscape(section.name), "\" has a virtual size of ",
        section.virtual_size, " bytes, more than its ", section.raw_size,
        " bytes of data"));
  }
  return std::string(file_.substr(section.raw_offset, section.virtual_size));
}

std::string PeImage::AuthenticodeDigest(crypto::HashAlgorithm algorithm) const {
  crypto::Hasher hasher(algorithm);
  hasher.Update(file_.substr(0, checksum_offset_));
  if (security_entry_offset_ == 0) {
    hasher.Update(file_.substr(checksum_offset_ + 4,
                               size_of_headers_ - (checksum_offset_ + 4)));
  } else {
    hasher.Update(file_.substr(checksum_offset_ + 4,
                               security_entry_offset_ - (checksum_offset_ + 4)));
    hasher.Update(file_.substr(security_entry_offset_ + 8,
                               size_of_headers_ - (security_entry_offset_ + 8)));
  }
  uint64_t hashed = size_of_headers_;
  std::vector<const PeSection*> by_offset;
  for (const PeSection& section : sections_) by_offset.push_back(&section);
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const PeSection* a, const PeSection* b) {
                     return a->raw_offset < b->raw_offset;
                   });
  for (const PeSection* section : by_offset) {
    if (section->raw_size == 0) continue;
    hasher.Update(file_.substr(section->raw_offset, section->raw_size));
    hashed += section->raw_size;
  }
  if (file_.size() > hashed + certificate_size_) {
    hasher.Update(
        file_.substr(hashed, file_.size() - certificate_size_ - hashed));
  }
  return hasher.Finish();
}

}  // namespace refsum::measure
