// End-to-end tests of refsum-submit: the real binary
// (//submitter:refsum-submit) run as a process against a real refsum-log
// (//log:refsum-log) on loopback, with keys made by both tools' keygen.
//
// Rebuild attestations are submitted by the test itself, through
// client::LogClient, signed by rebuilder keys the log admits. What
// refsum-submit writes is checked with refsum's libraries directly: claims
// with statement/, signatures with crypto/, tlog-proofs and bundles with
// tlog/ against the log's verifier key.
//
// Nothing here depends on timing: every wait is a generous upper bound, and
// the one short --timeout is for a wait that cannot succeed.

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "base/status_testing.h"
#include "client/log_client.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"
#include "tlog/tlog_proof.h"

namespace refsum::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kSubmitBinary[] = "submitter/refsum-submit";
constexpr char kOrigin[] = "log.refsum.example/submit-e2e";
constexpr char kRepository[] = "https://github.com/example/os-image";

// Upper bounds on waiting, never expectations of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);

const std::string kCommit(40, 'c');
const std::string kSnpHex = std::string(95, 'a') + "1";
const std::string kPcrHex = std::string(63, 'b') + "2";

std::string SnpSpec() {
  return absl::StrCat("amd-sev-snp/launch-measurement=sha384:", kSnpHex,
                      ",vcpus=4,vmm=qemu");
}

std::string PcrSpec() { return absl::StrCat("tpm/pcr/4=sha256:", kPcrHex); }

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

// The permission bits of `path`, or -1 if it does not exist.
int FileMode(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 07777);
}

bool Exists(const std::string& path) { return FileMode(path) != -1; }

// The names in directory `dir`, sorted, without "." and "..".
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (const dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

// Expects `stderr_text` to be exactly one line, "refsum-submit: ...", that
// contains `expected`.
void ExpectOneErrorLine(const std::string& stderr_text,
                        absl::string_view expected) {
  EXPECT_THAT(stderr_text, StartsWith("refsum-submit: ")) << stderr_text;
  EXPECT_EQ(std::count(stderr_text.begin(), stderr_text.end(), '\n'), 1)
      << stderr_text;
  EXPECT_THAT(stderr_text, HasSubstr(std::string(expected))) << stderr_text;
}

// A rebuilder: a key the log admits for attestations.
struct Rebuilder {
  std::string name;
  std::unique_ptr<crypto::Signer> signer;
};

absl::StatusOr<Rebuilder> NewRebuilder(absl::string_view name,
                                       const std::string& dir) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(
      absl::StrCat(dir, "/", name, ".pem"), key.public_key()));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  return Rebuilder{std::string(name), std::move(signer)};
}

