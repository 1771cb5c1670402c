// End-to-end tests of refsum-verify: the real binary (//client:refsum-verify)
// run as a process against a real refsum-log (//log:refsum-log) on loopback,
// online (--log) and offline (--bundle), with its pinned state in a
// directory.
//
// The vendor's claim is made and submitted with the real refsum-submit
// (keygen, claim, submit). Rebuild attestations are signed and submitted by
// the test itself through client::LogClient (rebuilder tooling is another
// issue), by three rebuilders the log admits. Witnesses are another issue
// too, so the policies here ask for `quorum none`, except where a test
// cosigns a checkpoint itself to check the witness quorum.
//
// Every tampering is made on a bundle the tool itself saved (--save_bundle),
// decoded with tlog::DecodeBundle, changed, and encoded again with
// tlog::EncodeBundle, so that only the changed bit differs. Each must fail
// with exit code 1 and "REJECTED: <check>: <reason>" naming the check.
//
// Nothing here depends on timing: every wait is a generous upper bound.

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "base/status_testing.h"
#include "client/log_client.h"
#include "client/state.h"
#include "crypto/cosignature.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/base64.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/log.pb.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tests/hostile_log.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/tlog_proof.h"

namespace refsum::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSubmitBinary[] = "submitter/refsum-submit";
constexpr char kVerifyBinary[] = "client/refsum-verify";
constexpr char kOrigin[] = "log.refsum.example/verify-e2e";
constexpr char kRepository[] = "https://github.com/example/os-image";
constexpr char kTag[] = "v1.2.0";

// Upper bounds on waiting, never expectations of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
// The claim's two reference values.
const std::string kSnpHex = std::string(95, 'a') + "1";
const std::string kPcrHex = std::string(63, 'b') + "2";
// Values and an artifact no claim holds.
const std::string kOtherSnpHex = std::string(95, 'a') + "2";
const std::string kOtherArtifactHex = std::string(64, 'f');

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

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// The line of refsum-verify's text output whose label (first word) is
// `label`, e.g. "source"; empty if there is none.
std::string OutputLine(absl::string_view output, absl::string_view label) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!words.empty() && words[0] == label) return std::string(line);
  }
  return "";
}

// Expects a TRUSTED verdict: exit code 0, "TRUSTED" first, nothing on
// stderr.
void ExpectTrusted(const RunResult& run) {
  EXPECT_TRUE(run.status.ExitedWith(0)) << run.status.ToString() << "\n"
                                        << run.stderr_text;
  EXPECT_THAT(run.stdout_text, StartsWith("TRUSTED\n"));
  EXPECT_EQ(run.stderr_text, "");
}

// Expects a rejection by `check`: exit code 1, one line on stderr,
// "REJECTED: <check>: ...", that contains `reason`, and nothing on stdout.
void ExpectRejected(const RunResult& run, absl::string_view check,
                    absl::string_view reason) {
  EXPECT_TRUE(run.status.ExitedWith(1)) << run.status.ToString();
  EXPECT_THAT(run.stderr_text,
              StartsWith(absl::StrCat("REJECTED: ", check, ": ")))
      << run.stderr_text;
  EXPECT_THAT(run.stderr_text, HasSubstr(std::string(reason)))
      << run.stderr_text;
  EXPECT_EQ(std::count(run.stderr_text.begin(), run.stderr_text.end(), '\n'), 1)
      << run.stderr_text;
  EXPECT_EQ(run.stdout_text, "");
}

// A rebuilder: an Ed25519 key the log admits for attestations.
struct Rebuilder {
  std::string name;
  std::unique_ptr<crypto::Signer> signer;

