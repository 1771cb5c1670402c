#include "log/witness_pusher.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/metrics.h"
#include "log/sequencer.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"
#include "log/test_witness.h"
#include "log/testing.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/policy.h"

namespace refsum::log {
namespace {

using ::refsum::log::testing::kTimeout;
using ::refsum::log::testing::TestLog;
using ::refsum::log::testing::TestWitness;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr absl::string_view kOrigin = "log.refsum.example/witness-pusher-test";

// Short waits, so that retries after failures show within a test.
WitnessPusherOptions FastOptions() {
  WitnessPusherOptions options;
  options.connect_timeout = absl::Seconds(10);
  options.io_timeout = absl::Seconds(10);
  options.min_backoff = absl::Milliseconds(10);
  options.max_backoff = absl::Milliseconds(100);
  return options;
}

// Polls `done` until it holds or kTimeout passes.
bool WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + kTimeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::vector<std::string> SignatureNames(absl::string_view note) {
  std::vector<std::string> names;
  absl::StatusOr<crypto::Note> parsed = crypto::ParseNote(note);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return names;
  for (const crypto::NoteSignature& signature : parsed->signatures) {
    names.push_back(signature.name);
  }
  return names;
}

// A real log whose sequencer hands every new checkpoint to the pusher under
// test, as refsum-log wires them, and spec-following witnesses.
class WitnessPusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SequencerOptions options;
    options.on_checkpoint =
        [this](std::shared_ptr<const SignedCheckpoint> checkpoint) {
          absl::MutexLock lock(&relay_mu_);
          if (relay_ != nullptr) relay_->Offer(std::move(checkpoint));
        };
    ASSERT_OK_AND_ASSIGN(log_, TestLog::Create(kOrigin, std::move(options)));
  }

  void TearDown() override { StopPusher(); }

  TestWitness& AddWitness(absl::string_view name,
                          absl::string_view prefix = "") {
    absl::StatusOr<std::unique_ptr<TestWitness>> witness = TestWitness::Start(
        absl::StrCat("witness.example/", name), &log_->verifier(), prefix);
    EXPECT_TRUE(witness.ok()) << witness.status();
    witnesses_.push_back(*std::move(witness));
    return *witnesses_.back();
  }

  // The policy lines of every witness added so far, named w1, w2, ...
  std::string WitnessLines() const {
    std::string lines;
    for (size_t i = 0; i < witnesses_.size(); ++i) {
      absl::StrAppend(&lines,
                      witnesses_[i]->PolicyLine(absl::StrCat("w", i + 1)));
    }
    return lines;
  }

  // The witness lines followed by `quorum` (group and quorum lines).
  tlog::TlogPolicy Policy(absl::string_view quorum) const {
    absl::StatusOr<tlog::TlogPolicy> policy =
        tlog::ParseTlogPolicy(absl::StrCat(WitnessLines(), quorum));
    EXPECT_TRUE(policy.ok()) << policy.status();
    return *std::move(policy);
  }

  // Starts the pusher and hands it the newest checkpoint, as refsum-log
  // does after starting the sequencer.
  void StartPusher(absl::string_view quorum,
                   WitnessPusherOptions options = FastOptions()) {
    options.metrics = &metrics_;
    absl::StatusOr<std::unique_ptr<WitnessPusher>> pusher =
        WitnessPusher::Start(Policy(quorum), &log_->storage(),
                             &log_->verifier(), options);
    ASSERT_TRUE(pusher.ok()) << pusher.status();
    pusher_ = *std::move(pusher);
    {
      absl::MutexLock lock(&relay_mu_);
      relay_ = pusher_.get();
    }
    pusher_->Offer(log_->sequencer().Latest());
  }

  void StopPusher() {
    {
      absl::MutexLock lock(&relay_mu_);
      relay_ = nullptr;
    }
    if (pusher_ != nullptr) pusher_->Shutdown();
    pusher_.reset();
  }

