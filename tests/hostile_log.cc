#include "tests/hostile_log.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <type_traits>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refsum::tests {

using refsum::v1::Log;

class HostileLog::Service final : public Log::Service {
 public:
  Service(std::unique_ptr<Log::Stub> stub, Tampering tampering)
      : stub_(std::move(stub)), tampering_(std::move(tampering)) {}

  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override {
    return Forward(&Log::Stub::Submit, *request, response, nullptr);
  }
  grpc::Status GetCheckpoint(grpc::ServerContext*,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override {
    return Forward(&Log::Stub::GetCheckpoint, *request, response,
                   tampering_.checkpoint);
  }
  grpc::Status GetEntries(grpc::ServerContext*,
                          const v1::GetEntriesRequest* request,
                          v1::GetEntriesResponse* response) override {
    return Forward(&Log::Stub::GetEntries, *request, response, nullptr);
  }
  grpc::Status GetInclusionProof(
      grpc::ServerContext*, const v1::GetInclusionProofRequest* request,
      v1::GetInclusionProofResponse* response) override {
    return Forward(&Log::Stub::GetInclusionProof, *request, response, nullptr);
  }
  grpc::Status GetConsistencyProof(
      grpc::ServerContext*, const v1::GetConsistencyProofRequest* request,
      v1::GetConsistencyProofResponse* response) override {
    return Forward(&Log::Stub::GetConsistencyProof, *request, response,
                   tampering_.consistency_proof);
  }
  grpc::Status Find(grpc::ServerContext*, const v1::FindRequest* request,
                    v1::IndexPage* response) override {
    return Forward(&Log::Stub::Find, *request, response, nullptr);
  }
  grpc::Status GetAttestations(grpc::ServerContext*,
                               const v1::GetAttestationsRequest* request,
                               v1::IndexPage* response) override {
    return Forward(&Log::Stub::GetAttestations, *request, response, nullptr);
  }
  grpc::Status GetBundle(grpc::ServerContext*,
                         const v1::GetBundleRequest* request,
                         v1::GetBundleResponse* response) override {
    return Forward(&Log::Stub::GetBundle, *request, response,
                   tampering_.bundle);
  }
  grpc::Status GetKey(grpc::ServerContext*, const v1::GetKeyRequest* request,
                      v1::GetKeyResponse* response) override {
    return Forward(&Log::Stub::GetKey, *request, response, nullptr);
  }

 private:
  // Calls the real log and tampers with a successful answer (Response is
  // deduced from `method` alone, so `tamper` may be null).
  template <typename Request, typename Response>
  grpc::Status Forward(grpc::Status (Log::Stub::*method)(grpc::ClientContext*,
                                                         const Request&,
                                                         Response*),
                       const Request& request, Response* response,
                       const typename std::common_type<
                           std::function<void(Response*)>>::type& tamper) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::minutes(2));
    grpc::Status status = (stub_.get()->*method)(&context, request, response);
    if (status.ok() && tamper) tamper(response);
    return status;
  }

  const std::unique_ptr<Log::Stub> stub_;
  const Tampering tampering_;
};

absl::StatusOr<std::unique_ptr<HostileLog>> HostileLog::Start(
    const std::string& real_address, Tampering tampering) {
  auto log = absl::WrapUnique(new HostileLog());
  log->service_ = std::make_unique<Service>(
      Log::NewStub(grpc::CreateChannel(real_address,
                                       grpc::InsecureChannelCredentials())),
      std::move(tampering));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(log->service_.get());
  log->server_ = builder.BuildAndStart();
  if (log->server_ == nullptr || port == 0) {
    return absl::InternalError("the hostile log's gRPC server did not start");
  }
  log->address_ = absl::StrCat("127.0.0.1:", port);
  return log;
}

HostileLog::~HostileLog() {
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace refsum::tests