  const crypto::PublicKey& public_key() const { return signer->public_key(); }
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

// Flips the lowest bit of byte `i` of `bytes`.
void FlipBit(std::string& bytes, size_t i) {
  bytes[i] = static_cast<char>(bytes[i] ^ 1);
}

// Replaces the checkpoint of every proof in `bundle` (EncodeBundle wants them
// all against one checkpoint).
// The bundle JSON as EncodeBundle writes it, but without its check that
// every proof is against one checkpoint: what a hostile log could send.
std::string BundleJsonUnchecked(const tlog::Bundle& bundle) {
  using encoding::JsonValue;
  const auto entry = [](const tlog::BundleEntry& e) {
    const absl::StatusOr<std::string> proof = tlog::FormatTlogProof(e.proof);
    EXPECT_TRUE(proof.ok()) << proof.status();
    return JsonValue::MakeObject(
        {{"leaf", JsonValue::String(encoding::Base64Encode(e.leaf))},
         {"proof", JsonValue::String(proof.value_or(""))},
         {"publicKey",
          JsonValue::String(encoding::Base64Encode(e.public_key))}});
  };
  JsonValue::Array claims;
  for (const tlog::BundleClaim& claim : bundle.claims) {
    JsonValue::Array attestations;
    for (const tlog::BundleEntry& attestation : claim.attestations) {
      attestations.push_back(entry(attestation));
    }
    JsonValue value = entry(claim.claim);
    JsonValue::Object members = *value.AsObject();
    members.push_back(
        {"attestations", JsonValue::MakeArray(std::move(attestations))});
    claims.push_back(JsonValue::MakeObject(std::move(members)));
  }
  return encoding::SerializeJson(JsonValue::MakeObject(
      {{"mediaType", JsonValue::String(std::string(tlog::kBundleMediaType))},
       {"claims", JsonValue::MakeArray(std::move(claims))}}));
}

void SetCheckpoint(tlog::Bundle& bundle, const std::string& note) {
  for (tlog::BundleClaim& claim : bundle.claims) {
    claim.claim.proof.checkpoint = note;
    for (tlog::BundleEntry& attestation : claim.attestations) {
      attestation.proof.checkpoint = note;
    }
  }
}

// The fixture: a log key from `refsum-log keygen`; a vendor "acme" key from
// `refsum-submit keygen`; rebuilders r1, r2 and r3; a log admitting all of
// them; the vendor's claim about an artifact file, made and submitted with
// refsum-submit (index 0); MATCH attestations by r1 (index 1) and r2
// (index 2); and a policy trusting the log, the vendor and the three
// rebuilders with a rebuild quorum of 2 of them.
class VerifyE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("verify"));
    runs_ = dir_ + "/runs";
    work_ = dir_ + "/work";
    ASSERT_EQ(mkdir(runs_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(work_.c_str(), 0700), 0);

    ASSERT_OK_AND_ASSIGN(log_options_.key,
                         GenerateLogKey(kOrigin, dir_ + "/log"));
    const RunResult vendor_keygen =
        Submit({"keygen", "--type=ecdsa-p256", "--out=" + dir_ + "/vendor"});
    ASSERT_TRUE(vendor_keygen.status.ExitedWith(0))
        << vendor_keygen.stderr_text;
    ASSERT_OK_AND_ASSIGN(const crypto::PublicKey vendor_key,
                         crypto::ReadPublicKeyFile(dir_ + "/vendor.pub"));
    vendor_keyid_ = vendor_key.keyid();
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
    log_options_.output_dir = runs_;
    log_options_.timeout = kTimeout;
    ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(log_options_));

    const std::string artifact = work_ + "/os-image.raw";
    std::string contents;
    for (int i = 0; contents.size() < (1 << 20); ++i) {
      absl::StrAppend(&contents, "block ", i, "\n");
    }
    ASSERT_OK(WriteFileAtomically(artifact, contents, 0644));
    artifact_sha256_ = crypto::Sha256Hex(contents);

    claim_path_ = work_ + "/claim.json";
    ASSERT_OK_AND_ASSIGN(claim_, MakeClaim(claim_path_, kCommit, kSnpHex));
    const RunResult submitted = SubmitClaim(*log_, claim_path_);
    ASSERT_TRUE(submitted.status.ExitedWith(0)) << submitted.stderr_text;
    ASSERT_THAT(submitted.stdout_text, StartsWith("logged at index 0"));
    ASSERT_OK_AND_ASSIGN(
        const uint64_t r1_match,
        Attest(*log_, 0, rebuilders_[0], statement::Verdict::kMatch));
    ASSERT_OK_AND_ASSIGN(
        const uint64_t r2_match,
        Attest(*log_, 0, rebuilders_[1], statement::Verdict::kMatch));
    ASSERT_EQ(r1_match, 1u);
    ASSERT_EQ(r2_match, 2u);

    policy_ = WritePolicy("policy.txt", PolicyText());
  }

  // Runs refsum-submit with `args` to completion.
  RunResult Submit(const std::vector<std::string>& args) {
    return Run(kSubmitBinary, "submit", args);
  }

  // Runs refsum-verify with `args` to completion.
  RunResult Verify(const std::vector<std::string>& args) {
    return Run(kVerifyBinary, "verify", args);
  }

  RunResult Run(const char* binary, absl::string_view name,
                const std::vector<std::string>& args) {
    static std::atomic<int> runs{0};
    absl::StatusOr<RunResult> run = RunProcess(
        binary, args, absl::StrCat(runs_, "/", name, "-", runs.fetch_add(1)),
        kTimeout);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : RunResult{};
  }

  // `refsum-submit claim` by the vendor about the artifact, with `commit`
  // and two values, the SEV-SNP one `snp_hex`; returns the envelope written
  // to `out`.
  absl::StatusOr<crypto::DsseEnvelope> MakeClaim(const std::string& out,
                                                 const std::string& commit,
                                                 const std::string& snp_hex) {
    const RunResult run = Submit(
        {"claim", "--key=" + dir_ + "/vendor.key",
         "--artifact=" + work_ + "/os-image.raw", "--repository", kRepository,
         "--commit", commit, "--tag", kTag, "--recipe", "nix build .#image",
         "--value",
         absl::StrCat("amd-sev-snp/launch-measurement=sha384:", snp_hex,
                      ",vcpus=4"),
         "--value", absl::StrCat("tpm/pcr/4=sha256:", kPcrHex), "--out", out});
    if (!run.status.ExitedWith(0)) {
      return absl::InternalError(absl::StrCat("claim: ", run.status.ToString(),
                                              ": ", run.stderr_text));
    }
    ASSIGN_OR_RETURN(std::string json, ReadFile(out));
    return crypto::DecodeDsseJson(json);
  }

  // `refsum-submit submit` of the claim at `claim_path` to `log`, checking
  // the log's signature with its verifier key.
  RunResult SubmitClaim(LogServer& log, const std::string& claim_path) {
    static std::atomic<int> proofs{0};
    return Submit({"submit", "--log=" + log.grpc_address(),
                   "--log_key=" + log.vkey_path(),
                   absl::StrCat("--out=", work_, "/claim-", proofs.fetch_add(1),
                                ".tlog-proof"),
                   claim_path});
  }

  // Logs an attestation by `rebuilder` with `verdict` of the fixture's claim,
  // which is at `claim_index` in `log`, through client::LogClient; a
  // different `rebuilt_at` makes an otherwise equal attestation another
  // entry. Returns its index.
  absl::StatusOr<uint64_t> Attest(
      LogServer& log, uint64_t claim_index, const Rebuilder& rebuilder,
      statement::Verdict verdict,
      absl::string_view rebuilt_at = "2026-11-27T12:00:00Z") {
    ASSIGN_OR_RETURN(statement::Claim parsed,
                     statement::ParseClaim(claim_.payload));
    statement::RebuildAttestation attestation;
    attestation.subjects = parsed.subjects;
    attestation.claim = {kOrigin, static_cast<int64_t>(claim_index),
                         encoding::HexEncode(crypto::DigestBytes(
                             tlog::HashLeaf(crypto::EncodeDsseLeaf(claim_))))};
    attestation.verdict = verdict;
    if (verdict != statement::Verdict::kFailed) {
      attestation.rebuilt =
          statement::RebuiltOutput{parsed.subjects, parsed.reference_values};
    }
    if (verdict == statement::Verdict::kMismatch) {
      // What a MISMATCH looks like: a value that differs.
      attestation.rebuilt->reference_values[0].digest.hex = kOtherSnpHex;
      attestation.report = statement::Report{
          {{"sha256", std::string(64, 'd')}},
          absl::StrCat("https://", rebuilder.name, ".example/report")};
    }
    attestation.rebuilder = {rebuilder.name, "nix build .#image"};
    attestation.rebuilt_at = std::string(rebuilt_at);
    ASSIGN_OR_RETURN(std::string payload,
                     statement::SerializeRebuildAttestation(attestation));
    ASSIGN_OR_RETURN(
        crypto::DsseEnvelope envelope,
        crypto::DsseSign(statement::kPayloadType, payload, *rebuilder.signer));
    ASSIGN_OR_RETURN(refsum::v1::SubmitResponse response,
                     log.client().Submit(crypto::EncodeDsseJson(envelope), ""));
    return response.index();
  }

  // The text of a policy: the log (`quorum none`: no witnesses), the vendor
  // acme unless `vendors` says otherwise, the rebuilders named in `rebuilders`
  // (r1 by PEM file, the others by base64 SPKI), a rebuild group "r" of
  // `threshold` of them and `rebuild-quorum r`, then `extra`.
  std::string PolicyText(
      const std::vector<std::string>& rebuilders = {"r1", "r2", "r3"},
      absl::string_view threshold = "2", absl::string_view extra = "",
      std::optional<std::string> vendors = std::nullopt) const {
    std::string text = absl::StrCat(
        "# verify e2e\nlog ", log_options_.key.vkey, "\nquorum none\n",
        vendors.value_or("vendor acme vendor.pub\n"));
    for (const std::string& name : rebuilders) {
      const Rebuilder& rebuilder = rebuilders_[name[1] - '1'];
      absl::StrAppend(
          &text, "rebuilder ", name, " ",
          name == "r1" ? "r1.pem"
                       : encoding::Base64Encode(rebuilder.public_key().der()),
          "\n");
    }
    absl::StrAppend(&text, "rebuild-group r ", threshold, " ",
                    absl::StrJoin(rebuilders, " "), "\nrebuild-quorum r\n",
                    extra);
    return text;
  }

  // Writes a policy file in the directory of the PEM files, returns its path.
  std::string WritePolicy(absl::string_view name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    const absl::Status written = WriteFileAtomically(path, text, 0644);
    EXPECT_TRUE(written.ok()) << written;
    return path;
  }

  // A state directory that does not exist yet.
  std::string NewStateDir() {
    static std::atomic<int> states{0};
    return absl::StrCat(dir_, "/state-", states.fetch_add(1));
  }

  // The path of `state_dir`'s checkpoint of the log.
  static std::string StateFile(const std::string& state_dir) {
    return client::CheckpointStore(state_dir).PathFor(kOrigin);
  }

  // The tree size stored in `state_dir` for the log, or nullopt.
  static std::optional<uint64_t> StoredSize(const std::string& state_dir) {
    absl::StatusOr<std::optional<client::StoredCheckpoint>> stored =
        client::CheckpointStore(state_dir).Load(kOrigin);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok() || !stored->has_value()) return std::nullopt;
    return (*stored)->checkpoint.size;
  }

  // Flags: the policy, the state directory and the log (online).
  std::vector<std::string> Online(const std::string& state_dir,
                                  const std::string& policy,
                                  const LogServer& log) const {
    return {"--policy=" + policy, "--state_dir=" + state_dir,
            "--log=" + log.grpc_address()};
  }
  std::vector<std::string> Online(const std::string& state_dir) const {
    return Online(state_dir, policy_, *log_);
  }

  // Flags: the policy, the state directory and a bundle file (offline).
  std::vector<std::string> Offline(const std::string& state_dir,
                                   const std::string& bundle,
                                   const std::string& policy) const {
    return {"--policy=" + policy, "--state_dir=" + state_dir,
            "--bundle=" + bundle};
  }
  std::vector<std::string> Offline(const std::string& state_dir,
                                   const std::string& bundle) const {
    return Offline(state_dir, bundle, policy_);
  }

  static std::vector<std::string> With(std::vector<std::string> args,
                                       const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  static std::string SnpQuery() {
    return "--value=amd-sev-snp/launch-measurement=sha384:" + kSnpHex;
  }

  // Verifies the claim online with the full policy and a fresh state
  // directory, saving the bundle to `path`, and returns it decoded.
  absl::StatusOr<tlog::Bundle> SaveBundle(const std::string& path) {
    const RunResult run = Verify(
        With(Online(NewStateDir()), {"--claim=0", "--save_bundle=" + path}));
    if (!run.status.ExitedWith(0)) {
      return absl::InternalError(absl::StrCat("verify: ", run.status.ToString(),
                                              ": ", run.stderr_text));
    }
    ASSIGN_OR_RETURN(std::string json, ReadFile(path));
    return tlog::DecodeBundle(json);
  }

  // Writes `bundle` to a new file and returns its path.
  std::string WriteBundle(const tlog::Bundle& bundle) {
    static std::atomic<int> bundles{0};
    const std::string path =
        absl::StrCat(work_, "/bundle-", bundles.fetch_add(1), ".json");
    absl::StatusOr<std::string> json = tlog::EncodeBundle(bundle);
    EXPECT_TRUE(json.ok()) << json.status();
    const absl::Status written =
        WriteFileAtomically(path, json.value_or(""), 0644);
    EXPECT_TRUE(written.ok()) << written;
    return path;
  }

  std::string dir_;
  std::string runs_;
  std::string work_;
  LogServerOptions log_options_;
  std::unique_ptr<LogServer> log_;
  // The keyid of the vendor's key.
  std::string vendor_keyid_;
  std::vector<Rebuilder> rebuilders_;
  std::string artifact_sha256_;
  std::string claim_path_;
  crypto::DsseEnvelope claim_;
  // The policy file of PolicyText().
  std::string policy_;
};

