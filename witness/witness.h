// A running witness: what `refsum-witness serve` starts and stops, in one
// place, so that each part of the witness is started and stopped in the
// right order.
//
// Start checks and loads both keys (cosign_key and rebuild_key, which must
// be different keys: a cosignature and a rebuild verdict are different
// statements), restores the cosigner's state and starts the HTTP server.
// The rebuild pipeline belongs here too: it is started at the end of Start
// (it needs report_url(), known once the HTTP server has bound its port) and
// stopped at the start of Shutdown, before the HTTP server, so that it never
// writes a report nobody can fetch. Rebuilds never hold the cosigner: they
// run on their own threads, and the cosigner only ever serves HTTP requests.

#ifndef REFSUM_WITNESS_WITNESS_H_
#define REFSUM_WITNESS_WITNESS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "crypto/keys.h"
#include "witness/config.h"
#include "witness/cosigner.h"
#include "witness/follower.h"
#include "witness/http_server.h"

namespace refsum::witness {

class Witness {
 public:
  // Starts a witness as `config` says (see ParseConfig). Returns
  // ReadPrivateKeyFile's errors for a key (FailedPrecondition when it is
  // readable by others, NotFound when missing), InvalidArgument when both
  // paths hold the same key or the cosign key is not Ed25519,
  // Cosigner::Create's, HttpServer::Start's and RebuildPipeline::Start's
  // errors (FailedPrecondition when the sandbox does not work on this host).
  static absl::StatusOr<std::unique_ptr<Witness>> Start(WitnessConfig config);

  // Shuts down (see Shutdown).
  ~Witness();

  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;

  const WitnessConfig& config() const { return config_; }

  // The HTTP server's address: the configured host and the bound port.
  const HostPort& http_address() const { return http_address_; }

  // Where the HTTP server's reports are reachable: the configured
  // report_url, or ReportUrlPrefix(http_address()). Ends in '/'.
  const std::string& report_url() const { return report_url_; }

  // Thread-safe (see Cosigner).
  Cosigner& cosigner() { return *cosigner_; }

  // Stops serving: finishes the requests in flight and joins every thread.
  // Idempotent and thread-safe.
  void Shutdown();

 private:
  Witness(WitnessConfig config, crypto::PrivateKey rebuild_key,
          std::unique_ptr<Cosigner> cosigner);

  const WitnessConfig config_;
  // The key that signs rebuild attestations, for the rebuild pipeline.
  const crypto::PrivateKey rebuild_key_;
  const std::unique_ptr<Cosigner> cosigner_;
  // Set once by Start.
  HostPort http_address_;
  std::string report_url_;
  absl::Mutex mu_;
  // Null once shut down.
  std::unique_ptr<HttpServer> http_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<RebuildPipeline> rebuild_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_WITNESS_H_
