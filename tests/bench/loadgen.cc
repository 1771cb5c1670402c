// refsum-bench-load: the load generator of tests/bench/run.sh. It talks to a
// real refsum-log over gRPC (callback API, many calls in flight) and HTTP,
// and prints one line of "key=value" results per run.
//
//   setup  --key_dir DIR
//       Writes the signer keys of a benchmark (vendor-ed25519,
//       vendor-ecdsa, rebuilders r1..r3: .key and .pub) and DIR/signers.txt
//       for `refsum-log serve --keys`.
//   submit --log ADDR --key_dir DIR --key_type ed25519|ecdsa --seed S
//          (--count N | --duration D [--rate R]) [--concurrency C]
//       Pre-signs distinct claims on all cores, then submits them: with
//       --count, exactly N (in rounds, closed loop); with --duration, closed
//       loop with C callers, or open loop at R per second. Each accepted
//       submission is new (a duplicate counts as an error).
//   read   --log ADDR --mode inclusion|bundle|tiles [--http HOST:PORT]
//          --duration D --concurrency C
//       Random GetInclusionProof / GetBundle (claim index) calls against the
//       newest checkpoint, or random full level-0 tiles over HTTP.
//   verify --log ADDR --key_dir DIR --vkey FILE --iterations N
//       Submits a claim and three MATCH attestations, fetches its bundle and
//       measures the CPU time of decoding and verifying it with
//       client/verify.h (policy: the log, the vendor, all three rebuilders).
//
//   size   --log ADDR
//       Prints the size of the log's newest checkpoint: "tree_size=N".
//
// submit and read also report their own CPU time per successful call and,
// with --server_pid, the server's (from /proc/<pid>/stat).

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/command_line.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/policy.h"
#include "client/state.h"
#include "client/testing.h"
#include "client/verify.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "httplib.h"
#include "proto/log.grpc.pb.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "tests/bench/load_driver.h"
#include "tests/bench/proc_stat.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"
#include "tlog/tiles.h"