// The fixture: a log key from `refsum-log keygen`, a vendor key from
// `refsum-submit keygen`, three rebuilders, a signers list admitting them,
// a running log and an artifact file.
class SubmitE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("submit"));
    runs_ = dir_ + "/runs";
    work_ = dir_ + "/work";
    ASSERT_EQ(mkdir(runs_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(work_.c_str(), 0700), 0);
    ASSERT_OK_AND_ASSIGN(log_options_.key,
                         GenerateLogKey(kOrigin, dir_ + "/log"));
    vkey_path_ = log_options_.key.vkey_path;

    vendor_ = dir_ + "/vendor";
    const RunResult keygen =
        Submit({"keygen", "--type", "ecdsa-p256", "--out", vendor_});
    ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
    for (const char* name : {"r1", "r2", "r3"}) {
      ASSERT_OK_AND_ASSIGN(Rebuilder rebuilder, NewRebuilder(name, dir_));
      rebuilders_.push_back(std::move(rebuilder));
    }
    log_options_.keys_path = dir_ + "/signers.txt";
    ASSERT_OK(WriteFileAtomically(log_options_.keys_path,
                                  "vendor acme vendor.pub\n"
                                  "rebuilder r1 r1.pem\n"
                                  "rebuilder r2 r2.pem\n"
                                  "rebuilder r3 r3.pem\n",
                                  0644));
    log_options_.data_dir = dir_ + "/log.data";
    log_options_.output_dir = dir_;
    log_options_.timeout = kTimeout;
    ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(log_options_));

    artifact_ = work_ + "/os-image.raw";
    std::string contents;
    for (int i = 0; contents.size() < (3 << 20); ++i) {
      absl::StrAppend(&contents, "block ", i, "\n");
    }
    ASSERT_OK(WriteFileAtomically(artifact_, contents, 0644));
    artifact_sha256_ = crypto::Sha256Hex(contents);
  }

  // Runs refsum-submit with `args` to completion.
  RunResult Submit(const std::vector<std::string>& args) {
    static std::atomic<int> runs{0};
    absl::StatusOr<RunResult> run = RunProcess(
        kSubmitBinary, args, absl::StrCat(runs_, "/submit-", runs.fetch_add(1)),
        kTimeout);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : RunResult{};
  }

  // The arguments of a valid `claim` by the vendor, writing `out`.
  std::vector<std::string> ClaimArgs(const std::string& out) {
    return {"claim",
            "--key",
            vendor_ + ".key",
            "--artifact",
            artifact_,
            "--repository",
            kRepository,
            "--commit",
            kCommit,
            "--tag",
            "v1.2.0",
            "--recipe",
            "nix build .#image",
            "--value",
            SnpSpec(),
            "--value",
            PcrSpec(),
            "--out",
            out};
  }

  // Runs `claim` and returns the envelope it wrote.
  absl::StatusOr<crypto::DsseEnvelope> MakeClaim(const std::string& out) {
    const RunResult run = Submit(ClaimArgs(out));
    if (!run.status.ExitedWith(0)) {
      return absl::InternalError(absl::StrCat("claim: ", run.status.ToString(),
                                              ": ", run.stderr_text));
    }
    ASSIGN_OR_RETURN(std::string json, ReadFile(out));
    return crypto::DecodeDsseJson(json);
  }

  // Runs `submit` of `claim_path` with the log's key and expects success.
  void SubmitClaim(const std::string& claim_path, const std::string& out) {
    const RunResult run =
        Submit({"submit", "--log", log_->grpc_address(), "--log_key",
                vkey_path_, "--out", out, claim_path});
    ASSERT_TRUE(run.status.ExitedWith(0)) << run.status.ToString() << "\n"
                                          << run.stderr_text;
  }

  // Logs an attestation of the claim `claim` (at `claim_index`) by
  // `rebuilder`, through the LogClient. `seed` makes otherwise equal
  // attestations distinct. Returns its index.
  absl::StatusOr<uint64_t> Attest(const crypto::DsseEnvelope& claim,
                                  uint64_t claim_index,
                                  const Rebuilder& rebuilder,
                                  statement::Verdict verdict, int seed = 0) {
    ASSIGN_OR_RETURN(statement::Claim parsed,
                     statement::ParseClaim(claim.payload));
    statement::RebuildAttestation attestation;
    attestation.subjects = parsed.subjects;
    attestation.claim = {kOrigin, static_cast<int64_t>(claim_index),
                         encoding::HexEncode(crypto::DigestBytes(
                             tlog::HashLeaf(crypto::EncodeDsseLeaf(claim))))};
    attestation.verdict = verdict;
    if (verdict != statement::Verdict::kFailed) {
      attestation.rebuilt =
          statement::RebuiltOutput{parsed.subjects, parsed.reference_values};
    }
    if (verdict == statement::Verdict::kMismatch) {
      attestation.report = statement::Report{
          {{"sha256", std::string(64, 'd')}},
          absl::StrCat("https://", rebuilder.name, ".example/report")};
    }
    attestation.rebuilder = {rebuilder.name, "nix build .#image"};
    attestation.rebuilt_at =
        absl::StrCat("2026-11-27T12:00:", seed < 10 ? "0" : "", seed, "Z");
    ASSIGN_OR_RETURN(std::string payload,
                     statement::SerializeRebuildAttestation(attestation));
    ASSIGN_OR_RETURN(
        crypto::DsseEnvelope envelope,
        crypto::DsseSign(statement::kPayloadType, payload, *rebuilder.signer));
    ASSIGN_OR_RETURN(
        refsum::v1::SubmitResponse response,
        log_->client().Submit(crypto::EncodeDsseJson(envelope), ""));
    return response.index();
  }

  // Checks a tlog-proof of `leaf` at `index` independently of
  // refsum-submit: the log's signature and the inclusion proof.
  void ExpectProofVerifies(const tlog::TlogProof& proof, absl::string_view leaf,
                           uint64_t index) {
    EXPECT_EQ(proof.index, index);
    const crypto::NoteVerifier* verifiers[] = {&log_->verifier()};
    ASSERT_OK_AND_ASSIGN(const crypto::VerifiedNote note,
                         crypto::OpenNote(proof.checkpoint, verifiers));
    ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                         tlog::ParseCheckpointBody(note.text));
    EXPECT_EQ(checkpoint.origin, kOrigin);
    ASSERT_OK(tlog::VerifyInclusion(index, checkpoint.size,
                                    tlog::HashLeaf(leaf), proof.inclusion_proof,
                                    checkpoint.root));
  }

  std::string dir_;
  std::string runs_;
  std::string work_;
  std::string vkey_path_;
  std::string vendor_;
  std::vector<Rebuilder> rebuilders_;
  // The fixture's log: its key, data directory and --keys file.
  LogServerOptions log_options_;
  std::unique_ptr<LogServer> log_;
  std::string artifact_;
  std::string artifact_sha256_;
};

