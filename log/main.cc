// refsum-log: the log server.
//
//   refsum-log keygen --origin ORIGIN --out DIR
//   refsum-log serve --data_dir DIR --origin ORIGIN --key FILE
//       --grpc_addr HOST:PORT --http_addr HOST:PORT [--keys FILE | --open]
//       [--ready_file FILE] [--batch_size N] [--batch_interval DURATION]
//       [--cache_mb N] [--witnesses FILE [--witness_timeout DURATION]
//       [--witness_max_backoff DURATION]] [--grpc_max_receive_bytes N]
//       [--grpc_max_send_bytes N] [--max_page_size N]
//       [--max_inflight_submissions N] [--submit_rate_per_key RATE
//       [--submit_burst_per_key N]] [--tls_cert FILE --tls_key FILE]
//       [--witness_tls_ca FILE]
//   refsum-log fsck --data_dir DIR --origin ORIGIN --key FILE

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/daemon.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/signer.h"
#include "encoding/json.h"
#include "http/tls_credentials.h"
#include "log/admission.h"
#include "log/fsck.h"
#include "log/http_server.h"
#include "log/metrics.h"
#include "log/rate_limiter.h"
#include "log/sequencer.h"
#include "log/service.h"
#include "log/storage.h"
#include "log/witness_pusher.h"
#include "tlog/policy.h"

ABSL_FLAG(std::string, origin, "",
          "The log's origin (checkpoint first line and key name), e.g. "
          "log.example.com/refsum.");
ABSL_FLAG(std::string, out, "", "keygen: directory to write log.key and "
                                "log.vkey to.");
ABSL_FLAG(std::string, data_dir, "", "serve: the RocksDB data directory.");
ABSL_FLAG(std::string, key, "", "serve: the log's Ed25519 private key (PEM).");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:0",
          "serve: gRPC listen address; port 0 picks a free port.");
ABSL_FLAG(std::string, http_addr, "127.0.0.1:0",
          "serve: HTTP (tlog-tiles) listen address; port 0 picks a free port.");
ABSL_FLAG(std::string, keys, "",
          "serve: admitted signers, lines \"vendor NAME PEMFILE\" or "
          "\"rebuilder NAME PEMFILE\".");
ABSL_FLAG(bool, open, false,
          "serve: admit any key sent with a submission (and remember it).");
ABSL_FLAG(std::string, ready_file, "",
          "serve: once listening, write {\"grpc\":...,\"http\":...} here.");
ABSL_FLAG(int, batch_size, 1024, "serve: most entries per sequencer batch.");
ABSL_FLAG(absl::Duration, batch_interval, absl::ZeroDuration(),
          "serve: how long a batch waits for more entries after its first; "
          "0 integrates as soon as the previous batch is written.");
ABSL_FLAG(int, cache_mb, 64, "serve: RocksDB block cache size in MiB.");
ABSL_FLAG(std::string, witnesses, "",
          "serve: a C2SP tlog-policy file of the witnesses to push "
          "checkpoints to (witness lines with their submission prefix URLs, "
          "groups, quorum). With it, GET /checkpoint, tiles and bundles serve "
          "the newest checkpoint that meets the quorum, with the "
          "cosignatures.");
ABSL_FLAG(int, grpc_max_receive_bytes, 4 << 20,
          "serve: the largest gRPC request accepted (RESOURCE_EXHAUSTED "
          "beyond); a submission is at most a 64 KiB leaf, sent as JSON.");
ABSL_FLAG(int, grpc_max_send_bytes, 65 << 20,
          "serve: the largest gRPC answer sent; bundles are the largest (up "
          "to 64 MiB of JSON).");
ABSL_FLAG(int, max_page_size, 1000,
          "serve: the most entries, indices, bundle claims and attestations "
          "per claim one call returns.");
ABSL_FLAG(int, max_inflight_submissions, 4096,
          "serve: submissions admitted and not yet answered; beyond, "
          "RESOURCE_EXHAUSTED at once. 0 for no bound.");
ABSL_FLAG(double, submit_rate_per_key, 0,
          "serve: submissions per second one signer key may make, beyond a "
          "burst (RESOURCE_EXHAUSTED naming the keyid); 0 for no limit.");
ABSL_FLAG(double, submit_burst_per_key, 0,
          "serve: with --submit_rate_per_key, how many submissions a key may "
          "make at once; 0 for the rate rounded up (at least 1).");
