#include "statement/value_spec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "encoding/decimal.h"

namespace refsum::statement {
namespace {

constexpr absl::string_view kSyntax =
    "platform/kind[/index]=alg:hex[,name=value...]";
constexpr absl::string_view kSelectorSyntax = "platform/kind[/index]=alg:hex";

absl::Status SpecError(absl::string_view spec, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("--value \"", absl::CHexEscape(spec), "\": ", problem));
}

// Parses "platform/kind[/index]" into `value`; returns the problem, if any.
std::string ParseTarget(absl::string_view target,
                        ReferenceValue* value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(target, '/');
  if (parts.size() < 2 || parts.size() > 3) {
    return absl::StrCat(
        "before '=' must be platform/kind or "
        "platform/kind/index (",
        kSyntax, ")");
  }
  if (parts[0].empty()) return "the platform is empty";
  if (parts[1].empty()) return "the kind is empty";
  value->platform = std::string(parts[0]);
  value->kind = std::string(parts[1]);
  if (parts.size() == 3) {
    const absl::StatusOr<uint64_t> index =
        encoding::ParseCanonicalDecimal(parts[2], "index");
    if (!index.ok()) return std::string(index.status().message());
    if (*index > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return "index: too large";
    }
    value->index = static_cast<int64_t>(*index);
  }
  return "";
}

// Parses "alg:hex" into `value`; returns the problem, if any.
std::string ParseDigest(absl::string_view digest,
                        ReferenceValue* value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(digest, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return absl::StrCat("after '=' must come alg:hex (", kSyntax, ")");
  }
  value->digest = {std::string(parts[0]), std::string(parts[1])};
  return "";
}

// Parses one "name=value" into `value`; returns the problem, if any.
std::string ParseParameter(absl::string_view parameter,
                           ReferenceValue* value) {
  const std::pair<absl::string_view, absl::string_view> name_value =
      absl::StrSplit(parameter, absl::MaxSplits('=', 1));
  if (parameter.empty()) return "empty parameter (stray comma?)";
  if (name_value.first.size() == parameter.size()) {
    return absl::StrCat("parameter \"", absl::CHexEscape(parameter),
                        "\" is not name=value");
  }
  if (name_value.first.empty()) return "a parameter has no name";
  const bool inserted = value->parameters
                            .emplace(std::string(name_value.first),
                                     std::string(name_value.second))
                            .second;
  if (!inserted) {
    return absl::StrCat("parameter \"", absl::CHexEscape(name_value.first),
                        "\" is given twice");
  }
  return "";
}

}  // namespace

absl::StatusOr<ReferenceValue> ParseValueSpec(absl::string_view spec) {
  const size_t equals = spec.find('=');
  if (equals == absl::string_view::npos) {
    return SpecError(spec, absl::StrCat("expected ", kSyntax));
  }
  ReferenceValue value;
  std::string problem = ParseTarget(spec.substr(0, equals), &value);
  if (!problem.empty()) return SpecError(spec, problem);
  const std::vector<absl::string_view> fields =
      absl::StrSplit(spec.substr(equals + 1), ',');
  problem = ParseDigest(fields[0], &value);
  for (size_t i = 1; problem.empty() && i < fields.size(); ++i) {
    problem = ParseParameter(fields[i], &value);
  }
  if (!problem.empty()) return SpecError(spec, problem);

  // The claim's own rules decide the rest. Validating the value as element
  // 0 of an unnamed array gives errors "[0].<field>: <problem>"; the field
  // path alone names the part of the spec at fault.
  const absl::Status valid = ValidateReferenceValues({value}, "");
  if (!valid.ok()) {
    absl::string_view message = valid.message();
    absl::ConsumePrefix(&message, "[0]");
    absl::ConsumePrefix(&message, ".");
    return SpecError(spec, message);
  }
  return value;
}

absl::StatusOr<ValueSelector> ParseValueSelector(absl::string_view text) {
  if (text.find('=') == absl::string_view::npos &&
      text.find(':') != absl::string_view::npos) {
    return SpecError(
        text, absl::StrCat("a bare digest names no register; give ",
                           kSelectorSyntax, ", e.g. tpm/pcr/4=sha256:<64 "
                           "hex> or amd-sev-snp/launch-measurement=sha384:<96 "
                           "hex>"));
  }
  const size_t equals = text.find('=');
  if (equals == absl::string_view::npos) {
    return SpecError(text, absl::StrCat("expected ", kSelectorSyntax));
  }
  if (text.find(',', equals) != absl::string_view::npos) {
    return SpecError(text,
                     absl::StrCat("a selector has no parameters (",
                                  kSelectorSyntax, ")"));
  }
  ASSIGN_OR_RETURN(ReferenceValue value, ParseValueSpec(text));
  return ValueSelector{std::move(value.platform), std::move(value.kind),
                       value.index, std::move(value.digest)};
}

bool SelectorMatches(const ValueSelector& selector,
                     const ReferenceValue& value) {
  return selector.platform == value.platform && selector.kind == value.kind &&
         selector.index == value.index && selector.digest == value.digest;
}

std::string FormatValueTarget(const ReferenceValue& value) {
  return value.index.has_value()
             ? absl::StrCat(value.platform, "/", value.kind, "/", *value.index)
             : absl::StrCat(value.platform, "/", value.kind);
}

std::string FormatValueSelector(const ValueSelector& selector) {
  ReferenceValue value;
  value.platform = selector.platform;
  value.kind = selector.kind;
  value.index = selector.index;
  return absl::StrCat(FormatValueTarget(value), "=", selector.digest.algorithm,
                      ":", selector.digest.hex);
}

ValueSelector SelectorOf(const ReferenceValue& value) {
  return ValueSelector{value.platform, value.kind, value.index, value.digest};
}

}  // namespace refsum::statement
