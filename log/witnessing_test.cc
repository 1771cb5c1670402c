// The log's witness policy end to end: the gRPC service and the HTTP API
// wired to a WitnessPusher in process (as refsum-log wires them), and the
// refsum-log binary itself with --witnesses, against spec-following test
// witnesses that really cosign.

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "encoding/json.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "log/admission.h"
#include "log/http_server.h"
#include "log/metrics.h"
#include "log/sequencer.h"
#include "log/service.h"
#include "log/signed_checkpoint.h"
#include "log/test_witness.h"
#include "log/testing.h"
#include "log/witness_pusher.h"
#include "proto/log.grpc.pb.h"
#include "statement/claim.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/policy.h"
#include "tlog/proof.h"
#include "tlog/tlog_proof.h"

namespace refsum::log {
namespace {

using ::refsum::log::testing::kTimeout;
using ::refsum::log::testing::NewTempDir;
using ::refsum::log::testing::NewTestSigner;
using ::refsum::log::testing::SampleClaim;
using ::refsum::log::testing::SignClaim;
using ::refsum::log::testing::TestLog;
using ::refsum::log::testing::TestSigner;
using ::refsum::log::testing::TestWitness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr absl::string_view kOrigin = "log.refsum.example/witnessing-test";
constexpr absl::string_view kTwoOfThree =
    "group witnesses 2 w1 w2 w3\nquorum witnesses\n";

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

bool WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + kTimeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration duration) {
  return std::chrono::system_clock::now() +
         absl::ToChronoMicroseconds(duration);
}

// Checks `note` as a client would (C2SP tlog-policy: the log's key, the
// witnesses and the quorum).
absl::Status VerifyAsClient(absl::string_view note, absl::string_view log_vkey,
                            absl::string_view witnesses_and_quorum) {
  ASSIGN_OR_RETURN(tlog::TlogPolicy policy,
                   tlog::ParseTlogPolicy(absl::StrCat("log ", log_vkey, "\n",
                                                      witnesses_and_quorum)));
  return tlog::VerifyCheckpoint(policy, note).status();
}

// Checks that `proof` proves `leaf` at `index` against exactly
// `checkpoint`.
absl::Status VerifyProof(const tlog::TlogProof& proof, uint64_t index,
                         absl::string_view leaf, absl::string_view checkpoint) {
  if (proof.checkpoint != checkpoint) {
    return absl::InvalidArgumentError(
        "the proof is against another checkpoint");
  }
  if (proof.index != index) {
    return absl::InvalidArgumentError(absl::StrCat("index ", proof.index));
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint body,
                   tlog::ParseCheckpointNote(checkpoint));
  return tlog::VerifyInclusion(index, body.size, tlog::HashLeaf(leaf),
                               proof.inclusion_proof, body.root);
}

absl::Status VerifyTlogProof(absl::string_view text, uint64_t index,
                             absl::string_view leaf,
                             absl::string_view checkpoint) {
  ASSIGN_OR_RETURN(tlog::TlogProof proof, tlog::ParseTlogProof(text));
  return VerifyProof(proof, index, leaf, checkpoint);
}

// The service and HTTP API of a log with a witness policy, in process.
class WitnessingServiceTest : public ::testing::Test {
 protected:
  // Whether w2 and w3 answer 503 from the start, before the pusher sees the
  // log's first checkpoint.
  virtual bool TwoWitnessesDownAtStart() const { return false; }

  void SetUp() override {
    SequencerOptions options;
    options.on_checkpoint =
        [this](std::shared_ptr<const SignedCheckpoint> checkpoint) {
          absl::MutexLock lock(&relay_mu_);
          if (relay_ != nullptr) relay_->Offer(std::move(checkpoint));
        };
    ASSERT_OK_AND_ASSIGN(log_, TestLog::Create(kOrigin, std::move(options)));
    ASSERT_OK_AND_ASSIGN(
        vendor_, NewTestSigner(crypto::KeyType::kEd25519, kRoleVendor, "acme"));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_OK_AND_ASSIGN(
          std::unique_ptr<TestWitness> witness,
          TestWitness::Start(absl::StrCat("witness.example/w", i),
                             &log_->verifier()));
      absl::StrAppend(&witness_lines_,
                      witness->PolicyLine(absl::StrCat("w", i)));
      if (i > 1 && TwoWitnessesDownAtStart()) {
        witness->set_mode(TestWitness::Mode::kUnavailable);
      }
      witnesses_.push_back(std::move(witness));
    }
    absl::StatusOr<tlog::TlogPolicy> policy =
        tlog::ParseTlogPolicy(absl::StrCat(witness_lines_, kTwoOfThree));
    ASSERT_TRUE(policy.ok()) << policy.status();
    WitnessPusherOptions pusher_options;
    pusher_options.min_backoff = absl::Milliseconds(10);
    pusher_options.max_backoff = absl::Milliseconds(100);
    ASSERT_OK_AND_ASSIGN(
        pusher_, WitnessPusher::Start(*std::move(policy), &log_->storage(),
                                      &log_->verifier(), pusher_options));
    {
      absl::MutexLock lock(&relay_mu_);
      relay_ = pusher_.get();
    }
    pusher_->Offer(log_->sequencer().Latest());

