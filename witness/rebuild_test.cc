#include "witness/rebuild.h"

#include <httplib.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "measure/calculator.h"
#include "statement/attestation.h"
#include "statement/in_toto.h"
#include "witness/files.h"
#include "witness/rebuild_testing.h"
#include "witness/subprocess.h"

namespace refsum::witness {
namespace {

using statement::Verdict;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kReportUrl[] = "https://witness.example/reports/";

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/rebuild-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
    absl::StatusOr<crypto::PrivateKey> key =
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    ASSERT_TRUE(key.ok());
    public_key_ = std::make_unique<crypto::PublicKey>(key->public_key());
    absl::StatusOr<std::unique_ptr<crypto::Signer>> signer =
        crypto::NewSigner(*key);
    ASSERT_TRUE(signer.ok());

    GitOptions git_options;
    git_options.cache_dir = root_ + "/state/git";
    git_ = std::make_unique<GitFetcher>(git_options);
    sandbox_ = std::make_unique<Sandbox>(SandboxOptions());
    options_.name = "witness.example/one";
    options_.signer = std::move(*signer);
    options_.work_dir = root_ + "/state/builds";
    options_.reports_dir = root_ + "/state/reports";
    options_.report_url = kReportUrl;
    // Generous: bounds a misbehaving test, never its speed.
    options_.limits.wall_time = absl::Minutes(5);
    options_.limits.memory_bytes = uint64_t{1} << 30;
    options_.limits.output_bytes = uint64_t{64} << 20;
    scope_.repository_prefix = "file://";
    scope_.recipe = kProjectRecipe;
  }

  void TearDown() override { EXPECT_TRUE(RemoveTree(root_).ok()); }

  Rebuilder MakeRebuilder() {
    return Rebuilder(options_, sandbox_.get(), git_.get());
  }

  // A repository with the project of `kind`, and the vendor's claim of it,
  // logged at `index`.
  LoggedClaim Project(const std::string& name, ProjectKind kind,
                      int64_t index = 7) {
    repositories_.push_back(
        std::make_unique<TestRepository>(root_ + "/" + name));
    TestRepository& repository = *repositories_.back();
    const std::string commit = CommitProject(repository, kind);
    const std::string vendor_out = root_ + "/" + name + "-vendor";
    EXPECT_TRUE(MakeDirectories(vendor_out, 0755).ok());
    absl::StatusOr<statement::Claim> claim =
        VendorClaim(repository, commit, vendor_out);
    EXPECT_TRUE(claim.ok()) << claim.status();
    LoggedClaim logged;
    logged.ref = {"log.example/test", index, std::string(64, 'c')};
    if (claim.ok()) logged.claim = *claim;
    return logged;
  }

  // Checks the envelope's signature and that its payload is the outcome's
  // attestation; returns the payload's attestation.
  statement::RebuildAttestation CheckSigned(const RebuildOutcome& outcome) {
    absl::StatusOr<std::unique_ptr<crypto::Verifier>> verifier =
        crypto::NewVerifier(*public_key_);
    EXPECT_TRUE(verifier.ok());
    EXPECT_TRUE(crypto::DsseVerify(outcome.envelope, **verifier).ok());
    EXPECT_EQ(outcome.envelope.payload_type, statement::kPayloadType);
    absl::StatusOr<crypto::DsseEnvelope> decoded =
        crypto::DecodeDsseJson(outcome.envelope_json);
    EXPECT_TRUE(decoded.ok());
    if (decoded.ok()) {
      EXPECT_EQ(*decoded, outcome.envelope);
    }
    absl::StatusOr<statement::RebuildAttestation> attestation =
        statement::ParseRebuildAttestation(outcome.envelope.payload);
    EXPECT_TRUE(attestation.ok()) << attestation.status();
    return attestation.ok() ? *attestation : statement::RebuildAttestation();
  }

  // Reads the report an attestation points at and checks its digest.
  std::string Report(const statement::RebuildAttestation& attestation) {
    if (!attestation.report.has_value()) return "<none>";
    const std::string& uri = attestation.report->uri;
    EXPECT_EQ(uri.rfind(kReportUrl, 0), 0u) << uri;
    absl::StatusOr<std::string> report = ReadFile(
        options_.reports_dir + "/" + uri.substr(sizeof(kReportUrl) - 1));
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok()) return "<missing>";
    EXPECT_EQ(attestation.report->digest.at("sha256"),
              crypto::Sha256Hex(*report));
    EXPECT_TRUE(encoding::ParseJson(*report).ok());
    return *report;
  }

  // Builds directories are removed after each rebuild.
  void ExpectNoBuildsLeft() {
    absl::StatusOr<uint64_t> size = TreeSize(options_.work_dir);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, 0u);
  }

  std::string root_;
  std::unique_ptr<crypto::PublicKey> public_key_;
  std::unique_ptr<GitFetcher> git_;
  std::unique_ptr<Sandbox> sandbox_;
  RebuilderOptions options_;
  ScopeConfig scope_;
  std::vector<std::unique_ptr<TestRepository>> repositories_;
};

