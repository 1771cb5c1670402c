#include "statement/in_toto.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
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

absl::Status ValidateSubject(const Subject& subject, absl::string_view path) {
  RETURN_IF_ERROR(
      CheckNonEmptyString(subject.name, JsonPathMember(path, "name")));
  RETURN_IF_ERROR(
      ValidateDigestSet(subject.digest, JsonPathMember(path, "digest")));
  if (!subject.download_location.has_value()) return absl::OkStatus();
  return CheckUri(*subject.download_location,
                  JsonPathMember(path, "downloadLocation"));
}

absl::StatusOr<Subject> ReadSubject(const JsonObjectReader& object) {
  RETURN_IF_ERROR(
      object.RejectUnknownFields({"name", "digest", "downloadLocation"}));
  Subject subject;
  ASSIGN_OR_RETURN(subject.name, object.Required<std::string>("name"));
  ASSIGN_OR_RETURN(const JsonObjectReader digest,
                   object.Required<JsonObjectReader>("digest"));
  ASSIGN_OR_RETURN(subject.digest, ReadDigestSet(digest));
  ASSIGN_OR_RETURN(subject.download_location,
                   object.Optional<std::string>("downloadLocation"));
  return subject;
}

JsonValue SubjectToJson(const Subject& subject) {
  JsonValue::Object members = {
      {"name", JsonValue::String(subject.name)},
      {"digest", DigestSetToJson(subject.digest)},
  };
  AppendOptionalString("downloadLocation", subject.download_location, &members);
  return JsonValue::MakeObject(std::move(members));
}

// Reads required string member `key` and checks it is exactly `expected`.
absl::Status ExpectConstant(const JsonObjectReader& object,
                            absl::string_view key, absl::string_view expected) {
  ASSIGN_OR_RETURN(const std::string value, object.Required<std::string>(key));
  if (value == expected) return absl::OkStatus();
  return JsonPathError(object.MemberPath(key),
                       absl::StrCat("must be \"", expected, "\""));
}

encoding::JsonLimits StatementLimits() {
  encoding::JsonLimits limits;
  limits.max_depth = kMaxStatementDepth;
  limits.max_input_bytes = kMaxPayloadBytes;
  return limits;
}

}  // namespace

absl::Status ValidateSubjects(const std::vector<Subject>& subjects,
                              absl::string_view path) {
  if (subjects.empty()) {
    return JsonPathError(path, "at least one subject is required");
  }
  if (subjects.size() > kMaxSubjects) {
    return JsonPathError(path,
                         absl::StrCat("more than ", kMaxSubjects, " subjects"));
  }
  absl::flat_hash_set<absl::string_view> names;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const std::string subject_path = JsonPathElement(path, i);
    RETURN_IF_ERROR(ValidateSubject(subjects[i], subject_path));
    if (!names.insert(subjects[i].name).second) {
      return JsonPathError(JsonPathMember(subject_path, "name"),
                           "duplicate subject name");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Subject>> ReadSubjects(
    const JsonArrayReader& array) {
  std::vector<Subject> subjects;
  for (size_t i = 0; i < array.size(); ++i) {
    ASSIGN_OR_RETURN(const JsonObjectReader object,
                     array.At<JsonObjectReader>(i));
    ASSIGN_OR_RETURN(Subject subject, ReadSubject(object));
    subjects.push_back(std::move(subject));
  }
  return subjects;
}

JsonValue SubjectsToJson(const std::vector<Subject>& subjects) {
  JsonValue::Array elements;
  for (const Subject& subject : subjects) {
    elements.push_back(SubjectToJson(subject));
  }
  return JsonValue::MakeArray(std::move(elements));
}

absl::StatusOr<std::vector<Subject>> ParseStatement(
    absl::string_view payload_json, absl::string_view predicate_type,
    absl::FunctionRef<absl::Status(const JsonObjectReader&)> read_predicate) {
  ASSIGN_OR_RETURN(const JsonValue root,
                   encoding::ParseJson(payload_json, StatementLimits()));
  ASSIGN_OR_RETURN(const JsonObjectReader statement,
                   encoding::ReadJsonAs<JsonObjectReader>(root, ""));
  RETURN_IF_ERROR(statement.RejectUnknownFields(
      {"_type", "subject", "predicateType", "predicate"}));
  RETURN_IF_ERROR(ExpectConstant(statement, "_type", kStatementType));
  ASSIGN_OR_RETURN(const JsonArrayReader subject_array,
                   statement.Required<JsonArrayReader>("subject"));
  ASSIGN_OR_RETURN(std::vector<Subject> subjects, ReadSubjects(subject_array));
  RETURN_IF_ERROR(ExpectConstant(statement, "predicateType", predicate_type));
  ASSIGN_OR_RETURN(const JsonObjectReader predicate,
                   statement.Required<JsonObjectReader>("predicate"));
  RETURN_IF_ERROR(read_predicate(predicate));
  return subjects;
}

absl::StatusOr<std::string> SerializeStatement(
    const std::vector<Subject>& subjects, absl::string_view predicate_type,
    JsonValue predicate) {
  std::string payload = encoding::SerializeJson(JsonValue::MakeObject({
      {"_type", JsonValue::String(std::string(kStatementType))},
      {"subject", SubjectsToJson(subjects)},
      {"predicateType", JsonValue::String(std::string(predicate_type))},
      {"predicate", std::move(predicate)},
  }));
  if (payload.size() > kMaxPayloadBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "statement of ", payload.size(), " bytes exceeds the limit of ",
        kMaxPayloadBytes, " bytes"));
  }
  return payload;
}

}  // namespace refsum::statement