    AdmissionOptions admission_options;
    admission_options.origin = std::string(kOrigin);
    admission_options.keys = {vendor_.key};
    ASSERT_OK_AND_ASSIGN(
        admission_,
        Admission::Create(std::move(admission_options), &log_->storage()));
    ServiceOptions service_options;
    service_options.witnesses = pusher_.get();
    service_ =
        std::make_unique<LogService>(&log_->storage(), &log_->sequencer(),
                                     admission_.get(), service_options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = refsum::v1::Log::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    ASSERT_OK_AND_ASSIGN(
        http_,
        HttpServer::Start(
            "127.0.0.1", 0, &log_->storage(),
            [raw = pusher_.get()] { return raw->Witnessed(); }, &metrics_));
  }

  void TearDown() override {
    // As refsum-log shuts down: witnessing first, so that no submission
    // waits for it.
    {
      absl::MutexLock lock(&relay_mu_);
      relay_ = nullptr;
    }
    if (pusher_ != nullptr) pusher_->Shutdown();
    if (server_ != nullptr) server_->Shutdown(DeadlineIn(kTimeout));
    if (http_ != nullptr) http_->Shutdown();
  }

  void SetModes(TestWitness::Mode w2, TestWitness::Mode w3) {
    witnesses_[1]->set_mode(w2);
    witnesses_[2]->set_mode(w3);
  }

  struct Submitted {
    grpc::Status status;
    refsum::v1::SubmitResponse response;
    std::string leaf;
  };

  Submitted SubmitClaim(absl::string_view seed, bool wait_for_witnesses,
                        absl::Duration deadline = kTimeout) {
    Submitted submitted;
    absl::StatusOr<crypto::DsseEnvelope> envelope =
        SignClaim(SampleClaim(seed), vendor_);
    EXPECT_TRUE(envelope.ok()) << envelope.status();
    submitted.leaf = crypto::EncodeDsseLeaf(*envelope);
    refsum::v1::SubmitRequest request;
    request.set_leaf(submitted.leaf);
    request.set_wait_for_witnesses(wait_for_witnesses);
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(deadline));
    submitted.status = stub_->Submit(&context, request, &submitted.response);
    return submitted;
  }

  refsum::v1::GetCheckpointResponse GetCheckpoint() {
    refsum::v1::GetCheckpointResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kTimeout));
    EXPECT_TRUE(stub_
                    ->GetCheckpoint(
                        &context, refsum::v1::GetCheckpointRequest(), &response)
                    .ok());
    return response;
  }

  absl::StatusOr<std::string> GetBundle(
      const refsum::v1::GetBundleRequest& request) {
    refsum::v1::GetBundleResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kTimeout));
    RETURN_IF_ERROR(FromGrpc(stub_->GetBundle(&context, request, &response)));
    return response.bundle_json();
  }

  absl::StatusOr<std::string> GetBundleOf(uint64_t claim_index) {
    refsum::v1::GetBundleRequest request;
    request.set_claim_index(claim_index);
    return GetBundle(request);
  }

  httplib::Result HttpGet(const std::string& path) {
    httplib::Client client("127.0.0.1", http_->port());
    return client.Get(path.c_str());
  }

  absl::Status VerifyCosigned(absl::string_view note) const {
    return VerifyAsClient(note, log_->vkey(),
                          absl::StrCat(witness_lines_, kTwoOfThree));
  }

  Metrics metrics_;
  absl::Mutex relay_mu_;
  WitnessPusher* relay_ ABSL_GUARDED_BY(relay_mu_) = nullptr;
  std::unique_ptr<TestLog> log_;
  TestSigner vendor_;
  std::vector<std::unique_ptr<TestWitness>> witnesses_;
  std::string witness_lines_;
  std::unique_ptr<WitnessPusher> pusher_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<LogService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<refsum::v1::Log::Stub> stub_;
  std::unique_ptr<HttpServer> http_;
};

