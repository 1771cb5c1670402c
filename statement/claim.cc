#include "statement/claim.h"

#include <algorithm>
#include <utility>

#include "base/status_macros.h"
#include "encoding/json.h"
#include "statement/calculators.h"
#include "statement/fields.h"

namespace refsum::statement {
namespace {

using encoding::JsonArrayReader;
using encoding::JsonObjectReader;
using encoding::JsonValue;

// Git object names: SHA-1 or SHA-256.
constexpr size_t kSha1CommitBytes = 20;
constexpr size_t kSha256CommitBytes = 32;

absl::StatusOr<Source> ReadSource(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"repository", "commit", "tag"}));
  Source source;
  ASSIGN_OR_RETURN(source.repository,
                   object.Required<std::string>("repository"));
  ASSIGN_OR_RETURN(source.commit, object.Required<std::string>("commit"));
  ASSIGN_OR_RETURN(source.tag, object.Optional<std::string>("tag"));
  return source;
}

absl::StatusOr<Build> ReadBuild(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"recipe", "toolchain"}));
  Build build;
  ASSIGN_OR_RETURN(build.recipe, object.Required<std::string>("recipe"));
  ASSIGN_OR_RETURN(build.toolchain, object.Optional<std::string>("toolchain"));
  return build;
}

absl::StatusOr<MeasurementTool> ReadMeasurementTool(
    const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"name", "version"}));
  MeasurementTool tool;
  ASSIGN_OR_RETURN(tool.name, object.Required<std::string>("name"));
  ASSIGN_OR_RETURN(tool.version, object.Required<std::string>("version"));
  return tool;
}

absl::Status ReadPredicate(const JsonObjectReader& predicate, Claim* claim) {
  RETURN_IF_ERROR(predicate.RejectUnknownFields(
      {"source", "build", "referenceValues", "measurementTool"}));
  ASSIGN_OR_RETURN(const JsonObjectReader source,
                   predicate.Required<JsonObjectReader>("source"));
  ASSIGN_OR_RETURN(claim->source, ReadSource(source));
  ASSIGN_OR_RETURN(const JsonObjectReader build,
                   predicate.Required<JsonObjectReader>("build"));
  ASSIGN_OR_RETURN(claim->build, ReadBuild(build));
  ASSIGN_OR_RETURN(const JsonArrayReader values,
                   predicate.Required<JsonArrayReader>("referenceValues"));
  ASSIGN_OR_RETURN(claim->reference_values,
                   ReadReferenceValues(values, ValueSource::kClaim));
  ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> tool,
                   predicate.Optional<JsonObjectReader>("measurementTool"));
  if (tool.has_value()) {
    ASSIGN_OR_RETURN(claim->measurement_tool, ReadMeasurementTool(*tool));
  }
  return absl::OkStatus();
}

absl::Status ValidateSource(const Source& source) {
  RETURN_IF_ERROR(CheckUri(source.repository, "predicate.source.repository"));
  RETURN_IF_ERROR(CheckLowerHex(source.commit,
                                {kSha1CommitBytes, kSha256CommitBytes},
                                "predicate.source.commit"));
  return CheckOptionalString(source.tag, "predicate.source.tag");
}

absl::Status ValidateBuild(const Build& build) {
  RETURN_IF_ERROR(CheckNonEmptyString(build.recipe, "predicate.build.recipe"));
  return CheckOptionalString(build.toolchain, "predicate.build.toolchain");
}

absl::Status ValidateMeasurementTool(
    const std::optional<MeasurementTool>& tool) {
  if (!tool.has_value()) return absl::OkStatus();
  RETURN_IF_ERROR(
      CheckNonEmptyString(tool->name, "predicate.measurementTool.name"));
  return CheckNonEmptyString(tool->version,
                             "predicate.measurementTool.version");
}

JsonValue SourceToJson(const Source& source) {
  JsonValue::Object members = {
      {"repository", JsonValue::String(source.repository)},
      {"commit", JsonValue::String(source.commit)},
  };
  AppendOptionalString("tag", source.tag, &members);
  return JsonValue::MakeObject(std::move(members));
}

JsonValue BuildToJson(const Build& build) {
  JsonValue::Object members = {{"recipe", JsonValue::String(build.recipe)}};
  AppendOptionalString("toolchain", build.toolchain, &members);
  return JsonValue::MakeObject(std::move(members));
}

JsonValue PredicateToJson(const Claim& claim) {
  JsonValue::Object members = {
      {"source", SourceToJson(claim.source)},
      {"build", BuildToJson(claim.build)},
      {"referenceValues", ReferenceValuesToJson(claim.reference_values)},
  };
  if (claim.measurement_tool.has_value()) {
    members.emplace_back(
        "measurementTool",
        JsonValue::MakeObject({
            {"name", JsonValue::String(claim.measurement_tool->name)},
            {"version", JsonValue::String(claim.measurement_tool->version)},
        }));
  }
  return JsonValue::MakeObject(std::move(members));
}

template <typename T>
void AppendUnique(T item, std::vector<T>* items) {
  if (std::find(items->begin(), items->end(), item) == items->end()) {
    items->push_back(std::move(item));
  }
}

}  // namespace

absl::StatusOr<Claim> ParseClaim(absl::string_view payload_json) {
  Claim claim;
  ASSIGN_OR_RETURN(claim.subjects,
                   ParseStatement(payload_json, kClaimPredicateType,
                                  [&claim](const JsonObjectReader& predicate) {
                                    return ReadPredicate(predicate, &claim);
                                  }));
  RETURN_IF_ERROR(ValidateClaim(claim));
  return claim;
}

absl::Status ValidateClaim(const Claim& claim) {
  RETURN_IF_ERROR(ValidateSubjects(claim.subjects, "subject"));
  RETURN_IF_ERROR(ValidateSource(claim.source));
  RETURN_IF_ERROR(ValidateBuild(claim.build));
  RETURN_IF_ERROR(ValidateReferenceValues(claim.reference_values,
                                          "predicate.referenceValues"));
  for (size_t i = 0; i < claim.reference_values.size(); ++i) {
    const ReferenceValue& value = claim.reference_values[i];
    if (value.computed_by.has_value() || value.reported_by_recipe) {
      return encoding::JsonPathError(
          encoding::JsonPathElement("predicate.referenceValues", i),
          "a claimed value has no computedBy or reportedBy");
    }
  }
  RETURN_IF_ERROR(ValidateCalculators(claim.reference_values, claim.subjects,
                                      "predicate.referenceValues"));
  return ValidateMeasurementTool(claim.measurement_tool);
}

absl::StatusOr<std::string> SerializeClaim(const Claim& claim) {
  RETURN_IF_ERROR(ValidateClaim(claim));
  return SerializeStatement(claim.subjects, kClaimPredicateType,
                            PredicateToJson(claim));
}

ClaimLookupKeys LookupKeys(const Claim& claim) {
  ClaimLookupKeys keys;
  for (const Subject& subject : claim.subjects) {
    const auto sha256 = subject.digest.find(std::string(kSha256));
    if (sha256 != subject.digest.end()) {
      AppendUnique(sha256->second, &keys.subject_sha256);
    }
  }
  for (const ReferenceValue& value : claim.reference_values) {
    AppendUnique(value.digest, &keys.reference_values);
  }
  return keys;
}

}  // namespace refsum::statement
