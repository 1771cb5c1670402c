// End-to-end tests of refsum-log under faults of its disk: the real binary
// (//log:refsum-log) on loopback, with its data directory on a real tmpfs
// that fills up (the test mounts it: tests here run as root), and on a
// data directory whose RocksDB files are damaged on disk. Everything the log
// returns is checked with real signatures and RFC 9162 proofs.
//
// Crashes (SIGKILL at random moments under load) are tested by
// log_e2e_test's SigkillLosesNoAcknowledgedSubmission.

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/log_client.h"
#include "client/testing.h"
#include "crypto/dsse.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::tests {
namespace {

using ::refsum::client::testing::ClaimLeaf;
using ::refsum::client::testing::ListDir;
using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::NewTestSigner;
using ::refsum::client::testing::SampleClaim;
using ::refsum::client::testing::TestSigner;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "faults.example.org/log";
// An upper bound on anything waited for; never an expectation of speed.
constexpr absl::Duration kTimeout = absl::Seconds(300);
// Submitting threads.
constexpr int kThreads = 4;

// Opens a checkpoint note with the log's key and parses its body.
absl::StatusOr<tlog::Checkpoint> OpenCheckpoint(
    absl::string_view note, const crypto::NoteVerifier& verifier) {
  const crypto::NoteVerifier* const verifiers[] = {&verifier};
  ASSIGN_OR_RETURN(crypto::VerifiedNote opened,
                   crypto::OpenNote(note, verifiers));
  return tlog::ParseCheckpointBody(opened.text);
}

// A tmpfs of the given size mounted at `path` (created) until destroyed.
class Tmpfs {
 public:
  static absl::StatusOr<std::unique_ptr<Tmpfs>> Mount(const std::string& path,
                                                      absl::string_view size) {
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("creating ", path));
    }
    const std::string options = absl::StrCat("size=", size, ",mode=0700");
    if (mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mount -t tmpfs -o ", options, " tmpfs ", path, " failed: ",
          std::strerror(errno),
          ". This test fills a real file system and needs root "
          "(CAP_SYS_ADMIN) to mount one; the test suite runs as root"));
    }
    return std::unique_ptr<Tmpfs>(new Tmpfs(path));
  }

  ~Tmpfs() { umount2(path_.c_str(), MNT_DETACH); }

  // Changes the size limit (mount -o remount,size=...).
  absl::Status Resize(absl::string_view size) {
    const std::string options = absl::StrCat("size=", size);
    if (mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) !=
        0) {
      return ErrnoStatus(errno, absl::StrCat("remounting ", path_, " with ",
                                             options));
    }
    return absl::OkStatus();
  }

 private:
  explicit Tmpfs(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

// What clients saw of a log: acknowledged entries and every checkpoint any
// answer carried.
struct Observed {
  struct Ack {
    uint64_t index;
    std::string leaf;
  };
  struct Refusal {
    absl::Status status;
    std::string leaf;
  };
  std::vector<Ack> acks;
  std::vector<Refusal> refusals;
  // Checkpoint notes from Submit, GetCheckpoint and GET /checkpoint.
  std::vector<std::string> checkpoints;
  // Checks of the log's answers that failed.
  std::vector<std::string> failures;
};

class LogFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("faults"));
    ASSERT_OK_AND_ASSIGN(options_.key, GenerateLogKey(kOrigin, dir_ + "/key"));
    options_.data_dir = dir_ + "/data";
    options_.output_dir = dir_;
    options_.timeout = kTimeout;
    // Open mode: the vendor's key comes with each submission.
    options_.keys_path = "";
    ASSERT_OK_AND_ASSIGN(TestSigner vendor,
                         NewTestSigner("vendor", crypto::KeyType::kEd25519));
    vendor_ = std::make_unique<TestSigner>(std::move(vendor));
  }

  const crypto::NoteVerifier& verifier() const {
    return *options_.key.verifier;
  }

  // Submits the claim with `seed`; records the answer in `observed`.
  // Returns the status of the call.
  absl::Status SubmitClaim(LogServer& log, absl::string_view seed,
                           Observed& observed, absl::Mutex& mu) {
    absl::StatusOr<std::string> leaf = ClaimLeaf(SampleClaim(seed), *vendor_);
    if (!leaf.ok()) return leaf.status();
    ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope,
                     crypto::DecodeDsseLeaf(*leaf));
    const absl::StatusOr<refsum::v1::SubmitResponse> response =
        log.client().Submit(crypto::EncodeDsseJson(envelope),
                            vendor_->public_key().ToPem());
    absl::MutexLock lock(&mu);
    if (!response.ok()) {
      observed.refusals.push_back({response.status(), *leaf});
      return response.status();
    }
    observed.acks.push_back({response->index(), *leaf});
    observed.checkpoints.push_back(response->checkpoint());
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        OpenCheckpoint(response->checkpoint(), verifier());
    if (!checkpoint.ok()) {
      observed.failures.push_back(checkpoint.status().ToString());
    } else if (response->index() >= checkpoint->size) {
      observed.failures.push_back(absl::StrCat(
          "index ", response->index(), " beyond its checkpoint"));
    }
    return absl::OkStatus();
  }

  // Reads the checkpoint over gRPC and HTTP into `observed`.
  void PollCheckpoints(LogServer& log, Observed& observed, absl::Mutex& mu) {
    absl::StatusOr<std::string> grpc_note = log.client().GetCheckpoint();
    httplib::Client http(log.http_host(), log.http_port());
    http.set_connection_timeout(60);
    http.set_read_timeout(60);
    httplib::Result got = http.Get("/checkpoint");
    absl::MutexLock lock(&mu);
    if (grpc_note.ok()) {
      observed.checkpoints.push_back(*grpc_note);
    } else {
      observed.failures.push_back(
          absl::StrCat("GetCheckpoint: ", grpc_note.status().ToString()));
    }
    if (got && got->status == 200) {
      observed.checkpoints.push_back(got->body);
    } else {
      observed.failures.push_back("GET /checkpoint failed");
    }
  }

  // Checks the running log against everything observed: its tree (root
  // recomputed from all entries) has exactly the acknowledged entries at
  // their indices and none of `absent`; every observed checkpoint is signed,
  // no two of one size differ, and each is consistent with the current one
  // by the log's consistency proof. Returns the current checkpoint.
  absl::StatusOr<tlog::Checkpoint> CheckLog(
      LogServer& log, const Observed& observed,
      const absl::flat_hash_set<std::string>& absent) {
    ASSIGN_OR_RETURN(const std::string note, log.client().GetCheckpoint());
    ASSIGN_OR_RETURN(const tlog::Checkpoint current,
                     OpenCheckpoint(note, verifier()));
    if (current.size != observed.acks.size()) {
      return absl::DataLossError(
          absl::StrCat("the tree has ", current.size, " entries, but ",
                       observed.acks.size(), " were acknowledged"));
    }
    std::vector<std::string> leaves;
    if (current.size > 0) {
      ASSIGN_OR_RETURN(leaves, log.client().GetEntries(0, current.size));
    }
    std::vector<tlog::Hash> hashes;
    for (const std::string& leaf : leaves) {
      if (absent.contains(leaf)) {
        return absl::DataLossError("a refused submission is in the log");
      }
      hashes.push_back(tlog::HashLeaf(leaf));
    }
    if (tlog::testing::ReferenceRoot(hashes) != current.root) {
      return absl::DataLossError("the entries' root is not the checkpoint's");
    }
    for (const Observed::Ack& ack : observed.acks) {
      if (ack.index >= leaves.size() || leaves[ack.index] != ack.leaf) {
        return absl::DataLossError(
            absl::StrCat("acknowledged entry ", ack.index, " is not there"));
      }
    }
    std::map<uint64_t, tlog::Checkpoint> by_size;
    for (const std::string& seen : observed.checkpoints) {
      ASSIGN_OR_RETURN(const tlog::Checkpoint checkpoint,
                       OpenCheckpoint(seen, verifier()));
      const auto [it, inserted] = by_size.emplace(checkpoint.size, checkpoint);
      if (!inserted && it->second.root != checkpoint.root) {
        return absl::DataLossError(absl::StrCat(
            "two checkpoints of size ", checkpoint.size, " differ"));
      }
      if (checkpoint.size > current.size) {
        return absl::DataLossError(absl::StrCat(
            "a checkpoint of size ", checkpoint.size,
            " was served, but only ", current.size, " entries are stored"));
      }
    }
    for (const auto& [size, old] : by_size) {
      if (size == 0 || size == current.size) {
        if (old.root != current.root && size == current.size) {
          return absl::DataLossError("the checkpoint changed its root");
        }
        continue;
      }
      ASSIGN_OR_RETURN(const std::vector<tlog::Hash> proof,
                       log.client().GetConsistencyProof(size, current.size));
      RETURN_IF_ERROR(tlog::VerifyConsistency(size, current.size, old.root,
                                              current.root, proof));
    }
    return current;
  }

  std::string dir_;
  LogServerOptions options_;
  std::unique_ptr<TestSigner> vendor_;
};

