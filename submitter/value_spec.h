// The --value SPEC of `refsum-submit claim`: one reference value on the
// command line,
//
//   platform/kind[/index]=alg:hex[,name=value...]
//
// e.g. `amd-sev-snp/launch-measurement=sha384:<96 hex>,vcpus=4,vmm=qemu` or
// `tpm/pcr/4=sha256:<64 hex>`. The parts map one to one onto a claim's
// reference value (statement/digest.h): platform, kind, optional index
// (canonical decimal), the digest, and measurement parameters. A parameter
// value runs to the next comma, so it cannot hold one; it may be empty
// (`cmdline=`), which is not the same as leaving the parameter out.

#ifndef REFSUM_SUBMITTER_VALUE_SPEC_H_
#define REFSUM_SUBMITTER_VALUE_SPEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"

namespace refsum::submitter {

// Parses and validates one SPEC: the syntax above, then every rule of
// statement::ValidateReferenceValues (known platform and kind, index range,
// digest algorithm and lowercase hex length, parameter names). Returns
// InvalidArgument `--value "<spec>": <problem>` otherwise, e.g.
// `--value "tpm/pcr/24=sha256:..": index: must be between 0 and 23 for tpm
// pcr`. Thread-safe.
absl::StatusOr<statement::ReferenceValue> ParseValueSpec(
    absl::string_view spec);

}  // namespace refsum::submitter

#endif  // REFSUM_SUBMITTER_VALUE_SPEC_H_
