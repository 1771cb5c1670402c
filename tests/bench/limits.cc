// refsum-bench-limits: what this machine can do at best, measured in the
// same run as the log so that results can be given as ratios that hold on a
// noisy, shared machine. Prints one line of "key=value":
//   cores                    std::thread::hardware_concurrency()
//   ed25519_verify_rate      Ed25519 verifications/s on all cores
//   ecdsa_verify_rate        ECDSA P-256 verifications/s on all cores
//                            (crypto/signer.h: OpenSSL 3, as the log uses)
//   ed25519_verify_cpu_us    CPU time of one verification (thread CPU
//   ecdsa_verify_cpu_us      clocks): unlike the rates, it hardly changes
//                            when other processes compete for the cores
//   grpc_empty_rate          empty unary gRPC calls/s on loopback, with
//                            --concurrency calls in flight (callback API
//                            server and client in this process)
//   grpc_empty_p50_ms ...    their latency
//   rocksdb_sync_batch_rate  synced RocksDB WriteBatch writes/s, each one
//                            1 KiB value, in a fresh database under --dir

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/command_line.h"
#include "base/status_macros.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tests/bench/bench.grpc.pb.h"
#include "tests/bench/load_driver.h"
#include "tests/bench/proc_stat.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(5),
          "How long to run each measurement.");
ABSL_FLAG(int, concurrency, 256, "Empty gRPC calls in flight.");
ABSL_FLAG(std::string, dir, "", "A directory for the RocksDB measurement "
                                "(on the disk the log uses).");

namespace refsum::bench {
namespace {

// A typical leaf: the DSSE envelope of a claim is about this long.
constexpr size_t kMessageSize = 1024;

struct VerifyLimit {
  // Verifications per second on all cores.
  double rate = 0;
  // CPU time per verification.
  absl::Duration cpu;
};

// Verifies one signature by `type` on all cores for `duration`.
absl::StatusOr<VerifyLimit> MeasureVerify(crypto::KeyType type,
                                          absl::Duration duration) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Verifier> verifier,
                   crypto::NewVerifier(key.public_key()));
  const std::string message(kMessageSize, 'm');
  ASSIGN_OR_RETURN(std::string signature, signer->Sign(message));
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> verified{0};
  std::atomic<int64_t> cpu_nanos{0};
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  const absl::Time stop = start + duration;
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      uint64_t n = 0;
      const absl::Duration cpu_start = ThreadCpuTime();
      while (absl::Now() < stop) {
        for (int i = 0; i < 16; ++i) {
          if (!verifier->Verify(signature, message).ok()) failed = true;
        }
        n += 16;
      }
      verified += n;
      cpu_nanos += absl::ToInt64Nanoseconds(ThreadCpuTime() - cpu_start);
    });
  }
  for (std::thread& w : workers) w.join();
  const absl::Duration elapsed = absl::Now() - start;
  if (failed) return absl::InternalError("a valid signature did not verify");
  VerifyLimit limit;
  limit.rate = static_cast<double>(verified) / absl::ToDoubleSeconds(elapsed);
  limit.cpu = absl::Nanoseconds(cpu_nanos.load()) /
              static_cast<double>(std::max<uint64_t>(1, verified));
  return limit;
}

class EmptyServiceImpl final
    : public refsum::bench::EmptyService::CallbackService {
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const refsum::bench::Empty* /*request*/,
                                 refsum::bench::Empty* /*response*/) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

absl::StatusOr<LoadResult> EmptyCallRate(int concurrency,
                                         absl::Duration duration) {
  EmptyServiceImpl service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError("cannot start the empty gRPC server");
  }
  // As many connections as the load generator uses against the log.
  constexpr int kChannels = 4;
  std::vector<std::unique_ptr<refsum::bench::EmptyService::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(refsum::bench::EmptyService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                  grpc::InsecureChannelCredentials(), args)));
  }
  LoadOptions options;
  options.duration = duration;
  LoadResult result = RunClosedLoop(
      concurrency, options,
      [&stubs](uint64_t i, std::function<void(absl::Status)> done) {
        struct Call {
          grpc::ClientContext context;
          refsum::bench::Empty request, response;
        };
        auto call = std::make_shared<Call>();
        call->context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(300)));
        stubs[i % stubs.size()]->async()->Call(
            &call->context, &call->request, &call->response,
            [call, done = std::move(done)](grpc::Status status) {
              done(status.ok() ? absl::OkStatus()
                               : absl::UnavailableError(status.error_message()));
            });
      });
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  if (result.errors > 0) return result.first_error;
  return result;
}

absl::StatusOr<double> RocksDbSyncRate(const std::string& dir,
                                       absl::Duration duration) {
  if (dir.empty()) return absl::InvalidArgumentError("--dir is required");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  rocksdb::DB* raw = nullptr;
  const std::string path = dir + "/rocksdb-sync-limit";
  rocksdb::Status status = rocksdb::DB::Open(options, path, &raw);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("opening RocksDB at ", path, ": ", status.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  const std::string value(kMessageSize, 'v');
  uint64_t writes = 0;
  const absl::Time start = absl::Now();
  const absl::Time stop = start + duration;
  while (absl::Now() < stop) {
    rocksdb::WriteBatch batch;
    batch.Put(absl::StrFormat("k%016d", writes), value);
    status = db->Write(write_options, &batch);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("RocksDB write: ", status.ToString()));
    }
    ++writes;
  }
  const absl::Duration elapsed = absl::Now() - start;
  db.reset();
  rocksdb::DestroyDB(path, options);
  return static_cast<double>(writes) / absl::ToDoubleSeconds(elapsed);
}

absl::Status Run() {
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  ASSIGN_OR_RETURN(VerifyLimit ed25519,
                   MeasureVerify(crypto::KeyType::kEd25519, duration));
  ASSIGN_OR_RETURN(VerifyLimit ecdsa,
                   MeasureVerify(crypto::KeyType::kEcdsaP256, duration));
  ASSIGN_OR_RETURN(LoadResult grpc, EmptyCallRate(concurrency, duration));
  ASSIGN_OR_RETURN(double rocksdb,
                   RocksDbSyncRate(absl::GetFlag(FLAGS_dir), duration));
  std::cout << absl::StrFormat(
                   "cores=%d ed25519_verify_rate=%.1f ecdsa_verify_rate=%.1f "
                   "ed25519_verify_cpu_us=%.2f ecdsa_verify_cpu_us=%.2f "
                   "rocksdb_sync_batch_rate=%.1f ",
                   std::thread::hardware_concurrency(), ed25519.rate,
                   ecdsa.rate, absl::ToDoubleMicroseconds(ed25519.cpu),
                   absl::ToDoubleMicroseconds(ecdsa.cpu), rocksdb)
            << FormatResult(grpc, "grpc_empty_") << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace refsum::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "refsum-bench-limits --dir DIR [--duration 5s] [--concurrency 256]");
  absl::StatusOr<std::vector<std::string>> args =
      refsum::ParseCommandLine(argc, argv);
  if (!args.ok() || args->size() != 1) {
    std::cerr << (args.ok() ? "no positional arguments expected"
                            : args.status().message())
              << "\n";
    return 2;
  }
  const absl::Status status = refsum::bench::Run();
  if (!status.ok()) {
    std::cerr << "refsum-bench-limits: " << status << "\n";
    return 1;
  }
  return 0;
}
