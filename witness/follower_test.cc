#include "witness/follower.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "client/log_client.h"
#include "client/state.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "witness/files.h"
#include "witness/rebuild_testing.h"
#include "witness/subprocess.h"

namespace refsum::witness {
namespace {

using statement::Verdict;
using ::testing::SizeIs;

constexpr char kOrigin[] = "log.example/witness-test";
// An upper bound on anything this test waits for; never an expectation of
// speed.
constexpr absl::Duration kPatience = absl::Minutes(5);

// Polls `done` until it holds or kPatience runs out.
bool WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + kPatience;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

std::string LogBinary() {
  char cwd[4096];
  EXPECT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  // The test runs in its runfiles directory.
  return absl::StrCat(cwd, "/log/refsum-log");
}

// `refsum-log serve --open` on loopback, as a child process kept by a
// thread of the test until the object goes.
class LogProcess {
 public:
  LogProcess(const std::string& dir, const std::string& key_path) {
    const std::string ready = dir + "/ready.json";
    unlink(ready.c_str());
    thread_ = std::thread([this, dir, key_path, ready] {
      SubprocessOptions options;
      options.argv = {LogBinary(),
                      "serve",
                      absl::StrCat("--origin=", kOrigin),
                      "--key=" + key_path,
                      "--data_dir=" + dir + "/data",
                      "--open",
                      "--grpc_addr=127.0.0.1:0",
                      "--http_addr=127.0.0.1:0",
                      "--ready_file=" + ready};
      options.env = {"PATH=/usr/bin:/bin"};
      options.timeout = absl::Hours(1);
      options.cancel = &stop_;
      options.output_path = dir + "/serve.log";
      options.max_output_bytes = 1 << 20;
      absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
      EXPECT_TRUE(result.ok()) << result.status();
      absl::MutexLock lock(&mu_);
      ended_ = true;
    });
    EXPECT_TRUE(WaitFor([&] {
      absl::MutexLock lock(&mu_);
      return ended_ || ReadFile(ready).ok();
    }));
    absl::StatusOr<std::string> text = ReadFile(ready);
    EXPECT_TRUE(text.ok()) << ReadFile(dir + "/serve.log").value_or("");
    if (!text.ok()) return;
    absl::StatusOr<encoding::JsonValue> json = encoding::ParseJson(*text);
    EXPECT_TRUE(json.ok());
    if (!json.ok() || json->Find("grpc") == nullptr) return;
    grpc_address_ = *json->Find("grpc")->AsString();
    absl::StatusOr<std::unique_ptr<client::LogClient>> client =
        client::LogClient::Connect(grpc_address_, kPatience);
    EXPECT_TRUE(client.ok());
    if (client.ok()) client_ = std::move(*client);
  }

  // Kills the log (SIGKILL, like a crash; the data directory survives).
  ~LogProcess() {
    stop_.Notify();
    thread_.join();
  }

  const std::string& grpc_address() const { return grpc_address_; }
  client::LogClient& client() { return *client_; }

 private:
  absl::Notification stop_;
  std::thread thread_;
  absl::Mutex mu_;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::string grpc_address_;
  std::unique_ptr<client::LogClient> client_;
};

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/follower-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
    const std::string log_dir = root_ + "/log";
    SubprocessOptions keygen;
    keygen.argv = {LogBinary(), "keygen", absl::StrCat("--origin=", kOrigin),
                   "--out=" + log_dir};
    absl::StatusOr<SubprocessResult> generated = RunSubprocess(keygen);
    ASSERT_TRUE(generated.ok() && generated->ok())
        << (generated.ok() ? generated->output : generated.status().ToString());
    absl::StatusOr<std::string> vkey = ReadFile(log_dir + "/log.vkey");
    ASSERT_TRUE(vkey.ok());
    vkey_ = std::string(absl::StripSuffix(*vkey, "\n"));
    log_ = std::make_unique<LogProcess>(log_dir, log_dir + "/log.key");
    ASSERT_FALSE(log_->grpc_address().empty());