ABSL_FLAG(std::string, log, "", "gRPC address HOST:PORT of the log.");
ABSL_FLAG(std::string, http, "", "read --mode tiles: HTTP HOST:PORT.");
ABSL_FLAG(std::string, key_dir, "", "Directory of the benchmark's keys.");
ABSL_FLAG(std::string, key_type, "ed25519", "submit: ed25519 or ecdsa.");
ABSL_FLAG(std::string, seed, "", "submit: makes the claims distinct.");
ABSL_FLAG(uint64_t, count, 0, "submit: submit exactly this many claims.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "submit/read: how long to run.");
ABSL_FLAG(double, rate, 0, "submit: open loop at this many calls/s.");
ABSL_FLAG(int, concurrency, 16, "Calls in flight (closed loop), or the most "
                                "in flight (open loop).");
ABSL_FLAG(uint64_t, presign, 100000,
          "submit --duration: claims to pre-sign (the run stops early if "
          "they run out).");
ABSL_FLAG(std::string, mode, "inclusion", "read: inclusion, bundle or tiles.");
ABSL_FLAG(int, channels, 4, "gRPC connections to spread calls over.");
ABSL_FLAG(int, server_pid, 0, "Report the CPU time of this process per call.");
ABSL_FLAG(std::string, signed_file, "",
          "submit --duration: write this file once the claims are signed, "
          "when the load starts (e.g. to start a profiler).");
ABSL_FLAG(std::string, vkey, "", "verify: the log's verifier key file.");
ABSL_FLAG(int, iterations, 1000, "verify: bundle verifications to time.");

namespace refsum::bench {
namespace {

using client::testing::TestSigner;

constexpr char kVendorEd25519[] = "vendor-ed25519";
constexpr char kVendorEcdsa[] = "vendor-ecdsa";
constexpr const char* kRebuilders[] = {"r1", "r2", "r3"};
// A hang guard for every call; never an expectation of speed.
constexpr absl::Duration kCallDeadline = absl::Seconds(300);

// --- keys ------------------------------------------------------------------

absl::Status WriteSignerKey(const std::string& dir, const std::string& name,
                            crypto::KeyType type) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(dir + "/" + name + ".key", key));
  return crypto::WritePublicKeyFile(dir + "/" + name + ".pub",
                                    key.public_key());
}

absl::Status Setup(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--key_dir is required");
  RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  RETURN_IF_ERROR(WriteSignerKey(dir, kVendorEd25519, crypto::KeyType::kEd25519));
  RETURN_IF_ERROR(WriteSignerKey(dir, kVendorEcdsa, crypto::KeyType::kEcdsaP256));
  std::string signers = absl::StrCat("vendor ", kVendorEd25519, " ",
                                     kVendorEd25519, ".pub\nvendor ",
                                     kVendorEcdsa, " ", kVendorEcdsa, ".pub\n");
  for (const char* name : kRebuilders) {
    RETURN_IF_ERROR(WriteSignerKey(dir, name, crypto::KeyType::kEd25519));
    absl::StrAppend(&signers, "rebuilder ", name, " ", name, ".pub\n");
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/signers.txt", signers, 0644));
  std::cout << "setup=ok key_dir=" << dir << "\n";
  return absl::OkStatus();
}

absl::StatusOr<TestSigner> LoadSigner(const std::string& dir,
                                      const std::string& name) {
  if (dir.empty()) return absl::InvalidArgumentError("--key_dir is required");
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::ReadPrivateKeyFile(dir + "/" + name + ".key"));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  return TestSigner{name, std::move(key), std::move(signer)};
}

// --- gRPC ------------------------------------------------------------------

// Stubs on `count` separate connections (each channel its own subchannel
// pool), used round-robin.
class Stubs {
 public:
  static absl::StatusOr<Stubs> Connect(const std::string& address, int count) {
    if (address.empty()) return absl::InvalidArgumentError("--log is required");
    Stubs stubs;
    for (int i = 0; i < std::max(1, count); ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(-1);
      auto channel = grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args);
      if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() +
                                                        absl::Seconds(60)))) {
        return absl::UnavailableError(
            absl::StrCat("cannot connect to the log at ", address));
      }
      stubs.stubs_.push_back(refsum::v1::Log::NewStub(channel));
    }
    return stubs;
  }

  refsum::v1::Log::Stub& For(uint64_t i) {
    return *stubs_[i % stubs_.size()];
  }

 private:
  std::vector<std::unique_ptr<refsum::v1::Log::Stub>> stubs_;
};

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

// Starts one async unary call with `request`: `invoke(context, request,
// response, callback)` must start it (e.g. stub.async()->Submit). Calls
// `done` with its outcome and the response.
template <typename Request, typename Response, typename Invoke>
void AsyncCall(Invoke invoke, Request request,
               std::function<void(absl::Status, const Response&)> done,
               absl::string_view what) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  invoke(
      &call->context, &call->request, &call->response,
      [call, done = std::move(done), what = std::string(what)](grpc::Status s) {
        done(FromGrpc(s, what), call->response);
      });
}

absl::StatusOr<tlog::Checkpoint> NewestCheckpoint(refsum::v1::Log::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  refsum::v1::GetCheckpointRequest request;
  refsum::v1::GetCheckpointResponse response;
  RETURN_IF_ERROR(FromGrpc(stub.GetCheckpoint(&context, request, &response),
                           "GetCheckpoint"));
  return tlog::ParseCheckpointNote(response.checkpoint());
}

absl::StatusOr<refsum::v1::SubmitResponse> SubmitLeaf(
    refsum::v1::Log::Stub& stub, const std::string& leaf) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  refsum::v1::SubmitRequest request;
  request.set_leaf(leaf);
  refsum::v1::SubmitResponse response;
  RETURN_IF_ERROR(
      FromGrpc(stub.Submit(&context, request, &response), "Submit"));
  return response;
}

// --- server CPU ------------------------------------------------------------

