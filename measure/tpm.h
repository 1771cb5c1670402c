// TPM PCR values of a measured boot: the extend operation, the events
// firmware and systemd-stub log, and the PCRs of a Unified Kernel Image
// (UAPI "Unified Kernel Image" and "Linux TPM PCR Registry"):
//
//   extend:  PCR' = H(PCR || digest), every PCR starting at zeros
//   PCR 4:   EV_EFI_ACTION "Calling EFI Application from Boot Option",
//            EV_SEPARATOR, then each EFI application loaded: the UKI and the
//            kernel in its .linux section (Authenticode digests, pe.h)
//   PCR 11:  for each UKI section systemd-stub measures, in the UAPI order
//            and skipping .pcrsig: H(name || NUL), then H(the section as
//            loaded)
//   a PCR holding only its EV_SEPARATOR (e.g. PCR 3 of a boot without
//   firmware drivers).
//
// Pure and thread-safe.

#ifndef REFSUM_MEASURE_TPM_H_
#define REFSUM_MEASURE_TPM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/digest.h"

namespace refsum::measure {

inline constexpr absl::string_view kBootOptionAction =
    "Calling EFI Application from Boot Option";

// H(pcr || digest). Both must be the bank's digest size (InvalidArgument
// otherwise).
absl::StatusOr<std::string> ExtendPcr(crypto::HashAlgorithm bank,
                                      absl::string_view pcr,
                                      absl::string_view digest);

// A PCR extended from zeros by `digests` in order.
absl::StatusOr<std::string> PcrOfDigests(
    crypto::HashAlgorithm bank, const std::vector<std::string>& digests);

// The digest of an EV_SEPARATOR event (four zero bytes).
std::string SeparatorDigest(crypto::HashAlgorithm bank);

// A PCR holding only the separator.
std::string SeparatorOnlyPcr(crypto::HashAlgorithm bank);

// The sections systemd-stub 252 (Debian 12) measures into PCR 11, in
// order: .linux .osrel .cmdline .initrd .splash .dtb .pcrpkey. Later stubs
// measure more (pass their list as `sections`).
std::vector<std::string> DefaultUkiSections();

// PCR 11 of booting the UKI `uki`: the sections of `sections` that it
// holds, in that order. InvalidArgument for a malformed PE, a list naming
// .pcrsig or a section twice, or a UKI without .linux.
absl::StatusOr<std::string> UkiPcr11(
    crypto::HashAlgorithm bank, absl::string_view uki,
    const std::vector<std::string>& sections = DefaultUkiSections());

// The digest the Linux EFI stub logs into PCR 9 for the kernel command
// line: H(the command line as UTF-16LE with its terminating NUL).
// InvalidArgument when `cmdline` is not valid UTF-8.
absl::StatusOr<std::string> CommandLineDigest(crypto::HashAlgorithm bank,
                                              absl::string_view cmdline);

// PCR 4 of booting the UKI `uki` directly from a boot option.
// InvalidArgument for a malformed UKI or .linux image.
absl::StatusOr<std::string> UkiPcr4(crypto::HashAlgorithm bank,
                                    absl::string_view uki);

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_TPM_H_
