#include "statement/calculators.h"

#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "encoding/json.h"

namespace refsum::statement {
namespace {

using encoding::JsonPathElement;
using encoding::JsonPathError;
using encoding::JsonPathMember;

struct Rule {
  absl::string_view name;
  absl::string_view platform;
  absl::string_view kind;
  // Empty: any index the kind allows.
  std::vector<int64_t> indexes;
  std::vector<absl::string_view> required_roles;
  std::vector<absl::string_view> optional_roles;
  std::vector<absl::string_view> parameters;
  std::vector<absl::string_view> required_parameters;
};

const std::vector<Rule>& Rules() {
  static const std::vector<Rule>* const rules = new std::vector<Rule>{
      {"sev-snp",
       "amd-sev-snp",
       "launch-measurement",
       {},
       {"ovmf"},
       {"kernel", "initrd"},
       {"vcpus", "vmm-type", "vcpu-type", "vcpu-sig", "guest-features",
        "append"},
       {"vcpus"}},
      {"tdx-mrtd", "intel-tdx", "mrtd", {}, {"tdvf"}, {}, {"page-order"}, {}},
      {"uki-pcr", "tpm", "pcr", {4, 9, 11}, {"uki"}, {}, {"sections"}, {}},
      {"tpm-separator", "tpm", "pcr", {}, {}, {}, {}, {}},
      {"dm-verity",
       "generic",
       "dm-verity-root",
       {},
       {"image"},
       {},
       {"hash", "salt", "data-block-size", "hash-block-size"},
       {}},
  };
  return *rules;
}

bool Contains(const std::vector<absl::string_view>& list,
              absl::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

absl::Status ValidateCalculator(const ReferenceValue& value,
                                const std::vector<Subject>& subjects,
                                absl::string_view value_path) {
  const Calculator& calculator = *value.calculator;
  const std::string path = JsonPathMember(value_path, "calculator");
  const Rule* rule = nullptr;
  std::vector<absl::string_view> names;
  for (const Rule& candidate : Rules()) {
    names.push_back(candidate.name);
    if (candidate.name == calculator.name) rule = &candidate;
  }
  if (rule == nullptr) {
    return JsonPathError(
        JsonPathMember(path, "name"),
        absl::StrCat("unknown calculator \"", absl::CHexEscape(calculator.name),
                     "\" (expected one of ", absl::StrJoin(names, ", "), ")"));
  }
  if (value.platform != rule->platform || value.kind != rule->kind) {
    return JsonPathError(
        JsonPathMember(path, "name"),
        absl::StrCat(rule->name, " computes ", rule->platform, "/", rule->kind,
                     " values, not ", value.platform, "/", value.kind));
  }
  if (!rule->indexes.empty() &&
      (!value.index.has_value() ||
       std::find(rule->indexes.begin(), rule->indexes.end(), *value.index) ==
           rule->indexes.end())) {
    return JsonPathError(
        JsonPathMember(value_path, "index"),
        absl::StrCat(rule->name, " computes PCR ",
                     absl::StrJoin(rule->indexes, ", ")));
  }
  const std::string inputs_path = JsonPathMember(path, "inputs");
  for (const auto& input : calculator.inputs) {
    const std::string& role = input.first;
    const std::string& subject = input.second;
    const std::string role_path = JsonPathMember(inputs_path, role);
    if (!Contains(rule->required_roles, role) &&
        !Contains(rule->optional_roles, role)) {
      std::vector<absl::string_view> roles = rule->required_roles;
      roles.insert(roles.end(), rule->optional_roles.begin(),
                   rule->optional_roles.end());
      return JsonPathError(
          role_path,
          absl::StrCat("unknown role for ", rule->name, " (expected ",
                       roles.empty() ? "none" : absl::StrJoin(roles, ", "),
                       ")"));
    }
    if (std::none_of(subjects.begin(), subjects.end(),
                     [&](const Subject& s) { return s.name == subject; })) {
      return JsonPathError(role_path, "names no subject of the claim");
    }
  }
  for (absl::string_view role : rule->required_roles) {
    if (calculator.inputs.count(std::string(role)) == 0) {
      return JsonPathError(inputs_path,
                           absl::StrCat(rule->name, " needs the input ", role));
    }
  }
  const std::string parameters_path = JsonPathMember(value_path, "parameters");
  for (const auto& [name, unused] : value.parameters) {
    if (!Contains(rule->parameters, name)) {
      return JsonPathError(
          JsonPathMember(parameters_path, name),
          absl::StrCat("not a parameter of ", rule->name, " (expected ",
                       rule->parameters.empty()
                           ? std::string("none")
                           : absl::StrJoin(rule->parameters, ", "),
                       ")"));
    }
  }
  for (absl::string_view name : rule->required_parameters) {
    if (value.parameters.count(std::string(name)) == 0) {
      return JsonPathError(parameters_path,
                           absl::StrCat(rule->name, " needs ", name));
    }
  }
  // Parameters that would be recorded but not used are refused: a claim
  // must say exactly how its value was computed.
  const auto has = [&](absl::string_view name) {
    return value.parameters.count(std::string(name)) != 0;
  };
  if (rule->name == "sev-snp") {
    if (has("vcpu-type") && has("vcpu-sig")) {
      return JsonPathError(parameters_path,
                           "give vcpu-type or vcpu-sig, not both");
    }
    auto vmm = value.parameters.find("vmm-type");
    if (vmm != value.parameters.end() && vmm->second != "qemu" &&
        (has("vcpu-type") || has("vcpu-sig"))) {
      return JsonPathError(
          parameters_path,
          absl::StrCat("vmm-type ", absl::CHexEscape(vmm->second),
                       " fixes its own vCPU signature: no vcpu-type or "
                       "vcpu-sig"));
    }
  }
  if (rule->name == "uki-pcr" && has("sections") && value.index != 11) {
    return JsonPathError(JsonPathMember(parameters_path, "sections"),
                         "only PCR 11 measures sections");
  }
  if (rule->name == "sev-snp" && calculator.inputs.count("kernel") == 0 &&
      (calculator.inputs.count("initrd") != 0 ||
       value.parameters.count("append") != 0)) {
    return JsonPathError(inputs_path,
                         "sev-snp takes an initrd or append only with a kernel");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCalculators(const std::vector<ReferenceValue>& values,
                                 const std::vector<Subject>& subjects,
                                 absl::string_view path) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].calculator.has_value()) continue;
    RETURN_IF_ERROR(
        ValidateCalculator(values[i], subjects, JsonPathElement(path, i)));
  }
  return absl::OkStatus();
}

}  // namespace refsum::statement