// ---------------------------------------------------------------------------
// Disk full.

TEST_F(LogFaultsTest, DiskFullIsRefusedWithoutSigningAndRecoversWithSpace) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Tmpfs> disk,
                       Tmpfs::Mount(dir_ + "/disk", "2m"));
  options_.data_dir = dir_ + "/disk/data";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
                       LogServer::Start(options_));

  // Clients submit until the disk is full: each stops at its first error.
  absl::Mutex mu;
  Observed observed;
  {
    std::vector<std::thread> clients;
    for (int t = 0; t < kThreads; ++t) {
      clients.emplace_back([&, t] {
        const absl::Time deadline = absl::Now() + kTimeout;
        for (int n = 0; absl::Now() < deadline; ++n) {
          if (!SubmitClaim(*log, absl::StrCat("fill-", t, "-", n), observed,
                           mu)
                   .ok()) {
            return;
          }
          if (n % 16 == 0) PollCheckpoints(*log, observed, mu);
        }
      });
    }
    for (std::thread& client : clients) client.join();
  }
  ASSERT_EQ(observed.refusals.size(), static_cast<size_t>(kThreads))
      << "the clients stopped without errors: the disk never filled up";
  bool resource_exhausted = false;
  for (const Observed::Refusal& refusal : observed.refusals) {
    EXPECT_THAT(refusal.status.code(),
                AnyOf(absl::StatusCode::kResourceExhausted,
                      absl::StatusCode::kUnavailable))
        << refusal.status;
    if (absl::IsResourceExhausted(refusal.status)) {
      resource_exhausted = true;
      EXPECT_THAT(refusal.status.message(), HasSubstr("No space left"));
    }
  }
  EXPECT_TRUE(resource_exhausted);
  std::cout << "[faults] disk full after " << observed.acks.size()
            << " acknowledged submissions; first refusal: "
            << observed.refusals.front().status << std::endl;

  // Still full: the log keeps refusing, keeps serving reads, and serves no
  // checkpoint beyond what it stored (CheckLog: exactly the acknowledged
  // entries).
  EXPECT_THAT(SubmitClaim(*log, "while-full", observed, mu).code(),
              AnyOf(absl::StatusCode::kResourceExhausted,
                    absl::StatusCode::kUnavailable));
  PollCheckpoints(*log, observed, mu);
  absl::flat_hash_set<std::string> refused;
  for (const Observed::Refusal& refusal : observed.refusals) {
    refused.insert(refusal.leaf);
  }
  ASSERT_OK(CheckLog(*log, observed, refused).status());
  EXPECT_FALSE(log->process().Poll().has_value()) << "the log exited";

  // Space returns: the log accepts again within a bounded time (RocksDB
  // polls for free space), continuing the same tree.
  ASSERT_OK(disk->Resize("512m"));
  const absl::Time deadline = absl::Now() + kTimeout;
  absl::Status accepted;
  int attempts = 0;
  do {
    ++attempts;
    Observed attempt;
    accepted = SubmitClaim(*log, "after-space-returned", attempt, mu);
    if (accepted.ok()) {
      observed.acks.push_back(attempt.acks.front());
      observed.checkpoints.push_back(attempt.checkpoints.front());
      break;
    }
    EXPECT_THAT(accepted.code(), AnyOf(absl::StatusCode::kResourceExhausted,
                                       absl::StatusCode::kUnavailable))
        << accepted;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  ASSERT_OK(accepted);
  for (int n = 0; n < 20; ++n) {
    ASSERT_OK(SubmitClaim(*log, absl::StrCat("after-", n), observed, mu));
  }
  PollCheckpoints(*log, observed, mu);
  std::cout << "[faults] accepting again after " << attempts
            << " attempts once the tmpfs grew" << std::endl;

  // Everything acknowledged survives a crash; nothing refused was stored.
  ASSERT_OK_AND_ASSIGN(const ExitStatus killed, log->Kill());
  EXPECT_TRUE(killed.KilledBy(SIGKILL)) << killed.ToString();
  ASSERT_OK(log->Restart());
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint final_checkpoint,
                       CheckLog(*log, observed, refused));
  EXPECT_THAT(observed.failures, ::testing::ElementsAre());
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, log->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();

  // And the whole data directory checks out.
  ASSERT_OK_AND_ASSIGN(
      const RunResult fsck,
      RunProcess(kLogBinary,
                 {"fsck", "--data_dir=" + options_.data_dir,
                  absl::StrCat("--origin=", kOrigin),
                  "--key=" + options_.key.key_path},
                 dir_ + "/fsck", kTimeout));
  EXPECT_TRUE(fsck.status.ExitedWith(0))
      << fsck.status.ToString() << "\n" << fsck.stderr_text;
  EXPECT_THAT(fsck.stdout_text,
              HasSubstr(absl::StrCat("OK: ", final_checkpoint.size,
                                     " entries")));
}

