// End to end: a real refsum-witness cosigning a real refsum-log's
// checkpoints over HTTP (C2SP tlog-witness v1.0.0), with every status code
// the spec prescribes, state that survives a restart and a crash (also a
// SIGKILL with requests in flight, and one in the middle of a rebuild), and
// the command line (keygen, bad configuration) as an operator meets it.
//
// REFSUM_CRASH_ROUNDS (default 3) sets how often each crash test kills the
// witness.

#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "client/log_client.h"
#include "client/testing.h"
#include "crypto/cosignature.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/witness_protocol.h"
#include "witness/follower.h"
#include "witness/rebuild_testing.h"

namespace refsum::tests {
namespace {

using ::refsum::client::testing::FlipHashBit;
using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::NewTestSigner;
using ::refsum::client::testing::SampleClaim;
using ::refsum::client::testing::TestLog;
using ::refsum::client::testing::TestSigner;
using ::refsum::tlog::AddCheckpointRequest;
using ::refsum::tlog::FormatAddCheckpointRequest;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The runfiles path of //witness:refsum-witness.
constexpr char kWitnessBinary[] = "witness/refsum-witness";
constexpr char kOrigin[] = "log.example.org/witness-e2e";
constexpr char kWitnessName[] = "witness.example.org/e2e";
// Generous: an upper bound, never an expectation of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);

// A signed checkpoint as the log served it.
struct LogCheckpoint {
  std::string note;
  tlog::Checkpoint checkpoint;
};

// A reply of the witness.
struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

class WitnessCosignE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("witness_cosign_e2e"));
    ASSERT_OK_AND_ASSIGN(LogKey log_key,
                         GenerateLogKey(kOrigin, dir_ + "/log-key"));
    LogServerOptions options;
    options.key = log_key;
    options.data_dir = dir_ + "/log-data";
    options.output_dir = dir_;
    options.timeout = kTimeout;
    ASSERT_OK_AND_ASSIGN(log_, LogServer::Start(options));
    ASSERT_OK_AND_ASSIGN(TestSigner vendor,
                         NewTestSigner("acme", crypto::KeyType::kEd25519));
    vendor_ = std::make_unique<TestSigner>(std::move(vendor));

    ASSERT_OK_AND_ASSIGN(
        const RunResult keygen,
        Witness({"keygen", absl::StrCat("--name=", kWitnessName),
                 "--out=" + dir_ + "/witness-keys"},
                "keygen"));
    ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
    ASSERT_OK_AND_ASSIGN(const std::string vkey_file,
                         ReadFile(dir_ + "/witness-keys/cosign.vkey"));
    cosign_vkey_ = std::string(absl::StripSuffix(vkey_file, "\n"));
    ASSERT_OK_AND_ASSIGN(cosign_verifier_,
                         crypto::NewCosignatureV1VerifierFromKey(cosign_vkey_));