  void Append(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string leaf = absl::StrCat("entry ", next_leaf_++);
      PendingEntry entry;
      entry.leaf = leaf;
      entry.leaf_hash = tlog::HashLeaf(leaf);
      absl::StatusOr<Integrated> integrated = log_->Append(std::move(entry));
      ASSERT_TRUE(integrated.ok()) << integrated.status();
    }
  }

  // Waits until the pusher has a witnessed checkpoint of at least `size`
  // entries; null if it does not within kTimeout.
  std::shared_ptr<const SignedCheckpoint> AwaitWitnessed(uint64_t size) {
    std::shared_ptr<const SignedCheckpoint> witnessed;
    WaitFor([&] {
      witnessed = pusher_->Witnessed();
      return witnessed != nullptr && witnessed->checkpoint.size >= size;
    });
    EXPECT_NE(witnessed, nullptr) << "nothing witnessed within " << kTimeout;
    if (witnessed != nullptr) {
      EXPECT_GE(witnessed->checkpoint.size, size);
    }
    return witnessed;
  }

  // Verifies `note` as a client would: C2SP tlog-policy with the log's key,
  // the witnesses and `quorum`.
  absl::StatusOr<tlog::VerifiedCheckpoint> VerifyAsClient(
      absl::string_view note, absl::string_view quorum) const {
    ASSIGN_OR_RETURN(tlog::TlogPolicy policy,
                     tlog::ParseTlogPolicy(absl::StrCat(
                         "log ", log_->vkey(), "\n", WitnessLines(), quorum)));
    return tlog::VerifyCheckpoint(policy, note);
  }

  std::optional<std::string> StoredWitnessed() const {
    absl::StatusOr<std::optional<std::string>> stored =
        log_->storage().ReadWitnessedCheckpoint();
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : std::nullopt;
  }

  // Outlives the pusher, which records into it.
  Metrics metrics_;
  absl::Mutex relay_mu_;
  WitnessPusher* relay_ ABSL_GUARDED_BY(relay_mu_) = nullptr;
  std::unique_ptr<TestLog> log_;
  std::vector<std::unique_ptr<TestWitness>> witnesses_;
  std::unique_ptr<WitnessPusher> pusher_;
  int next_leaf_ = 0;
};

constexpr absl::string_view kTwoOfThree =
    "group all-witnesses 2 w1 w2 w3\nquorum all-witnesses\n";

TEST_F(WitnessPusherTest, PublishesACheckpointCosignedByAQuorum) {
  TestWitness& w1 = AddWitness("w1");
  TestWitness& w2 = AddWitness("w2", "/witness/");
  TestWitness& w3 = AddWitness("w3", "/deep/prefix");
  Append(3);
  StartPusher(kTwoOfThree);

  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(3);
  ASSERT_NE(witnessed, nullptr);
  EXPECT_EQ(witnessed->checkpoint, log_->sequencer().Latest()->checkpoint);
  absl::StatusOr<tlog::VerifiedCheckpoint> verified =
      VerifyAsClient(witnessed->note, kTwoOfThree);
  ASSERT_TRUE(verified.ok()) << verified.status() << "\n" << witnessed->note;
  EXPECT_GE(verified->cosignatures.size(), 2u);
  // Stored before it was served: storage holds it, or already the next
  // version of it.
  const std::optional<std::string> stored = StoredWitnessed();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(tlog::ParseCheckpointNote(*stored)->size, 3u);
  EXPECT_GE(SignatureNames(*stored).size(),
            SignatureNames(witnessed->note).size());

  // The third cosignature of the same checkpoint arrives too, and is added.
  ASSERT_TRUE(WaitFor([&] {
    absl::StatusOr<tlog::VerifiedCheckpoint> all =
        VerifyAsClient(pusher_->Witnessed()->note, kTwoOfThree);
    return all.ok() && all->cosignatures.size() == 3;
  }));
  EXPECT_THAT(SignatureNames(pusher_->Witnessed()->note),
              ElementsAre(kOrigin, "witness.example/w1", "witness.example/w2",
                          "witness.example/w3"));
  EXPECT_EQ(StoredWitnessed(), pusher_->Witnessed()->note);

  // Fresh witnesses: "old 0" and no proof, cosigned at once.
  for (TestWitness* witness : {&w1, &w2, &w3}) {
    ASSERT_THAT(witness->requests(), SizeIs(1));
    EXPECT_EQ(witness->requests()[0].old_size, 0u);
    EXPECT_EQ(witness->requests()[0].size, 3u);
    EXPECT_EQ(witness->requests()[0].proof_hashes, 0u);
    EXPECT_EQ(witness->requests()[0].status, 200);
  }
}

