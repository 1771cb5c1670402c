#include "statement/attestation.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "base/status_macros.h"
#include "encoding/json.h"
#include "statement/fields.h"

namespace refsum::statement {
namespace {

using encoding::JsonArrayReader;
using encoding::JsonObjectReader;
using encoding::JsonPathElement;
using encoding::JsonPathError;
using encoding::JsonPathMember;
using encoding::JsonValue;

constexpr size_t kLeafHashBytes = 32;

constexpr absl::string_view kUnknownVerdict =
    "must be MATCH, MISMATCH or FAILED";

constexpr std::pair<Verdict, absl::string_view> kVerdictNames[] = {
    {Verdict::kMatch, "MATCH"},
    {Verdict::kMismatch, "MISMATCH"},
    {Verdict::kFailed, "FAILED"},
};

// The shape of rebuiltAt; each 'd' stands for one ASCII digit.
constexpr absl::string_view kTimestampLayout = "dddd-dd-ddTdd:dd:ddZ";

bool MatchesTimestampLayout(absl::string_view text) {
  if (text.size() != kTimestampLayout.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok = kTimestampLayout[i] == 'd' ? absl::ascii_isdigit(text[i])
                                               : text[i] == kTimestampLayout[i];
    if (!ok) return false;
  }
  return true;
}

// Returns the number written by the `count` digits at text[pos].
int DigitsAt(absl::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) value = value * 10 + text[i] - '0';
  return value;
}

// A civil time normalizes out-of-range fields (February 30th becomes March
// 1st or 2nd), so a timestamp names a real date and time exactly when
// normalizing it changes nothing.
absl::Status CheckTimestamp(absl::string_view text, absl::string_view path) {
  if (!MatchesTimestampLayout(text)) {
    return JsonPathError(path, "must be a UTC time as YYYY-MM-DDTHH:MM:SSZ");
  }
  const absl::CivilSecond time(DigitsAt(text, 0, 4), DigitsAt(text, 5, 2),
                               DigitsAt(text, 8, 2), DigitsAt(text, 11, 2),
                               DigitsAt(text, 14, 2), DigitsAt(text, 17, 2));
  const std::string normalized = absl::StrFormat(
      "%04d-%02d-%02dT%02d:%02d:%02dZ", time.year(), time.month(), time.day(),
      time.hour(), time.minute(), time.second());
  if (normalized != text) {
    return JsonPathError(path, "is not a real date and time");
  }
  return absl::OkStatus();
}

absl::StatusOr<Verdict> ReadVerdict(const JsonObjectReader& predicate) {
  ASSIGN_OR_RETURN(const std::string name,
                   predicate.Required<std::string>("verdict"));
  for (const auto& [verdict, verdict_name] : kVerdictNames) {
    if (verdict_name == name) return verdict;
  }
  return JsonPathError(predicate.MemberPath("verdict"), kUnknownVerdict);
}

absl::StatusOr<ClaimRef> ReadClaimRef(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"origin", "index", "leafHash"}));
  ClaimRef claim;
  ASSIGN_OR_RETURN(claim.origin, object.Required<std::string>("origin"));
  ASSIGN_OR_RETURN(claim.index, object.Required<int64_t>("index"));
  ASSIGN_OR_RETURN(claim.leaf_hash, object.Required<std::string>("leafHash"));
  return claim;
}

absl::StatusOr<RebuiltOutput> ReadRebuilt(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"subject", "referenceValues"}));
  RebuiltOutput rebuilt;
  ASSIGN_OR_RETURN(const JsonArrayReader subjects,
                   object.Required<JsonArrayReader>("subject"));
  ASSIGN_OR_RETURN(rebuilt.subjects, ReadSubjects(subjects));
  ASSIGN_OR_RETURN(const JsonArrayReader values,
                   object.Required<JsonArrayReader>("referenceValues"));
  ASSIGN_OR_RETURN(rebuilt.reference_values, ReadReferenceValues(values, ValueSource::kRebuilt));
  return rebuilt;
}

absl::StatusOr<Rebuilder> ReadRebuilder(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"id", "recipe"}));
  Rebuilder rebuilder;
  ASSIGN_OR_RETURN(rebuilder.id, object.Required<std::string>("id"));
  ASSIGN_OR_RETURN(rebuilder.recipe, object.Required<std::string>("recipe"));
  return rebuilder;
}