    config_path_ = dir_ + "/witness.conf";
    ASSERT_OK(WriteFileAtomically(config_path_, Config(), 0644));
  }

  // The configuration, with paths relative to it, and `extra` lines.
  std::string Config(absl::string_view extra = "") const {
    return absl::StrCat("# refsum-witness e2e\n", "name ", kWitnessName, "\n",
                        "cosign_key witness-keys/cosign.key\n",
                        "rebuild_key witness-keys/rebuild.key\n",
                        "http_addr 127.0.0.1:0\n", "state_dir witness-state\n",
                        "log ", kOrigin, " ", log_->options().key.vkey, " ",
                        log_->grpc_address(), "\n", extra);
  }

  // Runs refsum-witness with `args` until it exits.
  absl::StatusOr<RunResult> Witness(const std::vector<std::string>& args,
                                    absl::string_view name) {
    return RunProcess(kWitnessBinary, args,
                      absl::StrCat(dir_, "/witness-", name, "-", ++runs_),
                      kTimeout);
  }

  // Starts `refsum-witness serve` and waits until it is ready.
  void StartWitness() {
    const std::string prefix = absl::StrCat(dir_, "/witness-serve-", ++runs_);
    const std::string ready = prefix + ".ready.json";
    ASSERT_OK_AND_ASSIGN(
        witness_, Process::Start(kWitnessBinary,
                                 {"serve", "--config=" + config_path_,
                                  "--ready_file=" + ready},
                                 prefix + ".stdout", prefix + ".stderr"));
    ASSERT_OK_AND_ASSIGN(const std::string json,
                         witness_->WaitForFile(ready, kTimeout));
    ASSERT_OK_AND_ASSIGN(const encoding::JsonValue value,
                         encoding::ParseJson(absl::StripSuffix(json, "\n")));
    const encoding::JsonValue* http = value.Find("http");
    ASSERT_NE(http, nullptr) << json;
    ASSERT_NE(http->AsString(), nullptr) << json;
    const std::string address = *http->AsString();
    ASSERT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << address;
    ASSERT_TRUE(absl::SimpleAtoi(address.substr(10), &witness_port_))
        << address;
  }

  // Submits `count` new claims and returns the log's checkpoint after them.
  LogCheckpoint Grow(int count) {
    for (int i = 0; i < count; ++i) {
      const absl::StatusOr<std::string> payload = statement::SerializeClaim(
          SampleClaim(absl::StrCat("claim", ++claims_)));
      EXPECT_TRUE(payload.ok()) << payload.status();
      const absl::StatusOr<crypto::DsseEnvelope> envelope =
          crypto::DsseSign(statement::kPayloadType, *payload, *vendor_->signer);
      EXPECT_TRUE(envelope.ok()) << envelope.status();
      const absl::StatusOr<refsum::v1::SubmitResponse> submitted =
          log_->client().Submit(crypto::EncodeDsseJson(*envelope),
                                vendor_->public_key().ToPem());
      EXPECT_TRUE(submitted.ok()) << submitted.status();
    }
    return Latest();
  }

  LogCheckpoint Latest() {
    absl::StatusOr<std::string> note = log_->client().GetCheckpoint();
    EXPECT_TRUE(note.ok()) << note.status();
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        tlog::ParseCheckpointNote(note.ok() ? *note : "");
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    return LogCheckpoint{note.value_or(""),
                         checkpoint.value_or(tlog::Checkpoint{})};
  }

  // The add-checkpoint body from `old_size` to `to`, with the log's own
  // consistency proof (none from 0 or between equal sizes).
  std::string Request(uint64_t old_size, const LogCheckpoint& to) {
    AddCheckpointRequest request{old_size, {}, to.note};
    if (old_size != 0 && old_size < to.checkpoint.size) {
      absl::StatusOr<std::vector<tlog::Hash>> proof =
          log_->client().GetConsistencyProof(old_size, to.checkpoint.size);
      EXPECT_TRUE(proof.ok()) << proof.status();
      request.proof = proof.value_or(std::vector<tlog::Hash>{});
    }
    return FormatAddCheckpointRequest(request);
  }

  Reply Post(const std::string& body) {
    std::optional<Reply> reply = TryPost(witness_port_, body);
    if (!reply.has_value()) {
      ADD_FAILURE() << "POST /add-checkpoint failed";
      return Reply{};
    }
    return *std::move(reply);
  }

  // Posts `body` to the witness at `port`; nullopt when there is no answer
  // (a witness being killed).
  static std::optional<Reply> TryPost(int port, const std::string& body) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(absl::ToInt64Seconds(kTimeout), 0);
    client.set_read_timeout(absl::ToInt64Seconds(kTimeout), 0);
    const httplib::Result result =
        client.Post("/add-checkpoint", body, "text/plain");
    if (!result) return std::nullopt;
    return Reply{result->status, result->get_header_value("Content-Type"),
                 result->body};
  }

  // The size of the checkpoint the witness holds, asked with a request from
  // `probe`'s own size: a 409 names another size, a 200 confirms it.
  uint64_t StoredSize(const LogCheckpoint& probe) {
    const Reply reply = Post(Request(probe.checkpoint.size, probe));
    if (reply.status == 200) return probe.checkpoint.size;
    EXPECT_EQ(reply.status, 409) << reply.body;
    uint64_t size = 0;
    EXPECT_TRUE(absl::SimpleAtoi(absl::StripSuffix(reply.body, "\n"), &size))
        << reply.body;
    return size;
  }

  // Expects a cosignature of `checkpoint` that cosign.vkey verifies.
  void ExpectCosigned(const Reply& reply, const LogCheckpoint& checkpoint) {
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_THAT(reply.body,
                StartsWith(absl::StrCat("\xe2\x80\x94 ", kWitnessName, " ")));
    const crypto::NoteVerifier* const verifiers[] = {cosign_verifier_.get(),
                                                     &log_->verifier()};
    ASSERT_OK_AND_ASSIGN(
        const crypto::VerifiedNote note,
        crypto::OpenNote(checkpoint.note + reply.body, verifiers));
    ASSERT_EQ(note.verified.size(), 2u);
    EXPECT_EQ(note.verified[1].name, kWitnessName);
    ASSERT_OK_AND_ASSIGN(
        const uint64_t timestamp,
        crypto::CosignatureV1Timestamp(note.verified[1].signature));
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    EXPECT_LE(static_cast<int64_t>(timestamp), now);
    EXPECT_GT(static_cast<int64_t>(timestamp), now - 3600);
  }

  static void ExpectSizeConflict(const Reply& reply, uint64_t stored) {
    EXPECT_EQ(reply.status, 409) << reply.body;
    EXPECT_EQ(reply.content_type, "text/x.tlog.size");
    EXPECT_EQ(reply.body, absl::StrCat(stored, "\n"));
  }

  static void ExpectRefused(const Reply& reply, int status) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_THAT(reply.content_type, StartsWith("text/plain"));
    EXPECT_FALSE(absl::StrContains(reply.body, "\xe2\x80\x94")) << reply.body;
  }

  std::string dir_;
  std::unique_ptr<LogServer> log_;
  std::unique_ptr<TestSigner> vendor_;
  std::string cosign_vkey_;
  std::unique_ptr<crypto::NoteVerifier> cosign_verifier_;
  std::string config_path_;
  std::unique_ptr<Process> witness_;
  int witness_port_ = 0;
  int runs_ = 0;
  int claims_ = 0;
};