// Measures the CPU time of the server and of this process between
// construction and Report.
class CpuMeter {
 public:
  CpuMeter()
      : pid_(absl::GetFlag(FLAGS_server_pid)),
        self_start_(ProcessCpuTime(getpid())) {
    if (pid_ > 0) start_ = ProcessCpuTime(pid_);
  }

  // " client_cpu_us_per_call=..." and, with --server_pid,
  // " server_cpu_s=... server_cpu_us_per_call=...".
  std::string Report(uint64_t calls) const {
    const auto per_call = [calls](absl::Duration d) {
      return calls ? absl::ToDoubleMicroseconds(d) / static_cast<double>(calls)
                   : 0.0;
    };
    std::string report;
    absl::StatusOr<absl::Duration> self_end = ProcessCpuTime(getpid());
    if (self_start_.ok() && self_end.ok()) {
      absl::StrAppendFormat(&report, " client_cpu_us_per_call=%.2f",
                            per_call(*self_end - *self_start_));
    }
    if (pid_ <= 0) return report;
    absl::StatusOr<absl::Duration> end = ProcessCpuTime(pid_);
    if (!start_.ok() || !end.ok()) {
      std::cerr << "server CPU: "
                << (start_.ok() ? end.status() : start_.status()) << "\n";
      return report + " server_cpu_s=nan server_cpu_us_per_call=nan";
    }
    absl::StrAppendFormat(&report,
                          " server_cpu_s=%.3f server_cpu_us_per_call=%.2f",
                          absl::ToDoubleSeconds(*end - *start_),
                          per_call(*end - *start_));
    return report;
  }

 private:
  const int pid_;
  const absl::StatusOr<absl::Duration> self_start_;
  absl::StatusOr<absl::Duration> start_;
};

// --- submit ----------------------------------------------------------------

