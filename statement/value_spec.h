// The command-line syntax of one reference value, and of a value selector.
//
// A value SPEC (`refsum-submit claim --value`) is one reference value:
//
//   platform/kind[/index]=alg:hex[,name=value...]
//
// e.g. `amd-sev-snp/launch-measurement=sha384:<96 hex>,vcpus=4,vmm=qemu` or
// `tpm/pcr/4=sha256:<64 hex>`. The parts map one to one onto a claim's
// reference value (statement/digest.h): platform, kind, optional index
// (canonical decimal), the digest, and measurement parameters. A parameter
// value runs to the next comma, so it cannot hold one; it may be empty
// (`cmdline=`), which is not the same as leaving the parameter out.
//
// A value SELECTOR (`refsum-verify --value`; DESIGN.md "Value selector",
// contract) is how a verifier names the value it checks: the same syntax
// without parameters, `platform/kind[/index]=alg:hex`. It selects a claimed
// value only when platform, kind, index, algorithm and digest are all the
// same: a digest claimed for PCR 16 is not a value for PCR 7.
//
// Error messages start with `--value "<text>": `, the flag under which both
// tools take these, with control characters escaped.
//
// All functions are thread-safe.

#ifndef REFSUM_STATEMENT_VALUE_SPEC_H_
#define REFSUM_STATEMENT_VALUE_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statement/digest.h"

namespace refsum::statement {

// Parses and validates one SPEC: the syntax above, then every rule of
// ValidateReferenceValues (known platform and kind, index range, digest
// algorithm and lowercase hex length, parameter names). Returns
// InvalidArgument `--value "<spec>": <problem>` otherwise, e.g.
// `--value "tpm/pcr/24=sha256:..": index: must be between 0 and 23 for tpm
// pcr`.
absl::StatusOr<ReferenceValue> ParseValueSpec(absl::string_view spec);

struct ValueSelector {
  std::string platform;
  std::string kind;
  std::optional<int64_t> index;
  Digest digest;

  friend bool operator==(const ValueSelector& a, const ValueSelector& b) {
    return a.platform == b.platform && a.kind == b.kind &&
           a.index == b.index && a.digest == b.digest;
  }
};

// Parses and validates one SELECTOR as ParseValueSpec does a SPEC. Returns
// InvalidArgument `--value "<text>": <problem>` for the problems
// ParseValueSpec names, for parameters (a selector has none), and for a
// bare `alg:hex`, which names no register: the message then shows the
// selector form.
absl::StatusOr<ValueSelector> ParseValueSelector(absl::string_view text);

// True when `value` is the value `selector` names: the same platform, kind,
// index, algorithm and digest. Parameters do not take part.
bool SelectorMatches(const ValueSelector& selector,
                     const ReferenceValue& value);

// "platform/kind[/index]": the register a value is for, as SPECs and
// SELECTORs write it.
std::string FormatValueTarget(const ReferenceValue& value);

// The selector as ParseValueSelector reads it back.
std::string FormatValueSelector(const ValueSelector& selector);

// The selector of a claimed value: its register and digest.
ValueSelector SelectorOf(const ReferenceValue& value);

}  // namespace refsum::statement

#endif  // REFSUM_STATEMENT_VALUE_SPEC_H_
