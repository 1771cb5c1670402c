// A malicious log for tests: a real gRPC refsum.v1.Log server on loopback
// that forwards every call to a real log (a refsum-log process) and lets the
// test rewrite the answers on their way back, so that a client or witness
// meets a log that is honest but for one crafted lie: a consistency proof
// that does not hold, a bundle with proofs against other checkpoints, a
// checkpoint signed by another key.
//
// Thread-safe: the server answers calls on gRPC's threads; the tampering
// functions must be safe to call from them.

#ifndef REFSUM_TESTS_HOSTILE_LOG_H_
#define REFSUM_TESTS_HOSTILE_LOG_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/log.grpc.pb.h"

namespace refsum::tests {

// Rewrites applied to the real log's successful answers; null leaves an
// answer as it is.
struct Tampering {
  std::function<void(refsum::v1::GetCheckpointResponse*)> checkpoint;
  std::function<void(refsum::v1::GetConsistencyProofResponse*)>
      consistency_proof;
  std::function<void(refsum::v1::GetBundleResponse*)> bundle;
};

class HostileLog {
 public:
  // Starts serving on 127.0.0.1 (a free port), forwarding to the real log
  // at `real_address` (HOST:PORT). Returns Internal if the server does not
  // start.
  static absl::StatusOr<std::unique_ptr<HostileLog>> Start(
      const std::string& real_address, Tampering tampering);

  // Shuts the server down.
  ~HostileLog();

  HostileLog(const HostileLog&) = delete;
  HostileLog& operator=(const HostileLog&) = delete;

  // "127.0.0.1:PORT", for --log flags and LogConfig.
  const std::string& address() const { return address_; }

 private:
  class Service;
  HostileLog() = default;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace refsum::tests

#endif  // REFSUM_TESTS_HOSTILE_LOG_H_