// ---------------------------------------------------------------------------
// keygen

TEST_F(SubmitE2eTest, KeygenWritesKeysAndRefusesToOverwrite) {
  // The fixture's vendor key, by `keygen --type ecdsa-p256`.
  EXPECT_EQ(FileMode(vendor_ + ".key"), 0600);
  EXPECT_EQ(FileMode(vendor_ + ".pub"), 0644);
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey vendor,
                       crypto::ReadPrivateKeyFile(vendor_ + ".key"));
  EXPECT_EQ(vendor.type(), crypto::KeyType::kEcdsaP256);
  ASSERT_OK_AND_ASSIGN(const crypto::PublicKey vendor_public,
                       crypto::ReadPublicKeyFile(vendor_ + ".pub"));
  EXPECT_EQ(vendor_public.keyid(), vendor.public_key().keyid());

  const std::string prefix = work_ + "/ed";
  const RunResult ed = Submit({"keygen", "--type=ed25519", "--out=" + prefix});
  ASSERT_TRUE(ed.status.ExitedWith(0)) << ed.stderr_text;
  EXPECT_EQ(ed.stderr_text, "");
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey key,
                       crypto::ReadPrivateKeyFile(prefix + ".key"));
  EXPECT_EQ(key.type(), crypto::KeyType::kEd25519);
  EXPECT_EQ(FileMode(prefix + ".key"), 0600);
  EXPECT_EQ(FileMode(prefix + ".pub"), 0644);
  EXPECT_THAT(ed.stdout_text, HasSubstr(key.public_key().keyid()));
  ASSERT_OK_AND_ASSIGN(const std::string key_pem, ReadFile(prefix + ".key"));

  // A second keygen to the same prefix, or with only one of the files
  // present, changes nothing.
  const RunResult again =
      Submit({"keygen", "--type=ecdsa-p256", "--out=" + prefix});
  EXPECT_TRUE(again.status.ExitedWith(1)) << again.status.ToString();
  ExpectOneErrorLine(again.stderr_text, "refusing to overwrite a key");
  EXPECT_EQ(ReadFile(prefix + ".key").value_or(""), key_pem);
  ASSERT_EQ(unlink((prefix + ".key").c_str()), 0);
  const RunResult public_only =
      Submit({"keygen", "--type=ed25519", "--out=" + prefix});
  EXPECT_TRUE(public_only.status.ExitedWith(1));
  ExpectOneErrorLine(public_only.stderr_text, prefix + ".pub exists");
  EXPECT_FALSE(Exists(prefix + ".key"));
}

TEST_F(SubmitE2eTest, KeygenUsageErrors) {
  const std::string prefix = work_ + "/k";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"keygen", "--type=rsa", "--out=" + prefix},
       "--type must be ed25519 or ecdsa-p256"},
      {{"keygen", "--type=ed25519"}, "--out is required"},
      {{"keygen", "--out=" + prefix}, "--type is required"},
      {{"keygen", "--type=ed25519", "--out=" + prefix, "--bogus"},
       "unknown flag --bogus"},
      {{"keygen", "--type=ed25519", "--out=" + prefix, "--commit=abc"},
       "--commit does not apply to keygen"},
      {{"keygen", "--type=ed25519", "--out=" + prefix, "extra"},
       "keygen takes no arguments"},
      {{"sign", "--out=" + prefix}, "unknown subcommand \"sign\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    const RunResult run = Submit(c.args);
    EXPECT_TRUE(run.status.ExitedWith(2)) << run.status.ToString();
    ExpectOneErrorLine(run.stderr_text, c.message);
    EXPECT_EQ(run.stdout_text, "");
  }
  EXPECT_THAT(ListDir(work_), ElementsAre("os-image.raw"));
  // No subcommand at all prints the usage.
  const RunResult bare = Submit({});
  EXPECT_TRUE(bare.status.ExitedWith(2));
  EXPECT_THAT(bare.stderr_text, HasSubstr("refsum-submit keygen --type"));
}