TEST_F(WitnessPusherTest, LearnsTheWitnessSizeFromA409) {
  TestWitness& witness = AddWitness("w1");
  Append(2);
  // The witness cosigned size 2 before, e.g. before the log restarted.
  witness.SetState(2, log_->sequencer().Latest()->checkpoint.root);
  Append(3);
  StartPusher("quorum w1\n");

  ASSERT_NE(AwaitWitnessed(5), nullptr);
  const std::vector<TestWitness::Request> requests = witness.requests();
  ASSERT_THAT(requests, SizeIs(2));
  EXPECT_EQ(requests[0].old_size, 0u);
  EXPECT_EQ(requests[0].status, 409);
  EXPECT_EQ(requests[1].old_size, 2u);
  EXPECT_EQ(requests[1].size, 5u);
  EXPECT_GT(requests[1].proof_hashes, 0u);
  EXPECT_EQ(requests[1].status, 200);
}

TEST_F(WitnessPusherTest, FollowsAGrowingLogWithConsistencyProofs) {
  TestWitness& witness = AddWitness("w1");
  StartPusher("quorum w1\n");
  ASSERT_NE(AwaitWitnessed(0), nullptr);
  for (int round = 1; round <= 6; ++round) {
    Append(round);
    const uint64_t size = log_->size();
    const std::shared_ptr<const SignedCheckpoint> witnessed =
        AwaitWitnessed(size);
    ASSERT_NE(witnessed, nullptr);
    EXPECT_TRUE(VerifyAsClient(witnessed->note, "quorum w1\n").ok());
  }
  // Each request started from the size cosigned before: no 409, and the
  // witness checked every proof (a 422 would show).
  for (const TestWitness::Request& request : witness.requests()) {
    EXPECT_EQ(request.status, 200) << "old " << request.old_size;
  }
  EXPECT_EQ(witness.stored_size(), std::optional<uint64_t>(log_->size()));
}

TEST_F(WitnessPusherTest, OneWitnessDownStillMeetsATwoOfThreeQuorum) {
  AddWitness("w1");
  AddWitness("w2");
  TestWitness& down = AddWitness("w3");
  down.Stop();
  Append(4);
  StartPusher(kTwoOfThree);

  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(4);
  ASSERT_NE(witnessed, nullptr);
  absl::StatusOr<tlog::VerifiedCheckpoint> verified =
      VerifyAsClient(witnessed->note, kTwoOfThree);
  ASSERT_TRUE(verified.ok()) << verified.status();
  std::vector<std::string> cosigners;
  for (const tlog::WitnessCosignature& cosignature : verified->cosignatures) {
    cosigners.push_back(cosignature.witness);
  }
  EXPECT_THAT(cosigners, ElementsAre("w1", "w2"));
}

TEST_F(WitnessPusherTest, TwoWitnessesDownDelayWitnessingButNotTheLog) {
  TestWitness& up = AddWitness("w1");
  TestWitness& unavailable = AddWitness("w2");
  TestWitness& unreachable = AddWitness("w3");
  unavailable.set_mode(TestWitness::Mode::kUnavailable);
  unreachable.Stop();
  Append(2);
  StartPusher(kTwoOfThree);

  ASSERT_TRUE(WaitFor([&] { return up.stored_size() == 2u; }));
  // Retried with backoff, never cosigned.
  ASSERT_TRUE(WaitFor([&] { return unavailable.requests().size() >= 3; }));
  EXPECT_EQ(pusher_->Witnessed(), nullptr);
  EXPECT_EQ(StoredWitnessed(), std::nullopt);

  // The log takes entries as ever; the sequencer never waits for witnesses.
  const absl::Time start = absl::Now();
  Append(20);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(log_->size(), 22u);
  EXPECT_EQ(pusher_->Witnessed(), nullptr);

  // Once a second witness answers, the newest checkpoint is witnessed.
  unavailable.set_mode(TestWitness::Mode::kHonest);
  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(22);
  ASSERT_NE(witnessed, nullptr);
  EXPECT_TRUE(VerifyAsClient(witnessed->note, kTwoOfThree).ok());
}