ABSL_FLAG(std::string, tls_cert, "",
          "serve: a PEM certificate chain (the server's certificate first); "
          "with --tls_key, both the gRPC and the HTTP listener speak TLS "
          "only.");
ABSL_FLAG(std::string, tls_key, "",
          "serve: the PEM private key of --tls_cert; refused if its group or "
          "others may read it.");
ABSL_FLAG(std::string, witness_tls_ca, "",
          "serve: a PEM file of the CA certificates https witnesses must "
          "chain to; default: the system's CA store.");
ABSL_FLAG(absl::Duration, witness_timeout, absl::Seconds(10),
          "serve: bound on connecting to a witness and on each read and "
          "write of a request to it.");
ABSL_FLAG(absl::Duration, witness_max_backoff, absl::Seconds(60),
          "serve: the longest wait before retrying a witness that failed; "
          "waits start at 1s and double.");

namespace refsum::log {
namespace {

constexpr char kUsage[] =
    "refsum-log keygen --origin ORIGIN --out DIR\n"
    "refsum-log serve --data_dir DIR --origin ORIGIN --key FILE "
    "--grpc_addr HOST:PORT --http_addr HOST:PORT [--keys FILE | --open] "
    "[--ready_file FILE] [--witnesses FILE]\n"
    "refsum-log fsck --data_dir DIR --origin ORIGIN --key FILE";

absl::Status RequireFlag(const std::string& value, absl::string_view name) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return absl::OkStatus();
}

absl::Status Keygen() {
  const std::string origin = absl::GetFlag(FLAGS_origin);
  const std::string out = absl::GetFlag(FLAGS_out);
  RETURN_IF_ERROR(RequireFlag(origin, "origin"));
  RETURN_IF_ERROR(RequireFlag(out, "out"));
  if (!crypto::IsValidNoteKeyName(origin)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--origin \"", origin, "\" must be non-empty without spaces or '+'"));
  }
  if (mkdir(out.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("creating ", out));
  }
  const std::string key_path = out + "/log.key";
  struct stat existing;
  if (stat(key_path.c_str(), &existing) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(key_path, " exists; refusing to overwrite a log key"));
  }
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(std::string vkey,
                   crypto::FormatVerifierKey(
                       origin, crypto::kNoteSignatureTypeEd25519,
                       key.public_key()));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(key_path, key));
  RETURN_IF_ERROR(WriteFileAtomically(out + "/log.vkey", vkey + "\n", 0644));
  std::printf("wrote %s and %s/log.vkey\n%s\n", key_path.c_str(), out.c_str(),
              vkey.c_str());
  return absl::OkStatus();
}

// Splits HOST:PORT; port 0 asks for a free port.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& address, absl::string_view flag) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " \"", address, "\" is not HOST:PORT"));
  }
  return std::make_pair(address.substr(0, colon), port);
}

// Starts pushing checkpoints to the witnesses of the tlog-policy in
// --witnesses, or returns null if the flag is not set.
absl::StatusOr<std::unique_ptr<WitnessPusher>> StartWitnessing(
    Storage* storage, const crypto::NoteVerifier* verifier, Metrics* metrics) {
  const std::string path = absl::GetFlag(FLAGS_witnesses);
  if (path.empty()) return nullptr;
  const absl::Duration timeout = absl::GetFlag(FLAGS_witness_timeout);
  const absl::Duration max_backoff = absl::GetFlag(FLAGS_witness_max_backoff);
  WitnessPusherOptions options;
  if (timeout <= absl::ZeroDuration() || max_backoff < options.min_backoff) {
    return absl::InvalidArgumentError(
        "--witness_timeout must be positive and --witness_max_backoff at "
        "least 1s");
  }
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path, 1 << 20));
  absl::StatusOr<tlog::TlogPolicy> policy = tlog::ParseTlogPolicy(text);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat("--witnesses ", path, ": ",
                                     policy.status().message()));
  }
  options.connect_timeout = timeout;
  options.io_timeout = timeout;
  options.max_backoff = max_backoff;
  options.metrics = metrics;
  options.tls_ca_path = absl::GetFlag(FLAGS_witness_tls_ca);
  absl::StatusOr<std::unique_ptr<WitnessPusher>> pusher =
      WitnessPusher::Start(*std::move(policy), storage, verifier, options);
  if (!pusher.ok()) {
    return absl::Status(pusher.status().code(),
                        absl::StrCat("--witnesses ", path, ": ",
                                     pusher.status().message()));
  }
  return pusher;
}