// ---------------------------------------------------------------------------
// Trusted: online and offline.

TEST_F(VerifyE2eTest, TrustsTheClaimOnlineByValueArtifactAndIndex) {
  const std::string state = NewStateDir();
  const std::string saved = work_ + "/saved.bundle.json";
  const RunResult by_value =
      Verify(With(Online(state), {SnpQuery(), "--save_bundle=" + saved}));
  ExpectTrusted(by_value);
  const std::string& out = by_value.stdout_text;
  EXPECT_THAT(
      OutputLine(out, "source"),
      HasSubstr(absl::StrCat(kRepository, " @ ", kCommit, " (tag ", kTag, ")")))
      << out;
  EXPECT_THAT(OutputLine(out, "subject"),
              HasSubstr("os-image.raw sha256:" + artifact_sha256_))
      << out;
  // The value asked for, with the register and parameters it was claimed
  // with.
  EXPECT_EQ(OutputLine(out, "value"),
            "  value       amd-sev-snp/launch-measurement=sha384:" + kSnpHex +
                " (vcpus=4)")
      << out;
  EXPECT_THAT(OutputLine(out, "vendor"), HasSubstr("acme")) << out;
  EXPECT_THAT(OutputLine(out, "rebuilders"), HasSubstr("r1, r2 (MATCH)"))
      << out;
  EXPECT_THAT(OutputLine(out, "log"),
              HasSubstr(absl::StrCat(kOrigin, ", claim 0, checkpoint size 3")))
      << out;
  EXPECT_EQ(OutputLine(out, "WARNING"), "") << out;
  EXPECT_EQ(StoredSize(state), 3u);

  // The saved bundle: the claim with both attestations, as the log served
  // it.
  ASSERT_OK_AND_ASSIGN(const std::string saved_json, ReadFile(saved));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       tlog::DecodeBundle(saved_json));
  ASSERT_EQ(bundle.claims.size(), 1u);
  EXPECT_EQ(bundle.claims[0].claim.leaf, crypto::EncodeDsseLeaf(claim_));
  EXPECT_EQ(bundle.claims[0].claim.proof.index, 0u);
  ASSERT_EQ(bundle.claims[0].attestations.size(), 2u);
  EXPECT_EQ(bundle.claims[0].attestations[0].proof.index, 1u);
  EXPECT_EQ(bundle.claims[0].attestations[1].proof.index, 2u);

  // By the other value, by the artifact and by the index, the same claim;
  // only a value query has a value line, naming that value.
  const auto without_value = [](absl::string_view text) {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::StartsWith(line, "  value ")) lines.emplace_back(line);
    }
    return absl::StrJoin(lines, "\n");
  };
  struct Other {
    std::string query;
    std::string value_line;
  };
  for (const Other& other : {
           Other{"--value=tpm/pcr/4=sha256:" + kPcrHex,
                 "  value       tpm/pcr/4=sha256:" + kPcrHex},
           Other{"--artifact=sha256:" + artifact_sha256_, ""},
           Other{"--claim=0", ""},
       }) {
    SCOPED_TRACE(other.query);
    const RunResult run = Verify(With(Online(state), {other.query}));
    ExpectTrusted(run);
    EXPECT_EQ(without_value(run.stdout_text), without_value(out));
    EXPECT_EQ(OutputLine(run.stdout_text, "value"), other.value_line);
  }

  // --json: the same facts for machines.
  const RunResult json_run =
      Verify(With(Online(state), {SnpQuery(), "--json"}));
  ASSERT_TRUE(json_run.status.ExitedWith(0)) << json_run.stderr_text;
  EXPECT_EQ(json_run.stderr_text, "");
  ASSERT_OK_AND_ASSIGN(const encoding::JsonValue json,
                       encoding::ParseJson(json_run.stdout_text));
  const auto string_at = [&json](absl::string_view key) {
    const encoding::JsonValue* value = json.Find(key);
    return value != nullptr && value->AsString() != nullptr ? *value->AsString()
                                                            : "<missing>";
  };
  const auto strings_at = [&json](absl::string_view key) {
    std::vector<std::string> strings;
    const encoding::JsonValue* value = json.Find(key);
    if (value == nullptr || value->AsArray() == nullptr) return strings;
    for (const encoding::JsonValue& element : *value->AsArray()) {
      strings.push_back(element.AsString() != nullptr ? *element.AsString()
                                                      : "<not a string>");
    }
    return strings;
  };
  ASSERT_NE(json.Find("trusted"), nullptr) << json_run.stdout_text;
  EXPECT_EQ(json.Find("trusted")->AsBool(), true);
  EXPECT_EQ(string_at("origin"), kOrigin);
  EXPECT_EQ(string_at("repository"), kRepository);
  EXPECT_EQ(string_at("commit"), kCommit);
  EXPECT_EQ(string_at("tag"), kTag);
  EXPECT_EQ(string_at("vendor"), "acme");
  EXPECT_THAT(strings_at("rebuilders"), ElementsAre("r1", "r2"));
  EXPECT_THAT(strings_at("witnesses"), ElementsAre());
  EXPECT_THAT(strings_at("warnings"), ElementsAre());
  ASSERT_NE(json.Find("claimIndex"), nullptr);
  EXPECT_EQ(json.Find("claimIndex")->AsInteger(), 0);
  ASSERT_NE(json.Find("treeSize"), nullptr);
  EXPECT_EQ(json.Find("treeSize")->AsInteger(), 3);
  // The matched value in the claim's own JSON form.
  ASSERT_OK_AND_ASSIGN(
      const encoding::JsonValue expected_value,
      encoding::ParseJson(absl::StrCat(
          R"({"platform":"amd-sev-snp","kind":"launch-measurement",)",
          R"("digest":{"sha384":")", kSnpHex, R"("},)",
          R"("parameters":{"vcpus":"4"}})")));
  ASSERT_NE(json.Find("value"), nullptr) << json_run.stdout_text;
  EXPECT_EQ(*json.Find("value"), expected_value) << json_run.stdout_text;
  const encoding::JsonValue* subjects = json.Find("subjects");
  ASSERT_TRUE(subjects != nullptr && subjects->AsArray() != nullptr &&
              subjects->AsArray()->size() == 1)
      << json_run.stdout_text;
  const encoding::JsonValue& subject = (*subjects->AsArray())[0];
  ASSERT_TRUE(subject.Find("name") != nullptr &&
              subject.Find("name")->AsString() != nullptr);
  EXPECT_EQ(*subject.Find("name")->AsString(), "os-image.raw");
  ASSERT_TRUE(subject.Find("sha256") != nullptr &&
              subject.Find("sha256")->AsString() != nullptr);
  EXPECT_EQ(*subject.Find("sha256")->AsString(), artifact_sha256_);

  // Offline, from the saved bundle, with a state directory that has never
  // seen the log: the same verdict, and the checkpoint is pinned.
  const std::string fresh = NewStateDir();
  const RunResult offline = Verify(With(Offline(fresh, saved), {SnpQuery()}));
  ExpectTrusted(offline);
  EXPECT_EQ(offline.stdout_text, out);
  EXPECT_EQ(StoredSize(fresh), 3u);
  for (const std::string& query :
       {"--value=tpm/pcr/4=sha256:" + kPcrHex,
        "--artifact=sha256:" + artifact_sha256_,
        std::string("--claim=0")}) {
    SCOPED_TRACE(query);
    ExpectTrusted(Verify(With(Offline(fresh, saved), {query})));
  }
  const RunResult offline_json =
      Verify(With(Offline(NewStateDir(), saved), {SnpQuery(), "--json"}));
  ASSERT_TRUE(offline_json.status.ExitedWith(0)) << offline_json.stderr_text;
  EXPECT_EQ(offline_json.stdout_text, json_run.stdout_text);
}