TEST_F(WitnessCosignE2eTest, CosignsTheLogAndAnswersEveryStatusCode) {
  ASSERT_NO_FATAL_FAILURE(StartWitness());

  // The first checkpoint, from old size 0.
  const LogCheckpoint c3 = Grow(3);
  ASSERT_EQ(c3.checkpoint.size, 3u);
  ExpectCosigned(Post(Request(0, c3)), c3);
  // A log that does not know the witness's size learns it from a 409.
  ExpectSizeConflict(Post(Request(0, c3)), 3);
  // The same checkpoint again, from the stored size.
  ExpectCosigned(Post(Request(3, c3)), c3);

  // Growing, with the log's own consistency proofs.
  const LogCheckpoint c6 = Grow(3);
  ExpectSizeConflict(Post(Request(2, c6)), 3);
  ExpectCosigned(Post(Request(3, c6)), c6);

  // 400: an old size above the checkpoint's, and a malformed body.
  ExpectRefused(Post(FormatAddCheckpointRequest({7, {}, c6.note})), 400);
  ExpectRefused(Post("old 6\n"), 400);

  // 409: a rollback to an older, genuine checkpoint.
  ExpectSizeConflict(Post(Request(3, c3)), 6);
  ExpectRefused(Post(FormatAddCheckpointRequest({6, {}, c3.note})), 400);

  // 422: a consistency proof that does not verify.
  const LogCheckpoint c9 = Grow(3);
  ASSERT_OK_AND_ASSIGN(std::vector<tlog::Hash> proof,
                       log_->client().GetConsistencyProof(6, 9));
  ASSERT_FALSE(proof.empty());
  std::vector<tlog::Hash> bad = proof;
  bad.back() = FlipHashBit(bad.back());
  ExpectRefused(Post(FormatAddCheckpointRequest({6, bad, c9.note})), 422);
  ASSERT_OK_AND_ASSIGN(const std::vector<tlog::Hash> other_sizes,
                       log_->client().GetConsistencyProof(5, 9));
  ExpectRefused(Post(FormatAddCheckpointRequest({6, other_sizes, c9.note})),
                422);

  // 404: a log the witness does not follow.
  ASSERT_OK_AND_ASSIGN(TestLog stranger,
                       TestLog::Create("log.example.org/stranger"));
  stranger.Append("x");
  ASSERT_OK_AND_ASSIGN(const std::string stranger_note,
                       stranger.SignCheckpoint(1, {}));
  ExpectRefused(Post(FormatAddCheckpointRequest({0, {}, stranger_note})), 404);

  // 403: the log's origin, signed by another key.
  ASSERT_OK_AND_ASSIGN(TestLog impostor, TestLog::Create(kOrigin));
  for (int i = 0; i < 9; ++i) impostor.Append(absl::StrCat("i", i));
  ASSERT_OK_AND_ASSIGN(const std::string impostor_note,
                       impostor.SignCheckpoint(9, {}));
  ExpectRefused(Post(FormatAddCheckpointRequest({6, proof, impostor_note})),
                403);

  // 409 without a cosignature: the log's own key signs another root for the
  // size the witness holds (a fork, which only a stolen or misused log key
  // can produce; here the test reads the key file).
  ASSERT_OK_AND_ASSIGN(
      const crypto::PrivateKey log_key,
      crypto::ReadPrivateKeyFile(log_->options().key.key_path));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::NoteSigner> log_signer,
                       crypto::NewEd25519NoteSigner(kOrigin, log_key));
  tlog::Checkpoint forked = c6.checkpoint;
  forked.root = FlipHashBit(forked.root);
  ASSERT_OK_AND_ASSIGN(const std::string forked_body,
                       tlog::FormatCheckpointBody(forked));
  const crypto::NoteSigner* const signers[] = {log_signer.get()};
  ASSERT_OK_AND_ASSIGN(const std::string forked_note,
                       crypto::SignNote(forked_body, signers));
  const Reply fork = Post(FormatAddCheckpointRequest({6, {}, forked_note}));
  ExpectRefused(fork, 409);
  EXPECT_THAT(fork.body, HasSubstr("forked"));
  EXPECT_THAT(witness_->ReadStderr(), HasSubstr("possible log misbehaviour"));

  // After all that, the honest history goes on.
  ExpectCosigned(Post(Request(6, c9)), c9);
  EXPECT_TRUE(witness_->Poll() == std::nullopt) << witness_->ReadStderr();
}