// TLS with `tls`, plain text without.
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(
    const http::TlsServerCredentials* tls) {
  if (tls == nullptr) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(
      {tls->private_key_pem, tls->certificate_chain_pem});
  return grpc::SslServerCredentials(options);
}

// The per-key submission rate limiter of --submit_rate_per_key, or null.
absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> NewRateLimiter() {
  const double rate = absl::GetFlag(FLAGS_submit_rate_per_key);
  double burst = absl::GetFlag(FLAGS_submit_burst_per_key);
  if (rate == 0 && burst == 0) return nullptr;
  if (burst == 0) burst = std::max(1.0, std::ceil(rate));
  absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> limiter =
      KeyedRateLimiter::Create(rate, burst);
  if (!limiter.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--submit_rate_per_key ", rate, " --submit_burst_per_key ", burst,
        ": ", limiter.status().message()));
  }
  return limiter;
}

absl::Status WriteReadyFile(const std::string& path, int grpc_port,
                            const std::string& grpc_host, int http_port,
                            const std::string& http_host) {
  using encoding::JsonValue;
  const std::string json = encoding::SerializeJson(JsonValue::MakeObject({
      {"grpc", JsonValue::String(absl::StrCat(grpc_host, ":", grpc_port))},
      {"http", JsonValue::String(absl::StrCat(http_host, ":", http_port))},
  }));
  return WriteFileAtomically(path, json + "\n", 0644);
}