TEST_F(WitnessPusherTest, GarbageAndBadCosignaturesDoNotCount) {
  AddWitness("w1");
  TestWitness& garbage = AddWitness("w2");
  TestWitness& forger = AddWitness("w3");
  garbage.set_mode(TestWitness::Mode::kGarbage);
  forger.set_mode(TestWitness::Mode::kBadCosignature);
  Append(3);
  StartPusher(kTwoOfThree);

  ASSERT_TRUE(WaitFor([&] {
    return garbage.requests().size() >= 3 && forger.requests().size() >= 3;
  }));
  EXPECT_EQ(pusher_->Witnessed(), nullptr);
  const std::string rendered = metrics_.Render();
  EXPECT_THAT(rendered, HasSubstr("refsum_log_witness_pushes_total{witness="
                                  "\"w2\",outcome=\"invalid_response\"}"));
  EXPECT_THAT(rendered, HasSubstr("refsum_log_witness_pushes_total{witness="
                                  "\"w3\",outcome=\"invalid_response\"}"));
  EXPECT_THAT(rendered, HasSubstr("refsum_log_witness_pushes_total{witness="
                                  "\"w1\",outcome=\"cosigned\"} 1"));
  // Each retry after the first 200 learns the stored size from a 409.
  EXPECT_THAT(rendered, HasSubstr("refsum_log_witness_pushes_total{witness="
                                  "\"w2\",outcome=\"conflict\"}"));

  garbage.set_mode(TestWitness::Mode::kHonest);
  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(3);
  ASSERT_NE(witnessed, nullptr);
  // A client checking all three keys accepts it: the forged line is not in
  // it (a bad signature by a known key would reject the whole note).
  absl::StatusOr<tlog::VerifiedCheckpoint> verified =
      VerifyAsClient(witnessed->note, kTwoOfThree);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_THAT(SignatureNames(witnessed->note),
              ElementsAre(kOrigin, "witness.example/w1", "witness.example/w2"));
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("\nrefsum_log_witnessed_tree_size 3\n"));
}

TEST_F(WitnessPusherTest, CosignaturesByUnknownKeysAreIgnored) {
  TestWitness& witness = AddWitness("w1");
  witness.set_mode(TestWitness::Mode::kExtraUnknownKey);
  Append(1);
  StartPusher("quorum w1\n");
  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(1);
  ASSERT_NE(witnessed, nullptr);
  EXPECT_THAT(SignatureNames(witnessed->note),
              ElementsAre(kOrigin, "witness.example/w1"));
}

TEST_F(WitnessPusherTest, AWitnessHoldingAnotherTreeOfTheSameSizeIsRefused) {
  TestWitness& witness = AddWitness("w1");
  Append(3);
  // A split view: the witness holds a different tree of size 3.
  witness.SetState(3, tlog::HashLeaf("another tree"));
  StartPusher("quorum w1\n");
  ASSERT_TRUE(WaitFor([&] { return witness.requests().size() >= 4; }));
  EXPECT_EQ(pusher_->Witnessed(), nullptr);
  for (const TestWitness::Request& request : witness.requests()) {
    EXPECT_EQ(request.status, 409);
  }
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("refsum_log_witness_pushes_total{witness=\"w1\","
                        "outcome=\"rejected\"}"));
}

TEST_F(WitnessPusherTest, AForkAnswerWithoutASizeIsRetriedWithBackoff) {
  TestWitness& witness = AddWitness("w1");
  Append(3);
  witness.SetState(3, tlog::HashLeaf("another tree"));
  StartPusher("quorum w1\n");
  ASSERT_TRUE(WaitFor([&] { return witness.requests().size() >= 2; }));
  absl::SleepFor(absl::Seconds(1));
  const std::vector<TestWitness::Request> requests = witness.requests();
  // Backoff from 10 ms doubling up to 100 ms allows about a dozen requests
  // in that second; retrying at once would make thousands.
  EXPECT_LE(requests.size(), 30u);
  // The first request learns the size; every later one is refused as a
  // fork, with a 409 that names no size, as the real witness answers it.
  EXPECT_EQ(requests[0].old_size, 0u);
  EXPECT_EQ(requests[0].content_type, "text/x.tlog.size");
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].old_size, 3u) << i;
    EXPECT_EQ(requests[i].status, 409) << i;
    EXPECT_EQ(requests[i].content_type, "text/plain") << i;
  }
  EXPECT_EQ(pusher_->Witnessed(), nullptr);
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("refsum_log_witness_pushes_total{witness=\"w1\","
                        "outcome=\"rejected\"}"));

  // The pusher keeps retrying: once the witness holds the log's tree, the
  // next attempt is cosigned.
  witness.SetState(3, log_->sequencer().Latest()->checkpoint.root);
  AwaitWitnessed(3);
}