    absl::StatusOr<crypto::PrivateKey> vendor_key =
        crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
    ASSERT_TRUE(vendor_key.ok());
    vendor_pem_ = vendor_key->public_key().ToPem();
    absl::StatusOr<std::unique_ptr<crypto::Signer>> vendor =
        crypto::NewSigner(*vendor_key);
    ASSERT_TRUE(vendor.ok());
    vendor_ = std::move(*vendor);
    absl::StatusOr<crypto::PrivateKey> rebuild_key =
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    ASSERT_TRUE(rebuild_key.ok());
    rebuild_key_ = std::make_unique<crypto::PrivateKey>(*rebuild_key);

    config_.name = "witness.example/one";
    config_.state_dir = root_ + "/state";
    config_.logs = {{kOrigin, vkey_, log_->grpc_address()}};
    config_.scopes = {{"file://" + root_ + "/", kProjectRecipe}};
    config_.limits.wall_time = kPatience;
    config_.limits.memory_bytes = uint64_t{1} << 30;
    config_.limits.output_bytes = uint64_t{64} << 20;
    config_.parallelism = 2;
    // Short polls only make the test quicker; nothing depends on them.
    options_.poll_interval = absl::Milliseconds(100);
  }

  void TearDown() override {
    log_.reset();
    EXPECT_TRUE(RemoveTree(root_).ok());
  }

  // Commits a project of `kind` to a new repository and returns the
  // vendor's claim of it.
  statement::Claim ProjectClaim(const std::string& name, ProjectKind kind) {
    repositories_.push_back(
        std::make_unique<TestRepository>(root_ + "/" + name));
    const std::string commit = CommitProject(*repositories_.back(), kind);
    const std::string out = root_ + "/" + name + "-vendor";
    EXPECT_TRUE(MakeDirectories(out, 0755).ok());
    absl::StatusOr<statement::Claim> claim =
        VendorClaim(*repositories_.back(), commit, out);
    EXPECT_TRUE(claim.ok()) << claim.status();
    return claim.ok() ? *claim : statement::Claim();
  }

  // Logs ProjectClaim(name, kind); returns its index.
  uint64_t LogClaim(const std::string& name, ProjectKind kind) {
    return Submit(ProjectClaim(name, kind));
  }

  uint64_t Submit(const statement::Claim& claim) {
    absl::StatusOr<std::string> payload = statement::SerializeClaim(claim);
    EXPECT_TRUE(payload.ok()) << payload.status();
    absl::StatusOr<crypto::DsseEnvelope> envelope =
        crypto::DsseSign(statement::kPayloadType, *payload, *vendor_);
    EXPECT_TRUE(envelope.ok());
    absl::StatusOr<refsum::v1::SubmitResponse> response =
        log_->client().Submit(crypto::EncodeDsseJson(*envelope), vendor_pem_);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->index() : 0;
  }

  std::vector<uint64_t> Attestations(uint64_t claim_index) {
    absl::StatusOr<std::vector<uint64_t>> indices =
        log_->client().GetAttestations(claim_index);
    EXPECT_TRUE(indices.ok()) << indices.status();
    return indices.ok() ? *indices : std::vector<uint64_t>();
  }

  std::string Leaf(uint64_t index) {
    absl::StatusOr<std::vector<std::string>> leaves =
        log_->client().GetEntries(index, 1);
    EXPECT_TRUE(leaves.ok()) << leaves.status();
    return leaves.ok() ? leaves->front() : "";
  }

  statement::RebuildAttestation Attestation(uint64_t index) {
    absl::StatusOr<crypto::DsseEnvelope> envelope =
        crypto::DecodeDsseLeaf(Leaf(index));
    EXPECT_TRUE(envelope.ok());
    if (!envelope.ok()) return {};
    absl::StatusOr<std::unique_ptr<crypto::Verifier>> verifier =
        crypto::NewVerifier(rebuild_key_->public_key());
    EXPECT_TRUE(crypto::DsseVerify(*envelope, **verifier).ok());
    absl::StatusOr<statement::RebuildAttestation> attestation =
        statement::ParseRebuildAttestation(envelope->payload);
    EXPECT_TRUE(attestation.ok()) << attestation.status();
    return attestation.ok() ? *attestation : statement::RebuildAttestation();
  }

  uint64_t TreeSize() {
    absl::StatusOr<std::string> note = log_->client().GetCheckpoint();
    EXPECT_TRUE(note.ok());
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        tlog::ParseCheckpointNote(note.ok() ? *note : "");
    return checkpoint.ok() ? checkpoint->size : 0;
  }