TEST_F(VerifyE2eTest, BundleFromRefsumSubmitVerifiesOffline) {
  // The vendor's hand-off: `submit --wait_attestations` writes the bundle a
  // verifier checks offline.
  const std::string bundle = work_ + "/vendor.bundle.json";
  const RunResult waited =
      Submit({"submit", "--log=" + log_->grpc_address(),
              "--log_key=" + log_->vkey_path(), "--wait_attestations=2",
              "--timeout=300s", "--out=" + bundle, claim_path_});
  ASSERT_TRUE(waited.status.ExitedWith(0)) << waited.stderr_text;
  const RunResult run = Verify(With(Offline(NewStateDir(), bundle),
                                    {"--artifact=sha256:" + artifact_sha256_}));
  ExpectTrusted(run);
  EXPECT_THAT(OutputLine(run.stdout_text, "rebuilders"),
              HasSubstr("r1, r2 (MATCH)"));
}

// ---------------------------------------------------------------------------
// Tampering with the bundle.

class TamperTest : public VerifyE2eTest {
 protected:
  void SetUp() override {
    VerifyE2eTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(bundle_, SaveBundle(work_ + "/saved.bundle.json"));
    ASSERT_EQ(bundle_.claims.size(), 1u);
    ASSERT_EQ(bundle_.claims[0].attestations.size(), 2u);
    // The untouched bundle verifies offline: each failure below is the
    // tampering's.
    ExpectTrusted(Verify(
        With(Offline(NewStateDir(), WriteBundle(bundle_)), {SnpQuery()})));
  }

  // Verifies `bundle` offline by the SEV-SNP value with a fresh state
  // directory and `policy` (default: the full one); expects rejection by
  // `check` with `reason`. Returns the state directory.
  std::string ExpectBundleRejected(const tlog::Bundle& bundle,
                                   absl::string_view check,
                                   absl::string_view reason,
                                   const std::string& policy = "") {
    const std::string state = NewStateDir();
    ExpectRejected(Verify(With(Offline(state, WriteBundle(bundle),
                                       policy.empty() ? policy_ : policy),
                               {SnpQuery()})),
                   check, reason);
    return state;
  }

  tlog::Bundle bundle_;
};

TEST_F(TamperTest, AFlippedBitInAnyProofHashFails) {
  // Tree size 3: the claim's and attestation 1's proofs have two hashes,
  // attestation 2's has one.
  const std::vector<tlog::BundleEntry*> entries = {
      &bundle_.claims[0].claim, &bundle_.claims[0].attestations[0],
      &bundle_.claims[0].attestations[1]};
  int tampered = 0;
  for (size_t e = 0; e < entries.size(); ++e) {
    for (size_t h = 0; h < entries[e]->proof.inclusion_proof.size(); ++h) {
      for (const size_t byte : {size_t{0}, size_t{31}}) {
        SCOPED_TRACE(absl::StrCat("entry ", entries[e]->proof.index, " hash ",
                                  h, " byte ", byte));
        tlog::Bundle bundle = bundle_;
        tlog::BundleEntry& entry = e == 0
                                       ? bundle.claims[0].claim
                                       : bundle.claims[0].attestations[e - 1];
        entry.proof.inclusion_proof[h][byte] ^= 0x80;
        ExpectBundleRejected(
            bundle, e == 0 ? "claim" : "attestations",
            absl::StrCat("entry ", entry.proof.index, " is not in the log"));
        ++tampered;
      }
    }
  }
  EXPECT_EQ(tampered, 2 * (2 + 2 + 1));

  // A proof cut short, and one for another index.
  tlog::Bundle short_proof = bundle_;
  short_proof.claims[0].claim.proof.inclusion_proof.pop_back();
  ExpectBundleRejected(short_proof, "claim", "entry 0 is not in the log");
  tlog::Bundle moved = bundle_;
  moved.claims[0].claim.proof.index = 1;
  ExpectBundleRejected(moved, "claim", "entry 1 is not in the log");
}

TEST_F(TamperTest, AFlippedBitInALeafOrAMissingAttestationFails) {
  // In the payload (mid-leaf) and in the signature's keyid (the leaf's
  // last field).
  const std::string& claim_leaf = bundle_.claims[0].claim.leaf;
  for (const size_t byte : {claim_leaf.size() / 2, claim_leaf.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("claim leaf byte ", byte));
    tlog::Bundle bundle = bundle_;
    FlipBit(bundle.claims[0].claim.leaf, byte);
    ExpectBundleRejected(bundle, "claim", "entry 0 is not in the log");
  }
  // In the DSSE signature itself, re-encoded as a well-formed leaf.
  {
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         crypto::DecodeDsseLeaf(claim_leaf));
    ASSERT_EQ(envelope.signatures.size(), 1u);
    FlipBit(envelope.signatures[0].sig, envelope.signatures[0].sig.size() / 2);
    tlog::Bundle bundle = bundle_;
    bundle.claims[0].claim.leaf = crypto::EncodeDsseLeaf(envelope);
    ExpectBundleRejected(bundle, "claim", "entry 0 is not in the log");
  }
  const std::string& attestation_leaf = bundle_.claims[0].attestations[1].leaf;
  for (const size_t byte :
       {attestation_leaf.size() / 2, attestation_leaf.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("attestation leaf byte ", byte));
    tlog::Bundle bundle = bundle_;
    FlipBit(bundle.claims[0].attestations[1].leaf, byte);
    ExpectBundleRejected(bundle, "attestations", "entry 2 is not in the log");
  }
  // r1's attestation replaced by the claim's leaf and proof, which are in
  // the log but are no rebuilder's: only r2's MATCH is left.
  tlog::Bundle swapped = bundle_;
  swapped.claims[0].attestations[0] = swapped.claims[0].claim;
  ExpectBundleRejected(swapped, "rebuild quorum",
                       "MATCH attestations from r2 do not meet quorum r");
  // r1's attestation left out.
  tlog::Bundle dropped = bundle_;
  dropped.claims[0].attestations.erase(dropped.claims[0].attestations.begin());
  ExpectBundleRejected(dropped, "rebuild quorum",
                       "MATCH attestations from r2 do not meet quorum r");
}