// ---------------------------------------------------------------------------
// Corruption.

// Fills a log with `count` claims and stops it (which flushes them into an
// SST file), checks it once more after a restart, and stops it again.
class CorruptionTest : public LogFaultsTest {
 protected:
  void FillAndStop(int count) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
                         LogServer::Start(options_));
    absl::Mutex mu;
    for (int n = 0; n < count; ++n) {
      ASSERT_OK(SubmitClaim(*log, absl::StrCat("claim-", n), observed_, mu));
    }
    ASSERT_OK_AND_ASSIGN(ExitStatus stopped, log->Terminate());
    ASSERT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
    ASSERT_OK(log->Restart());
    ASSERT_OK_AND_ASSIGN(checkpoint_, CheckLog(*log, observed_, {}));
    ASSERT_OK_AND_ASSIGN(stopped, log->Terminate());
    ASSERT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
    ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files,
                         ListDir(options_.data_dir));
    for (const std::string& file : files) {
      if (absl::EndsWith(file, ".sst")) {
        ssts_.push_back(options_.data_dir + "/" + file);
      }
    }
    ASSERT_FALSE(ssts_.empty());
  }

  absl::StatusOr<RunResult> RunFsck() {
    return RunProcess(kLogBinary,
                      {"fsck", "--data_dir=" + options_.data_dir,
                       absl::StrCat("--origin=", kOrigin),
                       "--key=" + options_.key.key_path},
                      dir_ + "/fsck", kTimeout);
  }

  Observed observed_;
  tlog::Checkpoint checkpoint_;
  std::vector<std::string> ssts_;
};

