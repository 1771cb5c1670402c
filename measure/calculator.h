// Computes a claimed reference value with the calculator it names
// (DESIGN.md "Calculated reference values"; the names, roles and parameters
// are statement/calculators.h's), from the bytes of the claim's subjects.
// The witness runs it on the artifacts it rebuilt; the vendor's tools on
// the ones they built. Nothing here knows the claim format: callers pass
// the parts.
//
// Parameters, as claims write them:
//   sev-snp        vcpus (decimal), vmm-type (qemu, ec2, gce; default qemu),
//                  vcpu-type (QEMU model) or vcpu-sig (0x hex or decimal;
//                  one of them for qemu), guest-features (0x hex; default
//                  0x1), append (the kernel command line)
//   uki-pcr        sections: the PE sections PCR 11 measures, separated by
//                  spaces (default: systemd-stub 252's)
//   dm-verity      hash (must be the value's algorithm), salt (hex, or "-"
//                  for none, the default), data-block-size and
//                  hash-block-size (default 4096)
//   tpm-separator  none; the bank is the value's algorithm
//
// Thread-safe.

#ifndef REFSUM_MEASURE_CALCULATOR_H_
#define REFSUM_MEASURE_CALCULATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refsum::measure {

// How a witness names the tool in a rebuild attestation's computedBy.
inline constexpr absl::string_view kCalculatorTool = "refsum 0.2.0";

struct Calculation {
  std::string calculator;
  // The value's register: the index selects a PCR for uki-pcr.
  std::optional<int64_t> index;
  // The value's digest algorithm ("sha256", "sha384", "sha512").
  std::string algorithm;
  std::map<std::string, std::string> parameters;
  // Role to the input's bytes.
  std::map<std::string, std::string> inputs;
};

// A number as claims' parameters and sev-snp-measure's flags write one:
// decimal without sign or leading zero, or hex after "0x" or "0X". nullopt
// otherwise.
std::optional<uint64_t> ParseNumber(absl::string_view text);

// The value's digest (raw bytes). InvalidArgument for a parameter that does
// not parse or an input the calculator cannot measure (naming which),
// Unimplemented for what refsum cannot compute yet (tdx-mrtd, uki-pcr PCR
// 9).
absl::StatusOr<std::string> Calculate(const Calculation& calculation);

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_CALCULATOR_H_
