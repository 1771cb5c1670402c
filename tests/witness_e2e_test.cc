// End to end: three real refsum-witness processes cosign a real refsum-log's
// checkpoints and rebuild the claims it logs, in a bubblewrap sandbox, from
// real git repositories (file:// URLs) made by witness/rebuild_testing.h; a
// vendor claims and submits with the real refsum-submit; the real
// refsum-verify judges the result with a 2-of-3 witness quorum and a 2-of-3
// rebuild quorum.
//
// The chicken and the egg: a witness's configuration names the log's gRPC
// address, and the log's --witnesses policy names each witness's URL. The
// log is started first (on ports the kernel picks, as LogServer does), with
// witness URLs on ports the test reserves beforehand by binding 127.0.0.1:0
// and closing the socket; the witnesses are then started on exactly those
// ports, with the log's now known address. Until they listen, the log's
// pusher only retries (submissions never wait for witnesses). Fixed witness
// ports are needed anyway: a witness restarted on its state directory must be
// found again at the URL the log's policy names. (The reservation can race
// with another process taking the port in between; the witness would then
// fail to start, visibly.)
//
// The tests share one environment (SetUpTestSuite) and run in order: the
// reproducible claim, the non-reproducible one, the broken one, then a
// witness restart that looks back at every claim.
//
// Nothing here depends on timing: every wait is a generous upper bound.

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "base/status_testing.h"
#include "client/log_client.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "witness/config.h"
#include "witness/rebuild_testing.h"

namespace refsum::tests {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kWitnessBinary[] = "witness/refsum-witness";
constexpr char kSubmitBinary[] = "submitter/refsum-submit";
constexpr char kVerifyBinary[] = "client/refsum-verify";
constexpr char kOrigin[] = "log.refsum.example/witness-e2e";
constexpr int kWitnesses = 3;

// Upper bounds on waiting, never expectations of speed.
constexpr absl::Duration kTimeout = absl::Minutes(5);
constexpr absl::Duration kRebuildTimeout = absl::Minutes(20);

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

absl::StatusOr<std::string> NewTempDir(absl::string_view prefix) {
  std::string path = absl::StrCat(TestTmpDir(), "/", prefix, "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("creating ", path));
  }
  return path;
}

// The names of the witnesses whose cosignature lines `note` carries, among
// `names`: signature lines are "— NAME BASE64".
std::set<std::string> CosignerNames(absl::string_view note,
                                    const std::vector<std::string>& names) {
  std::set<std::string> found;
  for (absl::string_view line : absl::StrSplit(note, '\n')) {
    if (!absl::ConsumePrefix(&line, "\xE2\x80\x94 ")) continue;
    const std::string name(line.substr(0, line.find(' ')));
    for (const std::string& witness : names) {
      if (name == witness) found.insert(name);
    }
  }
  return found;
}

// One witness: its keys, configuration, port and process.
struct Witness {
  std::string name;            // the cosigner name, witness.example.org/wN
  std::string rebuilder_name;  // rN, in the log's keys and the policies
  std::string dir;
  std::string config_path;
  std::string state_dir;
  std::string cosign_vkey;
  std::string rebuild_keyid;  // of rebuild.pub
  int port = 0;
  std::unique_ptr<Process> process;
  int starts = 0;

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port); }
};

// A claim the test made and submitted.
struct SubmittedClaim {
  uint64_t index = 0;
  std::string pcr_hex;
  std::string commit;
};