absl::Status Serve() {
  const sigset_t termination = BlockTerminationSignals();
  const std::string origin = absl::GetFlag(FLAGS_origin);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string key_path = absl::GetFlag(FLAGS_key);
  RETURN_IF_ERROR(RequireFlag(origin, "origin"));
  RETURN_IF_ERROR(RequireFlag(data_dir, "data_dir"));
  RETURN_IF_ERROR(RequireFlag(key_path, "key"));
  const bool open = absl::GetFlag(FLAGS_open);
  const std::string keys_path = absl::GetFlag(FLAGS_keys);
  if (!open && keys_path.empty()) {
    return absl::InvalidArgumentError(
        "give --keys FILE (admitted signers) or --open (admit any key)");
  }
  if (absl::GetFlag(FLAGS_batch_size) < 1 ||
      absl::GetFlag(FLAGS_cache_mb) < 1 ||
      absl::GetFlag(FLAGS_batch_interval) < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--batch_size and --cache_mb must be positive and --batch_interval "
        "not negative");
  }
  if (absl::GetFlag(FLAGS_grpc_max_receive_bytes) < 1 ||
      absl::GetFlag(FLAGS_grpc_max_send_bytes) < 1 ||
      absl::GetFlag(FLAGS_max_page_size) < 1 ||
      absl::GetFlag(FLAGS_max_inflight_submissions) < 0) {
    return absl::InvalidArgumentError(
        "--grpc_max_receive_bytes, --grpc_max_send_bytes and --max_page_size "
        "must be positive and --max_inflight_submissions not negative");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<KeyedRateLimiter> rate_limiter,
                   NewRateLimiter());
  ASSIGN_OR_RETURN(auto grpc_address,
                   SplitHostPort(absl::GetFlag(FLAGS_grpc_addr), "grpc_addr"));
  ASSIGN_OR_RETURN(auto http_address,
                   SplitHostPort(absl::GetFlag(FLAGS_http_addr), "http_addr"));

  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::ReadPrivateKeyFile(key_path));
  ASSIGN_OR_RETURN(std::shared_ptr<const http::TlsServerCredentials> tls,
                   http::ReadTlsServerCredentials(absl::GetFlag(FLAGS_tls_cert),
                                                  absl::GetFlag(FLAGS_tls_key)));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteSigner> signer,
                   crypto::NewEd25519NoteSigner(origin, key));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteVerifier> verifier,
                   crypto::NewEd25519NoteVerifier(origin, key.public_key()));
  AdmissionOptions admission_options{origin, {}, open};
  if (!keys_path.empty()) {
    ASSIGN_OR_RETURN(admission_options.keys, ReadKeysFile(keys_path));
  }

  StorageOptions storage_options;
  storage_options.block_cache_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_cache_mb)) << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<Storage> storage,
                   Storage::Open(data_dir, storage_options));
  Metrics metrics;
  // Started before the sequencer, which hands it every new checkpoint, and
  // so destroyed after it.
  ASSIGN_OR_RETURN(std::unique_ptr<WitnessPusher> witnesses,
                   StartWitnessing(storage.get(), verifier.get(), &metrics));
  SequencerOptions sequencer_options;
  sequencer_options.max_batch_entries =
      static_cast<size_t>(absl::GetFlag(FLAGS_batch_size));
  sequencer_options.max_batch_delay = absl::GetFlag(FLAGS_batch_interval);
  sequencer_options.metrics = &metrics;
  if (witnesses != nullptr) {
    sequencer_options.on_checkpoint =
        [raw = witnesses.get()](std::shared_ptr<const SignedCheckpoint> next) {
          raw->Offer(std::move(next));
        };
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Sequencer> sequencer,
                   Sequencer::Start(storage.get(), origin, signer.get(),
                                    verifier.get(), sequencer_options));
  metrics.SetTreeSize(sequencer->Latest()->checkpoint.size);
  if (witnesses != nullptr) witnesses->Offer(sequencer->Latest());
  ASSIGN_OR_RETURN(std::unique_ptr<Admission> admission,
                   Admission::Create(std::move(admission_options),
                                     storage.get()));
  ServiceOptions service_options;
  service_options.metrics = &metrics;
  service_options.witnesses = witnesses.get();
  service_options.max_page_size =
      static_cast<uint32_t>(absl::GetFlag(FLAGS_max_page_size));
  service_options.max_inflight_submissions =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_inflight_submissions));
  service_options.rate_limiter = rate_limiter.get();
  auto service = std::make_unique<LogService>(storage.get(), sequencer.get(),
                                              admission.get(), service_options);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_grpc_addr),
                           GrpcServerCredentials(tls.get()), &grpc_port);
  builder.SetMaxReceiveMessageSize(
      absl::GetFlag(FLAGS_grpc_max_receive_bytes));
  builder.SetMaxSendMessageSize(absl::GetFlag(FLAGS_grpc_max_send_bytes));
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || grpc_port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on ", absl::GetFlag(FLAGS_grpc_addr)));
  }
  // The HTTP API serves the checkpoint bundles are built against, so that
  // its tiles match the checkpoint clients verify.
  CheckpointSource served = [&sequencer] { return sequencer->Latest(); };
  if (witnesses != nullptr) {
    served = [raw = witnesses.get()] { return raw->Witnessed(); };
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http,
                   HttpServer::Start(http_address.first, http_address.second,
                                     storage.get(), std::move(served),
                                     &metrics, tls));
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  if (!ready_file.empty()) {
    RETURN_IF_ERROR(WriteReadyFile(ready_file, grpc_port, grpc_address.first,
                                   http->port(), http_address.first));
  }
  std::fprintf(stderr, "refsum-log %s: gRPC on %s:%d, HTTP on %s:%d\n",
               origin.c_str(), grpc_address.first.c_str(), grpc_port,
               http_address.first.c_str(), http->port());

  const int signal_number = WaitForTermination(termination);
  std::fprintf(stderr, "refsum-log: %s, draining\n", strsignal(signal_number));
  // Submissions waiting for witnesses fail (UNAVAILABLE) rather than hold
  // the shutdown for as long as the witnesses take; later checkpoints are no
  // longer pushed.
  if (witnesses != nullptr) witnesses->Shutdown();
  // In-flight submissions finish: gRPC waits for their reactors, which the
  // sequencer and the service's workers complete.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(30));
  http->Shutdown();
  sequencer->Shutdown();
  service.reset();
  return absl::OkStatus();
}

// Checks a stopped log's whole data directory (log/fsck.h).
absl::Status FsckCommand() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  RETURN_IF_ERROR(RequireFlag(data_dir, "data_dir"));
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_origin), "origin"));
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_key), "key"));
  ASSIGN_OR_RETURN(const FsckReport report,
                   FsckDataDir(data_dir, absl::GetFlag(FLAGS_origin),
                               absl::GetFlag(FLAGS_key)));
  std::printf("%s: %s\n", data_dir.c_str(), FormatFsckReport(report).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace refsum::log

int main(int argc, char** argv) {
  return refsum::RunSubcommands(
      argc, argv, "refsum-log", refsum::log::kUsage,
      {{"keygen", refsum::log::Keygen},
       {"serve", refsum::log::Serve},
       {"fsck", refsum::log::FsckCommand}});
}
