#include "witness/rebuild.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/digest.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "measure/calculator.h"
#include "statement/digest.h"
#include "statement/in_toto.h"
#include "statement/value_spec.h"
#include "witness/files.h"
#include "witness/subprocess.h"
#include "witness/unique_fd.h"

namespace refsum::witness {
namespace {

using encoding::JsonValue;

// The most of reference-values.json the witness reads.
constexpr size_t kMaxReferenceValuesBytes = 1 << 20;
// How much of the build log a report quotes.
constexpr size_t kLogTailBytes = 16 << 10;
// The most of a diffoscope report the witness keeps.
constexpr size_t kMaxDiffoscopeBytes = 16 << 20;

// Returns the digests of the file open at `fd` for each of `algorithms`
// (sha256 always; names crypto/digest.h does not know are skipped), reading
// it once.
absl::StatusOr<statement::DigestSet> HashFile(
    int fd, const std::vector<std::string>& algorithms) {
  std::vector<std::unique_ptr<crypto::Hasher>> hashers;
  for (const std::string& algorithm : algorithms) {
    absl::StatusOr<crypto::HashAlgorithm> parsed =
        crypto::ParseHashAlgorithm(algorithm);
    if (parsed.ok()) hashers.push_back(std::make_unique<crypto::Hasher>(*parsed));
  }
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(errno, "reading an artifact");
    if (got == 0) break;
    for (const auto& hasher : hashers) {
      hasher->Update(absl::string_view(buffer, static_cast<size_t>(got)));
    }
  }
  statement::DigestSet digests;
  for (const auto& hasher : hashers) {
    digests[std::string(crypto::HashAlgorithmName(hasher->algorithm()))] =
        encoding::HexEncode(hasher->Finish());
  }
  return digests;
}

// The claimed algorithms of a subject, sha256 first.
std::vector<std::string> Algorithms(const statement::Subject& subject) {
  std::vector<std::string> algorithms = {std::string(statement::kSha256)};
  for (const auto& [algorithm, hex] : subject.digest) {
    if (algorithm != statement::kSha256) algorithms.push_back(algorithm);
  }
  return algorithms;
}

std::string FormatDigest(const statement::Digest& digest) {
  return absl::StrCat(digest.algorithm, ":", digest.hex);
}

std::string Tail(absl::string_view text, size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  return absl::StrCat("...", text.substr(text.size() - bytes));
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                          absl::UTCTimeZone());
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

// Writes `value` as JSON with two-space indentation, for reports people
// read.
void AppendIndented(const JsonValue& value, int depth, std::string* out) {
  const std::string indent(2 * (depth + 1), ' ');
  const std::string closing_indent(2 * depth, ' ');
  if (const JsonValue::Object* object = value.AsObject();
      object != nullptr && !object->empty()) {
    out->append("{\n");
    for (size_t i = 0; i < object->size(); ++i) {
      absl::StrAppend(
          out, indent,
          encoding::SerializeJson(JsonValue::String((*object)[i].first)), ": ");
      AppendIndented((*object)[i].second, depth + 1, out);
      out->append(i + 1 < object->size() ? ",\n" : "\n");
    }
    absl::StrAppend(out, closing_indent, "}");
  } else if (const JsonValue::Array* array = value.AsArray();
             array != nullptr && !array->empty()) {
    out->append("[\n");
    for (size_t i = 0; i < array->size(); ++i) {
      out->append(indent);
      AppendIndented((*array)[i], depth + 1, out);
      out->append(i + 1 < array->size() ? ",\n" : "\n");
    }
    absl::StrAppend(out, closing_indent, "]");
  } else {
    out->append(encoding::SerializeJson(value));
  }
}

JsonValue OptionalString(const std::optional<std::string>& value) {
  return value.has_value() ? JsonValue::String(*value) : JsonValue();
}

}  // namespace

