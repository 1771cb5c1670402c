#include "statement/digest.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "statement/fields.h"

namespace refsum::statement {
namespace {

using encoding::JsonArrayReader;
using encoding::JsonObjectReader;
using encoding::JsonPathElement;
using encoding::JsonPathError;
using encoding::JsonPathMember;
using encoding::JsonValue;

struct Algorithm {
  absl::string_view name;
  size_t digest_bytes;
};

constexpr Algorithm kAlgorithms[] = {
    {kSha256, 32},
    {kSha384, 48},
    {kSha512, 64},
};

enum class IndexUse { kForbidden, kRequired, kOptional };

// One row of the platform table in digest.h.
struct KindRule {
  absl::string_view platform;
  // Empty for `generic`, whose kinds are any name IsGenericKind accepts.
  absl::string_view kind;
  IndexUse index_use;
  int64_t max_index;
  // Empty when any supported algorithm will do.
  absl::string_view algorithm;
};

// Rows of one platform are adjacent, which KnownPlatforms relies on.
constexpr KindRule kKindRules[] = {
    {"amd-sev-snp", "launch-measurement", IndexUse::kForbidden, 0, kSha384},
    {"intel-tdx", "mrtd", IndexUse::kForbidden, 0, kSha384},
    {"intel-tdx", "rtmr", IndexUse::kRequired, 3, kSha384},
    {"intel-tdx", "mrconfigid", IndexUse::kForbidden, 0, kSha384},
    {"intel-tdx", "mrowner", IndexUse::kForbidden, 0, kSha384},
    {"intel-tdx", "mrownerconfig", IndexUse::kForbidden, 0, kSha384},
    {"tpm", "pcr", IndexUse::kRequired, 23, ""},
    {"aws-nitro", "pcr", IndexUse::kRequired, 31, kSha384},
    {"generic", "", IndexUse::kOptional, kMaxGenericIndex, ""},
};

constexpr size_t kMaxGenericKindBytes = 64;

const Algorithm* FindAlgorithm(absl::string_view name) {
  for (const Algorithm& algorithm : kAlgorithms) {
    if (algorithm.name == name) return &algorithm;
  }
  return nullptr;
}


// Returns true when every character of `text` satisfies `allowed` and its
// length is 1 to `max_bytes`.
template <typename Predicate>
bool IsNameOf(absl::string_view text, size_t max_bytes, Predicate allowed) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (const char c : text) {
    if (!allowed(c)) return false;
  }
  return true;
}

bool IsGenericKind(absl::string_view kind) {
  return IsNameOf(kind, kMaxGenericKindBytes, [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

std::string GenericKindPattern() {
  return absl::StrCat("[a-z0-9-]{1,", kMaxGenericKindBytes, "}");
}

bool IsParameterName(absl::string_view name) {
  return IsNameOf(name, kMaxParameterNameBytes, [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

std::string KnownPlatforms() {
  std::string known;
  absl::string_view previous;
  for (const KindRule& rule : kKindRules) {
    if (rule.platform == previous) continue;
    absl::StrAppend(&known, known.empty() ? "" : ", ", rule.platform);
    previous = rule.platform;
  }
  return known;
}

std::string KnownKinds(absl::string_view platform) {
  std::string known;
  for (const KindRule& rule : kKindRules) {
    if (rule.platform != platform) continue;
    const std::string kind =
        rule.kind.empty() ? GenericKindPattern() : std::string(rule.kind);
    absl::StrAppend(&known, known.empty() ? "" : ", ", kind);
  }
  return known;
}

// Returns the rule for the value's platform and kind; the error names the
// field that is at fault. Only names found in the table are echoed.
absl::StatusOr<KindRule> FindKindRule(const ReferenceValue& value,
                                      absl::string_view path) {
  bool platform_known = false;
  for (const KindRule& rule : kKindRules) {
    if (rule.platform != value.platform) continue;
    platform_known = true;
    if (rule.kind.empty() ? IsGenericKind(value.kind)
                          : rule.kind == value.kind) {
      return rule;
    }
  }
  if (!platform_known) {
    return JsonPathError(JsonPathMember(path, "platform"),
                         absl::StrCat("unknown platform (expected one of ",
                                      KnownPlatforms(), ")"));
  }
  return JsonPathError(
      JsonPathMember(path, "kind"),
      absl::StrCat("unknown kind for platform ", value.platform,
                   " (expected one of ", KnownKinds(value.platform), ")"));
}

// `value` has passed FindKindRule, so its platform and kind are safe to echo.
absl::Status CheckIndex(const ReferenceValue& value, const KindRule& rule,
                        absl::string_view path) {
  const std::string index_path = JsonPathMember(path, "index");
  const std::string what = absl::StrCat(value.platform, " ", value.kind);
  if (!value.index.has_value()) {
    if (rule.index_use != IndexUse::kRequired) return absl::OkStatus();
    return JsonPathError(index_path, absl::StrCat("required for ", what));
  }
  if (rule.index_use == IndexUse::kForbidden) {
    return JsonPathError(index_path, absl::StrCat("not allowed for ", what));
  }
  if (*value.index < 0 || *value.index > rule.max_index) {
    return JsonPathError(
        index_path,
        absl::StrCat("must be between 0 and ", rule.max_index, " for ", what));
  }
  return absl::OkStatus();
}

absl::Status CheckDigestAlgorithm(const ReferenceValue& value,
                                  const KindRule& rule,
                                  absl::string_view path) {
  const std::string digest_path = JsonPathMember(path, "digest");
  RETURN_IF_ERROR(ValidateDigest(value.digest, digest_path));
  if (rule.algorithm.empty() || rule.algorithm == value.digest.algorithm) {
    return absl::OkStatus();
  }
  return JsonPathError(
      JsonPathMember(digest_path, value.digest.algorithm),
      absl::StrCat(value.platform, " ", value.kind, " values are ",
                   rule.algorithm, " digests"));
}

absl::Status ValidateParameters(const Parameters& parameters,
                                absl::string_view path) {
  if (parameters.size() > kMaxParameters) {
    return JsonPathError(
        path, absl::StrCat("more than ", kMaxParameters, " parameters"));
  }
  for (const auto& [name, value] : parameters) {
    const std::string parameter_path = JsonPathMember(path, name);
    if (!IsParameterName(name)) {
      return JsonPathError(
          parameter_path,
          absl::StrCat("parameter names are 1 to ", kMaxParameterNameBytes,
                       " characters of [A-Za-z0-9._-]"));
    }
    RETURN_IF_ERROR(CheckString(value, parameter_path));
  }
  return absl::OkStatus();
}

absl::Status ValidateReferenceValue(const ReferenceValue& value,
                                    absl::string_view path) {
  ASSIGN_OR_RETURN(const KindRule rule, FindKindRule(value, path));
  RETURN_IF_ERROR(CheckIndex(value, rule, path));
  RETURN_IF_ERROR(CheckDigestAlgorithm(value, rule, path));
  return ValidateParameters(value.parameters,
                            JsonPathMember(path, "parameters"));
}

// Reads a JSON object whose members are all strings.
absl::StatusOr<std::map<std::string, std::string>> ReadStringMap(
    const JsonObjectReader& object) {
  std::map<std::string, std::string> map;
  for (const auto& [key, value] : object.members()) {
    ASSIGN_OR_RETURN(map[key], encoding::ReadJsonAs<std::string>(
                                   value, object.MemberPath(key)));
  }
  return map;
}

JsonValue StringMapToJson(const std::map<std::string, std::string>& map) {
  JsonValue::Object members;
  for (const auto& [key, value] : map) {
    members.emplace_back(key, JsonValue::String(value));
  }
  return JsonValue::MakeObject(std::move(members));
}

absl::StatusOr<Digest> ReadSingleDigest(const JsonObjectReader& object) {
  ASSIGN_OR_RETURN(DigestSet digests, ReadStringMap(object));
  if (digests.size() != 1) {
    return JsonPathError(object.path(), "must hold exactly one digest");
  }
  return Digest{digests.begin()->first, digests.begin()->second};
}

absl::StatusOr<Parameters> ReadParameters(const JsonObjectReader& object) {
  ASSIGN_OR_RETURN(Parameters parameters, ReadStringMap(object));
  if (parameters.empty()) {
    return JsonPathError(object.path(), "must not be empty (omit it instead)");
  }
  return parameters;
}

absl::StatusOr<Calculator> ReadCalculator(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"name", "inputs"}));
  Calculator calculator;
  ASSIGN_OR_RETURN(calculator.name, object.Required<std::string>("name"));
  ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> inputs,
                   object.Optional<JsonObjectReader>("inputs"));
  if (inputs.has_value()) {
    ASSIGN_OR_RETURN(calculator.inputs, ReadStringMap(*inputs));
    if (calculator.inputs.empty()) {
      return JsonPathError(inputs->path(),
                           "must not be empty (omit it instead)");
    }
  }
  return calculator;
}

absl::StatusOr<ComputedBy> ReadComputedBy(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"calculator", "tool"}));
  ComputedBy computed_by;
  ASSIGN_OR_RETURN(computed_by.calculator,
                   object.Required<std::string>("calculator"));
  ASSIGN_OR_RETURN(computed_by.tool, object.Required<std::string>("tool"));
  return computed_by;
}