TEST_F(WitnessingServiceTest, SubmitCanWaitForACosignedCheckpoint) {
  const Submitted submitted = SubmitClaim("a", /*wait_for_witnesses=*/true);
  ASSERT_TRUE(submitted.status.ok()) << submitted.status.error_message();
  EXPECT_OK(VerifyCosigned(submitted.response.checkpoint()));
  EXPECT_OK(VerifyTlogProof(submitted.response.tlog_proof(),
                            submitted.response.index(), submitted.leaf,
                            submitted.response.checkpoint()));
  // A duplicate waits the same way, for its existing index.
  const Submitted again = SubmitClaim("a", /*wait_for_witnesses=*/true);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_TRUE(again.response.duplicate());
  EXPECT_OK(VerifyCosigned(again.response.checkpoint()));
}

class WitnessingServiceTwoDownTest : public WitnessingServiceTest {
 protected:
  bool TwoWitnessesDownAtStart() const override { return true; }
};

TEST_F(WitnessingServiceTwoDownTest,
       DownWitnessesDelayWitnessingButNeverSubmissions) {
  // The empty tree does not meet the quorum either, so nothing is served.
  EXPECT_EQ(HttpGet("/checkpoint")->status, 503);
  EXPECT_EQ(GetBundleOf(0).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const Submitted plain = SubmitClaim("a", /*wait_for_witnesses=*/false);
  ASSERT_TRUE(plain.status.ok()) << plain.status.error_message();
  // Signed by the log only.
  EXPECT_THAT(plain.response.checkpoint(), Not(HasSubstr("witness.example")));
  EXPECT_OK(VerifyTlogProof(plain.response.tlog_proof(), 0, plain.leaf,
                            plain.response.checkpoint()));
  const refsum::v1::GetCheckpointResponse checkpoints = GetCheckpoint();
  EXPECT_EQ(tlog::ParseCheckpointNote(checkpoints.checkpoint())->size, 1u);
  EXPECT_THAT(checkpoints.witnessed_checkpoint(), IsEmpty());

  const Submitted waiting =
      SubmitClaim("b", /*wait_for_witnesses=*/true, absl::Milliseconds(500));
  EXPECT_EQ(waiting.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Logged all the same.
  EXPECT_EQ(log_->size(), 2u);

  witnesses_[1]->set_mode(TestWitness::Mode::kHonest);
  const Submitted witnessed = SubmitClaim("b", /*wait_for_witnesses=*/true);
  ASSERT_TRUE(witnessed.status.ok()) << witnessed.status.error_message();
  EXPECT_EQ(witnessed.response.index(), 1u);
  EXPECT_OK(VerifyCosigned(witnessed.response.checkpoint()));
}

TEST_F(WitnessingServiceTest, ReadsServeOnlyTheWitnessedTree) {
  const Submitted first = SubmitClaim("a", /*wait_for_witnesses=*/true);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  // The third cosignature of the first entry's checkpoint is added to it
  // when it arrives; let it, so that the served note stays put below.
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(pusher_->Witnessed()->note,
                             "witness.example/w1") &&
           absl::StrContains(pusher_->Witnessed()->note,
                             "witness.example/w2") &&
           absl::StrContains(pusher_->Witnessed()->note, "witness.example/w3");
  }));
  SetModes(TestWitness::Mode::kUnavailable, TestWitness::Mode::kUnavailable);
  const Submitted second = SubmitClaim("b", /*wait_for_witnesses=*/false);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  ASSERT_EQ(second.response.index(), 1u);

  // GetCheckpoint: the newest signed one and the witnessed one.
  const refsum::v1::GetCheckpointResponse checkpoints = GetCheckpoint();
  EXPECT_EQ(tlog::ParseCheckpointNote(checkpoints.checkpoint())->size, 2u);
  const std::string witnessed = checkpoints.witnessed_checkpoint();
  EXPECT_EQ(tlog::ParseCheckpointNote(witnessed)->size, 1u);
  EXPECT_OK(VerifyCosigned(witnessed));

  // A bundle of the witnessed claim is against the witnessed checkpoint.
  absl::StatusOr<std::string> json = GetBundleOf(0);
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<tlog::Bundle> bundle = tlog::DecodeBundle(*json);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  ASSERT_THAT(bundle->claims, SizeIs(1));
  EXPECT_EQ(bundle->claims[0].claim.proof.checkpoint, witnessed);
  EXPECT_OK(
      VerifyProof(bundle->claims[0].claim.proof, 0, first.leaf, witnessed));

  // The claim no witnessed checkpoint covers yet, by index or by digest.
  const absl::Status unwitnessed = GetBundleOf(1).status();
  EXPECT_EQ(unwitnessed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unwitnessed.message(), HasSubstr("witness policy"));
  refsum::v1::GetBundleRequest by_artifact;
  by_artifact.set_artifact_sha256(
      SampleClaim("b").subjects[0].digest.at("sha256"));
  EXPECT_EQ(GetBundle(by_artifact).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Beyond the log: not found, as without witnesses.
  EXPECT_EQ(GetBundleOf(2).status().code(), absl::StatusCode::kNotFound);

  // The HTTP API serves the same checkpoint, and tiles of its tree only.
  httplib::Result checkpoint = HttpGet("/checkpoint");
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->status, 200);
  EXPECT_EQ(checkpoint->body, witnessed);
  EXPECT_EQ(HttpGet("/tile/entries/000.p/1")->status, 200);
  EXPECT_EQ(HttpGet("/tile/entries/000.p/2")->status, 404);
  EXPECT_EQ(HttpGet("/tile/0/000.p/2")->status, 404);

  // Once witnessed, all of it is served.
  SetModes(TestWitness::Mode::kHonest, TestWitness::Mode::kHonest);
  ASSERT_TRUE(WaitFor([&] { return GetBundleOf(1).ok(); }));
  EXPECT_EQ(HttpGet("/tile/entries/000.p/2")->status, 200);
}