// What the build left, against what the claim says.
struct Rebuilder::Comparison {
  struct SubjectRow {
    const statement::Subject* claimed;
    // The rebuilt digests, or nullopt when the artifact is missing.
    std::optional<statement::DigestSet> rebuilt;
    // "match", "differs" or "missing: <why>".
    std::string status;
  };
  struct ValueRow {
    const statement::ReferenceValue* claimed;
    // The digest of the rebuilt value measuring the same thing, if any.
    std::optional<statement::Digest> rebuilt;
    // "match", "differs" or "missing".
    std::string status;
    // How the witness got the rebuilt value: "computed by CALCULATOR
    // (TOOL)" or "reported by the recipe".
    std::string obtained;
  };

  std::vector<SubjectRow> subjects;
  std::vector<ValueRow> values;
  // Rebuilt values that no claimed value accounts for.
  std::vector<statement::ReferenceValue> unclaimed;
  // The attestation's `rebuilt`: the artifacts found, and the values read
  // (nullopt, with values_problem saying why, when there are none).
  std::vector<statement::Subject> rebuilt_subjects;
  std::optional<std::vector<statement::ReferenceValue>> rebuilt_values;
  std::string values_problem;
  // Why a value that names a calculator could not be computed, if one
  // could not.
  std::string calculation_problem;

  bool Match() const {
    if (!rebuilt_values.has_value() || !unclaimed.empty()) return false;
    return std::all_of(
               subjects.begin(), subjects.end(),
               [](const SubjectRow& row) { return row.status == "match"; }) &&
           std::all_of(values.begin(), values.end(), [](const ValueRow& row) {
             return row.status == "match";
           });
  }

  std::string Summary() const {
    const auto bad_subjects = std::count_if(
        subjects.begin(), subjects.end(),
        [](const SubjectRow& row) { return row.status != "match"; });
    const auto bad_values = std::count_if(
        values.begin(), values.end(),
        [](const ValueRow& row) { return row.status != "match"; });
    return absl::StrCat(bad_subjects, " of ", subjects.size(), " subjects and ",
                        bad_values, " of ", values.size(),
                        " reference values differ or are missing; ",
                        unclaimed.size(), " rebuilt values are not claimed");
  }
};

const ScopeConfig* FindScope(const std::vector<ScopeConfig>& scopes,
                             absl::string_view repository) {
  const ScopeConfig* best = nullptr;
  for (const ScopeConfig& scope : scopes) {
    if (absl::StartsWith(repository, scope.repository_prefix) &&
        (best == nullptr ||
         scope.repository_prefix.size() > best->repository_prefix.size())) {
      best = &scope;
    }
  }
  return best;
}

std::string DefaultDiffoscopePath() {
  for (const char* path :
       {"/usr/bin/diffoscope", "/usr/local/bin/diffoscope"}) {
    if (IsExecutableFile(path)) return path;
  }
  return "";
}

Rebuilder::Rebuilder(RebuilderOptions options, const Sandbox* sandbox,
                     const GitFetcher* git)
    : options_(std::move(options)), sandbox_(sandbox), git_(git) {}

std::string Rebuilder::ReportName(const statement::ClaimRef& ref) const {
  // The origin's hash keeps names apart across logs and out of the URL's
  // way; the index makes them easy to find.
  return absl::StrCat(crypto::Sha256Hex(ref.origin).substr(0, 16), "-",
                      ref.index);
}

statement::RebuildAttestation Rebuilder::Draft(const LoggedClaim& claim,
                                               const ScopeConfig& scope) const {
  statement::RebuildAttestation attestation;
  attestation.subjects = claim.claim.subjects;
  attestation.claim = claim.ref;
  attestation.rebuilder = {options_.name, scope.recipe};
  return attestation;
}