TEST_F(TamperTest, ATamperedCheckpointFailsAndIsNotStored) {
  const std::string note = bundle_.claims[0].claim.proof.checkpoint;
  ASSERT_OK_AND_ASSIGN(const crypto::Note parsed, crypto::ParseNote(note));
  ASSERT_EQ(parsed.signatures.size(), 1u);
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       tlog::ParseCheckpointBody(parsed.text));
  ASSERT_EQ(checkpoint.size, 3u);

  // The body: a bit of the root, and the tree size.
  {
    tlog::Checkpoint changed = checkpoint;
    changed.root[7] ^= 0x01;
    crypto::Note tampered = parsed;
    ASSERT_OK_AND_ASSIGN(tampered.text, tlog::FormatCheckpointBody(changed));
    tlog::Bundle bundle = bundle_;
    SetCheckpoint(bundle, crypto::FormatNote(tampered));
    const std::string state = ExpectBundleRejected(
        bundle, "checkpoint", "checkpoint has a bad signature");
    EXPECT_FALSE(Exists(StateFile(state)));
  }
  {
    tlog::Checkpoint changed = checkpoint;
    changed.size = 2;
    crypto::Note tampered = parsed;
    ASSERT_OK_AND_ASSIGN(tampered.text, tlog::FormatCheckpointBody(changed));
    tlog::Bundle bundle = bundle_;
    SetCheckpoint(bundle, crypto::FormatNote(tampered));
    ExpectBundleRejected(bundle, "checkpoint",
                         "checkpoint has a bad signature");
  }
  // The signature: a bit of the Ed25519 signature, first and last byte.
  for (const size_t byte :
       {size_t{0}, parsed.signatures[0].signature.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("signature byte ", byte));
    crypto::Note tampered = parsed;
    FlipBit(tampered.signatures[0].signature, byte);
    tlog::Bundle bundle = bundle_;
    SetCheckpoint(bundle, crypto::FormatNote(tampered));
    const std::string state = ExpectBundleRejected(
        bundle, "checkpoint", "checkpoint has a bad signature");
    EXPECT_FALSE(Exists(StateFile(state)));
  }
  // The key ID: then no log in the policy signed it.
  {
    crypto::Note tampered = parsed;
    tampered.signatures[0].key_id ^= 1;
    tlog::Bundle bundle = bundle_;
    SetCheckpoint(bundle, crypto::FormatNote(tampered));
    ExpectBundleRejected(bundle, "checkpoint",
                         "checkpoint is not signed by a log in the policy");
  }
  // A forger with its own key for the same origin signs the same body.
  {
    ASSERT_OK_AND_ASSIGN(
        const crypto::PrivateKey forger,
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::NoteSigner> signer,
                         crypto::NewEd25519NoteSigner(kOrigin, forger));
    const crypto::NoteSigner* const signers[] = {signer.get()};
    ASSERT_OK_AND_ASSIGN(const std::string forged,
                         crypto::SignNote(parsed.text, signers));
    tlog::Bundle bundle = bundle_;
    SetCheckpoint(bundle, forged);
    const std::string state =
        ExpectBundleRejected(bundle, "checkpoint",
                             "checkpoint is not signed by a log in the policy");
    EXPECT_FALSE(Exists(StateFile(state)));
  }
}

TEST_F(TamperTest, ACheckpointBelowTheWitnessQuorumFails) {
  // Two witnesses; the test cosigns as w1 only.
  std::vector<std::unique_ptr<crypto::NoteSigner>> cosigners;
  std::string witness_lines;
  for (const char* name : {"w1", "w2"}) {
    ASSERT_OK_AND_ASSIGN(
        const crypto::PrivateKey key,
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    const std::string key_name = absl::StrCat("witness.example/", name);
    ASSERT_OK_AND_ASSIGN(const std::string vkey,
                         crypto::FormatVerifierKey(
                             key_name, crypto::kNoteSignatureTypeCosignatureV1,
                             key.public_key()));
    absl::StrAppend(&witness_lines, "witness ", name, " ", vkey, "\n");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::NoteSigner> cosigner,
                         crypto::NewCosignatureV1Signer(key_name, key));
    cosigners.push_back(std::move(cosigner));
  }
  const std::string note = bundle_.claims[0].claim.proof.checkpoint;
  ASSERT_OK_AND_ASSIGN(crypto::Note cosigned, crypto::ParseNote(note));
  ASSERT_OK_AND_ASSIGN(const std::string w1_signature,
                       cosigners[0]->Sign(cosigned.text));
  cosigned.signatures.push_back(crypto::NoteSignature{
      cosigners[0]->name(), cosigners[0]->key_id(), w1_signature});
  tlog::Bundle bundle = bundle_;
  SetCheckpoint(bundle, crypto::FormatNote(cosigned));

  // Policies like the full one, with witness lines and another quorum.
  const auto witness_policy = [&](absl::string_view name,
                                  absl::string_view quorum) {
    std::string text = PolicyText();
    const std::string none = "quorum none\n";
    text.replace(text.find(none), none.size(),
                 absl::StrCat(witness_lines, quorum));
    return WritePolicy(name, text);
  };
  const std::string one = witness_policy("w1.policy", "quorum w1\n");
  const std::string both =
      witness_policy("both.policy", "group ws all w1 w2\nquorum ws\n");

  // The log's own checkpoint, uncosigned, meets neither.
  const std::string uncosigned_state = ExpectBundleRejected(
      bundle_, "checkpoint",
      "checkpoint cosignatures do not meet the quorum: have none", one);
  EXPECT_FALSE(Exists(StateFile(uncosigned_state)));
  // Cosigned by w1: w1 alone suffices, w1 and w2 are needed.
  const RunResult trusted = Verify(
      With(Offline(NewStateDir(), WriteBundle(bundle), one), {SnpQuery()}));
  ExpectTrusted(trusted);
  EXPECT_THAT(OutputLine(trusted.stdout_text, "log"),
              HasSubstr("cosigned by w1"));
  const std::string below = ExpectBundleRejected(
      bundle, "checkpoint",
      "checkpoint cosignatures do not meet the quorum: have w1", both);
  EXPECT_FALSE(Exists(StateFile(below)));
}

TEST_F(TamperTest, AnUnauthenticatedPublicKeyIsNotTrusted) {
  // Without vendor lines the claim's signature is checked with the bundle's
  // publicKey, which must be the key the envelope names.
  const std::string any_vendor =
      WritePolicy("any-vendor.policy",
                  PolicyText({"r1", "r2", "r3"}, "2", "", std::string("")));
  ExpectTrusted(Verify(With(
      Offline(NewStateDir(), WriteBundle(bundle_), any_vendor), {SnpQuery()})));
  tlog::Bundle bundle = bundle_;
  bundle.claims[0].claim.public_key = rebuilders_[0].public_key().der();
  ExpectBundleRejected(bundle, "claim",
                       absl::StrCat("entry 0 names key ", vendor_keyid_,
                                    " but the key given is ",
                                    rebuilders_[0].public_key().keyid()),
                       any_vendor);
}

TEST_F(TamperTest, JsonOutputReportsTheFailureToo) {
  tlog::Bundle bundle = bundle_;
  bundle.claims[0].claim.proof.inclusion_proof[0][0] ^= 1;
  const RunResult run = Verify(With(Offline(NewStateDir(), WriteBundle(bundle)),
                                    {SnpQuery(), "--json"}));
  EXPECT_TRUE(run.status.ExitedWith(1)) << run.status.ToString();
  EXPECT_THAT(run.stderr_text, StartsWith("REJECTED: claim: "));
  ASSERT_OK_AND_ASSIGN(const encoding::JsonValue json,
                       encoding::ParseJson(run.stdout_text));
  ASSERT_NE(json.Find("trusted"), nullptr) << run.stdout_text;
  EXPECT_EQ(json.Find("trusted")->AsBool(), false);
  ASSERT_TRUE(json.Find("error") != nullptr &&
              json.Find("error")->AsString() != nullptr);
  EXPECT_THAT(*json.Find("error")->AsString(),
              StartsWith("claim: entry 0 is not in the log"));
}

// ---------------------------------------------------------------------------
// Rebuilders and vendors.

TEST_F(VerifyE2eTest, MatchesFromRebuildersOutsideThePolicyDoNotCount) {
  const std::string state = NewStateDir();
  const std::string saved = work_ + "/saved.bundle.json";
  ExpectTrusted(
      Verify(With(Online(state), {"--claim=0", "--save_bundle=" + saved})));

  // Without r2, only r1's MATCH counts: 1 of 2 needed.
  const std::string without_r2 =
      WritePolicy("without-r2.policy", PolicyText({"r1", "r3"}));
  ExpectRejected(Verify(With(Online(state, without_r2, *log_), {SnpQuery()})),
                 "rebuild quorum",
                 "MATCH attestations from r1 do not meet quorum r");
  ExpectRejected(
      Verify(With(Offline(NewStateDir(), saved, without_r2), {SnpQuery()})),
      "rebuild quorum", "MATCH attestations from r1 do not meet quorum r");
  // Without r1 and r2, none counts, even for a quorum of one.
  const std::string only_r3 =
      WritePolicy("only-r3.policy", PolicyText({"r3"}, "any"));
  ExpectRejected(Verify(With(Online(state, only_r3, *log_), {SnpQuery()})),
                 "rebuild quorum",
                 "MATCH attestations from no policy rebuilder");
  // Two MATCHes of one policy rebuilder are one.
  ASSERT_OK_AND_ASSIGN(const uint64_t again, Attest(*log_, 0, rebuilders_[0],
                                                    statement::Verdict::kMatch,
                                                    "2026-11-28T12:00:00Z"));
  ASSERT_EQ(again, 3u);
  ExpectRejected(Verify(With(Online(state, without_r2, *log_), {SnpQuery()})),
                 "rebuild quorum",
                 "MATCH attestations from r1 do not meet quorum r");
  // A FAILED rebuild of r3 says nothing: with r1 and r3 needed, r3 is
  // missing.
  ASSERT_OK(
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kFailed).status());
  const std::string r1_and_r3 =
      WritePolicy("r1-r3.policy", PolicyText({"r1", "r3"}, "all"));
  ExpectRejected(Verify(With(Online(state, r1_and_r3, *log_), {SnpQuery()})),
                 "rebuild quorum", "do not meet quorum r");
  // The full policy still trusts it.
  ExpectTrusted(Verify(With(Online(state), {SnpQuery()})));
}

