// The configuration file of `refsum-witness serve`: who the witness is, its
// keys, where it listens and keeps state, the logs it follows and cosigns,
// and what it rebuilds (see deploy/witness.example.conf).
//
// The file is UTF-8 text, one directive per line: a keyword and its
// arguments, separated by spaces or tabs. Blank lines and lines whose first
// non-blank character is '#' are ignored; '#' anywhere else is part of the
// line (a recipe is a shell command and may contain one). Keywords:
//
//   name NAME              The witness's cosigner name: the key name of its
//                          cosign.vkey and of every cosignature line. A
//                          valid note key name (no spaces, no '+').
//   cosign_key PATH        The Ed25519 cosigning key (PKCS#8 PEM, mode 0600),
//                          `refsum-witness keygen`'s cosign.key.
//   rebuild_key PATH       The DSSE key that signs rebuild attestations,
//                          keygen's rebuild.key (mode 0600).
//   http_addr HOST:PORT    Where the HTTP server (add-checkpoint, reports)
//                          listens; "[::1]:7380" for IPv6, port 0 for any
//                          free port.
//   state_dir PATH         The witness's own directory: cosigned checkpoints,
//                          reports and the rebuild pipeline's state (see
//                          CosignedDir and ReportsDir).
//   log ORIGIN VKEY GRPC_ADDR
//                          A log to cosign and follow: its origin, its C2SP
//                          signed-note verifier key (type 0x01, Ed25519)
//                          whose key name must be ORIGIN, and the HOST:PORT
//                          of its gRPC API. Repeatable, one per origin.
//   scope REPOSITORY_PREFIX RECIPE...
//                          Rebuild claims whose repository starts with
//                          REPOSITORY_PREFIX by running RECIPE (the rest of
//                          the line, a shell command) in the sandbox.
//                          Repeatable, one per prefix.
//   limit wall_time DURATION   A rebuild's time limit, e.g. 90m or 1h30m.
//   limit memory BYTES         Its memory limit; BYTES is a positive integer
//   limit output BYTES         with an optional K, M or G suffix (powers of
//                              1024). `output` bounds what it leaves in /out.
//   parallelism N          How many rebuilds run at once (1 to 256).
//   report_url URL_PREFIX  The http:// or https:// URL under which the
//                          HTTP server's /reports/ are reachable from
//                          outside (a report named R is at URL_PREFIX + R);
//                          needed when http_addr is not how others reach
//                          the witness, and required with a scope when
//                          http_addr is a wildcard (0.0.0.0, ::). Default:
//                          http://HOST:PORT/reports/ from http_addr (and the
//                          port actually bound).
//
// name, cosign_key, rebuild_key, http_addr, state_dir and at least one log
// are required; every keyword but log and scope may appear once. Relative
// PATHs are relative to the directory of the configuration file.

#ifndef REFSUM_WITNESS_CONFIG_H_
#define REFSUM_WITNESS_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace refsum::witness {

// Defaults of the limit and parallelism lines.
inline constexpr absl::Duration kDefaultWallTime = absl::Hours(1);
inline constexpr uint64_t kDefaultMemoryBytes = uint64_t{4} << 30;
inline constexpr uint64_t kDefaultOutputBytes = uint64_t{1} << 30;
inline constexpr int kDefaultParallelism = 1;
inline constexpr int kMaxParallelism = 256;

struct HostPort {
  // Without brackets for IPv6 ("::1"), as bind() and cpp-httplib take it.
  std::string host;
  int port = 0;
};

// Parses "HOST:PORT" or "[IPV6]:PORT" with a port in 0..65535, or 1..65535
// unless `allow_port_zero`. Returns InvalidArgument naming the problem.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address,
                                       bool allow_port_zero);

// Returns "HOST:PORT", with brackets around an IPv6 host.
std::string FormatHostPort(const HostPort& address);

struct LogConfig {
  std::string origin;
  // The type 0x01 verifier key string, named `origin`.
  std::string vkey;
  // The gRPC API as given, "HOST:PORT", for client::LogClient::Connect.
  std::string grpc_address;
  // Not from the file: PEM CA certificates to reach the log with TLS
  // (refsum-witness serve --log_tls_ca); empty for plain text.
  std::string tls_ca_pem = {};
};

struct ScopeConfig {
  std::string repository_prefix;
  // A shell command, verbatim but for surrounding blanks.
  std::string recipe;
};

struct SandboxLimits {
  absl::Duration wall_time = kDefaultWallTime;
  uint64_t memory_bytes = kDefaultMemoryBytes;
  uint64_t output_bytes = kDefaultOutputBytes;
};

// A configuration that ParseConfig checked: every field is valid as
// documented above, paths are resolved against the file's directory.
struct WitnessConfig {
  std::string name;
  std::string cosign_key_path;
  std::string rebuild_key_path;
  HostPort http_address;
  std::string state_dir;
  // In file order; origins are distinct.
  std::vector<LogConfig> logs;
  // In file order; prefixes are distinct. Empty for a witness that only
  // cosigns.
  std::vector<ScopeConfig> scopes;
  SandboxLimits limits;
  int parallelism = kDefaultParallelism;
  // Ends in '/'. Empty when not configured: use ReportUrlPrefix with the
  // address the HTTP server bound.
  std::string report_url;
  // Not from the file: the HTTP server's TLS certificate chain and key
  // files (refsum-witness serve --tls_cert and --tls_key); both empty for
  // plain HTTP.
  std::string tls_cert_path;
  std::string tls_key_path;
};

// Parses the configuration `text` of the file at `path`, which is used to
// resolve relative paths and in messages. Returns InvalidArgument
// "PATH:LINE: problem" for the first bad line, or "PATH: problem" for a
// missing directive. Thread-safe.
absl::StatusOr<WitnessConfig> ParseConfig(absl::string_view text,
                                          absl::string_view path);

// Reads and parses the file at `path`. Returns ReadFile's errors or
// ParseConfig's.
absl::StatusOr<WitnessConfig> ReadConfigFile(const std::string& path);

// The layout of state_dir, decided here so that its users agree:
//   cosigned/  the cosigner's newest cosigned checkpoint of each log
//   reports/   rebuild reports, served at report_url
// The rebuild pipeline keeps its own state in further subdirectories.
std::string CosignedDir(absl::string_view state_dir);
std::string ReportsDir(absl::string_view state_dir);

// Returns "http://HOST:PORT/reports/" (with `tls`, "https://...") for the
// HTTP server at `address`, the default report_url.
std::string ReportUrlPrefix(const HostPort& address, bool tls = false);

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_CONFIG_H_