TEST_F(RebuildTest, ReproducibleBuildMatches) {
  const LoggedClaim claim = Project("reproducible", ProjectKind::kReproducible);
  // The vendor's value is a real PCR extend of the artifact it claims.
  absl::StatusOr<std::string> artifact =
      ReadFile(root_ + "/reproducible-vendor/" + std::string(kProjectArtifact));
  ASSERT_TRUE(artifact.ok());
  ASSERT_EQ(claim.claim.reference_values.size(), 1u);
  EXPECT_EQ(claim.claim.reference_values[0].digest.hex,
            PcrExtendOfArtifact(*artifact));

  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kMatch) << outcome->summary;
  const statement::RebuildAttestation attestation = CheckSigned(*outcome);
  EXPECT_EQ(attestation.verdict, Verdict::kMatch);
  EXPECT_EQ(attestation.subjects, claim.claim.subjects);
  EXPECT_EQ(attestation.claim.origin, claim.ref.origin);
  EXPECT_EQ(attestation.claim.index, claim.ref.index);
  EXPECT_EQ(attestation.claim.leaf_hash, claim.ref.leaf_hash);
  ASSERT_TRUE(attestation.rebuilt.has_value());
  EXPECT_EQ(attestation.rebuilt->subjects, claim.claim.subjects);
  // The claim names no calculator: the values are the recipe's, and the
  // attestation says so.
  std::vector<statement::ReferenceValue> reported =
      claim.claim.reference_values;
  for (statement::ReferenceValue& value : reported) {
    value.reported_by_recipe = true;
  }
  EXPECT_EQ(attestation.rebuilt->reference_values, reported);
  EXPECT_EQ(attestation.rebuilder.id, "witness.example/one");
  EXPECT_EQ(attestation.rebuilder.recipe, kProjectRecipe);
  EXPECT_FALSE(attestation.report.has_value());
  absl::Time rebuilt_at;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", attestation.rebuilt_at,
                              &rebuilt_at, &error))
      << error;
  ExpectNoBuildsLeft();
}

TEST_F(RebuildTest, ExtraDigestsAreHashedToo) {
  LoggedClaim claim = Project("digests", ProjectKind::kReproducible);
  // sha384 of the artifact as coreutils computes it.
  SubprocessOptions sha384sum;
  sha384sum.argv = {"/usr/bin/sha384sum",
                    root_ + "/digests-vendor/" + kProjectArtifact};
  absl::StatusOr<SubprocessResult> summed = RunSubprocess(sha384sum);
  ASSERT_TRUE(summed.ok() && summed->ok());
  const std::string sha384 = summed->output.substr(0, 96);
  claim.claim.subjects[0].digest["sha384"] = sha384;
  claim.claim.subjects[0].download_location =
      "https://vendor.example/image.tar.gz";

  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kMatch) << outcome->summary;
  ASSERT_TRUE(outcome->attestation.rebuilt.has_value());
  EXPECT_EQ(outcome->attestation.rebuilt->subjects[0].digest,
            claim.claim.subjects[0].digest);
  // The attestation's subject is the claim's, download location and all.
  EXPECT_EQ(outcome->attestation.subjects, claim.claim.subjects);

  claim.claim.subjects[0].digest["sha384"] = std::string(96, '0');
  outcome = MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kMismatch);
}

TEST_F(RebuildTest, TimestampedBuildMismatchesWithAReport) {
  const LoggedClaim claim = Project("timestamped", ProjectKind::kTimestamped);
  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kMismatch);
  const statement::RebuildAttestation attestation = CheckSigned(*outcome);
  ASSERT_TRUE(attestation.rebuilt.has_value());
  EXPECT_NE(attestation.rebuilt->subjects[0].digest,
            claim.claim.subjects[0].digest);
  const std::string report = Report(attestation);
  // Claimed and rebuilt, for the artifact and for the PCR.
  EXPECT_THAT(report, HasSubstr("\"verdict\": \"MISMATCH\""));
  EXPECT_THAT(report, HasSubstr(claim.claim.subjects[0].digest.at("sha256")));
  EXPECT_THAT(report,
              HasSubstr(attestation.rebuilt->subjects[0].digest.at("sha256")));
  EXPECT_THAT(report, HasSubstr(claim.claim.reference_values[0].digest.hex));
  EXPECT_THAT(
      report,
      HasSubstr(absl::StrCat(
          "sha256:", attestation.rebuilt->reference_values[0].digest.hex)));
  EXPECT_THAT(report, HasSubstr("\"status\": \"differs\""));
  EXPECT_THAT(outcome->summary,
              HasSubstr("1 of 1 subjects and 1 of 1 reference values differ"));
  ExpectNoBuildsLeft();
}

