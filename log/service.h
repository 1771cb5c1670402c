// The gRPC service refsum.v1.Log (proto/log.proto), on gRPC's callback API:
// reads are answered on the calling thread straight from storage; Submit
// hands the admitted entry to the sequencer and finishes the call from a
// worker thread once the entry is durably integrated.
//
// Limits (status codes are part of the API, proto/log.proto):
//   - Page sizes: GetEntries, Find and GetAttestations return at most
//     max_page_size items per call (a larger request is clamped, and the
//     answer says whether more follow); GetBundle holds at most
//     max_page_size claims and as many attestations per claim, and says so
//     with `truncated`.
//   - Every string field of a query (digests, repository, commit, keyid,
//     public key) is at most max_query_field_bytes: INVALID_ARGUMENT naming
//     the field otherwise.
//   - At most max_inflight_submissions submissions are admitted but not yet
//     answered; a further one gets RESOURCE_EXHAUSTED at once, before its
//     signature is verified.
//   - With a rate limiter, each verified signer key may submit at the
//     limiter's rate: beyond it RESOURCE_EXHAUSTED naming the keyid. The
//     token is taken once the signature verified, so nobody can spend
//     another key's budget without a valid envelope of that key.
// Message sizes are the gRPC server's (refsum-log serve's flags).

#ifndef REFSUM_LOG_SERVICE_H_
#define REFSUM_LOG_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/thread_pool.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "log/admission.h"
#include "log/metrics.h"
#include "log/rate_limiter.h"
#include "log/sequencer.h"
#include "log/storage.h"
#include "log/witness_pusher.h"
#include "proto/log.grpc.pb.h"
#include "tlog/bundle.h"

namespace refsum::log {

struct ServiceOptions {
  // The most entries GetEntries returns, indices a page lists, and claims or
  // attestations per claim a bundle holds.
  uint32_t max_page_size = 1000;
  // The longest string field of a request, see above. A repository URL of
  // a claim may be this long.
  size_t max_query_field_bytes = 4096;
  // Submissions admitted but not yet answered; 0 for no bound.
  size_t max_inflight_submissions = 0;
  // Per-signer submission rate limit; null for none. Must outlive the
  // service.
  KeyedRateLimiter* rate_limiter = nullptr;
  // Workers that build proofs for finished submissions.
  size_t completion_threads = 2;
  // Where calls are counted; may be null. Must outlive the service.
  Metrics* metrics = nullptr;
  // The log's witnessing, for a log with a witness policy; null otherwise.
  // With it, GetBundle builds proofs against its witnessed checkpoint,
  // GetCheckpoint returns that too, and Submit can wait for it
  // (wait_for_witnesses). Must outlive the service.
  WitnessPusher* witnesses = nullptr;
};

// Thread-safe. `reader`, `sequencer` and `admission` must outlive it.
class LogService final : public refsum::v1::Log::CallbackService {
 public:
  LogService(const LogReader* reader, Sequencer* sequencer,
             const Admission* admission, ServiceOptions options = {});

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const refsum::v1::SubmitRequest* request,
                                   refsum::v1::SubmitResponse* response)
      override;
  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetCheckpointRequest* request,
      refsum::v1::GetCheckpointResponse* response) override;
  grpc::ServerUnaryReactor* GetEntries(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetEntriesRequest* request,
      refsum::v1::GetEntriesResponse* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetInclusionProofRequest* request,
      refsum::v1::GetInclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetConsistencyProofRequest* request,
      refsum::v1::GetConsistencyProofResponse* response) override;
  grpc::ServerUnaryReactor* Find(grpc::CallbackServerContext* context,
                                 const refsum::v1::FindRequest* request,
                                 refsum::v1::IndexPage* response) override;
  grpc::ServerUnaryReactor* GetAttestations(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetAttestationsRequest* request,
      refsum::v1::IndexPage* response) override;
  grpc::ServerUnaryReactor* GetBundle(
      grpc::CallbackServerContext* context,
      const refsum::v1::GetBundleRequest* request,
      refsum::v1::GetBundleResponse* response) override;
  grpc::ServerUnaryReactor* GetKey(grpc::CallbackServerContext* context,
                                   const refsum::v1::GetKeyRequest* request,
                                   refsum::v1::GetKeyResponse* response)
      override;

  // Submissions admitted but not yet answered. Thread-safe.
  size_t InflightSubmissions() const { return inflight_submissions_.load(); }

 private:
  // Counts a submission in flight; false (counting nothing) when
  // max_inflight_submissions are.
  bool AdmitInflight();
  // Ends the submission counted by AdmitInflight: finishes `reactor` with
  // `status`, counting it.
  void FinishSubmission(grpc::ServerUnaryReactor* reactor,
                        const absl::Status& status);

  // Returns the checkpoint bundles are built against: the witnessed one
  // with witnesses, else the newest one. FailedPrecondition while no
  // checkpoint is witnessed.
  absl::StatusOr<std::shared_ptr<const SignedCheckpoint>> BundleCheckpoint()
      const;
  // Returns the configured or remembered signer with `keyid`; NotFound if
  // there is none.
  absl::StatusOr<KnownKey> FindSigner(absl::string_view keyid) const;
  // Returns the bundle entry of leaf `index`: its proof against `checkpoint`
  // and its signer's key.
  absl::StatusOr<tlog::BundleEntry> BundleEntryFor(
      uint64_t index, std::string leaf,
      const SignedCheckpoint& checkpoint) const;
  // Counts a finished call of `method` in the metrics.
  void Record(absl::string_view method, const absl::Status& status) const;
  // Finishes the call with `status` and counts it.
  grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                  absl::string_view method,
                                  const absl::Status& status) const;

  const LogReader* const reader_;
  Sequencer* const sequencer_;
  const Admission* const admission_;
  const ServiceOptions options_;
  ThreadPool completions_;
  std::atomic<size_t> inflight_submissions_{0};
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_SERVICE_H_