TEST_F(WitnessPusherTest, RestartServesTheStoredWitnessedCheckpointAtOnce) {
  AddWitness("w1");
  TestWitness& w2 = AddWitness("w2");
  AddWitness("w3");
  Append(5);
  StartPusher(kTwoOfThree);
  ASSERT_NE(AwaitWitnessed(5), nullptr);
  ASSERT_TRUE(WaitFor(
      [&] { return SignatureNames(pusher_->Witnessed()->note).size() == 4; }));
  const std::string note = pusher_->Witnessed()->note;
  StopPusher();

  // All witnesses unreachable now: the stored checkpoint is served anyway,
  // before the pusher hears from any of them.
  for (const std::unique_ptr<TestWitness>& witness : witnesses_) {
    witness->set_mode(TestWitness::Mode::kUnavailable);
  }
  {
    absl::StatusOr<std::unique_ptr<WitnessPusher>> restarted =
        WitnessPusher::Start(Policy(kTwoOfThree), &log_->storage(),
                             &log_->verifier(), FastOptions());
    ASSERT_TRUE(restarted.ok()) << restarted.status();
    ASSERT_NE((*restarted)->Witnessed(), nullptr);
    EXPECT_EQ((*restarted)->Witnessed()->note, note);
    EXPECT_EQ((*restarted)->Witnessed()->checkpoint.size, 5u);
  }

  // A restarted pusher learns each witness's size again (409) and goes on.
  for (const std::unique_ptr<TestWitness>& witness : witnesses_) {
    witness->set_mode(TestWitness::Mode::kHonest);
  }
  StartPusher(kTwoOfThree);
  EXPECT_EQ(pusher_->Witnessed()->note, note);
  Append(2);
  ASSERT_NE(AwaitWitnessed(7), nullptr);
  bool learned = false;
  for (const TestWitness::Request& request : w2.requests()) {
    learned = learned || (request.old_size == 0 && request.status == 409);
  }
  EXPECT_TRUE(learned);
}

TEST_F(WitnessPusherTest, RestartDropsAStoredCheckpointTheNewPolicyRejects) {
  AddWitness("w1");
  Append(2);
  StartPusher("quorum w1\n");
  ASSERT_NE(AwaitWitnessed(2), nullptr);
  StopPusher();

  // The operator replaced the witness: its old cosignature counts for
  // nothing, and nothing is witnessed until the new one cosigns.
  witnesses_.clear();
  TestWitness& replacement = AddWitness("w1-new");
  replacement.set_mode(TestWitness::Mode::kUnavailable);
  StartPusher("quorum w1\n");
  EXPECT_EQ(pusher_->Witnessed(), nullptr);
  replacement.set_mode(TestWitness::Mode::kHonest);
  const std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(2);
  ASSERT_NE(witnessed, nullptr);
  EXPECT_TRUE(VerifyAsClient(witnessed->note, "quorum w1\n").ok());
}

TEST_F(WitnessPusherTest, StartRefusesAStoredCheckpointOfAnotherLog) {
  AddWitness("w1");
  ASSERT_OK(log_->storage().WriteWitnessedCheckpoint(
      log_->sequencer().Latest()->note));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestLog> other,
                       TestLog::Create("other.example/log"));
  absl::StatusOr<std::unique_ptr<WitnessPusher>> pusher =
      WitnessPusher::Start(Policy("quorum w1\n"), &log_->storage(),
                           &other->verifier(), FastOptions());
  EXPECT_EQ(pusher.status().code(), absl::StatusCode::kFailedPrecondition)
      << pusher.status();
}