// The shared environment: see the file comment.
class WitnessE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    SetUpEnvironment();
    if (::testing::Test::HasFatalFailure()) env_->broken = true;
  }

  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  void SetUp() override {
    ASSERT_FALSE(env_->broken) << "the shared environment did not start";
  }

  struct Env {
    bool broken = false;
    std::string dir;
    std::string runs;
    std::string repos;
    std::vector<Witness> witnesses;
    std::unique_ptr<LogServer> log;
    std::string policy;
    std::vector<SubmittedClaim> claims;
    int run_count = 0;
    int repository_count = 0;
  };
  static Env* env_;

  static void SetUpEnvironment() {
    ASSERT_OK_AND_ASSIGN(env_->dir, NewTempDir("witness_e2e"));
    env_->runs = env_->dir + "/runs";
    env_->repos = env_->dir + "/repos";
    ASSERT_EQ(mkdir(env_->runs.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(env_->repos.c_str(), 0700), 0);

    // The vendor.
    const RunResult vendor_keygen =
        Run(kSubmitBinary, "submit",
            {"keygen", "--type=ecdsa-p256", "--out=" + env_->dir + "/vendor"});
    ASSERT_TRUE(vendor_keygen.status.ExitedWith(0))
        << vendor_keygen.stderr_text;

    // The witnesses' keys and reserved ports.
    for (int i = 1; i <= kWitnesses; ++i) {
      Witness witness;
      witness.name = absl::StrCat("witness.example.org/w", i);
      witness.rebuilder_name = absl::StrCat("r", i);
      witness.dir = absl::StrCat(env_->dir, "/w", i);
      witness.config_path = witness.dir + "/witness.conf";
      witness.state_dir = witness.dir + "/state";
      ASSERT_EQ(mkdir(witness.dir.c_str(), 0700), 0);
      const RunResult keygen = Run(kWitnessBinary, "witness-keygen",
                                   {"keygen", "--name=" + witness.name,
                                    "--out=" + witness.dir + "/keys"});
      ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
      ASSERT_OK_AND_ASSIGN(const std::string vkey,
                           ReadFile(witness.dir + "/keys/cosign.vkey"));
      witness.cosign_vkey = std::string(absl::StripSuffix(vkey, "\n"));
      ASSERT_OK_AND_ASSIGN(
          const crypto::PublicKey rebuild_key,
          crypto::ReadPublicKeyFile(witness.dir + "/keys/rebuild.pub"));
      witness.rebuild_keyid = rebuild_key.keyid();
      ASSERT_OK_AND_ASSIGN(witness.port, ReserveLoopbackPort());
      env_->witnesses.push_back(std::move(witness));
    }

    // The log: admits the vendor and the witnesses' rebuild keys, and pushes
    // its checkpoints to the witnesses (2 of 3).
    LogServerOptions options;
    ASSERT_OK_AND_ASSIGN(options.key,
                         GenerateLogKey(kOrigin, env_->dir + "/log"));
    options.data_dir = env_->dir + "/log.data";
    options.output_dir = env_->runs;
    options.timeout = kTimeout;
    options.keys_path = env_->dir + "/signers.txt";
    std::string keys = absl::StrCat("vendor acme ", env_->dir, "/vendor.pub\n");
    std::string witness_policy = absl::StrCat("log ", options.key.vkey, "\n");
    for (const Witness& witness : env_->witnesses) {
      absl::StrAppend(&keys, "rebuilder ", witness.rebuilder_name, " ",
                      witness.dir, "/keys/rebuild.pub\n");
      absl::StrAppend(&witness_policy, "witness ", witness.rebuilder_name, " ",
                      witness.cosign_vkey, " ", witness.url(), "\n");
    }
    absl::StrAppend(&witness_policy, "group witnesses 2 r1 r2 r3\n",
                    "quorum witnesses\n");
    ASSERT_OK(WriteFileAtomically(options.keys_path, keys, 0644));
    const std::string witnesses_path = env_->dir + "/log-witnesses.txt";
    ASSERT_OK(WriteFileAtomically(witnesses_path, witness_policy, 0644));
    options.extra_flags = {"--witnesses=" + witnesses_path,
                           "--witness_max_backoff=1s"};
    ASSERT_OK_AND_ASSIGN(env_->log, LogServer::Start(options));

    // The witnesses, now that the log's address is known.
    for (Witness& witness : env_->witnesses) {
      const std::string config = absl::StrCat(
          "# refsum-witness e2e\n", "name ", witness.name, "\n",
          "cosign_key keys/cosign.key\n", "rebuild_key keys/rebuild.key\n",
          "http_addr 127.0.0.1:", witness.port, "\n", "state_dir state\n",
          "log ", kOrigin, " ", env_->log->options().key.vkey, " ",
          env_->log->grpc_address(), "\n", "scope file://", env_->repos, "/ ",
          witness::kProjectRecipe, "\n", "limit wall_time 10m\n",
          "parallelism 2\n");
      ASSERT_OK(WriteFileAtomically(witness.config_path, config, 0644));
      StartWitness(witness);
      if (::testing::Test::HasFatalFailure()) return;
    }

    // The verifier's policy.
    std::string policy =
        absl::StrCat("# witness e2e\nlog ", options.key.vkey, "\n");
    for (const Witness& witness : env_->witnesses) {
      absl::StrAppend(&policy, "witness w", witness.rebuilder_name.substr(1),
                      " ", witness.cosign_vkey, "\n");
    }
    absl::StrAppend(&policy, "group witnesses 2 w1 w2 w3\nquorum witnesses\n",
                    "vendor acme vendor.pub\n");
    for (const Witness& witness : env_->witnesses) {
      absl::StrAppend(&policy, "rebuilder ", witness.rebuilder_name, " ",
                      witness.dir, "/keys/rebuild.pub\n");
    }
    absl::StrAppend(&policy, "rebuild-group r 2 r1 r2 r3\nrebuild-quorum r\n");
    env_->policy = env_->dir + "/policy.txt";
    ASSERT_OK(WriteFileAtomically(env_->policy, policy, 0644));
  }

  // Starts (or restarts) `witness` on its configuration and waits until it
  // is ready.
  static void StartWitness(Witness& witness) {
    const std::string prefix =
        absl::StrCat(witness.dir, "/serve-", witness.starts++);
    const std::string ready = prefix + ".ready.json";
    ASSERT_OK_AND_ASSIGN(
        witness.process,
        Process::Start(kWitnessBinary,
                       {"serve", "--config=" + witness.config_path,
                        "--ready_file=" + ready},
                       prefix + ".stdout", prefix + ".stderr"));
    ASSERT_OK_AND_ASSIGN(const std::string json,
                         witness.process->WaitForFile(ready, kTimeout));
    EXPECT_THAT(json, HasSubstr(absl::StrCat("127.0.0.1:", witness.port)));
  }

  static RunResult Run(const char* binary, absl::string_view name,
                       const std::vector<std::string>& args,
                       absl::Duration timeout = kTimeout) {
    absl::StatusOr<RunResult> run = RunProcess(
        binary, args,
        absl::StrCat(env_->runs, "/", name, "-", env_->run_count++), timeout);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : RunResult{};
  }

  static RunResult Verify(const std::vector<std::string>& args) {
    static int states = 0;
    std::vector<std::string> all = {
        "--policy=" + env_->policy,
        absl::StrCat("--state_dir=", env_->dir, "/verify-state-", states++)};
    all.insert(all.end(), args.begin(), args.end());
    return Run(kVerifyBinary, "verify", all);
  }

  // Makes a repository holding the project of `kind` (with `extra` written
  // into the image, so that every project has its own artifact), the
  // vendor's artifact and claim, and submits it with refsum-submit, waiting
  // for `wait_matches` MATCH attestations when positive (writing the bundle
  // to `bundle_out`). Returns the submitted claim; the claim's value is
  // checked to be the TPM PCR extend of the artifact.
  void MakeAndSubmit(witness::ProjectKind kind, const std::string& extra,
                     int wait_matches, const std::string& bundle_out,
                     SubmittedClaim* submitted) {
    const std::string name = absl::StrCat("project-", env_->repository_count++);
    witness::TestRepository repository(env_->repos + "/" + name);
    repository.Write("image/variant", extra + "\n");
    const std::string commit = witness::CommitProject(repository, kind);
    const std::string out = absl::StrCat(env_->dir, "/vendor-", name);
    ASSERT_EQ(mkdir(out.c_str(), 0700), 0);
    const std::string artifact_path = out + "/" + witness::kProjectArtifact;
    std::string pcr;
    if (kind == witness::ProjectKind::kBroken) {
      // The vendor claims an artifact the source cannot build.
      ASSERT_OK(WriteFileAtomically(artifact_path,
                                    "an artifact from somewhere else\n", 0644));
      ASSERT_OK_AND_ASSIGN(const std::string artifact, ReadFile(artifact_path));
      pcr = witness::PcrExtendOfArtifact(artifact);
    } else {
      ASSERT_OK_AND_ASSIGN(const statement::Claim built,
                           witness::VendorClaim(repository, commit, out));
      ASSERT_EQ(built.reference_values.size(), 1u);
      pcr = built.reference_values[0].digest.hex;
      ASSERT_OK_AND_ASSIGN(const std::string artifact, ReadFile(artifact_path));
      // The build script's extend is the real one.
      ASSERT_EQ(pcr, witness::PcrExtendOfArtifact(artifact));
    }
    const std::string claim_path = out + "/claim.json";
    const RunResult claimed =
        Run(kSubmitBinary, "submit",
            {"claim", "--key=" + env_->dir + "/vendor.key",
             "--artifact=" + artifact_path, "--repository", repository.url(),
             "--commit", commit, "--recipe", witness::kProjectRecipe, "--value",
             absl::StrCat("tpm/pcr/4=sha256:", pcr), "--out", claim_path});
    ASSERT_TRUE(claimed.status.ExitedWith(0)) << claimed.stderr_text;

    std::vector<std::string> args = {"submit",
                                     "--log=" + env_->log->grpc_address(),
                                     "--log_key=" + env_->log->vkey_path()};
    if (wait_matches > 0) {
      args.push_back(absl::StrCat("--wait_attestations=", wait_matches));
      args.push_back(
          absl::StrCat("--timeout=", absl::FormatDuration(kRebuildTimeout)));
      args.push_back("--poll_interval=1s");
      args.push_back("--out=" + bundle_out);
    } else {
      args.push_back("--out=" + out + "/claim.tlog-proof");
    }
    args.push_back(claim_path);
    const RunResult run =
        Run(kSubmitBinary, "submit", args, kRebuildTimeout + kTimeout);
    ASSERT_TRUE(run.status.ExitedWith(0)) << run.status.ToString() << "\n"
                                          << run.stderr_text << WitnessLogs();
    ASSERT_THAT(run.stdout_text, StartsWith("logged at index "));
    uint64_t index = 0;
    const absl::string_view rest =
        absl::string_view(run.stdout_text).substr(16);
    ASSERT_TRUE(absl::SimpleAtoi(
        rest.substr(0, rest.find_first_not_of("0123456789")), &index))
        << run.stdout_text;
    submitted->index = index;
    submitted->pcr_hex = pcr;
    submitted->commit = commit;
    env_->claims.push_back(*submitted);
  }

  // The attestations of claim `index` in the log, parsed, by the keyid of
  // their signature; each envelope's signature is checked against the
  // witness whose key it names.
  struct Attestation {
    uint64_t index;
    std::string leaf;
    statement::RebuildAttestation statement;
  };
  static std::map<std::string, std::vector<Attestation>> Attestations(
      uint64_t claim_index) {
    std::map<std::string, std::vector<Attestation>> by_keyid;
    absl::StatusOr<std::vector<uint64_t>> indices =
        env_->log->client().GetAttestations(claim_index);
    EXPECT_TRUE(indices.ok()) << indices.status();
    if (!indices.ok()) return by_keyid;
    for (const uint64_t index : *indices) {
      absl::StatusOr<std::vector<std::string>> leaves =
          env_->log->client().GetEntries(index, 1);
      EXPECT_TRUE(leaves.ok() && leaves->size() == 1) << leaves.status();
      if (!leaves.ok() || leaves->size() != 1) continue;
      absl::StatusOr<crypto::DsseEnvelope> envelope =
          crypto::DecodeDsseLeaf((*leaves)[0]);
      EXPECT_TRUE(envelope.ok()) << envelope.status();
      if (!envelope.ok() || envelope->signatures.size() != 1) continue;
      absl::StatusOr<statement::RebuildAttestation> statement =
          statement::ParseRebuildAttestation(envelope->payload);
      EXPECT_TRUE(statement.ok()) << statement.status();
      if (!statement.ok()) continue;
      by_keyid[envelope->signatures[0].keyid].push_back(
          Attestation{index, (*leaves)[0], *std::move(statement)});
    }
    return by_keyid;
  }

  // Waits until claim `index` has an attestation from every witness.
  static std::map<std::string, std::vector<Attestation>> WaitForAttestations(
      uint64_t index) {
    const absl::Time deadline = absl::Now() + kRebuildTimeout;
    std::map<std::string, std::vector<Attestation>> found;
    while (true) {
      found = Attestations(index);
      if (found.size() >= kWitnesses || absl::Now() > deadline) break;
      absl::SleepFor(absl::Seconds(1));
    }
    EXPECT_EQ(found.size(), static_cast<size_t>(kWitnesses))
        << "attestations of claim " << index << WitnessLogs();
    return found;
  }

  // The end of every witness's stderr, for failure messages.
  static std::string WitnessLogs() {
    std::string text;
    for (const Witness& witness : env_->witnesses) {
      if (witness.process == nullptr) continue;
      std::string err = witness.process->ReadStderr();
      if (err.size() > 4000) err = "..." + err.substr(err.size() - 4000);
      absl::StrAppend(&text, "\n--- stderr of ", witness.name, " ---\n", err);
    }
    return text;
  }

  static const Witness* WitnessByKeyid(const std::string& keyid) {
    for (const Witness& witness : env_->witnesses) {
      if (witness.rebuild_keyid == keyid) return &witness;
    }
    return nullptr;
  }

  // The names of the three witnesses, as cosigners.
  static std::vector<std::string> CosignerNamesOfAll() {
    std::vector<std::string> names;
    for (const Witness& witness : env_->witnesses) {
      names.push_back(witness.name);
    }
    return names;
  }

  // The size of the checkpoint `witness` last cosigned, from its state.
  static std::optional<uint64_t> CosignedSize(const Witness& witness) {
    absl::StatusOr<std::string> note =
        ReadFile(absl::StrCat(witness::CosignedDir(witness.state_dir),
                              "/checkpoint-", crypto::Sha256Hex(kOrigin)));
    if (!note.ok()) return std::nullopt;
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        tlog::ParseCheckpointNote(*note);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    if (!checkpoint.ok()) return std::nullopt;
    return checkpoint->size;
  }
};