TEST_F(RebuildTest, FailingBuildFails) {
  LoggedClaim claim = Project("good", ProjectKind::kReproducible);
  TestRepository broken(root_ + "/broken");
  claim.claim.source.repository = broken.url();
  claim.claim.source.commit = CommitProject(broken, ProjectKind::kBroken);
  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kFailed);
  const statement::RebuildAttestation attestation = CheckSigned(*outcome);
  EXPECT_FALSE(attestation.rebuilt.has_value());
  EXPECT_EQ(outcome->summary, "the recipe failed: exit code 3");
  const std::string report = Report(attestation);
  EXPECT_THAT(report, HasSubstr("this project does not build"));
  ExpectNoBuildsLeft();
}

TEST_F(RebuildTest, MissingCommitAndWrongTagFail) {
  LoggedClaim claim = Project("project", ProjectKind::kReproducible);
  const std::string commit = claim.claim.source.commit;
  claim.claim.source.commit = std::string(40, 'e');
  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kFailed);
  EXPECT_THAT(outcome->summary, HasSubstr("has no commit"));

  repositories_.back()->Git({"tag", "v1.0.0"});
  repositories_.back()->Write("image/README", "changed\n");
  repositories_.back()->Commit("later");
  repositories_.back()->Git({"tag", "--force", "v1.0.0"});
  claim.claim.source.commit = commit;
  claim.claim.source.tag = "v1.0.0";
  outcome = MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->attestation.verdict, Verdict::kFailed);
  EXPECT_THAT(outcome->summary, HasSubstr("not the claimed"));
  ExpectNoBuildsLeft();
}

TEST_F(RebuildTest, UnreachableRepositoryIsRetryable) {
  LoggedClaim claim = Project("project", ProjectKind::kReproducible);
  claim.claim.source.repository = "file://" + root_ + "/gone";
  const absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);

  const absl::StatusOr<RebuildOutcome> failed =
      MakeRebuilder().AttestFailure(claim, scope_, "gave up: gone");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->attestation.verdict, Verdict::kFailed);
  EXPECT_THAT(Report(CheckSigned(*failed)), HasSubstr("gave up: gone"));
}

TEST_F(RebuildTest, CancelledRebuildAttestsNothing) {
  const LoggedClaim claim = Project("project", ProjectKind::kReproducible);
  absl::Notification cancel;
  cancel.Notify();
  EXPECT_EQ(MakeRebuilder().Rebuild(claim, scope_, &cancel).status().code(),
            absl::StatusCode::kCancelled);
  ExpectNoBuildsLeft();
}

TEST_F(RebuildTest, ValuesAreComparedExactly) {
  const LoggedClaim claim = Project("project", ProjectKind::kReproducible);
  struct Case {
    std::string recipe;
    Verdict verdict;
    std::string summary;
  };
  const Case cases[] = {
      // An extra value the claim does not have.
      {"sh build.sh && sed -i 's/}}]/}},{\"platform\":\"generic\","
       "\"kind\":\"extra\",\"digest\":{\"sha256\":\"" +
           std::string(64, '1') + "\"}}]/' /out/reference-values.json",
       Verdict::kMismatch, "1 rebuilt values are not claimed"},
      // The value measured with other parameters.
      {"sh build.sh && sed -i 's/}}]/},\"parameters\":{\"x\":\"y\"}}]/' "
       "/out/reference-values.json",
       Verdict::kMismatch, "1 of 1 reference values differ"},
      {"sh build.sh && rm /out/reference-values.json", Verdict::kFailed,
       "reference-values.json"},
      {"sh build.sh && echo '[{\"platform\":\"tpm\"}]' > "
       "/out/reference-values.json",
       Verdict::kFailed, "missing required field"},
      {"sh build.sh && mv /out/image.tar.gz /out/other", Verdict::kFailed,
       "none of the claimed artifacts"},
      {"sh build.sh && mv /out/image.tar.gz /tmp/x && "
       "ln -s /tmp/x /out/image.tar.gz",
       Verdict::kFailed, "none of the claimed artifacts"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.recipe);
    ScopeConfig scope = scope_;
    scope.recipe = test.recipe;
    absl::StatusOr<RebuildOutcome> outcome =
        MakeRebuilder().Rebuild(claim, scope, nullptr);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(outcome->attestation.verdict, test.verdict);
    EXPECT_THAT(outcome->summary, HasSubstr(test.summary));
    CheckSigned(*outcome);
  }
}