// ---------------------------------------------------------------------------
// claim and submit

TEST_F(SubmitE2eTest, ClaimSubmitAndResubmit) {
  const std::string claim_path = work_ + "/claim.json";
  const RunResult claim = Submit(ClaimArgs(claim_path));
  ASSERT_TRUE(claim.status.ExitedWith(0)) << claim.stderr_text;
  EXPECT_EQ(claim.stderr_text, "");
  EXPECT_THAT(claim.stdout_text,
              HasSubstr(absl::StrCat("subject os-image.raw sha256:",
                                     artifact_sha256_)));

  // The claim: a DSSE envelope signed by the vendor's key, holding a valid
  // claim that names the artifact's digest and the values.
  ASSERT_OK_AND_ASSIGN(const std::string json, ReadFile(claim_path));
  EXPECT_EQ(FileMode(claim_path), 0644);
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope envelope,
                       crypto::DecodeDsseJson(json));
  EXPECT_EQ(envelope.payload_type, statement::kPayloadType);
  ASSERT_OK_AND_ASSIGN(const crypto::PublicKey vendor,
                       crypto::ReadPublicKeyFile(vendor_ + ".pub"));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::Verifier> verifier,
                       crypto::NewVerifier(vendor));
  ASSERT_OK(crypto::DsseVerify(envelope, *verifier));
  ASSERT_OK_AND_ASSIGN(const statement::Claim parsed,
                       statement::ParseClaim(envelope.payload));
  ASSERT_OK(statement::ValidateClaim(parsed));
  ASSERT_EQ(parsed.subjects.size(), 1u);
  EXPECT_EQ(parsed.subjects[0].name, "os-image.raw");
  EXPECT_EQ(parsed.subjects[0].digest,
            (statement::DigestSet{{"sha256", artifact_sha256_}}));
  EXPECT_EQ(parsed.source.repository, kRepository);
  EXPECT_EQ(parsed.source.commit, kCommit);
  EXPECT_EQ(parsed.source.tag, "v1.2.0");
  EXPECT_EQ(parsed.build.recipe, "nix build .#image");
  ASSERT_EQ(parsed.reference_values.size(), 2u);
  EXPECT_EQ(parsed.reference_values[0].digest,
            (statement::Digest{"sha384", kSnpHex}));
  EXPECT_EQ(parsed.reference_values[0].parameters,
            (statement::Parameters{{"vcpus", "4"}, {"vmm", "qemu"}}));
  EXPECT_EQ(parsed.reference_values[1].index, 4);
  EXPECT_EQ(parsed.reference_values[1].digest,
            (statement::Digest{"sha256", kPcrHex}));
  const std::string leaf = crypto::EncodeDsseLeaf(envelope);

  // Submit with the log's key: no note, the tlog-proof verifies.
  const std::string proof_path = work_ + "/claim.tlog-proof";
  const RunResult submit =
      Submit({"submit", "--log", log_->grpc_address(), "--log_key", vkey_path_,
              claim_path, "--out", proof_path});
  ASSERT_TRUE(submit.status.ExitedWith(0)) << submit.stderr_text;
  EXPECT_EQ(submit.stderr_text, "");
  EXPECT_THAT(submit.stdout_text,
              StartsWith("logged at index 0 (checkpoint size 1)"));
  ASSERT_OK_AND_ASSIGN(const std::string proof_text, ReadFile(proof_path));
  ASSERT_OK_AND_ASSIGN(const tlog::TlogProof proof,
                       tlog::ParseTlogProof(proof_text));
  ExpectProofVerifies(proof, leaf, 0);

  // The log holds exactly that leaf.
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> entries,
                       log_->client().GetEntries(0, 1));
  EXPECT_THAT(entries, ElementsAre(leaf));

  // Submitting again is a duplicate at the same index; without --log_key a
  // one-line note says the signature was not checked.
  const std::string second_proof = work_ + "/again.tlog-proof";
  const RunResult again = Submit({"submit", "--log=" + log_->grpc_address(),
                                  "--out=" + second_proof, claim_path});
  ASSERT_TRUE(again.status.ExitedWith(0)) << again.stderr_text;
  EXPECT_THAT(again.stdout_text, StartsWith("already logged at index 0"));
  ExpectOneErrorLine(again.stderr_text,
                     "note: the checkpoint's signature was not checked");
  ASSERT_OK_AND_ASSIGN(const std::string again_text, ReadFile(second_proof));
  ASSERT_OK_AND_ASSIGN(const tlog::TlogProof again_proof,
                       tlog::ParseTlogProof(again_text));
  ExpectProofVerifies(again_proof, leaf, 0);
  ASSERT_OK_AND_ASSIGN(const std::string checkpoint,
                       log_->client().GetCheckpoint());
  EXPECT_THAT(checkpoint, StartsWith(absl::StrCat(kOrigin, "\n1\n")));

  // Only the files named on the command lines were written: atomic writes
  // leave no temporary files behind.
  EXPECT_THAT(ListDir(work_), ElementsAre("again.tlog-proof", "claim.json",
                                          "claim.tlog-proof", "os-image.raw"));
}

