#include "crypto/openssl.h"

#include <openssl/err.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace refsum::crypto::internal {

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  std::string reasons;
  while (const unsigned long error = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof(buffer));
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", buffer);
  }
  if (reasons.empty()) return absl::Status(code, what);
  return absl::Status(code, absl::StrCat(what, ": ", reasons));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace refsum::crypto::internal