TEST_F(WitnessingServiceTwoDownTest,
       AWaitingSubmissionFailsUnavailableOnShutdown) {
  Submitted waiting;
  std::thread submitter(
      [&] { waiting = SubmitClaim("a", /*wait_for_witnesses=*/true); });
  ASSERT_TRUE(WaitFor([&] { return log_->size() == 1; }));
  pusher_->Shutdown();
  submitter.join();
  EXPECT_EQ(waiting.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << waiting.status.error_message();
}

// refsum-log serve --witnesses, as a child process.
class RefsumLogWitnessesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("refsum_log_witnesses"));
    ASSERT_OK_AND_ASSIGN(
        crypto::PrivateKey key,
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    ASSERT_OK(crypto::WritePrivateKeyFile(dir_ + "/log.key", key));
    ASSERT_OK_AND_ASSIGN(
        verifier_, crypto::NewEd25519NoteVerifier(kOrigin, key.public_key()));
    ASSERT_OK_AND_ASSIGN(vkey_, crypto::FormatVerifierKey(
                                    kOrigin, crypto::kNoteSignatureTypeEd25519,
                                    key.public_key()));
    ASSERT_OK_AND_ASSIGN(
        witness_,
        TestWitness::Start("witness.example/w1", verifier_.get(), "/witness"));
    ASSERT_OK_AND_ASSIGN(
        vendor_, NewTestSigner(crypto::KeyType::kEd25519, kRoleOpen, ""));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Starts refsum-log with `policy` as its --witnesses file and waits until
  // it is ready (or has exited).
  void StartLog(absl::string_view policy) {
    ASSERT_OK(testing::WriteTestFile(dir_ + "/witnesses.policy", policy));
    const std::string ready = dir_ + "/ready.json";
    unlink(ready.c_str());
    const std::vector<std::string> args = {
        "log/refsum-log",
        "serve",
        "--data_dir=" + dir_ + "/data",
        absl::StrCat("--origin=", kOrigin),
        "--key=" + dir_ + "/log.key",
        "--open",
        "--ready_file=" + ready,
        "--witnesses=" + dir_ + "/witnesses.policy",
        "--witness_max_backoff=1s",
    };
    const std::string log_path = dir_ + "/refsum-log.stderr";
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const int out =
          open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
      std::vector<char*> argv;
      for (const std::string& arg : args)
        argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    bool exited = false;
    ASSERT_TRUE(WaitFor([&] {
      exited = waitpid(pid_, &exit_status_, WNOHANG) == pid_;
      return exited || access(ready.c_str(), F_OK) == 0;
    }));
    if (exited) {
      pid_ = 0;
      return;
    }
    absl::StatusOr<std::string> json = ReadFile(ready);
    ASSERT_TRUE(json.ok()) << json.status();
    absl::StatusOr<encoding::JsonValue> parsed = encoding::ParseJson(*json);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    grpc_address_ = *parsed->Find("grpc")->AsString();
    http_address_ = *parsed->Find("http")->AsString();
    stub_ = refsum::v1::Log::NewStub(
        grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials()));
  }

  // SIGTERM, and the exit status.
  int StopLog() {
    // An idle channel would hold the server's drain for its poll interval.
    stub_.reset();
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }

  std::string Stderr() const {
    return ReadFile(dir_ + "/refsum-log.stderr").value_or("");
  }

  httplib::Result HttpGet(const std::string& path) const {
    httplib::Client client("http://" + http_address_);
    return client.Get(path.c_str());
  }

  std::string dir_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  std::string vkey_;
  std::unique_ptr<TestWitness> witness_;
  TestSigner vendor_;
  pid_t pid_ = 0;
  int exit_status_ = 0;
  std::string grpc_address_;
  std::string http_address_;
  std::unique_ptr<refsum::v1::Log::Stub> stub_;
};