// Signs claims seed-0 .. seed-(n-1) (offset `first`) on all cores.
absl::StatusOr<std::vector<std::string>> SignClaims(const TestSigner& signer,
                                                    const std::string& seed,
                                                    uint64_t first,
                                                    uint64_t n) {
  std::vector<std::string> leaves(n);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<absl::Status> errors(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = t; i < n; i += threads) {
        absl::StatusOr<std::string> leaf = client::testing::ClaimLeaf(
            client::testing::SampleClaim(absl::StrCat(seed, "-", first + i)),
            signer);
        if (!leaf.ok()) {
          errors[t] = leaf.status();
          return;
        }
        leaves[i] = *std::move(leaf);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (const absl::Status& e : errors) RETURN_IF_ERROR(e);
  return leaves;
}

// A StartCall submitting leaves[i]; adds accepted leaf bytes to `leaf_bytes`.
StartCall SubmitCalls(Stubs& stubs, const std::vector<std::string>& leaves,
                      std::atomic<uint64_t>& leaf_bytes) {
  return [&stubs, &leaves, &leaf_bytes](
             uint64_t i, std::function<void(absl::Status)> done) {
    if (i >= leaves.size()) {
      done(absl::ResourceExhaustedError("ran out of pre-signed claims"));
      return;
    }
    refsum::v1::SubmitRequest request;
    request.set_leaf(leaves[i]);
    const size_t bytes = leaves[i].size();
    AsyncCall<refsum::v1::SubmitRequest, refsum::v1::SubmitResponse>(
        [&stub = stubs.For(i)](auto* context, auto* request, auto* response,
                                    auto callback) {
            stub.async()->Submit(context, request, response, std::move(callback));
          },
        std::move(request),
        [done = std::move(done), bytes, &leaf_bytes](
            absl::Status status, const refsum::v1::SubmitResponse& response) {
          if (status.ok() && response.duplicate()) {
            status = absl::AlreadyExistsError("Submit: a duplicate");
          } else if (status.ok() && response.tlog_proof().empty()) {
            status = absl::DataLossError("Submit: no tlog-proof");
          }
          if (status.ok()) leaf_bytes += bytes;
          done(status);
        },
        "Submit");
  };
}

absl::Status Submit() {
  const std::string key_type = absl::GetFlag(FLAGS_key_type);
  const std::string name = key_type == "ed25519" ? kVendorEd25519
                           : key_type == "ecdsa" ? kVendorEcdsa
                                                 : "";
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key_type must be ed25519 or ecdsa, not \"", key_type, "\""));
  }
  const std::string seed = absl::GetFlag(FLAGS_seed);
  if (seed.empty()) return absl::InvalidArgumentError("--seed is required");
  ASSIGN_OR_RETURN(TestSigner signer,
                   LoadSigner(absl::GetFlag(FLAGS_key_dir), name));
  ASSIGN_OR_RETURN(Stubs stubs, Stubs::Connect(absl::GetFlag(FLAGS_log),
                                               absl::GetFlag(FLAGS_channels)));
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const uint64_t count = absl::GetFlag(FLAGS_count);
  std::atomic<uint64_t> leaf_bytes{0};
  LoadResult total;
  absl::Duration sign_time;
  if (count > 0) {
    // Fill: rounds of pre-signing and submitting, to bound memory.
    constexpr uint64_t kRound = 100000;
    CpuMeter cpu;
    for (uint64_t first = 0; first < count; first += kRound) {
      const uint64_t n = std::min(kRound, count - first);
      const absl::Time signing = absl::Now();
      ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                       SignClaims(signer, seed, first, n));
      sign_time += absl::Now() - signing;
      LoadOptions options;
      options.duration = absl::InfiniteDuration();
      options.max_calls = n;
      LoadResult round = RunClosedLoop(concurrency, options,
                                       SubmitCalls(stubs, leaves, leaf_bytes));
      total.ok += round.ok;
      total.errors += round.errors;
      if (total.first_error.ok()) total.first_error = round.first_error;
      total.elapsed += round.elapsed;
      total.latency.Merge(round.latency);
      if (!round.first_error.ok()) break;
    }
    std::cout << FormatResult(total, "") << " leaf_bytes=" << leaf_bytes
              << " sign_s=" << absl::ToDoubleSeconds(sign_time)
              << cpu.Report(total.ok) << "\n";
  } else {
    const double rate = absl::GetFlag(FLAGS_rate);
    const uint64_t presign = absl::GetFlag(FLAGS_presign);
    ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                     SignClaims(signer, seed, 0, presign));
    if (const std::string signed_file = absl::GetFlag(FLAGS_signed_file);
        !signed_file.empty()) {
      RETURN_IF_ERROR(WriteFileAtomically(signed_file, "signed\n", 0644));
    }
    LoadOptions options;
    options.duration = absl::GetFlag(FLAGS_duration);
    options.max_calls = presign;
    CpuMeter cpu;
    total = rate > 0 ? RunOpenLoop(rate, concurrency, options,
                                   SubmitCalls(stubs, leaves, leaf_bytes))
                     : RunClosedLoop(concurrency, options,
                                     SubmitCalls(stubs, leaves, leaf_bytes));
    std::cout << FormatResult(total, "") << " leaf_bytes=" << leaf_bytes
              << " presigned=" << presign
              << " exhausted=" << (total.ok + total.errors >= presign ? 1 : 0)
              << cpu.Report(total.ok) << "\n";
  }
  if (!total.first_error.ok()) {
    std::cerr << "first error: " << total.first_error << "\n";
  }
  return total.errors == 0
             ? absl::OkStatus()
             : absl::InternalError(absl::StrCat(total.errors,
                                                " submissions failed"));
}

// --- read ------------------------------------------------------------------