absl::StatusOr<Report> ReadReport(const JsonObjectReader& object) {
  RETURN_IF_ERROR(object.RejectUnknownFields({"digest", "uri"}));
  Report report;
  ASSIGN_OR_RETURN(const JsonObjectReader digest,
                   object.Required<JsonObjectReader>("digest"));
  ASSIGN_OR_RETURN(report.digest, ReadDigestSet(digest));
  ASSIGN_OR_RETURN(report.uri, object.Required<std::string>("uri"));
  return report;
}

absl::Status ReadPredicate(const JsonObjectReader& predicate,
                           RebuildAttestation* attestation) {
  RETURN_IF_ERROR(predicate.RejectUnknownFields(
      {"claim", "verdict", "rebuilt", "rebuilder", "rebuiltAt", "report"}));
  ASSIGN_OR_RETURN(const JsonObjectReader claim,
                   predicate.Required<JsonObjectReader>("claim"));
  ASSIGN_OR_RETURN(attestation->claim, ReadClaimRef(claim));
  ASSIGN_OR_RETURN(attestation->verdict, ReadVerdict(predicate));
  ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> rebuilt,
                   predicate.Optional<JsonObjectReader>("rebuilt"));
  if (rebuilt.has_value()) {
    ASSIGN_OR_RETURN(attestation->rebuilt, ReadRebuilt(*rebuilt));
  }
  ASSIGN_OR_RETURN(const JsonObjectReader rebuilder,
                   predicate.Required<JsonObjectReader>("rebuilder"));
  ASSIGN_OR_RETURN(attestation->rebuilder, ReadRebuilder(rebuilder));
  ASSIGN_OR_RETURN(attestation->rebuilt_at,
                   predicate.Required<std::string>("rebuiltAt"));
  ASSIGN_OR_RETURN(const std::optional<JsonObjectReader> report,
                   predicate.Optional<JsonObjectReader>("report"));
  if (report.has_value()) {
    ASSIGN_OR_RETURN(attestation->report, ReadReport(*report));
  }
  return absl::OkStatus();
}

absl::Status ValidateClaimRef(const ClaimRef& claim) {
  RETURN_IF_ERROR(CheckNonEmptyString(claim.origin, "predicate.claim.origin"));
  if (claim.index < 0) {
    return JsonPathError("predicate.claim.index", "must not be negative");
  }
  return CheckLowerHex(claim.leaf_hash, {kLeafHashBytes},
                       "predicate.claim.leafHash");
}

