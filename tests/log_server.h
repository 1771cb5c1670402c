// A real refsum-log for end-to-end tests: make a log key with
// `refsum-log keygen`, run `refsum-log serve` as a child process on loopback
// (ports picked by the kernel), wait until it is ready, talk to it, stop it
// with SIGTERM or SIGKILL, and start it again on the same data directory.
//
// The binary is //log:refsum-log at the runfiles path "log/refsum-log": a
// test using this library needs `data = ["//log:refsum-log"]` and must run
// in its runfiles directory (Bazel's default).
//
//   ASSERT_OK_AND_ASSIGN(LogKey key, GenerateLogKey("log.example/x", dir));
//   LogServerOptions options;
//   options.key = key;
//   options.data_dir = dir + "/data";
//   options.keys_path = dir + "/signers.txt";  // or "" for --open
//   options.output_dir = dir;
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> log,
//                        LogServer::Start(options));
//   log->client().Submit(...);
//   ASSERT_OK_AND_ASSIGN(ExitStatus stopped, log->Terminate());
//   ASSERT_OK(log->Restart());  // same data directory, new ports
//
// Linking this library also sets GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS
// to 50 (unless the environment sets it) before gRPC initializes: a log that
// shuts down waits for its idle clients to answer the ping of its GOAWAY,
// and with gRPC's default of 5 s every SIGTERM would take 5 s.
//
// Not thread-safe: use a LogServer from one thread at a time, except that
// stub() and client() may be used from any number of threads at once while
// nothing starts, stops or restarts the server. Like Process, a LogServer
// never outlives its object: the destructor kills a server still running.

#ifndef REFSUM_TESTS_LOG_SERVER_H_
#define REFSUM_TESTS_LOG_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/log_client.h"
#include "crypto/note.h"
#include "proto/log.grpc.pb.h"
#include "tests/process.h"

namespace refsum::tests {

// The runfiles path of //log:refsum-log.
inline constexpr char kLogBinary[] = "log/refsum-log";

// A log's key as `refsum-log keygen` writes it. Copyable; copies share the
// (immutable, thread-safe) verifier.
struct LogKey {
  // The key name, which is also the origin of the log's checkpoints.
  std::string origin;
  // The Ed25519 private key (PEM, mode 0600): `refsum-log serve --key`.
  std::string key_path;
  // The verifier key file, one line "<origin>+<key id>+<base64>\n", as a
  // C2SP tlog-policy `log` line and refsum-submit's --log_key take it.
  std::string vkey_path;
  // The verifier key without its newline.
  std::string vkey;
  // Verifies the log's checkpoint signatures.
  std::shared_ptr<const crypto::NoteVerifier> verifier;
};

// Creates `dir` (mode 0700) if it does not exist, runs `refsum-log keygen
// --origin=<origin> --out=<dir>` with its stdout and stderr in
// `dir`/keygen.stdout and .stderr, waiting at most 300 s, and returns the key
// it wrote, read back from the files. Returns Internal with the exit status
// and stderr if keygen fails (for instance because `dir` already holds a
// log.key), and otherwise the error of creating `dir`, of running keygen, or
// of reading or parsing the verifier key.
absl::StatusOr<LogKey> GenerateLogKey(absl::string_view origin,
                                      const std::string& dir);

// How to run `refsum-log serve`.
struct LogServerOptions {
  // Required: the log's key; serve gets --origin=key.origin and
  // --key=key.key_path.
  LogKey key;
  // Required: the RocksDB data directory (--data_dir). The log creates it if
  // missing; a server started again on the same directory serves the same
  // log.
  std::string data_dir;
  // The admitted signers file (--keys: lines "vendor|rebuilder NAME
  // PEMFILE"); empty runs the log in open mode (--open).
  std::string keys_path;
  // --batch_size and --batch_interval when set; otherwise the log's defaults.
  std::optional<int> batch_size;
  std::optional<absl::Duration> batch_interval;
  // Appended to the command line as they are.
  std::vector<std::string> extra_flags;
  // For a log that serves TLS (--tls_cert and --tls_key in extra_flags):
  // the PEM CA certificates stub() and client() accept it with.
  std::string tls_ca_pem;
  // Required: an existing directory for each start's files
  // serve-<N>.stdout, serve-<N>.stderr and serve-<N>.ready.json, where N
  // counts the starts of every LogServer in this test binary.
  std::string output_dir;
  // An upper bound on waiting for the log to start or stop, and the deadline
  // of each call through client(). Generous: never an expectation of speed.
  absl::Duration timeout = absl::Seconds(300);
};

class LogServer {
 public:
  // Starts `refsum-log serve` with `options` on 127.0.0.1 with free ports
  // (--grpc_addr=127.0.0.1:0 --http_addr=127.0.0.1:0), waits (up to
  // options.timeout) until it has written its ready file and its gRPC port
  // accepts a connection, and returns it. Returns InvalidArgument if a
  // required option is empty; Process::Start's errors; FailedPrecondition
  // with the exit status and the end of stderr if the log exits before it is
  // ready (e.g. bad flags); DeadlineExceeded if it is not ready in time; and
  // Unavailable if its gRPC port does not connect.
  static absl::StatusOr<std::unique_ptr<LogServer>> Start(
      LogServerOptions options);