TEST_F(WitnessPusherTest, WhenWitnessedCallsBackOnceASizeIsWitnessed) {
  TestWitness& witness = AddWitness("w1");
  witness.set_mode(TestWitness::Mode::kUnavailable);
  Append(2);
  StartPusher("quorum w1\n");

  struct Result {
    absl::Notification done;
    absl::StatusOr<std::shared_ptr<const SignedCheckpoint>> checkpoint =
        absl::UnknownError("not called");
  };
  const auto wait = [this](uint64_t size) {
    auto result = std::make_shared<Result>();
    pusher_->WhenWitnessed(
        size, [result](absl::StatusOr<std::shared_ptr<const SignedCheckpoint>>
                           checkpoint) {
          result->checkpoint = std::move(checkpoint);
          result->done.Notify();
        });
    return result;
  };
  std::shared_ptr<Result> two = wait(2);
  std::shared_ptr<Result> hundred = wait(100);
  ASSERT_TRUE(WaitFor([&] { return witness.requests().size() >= 2; }));
  EXPECT_FALSE(two->done.HasBeenNotified());

  witness.set_mode(TestWitness::Mode::kHonest);
  ASSERT_TRUE(two->done.WaitForNotificationWithTimeout(kTimeout));
  ASSERT_TRUE(two->checkpoint.ok()) << two->checkpoint.status();
  EXPECT_EQ((*two->checkpoint)->checkpoint.size, 2u);
  EXPECT_EQ(SignatureNames((*two->checkpoint)->note),
            SignatureNames(pusher_->Witnessed()->note));

  // Already witnessed: answered on the spot.
  std::shared_ptr<Result> one = wait(1);
  EXPECT_TRUE(one->done.HasBeenNotified());
  EXPECT_TRUE(one->checkpoint.ok());

  EXPECT_FALSE(hundred->done.HasBeenNotified());
  pusher_->Shutdown();
  ASSERT_TRUE(hundred->done.HasBeenNotified());
  EXPECT_EQ(hundred->checkpoint.status().code(),
            absl::StatusCode::kUnavailable);
  std::shared_ptr<Result> late = wait(50);
  ASSERT_TRUE(late->done.HasBeenNotified());
  EXPECT_EQ(late->checkpoint.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(WitnessPusherTest, QuorumNoneWitnessesEveryCheckpointAtOnce) {
  Append(2);
  StartPusher("quorum none\n");
  std::shared_ptr<const SignedCheckpoint> witnessed = AwaitWitnessed(2);
  ASSERT_NE(witnessed, nullptr);
  EXPECT_EQ(witnessed->note, log_->sequencer().Latest()->note);
  Append(1);
  ASSERT_NE(AwaitWitnessed(3), nullptr);
}

TEST_F(WitnessPusherTest, ShutdownCutsARequestToAHungWitnessShort) {
  // A witness that accepts connections (the kernel does, from the listen
  // backlog) and never answers.
  const int hung = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(hung, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(hung, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(listen(hung, 4), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(hung, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  TestWitness& witness = AddWitness("w1");
  const std::string policy = absl::StrCat(
      "witness w1 ", witness.vkey(),
      " http://127.0.0.1:", ntohs(address.sin_port), "\nquorum w1\n");

  WitnessPusherOptions options = FastOptions();
  options.io_timeout = absl::Minutes(10);
  absl::StatusOr<tlog::TlogPolicy> parsed = tlog::ParseTlogPolicy(policy);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<std::unique_ptr<WitnessPusher>> pusher = WitnessPusher::Start(
      *std::move(parsed), &log_->storage(), &log_->verifier(), options);
  ASSERT_TRUE(pusher.ok()) << pusher.status();
  (*pusher)->Offer(log_->sequencer().Latest());
  absl::SleepFor(absl::Milliseconds(200));

  const absl::Time start = absl::Now();
  (*pusher)->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  close(hung);
}

TEST_F(WitnessPusherTest, StartRefusesWitnessesWithoutAUsableUrl) {
  TestWitness& witness = AddWitness("w1");
  const auto start = [&](absl::string_view url) {
    absl::StatusOr<tlog::TlogPolicy> policy = tlog::ParseTlogPolicy(
        absl::StrCat("# comment\nwitness w1 ", witness.vkey(),
                     url.empty() ? "" : " ", url, "\nquorum w1\n"));
    EXPECT_TRUE(policy.ok()) << policy.status();
    return WitnessPusher::Start(*std::move(policy), &log_->storage(),
                                &log_->verifier(), FastOptions())
        .status();
  };
  const absl::Status no_url = start("");
  EXPECT_EQ(no_url.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_url.message(), HasSubstr("line 2: witness w1 has no URL"));
  for (absl::string_view url :
       {"ftp://witness.example/", "witness.example/w1", "http://",
        "http://witness.example/add?x=1", "http://user@witness.example/"}) {
    EXPECT_EQ(start(url).code(), absl::StatusCode::kInvalidArgument) << url;
  }
  EXPECT_OK(start("https://witness.example:8443/w1/"));
}

}  // namespace
}  // namespace refsum::log
