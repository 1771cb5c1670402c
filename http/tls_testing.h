// Throwaway TLS certificates for tests: a fresh CA (ECDSA P-256) and a
// server certificate it signed for 127.0.0.1, ::1 and localhost, made with
// OpenSSL at test time, plus a second, unrelated CA that clients must not
// accept the server with.

#ifndef REFSUM_HTTP_TLS_TESTING_H_
#define REFSUM_HTTP_TLS_TESTING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace refsum::http::testing {

struct TestPki {
  std::string ca_pem;
  // The server certificate, then the CA certificate.
  std::string server_chain_pem;
  // PKCS#8 PEM.
  std::string server_key_pem;
  // A CA that did not sign the server certificate.
  std::string other_ca_pem;
};

// Returns a fresh TestPki. Internal if OpenSSL fails.
absl::StatusOr<TestPki> MakeTestPki();

// Writes `pki` to `dir` (which must exist) as ca.pem, server.pem,
// server.key (mode 0600) and other-ca.pem.
absl::Status WriteTestPki(const TestPki& pki, const std::string& dir);

}  // namespace refsum::http::testing

#endif  // REFSUM_HTTP_TLS_TESTING_H_