  // Kills the server if it is still running. If the test has failed by then,
  // prints the end of the server's stderr to std::cerr.
  ~LogServer();

  LogServer(const LogServer&) = delete;
  LogServer& operator=(const LogServer&) = delete;

  const LogServerOptions& options() const { return options_; }
  const std::string& origin() const { return options_.key.origin; }
  // The verifier key file, for a policy's `log` line or --log_key.
  const std::string& vkey_path() const { return options_.key.vkey_path; }
  const crypto::NoteVerifier& verifier() const {
    return *options_.key.verifier;
  }

  // The addresses of the current run, from its ready file: gRPC
  // "127.0.0.1:<port>" (what --log HOST:PORT takes), and the HTTP
  // (tlog-tiles) host and port.
  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_host() const { return http_host_; }
  int http_port() const { return http_port_; }

  // A stub on a connected channel without a limit on the size of received
  // messages, and a client::LogClient with a per-call deadline of
  // options().timeout, both for the current run. Restart replaces them:
  // references taken before it dangle after it.
  refsum::v1::Log::Stub& stub() { return *stub_; }
  client::LogClient& client() { return *client_; }

  // The current run's process, e.g. to Poll it or to read its output.
  Process& process() { return *process_; }

  // Sends SIGTERM (a graceful stop) or SIGKILL (a crash) and waits up to
  // options().timeout for the process to end. Returns its exit status, or
  // Process::SignalAndWait's errors (FailedPrecondition if it had already
  // been reaped).
  absl::StatusOr<ExitStatus> Terminate();
  absl::StatusOr<ExitStatus> Kill();

  // Starts the log again with the same options, hence on the same data
  // directory, and waits until it is ready, as Start does. The ports, and
  // so the addresses, stub() and client(), change. Returns
  // FailedPrecondition, changing nothing, if the current run has not ended
  // (Terminate or Kill it first); otherwise Start's errors, after which only
  // the destructor may be used.
  absl::Status Restart();

 private:
  explicit LogServer(LogServerOptions options);

  // Starts a run and connects to it.
  absl::Status Run();

  // Prints the end of the current run's stderr, if any, to std::cerr.
  void PrintStderr() const;

  const LogServerOptions options_;
  std::unique_ptr<Process> process_;
  std::string grpc_address_;
  std::string http_host_;
  int http_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<refsum::v1::Log::Stub> stub_;
  std::unique_ptr<client::LogClient> client_;
};

}  // namespace refsum::tests

#endif  // REFSUM_TESTS_LOG_SERVER_H_