absl::Status ValidateRebuilt(const RebuildAttestation& attestation) {
  constexpr absl::string_view kPath = "predicate.rebuilt";
  const bool failed = attestation.verdict == Verdict::kFailed;
  if (!attestation.rebuilt.has_value()) {
    if (failed) return absl::OkStatus();
    return JsonPathError(kPath, absl::StrCat("required when verdict is ",
                                             VerdictName(attestation.verdict)));
  }
  if (failed) return JsonPathError(kPath, "not allowed when verdict is FAILED");
  RETURN_IF_ERROR(ValidateSubjects(attestation.rebuilt->subjects,
                                   "predicate.rebuilt.subject"));
  constexpr absl::string_view kValues = "predicate.rebuilt.referenceValues";
  RETURN_IF_ERROR(
      ValidateReferenceValues(attestation.rebuilt->reference_values, kValues));
  for (size_t i = 0; i < attestation.rebuilt->reference_values.size(); ++i) {
    const ReferenceValue& value = attestation.rebuilt->reference_values[i];
    const std::string path = JsonPathElement(kValues, i);
    if (value.calculator.has_value()) {
      return JsonPathError(path, "a rebuilt value names no calculator "
                                 "(computedBy says how it was computed)");
    }
    if (value.computed_by.has_value()) {
      RETURN_IF_ERROR(CheckNonEmptyString(
          value.computed_by->calculator,
          JsonPathMember(JsonPathMember(path, "computedBy"), "calculator")));
      RETURN_IF_ERROR(CheckNonEmptyString(
          value.computed_by->tool,
          JsonPathMember(JsonPathMember(path, "computedBy"), "tool")));
      if (value.reported_by_recipe) {
        return JsonPathError(path, "has both computedBy and reportedBy");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRebuilder(const Rebuilder& rebuilder) {
  RETURN_IF_ERROR(CheckNonEmptyString(rebuilder.id, "predicate.rebuilder.id"));
  return CheckNonEmptyString(rebuilder.recipe, "predicate.rebuilder.recipe");
}

absl::Status ValidateReport(const RebuildAttestation& attestation) {
  if (!attestation.report.has_value()) {
    if (attestation.verdict != Verdict::kMismatch) return absl::OkStatus();
    return JsonPathError("predicate.report",
                         "required when verdict is MISMATCH");
  }
  RETURN_IF_ERROR(
      ValidateDigestSet(attestation.report->digest, "predicate.report.digest"));
  return CheckUri(attestation.report->uri, "predicate.report.uri");
}

JsonValue PredicateToJson(const RebuildAttestation& attestation) {
  JsonValue::Object members = {
      {"claim",
       JsonValue::MakeObject({
           {"origin", JsonValue::String(attestation.claim.origin)},
           {"index", JsonValue::Integer(attestation.claim.index)},
           {"leafHash", JsonValue::String(attestation.claim.leaf_hash)},
       })},
      {"verdict",
       JsonValue::String(std::string(VerdictName(attestation.verdict)))},
  };
  if (attestation.rebuilt.has_value()) {
    members.emplace_back(
        "rebuilt",
        JsonValue::MakeObject({
            {"subject", SubjectsToJson(attestation.rebuilt->subjects)},
            {"referenceValues",
             ReferenceValuesToJson(attestation.rebuilt->reference_values)},
        }));
  }
  members.emplace_back(
      "rebuilder",
      JsonValue::MakeObject({
          {"id", JsonValue::String(attestation.rebuilder.id)},
          {"recipe", JsonValue::String(attestation.rebuilder.recipe)},
      }));
  members.emplace_back("rebuiltAt", JsonValue::String(attestation.rebuilt_at));
  if (attestation.report.has_value()) {
    members.emplace_back(
        "report", JsonValue::MakeObject({
                      {"digest", DigestSetToJson(attestation.report->digest)},
                      {"uri", JsonValue::String(attestation.report->uri)},
                  }));
  }
  return JsonValue::MakeObject(std::move(members));
}

}  // namespace

absl::string_view VerdictName(Verdict verdict) {
  for (const auto& [known, name] : kVerdictNames) {
    if (known == verdict) return name;
  }
  return "";
}

absl::StatusOr<RebuildAttestation> ParseRebuildAttestation(
    absl::string_view payload_json) {
  RebuildAttestation attestation;
  ASSIGN_OR_RETURN(
      attestation.subjects,
      ParseStatement(payload_json, kRebuildPredicateType,
                     [&attestation](const JsonObjectReader& predicate) {
                       return ReadPredicate(predicate, &attestation);
                     }));
  RETURN_IF_ERROR(ValidateRebuildAttestation(attestation));
  return attestation;
}

absl::Status ValidateRebuildAttestation(const RebuildAttestation& attestation) {
  RETURN_IF_ERROR(ValidateSubjects(attestation.subjects, "subject"));
  RETURN_IF_ERROR(ValidateClaimRef(attestation.claim));
  if (VerdictName(attestation.verdict).empty()) {
    return JsonPathError("predicate.verdict", kUnknownVerdict);
  }
  RETURN_IF_ERROR(ValidateRebuilt(attestation));
  RETURN_IF_ERROR(ValidateRebuilder(attestation.rebuilder));
  RETURN_IF_ERROR(
      CheckTimestamp(attestation.rebuilt_at, "predicate.rebuiltAt"));
  return ValidateReport(attestation);
}

absl::StatusOr<std::string> SerializeRebuildAttestation(
    const RebuildAttestation& attestation) {
  RETURN_IF_ERROR(ValidateRebuildAttestation(attestation));
  return SerializeStatement(attestation.subjects, kRebuildPredicateType,
                            PredicateToJson(attestation));
}

}  // namespace refsum::statement