TEST_F(SubmitE2eTest, RepeatedFlagsInBothForms) {
  const std::string kernel = work_ + "/kernel";
  ASSERT_OK(WriteFileAtomically(kernel, "kernel bytes", 0644));
  const std::string claim_path = work_ + "/claim.json";
  const RunResult claim =
      Submit({"claim", "--key=" + vendor_ + ".key", "--artifact=" + artifact_,
              "--value", PcrSpec(), "--artifact", kernel, "--repository",
              kRepository, "--commit", kCommit, "--value=" + SnpSpec(),
              "--value=generic/initrd=sha256:" + std::string(64, 'e') +
                  ",cmdline=,note=a=b",
              "--out", claim_path});
  ASSERT_TRUE(claim.status.ExitedWith(0)) << claim.stderr_text;
  ASSERT_OK_AND_ASSIGN(const std::string json, ReadFile(claim_path));
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope envelope,
                       crypto::DecodeDsseJson(json));
  ASSERT_OK_AND_ASSIGN(const statement::Claim parsed,
                       statement::ParseClaim(envelope.payload));
  ASSERT_EQ(parsed.subjects.size(), 2u);
  EXPECT_EQ(parsed.subjects[0].name, "os-image.raw");
  EXPECT_EQ(parsed.subjects[1].name, "kernel");
  EXPECT_EQ(parsed.subjects[1].digest.at("sha256"),
            crypto::Sha256Hex("kernel bytes"));
  ASSERT_EQ(parsed.reference_values.size(), 3u);
  EXPECT_EQ(parsed.reference_values[0].platform, "tpm");
  EXPECT_EQ(parsed.reference_values[1].platform, "amd-sev-snp");
  EXPECT_EQ(parsed.reference_values[1].parameters.size(), 2u);
  EXPECT_EQ(parsed.reference_values[2].parameters,
            (statement::Parameters{{"cmdline", ""}, {"note", "a=b"}}));
  EXPECT_FALSE(parsed.source.tag.has_value());
  // Without --recipe the claim states the documented default.
  EXPECT_EQ(parsed.build.recipe,
            "as documented in the source repository at the claimed commit");
}

