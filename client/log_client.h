// A small gRPC client for refsum-log's service refsum.v1.Log
// (proto/log.proto), for the tools and libraries that talk to a log:
// refsum-submit, refsum-verify and the witness.
//
// The client moves bytes and checks only the shape of the answers (hash
// lengths, the sizes a proof is for, ascending pages). It does not verify
// signatures, proofs or statements: what the log returns is untrusted until
// the caller has checked it against a checkpoint it trusts.
//
// Every error is an absl::Status with the gRPC call's code and a message
// "log <address>: <method>: <the server's message>", so that a command-line
// tool can print it as is. A malformed answer is DataLoss, with the same
// prefix.
//
// Thread-safe: one LogClient may be used from any number of threads at once.

#ifndef REFSUM_CLIENT_LOG_CLIENT_H_
#define REFSUM_CLIENT_LOG_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/log.grpc.pb.h"
#include "proto/log.pb.h"
#include "statement/digest.h"
#include "tlog/bundle.h"
#include "tlog/merkle.h"

namespace refsum::client {

// A bundle as the log sent it, and decoded. `json` is kept verbatim so that
// it can be written out byte for byte; nothing in it is verified yet.
struct FetchedBundle {
  std::string json;
  tlog::Bundle bundle;
  // The log left out claims or attestations beyond its page size
  // (GetBundleResponse.truncated): the bundle's proofs hold, but it cannot
  // show that no rebuilder said MISMATCH.
  bool truncated = false;
};

class LogClient {
 public:
  // Returns a client for the log whose gRPC API listens at `address`
  // ("HOST:PORT"; an IPv6 host in brackets, "[::1]:7300"). Each call gets
  // `deadline_per_call` to complete; Submit waits for the log to store and
  // integrate the entry, so it must be generous. Returns InvalidArgument
  // naming the address when it is not HOST:PORT with a port in 1..65535 or
  // the deadline is not positive.
  //
  // With `tls_ca_pem` (PEM CA certificates) the client speaks TLS and
  // accepts only a log whose certificate chains to one of them and names
  // the address's host (DNS name or IP address); without, plain text.
  //
  // Nothing is sent yet: gRPC connects on the first call, and an unreachable
  // log, or one whose TLS certificate is not accepted, fails that call with
  // UNAVAILABLE.
  static absl::StatusOr<std::unique_ptr<LogClient>> Connect(
      const std::string& address,
      absl::Duration deadline_per_call = absl::Seconds(60),
      const std::string& tls_ca_pem = "");

  LogClient(const LogClient&) = delete;
  LogClient& operator=(const LogClient&) = delete;

  const std::string& address() const { return address_; }

  // Submits a DSSE JSON envelope. `public_key_pem` is the signer's
  // SubjectPublicKeyInfo PEM, which only a log in open mode uses; pass ""
  // otherwise. Returns the log's answer once the entry is integrated and
  // covered by a signed checkpoint; for an entry already in the log, its
  // existing index with `duplicate` set.
  absl::StatusOr<refsum::v1::SubmitResponse> Submit(
      absl::string_view envelope_json, absl::string_view public_key_pem);

  // Returns the log's newest signed checkpoint note.
  absl::StatusOr<std::string> GetCheckpoint();

  // Returns the leaves at indices [start, start + count), fetching as many
  // pages as the log's page size needs. Returns the log's OutOfRange when
  // `start` is not below its tree size, and DataLoss when the tree ends
  // before start + count or the log answers with no leaves.
  absl::StatusOr<std::vector<std::string>> GetEntries(uint64_t start,
                                                      uint64_t count);

  // Returns the RFC 6962 consistency proof between the trees of `old_size`
  // and `new_size` leaves. `new_size` must be given (not 0, which the API
  // reads as "the newest size"): a proof is only useful for a known pair of
  // checkpoints. Returns InvalidArgument for new_size 0 or old_size >
  // new_size, and DataLoss if the log answers for other sizes or with a hash
  // that is not 32 bytes.
  absl::StatusOr<std::vector<tlog::Hash>> GetConsistencyProof(
      uint64_t old_size, uint64_t new_size);

  // Returns the indices of every rebuild attestation logged for the claim at
  // `claim_index`, ascending, following the log's pages. Returns DataLoss if
  // a page is not ascending or does not continue after the previous one.
  absl::StatusOr<std::vector<uint64_t>> GetAttestations(uint64_t claim_index);

  // Each returns the bundle of the claim at `claim_index`; of the claims
  // holding reference value `value`; or of the claims with an artifact
  // (subject) whose SHA-256 is `artifact_sha256_hex` (lowercase hex). Returns
  // the log's NotFound when no claim matches and DataLoss when the answer does
  // not decode as a bundle (tlog::DecodeBundle).
  absl::StatusOr<FetchedBundle> GetBundleForClaim(uint64_t claim_index);
  absl::StatusOr<FetchedBundle> GetBundleForValue(
      const statement::Digest& value);
  absl::StatusOr<FetchedBundle> GetBundleForArtifact(
      absl::string_view artifact_sha256_hex);

 private:
  LogClient(std::string address, absl::Duration deadline_per_call,
            std::unique_ptr<refsum::v1::Log::Stub> stub);

  // Runs one unary call of `method` with the per-call deadline.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (refsum::v1::Log::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    absl::string_view method_name, const Request& request,
                    Response* response);

  // Returns `status` as an error of `method_name` of this log.
  absl::Status Error(absl::string_view method_name,
                     const absl::Status& status) const;

  absl::StatusOr<FetchedBundle> GetBundle(
      const refsum::v1::GetBundleRequest& request);

  const std::string address_;
  const absl::Duration deadline_per_call_;
  const std::unique_ptr<refsum::v1::Log::Stub> stub_;
};

// For the tools' --log and --tls_ca flags: connects to `address` with the
// default deadline, with TLS against the CA certificates in the PEM file
// `tls_ca_path` unless it is empty. Returns ReadFile's errors for the file
// (naming it), and Connect's.
absl::StatusOr<std::unique_ptr<LogClient>> ConnectWithCaFile(
    const std::string& address, const std::string& tls_ca_path);

}  // namespace refsum::client

#endif  // REFSUM_CLIENT_LOG_CLIENT_H_
