// The calculators a claimed reference value may name (DESIGN.md,
// "Calculated reference values", contract), and the rules a claim that
// names one must keep. The names, roles and parameters are the contract;
// how each value is computed is measure/'s.
//
//   calculator     value                          roles (* required)
//   sev-snp        amd-sev-snp/launch-measurement ovmf*, kernel, initrd
//   tdx-mrtd       intel-tdx/mrtd                 tdvf*
//   uki-pcr        tpm/pcr index 4, 9 or 11       uki*
//   tpm-separator  tpm/pcr                        none
//   dm-verity      generic/dm-verity-root         image*
//
// Parameters each calculator takes (any other is an error): sev-snp vcpus
// (required), vmm-type, vcpu-type, vcpu-sig, guest-features, append;
// tdx-mrtd page-order; uki-pcr sections; dm-verity hash, salt,
// data-block-size, hash-block-size. sev-snp's initrd and append need a
// kernel. Every input names a subject of the same claim.
//
// Thread-safe.

#ifndef REFSUM_STATEMENT_CALCULATORS_H_
#define REFSUM_STATEMENT_CALCULATORS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"
#include "statement/in_toto.h"

namespace refsum::statement {

// Checks every value of `values` that names a calculator against the table
// above, with `subjects` the claim's. Returns InvalidArgument naming the
// JSON path of the field at fault, e.g.
// "predicate.referenceValues[0].calculator.inputs.ovmf: names no subject of
// the claim".
absl::Status ValidateCalculators(const std::vector<ReferenceValue>& values,
                                 const std::vector<Subject>& subjects,
                                 absl::string_view path);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_CALCULATORS_H_