// Runs `concurrency` threads calling `fetch` (blocking) until `duration`;
// `fetch` gets the calling thread's number, in [0, concurrency).
LoadResult RunBlockingClosedLoop(
    int concurrency, absl::Duration duration,
    const std::function<absl::Status(int, std::mt19937_64&)>& fetch) {
  absl::Mutex mu;
  LoadResult result;
  const absl::Time start = absl::Now();
  const absl::Time stop = start + duration;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t + 1);
      Histogram latency;
      uint64_t ok = 0, errors = 0;
      absl::Status first_error;
      while (absl::Now() < stop) {
        const absl::Time begin = absl::Now();
        absl::Status status = fetch(t, random);
        if (status.ok()) {
          ++ok;
          latency.Record(absl::Now() - begin);
        } else {
          ++errors;
          if (first_error.ok()) first_error = status;
        }
      }
      absl::MutexLock lock(&mu);
      result.ok += ok;
      result.errors += errors;
      if (result.first_error.ok()) result.first_error = first_error;
      result.latency.Merge(latency);
    });
  }
  for (std::thread& t : threads) t.join();
  result.elapsed = absl::Now() - start;
  return result;
}

absl::Status Read() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  ASSIGN_OR_RETURN(Stubs stubs, Stubs::Connect(absl::GetFlag(FLAGS_log),
                                               absl::GetFlag(FLAGS_channels)));
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint, NewestCheckpoint(stubs.For(0)));
  const uint64_t size = checkpoint.size;
  if (size == 0) return absl::FailedPreconditionError("the log is empty");
  LoadOptions options;
  options.duration = absl::GetFlag(FLAGS_duration);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  std::mutex random_mu;
  std::mt19937_64 random(42);
  auto pick = [&](uint64_t bound) {
    std::lock_guard<std::mutex> lock(random_mu);
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(random);
  };
  CpuMeter cpu;
  LoadResult result;
  if (mode == "inclusion") {
    result = RunClosedLoop(
        concurrency, options,
        [&](uint64_t i, std::function<void(absl::Status)> done) {
          refsum::v1::GetInclusionProofRequest request;
          const uint64_t index = pick(size);
          request.set_index(index);
          request.set_tree_size(size);
          AsyncCall<refsum::v1::GetInclusionProofRequest,
                    refsum::v1::GetInclusionProofResponse>(
              [&stub = stubs.For(i)](auto* context, auto* request, auto* response,
                                    auto callback) {
            stub.async()->GetInclusionProof(context, request, response, std::move(callback));
          }, std::move(request),
              [done = std::move(done), index, size](
                  absl::Status status,
                  const refsum::v1::GetInclusionProofResponse& response) {
                if (status.ok()) {
                  absl::StatusOr<tlog::ProofPlan> plan =
                      tlog::PlanInclusionProof(index, size);
                  if (!plan.ok()) {
                    status = plan.status();
                  } else if (static_cast<size_t>(response.hashes_size()) !=
                             plan->nodes_per_hash.size()) {
                    status = absl::DataLossError(absl::StrCat(
                        "GetInclusionProof(", index, ", ", size, "): ",
                        response.hashes_size(), " hashes, want ",
                        plan->nodes_per_hash.size()));
                  }
                }
                done(status);
              },
              "GetInclusionProof");
        });
  } else if (mode == "bundle") {
    result = RunClosedLoop(
        concurrency, options,
        [&](uint64_t i, std::function<void(absl::Status)> done) {
          refsum::v1::GetBundleRequest request;
          request.set_claim_index(pick(size));
          AsyncCall<refsum::v1::GetBundleRequest,
                    refsum::v1::GetBundleResponse>(
              [&stub = stubs.For(i)](auto* context, auto* request, auto* response,
                                    auto callback) {
            stub.async()->GetBundle(context, request, response, std::move(callback));
          }, std::move(request),
              [done = std::move(done)](
                  absl::Status status,
                  const refsum::v1::GetBundleResponse& response) {
                if (status.ok() && response.bundle_json().empty()) {
                  status = absl::DataLossError("GetBundle: empty bundle");
                }
                done(status);
              },
              "GetBundle");
        });
  } else if (mode == "tiles") {
    const std::string http = absl::GetFlag(FLAGS_http);
    std::vector<absl::string_view> host_port = absl::StrSplit(http, ':');
    int port = 0;
    if (host_port.size() != 2 || !absl::SimpleAtoi(host_port[1], &port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http must be HOST:PORT, not \"", http, "\""));
    }
    const uint64_t full_tiles = size / tlog::kTileWidth;
    if (full_tiles == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("a tree of ", size, " entries has no full tile"));
    }
    const std::string host(host_port[0]);
    // One keep-alive connection per thread, closed when the run is over.
    std::vector<std::unique_ptr<httplib::Client>> clients(concurrency);
    result = RunBlockingClosedLoop(
        concurrency, options.duration, [&](int thread, std::mt19937_64& rng) {
          std::unique_ptr<httplib::Client>& client = clients[thread];
          if (client == nullptr) {
            client = std::make_unique<httplib::Client>(host, port);
            client->set_keep_alive(true);
          }
          tlog::TileResource resource;
          resource.tile.level = 0;
          resource.tile.index =
              std::uniform_int_distribution<uint64_t>(0, full_tiles - 1)(rng);
          ASSIGN_OR_RETURN(std::string path, tlog::FormatTilePath(resource));
          httplib::Result response = client->Get("/" + path);
          if (!response) {
            return absl::UnavailableError(absl::StrCat(
                "GET /", path, ": ", httplib::to_string(response.error())));
          }
          if (response->status != 200 ||
              response->body.size() != tlog::kTileWidth * sizeof(tlog::Hash)) {
            return absl::DataLossError(
                absl::StrCat("GET /", path, ": status ", response->status,
                             ", ", response->body.size(), " bytes"));
          }
          return absl::OkStatus();
        });
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mode must be inclusion, bundle or tiles, not \"", mode, "\""));
  }
  std::cout << FormatResult(result, "") << " tree_size=" << size
            << cpu.Report(result.ok) << "\n";
  if (!result.first_error.ok()) {
    std::cerr << "first error: " << result.first_error << "\n";
  }
  return result.errors == 0 && result.ok > 0
             ? absl::OkStatus()
             : absl::InternalError(absl::StrCat(result.errors, " of ",
                                                result.ok + result.errors,
                                                " reads failed"));
}