absl::StatusOr<ReferenceValue> ReadReferenceValue(
    const JsonObjectReader& object, ValueSource source) {
  switch (source) {
    case ValueSource::kClaim:
      RETURN_IF_ERROR(object.RejectUnknownFields(
          {"platform", "kind", "index", "digest", "parameters",
           "calculator"}));
      break;
    case ValueSource::kRebuilt:
      RETURN_IF_ERROR(object.RejectUnknownFields(
          {"platform", "kind", "index", "digest", "parameters", "computedBy",
           "reportedBy"}));
      break;
    case ValueSource::kPlain:
      RETURN_IF_ERROR(object.RejectUnknownFields(
          {"platform", "kind", "index", "digest", "parameters"}));
      break;
  }
  ReferenceValue value;
  ASSIGN_OR_RETURN(value.platform, object.Required<std::string>("platform"));
  ASSIGN_OR_RETURN(value.kind, object.Required<std::string>("kind"));
  ASSIGN_OR_RETURN(value.index, object.Optional<int64_t>("index"));
  ASSIGN_OR_RETURN(const JsonObjectReader digest,
                   object.Required<JsonObjectReader>("digest"));
  ASSIGN_OR_RETURN(value.digest, ReadSingleDigest(digest));
  ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> parameters,
                   object.Optional<JsonObjectReader>("parameters"));
  if (parameters.has_value()) {
    ASSIGN_OR_RETURN(value.parameters, ReadParameters(*parameters));
  }
  if (source == ValueSource::kClaim) {
    ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> calculator,
                     object.Optional<JsonObjectReader>("calculator"));
    if (calculator.has_value()) {
      ASSIGN_OR_RETURN(value.calculator, ReadCalculator(*calculator));
    }
  }
  if (source == ValueSource::kRebuilt) {
    ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> computed_by,
                     object.Optional<JsonObjectReader>("computedBy"));
    if (computed_by.has_value()) {
      ASSIGN_OR_RETURN(value.computed_by, ReadComputedBy(*computed_by));
    }
    ASSIGN_OR_RETURN(const std::optional<std::string> reported_by,
                     object.Optional<std::string>("reportedBy"));
    if (reported_by.has_value()) {
      if (*reported_by != "recipe") {
        return JsonPathError(JsonPathMember(object.path(), "reportedBy"),
                             "must be \"recipe\"");
      }
      if (value.computed_by.has_value()) {
        return JsonPathError(object.path(),
                             "has both computedBy and reportedBy");
      }
      value.reported_by_recipe = true;
    }
  }
  return value;
}