TEST_F(SubmitE2eTest, ClaimInputErrors) {
  const std::string out = work_ + "/claim.json";
  const auto with = [&](absl::string_view flag, const std::string& value) {
    std::vector<std::string> args = ClaimArgs(out);
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) {
        args[i + 1] = value;
        break;
      }
    }
    return args;
  };
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {with("--value", "tpm/pcr/24=sha256:" + kPcrHex), 2,
       absl::StrCat("--value \"tpm/pcr/24=sha256:", kPcrHex,
                    "\": index: must be between 0 and 23 for tpm pcr")},
      {with("--value", "tpm/pcr/4=sha256:" + kPcrHex + ",vcpus"), 2,
       "parameter \"vcpus\" is not name=value"},
      {with("--value", "amd-sev-snp/launch-measurement=" + kSnpHex), 2,
       "after '=' must come alg:hex"},
      {with("--commit", "not-hex"), 2, "--commit: "},
      {with("--repository", "github.com/example"), 2, "--repository: "},
      {with("--artifact", work_ + "/missing.raw"), 1,
       "opening " + work_ + "/missing.raw: No such file or directory"},
      {with("--artifact", work_), 1, "is not a regular file"},
      {with("--key", dir_ + "/no-such.key"), 1, "no-such.key"},
  };
  {
    std::vector<Case> more;
    std::vector<std::string> no_value = ClaimArgs(out);
    no_value.erase(no_value.begin() + 13, no_value.begin() + 17);
    more.push_back({no_value, 2, "give at least one --value SPEC"});
    std::vector<std::string> no_commit = ClaimArgs(out);
    no_commit.erase(no_commit.begin() + 7, no_commit.begin() + 9);
    more.push_back({no_commit, 2, "--commit is required"});
    std::vector<std::string> same_name = ClaimArgs(out);
    const std::string copy_dir = work_ + "/copy";
    mkdir(copy_dir.c_str(), 0700);
    same_name.push_back("--artifact");
    same_name.push_back(copy_dir + "/os-image.raw");
    more.push_back({same_name, 2, "have the same file name \"os-image.raw\""});
    std::vector<std::string> trailing = ClaimArgs(out);
    trailing.push_back("--value");
    more.push_back({trailing, 2, "flag --value needs a value"});
    std::vector<std::string> foreign = ClaimArgs(out);
    foreign.push_back("--log=127.0.0.1:1");
    more.push_back({foreign, 2, "--log does not apply to claim"});
    cases.insert(cases.end(), more.begin(), more.end());
  }
  // A private key others can read is refused.
  const std::string loose_key = dir_ + "/loose.key";
  ASSERT_OK_AND_ASSIGN(const std::string pem, ReadFile(vendor_ + ".key"));
  ASSERT_OK(WriteFileAtomically(loose_key, pem, 0644));
  cases.push_back({with("--key", loose_key), 1, "loose.key"});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const RunResult run = Submit(c.args);
    EXPECT_TRUE(run.status.ExitedWith(c.exit_code)) << run.status.ToString();
    ExpectOneErrorLine(run.stderr_text, c.message);
    EXPECT_FALSE(Exists(out));
  }
}

TEST_F(SubmitE2eTest, SubmitErrors) {
  const std::string claim_path = work_ + "/claim.json";
  ASSERT_OK(MakeClaim(claim_path).status());
  const std::string out = work_ + "/out";

  // A vendor key the log does not know: the log's PERMISSION_DENIED.
  const std::string stranger = dir_ + "/stranger";
  ASSERT_TRUE(Submit({"keygen", "--type=ed25519", "--out=" + stranger})
                  .status.ExitedWith(0));
  std::vector<std::string> stranger_claim = ClaimArgs(work_ + "/stranger.json");
  stranger_claim[2] = stranger + ".key";
  ASSERT_TRUE(Submit(stranger_claim).status.ExitedWith(0));
  const RunResult denied = Submit({"submit", "--log=" + log_->grpc_address(),
                                   "--log_key=" + vkey_path_, "--out=" + out,
                                   work_ + "/stranger.json"});
  EXPECT_TRUE(denied.status.ExitedWith(1)) << denied.status.ToString();
  ExpectOneErrorLine(
      denied.stderr_text,
      absl::StrCat("log ", log_->grpc_address(), ": Submit: key "));
  EXPECT_THAT(denied.stderr_text, HasSubstr("is not admitted by this log"));
  EXPECT_EQ(denied.stdout_text, "");

  ASSERT_OK(WriteFileAtomically(work_ + "/garbage.json", "{\"a\":1}", 0644));
  const std::string other_pub = stranger + ".pub";
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out},
       2,
       "submit takes one argument"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out, claim_path,
        claim_path},
       2,
       "submit takes one argument"},
      {{"submit", "--out=" + out, claim_path}, 2, "--log is required"},
      {{"submit", "--log=" + log_->grpc_address(), claim_path},
       2,
       "--out is required"},
      {{"submit", "--log=localhost", "--out=" + out, claim_path},
       2,
       "is not HOST:PORT"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--wait_attestations=1", claim_path},
       2,
       "--wait_attestations needs a positive --timeout"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--timeout=1m", claim_path},
       2,
       "--timeout applies only with --wait_attestations"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--wait_attestations=1", "--timeout=soon", claim_path},
       2,
       "--timeout"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out, "--tag=v1",
        claim_path},
       2,
       "--tag does not apply to submit"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--artifact=x", claim_path},
       2,
       "--artifact does not apply to submit"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        work_ + "/missing.json"},
       1,
       "missing.json"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        work_ + "/garbage.json"},
       1,
       "garbage.json is not a DSSE envelope"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--public_key=" + other_pub, claim_path},
       1,
       "is not the key that signed"},
      {{"submit", "--log=" + log_->grpc_address(), "--out=" + out,
        "--log_key=" + vendor_ + ".pub", claim_path},
       1,
       "does not hold a log verifier key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const RunResult run = Submit(c.args);
    EXPECT_TRUE(run.status.ExitedWith(c.exit_code)) << run.status.ToString();
    ExpectOneErrorLine(run.stderr_text, c.message);
    EXPECT_EQ(run.stdout_text, "");
  }
  EXPECT_FALSE(Exists(out));
  // None of them reached the log.
  ASSERT_OK_AND_ASSIGN(const std::string checkpoint,
                       log_->client().GetCheckpoint());
  EXPECT_THAT(checkpoint, StartsWith(absl::StrCat(kOrigin, "\n0\n")));

  // The checkpoint signed by another key than --log_key: the log takes the
  // claim, but refsum-submit refuses the answer and writes nothing.
  ASSERT_OK_AND_ASSIGN(const LogKey other_key,
                       GenerateLogKey(kOrigin, dir_ + "/other-log"));
  const RunResult forged =
      Submit({"submit", "--log=" + log_->grpc_address(),
              "--log_key=" + other_key.vkey_path, "--out=" + out, claim_path});
  EXPECT_TRUE(forged.status.ExitedWith(1)) << forged.status.ToString();
  ExpectOneErrorLine(
      forged.stderr_text,
      absl::StrCat("log ", log_->grpc_address(),
                   ": the answer to Submit does not verify: the checkpoint's "
                   "signature by ",
                   kOrigin, " does not verify"));
  EXPECT_EQ(forged.stdout_text, "");
  EXPECT_FALSE(Exists(out));
}