WitnessE2eTest::Env* WitnessE2eTest::env_ = nullptr;

// The honest claim: three MATCH attestations, a witnessed bundle, TRUSTED.
TEST_F(WitnessE2eTest, ReproducibleClaimIsTrusted) {
  const std::string bundle_path = env_->dir + "/reproducible.bundle.json";
  SubmittedClaim claim;
  MakeAndSubmit(witness::ProjectKind::kReproducible, "reproducible", 3,
                bundle_path, &claim);
  if (HasFatalFailure()) return;

  // Every witness attested MATCH, once, with its own rebuild key.
  const auto attestations = WaitForAttestations(claim.index);
  for (const auto& [keyid, list] : attestations) {
    const Witness* witness = WitnessByKeyid(keyid);
    ASSERT_NE(witness, nullptr) << keyid;
    ASSERT_EQ(list.size(), 1u) << witness->name;
    EXPECT_EQ(list[0].statement.verdict, statement::Verdict::kMatch)
        << witness->name;
    EXPECT_EQ(list[0].statement.rebuilder.id, witness->name);
    EXPECT_EQ(list[0].statement.claim.origin, kOrigin);
    EXPECT_EQ(list[0].statement.claim.index, static_cast<int64_t>(claim.index));
  }

  // The bundle's checkpoint carries at least 2 of the witnesses'
  // cosignatures.
  ASSERT_OK_AND_ASSIGN(const std::string bundle_json, ReadFile(bundle_path));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       tlog::DecodeBundle(bundle_json));
  ASSERT_EQ(bundle.claims.size(), 1u);
  const std::string& note = bundle.claims[0].claim.proof.checkpoint;
  EXPECT_GE(CosignerNames(note, CosignerNamesOfAll()).size(), 2u) << note;
  EXPECT_GE(bundle.claims[0].attestations.size(), 2u);

  // Offline, from the bundle refsum-submit wrote.
  const RunResult offline =
      Verify({"--bundle=" + bundle_path,
              absl::StrCat("--value=tpm/pcr/4=sha256:", claim.pcr_hex)});
  EXPECT_TRUE(offline.status.ExitedWith(0)) << offline.status.ToString() << "\n"
                                            << offline.stderr_text;
  EXPECT_THAT(offline.stdout_text, StartsWith("TRUSTED\n"));
  EXPECT_THAT(offline.stdout_text, HasSubstr("  rebuilders  r"));
  EXPECT_THAT(offline.stdout_text, HasSubstr("(MATCH)"));
  EXPECT_THAT(offline.stdout_text, HasSubstr(claim.commit));

  // Online.
  const RunResult online =
      Verify({"--log=" + env_->log->grpc_address(),
              absl::StrCat("--value=tpm/pcr/4=sha256:", claim.pcr_hex)});
  EXPECT_TRUE(online.status.ExitedWith(0)) << online.status.ToString() << "\n"
                                           << online.stderr_text;
  EXPECT_THAT(online.stdout_text, StartsWith("TRUSTED\n"));
  // Two rebuilders at least are named.
  int named = 0;
  for (const char* name : {"r1", "r2", "r3"}) {
    const std::string line =
        online.stdout_text.substr(online.stdout_text.find("  rebuilders  "));
    if (absl::StrContains(line.substr(0, line.find('\n')), name)) ++named;
  }
  EXPECT_GE(named, 2) << online.stdout_text;
}