TEST_F(VerifyE2eTest, AMismatchFromATrustedRebuilderRejects) {
  ASSERT_OK_AND_ASSIGN(
      const uint64_t mismatch,
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kMismatch));
  ASSERT_EQ(mismatch, 3u);
  const std::string reason = absl::StrCat(
      "rebuilder r3 reports MISMATCH (attestation 3, report "
      "https://r3.example/report)");
  const std::string state = NewStateDir();
  const std::string saved = work_ + "/mismatch.bundle.json";
  ExpectRejected(
      Verify(With(Online(state), {SnpQuery(), "--save_bundle=" + saved})),
      "mismatch", reason);
  // A bundle that was not verified is not saved.
  EXPECT_FALSE(Exists(saved));
  ExpectRejected(Verify(With(Online(state), {"--claim=0"})), "mismatch",
                 reason);

  // Two MATCHes meet the quorum, but the MISMATCH wins unless the policy
  // says warn.
  const std::string warn = WritePolicy(
      "warn.policy", PolicyText({"r1", "r2", "r3"}, "2", "on-mismatch warn\n"));
  const RunResult warned =
      Verify(With(Online(state, warn, *log_), {SnpQuery()}));
  ExpectTrusted(warned);
  EXPECT_THAT(OutputLine(warned.stdout_text, "WARNING"), HasSubstr(reason));
  EXPECT_THAT(OutputLine(warned.stdout_text, "rebuilders"),
              HasSubstr("r1, r2 (MATCH)"));

  // A MISMATCH from a rebuilder the policy does not trust counts for
  // nothing.
  const std::string without_r3 =
      WritePolicy("without-r3.policy", PolicyText({"r1", "r2"}));
  ExpectTrusted(Verify(With(Online(state, without_r3, *log_), {SnpQuery()})));
}

TEST_F(VerifyE2eTest, AClaimByAVendorOutsideThePolicyIsRejected) {
  const RunResult keygen =
      Submit({"keygen", "--type=ed25519", "--out=" + dir_ + "/other"});
  ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
  const std::string state = NewStateDir();
  const std::string saved = work_ + "/saved.bundle.json";
  ExpectTrusted(
      Verify(With(Online(state), {"--claim=0", "--save_bundle=" + saved})));

  const std::string other_vendor =
      WritePolicy("other-vendor.policy",
                  PolicyText({"r1", "r2", "r3"}, "2", "",
                             std::string("vendor other other.pub\n")));
  const std::string reason =
      absl::StrCat("claim 0 is signed by key ", vendor_keyid_,
                   ", which is not a vendor in the policy");
  ExpectRejected(Verify(With(Online(state, other_vendor, *log_), {SnpQuery()})),
                 "claim", reason);
  ExpectRejected(
      Verify(With(Offline(NewStateDir(), saved, other_vendor), {SnpQuery()})),
      "claim", reason);

  // Listed among others it counts; with no vendor lines any signer does,
  // named by its keyid.
  const std::string both = WritePolicy(
      "both-vendors.policy",
      PolicyText(
          {"r1", "r2", "r3"}, "2", "",
          std::string("vendor other other.pub\nvendor acme vendor.pub\n")));
  const RunResult listed =
      Verify(With(Online(state, both, *log_), {SnpQuery()}));
  ExpectTrusted(listed);
  EXPECT_THAT(OutputLine(listed.stdout_text, "vendor"), HasSubstr("acme"));
  const std::string any =
      WritePolicy("any-vendor.policy",
                  PolicyText({"r1", "r2", "r3"}, "2", "", std::string("")));
  const RunResult unlisted =
      Verify(With(Online(state, any, *log_), {SnpQuery()}));
  ExpectTrusted(unlisted);
  EXPECT_THAT(OutputLine(unlisted.stdout_text, "vendor"),
              HasSubstr(vendor_keyid_));
}

// ---------------------------------------------------------------------------
// What is asked for.

TEST_F(VerifyE2eTest, AValueNotInTheClaimIsRejected) {
  const std::string saved = work_ + "/saved.bundle.json";
  ASSERT_OK(SaveBundle(saved).status());
  struct Case {
    std::string query;
    std::string reason;
  };
  const Case cases[] = {
      {"--value=amd-sev-snp/launch-measurement=sha384:" + kOtherSnpHex,
       "no claim in the bundle holds reference value "
       "amd-sev-snp/launch-measurement=sha384:" +
           kOtherSnpHex},
      {"--value=tpm/pcr/4=sha256:" + std::string(64, 'c'),
       "no claim in the bundle holds reference value tpm/pcr/4=sha256:" +
           std::string(64, 'c')},
      // The claimed PCR 4 digest asked for as another register: the register
      // is part of the value, and the reason says where the digest is.
      {"--value=tpm/pcr/7=sha256:" + kPcrHex,
       "no claim in the bundle holds reference value tpm/pcr/7=sha256:" +
           kPcrHex + " (its digest is claimed only for tpm/pcr/4 in claim 0"},
      {"--value=generic/pcr/4=sha256:" + kPcrHex,
       "no claim in the bundle holds reference value generic/pcr/4=sha256:" +
           kPcrHex},
      {"--artifact=sha256:" + kOtherArtifactHex,
       "no claim in the bundle holds artifact sha256:" + kOtherArtifactHex},
      // A reference value is not an artifact.
      {"--artifact=sha256:" + kPcrHex,
       "no claim in the bundle holds artifact sha256:" + kPcrHex},
      {"--claim=1", "no claim in the bundle holds claim 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    ExpectRejected(Verify(With(Offline(NewStateDir(), saved), {c.query})),
                   "value", c.reason);
  }
}

TEST_F(VerifyE2eTest, OnlineAValueNoClaimHoldsFailsTheValueCheck) {
  // Online, the log has no bundle for a value or an artifact no claim holds.
  // That is the value check failing, as it does offline: it must be named
  // so, and nothing may be trusted, pinned or saved.
  struct Case {
    std::string query;
    std::string hex;
  };
  const Case cases[] = {
      {"--value=amd-sev-snp/launch-measurement=sha384:" + kOtherSnpHex,
       kOtherSnpHex},
      {"--artifact=sha256:" + kOtherArtifactHex, kOtherArtifactHex},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    const std::string state = NewStateDir();
    const std::string not_saved = work_ + "/not-saved.json";
    ExpectRejected(
        Verify(With(Online(state), {c.query, "--save_bundle=" + not_saved})),
        "value", c.hex);
    EXPECT_FALSE(Exists(not_saved));
    EXPECT_FALSE(Exists(StateFile(state)));
  }
}

// ---------------------------------------------------------------------------
// The pinned checkpoint: rollback and fork.