JsonValue ReferenceValueToJson(const ReferenceValue& value) {
  JsonValue::Object members = {
      {"platform", JsonValue::String(value.platform)},
      {"kind", JsonValue::String(value.kind)},
  };
  if (value.index.has_value()) {
    members.emplace_back("index", JsonValue::Integer(*value.index));
  }
  members.emplace_back(
      "digest", StringMapToJson({{value.digest.algorithm, value.digest.hex}}));
  if (!value.parameters.empty()) {
    members.emplace_back("parameters", StringMapToJson(value.parameters));
  }
  if (value.calculator.has_value()) {
    JsonValue::Object calculator = {
        {"name", JsonValue::String(value.calculator->name)}};
    if (!value.calculator->inputs.empty()) {
      calculator.emplace_back("inputs",
                              StringMapToJson(value.calculator->inputs));
    }
    members.emplace_back("calculator",
                         JsonValue::MakeObject(std::move(calculator)));
  }
  if (value.computed_by.has_value()) {
    members.emplace_back(
        "computedBy",
        JsonValue::MakeObject(
            {{"calculator", JsonValue::String(value.computed_by->calculator)},
             {"tool", JsonValue::String(value.computed_by->tool)}}));
  }
  if (value.reported_by_recipe) {
    members.emplace_back("reportedBy", JsonValue::String("recipe"));
  }
  return JsonValue::MakeObject(std::move(members));
}

}  // namespace