Rebuilder::Comparison Rebuilder::Compare(const statement::Claim& claim,
                                         const std::string& out_dir) const {
  Comparison comparison;
  for (const statement::Subject& subject : claim.subjects) {
    Comparison::SubjectRow row{&subject, std::nullopt, ""};
    absl::StatusOr<int> fd = OpenFileBeneath(out_dir, subject.name);
    absl::StatusOr<statement::DigestSet> digests =
        fd.ok() ? HashFile(UniqueFd(*fd).get(), Algorithms(subject))
                : fd.status();
    if (!digests.ok()) {
      row.status = absl::StrCat("missing: ", digests.status().message());
    } else {
      row.rebuilt = *digests;
      row.status = *digests == subject.digest ? "match" : "differs";
      comparison.rebuilt_subjects.push_back({subject.name, *digests, {}});
    }
    comparison.subjects.push_back(std::move(row));
  }

  // Values that name a calculator: computed here, from the rebuilt
  // artifacts, never taken from the recipe.
  std::vector<statement::ReferenceValue> rebuilt_values;
  std::map<std::string, std::string> artifacts;
  bool needs_recipe_values = false;
  for (const statement::ReferenceValue& value : claim.reference_values) {
    if (!value.calculator.has_value()) {
      needs_recipe_values = true;
      continue;
    }
    absl::StatusOr<statement::ReferenceValue> computed =
        ComputeValue(value, out_dir, &artifacts);
    if (!computed.ok()) {
      comparison.calculation_problem =
          absl::StrCat("computing ", statement::FormatValueTarget(value), ": ",
                       computed.status().message());
      comparison.values.push_back({&value, std::nullopt, "missing", ""});
      continue;
    }
    comparison.values.push_back(
        {&value, computed->digest,
         computed->digest == value.digest ? "match" : "differs",
         absl::StrCat("computed by ", computed->computed_by->calculator, " (",
                      computed->computed_by->tool, ")")});
    rebuilt_values.push_back(*std::move(computed));
  }
  if (!needs_recipe_values) {
    comparison.rebuilt_values = std::move(rebuilt_values);
    return comparison;
  }

  absl::StatusOr<std::vector<statement::ReferenceValue>> values =
      [&]() -> absl::StatusOr<std::vector<statement::ReferenceValue>> {
    ASSIGN_OR_RETURN(const std::string text,
                     ReadFileBeneath(out_dir, kReferenceValuesFile,
                                     kMaxReferenceValuesBytes));
    ASSIGN_OR_RETURN(const JsonValue json,
                     encoding::ParseJson(text, {statement::kMaxStatementDepth,
                                                kMaxReferenceValuesBytes}));
    ASSIGN_OR_RETURN(const encoding::JsonArrayReader array,
                     encoding::ReadJsonAs<encoding::JsonArrayReader>(json, ""));
    ASSIGN_OR_RETURN(std::vector<statement::ReferenceValue> read,
                     statement::ReadReferenceValues(
                         array, statement::ValueSource::kPlain));
    RETURN_IF_ERROR(statement::ValidateReferenceValues(read, ""));
    return read;
  }();
  if (!values.ok()) {
    comparison.values_problem = absl::StrCat("/out/", kReferenceValuesFile,
                                             ": ", values.status().message());
    for (const statement::ReferenceValue& value : claim.reference_values) {
      if (!value.calculator.has_value()) {
        comparison.values.push_back({&value, std::nullopt, "missing", ""});
      }
    }
    return comparison;
  }
  // What the recipe says about a value the witness computed counts for
  // nothing, whatever it says.
  std::vector<statement::ReferenceValue> reported;
  for (statement::ReferenceValue& value : *values) {
    const bool computed = std::any_of(
        claim.reference_values.begin(), claim.reference_values.end(),
        [&](const statement::ReferenceValue& claimed) {
          return claimed.calculator.has_value() &&
                 statement::SameMeasurement(claimed, value) &&
                 claimed.digest.algorithm == value.digest.algorithm;
        });
    if (computed) continue;
    value.reported_by_recipe = true;
    reported.push_back(std::move(value));
  }
  // Exact matches first, so that a differing value is paired only with a
  // rebuilt value that no claimed value reproduces.
  std::vector<bool> used(reported.size(), false);
  std::vector<Comparison::ValueRow> rows;
  for (const statement::ReferenceValue& value : claim.reference_values) {
    if (value.calculator.has_value()) continue;
    Comparison::ValueRow row{&value, std::nullopt, "missing", ""};
    for (size_t i = 0; i < reported.size(); ++i) {
      if (!used[i] && statement::SameValue(reported[i], value)) {
        used[i] = true;
        row = {&value, reported[i].digest, "match", "reported by the recipe"};
        break;
      }
    }
    rows.push_back(row);
  }
  for (Comparison::ValueRow& row : rows) {
    if (row.status == "match") continue;
    for (size_t i = 0; i < reported.size(); ++i) {
      if (!used[i] && statement::SameMeasurement(reported[i], *row.claimed)) {
        used[i] = true;
        row.rebuilt = reported[i].digest;
        row.status = "differs";
        row.obtained = "reported by the recipe";
        break;
      }
    }
  }
  comparison.values.insert(comparison.values.end(), rows.begin(), rows.end());
  for (size_t i = 0; i < reported.size(); ++i) {
    if (!used[i]) comparison.unclaimed.push_back(reported[i]);
  }
  rebuilt_values.insert(rebuilt_values.end(), reported.begin(),
                        reported.end());
  comparison.rebuilt_values = std::move(rebuilt_values);
  return comparison;
}

