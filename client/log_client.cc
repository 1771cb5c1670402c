#include "client/log_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"

namespace refsum::client {
namespace {

// Bundles are the largest answers: tlog/bundle.cc accepts up to 64 MiB of
// JSON, and the protobuf around it adds a few bytes. gRPC's default limit of
// 4 MiB would cut off a bundle with a few hundred attestations.
constexpr int kMaxResponseBytes = 65 << 20;

absl::Status CheckAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  const auto bad = [&address] {
    return absl::InvalidArgumentError(
        absl::StrCat("log address \"", absl::CHexEscape(address),
                     "\" is not HOST:PORT with a port from 1 to 65535"));
  };
  if (colon == std::string::npos || colon == 0) return bad();
  const absl::string_view host = absl::string_view(address).substr(0, colon);
  const absl::string_view port_text =
      absl::string_view(address).substr(colon + 1);
  // An IPv6 host must be in brackets: bare, its last group would look like
  // the port.
  const bool bracketed = host.front() == '[';
  if (bracketed ? host.size() < 3 || host.back() != ']'
                : host.find_first_of(":[]") != absl::string_view::npos) {
    return bad();
  }
  int port = 0;
  if (port_text.empty() || port_text[0] == '+' || port_text[0] == '-' ||
      !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return bad();
  }
  return absl::OkStatus();
}

absl::StatusOr<tlog::Hash> HashFromBytes(absl::string_view bytes) {
  tlog::Hash hash;
  if (bytes.size() != hash.size()) {
    return absl::DataLossError(
        absl::StrCat("a proof hash has ", bytes.size(), " bytes, not 32"));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogClient>> LogClient::Connect(
    const std::string& address, absl::Duration deadline_per_call,
    const std::string& tls_ca_pem) {
  RETURN_IF_ERROR(CheckAddress(address));
  if (deadline_per_call <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "the deadline per log call must be positive");
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxResponseBytes);
  // What the log returns is authenticated by signatures and proofs, not by
  // the transport; TLS keeps the queries private and the answers whole.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls_ca_pem.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = tls_ca_pem;
    credentials = grpc::SslCredentials(options);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, credentials, arguments);
  return std::unique_ptr<LogClient>(new LogClient(
      address, deadline_per_call, refsum::v1::Log::NewStub(channel)));
}

LogClient::LogClient(std::string address, absl::Duration deadline_per_call,
                     std::unique_ptr<refsum::v1::Log::Stub> stub)
    : address_(std::move(address)),
      deadline_per_call_(deadline_per_call),
      stub_(std::move(stub)) {}

absl::Status LogClient::Error(absl::string_view method_name,
                              const absl::Status& status) const {
  return absl::Status(status.code(),
                      absl::StrCat("log ", address_, ": ", method_name, ": ",
                                   status.message()));
}

template <typename Request, typename Response>
absl::Status LogClient::Call(
    grpc::Status (refsum::v1::Log::Stub::*method)(grpc::ClientContext*,
                                                  const Request&, Response*),
    absl::string_view method_name, const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_per_call_));
  const grpc::Status status = ((*stub_).*method)(&context, request, response);
  if (status.ok()) return absl::OkStatus();
  // gRPC's and Abseil's codes are both the canonical codes, number for
  // number.
  return Error(method_name,
               absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                            status.error_message()));
}

absl::StatusOr<refsum::v1::SubmitResponse> LogClient::Submit(
    absl::string_view envelope_json, absl::string_view public_key_pem) {
  refsum::v1::SubmitRequest request;
  request.set_envelope_json(std::string(envelope_json));
  request.set_public_key_pem(std::string(public_key_pem));
  refsum::v1::SubmitResponse response;
  RETURN_IF_ERROR(
      Call(&refsum::v1::Log::Stub::Submit, "Submit", request, &response));
  return response;
}

absl::StatusOr<std::string> LogClient::GetCheckpoint() {
  refsum::v1::GetCheckpointResponse response;
  RETURN_IF_ERROR(Call(&refsum::v1::Log::Stub::GetCheckpoint, "GetCheckpoint",
                       refsum::v1::GetCheckpointRequest(), &response));
  return std::move(*response.mutable_checkpoint());
}

absl::StatusOr<std::vector<std::string>> LogClient::GetEntries(uint64_t start,
                                                               uint64_t count) {
  std::vector<std::string> leaves;
  leaves.reserve(std::min<uint64_t>(count, 1024));
  while (leaves.size() < count) {
    refsum::v1::GetEntriesRequest request;
    request.set_start(start + leaves.size());
    // Larger counts are capped by the log's page size anyway.
    request.set_count(static_cast<uint32_t>(
        std::min<uint64_t>(count - leaves.size(), UINT32_MAX)));
    refsum::v1::GetEntriesResponse response;
    RETURN_IF_ERROR(Call(&refsum::v1::Log::Stub::GetEntries, "GetEntries",
                         request, &response));
    if (response.leaves().empty() ||
        static_cast<uint64_t>(response.leaves_size()) > count - leaves.size()) {
      return Error("GetEntries",
                   absl::DataLossError(absl::StrCat(
                       "asked for ", count - leaves.size(), " entries from ",
                       request.start(), ", got ", response.leaves_size())));
    }
    for (std::string& leaf : *response.mutable_leaves()) {
      leaves.push_back(std::move(leaf));
    }
  }
  return leaves;
}