TEST_F(SubmitE2eTest, OpenLogLearnsTheKeyFromPublicKey) {
  // The same log key, in open mode, on a data directory of its own.
  LogServerOptions open_options = log_options_;
  open_options.keys_path.clear();
  open_options.data_dir = dir_ + "/open.data";
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<LogServer> open_log,
                       LogServer::Start(open_options));
  const std::string claim_path = work_ + "/claim.json";
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope envelope,
                       MakeClaim(claim_path));
  const std::string out = work_ + "/claim.tlog-proof";
  const RunResult unknown =
      Submit({"submit", "--log=" + open_log->grpc_address(), "--out=" + out,
              claim_path});
  EXPECT_TRUE(unknown.status.ExitedWith(1));
  ExpectOneErrorLine(unknown.stderr_text, "send its public key");
  const RunResult learned = Submit(
      {"submit", "--log=" + open_log->grpc_address(), "--log_key=" + vkey_path_,
       "--public_key=" + vendor_ + ".pub", "--out=" + out, claim_path});
  ASSERT_TRUE(learned.status.ExitedWith(0)) << learned.stderr_text;
  ASSERT_OK_AND_ASSIGN(const std::string proof_text, ReadFile(out));
  ASSERT_OK_AND_ASSIGN(const tlog::TlogProof proof,
                       tlog::ParseTlogProof(proof_text));
  ExpectProofVerifies(proof, crypto::EncodeDsseLeaf(envelope), 0);
}

// ---------------------------------------------------------------------------
// --wait_attestations

