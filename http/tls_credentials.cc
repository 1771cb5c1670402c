#include "http/tls_credentials.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/keys.h"

namespace refsum::http {

absl::StatusOr<std::shared_ptr<const TlsServerCredentials>>
ReadTlsServerCredentials(const std::string& cert_path,
                         const std::string& key_path) {
  if (cert_path.empty() && key_path.empty()) return nullptr;
  if (cert_path.empty() || key_path.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate (--tls_cert) and its key (--tls_key)");
  }
  auto credentials = std::make_shared<TlsServerCredentials>();
  ASSIGN_OR_RETURN(credentials->certificate_chain_pem,
                   ReadFile(cert_path, 1 << 20));
  ASSIGN_OR_RETURN(credentials->private_key_pem,
                   crypto::ReadPrivateFile(key_path, "TLS key"));
  return credentials;
}

}  // namespace refsum::http
