#include "witness/witness.h"

#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "http/tls_credentials.h"

namespace refsum::witness {

absl::StatusOr<std::unique_ptr<Witness>> Witness::Start(WitnessConfig config) {
  ASSIGN_OR_RETURN(crypto::PrivateKey cosign_key,
                   crypto::ReadPrivateKeyFile(config.cosign_key_path));
  ASSIGN_OR_RETURN(crypto::PrivateKey rebuild_key,
                   crypto::ReadPrivateKeyFile(config.rebuild_key_path));
  if (cosign_key.public_key().der() == rebuild_key.public_key().der()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.cosign_key_path, " and ", config.rebuild_key_path,
        " hold the same key; cosigning and rebuild attestations need "
        "separate keys"));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Cosigner> cosigner,
      Cosigner::Create(config.name, cosign_key, config.logs, config.state_dir));
  HttpServerOptions http_options;
  http_options.host = config.http_address.host;
  http_options.port = config.http_address.port;
  http_options.reports_dir = ReportsDir(config.state_dir);
  ASSIGN_OR_RETURN(http_options.tls,
                   http::ReadTlsServerCredentials(config.tls_cert_path,
                                                  config.tls_key_path));
  const bool tls = http_options.tls != nullptr;
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http,
                   HttpServer::Start(http_options, cosigner.get()));

  auto witness = absl::WrapUnique(new Witness(
      std::move(config), std::move(rebuild_key), std::move(cosigner)));
  witness->http_address_ =
      HostPort{witness->config_.http_address.host, http->port()};
  witness->report_url_ = witness->config_.report_url.empty()
                             ? ReportUrlPrefix(witness->http_address_, tls)
                             : witness->config_.report_url;
  {
    absl::MutexLock lock(&witness->mu_);
    witness->http_ = std::move(http);
  }
  // Started last: it needs the report URL, known once the port is bound.
  ASSIGN_OR_RETURN(std::unique_ptr<RebuildPipeline> rebuild,
                   RebuildPipeline::Start(witness->config_,
                                          witness->rebuild_key_,
                                          witness->report_url_));
  absl::MutexLock lock(&witness->mu_);
  witness->rebuild_ = std::move(rebuild);
  return witness;
}

Witness::Witness(WitnessConfig config, crypto::PrivateKey rebuild_key,
                 std::unique_ptr<Cosigner> cosigner)
    : config_(std::move(config)),
      rebuild_key_(std::move(rebuild_key)),
      cosigner_(std::move(cosigner)) {}

Witness::~Witness() { Shutdown(); }

void Witness::Shutdown() {
  absl::MutexLock lock(&mu_);
  // The pipeline stops first so that it never writes a report that the
  // HTTP server no longer serves.
  if (rebuild_ != nullptr) {
    rebuild_->Shutdown();
    rebuild_.reset();
  }
  if (http_ == nullptr) return;
  http_->Shutdown();
  http_.reset();
}

}  // namespace refsum::witness