TEST_F(RefsumLogWitnessesTest, ServesAndKeepsTheWitnessedCheckpoint) {
  const std::string policy = absl::StrCat(
      "# the log's witnesses\n", witness_->PolicyLine("w1"), "quorum w1\n");
  StartLog(policy);
  ASSERT_GT(pid_, 0) << Stderr();

  absl::StatusOr<crypto::DsseEnvelope> envelope =
      SignClaim(SampleClaim("binary"), vendor_);
  ASSERT_TRUE(envelope.ok()) << envelope.status();
  refsum::v1::SubmitRequest request;
  request.set_envelope_json(crypto::EncodeDsseJson(*envelope));
  request.set_public_key_pem(vendor_.key.public_key_pem);
  request.set_wait_for_witnesses(true);
  refsum::v1::SubmitResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kTimeout));
    const grpc::Status status = stub_->Submit(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << Stderr();
  }
  EXPECT_OK(VerifyAsClient(response.checkpoint(), vkey_, policy));
  EXPECT_OK(VerifyTlogProof(response.tlog_proof(), 0,
                            crypto::EncodeDsseLeaf(*envelope),
                            response.checkpoint()));
  httplib::Result served = HttpGet("/checkpoint");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->body, response.checkpoint());
  ASSERT_EQ(WEXITSTATUS(StopLog()), 0) << Stderr();

  // Restarted with its witness down, it serves the stored witnessed
  // checkpoint at once.
  witness_->set_mode(TestWitness::Mode::kUnavailable);
  StartLog(policy);
  ASSERT_GT(pid_, 0) << Stderr();
  served = HttpGet("/checkpoint");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->body, response.checkpoint());
  refsum::v1::GetCheckpointResponse checkpoints;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kTimeout));
    ASSERT_TRUE(stub_
                    ->GetCheckpoint(&context,
                                    refsum::v1::GetCheckpointRequest(),
                                    &checkpoints)
                    .ok());
  }
  EXPECT_EQ(checkpoints.witnessed_checkpoint(), response.checkpoint());
  EXPECT_EQ(WEXITSTATUS(StopLog()), 0) << Stderr();
}

TEST_F(RefsumLogWitnessesTest, AWitnessWithoutAUrlIsAConfigError) {
  const std::string line = witness_->PolicyLine("w1");
  StartLog(
      absl::StrCat("\n", line.substr(0, line.rfind(' ')), "\nquorum w1\n"));
  ASSERT_EQ(pid_, 0) << "refsum-log started";
  ASSERT_TRUE(WIFEXITED(exit_status_));
  EXPECT_EQ(WEXITSTATUS(exit_status_), 2);
  EXPECT_THAT(Stderr(), HasSubstr("line 2: witness w1 has no URL"));
}

}  // namespace
}  // namespace refsum::log