absl::StatusOr<statement::ReferenceValue> Rebuilder::ComputeValue(
    const statement::ReferenceValue& value, const std::string& out_dir,
    std::map<std::string, std::string>* artifacts) const {
  measure::Calculation calculation;
  calculation.calculator = value.calculator->name;
  calculation.index = value.index;
  calculation.algorithm = value.digest.algorithm;
  calculation.parameters = value.parameters;
  for (const auto& [role, subject] : value.calculator->inputs) {
    // The rebuilt artifact, as big as /out may hold, read once for all the
    // values computed from it (a UKI's PCR 4 and 11, say).
    auto cached = artifacts->find(subject);
    if (cached == artifacts->end()) {
      ASSIGN_OR_RETURN(std::string contents,
                       ReadFileBeneath(out_dir, subject,
                                       options_.limits.output_bytes));
      cached = artifacts->emplace(subject, std::move(contents)).first;
    }
    calculation.inputs[role] = cached->second;
  }
  ASSIGN_OR_RETURN(const std::string digest, measure::Calculate(calculation));
  statement::ReferenceValue computed = value;
  computed.digest.hex = encoding::HexEncode(digest);
  computed.calculator.reset();
  computed.computed_by = statement::ComputedBy{
      value.calculator->name, std::string(measure::kCalculatorTool)};
  return computed;
}

