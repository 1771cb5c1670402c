#include "measure/tpm.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "encoding/utf8.h"
#include "measure/pe.h"

namespace refsum::measure {
namespace {

using crypto::HashAlgorithm;

std::string H(HashAlgorithm bank, absl::string_view data) {
  return crypto::Hash(bank, data);
}

// Extends `pcr` by `digest`; both are the bank's size.
void Extend(HashAlgorithm bank, std::string& pcr, absl::string_view digest) {
  pcr = crypto::Hash(bank, {pcr, digest});
}

absl::StatusOr<const PeSection*> Linux(const PeImage& uki) {
  const PeSection* linux = uki.Find(".linux");
  if (linux == nullptr) {
    return absl::InvalidArgumentError("the UKI has no .linux section");
  }
  return linux;
}

}  // namespace

absl::StatusOr<std::string> ExtendPcr(HashAlgorithm bank,
                                      absl::string_view pcr,
                                      absl::string_view digest) {
  const size_t size = crypto::DigestSize(bank);
  if (pcr.size() != size || digest.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", crypto::HashAlgorithmName(bank), " PCR and digest are ", size,
        " bytes each, not ", pcr.size(), " and ", digest.size()));
  }
  return crypto::Hash(bank, {pcr, digest});
}

absl::StatusOr<std::string> PcrOfDigests(
    HashAlgorithm bank, const std::vector<std::string>& digests) {
  std::string pcr(crypto::DigestSize(bank), '\0');
  for (const std::string& digest : digests) {
    ASSIGN_OR_RETURN(pcr, ExtendPcr(bank, pcr, digest));
  }
  return pcr;
}

std::string SeparatorDigest(HashAlgorithm bank) {
  return H(bank, absl::string_view("\0\0\0\0", 4));
}

std::string SeparatorOnlyPcr(HashAlgorithm bank) {
  std::string pcr(crypto::DigestSize(bank), '\0');
  Extend(bank, pcr, SeparatorDigest(bank));
  return pcr;
}

std::vector<std::string> DefaultUkiSections() {
  return {".linux", ".osrel", ".cmdline", ".initrd",
          ".splash", ".dtb", ".pcrpkey"};
}

absl::StatusOr<std::string> UkiPcr11(HashAlgorithm bank,
                                     absl::string_view uki,
                                     const std::vector<std::string>& sections) {
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i] == ".pcrsig") {
      return absl::InvalidArgumentError(
          ".pcrsig is never measured: it holds the signature of PCR 11");
    }
    if (std::find(sections.begin(), sections.begin() + i, sections[i]) !=
        sections.begin() + i) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the section list names \"", absl::CHexEscape(sections[i]),
          "\" twice"));
    }
  }
  ASSIGN_OR_RETURN(const PeImage image, PeImage::Parse(uki));
  RETURN_IF_ERROR(Linux(image).status());
  std::string pcr(crypto::DigestSize(bank), '\0');
  for (const std::string& name : sections) {
    const PeSection* section = image.Find(name);
    if (section == nullptr) continue;
    ASSIGN_OR_RETURN(const std::string contents,
                     image.LoadedContents(*section));
    Extend(bank, pcr, H(bank, absl::StrCat(name, std::string(1, '\0'))));
    Extend(bank, pcr, H(bank, contents));
  }
  return pcr;
}

absl::StatusOr<std::string> CommandLineDigest(HashAlgorithm bank,
                                              absl::string_view cmdline) {
  if (!encoding::IsValidUtf8(cmdline)) {
    return absl::InvalidArgumentError("the command line is not valid UTF-8");
  }
  std::string utf16;
  const auto put = [&utf16](uint32_t unit) {
    utf16.push_back(static_cast<char>(unit & 0xff));
    utf16.push_back(static_cast<char>(unit >> 8));
  };
  for (size_t i = 0; i < cmdline.size();) {
    const size_t length = encoding::Utf8SequenceLength(cmdline.substr(i));
    uint32_t code = static_cast<uint8_t>(cmdline[i]);
    if (length > 1) code &= 0xff >> (length + 1);
    for (size_t j = 1; j < length; ++j) {
      code = code << 6 | (static_cast<uint8_t>(cmdline[i + j]) & 0x3f);
    }
    if (code >= 0x10000) {
      put(0xd800 + ((code - 0x10000) >> 10));
      put(0xdc00 + ((code - 0x10000) & 0x3ff));
    } else {
      put(code);
    }
    i += length;
  }
  put(0);
  return H(bank, utf16);
}

absl::StatusOr<std::string> UkiPcr4(HashAlgorithm bank,
                                    absl::string_view uki) {
  ASSIGN_OR_RETURN(const PeImage image, PeImage::Parse(uki));
  ASSIGN_OR_RETURN(const PeSection* linux_section, Linux(image));
  ASSIGN_OR_RETURN(const std::string kernel,
                   image.LoadedContents(*linux_section));
  absl::StatusOr<PeImage> kernel_image = PeImage::Parse(kernel);
  if (!kernel_image.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the UKI's .linux section: ",
                     kernel_image.status().message()));
  }
  std::string pcr(crypto::DigestSize(bank), '\0');
  Extend(bank, pcr, H(bank, kBootOptionAction));
  Extend(bank, pcr, SeparatorDigest(bank));
  Extend(bank, pcr, image.AuthenticodeDigest(bank));
  Extend(bank, pcr, kernel_image->AuthenticodeDigest(bank));
  return pcr;
}

}  // namespace refsum::measure