TEST_F(WitnessCosignE2eTest, StateSurvivesRestartAndCrash) {
  ASSERT_NO_FATAL_FAILURE(StartWitness());
  const LogCheckpoint c4 = Grow(4);
  ExpectCosigned(Post(Request(0, c4)), c4);

  // A graceful stop, then the same configuration again.
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped,
                       witness_->SignalAndWait(SIGTERM, kTimeout));
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
  ASSERT_NO_FATAL_FAILURE(StartWitness());
  ExpectSizeConflict(Post(Request(0, c4)), 4);
  const LogCheckpoint c7 = Grow(3);
  ExpectCosigned(Post(Request(4, c7)), c7);

  // A crash right after the answer: the state was written before it.
  ASSERT_OK_AND_ASSIGN(const ExitStatus killed,
                       witness_->SignalAndWait(SIGKILL, kTimeout));
  EXPECT_TRUE(killed.KilledBy(SIGKILL)) << killed.ToString();
  ASSERT_NO_FATAL_FAILURE(StartWitness());
  ExpectSizeConflict(Post(Request(0, c7)), 7);
  ExpectSizeConflict(Post(Request(4, c7)), 7);
  const LogCheckpoint c8 = Grow(1);
  ExpectCosigned(Post(Request(7, c8)), c8);

  // The log restarts too; its checkpoints still extend what was cosigned.
  ASSERT_OK(log_->Terminate().status());
  ASSERT_OK(log_->Restart());
  const LogCheckpoint c10 = Grow(2);
  ExpectCosigned(Post(Request(8, c10)), c10);
}

int CrashRounds() {
  const char* value = getenv("REFSUM_CRASH_ROUNDS");
  int rounds = 3;
  if (value != nullptr && !absl::SimpleAtoi(value, &rounds)) rounds = 3;
  return std::max(rounds, 1);
}