TEST_F(VerifyE2eTest, ARolledBackCheckpointIsAPossibleSplitView) {
  const std::string state = NewStateDir();
  const std::string old_bundle = work_ + "/old.bundle.json";
  ExpectTrusted(Verify(
      With(Online(state), {"--claim=0", "--save_bundle=" + old_bundle})));
  EXPECT_EQ(StoredSize(state), 3u);

  // The log grows (a FAILED rebuild changes no verdict), and verifying online
  // advances the state with a consistency proof.
  ASSERT_OK(
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kFailed).status());
  const std::string new_bundle = work_ + "/new.bundle.json";
  const RunResult advanced =
      Verify(With(Online(state), {"--claim=0", "--save_bundle=" + new_bundle}));
  ExpectTrusted(advanced);
  EXPECT_THAT(OutputLine(advanced.stdout_text, "log"),
              HasSubstr("checkpoint size 4"));
  EXPECT_EQ(StoredSize(state), 4u);
  ASSERT_OK_AND_ASSIGN(const std::string pinned, ReadFile(StateFile(state)));

  // The older bundle is valid on its own, but not after the newer state.
  ExpectTrusted(
      Verify(With(Offline(NewStateDir(), old_bundle), {"--claim=0"})));
  ExpectRejected(
      Verify(With(Offline(state, old_bundle), {"--claim=0"})), "consistency",
      absl::StrCat("possible split view: the checkpoint has size 3, older than "
                   "the size 4 already verified for ",
                   kOrigin));
  EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);
  // The newer one still verifies against it.
  ExpectTrusted(Verify(With(Offline(state, new_bundle), {"--claim=0"})));
  EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);

  // Offline, a newer checkpoint than the pinned one cannot be proved
  // consistent: that fails closed too, and online it then advances.
  const std::string behind = NewStateDir();
  ExpectTrusted(Verify(With(Offline(behind, old_bundle), {"--claim=0"})));
  ASSERT_OK_AND_ASSIGN(const std::string behind_pinned,
                       ReadFile(StateFile(behind)));
  ExpectRejected(Verify(With(Offline(behind, new_bundle), {"--claim=0"})),
                 "consistency", "verify online");
  EXPECT_EQ(ReadFile(StateFile(behind)).value_or(""), behind_pinned);
  ExpectTrusted(Verify(With(Online(behind), {"--claim=0"})));
  EXPECT_EQ(StoredSize(behind), 4u);
}

TEST_F(VerifyE2eTest, AForkedLogIsAPossibleSplitView) {
  // The verifier has seen the real log at size 3.
  const std::string state = NewStateDir();
  ExpectTrusted(Verify(With(Online(state), {"--claim=0"})));
  ASSERT_OK_AND_ASSIGN(const std::string pinned, ReadFile(StateFile(state)));
  ASSERT_EQ(StoredSize(state), 3u);

  // A second log with the same key and origin on a fresh data directory,
  // given another history: another claim first, then the same claim
  // (index 1) with r1's MATCH (index 2).
  LogServerOptions fork_options = log_options_;
  fork_options.data_dir = dir_ + "/fork.data";
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<LogServer> fork,
                       LogServer::Start(fork_options));
  const std::string other_claim = work_ + "/other-claim.json";
  ASSERT_OK(
      MakeClaim(other_claim, std::string(40, 'e'), kOtherSnpHex).status());
  const RunResult first = SubmitClaim(*fork, other_claim);
  ASSERT_TRUE(first.status.ExitedWith(0)) << first.stderr_text;
  ASSERT_THAT(first.stdout_text, StartsWith("logged at index 0"));
  const RunResult second = SubmitClaim(*fork, claim_path_);
  ASSERT_TRUE(second.status.ExitedWith(0)) << second.stderr_text;
  ASSERT_THAT(second.stdout_text, StartsWith("logged at index 1"));
  ASSERT_OK_AND_ASSIGN(
      const uint64_t r1_match,
      Attest(*fork, 1, rebuilders_[0], statement::Verdict::kMatch));
  ASSERT_EQ(r1_match, 2u);

  // Same size, another root.
  ExpectRejected(Verify(With(Online(state, policy_, *fork), {"--claim=1"})),
                 "consistency",
                 "possible split view: the checkpoint of size 3 has root ");
  EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);

  // Larger, with r2's MATCH: every other check would pass, but the fork
  // cannot prove that its tree extends the one the verifier saw.
  ASSERT_OK(
      Attest(*fork, 1, rebuilders_[1], statement::Verdict::kMatch).status());
  const std::string not_saved = work_ + "/fork.bundle.json";
  ExpectRejected(
      Verify(With(Online(state, policy_, *fork),
                  {SnpQuery(), "--save_bundle=" + not_saved})),
      "consistency",
      "possible split view: the checkpoint of size 4 is not consistent with "
      "the one of size 3 verified before");
  EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);
  EXPECT_FALSE(Exists(not_saved));

  // Only the pinned state catches the fork: a verifier that never saw the
  // real log trusts it.
  const RunResult fresh =
      Verify(With(Online(NewStateDir(), policy_, *fork), {SnpQuery()}));
  ExpectTrusted(fresh);
  EXPECT_THAT(OutputLine(fresh.stdout_text, "log"),
              HasSubstr(absl::StrCat(kOrigin, ", claim 1, checkpoint size 4")));
  // And the real log still verifies against the untouched state.
  ExpectTrusted(Verify(With(Online(state), {SnpQuery()})));
  EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);
}

// A log whose page size is smaller than the claim's attestations leaves
// some out of the bundle and says so (truncated). refsum-verify fails closed,
// since a left-out attestation may be a MISMATCH, and keeps its pinned
// checkpoint.
TEST_F(VerifyE2eTest, ATruncatedBundleFromTheLogIsRefused) {
  const std::string state = NewStateDir();
  ExpectTrusted(Verify(With(Online(state), {"--claim=0"})));
  ASSERT_OK_AND_ASSIGN(const std::string pinned, ReadFile(StateFile(state)));
  ASSERT_EQ(StoredSize(state), 3u);
  // A third MATCH, from r3: more attestations than the page size below.
  ASSERT_OK(
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kMatch).status());

  // The same log served again from its data directory, two to a page.
  log_.reset();
  LogServerOptions paged_options = log_options_;
  paged_options.extra_flags.push_back("--max_page_size=2");
  ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(paged_options));

  const std::string not_saved = work_ + "/truncated.bundle.json";
  for (const std::string& query : {std::string("--claim=0"), SnpQuery()}) {
    ExpectRejected(
        Verify(With(Online(state), {query, "--save_bundle=" + not_saved})),
        "rebuilds",
        "left claims or attestations out of the bundle (more than its page "
        "size match), so a MISMATCH cannot be ruled out");
    EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);
    EXPECT_FALSE(Exists(not_saved));
  }
}

// A log that is honest in everything but its consistency proof: it grew
// genuinely, yet proves it with a doctored proof (a flipped bit, the proof
// cut short, no proof at all). refsum-verify, online through the hostile
// log, refuses each and keeps its pinned checkpoint; the real log's proof
// then advances it.
TEST_F(VerifyE2eTest, ABadConsistencyProofFromTheLogIsRefused) {
  const std::string state = NewStateDir();
  ExpectTrusted(Verify(With(Online(state), {"--claim=0"})));
  ASSERT_EQ(StoredSize(state), 3u);
  ASSERT_OK_AND_ASSIGN(const std::string pinned, ReadFile(StateFile(state)));
  ASSERT_OK(
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kFailed).status());

  const std::vector<
      std::pair<std::string, std::function<void(v1::GetConsistencyProofResponse*)>>>
      lies = {
          {"a flipped bit",
           [](v1::GetConsistencyProofResponse* response) {
             ASSERT_GT(response->hashes_size(), 0);
             (*response->mutable_hashes(0))[0] ^= 1;
           }},
          {"a hash left out",
           [](v1::GetConsistencyProofResponse* response) {
             ASSERT_GT(response->hashes_size(), 0);
             response->mutable_hashes()->RemoveLast();
           }},
          {"no proof",
           [](v1::GetConsistencyProofResponse* response) {
             response->clear_hashes();
           }},
      };
  for (const auto& [lie, tamper] : lies) {
    SCOPED_TRACE(lie);
    Tampering tampering;
    tampering.consistency_proof = tamper;
    ASSERT_OK_AND_ASSIGN(
        const std::unique_ptr<HostileLog> hostile,
        HostileLog::Start(log_->grpc_address(), std::move(tampering)));
    ExpectRejected(
        Verify({"--policy=" + policy_, "--state_dir=" + state,
                "--log=" + hostile->address(), "--claim=0"}),
        "consistency",
        "possible split view: the checkpoint of size 4 is not consistent with "
        "the one of size 3 verified before");
    EXPECT_EQ(ReadFile(StateFile(state)).value_or(""), pinned);
  }
  ExpectTrusted(Verify(With(Online(state), {"--claim=0"})));
  EXPECT_EQ(StoredSize(state), 4u);
}