// A build that embeds the time: every witness says MISMATCH, with a report
// it serves; the verifier rejects the claim naming them.
TEST_F(WitnessE2eTest, NonReproducibleClaimIsRejectedNamingRebuilders) {
  SubmittedClaim claim;
  MakeAndSubmit(witness::ProjectKind::kTimestamped, "timestamped", 0, "",
                &claim);
  if (HasFatalFailure()) return;
  const auto attestations = WaitForAttestations(claim.index);
  for (const auto& [keyid, list] : attestations) {
    const Witness* witness = WitnessByKeyid(keyid);
    ASSERT_NE(witness, nullptr) << keyid;
    ASSERT_EQ(list.size(), 1u) << witness->name;
    const statement::RebuildAttestation& statement = list[0].statement;
    EXPECT_EQ(statement.verdict, statement::Verdict::kMismatch)
        << witness->name;
    ASSERT_TRUE(statement.report.has_value()) << witness->name;
    // The report is served at its URI, and is what the digest says.
    const std::string prefix = absl::StrCat(witness->url(), "/reports/");
    ASSERT_THAT(statement.report->uri, StartsWith(prefix));
    httplib::Client http("127.0.0.1", witness->port);
    http.set_connection_timeout(absl::ToInt64Seconds(kTimeout), 0);
    http.set_read_timeout(absl::ToInt64Seconds(kTimeout), 0);
    const httplib::Result fetched =
        http.Get(statement.report->uri.substr(witness->url().size()));
    ASSERT_TRUE(fetched) << httplib::to_string(fetched.error());
    EXPECT_EQ(fetched->status, 200) << statement.report->uri;
    const auto sha256 = statement.report->digest.find("sha256");
    ASSERT_NE(sha256, statement.report->digest.end());
    EXPECT_EQ(crypto::Sha256Hex(fetched->body), sha256->second);
    // It compares the claimed and the rebuilt artifact.
    EXPECT_THAT(fetched->body, HasSubstr(witness::kProjectArtifact));
  }

  const RunResult verified =
      Verify({"--log=" + env_->log->grpc_address(),
              absl::StrCat("--value=tpm/pcr/4=sha256:", claim.pcr_hex)});
  EXPECT_TRUE(verified.status.ExitedWith(1)) << verified.status.ToString();
  EXPECT_THAT(verified.stderr_text, StartsWith("REJECTED: mismatch: "));
  for (const char* name : {"r1", "r2", "r3"}) {
    EXPECT_THAT(
        verified.stderr_text,
        HasSubstr(absl::StrCat("rebuilder ", name, " reports MISMATCH")));
  }
  EXPECT_EQ(verified.stdout_text, "");
}