  // Waits until the pipeline's follower has handled every entry of the log
  // and the log has accepted every attestation it recorded.
  bool WaitUntilCaughtUp(const RebuildPipeline& pipeline) {
    const Follower* follower = pipeline.follower(kOrigin);
    EXPECT_NE(follower, nullptr);
    return follower != nullptr && WaitFor([&] {
             const Follower::Progress progress = follower->progress();
             return progress.unsubmitted == 0 && progress.in_flight == 0 &&
                    progress.position == TreeSize();
           });
  }

  std::string StateDir() {
    return FollowerStateDir(config_.state_dir, kOrigin);
  }

  // The checkpoint the follower pinned, or nullopt.
  std::optional<tlog::Checkpoint> Pinned() {
    absl::StatusOr<std::optional<client::StoredCheckpoint>> stored =
        client::CheckpointStore(StateDir() + "/checkpoints").Load(kOrigin);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok() || !stored->has_value()) return std::nullopt;
    return (*stored)->checkpoint;
  }

  // Runs the pipeline until its follower refuses the log's checkpoint;
  // returns the refusal and how far the follower had scanned.
  std::pair<std::string, uint64_t> RunUntilRefused() {
    absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
        RebuildPipeline::Start(config_, *rebuild_key_,
                               "https://witness.example/reports/", options_);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return {};
    const Follower* follower = (*pipeline)->follower(kOrigin);
    EXPECT_NE(follower, nullptr);
    if (follower == nullptr) return {};
    EXPECT_TRUE(
        WaitFor([&] { return !follower->progress().refusal.empty(); }));
    (*pipeline)->Shutdown();
    return {follower->progress().refusal, follower->progress().scanned};
  }

  std::string root_;
  std::string vkey_;
  std::unique_ptr<LogProcess> log_;
  std::string vendor_pem_;
  std::unique_ptr<crypto::Signer> vendor_;
  std::unique_ptr<crypto::PrivateKey> rebuild_key_;
  WitnessConfig config_;
  RebuildPipelineOptions options_;
  std::vector<std::unique_ptr<TestRepository>> repositories_;
};

TEST_F(FollowerTest, RebuildsClaimsInScopeAndSubmitsAttestations) {
  const uint64_t reproducible =
      LogClaim("reproducible", ProjectKind::kReproducible);
  const uint64_t timestamped =
      LogClaim("timestamped", ProjectKind::kTimestamped);
  statement::Claim elsewhere =
      ProjectClaim("elsewhere", ProjectKind::kReproducible);
  elsewhere.source.repository = "https://elsewhere.example/os";
  const uint64_t out_of_scope = Submit(elsewhere);

  absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
      RebuildPipeline::Start(config_, *rebuild_key_,
                             "https://witness.example/reports/", options_);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  ASSERT_TRUE(WaitFor([&] {
    return !Attestations(reproducible).empty() &&
           !Attestations(timestamped).empty();
  }));
  ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
  (*pipeline)->Shutdown();

  ASSERT_THAT(Attestations(reproducible), SizeIs(1));
  const statement::RebuildAttestation match =
      Attestation(Attestations(reproducible)[0]);
  EXPECT_EQ(match.verdict, Verdict::kMatch);
  EXPECT_EQ(match.claim.origin, kOrigin);
  EXPECT_EQ(match.claim.index, static_cast<int64_t>(reproducible));
  const tlog::Hash leaf_hash = tlog::HashLeaf(Leaf(reproducible));
  EXPECT_EQ(
      match.claim.leaf_hash,
      encoding::HexEncode(absl::string_view(
          reinterpret_cast<const char*>(leaf_hash.data()), leaf_hash.size())));
  EXPECT_EQ(match.rebuilder.id, "witness.example/one");

  ASSERT_THAT(Attestations(timestamped), SizeIs(1));
  const statement::RebuildAttestation mismatch =
      Attestation(Attestations(timestamped)[0]);
  EXPECT_EQ(mismatch.verdict, Verdict::kMismatch);
  ASSERT_TRUE(mismatch.report.has_value());
  struct stat st;
  EXPECT_EQ(stat((ReportsDir(config_.state_dir) + "/" +
                  mismatch.report->uri.substr(
                      std::string("https://witness.example/reports/").size()))
                     .c_str(),
                 &st),
            0);

  EXPECT_THAT(Attestations(out_of_scope), SizeIs(0));
}

