// Rebuilding one logged claim: fetch the source at the claimed commit, run
// the scope's recipe in the sandbox, hash what it left in /out, compare with
// the claim, and sign the verdict as a rebuild attestation (DESIGN.md,
// "Records").
//
// The recipe's contract (the same for every witness, so that operators can
// share recipes):
//   - it runs in /src, a checkout of the claimed commit (with a shallow .git),
//     in the sandbox of sandbox.h, with these variables besides the fixed
//     ones: REFSUM_REPOSITORY, REFSUM_COMMIT, REFSUM_TAG (empty when the
//     claim names none), REFSUM_SUBJECTS (the claim's subject names, one per
//     line) and REFSUM_CLAIM_RECIPE (the vendor's build.recipe; running it
//     trusts the vendor's command, inside the sandbox only);
//   - it leaves each artifact in /out under its subject name (a relative
//     path; no symbolic links on the way) and writes
//     /out/reference-values.json, a JSON array of reference values in the
//     claim's referenceValues shape.
// The witness hashes the artifacts itself (sha256, and sha384 / sha512 when
// the claim lists them) and reads the values strictly (statement's reader
// and validation).
//
// Verdicts:
//   MATCH     every claimed subject was rebuilt with every claimed digest
//             equal, and the rebuilt values are exactly the claimed ones (as
//             a multiset, which is how verifiers compare them).
//   MISMATCH  it built, and something differs, is missing or is extra.
//   FAILED    the source could not be checked out (no such commit, a tag
//             naming another commit), the recipe failed or ran out of a
//             limit, or it left none of the claimed artifacts or no valid
//             reference-values.json (an attestation's `rebuilt` must name at
//             least one subject and one value).
// MISMATCH and FAILED come with a report: <reports_dir>/<name>.json, a
// readable JSON document listing claimed against rebuilt for every subject
// digest and every value (and the end of the build log), referenced from the
// attestation by its SHA-256 and report_url + <name>.json. On MISMATCH, when
// diffoscope is configured, a differing subject has a downloadLocation with
// an allowed scheme and the vendor's artifact can be downloaded (curl,
// outside the sandbox, within the output limit), diffoscope compares it with
// the rebuilt one inside the sandbox and its text report is written next to
// the JSON report and named in it.
//
// Thread-safe: Rebuild may run for any number of claims at once.

#ifndef REFSUM_WITNESS_REBUILD_H_
#define REFSUM_WITNESS_REBUILD_H_

#include <memory>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "crypto/dsse.h"
#include "crypto/signer.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "witness/config.h"
#include "witness/git.h"
#include "witness/sandbox.h"

namespace refsum::witness {

// The file a recipe writes its reference values to, relative to /out.
inline constexpr absl::string_view kReferenceValuesFile =
    "reference-values.json";

// A claim as it was read from a log.
struct LoggedClaim {
  statement::ClaimRef ref;
  statement::Claim claim;
};

// Returns the scope that covers `repository`: the one with the longest
// repository_prefix that `repository` starts with, or null when none does.
const ScopeConfig* FindScope(const std::vector<ScopeConfig>& scopes,
                             absl::string_view repository);

struct RebuilderOptions {
  // The witness's name: the attestations' rebuilder.id.
  std::string name;
  // Signs the attestations (the rebuild key).
  std::shared_ptr<const crypto::Signer> signer;
  // Where builds happen, one fresh directory each, removed afterwards.
  // Created if missing.
  std::string work_dir;
  // Where reports are written (created if missing), and the URL prefix
  // (ending in '/') under which they are served.
  std::string reports_dir;
  std::string report_url;
  SandboxLimits limits;
  // diffoscope's path; empty for none. DefaultDiffoscopePath() finds an
  // installed one.
  std::string diffoscope_path;
  std::string curl_path = "/usr/bin/curl";
  // The URL schemes a vendor's downloadLocation may use. Only https: a
  // download runs outside the sandbox, from the witness's network, and its
  // result is published in a report.
  std::vector<std::string> download_schemes = {"https"};
  absl::Duration download_timeout = absl::Minutes(10);
};

// Returns /usr/bin/diffoscope or /usr/local/bin/diffoscope when one is an
// executable file, else "".
std::string DefaultDiffoscopePath();

// The result of a rebuild: the attestation and its signed envelope.
struct RebuildOutcome {
  statement::RebuildAttestation attestation;
  crypto::DsseEnvelope envelope;
  // EncodeDsseJson(envelope): what is submitted to the log.
  std::string envelope_json;
  // Why it failed, or what differs, in one line; empty for MATCH.
  std::string summary;
};

class Rebuilder {
 public:
  // `sandbox` and `git` must outlive the Rebuilder.
  Rebuilder(RebuilderOptions options, const Sandbox* sandbox,
            const GitFetcher* git);