absl::Status ValidateDigest(const Digest& digest, absl::string_view path) {
  const std::string entry_path = JsonPathMember(path, digest.algorithm);
  const Algorithm* algorithm = FindAlgorithm(digest.algorithm);
  if (algorithm == nullptr) {
    return JsonPathError(
        entry_path,
        "unsupported digest algorithm (expected sha256, sha384 or sha512)");
  }
  return CheckLowerHex(digest.hex, {algorithm->digest_bytes}, entry_path);
}

absl::Status ValidateDigestSet(const DigestSet& digests,
                               absl::string_view path) {
  if (digests.count(std::string(kSha256)) == 0) {
    return JsonPathError(JsonPathMember(path, kSha256),
                         "missing required digest");
  }
  for (const auto& [algorithm, hex] : digests) {
    RETURN_IF_ERROR(ValidateDigest(Digest{algorithm, hex}, path));
  }
  return absl::OkStatus();
}

absl::StatusOr<DigestSet> ReadDigestSet(const JsonObjectReader& object) {
  return ReadStringMap(object);
}

JsonValue DigestSetToJson(const DigestSet& digests) {
  return StringMapToJson(digests);
}

absl::Status ValidateReferenceValues(const std::vector<ReferenceValue>& values,
                                     absl::string_view path) {
  if (values.empty()) {
    return JsonPathError(path, "at least one reference value is required");
  }
  if (values.size() > kMaxReferenceValues) {
    return JsonPathError(path, absl::StrCat("more than ", kMaxReferenceValues,
                                            " reference values"));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    RETURN_IF_ERROR(
        ValidateReferenceValue(values[i], JsonPathElement(path, i)));
  }
  return absl::OkStatus();
}

bool SameMeasurement(const ReferenceValue& a, const ReferenceValue& b) {
  return a.platform == b.platform && a.kind == b.kind && a.index == b.index &&
         a.parameters == b.parameters;
}

bool SameValue(const ReferenceValue& a, const ReferenceValue& b) {
  return SameMeasurement(a, b) && a.digest == b.digest;
}

absl::StatusOr<std::vector<ReferenceValue>> ReadReferenceValues(
    const JsonArrayReader& array, ValueSource source) {
  std::vector<ReferenceValue> values;
  for (size_t i = 0; i < array.size(); ++i) {
    ASSIGN_OR_RETURN(const JsonObjectReader object,
                     array.At<JsonObjectReader>(i));
    ASSIGN_OR_RETURN(ReferenceValue value, ReadReferenceValue(object, source));
    values.push_back(std::move(value));
  }
  return values;
}

JsonValue ReferenceValuesToJson(const std::vector<ReferenceValue>& values) {
  JsonValue::Array elements;
  for (const ReferenceValue& value : values) {
    elements.push_back(ReferenceValueToJson(value));
  }
  return JsonValue::MakeArray(std::move(elements));
}

}  // namespace refsum::statement