TEST_F(FollowerTest, RestartResubmitsTheRecordedEnvelope) {
  const uint64_t claim = LogClaim("project", ProjectKind::kReproducible);
  {
    absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
        RebuildPipeline::Start(config_, *rebuild_key_,
                               "https://witness.example/reports/", options_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    ASSERT_TRUE(WaitFor([&] { return !Attestations(claim).empty(); }));
    ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
  }
  ASSERT_THAT(Attestations(claim), SizeIs(1));
  const uint64_t attestation = Attestations(claim)[0];
  const std::string submitted =
      absl::StrCat(StateDir(), "/attestations/", claim, ".submitted");
  absl::StatusOr<std::string> marker = ReadFile(submitted);
  ASSERT_TRUE(marker.ok()) << marker.status();
  EXPECT_EQ(*marker, absl::StrCat(attestation, "\n"));

  // As if the witness had crashed after recording the envelope, before
  // submitting it and before its position moved on; and as if a rebuild now
  // would come out differently (it would fail).
  ASSERT_EQ(unlink(submitted.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(StateDir() + "/position", "0\n", 0644).ok());
  config_.scopes[0].recipe = "exit 1";
  {
    absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
        RebuildPipeline::Start(config_, *rebuild_key_,
                               "https://witness.example/reports/", options_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    ASSERT_TRUE(WaitFor([&] { return ReadFile(submitted).ok(); }));
    ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
  }
  // The recorded envelope went in again, as the log's duplicate of the
  // first; nothing was rebuilt.
  EXPECT_EQ(*ReadFile(submitted), absl::StrCat(attestation, "\n"));
  ASSERT_THAT(Attestations(claim), SizeIs(1));
  EXPECT_EQ(Attestation(attestation).verdict, Verdict::kMatch);

  // A claim logged now is rebuilt with the new recipe.
  const uint64_t later = LogClaim("later", ProjectKind::kReproducible);
  {
    absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
        RebuildPipeline::Start(config_, *rebuild_key_,
                               "https://witness.example/reports/", options_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    ASSERT_TRUE(WaitFor([&] { return !Attestations(later).empty(); }));
    ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
  }
  ASSERT_THAT(Attestations(later), SizeIs(1));
  EXPECT_EQ(Attestation(Attestations(later)[0]).verdict, Verdict::kFailed);
  ASSERT_THAT(Attestations(claim), SizeIs(1));
}

TEST_F(FollowerTest, GivesUpOnAnUnreachableRepositoryAfterRetries) {
  statement::Claim claim = ProjectClaim("project", ProjectKind::kReproducible);
  claim.source.repository = "file://" + root_ + "/gone";
  const uint64_t index = Submit(claim);
  options_.retry_delay = absl::Milliseconds(10);
  absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
      RebuildPipeline::Start(config_, *rebuild_key_,
                             "https://witness.example/reports/", options_);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  ASSERT_TRUE(WaitFor([&] { return !Attestations(index).empty(); }));
  ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
  (*pipeline)->Shutdown();
  ASSERT_THAT(Attestations(index), SizeIs(1));
  const statement::RebuildAttestation failed =
      Attestation(Attestations(index)[0]);
  EXPECT_EQ(failed.verdict, Verdict::kFailed);
  ASSERT_TRUE(failed.report.has_value());
  absl::StatusOr<std::string> report =
      ReadFile(ReportsDir(config_.state_dir) + "/" +
               failed.report->uri.substr(
                   std::string("https://witness.example/reports/").size()));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(*report, ::testing::HasSubstr("gave up after 5 attempts"));
}

// The log the follower read is rolled back (its data directory restored
// from an older copy, served with the same key), then grows a different
// history: the same size with another root, then a larger tree that no
// consistency proof connects. Each checkpoint is refused, naming the
// attack; the follower's pinned checkpoint stays, and no claim of the
// rewritten history is rebuilt.
TEST_F(FollowerTest, RefusesARolledBackForkedOrUnprovableLog) {
  const std::string log_dir = root_ + "/log";
  const uint64_t first = LogClaim("first", ProjectKind::kReproducible);
  // An older copy of the log, taken while it is down.
  log_.reset();
  ASSERT_EQ(system(absl::StrCat("cp -a ", log_dir, "/data ", root_,
                                "/old-data")
                       .c_str()),
            0);
  const auto restart_log = [&] {
    log_ = std::make_unique<LogProcess>(log_dir, log_dir + "/log.key");
    ASSERT_FALSE(log_->grpc_address().empty());
    config_.logs[0].grpc_address = log_->grpc_address();
  };
  ASSERT_NO_FATAL_FAILURE(restart_log());
  tlog::Checkpoint pinned;
  {
    absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
        RebuildPipeline::Start(config_, *rebuild_key_,
                               "https://witness.example/reports/", options_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    ASSERT_TRUE(WaitFor([&] { return !Attestations(first).empty(); }));
    ASSERT_TRUE(WaitUntilCaughtUp(**pipeline));
    (*pipeline)->Shutdown();
    ASSERT_TRUE(Pinned().has_value());
    pinned = *Pinned();
    ASSERT_EQ(pinned.size, 2u);  // the claim and its attestation
  }

  // Runs the pipeline against the log until the follower refuses its
  // checkpoint; expects the refusal to say `attack`.
  const auto expect_refused = [&](const std::string& attack) {
    const std::string refusal = RunUntilRefused().first;
    EXPECT_THAT(refusal, ::testing::HasSubstr("possible split view"));
    EXPECT_THAT(refusal, ::testing::HasSubstr(attack));
    EXPECT_EQ(Pinned(), pinned);
  };

  // The rollback: the old copy, size 1.
  log_.reset();
  ASSERT_TRUE(RemoveTree(log_dir + "/data").ok());
  ASSERT_EQ(rename((root_ + "/old-data").c_str(), (log_dir + "/data").c_str()),
            0);
  ASSERT_NO_FATAL_FAILURE(restart_log());
  ASSERT_EQ(TreeSize(), 1u);
  ASSERT_NO_FATAL_FAILURE(expect_refused("older than the size 2"));

  // A fork: size 2 again, with another claim in scope.
  const uint64_t forked = LogClaim("forked", ProjectKind::kReproducible);
  ASSERT_EQ(TreeSize(), 2u);
  ASSERT_NO_FATAL_FAILURE(expect_refused("but the one verified before has root"));

  // Larger, and no consistency proof reaches the pinned root.
  const uint64_t beyond = LogClaim("beyond", ProjectKind::kReproducible);
  ASSERT_EQ(TreeSize(), 3u);
  ASSERT_NO_FATAL_FAILURE(expect_refused("is not consistent with the one of size 2"));

  EXPECT_THAT(Attestations(forked), SizeIs(0));
  EXPECT_THAT(Attestations(beyond), SizeIs(0));
}

// A log for the same origin under another key (an impostor, or a log whose
// key was replaced): its checkpoint is refused, nothing is pinned and its
// claims are not rebuilt.
TEST_F(FollowerTest, RefusesACheckpointSignedByAnotherKey) {
  const uint64_t claim = LogClaim("project", ProjectKind::kReproducible);
  const std::string other = root_ + "/other-key";
  SubprocessOptions keygen;
  keygen.argv = {LogBinary(), "keygen", absl::StrCat("--origin=", kOrigin),
                 "--out=" + other};
  absl::StatusOr<SubprocessResult> generated = RunSubprocess(keygen);
  ASSERT_TRUE(generated.ok() && generated->ok());
  absl::StatusOr<std::string> vkey = ReadFile(other + "/log.vkey");
  ASSERT_TRUE(vkey.ok());
  config_.logs[0].vkey = std::string(absl::StripSuffix(*vkey, "\n"));

  const auto [refusal, scanned] = RunUntilRefused();
  EXPECT_THAT(refusal,
              ::testing::HasSubstr("the log's checkpoint does not verify"));
  EXPECT_EQ(scanned, 0u);
  EXPECT_EQ(Pinned(), std::nullopt);
  EXPECT_THAT(Attestations(claim), SizeIs(0));
}

TEST_F(FollowerTest, NoScopesStartsNothing) {
  config_.scopes.clear();
  absl::StatusOr<std::unique_ptr<RebuildPipeline>> pipeline =
      RebuildPipeline::Start(config_, *rebuild_key_,
                             "https://witness.example/reports/", options_);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  EXPECT_EQ((*pipeline)->follower(kOrigin), nullptr);
}

}  // namespace
}  // namespace refsum::witness