absl::StatusOr<std::vector<tlog::Hash>> LogClient::GetConsistencyProof(
    uint64_t old_size, uint64_t new_size) {
  if (new_size == 0 || old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from tree size ", old_size, " to ", new_size));
  }
  refsum::v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  refsum::v1::GetConsistencyProofResponse response;
  RETURN_IF_ERROR(Call(&refsum::v1::Log::Stub::GetConsistencyProof,
                       "GetConsistencyProof", request, &response));
  if (response.old_size() != old_size || response.new_size() != new_size) {
    return Error("GetConsistencyProof",
                 absl::DataLossError(absl::StrCat(
                     "asked for the proof from ", old_size, " to ", new_size,
                     ", got one from ", response.old_size(), " to ",
                     response.new_size())));
  }
  std::vector<tlog::Hash> proof;
  for (const std::string& bytes : response.hashes()) {
    absl::StatusOr<tlog::Hash> hash = HashFromBytes(bytes);
    if (!hash.ok()) return Error("GetConsistencyProof", hash.status());
    proof.push_back(*hash);
  }
  return proof;
}

absl::StatusOr<std::vector<uint64_t>> LogClient::GetAttestations(
    uint64_t claim_index) {
  std::vector<uint64_t> indices;
  while (true) {
    refsum::v1::GetAttestationsRequest request;
    request.set_claim_index(claim_index);
    if (!indices.empty()) {
      request.mutable_page()->set_after(indices.back());
      request.mutable_page()->set_after_set(true);
    }
    refsum::v1::IndexPage page;
    RETURN_IF_ERROR(Call(&refsum::v1::Log::Stub::GetAttestations,
                         "GetAttestations", request, &page));
    for (const uint64_t index : page.indices()) {
      // Strictly ascending, so a log that repeats a page cannot keep the
      // loop going forever.
      if (!indices.empty() && index <= indices.back()) {
        return Error("GetAttestations",
                     absl::DataLossError(absl::StrCat(
                         "index ", index, " follows ", indices.back(),
                         ": pages must be ascending")));
      }
      indices.push_back(index);
    }
    if (!page.more()) return indices;
    if (page.indices().empty()) {
      return Error("GetAttestations",
                   absl::DataLossError("an empty page says more follow"));
    }
  }
}

absl::StatusOr<FetchedBundle> LogClient::GetBundle(
    const refsum::v1::GetBundleRequest& request) {
  refsum::v1::GetBundleResponse response;
  RETURN_IF_ERROR(
      Call(&refsum::v1::Log::Stub::GetBundle, "GetBundle", request, &response));
  absl::StatusOr<tlog::Bundle> bundle =
      tlog::DecodeBundle(response.bundle_json());
  if (!bundle.ok()) {
    return Error("GetBundle", absl::DataLossError(
                                  absl::StrCat("the bundle does not decode: ",
                                               bundle.status().message())));
  }
  return FetchedBundle{std::move(*response.mutable_bundle_json()),
                       *std::move(bundle), response.truncated()};
}

absl::StatusOr<FetchedBundle> LogClient::GetBundleForClaim(
    uint64_t claim_index) {
  refsum::v1::GetBundleRequest request;
  request.set_claim_index(claim_index);
  return GetBundle(request);
}

absl::StatusOr<FetchedBundle> LogClient::GetBundleForValue(
    const statement::Digest& value) {
  refsum::v1::GetBundleRequest request;
  request.mutable_reference_value()->set_algorithm(value.algorithm);
  request.mutable_reference_value()->set_hex(value.hex);
  return GetBundle(request);
}

absl::StatusOr<FetchedBundle> LogClient::GetBundleForArtifact(
    absl::string_view artifact_sha256_hex) {
  refsum::v1::GetBundleRequest request;
  request.set_artifact_sha256(std::string(artifact_sha256_hex));
  return GetBundle(request);
}

absl::StatusOr<std::unique_ptr<LogClient>> ConnectWithCaFile(
    const std::string& address, const std::string& tls_ca_path) {
  std::string ca_pem;
  if (!tls_ca_path.empty()) {
    absl::StatusOr<std::string> read = ReadFile(tls_ca_path, 1 << 20);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat("--tls_ca: ", read.status().message()));
    }
    ca_pem = *std::move(read);
  }
  return LogClient::Connect(address, absl::Seconds(60), ca_pem);
}

}  // namespace refsum::client