// SIGKILL while add-checkpoint requests are in flight, at a different
// moment each round. A cosignature the witness returned is never ahead of
// what it stored (the state is written before the answer), the stored
// checkpoint is always one of the log's, and after the restart the witness
// refuses to go back below it and goes on from it.
TEST_F(WitnessCosignE2eTest, KilledWithRequestsInFlightNeverCosignsAheadOfItsState) {
  const int rounds = CrashRounds();
  uint64_t stored = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ASSERT_NO_FATAL_FAILURE(StartWitness());
    // The log grows one entry at a time; the witness is pushed each step,
    // from the size it holds, by two clients at once.
    std::vector<LogCheckpoint> steps;
    std::vector<std::string> requests;
    uint64_t from = stored;
    for (int i = 0; i < 12; ++i) {
      steps.push_back(Grow(1));
      requests.push_back(Request(from, steps.back()));
      from = steps.back().checkpoint.size;
    }
    const LogCheckpoint newest = steps.back();
    absl::Mutex mu;
    uint64_t newest_cosigned = 0;
    int answers = 0;
    const int port = witness_port_;
    const auto push = [&] {
      for (size_t i = 0; i < requests.size(); ++i) {
        const std::optional<Reply> reply = TryPost(port, requests[i]);
        if (!reply.has_value()) return;  // killed
        absl::MutexLock lock(&mu);
        ++answers;
        if (reply->status == 200) {
          newest_cosigned =
              std::max(newest_cosigned, steps[i].checkpoint.size);
          // Every cosignature verifies for its checkpoint.
          const crypto::NoteVerifier* const verifiers[] = {
              cosign_verifier_.get(), &log_->verifier()};
          const absl::StatusOr<crypto::VerifiedNote> note =
              crypto::OpenNote(steps[i].note + reply->body, verifiers);
          EXPECT_TRUE(note.ok() && note->verified.size() == 2)
              << reply->body;
        } else {
          EXPECT_EQ(reply->status, 409) << reply->body;
        }
      }
    };
    std::thread first(push);
    std::thread second(push);
    // Kill after a number of answers that moves each round (0 kills at
    // once, with the first requests in flight).
    const int kill_after = (round * 5) % 13;
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu);
        if (answers >= kill_after) break;
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_OK_AND_ASSIGN(const ExitStatus killed,
                         witness_->SignalAndWait(SIGKILL, kTimeout));
    EXPECT_TRUE(killed.KilledBy(SIGKILL)) << killed.ToString();
    first.join();
    second.join();

    ASSERT_NO_FATAL_FAILURE(StartWitness());
    const uint64_t now_stored = StoredSize(newest);
    {
      absl::MutexLock lock(&mu);
      EXPECT_GE(now_stored, newest_cosigned)
          << "a cosignature was returned for a checkpoint the witness did "
             "not keep";
    }
    EXPECT_GE(now_stored, stored) << "the witness's state went back";
    bool known = now_stored == stored;
    for (const LogCheckpoint& step : steps) {
      known = known || step.checkpoint.size == now_stored;
    }
    EXPECT_TRUE(known) << now_stored;
    // No way back below it, and forward from it.
    if (now_stored > 0) {
      ExpectSizeConflict(Post(Request(0, steps.front())), now_stored);
    }
    ExpectCosigned(Post(Request(now_stored, newest)), newest);
    stored = newest.checkpoint.size;
    ASSERT_OK_AND_ASSIGN(const ExitStatus stopped,
                         witness_->SignalAndWait(SIGKILL, kTimeout));
    EXPECT_TRUE(stopped.KilledBy(SIGKILL));
  }
}