TEST_F(SubmitE2eTest, WaitAttestationsWritesTheBundle) {
  const std::string claim_path = work_ + "/claim.json";
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope claim, MakeClaim(claim_path));
  const std::string leaf = crypto::EncodeDsseLeaf(claim);
  SubmitClaim(claim_path, work_ + "/claim.tlog-proof");
  if (HasFatalFailure()) return;

  // Resubmitting with --wait_attestations finds the claim at index 0 and
  // waits; the attestations below come while it waits or before it first
  // looks, and either way it must end the same.
  const std::string bundle_path = work_ + "/claim.bundle.json";
  ASSERT_OK_AND_ASSIGN(
      const std::unique_ptr<Process> waiting,
      Process::Start(
          kSubmitBinary,
          {"submit", "--log=" + log_->grpc_address(), "--log_key=" + vkey_path_,
           "--wait_attestations=2", "--timeout=300s", "--poll_interval=20ms",
           "--out=" + bundle_path, claim_path},
          runs_ + "/wait.stdout", runs_ + "/wait.stderr"));
  // r1 twice (one rebuilder), r2 MISMATCH, r3 FAILED: one MATCH so far.
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r1_match,
      Attest(claim, 0, rebuilders_[0], statement::Verdict::kMatch, 1));
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r1_again,
      Attest(claim, 0, rebuilders_[0], statement::Verdict::kMatch, 2));
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r2_mismatch,
      Attest(claim, 0, rebuilders_[1], statement::Verdict::kMismatch));
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r3_failed,
      Attest(claim, 0, rebuilders_[2], statement::Verdict::kFailed));
  EXPECT_FALSE(Exists(bundle_path)) << "a bundle before the second MATCH";
  // The second rebuilder's MATCH completes it.
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r3_match,
      Attest(claim, 0, rebuilders_[2], statement::Verdict::kMatch, 3));
  ASSERT_OK_AND_ASSIGN(const ExitStatus exit, waiting->Wait(kTimeout));
  const std::string err = waiting->ReadStderr();
  ASSERT_TRUE(exit.ExitedWith(0)) << exit.ToString() << "\n" << err;
  EXPECT_THAT(waiting->ReadStdout(),
              HasSubstr("already logged at index 0 (checkpoint size "));
  EXPECT_THAT(
      waiting->ReadStdout(),
      HasSubstr("wrote the bundle with 5 attestations to " + bundle_path));
  // Not a terminal: no progress, only the warning about the MISMATCH.
  EXPECT_EQ(err, absl::StrCat("refsum-submit: warning: entry ", r2_mismatch,
                              ": MISMATCH from rebuilder \"r2\" (keyid ",
                              rebuilders_[1].signer->public_key().keyid(),
                              "), report https://r2.example/report\n"));

  ASSERT_OK_AND_ASSIGN(const std::string json, ReadFile(bundle_path));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, tlog::DecodeBundle(json));
  ASSERT_EQ(bundle.claims.size(), 1u);
  const tlog::BundleClaim& bundled = bundle.claims[0];
  EXPECT_EQ(bundled.claim.leaf, leaf);
  ExpectProofVerifies(bundled.claim.proof, leaf, 0);
  std::vector<uint64_t> indices;
  for (const tlog::BundleEntry& entry : bundled.attestations) {
    indices.push_back(entry.proof.index);
    ExpectProofVerifies(entry.proof, entry.leaf, entry.proof.index);
    ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope envelope,
                         crypto::DecodeDsseLeaf(entry.leaf));
    ASSERT_OK_AND_ASSIGN(const statement::RebuildAttestation attestation,
                         statement::ParseRebuildAttestation(envelope.payload));
    EXPECT_EQ(attestation.claim.index, 0);
  }
  EXPECT_THAT(indices, ElementsAre(r1_match, r1_again, r2_mismatch, r3_failed,
                                   r3_match));
}

TEST_F(SubmitE2eTest, WaitAttestationsTimesOut) {
  const std::string claim_path = work_ + "/claim.json";
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope claim, MakeClaim(claim_path));
  SubmitClaim(claim_path, work_ + "/claim.tlog-proof");
  if (HasFatalFailure()) return;
  // Everything that will ever be logged for the claim is there before the
  // wait starts: one rebuilder's MATCH (twice) and another's MISMATCH. Two
  // MATCHes can never be reached, whatever the timing.
  ASSERT_OK(
      Attest(claim, 0, rebuilders_[0], statement::Verdict::kMatch, 1).status());
  ASSERT_OK(
      Attest(claim, 0, rebuilders_[0], statement::Verdict::kMatch, 2).status());
  ASSERT_OK(
      Attest(claim, 0, rebuilders_[1], statement::Verdict::kMismatch).status());
  const std::string bundle_path = work_ + "/claim.bundle.json";
  const RunResult run = Submit(
      {"submit", "--log=" + log_->grpc_address(), "--log_key=" + vkey_path_,
       "--wait_attestations=2", "--timeout=1s", "--poll_interval=50ms",
       "--out=" + bundle_path, claim_path});
  EXPECT_TRUE(run.status.ExitedWith(1)) << run.status.ToString();
  EXPECT_THAT(run.stdout_text, StartsWith("already logged at index 0"));
  const std::vector<std::string> lines =
      absl::StrSplit(run.stderr_text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << run.stderr_text;
  EXPECT_THAT(lines[0],
              StartsWith("refsum-submit: warning: entry 3: MISMATCH"));
  EXPECT_EQ(lines[1],
            "refsum-submit: timed out after 1s with 1 of 2 MATCH attestations "
            "(r1) for the claim at index 0; it is logged: run submit again to "
            "keep waiting");
  EXPECT_FALSE(Exists(bundle_path));
}

}  // namespace
}  // namespace refsum::tests
