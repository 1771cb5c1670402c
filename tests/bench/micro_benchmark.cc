// Google Benchmark micro-benchmarks of the hashing, tree and signature code
// the log's write and read paths are made of (crypto/, tlog/), and of the
// SEV-SNP calculator (measure/) against the SHA-384 rate it is bound by:
//   bazel run -c opt //tests/bench:micro_benchmark

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/digest.h"
#include "crypto/sha256.h"
#include "base/file.h"
#include "measure/sev_snp.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::bench {
namespace {

// Aborts the benchmark binary on an unexpected error: a benchmark of a
// failing call would measure the error path.
template <typename T>
T ValueOrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "%s\n", value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

void BM_Sha256(benchmark::State& state) {
  const std::string data(state.range(0), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Sha256(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(1024)->Arg(16384);

// SHA-384 of 4 KiB pages: the bound of the SEV-SNP calculator, which hashes
// every page of the firmware once (and a 112-byte PAGE_INFO per page).
void BM_Sha384Page(benchmark::State& state) {
  const std::string page(4096, 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::Hash(crypto::HashAlgorithm::kSha384, page));
  }
  state.SetBytesProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Sha384Page);

// The SEV-SNP launch digest of Debian's 2 MiB OVMF.fd (package ovmf) for
// EC2 with 4 vCPUs; bytes/s is comparable with BM_Sha384Page's.
void BM_SnpLaunchDigestDebianOvmf(benchmark::State& state) {
  static const absl::StatusOr<std::string>* const ovmf =
      new absl::StatusOr<std::string>(ReadFile("/usr/share/ovmf/OVMF.fd"));
  if (!ovmf->ok()) {
    state.SkipWithError("no /usr/share/ovmf/OVMF.fd: run deploy/install-deps.sh");
    return;
  }
  measure::SnpLaunchInputs inputs;
  inputs.vcpus = 4;
  inputs.vmm = measure::VmmType::kEc2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ValueOrDie(measure::SnpLaunchDigest(**ovmf, inputs)));
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>((*ovmf)->size()));
}
BENCHMARK(BM_SnpLaunchDigestDebianOvmf);

void BM_HashLeaf(benchmark::State& state) {
  const std::string leaf(1024, 'l');
  for (auto _ : state) benchmark::DoNotOptimize(tlog::HashLeaf(leaf));
}
BENCHMARK(BM_HashLeaf);

void BM_HashChildren(benchmark::State& state) {
  const tlog::Hash left = tlog::HashLeaf("left"), right = tlog::HashLeaf("r");
  for (auto _ : state) {
    benchmark::DoNotOptimize(tlog::HashChildren(left, right));
  }
}
BENCHMARK(BM_HashChildren);

// One leaf appended to a compact range, with the node callback a sequencer
// uses to collect the nodes it stores.
void BM_CompactRangeAppend(benchmark::State& state) {
  const std::vector<tlog::Hash> leaves = tlog::testing::MakeLeafHashes(4096);
  tlog::CompactRange range;
  uint64_t nodes = 0;
  const tlog::CompactRange::NodeCallback count =
      [&nodes](const tlog::NodeId&, const tlog::Hash&) { ++nodes; };
  uint64_t i = 0;
  for (auto _ : state) {
    if (!range.AppendLeaf(leaves[i++ % leaves.size()], count).ok()) {
      state.SkipWithError("AppendLeaf failed");
      break;
    }
  }
  benchmark::DoNotOptimize(nodes);
}
BENCHMARK(BM_CompactRangeAppend);

// The root of a range of `range(0)` leaves: what signing a checkpoint needs.
void BM_CompactRangeRoot(benchmark::State& state) {
  tlog::CompactRange range;
  for (const tlog::Hash& leaf : tlog::testing::MakeLeafHashes(state.range(0))) {
    (void)range.AppendLeaf(leaf);
  }
  for (auto _ : state) benchmark::DoNotOptimize(range.Root());
}
BENCHMARK(BM_CompactRangeRoot)->Arg(1000)->Arg(1000000 - 1);

// Plans and assembles inclusion proofs in a tree of range(0) leaves from an
// in-memory node store (no storage: the log adds a RocksDB MultiGet).
void BM_BuildInclusionProof(benchmark::State& state) {
  const uint64_t size = state.range(0);
  static auto* stores = new std::map<uint64_t,
                                     std::unique_ptr<tlog::testing::NodeStore>>;
  auto& store = (*stores)[size];
  if (store == nullptr) {
    store = std::make_unique<tlog::testing::NodeStore>(
        tlog::testing::MakeLeafHashes(size));
  }
  std::mt19937_64 random(1);
  for (auto _ : state) {
    const uint64_t index = random() % size;
    benchmark::DoNotOptimize(tlog::BuildInclusionProof(index, size, *store));
  }
}
BENCHMARK(BM_BuildInclusionProof)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_VerifyInclusion(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const std::vector<tlog::Hash> leaves = tlog::testing::MakeLeafHashes(size);
  const tlog::testing::NodeStore store(leaves);
  const uint64_t index = size / 3;
  const std::vector<tlog::Hash> proof =
      ValueOrDie(tlog::BuildInclusionProof(index, size, store));
  const tlog::Hash root = tlog::testing::ReferenceRoot(leaves);
  for (auto _ : state) {
    if (!tlog::VerifyInclusion(index, size, leaves[index], proof, root).ok()) {
      state.SkipWithError("VerifyInclusion failed");
      break;
    }
  }
}
BENCHMARK(BM_VerifyInclusion)->Arg(100000);

// A checkpoint signed by the log and cosigned by `witnesses` witnesses.
struct SignedCheckpoint {
  std::string note;
  std::vector<std::unique_ptr<crypto::NoteVerifier>> verifiers;
};

SignedCheckpoint MakeCheckpoint(int witnesses) {
  SignedCheckpoint result;
  tlog::Checkpoint checkpoint;
  checkpoint.origin = "log.example.org/bench";
  checkpoint.size = 1000000;
  checkpoint.root = tlog::HashLeaf("root");
  const std::string body = ValueOrDie(tlog::FormatCheckpointBody(checkpoint));
  std::vector<std::unique_ptr<crypto::NoteSigner>> signers;
  const crypto::PrivateKey log_key =
      ValueOrDie(crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  signers.push_back(
      ValueOrDie(crypto::NewEd25519NoteSigner(checkpoint.origin, log_key)));
  result.verifiers.push_back(ValueOrDie(
      crypto::NewEd25519NoteVerifier(checkpoint.origin, log_key.public_key())));
  for (int w = 0; w < witnesses; ++w) {
    const std::string name = absl::StrCat("witness.example.org/w", w);
    const crypto::PrivateKey key =
        ValueOrDie(crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    signers.push_back(ValueOrDie(crypto::NewCosignatureV1Signer(name, key)));
    result.verifiers.push_back(
        ValueOrDie(crypto::NewCosignatureV1Verifier(name, key.public_key())));
  }
  std::vector<const crypto::NoteSigner*> raw;
  for (const auto& s : signers) raw.push_back(s.get());
  result.note = ValueOrDie(crypto::SignNote(body, raw));
  return result;
}

// Opens a checkpoint note: parse, then verify the log's signature and
// range(0) cosignature/v1 signatures.
void BM_OpenCheckpointNote(benchmark::State& state) {
  const SignedCheckpoint signed_checkpoint = MakeCheckpoint(state.range(0));
  std::vector<const crypto::NoteVerifier*> verifiers;
  for (const auto& v : signed_checkpoint.verifiers) verifiers.push_back(v.get());
  for (auto _ : state) {
    absl::StatusOr<crypto::VerifiedNote> opened =
        crypto::OpenNote(signed_checkpoint.note, verifiers);
    if (!opened.ok() || opened->verified.size() != verifiers.size()) {
      state.SkipWithError("OpenNote failed");
      break;
    }
  }
}
BENCHMARK(BM_OpenCheckpointNote)->Arg(0)->Arg(1)->Arg(3);

// One cosignature/v1 verification alone (the witness side of the above).
void BM_CosignatureVerify(benchmark::State& state) {
  const crypto::PrivateKey key =
      ValueOrDie(crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  const std::string name = "witness.example.org/w";
  const auto signer = ValueOrDie(crypto::NewCosignatureV1Signer(name, key));
  const auto verifier =
      ValueOrDie(crypto::NewCosignatureV1Verifier(name, key.public_key()));
  const std::string body = "log.example.org/bench\n1000000\n" +
                           tlog::FormatBase64Hash(tlog::HashLeaf("r")) + "\n";
  const std::string signature = ValueOrDie(signer->Sign(body));
  for (auto _ : state) {
    if (!verifier->Verify(body, signature).ok()) {
      state.SkipWithError("cosignature did not verify");
      break;
    }
  }
}
BENCHMARK(BM_CosignatureVerify);

}  // namespace
}  // namespace refsum::bench

BENCHMARK_MAIN();