TEST_F(CorruptionTest, FlippedBytesAreFoundByFsckAndNeverServedAsProofs) {
  FillAndStop(200);
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(RunResult fsck, RunFsck());
  ASSERT_TRUE(fsck.status.ExitedWith(0))
      << fsck.status.ToString() << "\n" << fsck.stderr_text;

  // Flip bytes inside the data blocks of the largest SST file.
  std::string sst;
  std::string contents;
  for (const std::string& path : ssts_) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFile(path, 1 << 30));
    if (bytes.size() > contents.size()) {
      sst = path;
      contents = std::move(bytes);
    }
  }
  ASSERT_GT(contents.size(), 4096u);
  for (size_t at = contents.size() / 8; at < contents.size() / 2;
       at += contents.size() / 8) {
    contents[at] = static_cast<char>(contents[at] ^ 0x5a);
  }
  ASSERT_OK(WriteFileAtomically(sst, contents, 0644));

  ASSERT_OK_AND_ASSIGN(fsck, RunFsck());
  EXPECT_TRUE(fsck.status.ExitedWith(1))
      << fsck.status.ToString() << "\n" << fsck.stderr_text;
  EXPECT_THAT(fsck.stderr_text, HasSubstr("RocksDB files: "));
  EXPECT_THAT(fsck.stderr_text, HasSubstr("Corruption"));
  EXPECT_THAT(fsck.stderr_text, HasSubstr(sst.substr(sst.rfind('/') + 1)));

  // The log either refuses to start, or serves each entry and proof
  // correctly or not at all (DATA_LOSS).
  absl::StatusOr<std::unique_ptr<LogServer>> log = LogServer::Start(options_);
  if (!log.ok()) {
    EXPECT_THAT(log.status().message(), HasSubstr("Corruption"));
    std::cout << "[faults] damaged SST: the log refused to start" << std::endl;
    return;
  }
  int data_loss = 0;
  for (const Observed::Ack& ack : observed_.acks) {
    absl::StatusOr<std::vector<std::string>> entry =
        (*log)->client().GetEntries(ack.index, 1);
    if (entry.ok()) {
      EXPECT_EQ(entry->front(), ack.leaf) << "entry " << ack.index;
    } else {
      EXPECT_EQ(entry.status().code(), absl::StatusCode::kDataLoss)
          << entry.status();
      ++data_loss;
    }
    refsum::v1::GetInclusionProofRequest request;
    request.set_index(ack.index);
    request.set_tree_size(checkpoint_.size);
    refsum::v1::GetInclusionProofResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
    const grpc::Status status =
        (*log)->stub().GetInclusionProof(&context, request, &response);
    if (status.ok()) {
      std::vector<tlog::Hash> proof;
      for (const std::string& bytes : response.hashes()) {
        ASSERT_EQ(bytes.size(), 32u);
        tlog::Hash hash;
        std::copy(bytes.begin(), bytes.end(), hash.begin());
        proof.push_back(hash);
      }
      EXPECT_OK(tlog::VerifyInclusion(ack.index, checkpoint_.size,
                                      tlog::HashLeaf(ack.leaf), proof,
                                      checkpoint_.root));
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS)
          << status.error_message();
      ++data_loss;
    }
  }
  EXPECT_GT(data_loss, 0);
  std::cout << "[faults] damaged SST: " << data_loss
            << " reads answered DATA_LOSS" << std::endl;
}

TEST_F(CorruptionTest, ATruncatedFileStopsTheLogFromStarting) {
  FillAndStop(50);
  if (HasFatalFailure()) return;
  for (const std::string& sst : ssts_) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFile(sst, 1 << 30));
    bytes.resize(bytes.size() / 2);
    ASSERT_OK(WriteFileAtomically(sst, bytes, 0644));
  }
  const absl::StatusOr<std::unique_ptr<LogServer>> log =
      LogServer::Start(options_);
  ASSERT_FALSE(log.ok()) << "the log started on a truncated SST file";
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition)
      << log.status();
  EXPECT_THAT(log.status().message(), HasSubstr("exit code 1"));
  EXPECT_THAT(log.status().message(), HasSubstr("Corruption"));
  std::cout << "[faults] truncated SST: " << log.status() << std::endl;
}

}  // namespace
}  // namespace refsum::tests
