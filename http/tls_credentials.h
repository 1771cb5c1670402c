// The TLS flags the daemons share: --tls_cert and --tls_key.

#ifndef REFSUM_HTTP_TLS_CREDENTIALS_H_
#define REFSUM_HTTP_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/bounded_server.h"

namespace refsum::http {

// Reads a server's TLS certificate chain (PEM, the server's certificate
// first) from `cert_path` and its private key (PEM) from `key_path`. Returns
// null when both paths are empty (plain text), InvalidArgument when only one
// is given, ReadFile's errors for the chain, and crypto::ReadPrivateFile's
// for the key: FailedPrecondition when its group or others may access it,
// like any signing key. Whether the two parse and match is checked where
// they are used (BoundedServer::Start, gRPC).
absl::StatusOr<std::shared_ptr<const TlsServerCredentials>>
ReadTlsServerCredentials(const std::string& cert_path,
                         const std::string& key_path);

}  // namespace refsum::http

#endif  // REFSUM_HTTP_TLS_CREDENTIALS_H_