std::vector<std::pair<std::string, std::string>> Rebuilder::Diffoscope(
    const LoggedClaim& claim, const Comparison& comparison,
    const std::string& build_dir, const std::string& out_dir,
    const absl::Notification* cancel) const {
  std::vector<std::pair<std::string, std::string>> entries;
  if (options_.diffoscope_path.empty()) return entries;
  for (size_t i = 0; i < comparison.subjects.size(); ++i) {
    const Comparison::SubjectRow& row = comparison.subjects[i];
    if (row.status != "differs") continue;
    const statement::Subject& subject = *row.claimed;
    const auto note = [&](absl::string_view text) {
      entries.emplace_back(subject.name, std::string(text));
    };
    if (!subject.download_location.has_value()) {
      note("not run: the claim gives no downloadLocation");
      continue;
    }
    const std::string& url = *subject.download_location;
    const size_t colon = url.find("://");
    if (colon == std::string::npos ||
        std::find(options_.download_schemes.begin(),
                  options_.download_schemes.end(),
                  url.substr(0, colon)) == options_.download_schemes.end()) {
      note(absl::StrCat("not run: the downloadLocation's scheme is not one of ",
                        absl::StrJoin(options_.download_schemes, ", ")));
      continue;
    }
    const std::string dir = absl::StrCat(build_dir, "/diffoscope-", i);
    const std::string vendor = dir + "/vendor";
    const absl::Status made = MakeDirectories(dir + "/src", 0755);
    const absl::Status made_out = MakeDirectories(dir + "/out", 0755);
    if (!made.ok() || !made_out.ok()) {
      note(absl::StrCat("not run: ",
                        made.ok() ? made_out.message() : made.message()));
      continue;
    }
    const std::string protocols =
        absl::StrCat("=", absl::StrJoin(options_.download_schemes, ","));
    SubprocessOptions curl;
    curl.argv = {options_.curl_path,
                 "--silent",
                 "--show-error",
                 "--fail",
                 "--location",
                 "--proto",
                 protocols,
                 "--proto-redir",
                 protocols,
                 "--max-filesize",
                 std::to_string(options_.limits.output_bytes),
                 "--output",
                 vendor,
                 "--",
                 url};
    curl.env = HelperEnvironment();
    curl.timeout = options_.download_timeout;
    curl.cancel = cancel;
    const absl::StatusOr<SubprocessResult> downloaded = RunSubprocess(curl);
    if (!downloaded.ok() || !downloaded->ok()) {
      note(absl::StrCat("not run: downloading ", url, " failed: ",
                        downloaded.ok()
                            ? absl::StrCat(downloaded->Describe(curl.timeout),
                                           ": ", Tail(downloaded->output, 1000))
                            : std::string(downloaded.status().message())));
      continue;
    }
    SandboxRun run;
    run.recipe =
        "/in/diffoscope --text /out/report.txt /in/vendor /in/rebuilt; "
        "[ $? -le 1 ]";
    run.source_dir = dir + "/src";
    run.out_dir = dir + "/out";
    run.log_path = dir + "/log";
    run.inputs = {{options_.diffoscope_path, "/in/diffoscope"},
                  {vendor, "/in/vendor"},
                  {absl::StrCat(out_dir, "/", subject.name), "/in/rebuilt"}};
    run.limits = options_.limits;
    run.cancel = cancel;
    const absl::StatusOr<SandboxResult> result = sandbox_->Run(run);
    const absl::StatusOr<std::string> text =
        result.ok() && result->ok()
            ? ReadFileBeneath(run.out_dir, "report.txt", kMaxDiffoscopeBytes)
            : absl::StatusOr<std::string>(
                  absl::InternalError(result.ok() ? result->Describe(run.limits)
                                                  : result.status().message()));
    if (!text.ok()) {
      note(absl::StrCat("failed: ", text.status().message()));
      continue;
    }
    const std::string name =
        absl::StrCat(ReportName(claim.ref), ".diffoscope-", i, ".txt");
    const absl::Status written = WriteReportFile(name, *text);
    if (!written.ok()) {
      note(absl::StrCat("failed: ", written.message()));
      continue;
    }
    note(absl::StrCat(options_.report_url, name));
  }
  return entries;
}

absl::Status Rebuilder::WriteReportFile(absl::string_view name,
                                        absl::string_view contents) const {
  RETURN_IF_ERROR(MakeDirectories(options_.reports_dir, 0755));
  // Readable by all: the HTTP server publishes them.
  return WriteFileAtomically(absl::StrCat(options_.reports_dir, "/", name),
                             contents, 0644);
}