// SIGKILL in the middle of a rebuild (the recipe sleeps before it builds),
// or just as its attestation is recorded: after each restart the witness
// resumes the claim, and every claim ends with exactly one attestation by
// the witness, a MATCH.
TEST_F(WitnessCosignE2eTest, KilledMidRebuildResumesAndAttestsOnce) {
  ASSERT_OK(WriteFileAtomically(
      config_path_,
      Config(absl::StrCat("scope file:// sleep 2 && ",
                          witness::kProjectRecipe, "\nlimit wall_time 10m\n")),
      0644));
  ASSERT_OK_AND_ASSIGN(const std::string rebuild_pem,
                       ReadFile(dir_ + "/witness-keys/rebuild.pub"));
  ASSERT_OK_AND_ASSIGN(const crypto::PublicKey rebuild_key,
                       crypto::PublicKey::FromPem(rebuild_pem));
  const std::string state = dir_ + "/witness-state";
  const int rounds = CrashRounds();
  std::vector<uint64_t> claims;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    witness::TestRepository repository(absl::StrCat(dir_, "/repo", round));
    repository.Write("image/round", absl::StrCat(round, "\n"));
    const std::string commit =
        witness::CommitProject(repository, witness::ProjectKind::kReproducible);
    const std::string out = absl::StrCat(dir_, "/vendor", round);
    ASSERT_OK(MakeDirectories(out, 0755));
    ASSERT_OK_AND_ASSIGN(const statement::Claim claim,
                         witness::VendorClaim(repository, commit, out));
    ASSERT_OK_AND_ASSIGN(const std::string payload,
                         statement::SerializeClaim(claim));
    ASSERT_OK_AND_ASSIGN(
        const crypto::DsseEnvelope envelope,
        crypto::DsseSign(statement::kPayloadType, payload, *vendor_->signer));
    ASSERT_NO_FATAL_FAILURE(StartWitness());
    ASSERT_OK_AND_ASSIGN(const refsum::v1::SubmitResponse submitted,
                         log_->client().Submit(crypto::EncodeDsseJson(envelope),
                                               vendor_->public_key().ToPem()));
    claims.push_back(submitted.index());
    // Odd rounds kill as soon as the attestation is recorded (before or
    // after it is submitted), even rounds while the build runs.
    const std::string record =
        absl::StrCat(witness::FollowerStateDir(state, kOrigin),
                     "/attestations/", submitted.index(), ".json");
    const std::string builds = witness::RebuildBuildsDir(state);
    const absl::Time deadline = absl::Now() + kTimeout;
    bool reached = false;
    while (!reached && absl::Now() < deadline) {
      if (round % 2 == 1) {
        reached = access(record.c_str(), F_OK) == 0;
      } else {
        absl::StatusOr<std::vector<std::string>> entries =
            client::testing::ListDir(builds);
        reached = entries.ok() && !entries->empty();
      }
      if (!reached) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_TRUE(reached) << witness_->ReadStderr();
    ASSERT_OK_AND_ASSIGN(const ExitStatus killed,
                         witness_->SignalAndWait(SIGKILL, kTimeout));
    EXPECT_TRUE(killed.KilledBy(SIGKILL)) << killed.ToString();
  }

  // The last restart: every claim gets its attestation.
  ASSERT_NO_FATAL_FAILURE(StartWitness());
  for (const uint64_t index : claims) {
    std::vector<uint64_t> attestations;
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      ASSERT_OK_AND_ASSIGN(attestations,
                           log_->client().GetAttestations(index));
      if (!attestations.empty()) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ASSERT_EQ(attestations.size(), 1u)
        << "claim " << index << ": " << witness_->ReadStderr();
    ASSERT_OK_AND_ASSIGN(const std::vector<std::string> leaves,
                         log_->client().GetEntries(attestations[0], 1));
    ASSERT_EQ(leaves.size(), 1u);
    ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope logged,
                         crypto::DecodeDsseLeaf(leaves[0]));
    ASSERT_OK_AND_ASSIGN(const statement::RebuildAttestation attestation,
                         statement::ParseRebuildAttestation(logged.payload));
    EXPECT_EQ(attestation.verdict, statement::Verdict::kMatch)
        << logged.payload;
    EXPECT_EQ(attestation.claim.index, index);
    ASSERT_EQ(logged.signatures.size(), 1u);
    EXPECT_EQ(logged.signatures[0].keyid, rebuild_key.keyid());
  }
  // Nothing more arrives: a claim attested once stays attested once.
  Grow(1);
  for (const uint64_t index : claims) {
    ASSERT_OK_AND_ASSIGN(const std::vector<uint64_t> attestations,
                         log_->client().GetAttestations(index));
    EXPECT_EQ(attestations.size(), 1u) << "claim " << index;
  }
}