absl::Status PrintSize() {
  ASSIGN_OR_RETURN(Stubs stubs, Stubs::Connect(absl::GetFlag(FLAGS_log), 1));
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint, NewestCheckpoint(stubs.For(0)));
  std::cout << "tree_size=" << checkpoint.size << "\n";
  return absl::OkStatus();
}

// --- verify ----------------------------------------------------------------

absl::Status Verify() {
  const std::string dir = absl::GetFlag(FLAGS_key_dir);
  ASSIGN_OR_RETURN(TestSigner vendor, LoadSigner(dir, kVendorEd25519));
  ASSIGN_OR_RETURN(Stubs stubs, Stubs::Connect(absl::GetFlag(FLAGS_log), 1));
  refsum::v1::Log::Stub& stub = stubs.For(0);
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint, NewestCheckpoint(stub));

  // A claim with three MATCH attestations.
  const statement::Claim claim = client::testing::SampleClaim(
      absl::StrCat("bundle-", absl::ToUnixNanos(absl::Now())));
  ASSIGN_OR_RETURN(std::string claim_leaf,
                   client::testing::ClaimLeaf(claim, vendor));
  ASSIGN_OR_RETURN(refsum::v1::SubmitResponse claimed,
                   SubmitLeaf(stub, claim_leaf));
  if (claimed.leaf_hash().size() != sizeof(tlog::Hash)) {
    return absl::DataLossError("Submit: the leaf hash is not 32 bytes");
  }
  tlog::Hash leaf_hash;
  std::copy(claimed.leaf_hash().begin(), claimed.leaf_hash().end(),
            leaf_hash.begin());
  std::string policy_text;
  ASSIGN_OR_RETURN(std::string vkey,
                   ReadFile(absl::GetFlag(FLAGS_vkey)));
  absl::StrAppend(&policy_text, "log ", absl::StripAsciiWhitespace(vkey),
                  "\nquorum none\nvendor ", vendor.name, " ",
                  vendor.Base64Spki(), "\n");
  std::string group = "rebuild-group all-three all";
  for (const char* name : kRebuilders) {
    ASSIGN_OR_RETURN(TestSigner rebuilder, LoadSigner(dir, name));
    ASSIGN_OR_RETURN(
        std::string leaf,
        client::testing::AttestationLeaf(
            client::testing::SampleAttestation(
                claim, checkpoint.origin, claimed.index(), leaf_hash,
                statement::Verdict::kMatch, name),
            rebuilder));
    RETURN_IF_ERROR(SubmitLeaf(stub, leaf).status());
    absl::StrAppend(&policy_text, "rebuilder ", name, " ",
                    rebuilder.Base64Spki(), "\n");
    absl::StrAppend(&group, " ", name);
  }
  absl::StrAppend(&policy_text, group, "\nrebuild-quorum all-three\n");
  ASSIGN_OR_RETURN(client::Policy policy,
                   client::Policy::Parse(policy_text, dir));

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  refsum::v1::GetBundleRequest request;
  request.set_claim_index(claimed.index());
  refsum::v1::GetBundleResponse response;
  RETURN_IF_ERROR(FromGrpc(stub.GetBundle(&context, request, &response),
                           "GetBundle"));

  ASSIGN_OR_RETURN(std::string state_dir,
                   client::testing::NewTempDir("bench-verify-state"));
  const client::CheckpointStore store(state_dir);
  client::Query query;
  query.kind = client::Query::Kind::kClaimIndex;
  query.claim_index = claimed.index();
  auto verify_once = [&]() -> absl::StatusOr<client::VerifiedClaim> {
    ASSIGN_OR_RETURN(tlog::Bundle bundle,
                     tlog::DecodeBundle(response.bundle_json()));
    return client::Verify(policy, store, bundle, query, nullptr);
  };
  // The first verification pins the checkpoint; the timed ones then see
  // the same checkpoint, as a verifier checking a value again does.
  ASSIGN_OR_RETURN(client::VerifiedClaim verified, verify_once());
  if (verified.matched_rebuilders.size() != 3) {
    return absl::InternalError(
        absl::StrCat("the bundle has ", verified.matched_rebuilders.size(),
                     " matching rebuilders, want 3"));
  }
  const int iterations = std::max(1, absl::GetFlag(FLAGS_iterations));
  const absl::Duration cpu_start = ThreadCpuTime();
  const absl::Time wall_start = absl::Now();
  for (int i = 0; i < iterations; ++i) {
    RETURN_IF_ERROR(verify_once().status());
  }
  const absl::Duration cpu = ThreadCpuTime() - cpu_start;
  const absl::Duration wall = absl::Now() - wall_start;
  std::cout << absl::StrFormat(
      "verify_cpu_us=%.1f verify_wall_us=%.1f iterations=%d bundle_bytes=%d "
      "claim_index=%d tree_size=%d\n",
      absl::ToDoubleMicroseconds(cpu) / iterations,
      absl::ToDoubleMicroseconds(wall) / iterations, iterations,
      response.bundle_json().size(), claimed.index(),
      verified.checkpoint.size);
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "refsum-bench-load setup|submit|read|size|verify [flags]: see "
      "tests/bench/loadgen.cc");
  absl::StatusOr<std::vector<std::string>> args = ParseCommandLine(argc, argv);
  if (!args.ok()) {
    std::cerr << args.status().message() << "\n";
    return 2;
  }
  if (args->size() != 2) {
    std::cerr << "usage: refsum-bench-load setup|submit|read|size|verify [flags]\n";
    return 2;
  }
  const std::string& command = (*args)[1];
  absl::Status status;
  if (command == "setup") {
    status = Setup(absl::GetFlag(FLAGS_key_dir));
  } else if (command == "submit") {
    status = Submit();
  } else if (command == "size") {
    status = PrintSize();
  } else if (command == "read") {
    status = Read();
  } else if (command == "verify") {
    status = Verify();
  } else {
    std::cerr << "unknown command \"" << command << "\"\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "refsum-bench-load " << command << ": " << status << "\n";
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace
}  // namespace refsum::bench

int main(int argc, char** argv) { return refsum::bench::Main(argc, argv); }