TEST_F(RebuildTest, DiffoscopeComparesWithTheVendorsArtifact) {
  LoggedClaim claim = Project("timestamped", ProjectKind::kTimestamped);
  absl::StatusOr<std::string> vendor_artifact =
      ReadFile(root_ + "/timestamped-vendor/" + std::string(kProjectArtifact));
  ASSERT_TRUE(vendor_artifact.ok());
  httplib::Server server;
  server.Get("/image.tar.gz", [&](const httplib::Request&,
                                  httplib::Response& response) {
    response.set_content(*vendor_artifact, "application/octet-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  // A stand-in for diffoscope that shows what it was given.
  const std::string fake = root_ + "/diffoscope";
  ASSERT_TRUE(WriteFileAtomically(fake,
                                  "#!/bin/sh\n"
                                  "shift\nout=$1\nshift\n"
                                  "sha256sum \"$@\" > \"$out\"\nexit 1\n",
                                  0755)
                  .ok());
  options_.diffoscope_path = fake;
  options_.download_schemes = {"http"};
  claim.claim.subjects[0].download_location =
      absl::StrCat("http://127.0.0.1:", port, "/image.tar.gz");

  absl::StatusOr<RebuildOutcome> outcome =
      MakeRebuilder().Rebuild(claim, scope_, nullptr);
  server.stop();
  serving.join();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->attestation.verdict, Verdict::kMismatch);
  const std::string report = Report(outcome->attestation);
  const std::string diffoscope_name =
      absl::StrCat(crypto::Sha256Hex(claim.ref.origin).substr(0, 16), "-",
                   claim.ref.index, ".diffoscope-0.txt");
  EXPECT_THAT(report, HasSubstr(absl::StrCat(kReportUrl, diffoscope_name)));
  absl::StatusOr<std::string> text =
      ReadFile(options_.reports_dir + "/" + diffoscope_name);
  ASSERT_TRUE(text.ok()) << text.status();
  // diffoscope saw the vendor's artifact and the rebuilt one.
  EXPECT_THAT(
      *text, HasSubstr(absl::StrCat(claim.claim.subjects[0].digest.at("sha256"),
                                    "  /in/vendor")));
  EXPECT_THAT(*text, HasSubstr("  /in/rebuilt"));

  // Without a downloadable artifact, the report says why there is no diff.
  claim.claim.subjects[0].download_location =
      "https://vendor.example/image.tar.gz";
  outcome = MakeRebuilder().Rebuild(claim, scope_, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_THAT(Report(outcome->attestation),
              HasSubstr("not run: the downloadLocation's scheme"));
}

// The false-value attack (issue 13): the artifact rebuilds bit for bit, but
// the vendor's recipe prints the SEV-SNP value of some other firmware. A
// value that names its calculator is computed by the witness from the
// rebuilt firmware, so the recipe's word counts for nothing: a claim of
// the true value matches whatever the recipe prints, and a claim of the
// printed value is a MISMATCH naming the value, the claimed and the
// computed hex. The firmware is sev-snp-measure's published OVMF fixture,
// and the true value its published vector (EPYC-v4, 1 vCPU, guest features
// 0x1; measure/testdata/sev-snp/vectors.tsv).
TEST_F(RebuildTest, ValuesWithACalculatorAreComputedNotTakenFromTheRecipe) {
  const char* srcdir = getenv("TEST_SRCDIR");
  absl::StatusOr<std::string> ovmf =
      ReadFile(absl::StrCat(srcdir != nullptr ? srcdir : ".",
                            "/refsum/measure/testdata/sev-snp/"
                            "ovmf_AmdSev_suffix.bin"));
  ASSERT_TRUE(ovmf.ok()) << ovmf.status();
  const std::string true_value =
      "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033"
      "c48dd6f6db5d6d76e7c5df632d";
  const std::string false_value(96, 'f');
  repositories_.push_back(
      std::make_unique<TestRepository>(root_ + "/firmware"));
  TestRepository& repository = *repositories_.back();
  repository.Write("ovmf.fd", *ovmf);
  // The recipe copies the firmware and prints a false value for it.
  repository.Write(
      "build.sh",
      absl::StrCat("cp ovmf.fd /out/ovmf.fd\n"
                   "echo '[{\"platform\":\"amd-sev-snp\",\"kind\":"
                   "\"launch-measurement\",\"digest\":{\"sha384\":\"",
                   false_value,
                   "\"},\"parameters\":{\"vcpu-type\":\"EPYC-v4\","
                   "\"vcpus\":\"1\"}}]' > /out/reference-values.json\n"));
  const std::string commit = repository.Commit("firmware");

  const auto claim_of = [&](const std::string& hex) {
    statement::ReferenceValue value;
    value.platform = "amd-sev-snp";
    value.kind = "launch-measurement";
    value.digest = {"sha384", hex};
    value.parameters = {{"vcpus", "1"}, {"vcpu-type", "EPYC-v4"}};
    value.calculator = statement::Calculator{"sev-snp", {{"ovmf", "ovmf.fd"}}};
    LoggedClaim logged;
    logged.ref = {"log.example/test", 9, std::string(64, 'c')};
    logged.claim.subjects = {
        {"ovmf.fd", {{"sha256", crypto::Sha256Hex(*ovmf)}}, std::nullopt}};
    logged.claim.source = {repository.url(), commit, std::nullopt};
    logged.claim.build = {kProjectRecipe, std::nullopt};
    logged.claim.reference_values = {value};
    EXPECT_TRUE(statement::ValidateClaim(logged.claim).ok());
    return logged;
  };

  absl::StatusOr<RebuildOutcome> honest =
      MakeRebuilder().Rebuild(claim_of(true_value), scope_, nullptr);
  ASSERT_TRUE(honest.ok()) << honest.status();
  EXPECT_EQ(honest->attestation.verdict, Verdict::kMatch) << honest->summary;
  const statement::RebuildAttestation matched = CheckSigned(*honest);
  ASSERT_TRUE(matched.rebuilt.has_value());
  ASSERT_EQ(matched.rebuilt->reference_values.size(), 1u);
  const statement::ReferenceValue& computed =
      matched.rebuilt->reference_values[0];
  EXPECT_EQ(computed.digest.hex, true_value);
  ASSERT_TRUE(computed.computed_by.has_value());
  EXPECT_EQ(computed.computed_by->calculator, "sev-snp");
  EXPECT_EQ(computed.computed_by->tool, measure::kCalculatorTool);
  EXPECT_FALSE(computed.reported_by_recipe);
  EXPECT_FALSE(computed.calculator.has_value());

  absl::StatusOr<RebuildOutcome> printed =
      MakeRebuilder().Rebuild(claim_of(false_value), scope_, nullptr);
  ASSERT_TRUE(printed.ok()) << printed.status();
  EXPECT_EQ(printed->attestation.verdict, Verdict::kMismatch);
  EXPECT_THAT(printed->summary, HasSubstr("1 of 1 reference values differ"));
  const std::string report = Report(CheckSigned(*printed));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\"sha384\": \"", false_value)));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\"rebuilt\": \"sha384:",
                                             true_value, "\"")));
  EXPECT_THAT(report, HasSubstr("\"obtained\": \"computed by sev-snp (refsum"));

  // A firmware the calculator cannot measure fails the rebuild, naming it.
  LoggedClaim broken = claim_of(true_value);
  broken.claim.reference_values[0].calculator->name = "tdx-mrtd";
  broken.claim.reference_values[0].platform = "intel-tdx";
  broken.claim.reference_values[0].kind = "mrtd";
  broken.claim.reference_values[0].parameters.clear();
  broken.claim.reference_values[0].calculator->inputs = {{"tdvf", "ovmf.fd"}};
  ASSERT_TRUE(statement::ValidateClaim(broken.claim).ok());
  absl::StatusOr<RebuildOutcome> failed =
      MakeRebuilder().Rebuild(broken, scope_, nullptr);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->attestation.verdict, Verdict::kFailed);
  EXPECT_THAT(failed->summary,
              HasSubstr("computing intel-tdx/mrtd: tdx-mrtd: not implemented "
                        "yet"));
  ExpectNoBuildsLeft();
}

TEST(FindScopeTest, LongestPrefixWins) {
  const std::vector<ScopeConfig> scopes = {
      {"https://github.com/", "generic"},
      {"https://github.com/example/", "specific"},
  };
  EXPECT_EQ(FindScope(scopes, "https://github.com/example/os")->recipe,
            "specific");
  EXPECT_EQ(FindScope(scopes, "https://github.com/other/os")->recipe,
            "generic");
  EXPECT_EQ(FindScope(scopes, "https://gitlab.com/example/os"), nullptr);
}

}  // namespace
}  // namespace refsum::witness