absl::StatusOr<statement::Report> Rebuilder::WriteReport(
    const LoggedClaim& claim, const statement::RebuildAttestation& draft,
    const Comparison* comparison, absl::string_view summary,
    absl::string_view log_tail,
    const std::vector<std::pair<std::string, std::string>>& diffoscope) const {
  const statement::Source& source = claim.claim.source;
  JsonValue::Object report = {
      {"claim", JsonValue::MakeObject(
                    {{"origin", JsonValue::String(claim.ref.origin)},
                     {"index", JsonValue::Integer(claim.ref.index)},
                     {"leafHash", JsonValue::String(claim.ref.leaf_hash)}})},
      {"source", JsonValue::MakeObject(
                     {{"repository", JsonValue::String(source.repository)},
                      {"commit", JsonValue::String(source.commit)},
                      {"tag", OptionalString(source.tag)}})},
      {"rebuilder",
       JsonValue::MakeObject(
           {{"id", JsonValue::String(draft.rebuilder.id)},
            {"recipe", JsonValue::String(draft.rebuilder.recipe)}})},
      {"rebuiltAt", JsonValue::String(draft.rebuilt_at)},
      {"verdict",
       JsonValue::String(std::string(statement::VerdictName(draft.verdict)))},
      {"summary", JsonValue::String(std::string(summary))},
  };
  if (comparison != nullptr) {
    JsonValue::Array subjects;
    for (const Comparison::SubjectRow& row : comparison->subjects) {
      subjects.push_back(JsonValue::MakeObject(
          {{"name", JsonValue::String(row.claimed->name)},
           {"status", JsonValue::String(row.status)},
           {"claimed", statement::DigestSetToJson(row.claimed->digest)},
           {"rebuilt", row.rebuilt.has_value()
                           ? statement::DigestSetToJson(*row.rebuilt)
                           : JsonValue()}}));
    }
    report.emplace_back("subjects", JsonValue::MakeArray(std::move(subjects)));
    JsonValue::Array values;
    for (const Comparison::ValueRow& row : comparison->values) {
      JsonValue::Object value = {
          {"status", JsonValue::String(row.status)},
          // The value as the claim has it, digest included.
          {"claimed",
           statement::ReferenceValuesToJson({*row.claimed}).AsArray()->front()},
          {"rebuilt", row.rebuilt.has_value()
                          ? JsonValue::String(FormatDigest(*row.rebuilt))
                          : JsonValue()},
      };
      if (!row.obtained.empty()) {
        value.emplace_back("obtained", JsonValue::String(row.obtained));
      }
      values.push_back(JsonValue::MakeObject(std::move(value)));
    }
    report.emplace_back("referenceValues",
                        JsonValue::MakeArray(std::move(values)));
    report.emplace_back(
        "unclaimedValues",
        comparison->unclaimed.empty()
            ? JsonValue::MakeArray({})
            : statement::ReferenceValuesToJson(comparison->unclaimed));
    if (!comparison->values_problem.empty()) {
      report.emplace_back("referenceValuesProblem",
                          JsonValue::String(comparison->values_problem));
    }
  }
  if (!diffoscope.empty()) {
    JsonValue::Array entries;
    for (const auto& [subject, text] : diffoscope) {
      entries.push_back(
          JsonValue::MakeObject({{"subject", JsonValue::String(subject)},
                                 {"report", JsonValue::String(text)}}));
    }
    report.emplace_back("diffoscope", JsonValue::MakeArray(std::move(entries)));
  }
  report.emplace_back("buildLog", JsonValue::String(std::string(log_tail)));

  std::string text;
  AppendIndented(JsonValue::MakeObject(std::move(report)), 0, &text);
  text.push_back('\n');
  const std::string name = absl::StrCat(ReportName(claim.ref), ".json");
  RETURN_IF_ERROR(WriteReportFile(name, text));
  statement::Report reference;
  reference.digest[std::string(statement::kSha256)] = crypto::Sha256Hex(text);
  reference.uri = absl::StrCat(options_.report_url, name);
  return reference;
}

absl::StatusOr<RebuildOutcome> Rebuilder::Sign(
    statement::RebuildAttestation attestation, std::string summary) const {
  ASSIGN_OR_RETURN(const std::string payload,
                   statement::SerializeRebuildAttestation(attestation));
  ASSIGN_OR_RETURN(
      crypto::DsseEnvelope envelope,
      crypto::DsseSign(statement::kPayloadType, payload, *options_.signer));
  RebuildOutcome outcome;
  outcome.envelope_json = crypto::EncodeDsseJson(envelope);
  outcome.envelope = std::move(envelope);
  outcome.attestation = std::move(attestation);
  outcome.summary = std::move(summary);
  return outcome;
}

absl::StatusOr<RebuildOutcome> Rebuilder::AttestFailure(
    const LoggedClaim& claim, const ScopeConfig& scope,
    absl::string_view reason) const {
  statement::RebuildAttestation attestation = Draft(claim, scope);
  attestation.verdict = statement::Verdict::kFailed;
  attestation.rebuilt_at = Now();
  ASSIGN_OR_RETURN(attestation.report,
                   WriteReport(claim, attestation, nullptr, reason, "", {}));
  return Sign(std::move(attestation), std::string(reason));
}