// A bundle whose entries are proved against different (each genuine)
// checkpoints of the log: the claim against the newest, an attestation
// against an older one. Refused offline and when the log serves it, and
// nothing is pinned.
TEST_F(VerifyE2eTest, ABundleProvedAgainstDifferentCheckpointsIsRefused) {
  const std::string old_path = work_ + "/mixed-old.bundle.json";
  ExpectTrusted(Verify(
      With(Online(NewStateDir()), {"--claim=0", "--save_bundle=" + old_path})));
  ASSERT_OK(
      Attest(*log_, 0, rebuilders_[2], statement::Verdict::kFailed).status());
  const std::string new_path = work_ + "/mixed-new.bundle.json";
  ExpectTrusted(Verify(
      With(Online(NewStateDir()), {"--claim=0", "--save_bundle=" + new_path})));
  ASSERT_OK_AND_ASSIGN(const std::string old_json, ReadFile(old_path));
  ASSERT_OK_AND_ASSIGN(const std::string new_json, ReadFile(new_path));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle older, tlog::DecodeBundle(old_json));
  ASSERT_OK_AND_ASSIGN(tlog::Bundle mixed, tlog::DecodeBundle(new_json));
  ASSERT_FALSE(mixed.claims[0].attestations.empty());
  mixed.claims[0].attestations[0] = older.claims[0].attestations[0];
  // EncodeBundle refuses to write such a bundle; a hostile log writes it
  // by hand.
  ASSERT_FALSE(tlog::EncodeBundle(mixed).ok());
  const std::string mixed_json = BundleJsonUnchecked(mixed);

  const std::string mixed_path = work_ + "/mixed.bundle.json";
  ASSERT_OK(WriteFileAtomically(mixed_path, mixed_json, 0644));
  const std::string offline = NewStateDir();
  const RunResult refused_offline =
      Verify(With(Offline(offline, mixed_path), {"--claim=0"}));
  EXPECT_TRUE(refused_offline.status.ExitedWith(1));
  EXPECT_THAT(refused_offline.stderr_text,
              HasSubstr("proof is against another checkpoint"));
  EXPECT_FALSE(Exists(StateFile(offline)));

  Tampering tampering;
  tampering.bundle = [mixed_json](v1::GetBundleResponse* response) {
    response->set_bundle_json(mixed_json);
  };
  ASSERT_OK_AND_ASSIGN(
      const std::unique_ptr<HostileLog> hostile,
      HostileLog::Start(log_->grpc_address(), std::move(tampering)));
  const std::string online = NewStateDir();
  const RunResult refused_online =
      Verify({"--policy=" + policy_, "--state_dir=" + online,
              "--log=" + hostile->address(), "--claim=0"});
  EXPECT_TRUE(refused_online.status.ExitedWith(1));
  EXPECT_THAT(refused_online.stderr_text,
              HasSubstr("proof is against another checkpoint"));
  EXPECT_FALSE(Exists(StateFile(online)));
}

// ---------------------------------------------------------------------------
// Failing closed and usage.

TEST_F(VerifyE2eTest, AnUnreachableLogOrABadPolicyTrustsNothing) {
  const std::string state = NewStateDir();
  const RunResult unreachable =
      Verify({"--policy=" + policy_, "--state_dir=" + state,
              "--log=127.0.0.1:1", "--claim=0"});
  EXPECT_TRUE(unreachable.status.ExitedWith(1))
      << unreachable.status.ToString();
  EXPECT_THAT(unreachable.stderr_text, StartsWith("REJECTED: "));
  EXPECT_THAT(unreachable.stderr_text, HasSubstr("127.0.0.1:1"));
  EXPECT_EQ(unreachable.stdout_text, "");
  EXPECT_FALSE(Exists(StateFile(state)));

  // A policy that does not parse names its line, and trusts nothing.
  const std::string bad =
      WritePolicy("bad.policy", PolicyText() + "rebuild-group r2 3 r1 r2\n");
  const RunResult bad_policy =
      Verify(With(Online(state, bad, *log_), {"--claim=0"}));
  EXPECT_TRUE(bad_policy.status.exited && bad_policy.status.code != 0)
      << bad_policy.status.ToString();
  EXPECT_THAT(bad_policy.stderr_text, HasSubstr("line 10"));
  EXPECT_EQ(bad_policy.stdout_text, "");
  EXPECT_FALSE(Exists(StateFile(state)));
  // A missing policy file is named.
  const RunResult missing = Verify(
      With(Online(state, dir_ + "/no-such.policy", *log_), {"--claim=0"}));
  EXPECT_TRUE(missing.status.exited && missing.status.code != 0);
  EXPECT_THAT(missing.stderr_text, HasSubstr("no-such.policy"));
  EXPECT_FALSE(Exists(StateFile(state)));
}

TEST_F(VerifyE2eTest, UsageErrorsExitWith2) {
  const std::string state = NewStateDir();
  const std::string bundle = work_ + "/saved.bundle.json";
  ASSERT_OK(SaveBundle(bundle).status());
  const std::string policy = "--policy=" + policy_;
  const std::string state_dir = "--state_dir=" + state;
  const std::string log = "--log=" + log_->grpc_address();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{}, "--policy and --state_dir are required"},
      {{state_dir, log, "--claim=0"}, "--policy and --state_dir are required"},
      {{policy, log, "--claim=0"}, "--policy and --state_dir are required"},
      {{policy, state_dir, "--claim=0"},
       "give exactly one of --log (online) and --bundle (offline)"},
      {{policy, state_dir, log, "--bundle=" + bundle, "--claim=0"},
       "give exactly one of --log (online) and --bundle (offline)"},
      {{policy, state_dir, log},
       "give exactly one of --value, --artifact and --claim"},
      {{policy, state_dir, log, "--claim=0", SnpQuery()},
       "give exactly one of --value, --artifact and --claim"},
      {{policy, state_dir, log, "--claim=zero"},
       "--claim \"zero\" is not a log index"},
      {{policy, state_dir, log, "--claim=-1"},
       "--claim \"-1\" is not a log index"},
      {{policy, state_dir, log, "--value=" + kSnpHex},
       "expected platform/kind[/index]=alg:hex"},
      // A bare digest names no register.
      {{policy, state_dir, log, "--value=sha256:" + kPcrHex},
       "a bare digest names no register; give platform/kind[/index]=alg:hex"},
      {{policy, state_dir, log, "--value=tpm/pcr/4=md5:" + kPcrHex.substr(0, 32)},
       "md5: unsupported digest algorithm"},
      {{policy, state_dir, log, "--value=tpm/pcr/4=sha384:" + kPcrHex},
       "sha384: must be 96 lowercase hex characters"},
      {{policy, state_dir, log,
        "--value=tpm/pcr/4=sha256:" + std::string(64, 'A')},
       "sha256: must be 64 lowercase hex characters"},
      {{policy, state_dir, log, "--value=tpm/pcr/4=sha256:" + kPcrHex + ",a=b"},
       "a selector has no parameters"},
      {{policy, state_dir, log, "--artifact=sha384:" + kSnpHex},
       "artifacts are looked up by sha256"},
      {{policy, state_dir, "--bundle=" + bundle, "--claim=0",
        "--save_bundle=" + work_ + "/copy.json"},
       "--save_bundle needs --log"},
      {{policy, state_dir, log, "--claim=0", "extra"}, "unexpected arguments"},
      {{policy, state_dir, log, "--claim=0", "--no_such_flag"}, "no_such_flag"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    const RunResult run = Verify(c.args);
    EXPECT_TRUE(run.status.ExitedWith(2)) << run.status.ToString();
    EXPECT_THAT(run.stderr_text, HasSubstr(c.message));
    EXPECT_THAT(run.stderr_text, Not(HasSubstr("REJECTED")));
    EXPECT_THAT(run.stderr_text, HasSubstr("usage: refsum-verify"));
    EXPECT_EQ(run.stdout_text, "");
  }
  EXPECT_FALSE(Exists(state));
  EXPECT_FALSE(Exists(work_ + "/copy.json"));
}

}  // namespace
}  // namespace refsum::tests