// A project that does not build: FAILED attestations, which meet no rebuild
// quorum.
TEST_F(WitnessE2eTest, BrokenClaimFailsTheRebuildQuorum) {
  SubmittedClaim claim;
  MakeAndSubmit(witness::ProjectKind::kBroken, "broken", 0, "", &claim);
  if (HasFatalFailure()) return;
  const auto attestations = WaitForAttestations(claim.index);
  for (const auto& [keyid, list] : attestations) {
    const Witness* witness = WitnessByKeyid(keyid);
    ASSERT_NE(witness, nullptr) << keyid;
    ASSERT_EQ(list.size(), 1u) << witness->name;
    EXPECT_EQ(list[0].statement.verdict, statement::Verdict::kFailed)
        << witness->name;
  }

  const RunResult verified =
      Verify({"--log=" + env_->log->grpc_address(),
              absl::StrCat("--value=tpm/pcr/4=sha256:", claim.pcr_hex)});
  EXPECT_TRUE(verified.status.ExitedWith(1)) << verified.status.ToString();
  EXPECT_THAT(verified.stderr_text, StartsWith("REJECTED: rebuild quorum: "));
  EXPECT_THAT(verified.stderr_text, HasSubstr("no policy rebuilder"));
}

// A witness stopped with SIGTERM and started again on its state directory
// (and port) goes on cosigning from where it was, and attests no claim a
// second time.
TEST_F(WitnessE2eTest, RestartedWitnessKeepsStateAndNeverAttestsTwice) {
  Witness& restarted = env_->witnesses[0];
  const std::optional<uint64_t> cosigned_before = CosignedSize(restarted);
  ASSERT_TRUE(cosigned_before.has_value())
      << "w1 never cosigned" << WitnessLogs();
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped,
                       restarted.process->SignalAndWait(SIGTERM, kTimeout));
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
  StartWitness(restarted);
  if (HasFatalFailure()) return;
  // The state survived the restart.
  ASSERT_EQ(CosignedSize(restarted), cosigned_before);

  // A new claim: rebuilt by all three again, the restarted one included.
  const std::string bundle_path = env_->dir + "/after-restart.bundle.json";
  SubmittedClaim claim;
  MakeAndSubmit(witness::ProjectKind::kReproducible, "after the restart", 3,
                bundle_path, &claim);
  if (HasFatalFailure()) return;
  const RunResult verified =
      Verify({"--bundle=" + bundle_path,
              absl::StrCat("--value=tpm/pcr/4=sha256:", claim.pcr_hex)});
  EXPECT_TRUE(verified.status.ExitedWith(0))
      << verified.status.ToString() << "\n"
      << verified.stderr_text;

  // Cosigning continues: the restarted witness cosigns the log's newest
  // checkpoint, extending what it cosigned before.
  ASSERT_OK_AND_ASSIGN(const std::string latest_note,
                       env_->log->client().GetCheckpoint());
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint latest,
                       tlog::ParseCheckpointNote(latest_note));
  ASSERT_GT(latest.size, *cosigned_before);
  const absl::Time deadline = absl::Now() + kTimeout;
  std::optional<uint64_t> cosigned_after;
  while (absl::Now() < deadline) {
    cosigned_after = CosignedSize(restarted);
    if (cosigned_after.has_value() && *cosigned_after >= latest.size) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(cosigned_after.has_value());
  EXPECT_GE(*cosigned_after, latest.size) << WitnessLogs();
  EXPECT_THAT(restarted.process->ReadStderr(),
              ::testing::Not(HasSubstr("possible log misbehaviour")));

  // No claim has two attestations from one rebuilder.
  for (const SubmittedClaim& submitted : env_->claims) {
    const auto attestations = WaitForAttestations(submitted.index);
    for (const auto& [keyid, list] : attestations) {
      EXPECT_NE(WitnessByKeyid(keyid), nullptr) << keyid;
      EXPECT_EQ(list.size(), 1u)
          << "claim " << submitted.index << " has " << list.size()
          << " attestations by key " << keyid;
    }
  }
  // And every witness is still running.
  for (Witness& witness : env_->witnesses) {
    EXPECT_EQ(witness.process->Poll(), std::nullopt)
        << witness.name << WitnessLogs();
  }
}

}  // namespace
}  // namespace refsum::tests