absl::StatusOr<RebuildOutcome> Rebuilder::Rebuild(
    const LoggedClaim& claim, const ScopeConfig& scope,
    const absl::Notification* cancel) const {
  RETURN_IF_ERROR(MakeDirectories(options_.work_dir, 0700));
  std::string build_dir = absl::StrCat(options_.work_dir, "/build-XXXXXX");
  if (mkdtemp(build_dir.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("creating a build directory in ",
                                           options_.work_dir));
  }
  // The build's files go whatever happens; only reports stay.
  struct Cleanup {
    const std::string& dir;
    ~Cleanup() { RemoveTree(dir).IgnoreError(); }
  } cleanup{build_dir};

  statement::RebuildAttestation attestation = Draft(claim, scope);
  const auto finish =
      [&](statement::Verdict verdict, const Comparison* comparison,
          std::string summary, absl::string_view log_tail,
          const std::vector<std::pair<std::string, std::string>>& diffoscope)
      -> absl::StatusOr<RebuildOutcome> {
    attestation.verdict = verdict;
    attestation.rebuilt_at = Now();
    if (verdict != statement::Verdict::kMatch) {
      ASSIGN_OR_RETURN(attestation.report,
                       WriteReport(claim, attestation, comparison, summary,
                                   log_tail, diffoscope));
    }
    return Sign(std::move(attestation), std::move(summary));
  };

  const statement::Source& source = claim.claim.source;
  const std::string source_dir = build_dir + "/src";
  const absl::Status checked_out = git_->Checkout(source, source_dir, cancel);
  if (absl::IsCancelled(checked_out)) return checked_out;
  if (absl::IsUnavailable(checked_out) ||
      absl::IsDeadlineExceeded(checked_out)) {
    return absl::UnavailableError(checked_out.message());
  }
  if (!checked_out.ok()) {
    return finish(
        statement::Verdict::kFailed, nullptr,
        absl::StrCat("checking out the source failed: ", checked_out.message()),
        "", {});
  }

  std::vector<std::string> names;
  for (const statement::Subject& subject : claim.claim.subjects) {
    names.push_back(subject.name);
  }
  SandboxRun run;
  run.recipe = scope.recipe;
  run.source_dir = source_dir;
  run.out_dir = build_dir + "/out";
  run.log_path = build_dir + "/build.log";
  run.env = {{"REFSUM_REPOSITORY", source.repository},
             {"REFSUM_COMMIT", source.commit},
             {"REFSUM_TAG", source.tag.value_or("")},
             {"REFSUM_SUBJECTS", absl::StrJoin(names, "\n")},
             {"REFSUM_CLAIM_RECIPE", claim.claim.build.recipe}};
  run.limits = options_.limits;
  run.cancel = cancel;
  RETURN_IF_ERROR(MakeDirectories(run.out_dir, 0755));
  ASSIGN_OR_RETURN(const SandboxResult result, sandbox_->Run(run));
  if (result.process.cancelled) {
    return absl::CancelledError("the rebuild was cancelled");
  }
  const absl::StatusOr<std::string> log = ReadFile(run.log_path);
  const std::string log_tail =
      Tail(log.ok() ? *log : std::string(), kLogTailBytes);
  if (!result.ok()) {
    return finish(statement::Verdict::kFailed, nullptr,
                  result.Describe(run.limits), log_tail, {});
  }

  // From here on the build's directories are only read as untrusted data:
  // nothing runs in /src again (the build may have rewritten its .git).
  const Comparison comparison = Compare(claim.claim, run.out_dir);
  if (comparison.rebuilt_subjects.empty()) {
    return finish(statement::Verdict::kFailed, &comparison,
                  "the recipe left none of the claimed artifacts in /out",
                  log_tail, {});
  }
  if (!comparison.calculation_problem.empty()) {
    return finish(statement::Verdict::kFailed, &comparison,
                  comparison.calculation_problem, log_tail, {});
  }
  if (!comparison.rebuilt_values.has_value()) {
    return finish(statement::Verdict::kFailed, &comparison,
                  comparison.values_problem, log_tail, {});
  }
  attestation.rebuilt = statement::RebuiltOutput{comparison.rebuilt_subjects,
                                                 *comparison.rebuilt_values};
  if (comparison.Match()) {
    return finish(statement::Verdict::kMatch, &comparison, "", log_tail, {});
  }
  return finish(statement::Verdict::kMismatch, &comparison,
                comparison.Summary(), log_tail,
                Diffoscope(claim, comparison, build_dir, run.out_dir, cancel));
}

}  // namespace refsum::witness
