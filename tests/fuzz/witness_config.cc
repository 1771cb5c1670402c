// Fuzzes witness::ParseConfig, the refsum-witness configuration file. A
// parsed configuration keeps its documented invariants: a valid key name,
// addresses that format and parse back the same, distinct log origins and
// scope prefixes, parallelism in range, a report URL ending in '/'.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "crypto/note.h"
#include "tests/fuzz/check.h"
#include "witness/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::witness;  // NOLINT: a fuzz target's one function
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<WitnessConfig> config =
      ParseConfig(input, "/nonexistent/witness.conf");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(config.status().message(),
                                "/nonexistent/witness.conf"));
    return 0;
  }
  FUZZ_CHECK(refsum::crypto::IsValidNoteKeyName(config->name));
  FUZZ_CHECK(config->parallelism >= 1 &&
             config->parallelism <= kMaxParallelism);
  FUZZ_CHECK(config->report_url.empty() ||
             absl::EndsWith(config->report_url, "/"));
  const std::string address = FormatHostPort(config->http_address);
  absl::StatusOr<HostPort> reparsed =
      ParseHostPort(address, /*allow_port_zero=*/true);
  FUZZ_CHECK_OK(reparsed);
  FUZZ_CHECK(reparsed->host == config->http_address.host &&
             reparsed->port == config->http_address.port);
  absl::flat_hash_set<std::string> origins;
  for (const LogConfig& log : config->logs) {
    FUZZ_CHECK(origins.insert(log.origin).second);
    FUZZ_CHECK_OK(refsum::crypto::NewNoteVerifierFromKey(log.vkey));
  }
  absl::flat_hash_set<std::string> prefixes;
  for (const ScopeConfig& scope : config->scopes) {
    FUZZ_CHECK(prefixes.insert(scope.repository_prefix).second);
  }
  return 0;
}