  Rebuilder(const Rebuilder&) = delete;
  Rebuilder& operator=(const Rebuilder&) = delete;

  // Rebuilds `claim` with `scope`'s recipe and returns the signed
  // attestation (MATCH, MISMATCH or FAILED, see the top of this file).
  // Returns an error instead when no attestation should be made now:
  // Cancelled when `cancel` (may be null) was notified; Unavailable when
  // the repository could not be fetched, which may pass (the caller retries
  // and eventually calls AttestFailure); and the errors of the witness's own
  // files (work directory, reports), of starting the sandbox and of
  // signing.
  absl::StatusOr<RebuildOutcome> Rebuild(
      const LoggedClaim& claim, const ScopeConfig& scope,
      const absl::Notification* cancel) const;

  // Returns a signed FAILED attestation of `claim` whose report says
  // `reason`, for a claim the caller gave up rebuilding. Returns the errors
  // of writing the report and of signing.
  absl::StatusOr<RebuildOutcome> AttestFailure(const LoggedClaim& claim,
                                               const ScopeConfig& scope,
                                               absl::string_view reason) const;

  const RebuilderOptions& options() const { return options_; }

 private:
  struct Comparison;

  // Compares what the build left in `out_dir` with the claim.
  // The claimed `value`, which names a calculator, computed from the
  // rebuilt artifacts in `out_dir`: its digest, no calculator, and
  // computedBy. `artifacts` holds the artifacts read so far, by subject
  // name; it reads the others into it.
  absl::StatusOr<statement::ReferenceValue> ComputeValue(
      const statement::ReferenceValue& value, const std::string& out_dir,
      std::map<std::string, std::string>* artifacts) const;
  Comparison Compare(const statement::Claim& claim,
                     const std::string& out_dir) const;

  // Runs diffoscope on each differing subject that has a downloadable
  // vendor artifact; returns the report's "diffoscope" entries.
  std::vector<std::pair<std::string, std::string>> Diffoscope(
      const LoggedClaim& claim, const Comparison& comparison,
      const std::string& build_dir, const std::string& out_dir,
      const absl::Notification* cancel) const;

  // Writes the file `name` into the reports directory.
  absl::Status WriteReportFile(absl::string_view name,
                               absl::string_view contents) const;

  // Writes the report and returns the attestation's reference to it.
  absl::StatusOr<statement::Report> WriteReport(
      const LoggedClaim& claim, const statement::RebuildAttestation& draft,
      const Comparison* comparison, absl::string_view summary,
      absl::string_view log_tail,
      const std::vector<std::pair<std::string, std::string>>& diffoscope) const;

  // Signs `attestation` into an outcome.
  absl::StatusOr<RebuildOutcome> Sign(statement::RebuildAttestation attestation,
                                      std::string summary) const;

  // An attestation of `claim` with everything but the verdict, rebuilt
  // output and report.
  statement::RebuildAttestation Draft(const LoggedClaim& claim,
                                      const ScopeConfig& scope) const;

  // The base name of `claim`'s report files.
  std::string ReportName(const statement::ClaimRef& ref) const;

  const RebuilderOptions options_;
  const Sandbox* const sandbox_;
  const GitFetcher* const git_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_REBUILD_H_