TEST_F(WitnessCosignE2eTest, KeygenWritesSeparateKeysAndNeverOverwrites) {
  const std::string keys = dir_ + "/witness-keys";
  struct stat info;
  for (const char* name : {"cosign.key", "rebuild.key"}) {
    ASSERT_EQ(stat((keys + "/" + name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey cosign,
                       crypto::ReadPrivateKeyFile(keys + "/cosign.key"));
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey rebuild,
                       crypto::ReadPrivateKeyFile(keys + "/rebuild.key"));
  ASSERT_OK_AND_ASSIGN(const crypto::PublicKey rebuild_pub,
                       crypto::ReadPublicKeyFile(keys + "/rebuild.pub"));
  EXPECT_EQ(rebuild_pub.der(), rebuild.public_key().der());
  EXPECT_EQ(rebuild.type(), crypto::KeyType::kEd25519);
  EXPECT_NE(cosign.public_key().der(), rebuild.public_key().der());
  ASSERT_OK_AND_ASSIGN(const crypto::VerifierKey vkey,
                       crypto::ParseVerifierKey(cosign_vkey_));
  EXPECT_EQ(vkey.name, kWitnessName);
  EXPECT_EQ(vkey.signature_type, crypto::kNoteSignatureTypeCosignatureV1);
  ASSERT_OK_AND_ASSIGN(const std::string raw, cosign.public_key().Ed25519Raw());
  EXPECT_EQ(vkey.public_key, raw);

  ASSERT_OK_AND_ASSIGN(const std::string before,
                       ReadFile(keys + "/cosign.key"));
  ASSERT_OK_AND_ASSIGN(
      const RunResult again,
      Witness({"keygen", "--name=other.example/w", "--out=" + keys}, "keygen"));
  EXPECT_TRUE(again.status.ExitedWith(1)) << again.status.ToString();
  EXPECT_THAT(again.stderr_text, HasSubstr("refusing to overwrite"));
  ASSERT_OK_AND_ASSIGN(const std::string after, ReadFile(keys + "/cosign.key"));
  EXPECT_EQ(before, after);

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"keygen", "--out=" + dir_ + "/k1"},
           {"keygen", "--name=a+b", "--out=" + dir_ + "/k2"},
           {"keygen", "--name=w", "--out=" + dir_ + "/k3", "--bogus"},
           {"serve"},
           {"frobnicate"},
           {}}) {
    ASSERT_OK_AND_ASSIGN(const RunResult usage, Witness(args, "usage"));
    EXPECT_TRUE(usage.status.ExitedWith(2))
        << absl::StrJoin(args, " ") << ": " << usage.status.ToString();
  }
}

TEST_F(WitnessCosignE2eTest, BadConfigurationFailsAtStartNamingTheLine) {
  const std::string bad = absl::StrCat(Config(), "parallelism none\n");
  ASSERT_OK(WriteFileAtomically(config_path_, bad, 0644));
  ASSERT_OK_AND_ASSIGN(
      const RunResult run,
      Witness({"serve", "--config=" + config_path_}, "bad-config"));
  EXPECT_TRUE(run.status.ExitedWith(2)) << run.status.ToString();
  EXPECT_THAT(run.stderr_text, HasSubstr(config_path_ + ":8: parallelism"));

  // A cosigning key others can read is refused.
  ASSERT_OK(WriteFileAtomically(config_path_, Config(), 0644));
  ASSERT_EQ(chmod((dir_ + "/witness-keys/cosign.key").c_str(), 0644), 0);
  ASSERT_OK_AND_ASSIGN(
      const RunResult readable,
      Witness({"serve", "--config=" + config_path_}, "readable-key"));
  EXPECT_TRUE(readable.status.ExitedWith(1)) << readable.status.ToString();
  EXPECT_THAT(readable.stderr_text, HasSubstr("cosign.key"));

  // The same key for cosigning and rebuild attestations is refused.
  ASSERT_EQ(chmod((dir_ + "/witness-keys/cosign.key").c_str(), 0600), 0);
  ASSERT_OK(WriteFileAtomically(
      config_path_,
      absl::StrReplaceAll(Config(), {{"rebuild_key witness-keys/rebuild.key",
                                      "rebuild_key witness-keys/cosign.key"}}),
      0644));
  ASSERT_OK_AND_ASSIGN(
      const RunResult same,
      Witness({"serve", "--config=" + config_path_}, "same-key"));
  EXPECT_TRUE(same.status.ExitedWith(2)) << same.status.ToString();
  EXPECT_THAT(same.stderr_text, HasSubstr("separate keys"));
}

}  // namespace
}  // namespace refsum::tests
