// End-to-end tests of refsum-log: the real binary (//log:refsum-log) started
// as a process on loopback with a real RocksDB data directory under
// $TEST_TMPDIR and real keys, driven over gRPC (proto/log.proto) and HTTP
// (C2SP tlog-tiles), stopped with SIGTERM and crashed with SIGKILL.
//
// Everything the log returns is checked with refsum's own client-side
// libraries: checkpoint signatures against the verifier key that
// `refsum-log keygen` wrote, inclusion and consistency proofs with RFC 9162's
// algorithms, tree roots recomputed from the leaves with RFC 6962 hashing.
//
// Environment:
//   REFSUM_E2E_CRASH_ROUNDS  crash rounds of the SIGKILL test (default 3)
//   REFSUM_E2E_SEED          seed of the crash timing (default: random; the
//                            seed used is printed)
// The crash test prints the tree size and the submission rate reached
// (--test_output=all shows them). They are informational: no test asserts
// on speed, and every timeout is a generous upper bound.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "base/status_testing.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "proto/log.grpc.pb.h"
#include "proto/log.pb.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "statement/test_util.h"
#include "tests/log_server.h"
#include "tests/process.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"
#include "tlog/tiles.h"
#include "tlog/tlog_proof.h"

// A gRPC call's status, printed with its message.
#define ASSERT_GRPC_OK(expr)                                  \
  do {                                                        \
    const ::grpc::Status e2e_grpc_status = (expr);            \
    ASSERT_TRUE(e2e_grpc_status.ok())                         \
        << GrpcCodeName(e2e_grpc_status.error_code()) << ": " \
        << e2e_grpc_status.error_message();                   \
  } while (false)

namespace refsum::tests {
namespace {

using ::refsum::v1::FindRequest;
using ::refsum::v1::GetAttestationsRequest;
using ::refsum::v1::GetBundleRequest;
using ::refsum::v1::GetBundleResponse;
using ::refsum::v1::GetCheckpointRequest;
using ::refsum::v1::GetCheckpointResponse;
using ::refsum::v1::GetConsistencyProofRequest;
using ::refsum::v1::GetConsistencyProofResponse;
using ::refsum::v1::GetEntriesRequest;
using ::refsum::v1::GetEntriesResponse;
using ::refsum::v1::GetInclusionProofRequest;
using ::refsum::v1::GetInclusionProofResponse;
using ::refsum::v1::GetKeyRequest;
using ::refsum::v1::GetKeyResponse;
using ::refsum::v1::IndexPage;
using ::refsum::v1::SubmitRequest;
using ::refsum::v1::SubmitResponse;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using LogStub = ::refsum::v1::Log::Stub;

constexpr char kOrigin[] = "log.refsum.example/e2e";
constexpr char kRepository[] = "https://github.com/example/os-image";
constexpr char kVendorName[] = "acme";
constexpr char kRebuilderName[] = "rebuilder-one";

// Upper bounds on waiting, never expectations of speed. kStartTimeout bounds
// starting and stopping a log (LogServerOptions::timeout), kExitTimeout the
// other processes.
constexpr absl::Duration kStartTimeout = absl::Seconds(120);
constexpr absl::Duration kExitTimeout = absl::Seconds(120);
constexpr absl::Duration kRpcTimeout = absl::Seconds(120);
constexpr absl::Duration kLoadTimeout = absl::Seconds(300);

constexpr int kClientThreads = 8;

// ---------------------------------------------------------------------------
// Small utilities.

std::string GrpcCodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string DescribeGrpc(const grpc::Status& status) {
  return absl::StrCat(GrpcCodeName(status.error_code()), ": ",
                      status.error_message());
}

int EnvInt(const char* name, int default_value) {
  const char* value = std::getenv(name);
  int parsed = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &parsed)) {
    return default_value;
  }
  return parsed;
}

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

// Returns a new, empty directory under $TEST_TMPDIR whose name starts with
// `prefix`.
absl::StatusOr<std::string> NewTempDir(absl::string_view prefix) {
  std::string path = absl::StrCat(TestTmpDir(), "/", prefix, "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("creating ", path));
  }
  return path;
}

absl::StatusOr<tlog::Hash> HashFromBytes(absl::string_view bytes) {
  tlog::Hash hash;
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hash has ", bytes.size(), " bytes, not 32"));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

absl::StatusOr<std::vector<tlog::Hash>> HashesFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<tlog::Hash> hashes;
  for (const std::string& hash_bytes : bytes) {
    ASSIGN_OR_RETURN(tlog::Hash hash, HashFromBytes(hash_bytes));
    hashes.push_back(hash);
  }
  return hashes;
}

std::string HashHex(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

// `digits` lowercase hex digits derived from `seed`.
std::string SeededHex(absl::string_view seed, size_t digits) {
  std::string hex;
  for (int i = 0; hex.size() < digits; ++i) {
    hex += crypto::Sha256Hex(absl::StrCat(seed, "/", i));
  }
  hex.resize(digits);
  return hex;
}

// Returns the value of the sample `series` (e.g.
// `refsum_log_submissions_total{result="new"}`) in Prometheus text, or
// nullopt if there is none.
std::optional<double> MetricValue(absl::string_view metrics,
                                  absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, series)) continue;
    absl::string_view rest = line.substr(series.size());
    if (rest.empty() || rest[0] != ' ') continue;
    double value = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(rest), &value)) {
      return value;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// gRPC calls with a deadline.

template <typename Request, typename Response>
grpc::Status Call(grpc::Status (LogStub::*method)(grpc::ClientContext*,
                                                  const Request&, Response*),
                  LogStub& stub, const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  return (stub.*method)(&context, request, response);
}

grpc::Status Submit(LogStub& stub, const SubmitRequest& request,
                    SubmitResponse* response) {
  return Call(&LogStub::Submit, stub, request, response);
}

absl::StatusOr<std::string> GetCheckpointNote(LogStub& stub) {
  GetCheckpointResponse response;
  const grpc::Status status =
      Call(&LogStub::GetCheckpoint, stub, GetCheckpointRequest(), &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("GetCheckpoint: ", DescribeGrpc(status)));
  }
  return response.checkpoint();
}

// Reads the leaves [start, end) page by page.
absl::StatusOr<std::vector<std::string>> GetAllEntries(LogStub& stub,
                                                       uint64_t start,
                                                       uint64_t end) {
  std::vector<std::string> leaves;
  while (start + leaves.size() < end) {
    GetEntriesRequest request;
    request.set_start(start + leaves.size());
    request.set_count(static_cast<uint32_t>(
        std::min<uint64_t>(end - start - leaves.size(), 100000)));
    GetEntriesResponse response;
    const grpc::Status status =
        Call(&LogStub::GetEntries, stub, request, &response);
    if (!status.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "GetEntries from ", request.start(), ": ", DescribeGrpc(status)));
    }
    if (response.leaves().empty()) {
      return absl::DataLossError(
          absl::StrCat("GetEntries from ", request.start(), " is empty"));
    }
    for (const std::string& leaf : response.leaves()) leaves.push_back(leaf);
  }
  if (leaves.size() != end - start) {
    return absl::DataLossError(absl::StrCat("asked for ", end - start,
                                            " entries, got ", leaves.size()));
  }
  return leaves;
}

// ---------------------------------------------------------------------------
// Signers, claims and attestations.

struct Identity {
  std::string name;
  std::unique_ptr<crypto::Signer> signer;

  const crypto::PublicKey& public_key() const { return signer->public_key(); }
};

absl::StatusOr<Identity> NewIdentity(absl::string_view name,
                                     crypto::KeyType type) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  return Identity{std::string(name), std::move(signer)};
}

// Every claim carries this TPM PCR 7 value, so that lookups by it page
// through many claims.
statement::Digest SharedPcrDigest() {
  return statement::Digest{"sha256", SeededHex("shared pcr 7", 64)};
}

// A valid claim whose subject, commit and SEV-SNP and PCR 4 values derive
// from `id`; distinct ids give distinct claims.
statement::Claim MakeClaim(absl::string_view id) {
  statement::Claim claim;
  statement::Subject subject;
  subject.name = absl::StrCat("os-image-", id, ".raw");
  subject.digest = {{"sha256", SeededHex(absl::StrCat("artifact ", id), 64)}};
  claim.subjects.push_back(subject);
  claim.source.repository = kRepository;
  claim.source.commit = SeededHex(absl::StrCat("commit ", id), 40);
  claim.source.tag = "v1.2.0";
  claim.build.recipe = "nix build .#image";
  statement::ReferenceValue snp;
  snp.platform = "amd-sev-snp";
  snp.kind = "launch-measurement";
  snp.digest = {"sha384", SeededHex(absl::StrCat("snp ", id), 96)};
  snp.parameters = {{"vcpus", "4"}, {"vmm", "qemu"}, {"policy", "0x30000"}};
  statement::ReferenceValue pcr4;
  pcr4.platform = "tpm";
  pcr4.kind = "pcr";
  pcr4.index = 4;
  pcr4.digest = {"sha256", SeededHex(absl::StrCat("pcr4 ", id), 64)};
  statement::ReferenceValue pcr7;
  pcr7.platform = "tpm";
  pcr7.kind = "pcr";
  pcr7.index = 7;
  pcr7.digest = SharedPcrDigest();
  claim.reference_values = {snp, pcr4, pcr7};
  claim.measurement_tool =
      statement::MeasurementTool{"sev-snp-measure", "0.0.11"};
  return claim;
}

// A MATCH attestation of `claim`, logged at `index` with `leaf_hash`.
statement::RebuildAttestation MakeAttestation(const statement::Claim& claim,
                                              uint64_t index,
                                              const tlog::Hash& leaf_hash) {
  statement::RebuildAttestation attestation;
  attestation.subjects = claim.subjects;
  attestation.claim = {kOrigin, static_cast<int64_t>(index),
                       HashHex(leaf_hash)};
  attestation.verdict = statement::Verdict::kMatch;
  attestation.rebuilt =
      statement::RebuiltOutput{claim.subjects, claim.reference_values};
  attestation.rebuilder = {kRebuilderName, "nix build .#image"};
  attestation.rebuilt_at = "2026-11-27T12:00:00Z";
  return attestation;
}

absl::StatusOr<crypto::DsseEnvelope> SignPayload(
    const Identity& signer, absl::string_view payload,
    absl::string_view payload_type = statement::kPayloadType) {
  return crypto::DsseSign(payload_type, payload, *signer.signer);
}

absl::StatusOr<crypto::DsseEnvelope> SignClaim(const Identity& signer,
                                               const statement::Claim& claim) {
  ASSIGN_OR_RETURN(std::string payload, statement::SerializeClaim(claim));
  return SignPayload(signer, payload);
}

absl::StatusOr<crypto::DsseEnvelope> SignAttestation(
    const Identity& signer, const statement::RebuildAttestation& attestation) {
  ASSIGN_OR_RETURN(std::string payload,
                   statement::SerializeRebuildAttestation(attestation));
  return SignPayload(signer, payload);
}

SubmitRequest JsonRequest(const crypto::DsseEnvelope& envelope) {
  SubmitRequest request;
  request.set_envelope_json(crypto::EncodeDsseJson(envelope));
  return request;
}

SubmitRequest LeafRequest(const crypto::DsseEnvelope& envelope) {
  SubmitRequest request;
  request.set_leaf(crypto::EncodeDsseLeaf(envelope));
  return request;
}

// ---------------------------------------------------------------------------
// Checking what the log returns.

// Opens a checkpoint note with the log's key and parses its body.
absl::StatusOr<tlog::Checkpoint> OpenCheckpoint(
    absl::string_view note, const crypto::NoteVerifier& verifier) {
  const crypto::NoteVerifier* const verifiers[] = {&verifier};
  ASSIGN_OR_RETURN(crypto::VerifiedNote opened,
                   crypto::OpenNote(note, verifiers));
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   tlog::ParseCheckpointBody(opened.text));
  if (checkpoint.origin != kOrigin) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint origin is ", checkpoint.origin));
  }
  return checkpoint;
}

// Checks a tlog-proof for `leaf` at `index`: its checkpoint is signed by the
// log and its inclusion proof holds. Returns the checkpoint.
absl::StatusOr<tlog::Checkpoint> VerifyTlogProof(
    const tlog::TlogProof& proof, absl::string_view leaf, uint64_t index,
    const crypto::NoteVerifier& verifier) {
  if (proof.index != index) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof is for index ", proof.index, ", not ", index));
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   OpenCheckpoint(proof.checkpoint, verifier));
  RETURN_IF_ERROR(
      tlog::VerifyInclusion(index, checkpoint.size, tlog::HashLeaf(leaf),
                            proof.inclusion_proof, checkpoint.root));
  return checkpoint;
}

absl::StatusOr<tlog::Checkpoint> VerifyTlogProofText(
    absl::string_view text, absl::string_view leaf, uint64_t index,
    const crypto::NoteVerifier& verifier) {
  ASSIGN_OR_RETURN(tlog::TlogProof proof, tlog::ParseTlogProof(text));
  return VerifyTlogProof(proof, leaf, index, verifier);
}

// Checks a Submit response for `leaf`: the leaf hash, the checkpoint's
// signature, and the tlog-proof against that same checkpoint. Returns the
// checkpoint.
absl::StatusOr<tlog::Checkpoint> CheckSubmitResponse(
    const SubmitResponse& response, absl::string_view leaf,
    const crypto::NoteVerifier& verifier) {
  if (response.leaf_hash() != crypto::DigestBytes(tlog::HashLeaf(leaf))) {
    return absl::InvalidArgumentError("the response's leaf hash is wrong");
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   OpenCheckpoint(response.checkpoint(), verifier));
  if (response.index() >= checkpoint.size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index ", response.index(),
        " is not in the returned checkpoint of size ", checkpoint.size));
  }
  ASSIGN_OR_RETURN(tlog::TlogProof proof,
                   tlog::ParseTlogProof(response.tlog_proof()));
  if (proof.checkpoint != response.checkpoint()) {
    return absl::InvalidArgumentError(
        "the tlog-proof is against another checkpoint than the response's");
  }
  RETURN_IF_ERROR(
      VerifyTlogProof(proof, leaf, response.index(), verifier).status());
  return checkpoint;
}

// Checks with GetConsistencyProof that the tree `newer` extends `older`.
absl::Status CheckConsistency(LogStub& stub, const tlog::Checkpoint& older,
                              const tlog::Checkpoint& newer) {
  if (newer.size == 0) {
    // new_size 0 asks for the newest tree; there is nothing to prove.
    return older.size == 0 && older.root == newer.root
               ? absl::OkStatus()
               : absl::DataLossError("two empty trees with different roots");
  }
  GetConsistencyProofRequest request;
  request.set_old_size(older.size);
  request.set_new_size(newer.size);
  GetConsistencyProofResponse response;
  const grpc::Status status =
      Call(&LogStub::GetConsistencyProof, stub, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("GetConsistencyProof(",
                                               older.size, ", ", newer.size,
                                               "): ", DescribeGrpc(status)));
  }
  if (response.old_size() != older.size || response.new_size() != newer.size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "asked for the proof ", older.size, " -> ", newer.size, ", got ",
        response.old_size(), " -> ", response.new_size()));
  }
  ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof,
                   HashesFromBytes(response.hashes()));
  absl::Status verified = tlog::VerifyConsistency(
      older.size, newer.size, older.root, newer.root, proof);
  if (!verified.ok()) {
    return absl::DataLossError(
        absl::StrCat("checkpoint ", older.size, " is not consistent with ",
                     newer.size, ": ", verified.message()));
  }
  return absl::OkStatus();
}

// Checks with GetInclusionProof (by index, and by leaf hash) that `leaf` is
// at `index` in the tree of `checkpoint`.
absl::Status CheckInclusion(LogStub& stub, absl::string_view leaf,
                            uint64_t index,
                            const tlog::Checkpoint& checkpoint) {
  const tlog::Hash leaf_hash = tlog::HashLeaf(leaf);
  for (const bool by_hash : {false, true}) {
    GetInclusionProofRequest request;
    if (by_hash) {
      request.set_leaf_hash(std::string(crypto::DigestBytes(leaf_hash)));
    } else {
      request.set_index(index);
    }
    request.set_tree_size(checkpoint.size);
    GetInclusionProofResponse response;
    const grpc::Status status =
        Call(&LogStub::GetInclusionProof, stub, request, &response);
    if (!status.ok()) {
      return absl::UnavailableError(absl::StrCat("GetInclusionProof(", index,
                                                 ", ", checkpoint.size,
                                                 "): ", DescribeGrpc(status)));
    }
    if (response.index() != index || response.tree_size() != checkpoint.size) {
      return absl::InvalidArgumentError(
          absl::StrCat("inclusion proof for index ", response.index(),
                       " in size ", response.tree_size(), "; asked for ", index,
                       " in ", checkpoint.size));
    }
    ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof,
                     HashesFromBytes(response.hashes()));
    RETURN_IF_ERROR(tlog::VerifyInclusion(index, checkpoint.size, leaf_hash,
                                          proof, checkpoint.root));
  }
  return absl::OkStatus();
}

std::vector<tlog::Hash> LeafHashes(const std::vector<std::string>& leaves) {
  std::vector<tlog::Hash> hashes;
  hashes.reserve(leaves.size());
  for (const std::string& leaf : leaves) hashes.push_back(tlog::HashLeaf(leaf));
  return hashes;
}

// ---------------------------------------------------------------------------
// HTTP.

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string cache_control;
};

absl::StatusOr<HttpResult> HttpRequest(const std::string& host, int port,
                                       const std::string& method,
                                       const std::string& path) {
  httplib::Client client(host, port);
  client.set_connection_timeout(60);
  client.set_read_timeout(60);
  client.set_write_timeout(60);
  // The paths are sent exactly as written: spelling is what is tested.
  client.set_url_encode(false);
  httplib::Result result = method == "POST"
                               ? client.Post(path.c_str(), "", "text/plain")
                               : client.Get(path.c_str());
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        method, " ", path, ": ", httplib::to_string(result.error())));
  }
  return HttpResult{result->status, result->body,
                    result->get_header_value("Content-Type"),
                    result->get_header_value("Cache-Control")};
}

// ---------------------------------------------------------------------------
// A running log.

// HTTP requests to a running log's tlog-tiles API.
absl::StatusOr<HttpResult> HttpGet(const LogServer& server,
                                   const std::string& path) {
  return HttpRequest(server.http_host(), server.http_port(), "GET", path);
}

absl::StatusOr<HttpResult> HttpPost(const LogServer& server,
                                    const std::string& path) {
  return HttpRequest(server.http_host(), server.http_port(), "POST", path);
}

// GetCheckpoint, verified and parsed.
absl::StatusOr<tlog::Checkpoint> CurrentCheckpoint(
    LogServer& server, const crypto::NoteVerifier& verifier) {
  ASSIGN_OR_RETURN(std::string note, GetCheckpointNote(server.stub()));
  return OpenCheckpoint(note, verifier);
}

// ---------------------------------------------------------------------------
// Concurrent submissions.

// A submission the log acknowledged.
struct Ack {
  uint64_t index = 0;
  std::string leaf;
  // The checkpoint note returned with it.
  std::string checkpoint;
};

struct LoadOutcome {
  std::vector<Ack> acks;
  // Every leaf sent, acknowledged or not.
  std::vector<std::string> sent;
  // Unexpected errors and responses that did not verify.
  std::vector<std::string> failures;
  // Submissions that failed after ExpectErrors (the server was being
  // stopped).
  struct Refusal {
    grpc::Status status;
    std::string leaf;
  };
  std::vector<Refusal> expected_errors;
  // From the start until ExpectErrors or Stop, or until the last client
  // finished if neither was called.
  absl::Duration elapsed;
};

// Client threads, each submitting distinct claims signed by `vendor` in a
// loop, one at a time, checking each response.
class Load {
 public:
  // Starts `threads` clients that each submit up to `per_thread` claims
  // (0: until Stop) with ids "<prefix>-<thread>-<n>".
  Load(LogStub* stub, const Identity* vendor,
       const crypto::NoteVerifier* verifier, std::string prefix, int threads,
       int per_thread)
      : stub_(stub),
        vendor_(vendor),
        verifier_(verifier),
        prefix_(std::move(prefix)),
        per_thread_(per_thread),
        start_(absl::Now()) {
    running_ = threads;
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, i] { Run(i); });
    }
  }

  // Stops the clients (a test that fails early must not wait for them
  // forever) and joins them.
  ~Load() {
    Stop();
    Join();
  }

  // Waits until at least `count` submissions were acknowledged, or every
  // client has stopped, or `timeout` passed. Returns the acknowledged count.
  size_t WaitForAcks(size_t count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    const auto done = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return outcome_.acks.size() >= count || running_ == 0;
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return outcome_.acks.size();
  }

  // From now on, a failed call is expected (the server is being stopped)
  // and ends its client without counting as a failure.
  void ExpectErrors() {
    absl::MutexLock lock(&mu_);
    errors_expected_ = true;
    if (!stopped_at_.has_value()) stopped_at_ = absl::Now();
  }

  // Tells the clients to stop after their current call.
  void Stop() {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (!stopped_at_.has_value()) stopped_at_ = absl::Now();
  }

  // Waits for every client (call Stop first if they submit until told to
  // stop) and returns what happened.
  LoadOutcome Finish() {
    Join();
    absl::MutexLock lock(&mu_);
    outcome_.elapsed = stopped_at_.value_or(last_finish_) - start_;
    return std::move(outcome_);
  }

 private:
  void Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  void Fail(std::string failure) {
    absl::MutexLock lock(&mu_);
    outcome_.failures.push_back(std::move(failure));
  }

  void Run(int thread) {
    for (int n = 0; per_thread_ == 0 || n < per_thread_; ++n) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) break;
      }
      const std::string id = absl::StrCat(prefix_, "-", thread, "-", n);
      absl::StatusOr<crypto::DsseEnvelope> envelope =
          SignClaim(*vendor_, MakeClaim(id));
      if (!envelope.ok()) {
        Fail(absl::StrCat(id, ": signing: ", envelope.status().ToString()));
        break;
      }
      const std::string leaf = crypto::EncodeDsseLeaf(*envelope);
      {
        absl::MutexLock lock(&mu_);
        outcome_.sent.push_back(leaf);
      }
      SubmitResponse response;
      const grpc::Status status =
          Submit(*stub_, JsonRequest(*envelope), &response);
      if (!status.ok()) {
        absl::MutexLock lock(&mu_);
        if (errors_expected_) {
          outcome_.expected_errors.push_back({status, leaf});
        } else {
          outcome_.failures.push_back(
              absl::StrCat(id, ": Submit: ", DescribeGrpc(status)));
        }
        break;
      }
      // An acknowledged submission must be right, whenever it came.
      const absl::StatusOr<tlog::Checkpoint> checked =
          CheckSubmitResponse(response, leaf, *verifier_);
      if (!checked.ok()) {
        Fail(absl::StrCat(id, ": ", checked.status().ToString()));
      } else if (response.duplicate()) {
        Fail(absl::StrCat(id, ": a new claim was reported as a duplicate"));
      }
      absl::MutexLock lock(&mu_);
      outcome_.acks.push_back(
          Ack{response.index(), leaf, response.checkpoint()});
    }
    absl::MutexLock lock(&mu_);
    --running_;
    last_finish_ = absl::Now();
  }

  LogStub* const stub_;
  const Identity* const vendor_;
  const crypto::NoteVerifier* const verifier_;
  const std::string prefix_;
  const int per_thread_;
  const absl::Time start_;
  std::vector<std::thread> threads_;

  absl::Mutex mu_;
  LoadOutcome outcome_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool errors_expected_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Time> stopped_at_ ABSL_GUARDED_BY(mu_);
  absl::Time last_finish_ ABSL_GUARDED_BY(mu_);
};

// Reads the log's checkpoint over gRPC (GetCheckpoint) and HTTP (GET
// /checkpoint) in a loop until Stop, as a monitor that never submits sees
// the log. Failed reads are skipped: the log may be killed meanwhile.
class CheckpointPoller {
 public:
  explicit CheckpointPoller(LogServer* server)
      : thread_([this, server] { Run(*server); }) {}

  ~CheckpointPoller() { Stop(); }

  // Stops polling and returns every note read, from both APIs.
  std::vector<std::string> Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return notes_;
  }

 private:
  void Run(LogServer& server) {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
      }
      absl::StatusOr<std::string> grpc_note = GetCheckpointNote(server.stub());
      absl::StatusOr<HttpResult> http = HttpGet(server, "/checkpoint");
      absl::MutexLock lock(&mu_);
      if (grpc_note.ok()) notes_.push_back(*std::move(grpc_note));
      if (http.ok() && http->status == 200) notes_.push_back(http->body);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(20));
    }
  }

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> notes_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// Checks the log after a restart against everything acknowledged before:
// the tree's root recomputed from all its leaves is the checkpoint's root;
// every acknowledged leaf is at its index; every leaf in the tree was sent
// by a client and appears once; every checkpoint seen before is consistent
// with the current one (`seen` maps tree sizes to checkpoints, and also
// catches two checkpoints of one size with different roots). Returns the
// current checkpoint.
absl::StatusOr<tlog::Checkpoint> CheckLogHoldsAcknowledged(
    LogServer& server, const crypto::NoteVerifier& verifier,
    const std::vector<Ack>& acks, const absl::flat_hash_set<std::string>& sent,
    const std::map<uint64_t, tlog::Checkpoint>& seen) {
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   CurrentCheckpoint(server, verifier));
  ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                   GetAllEntries(server.stub(), 0, checkpoint.size));
  const tlog::Hash root = tlog::testing::ReferenceRoot(LeafHashes(leaves));
  if (root != checkpoint.root) {
    return absl::DataLossError(
        absl::StrCat("the root of the ", leaves.size(),
                     " stored leaves is not the checkpoint's root"));
  }
  for (const Ack& ack : acks) {
    if (ack.index >= leaves.size()) {
      return absl::DataLossError(absl::StrCat("acknowledged entry ", ack.index,
                                              " is beyond the tree of size ",
                                              leaves.size()));
    }
    if (leaves[ack.index] != ack.leaf) {
      return absl::DataLossError(absl::StrCat(
          "entry ", ack.index, " is not the leaf acknowledged there"));
    }
  }
  absl::flat_hash_set<std::string> unique;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!sent.contains(leaves[i])) {
      return absl::DataLossError(
          absl::StrCat("entry ", i, " is nothing a client sent"));
    }
    if (!unique.insert(leaves[i]).second) {
      return absl::DataLossError(absl::StrCat("entry ", i, " is a duplicate"));
    }
  }
  for (const auto& [size, old] : seen) {
    RETURN_IF_ERROR(CheckConsistency(server.stub(), old, checkpoint));
  }
  return checkpoint;
}

// Adds `checkpoint` to `seen`; fails if another checkpoint of its size has
// another root (a fork).
absl::Status AddSeen(const tlog::Checkpoint& checkpoint,
                     std::map<uint64_t, tlog::Checkpoint>& seen) {
  auto [it, inserted] = seen.emplace(checkpoint.size, checkpoint);
  if (!inserted && it->second.root != checkpoint.root) {
    return absl::DataLossError(absl::StrCat(
        "two checkpoints of size ", checkpoint.size, " have different roots"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The fixture: a log key made by `refsum-log keygen`, a vendor (ECDSA P-256)
// and a rebuilder (Ed25519) in a --keys file, and an Ed25519 key the log
// does not know.

class LogE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("log"));
    ASSERT_OK_AND_ASSIGN(options_.key, GenerateLogKey(kOrigin, dir_ + "/key"));
    options_.data_dir = dir_ + "/data";
    options_.output_dir = dir_;
    options_.timeout = kStartTimeout;

    ASSERT_OK_AND_ASSIGN(vendor_,
                         NewIdentity(kVendorName, crypto::KeyType::kEcdsaP256));
    ASSERT_OK_AND_ASSIGN(
        rebuilder_, NewIdentity(kRebuilderName, crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(stranger_,
                         NewIdentity("stranger", crypto::KeyType::kEd25519));
    // Relative PEM paths: the log resolves them against the keys file.
    ASSERT_OK(
        crypto::WritePublicKeyFile(dir_ + "/vendor.pem", vendor_.public_key()));
    ASSERT_OK(crypto::WritePublicKeyFile(dir_ + "/rebuilder.pem",
                                         rebuilder_.public_key()));
    options_.keys_path = dir_ + "/signers.txt";
    ASSERT_OK(WriteFileAtomically(
        options_.keys_path,
        absl::StrCat("# admitted signers\n", "vendor ", kVendorName,
                     " vendor.pem\n", "rebuilder ", kRebuilderName,
                     " rebuilder.pem\n"),
        0644));
  }

  const crypto::NoteVerifier& verifier() const {
    return *options_.key.verifier;
  }

  // Submits a claim signed by the vendor; checks and returns the response.
  void SubmitClaim(LogServer& server, const statement::Claim& claim,
                   SubmitResponse* response, std::string* leaf) {
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignClaim(vendor_, claim));
    *leaf = crypto::EncodeDsseLeaf(envelope);
    ASSERT_GRPC_OK(Submit(server.stub(), JsonRequest(envelope), response));
    EXPECT_OK(CheckSubmitResponse(*response, *leaf, verifier()).status());
    EXPECT_FALSE(response->duplicate());
  }

  // The test's directory: the log key in key/, the data in data/, the
  // --keys file and the logs' output.
  std::string dir_;
  // A log with the key, the data directory and the --keys file above.
  LogServerOptions options_;
  Identity vendor_;
  Identity rebuilder_;
  Identity stranger_;
};

// ---------------------------------------------------------------------------
// 1. keygen and the command line.

TEST(LogCommandLineTest, KeygenWritesAPrivateKeyAndAVerifierKey) {
  ASSERT_OK_AND_ASSIGN(const std::string dir, NewTempDir("keygen"));
  ASSERT_OK_AND_ASSIGN(RunResult run,
                       RunProcess(kLogBinary,
                                  {"keygen", absl::StrCat("--origin=", kOrigin),
                                   "--out=" + dir + "/key"},
                                  dir + "/keygen", kExitTimeout));
  ASSERT_TRUE(run.status.ExitedWith(0)) << run.status.ToString() << "\n"
                                        << run.stderr_text;

  struct stat key_stat;
  ASSERT_EQ(stat((dir + "/key/log.key").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 07777, 0600);
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey key,
                       crypto::ReadPrivateKeyFile(dir + "/key/log.key"));
  EXPECT_EQ(key.type(), crypto::KeyType::kEd25519);

  ASSERT_OK_AND_ASSIGN(const std::string vkey_file,
                       ReadFile(dir + "/key/log.vkey"));
  const absl::string_view vkey = absl::StripAsciiWhitespace(vkey_file);
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::NoteVerifier> verifier,
                       crypto::NewNoteVerifierFromKey(vkey));
  EXPECT_EQ(verifier->name(), kOrigin);
  // The verifier key is the private key's public half: a note it signs
  // verifies.
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::NoteSigner> signer,
                       crypto::NewEd25519NoteSigner(kOrigin, key));
  const crypto::NoteSigner* const signers[] = {signer.get()};
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       crypto::SignNote("hello\n", signers));
  const crypto::NoteVerifier* const verifiers[] = {verifier.get()};
  EXPECT_OK(crypto::OpenNote(note, verifiers).status());
}

TEST(LogCommandLineTest, KeygenRefusesToOverwriteAKey) {
  ASSERT_OK_AND_ASSIGN(const std::string dir, NewTempDir("keygen"));
  const std::vector<std::string> args = {
      "keygen", absl::StrCat("--origin=", kOrigin), "--out=" + dir};
  ASSERT_OK_AND_ASSIGN(
      RunResult first,
      RunProcess(kLogBinary, args, dir + "/first", kExitTimeout));
  ASSERT_TRUE(first.status.ExitedWith(0)) << first.stderr_text;
  ASSERT_OK_AND_ASSIGN(const std::string key, ReadFile(dir + "/log.key"));
  ASSERT_OK_AND_ASSIGN(const std::string vkey, ReadFile(dir + "/log.vkey"));

  ASSERT_OK_AND_ASSIGN(
      RunResult second,
      RunProcess(kLogBinary, args, dir + "/second", kExitTimeout));
  EXPECT_TRUE(second.status.exited) << second.status.ToString();
  EXPECT_NE(second.status.code, 0);
  EXPECT_THAT(second.stderr_text, HasSubstr("log.key"));
  EXPECT_EQ(ReadFile(dir + "/log.key").value_or(""), key);
  EXPECT_EQ(ReadFile(dir + "/log.vkey").value_or(""), vkey);
}

TEST(LogCommandLineTest, BadFlagsExitWithCode2NamingTheFlag) {
  ASSERT_OK_AND_ASSIGN(const std::string dir, NewTempDir("flags"));
  ASSERT_OK_AND_ASSIGN(RunResult keygen,
                       RunProcess(kLogBinary,
                                  {"keygen", absl::StrCat("--origin=", kOrigin),
                                   "--out=" + dir + "/key"},
                                  dir + "/keygen", kExitTimeout));
  ASSERT_TRUE(keygen.status.ExitedWith(0)) << keygen.stderr_text;
  // A serve command line that would start; each case breaks one flag.
  const std::vector<std::string> serve = {
      "serve",
      "--data_dir=" + dir + "/data",
      absl::StrCat("--origin=", kOrigin),
      "--key=" + dir + "/key/log.key",
      "--open",
  };
  const auto with = [&serve](std::vector<std::string> more) {
    std::vector<std::string> args = serve;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"keygen", "--out=" + dir + "/other"}, "--origin"},
      {{"keygen", absl::StrCat("--origin=", kOrigin)}, "--out"},
      {{"keygen", "--origin=two words", "--out=" + dir + "/other"}, "--origin"},
      {{"keygen", "--no_such_flag=1"}, "no_such_flag"},
      {with({"--batch_size=many"}), "batch_size"},
      {with({"--batch_size=0"}), "--batch_size"},
      {with({"--cache_mb=0"}), "--cache_mb"},
      {with({"--batch_interval=-1s"}), "--batch_interval"},
      {with({"--grpc_addr=no-port"}), "--grpc_addr"},
      {with({"--http_addr=127.0.0.1:99999"}), "--http_addr"},
      {{"serve", absl::StrCat("--origin=", kOrigin), "--open",
        "--key=" + dir + "/key/log.key"},
       "--data_dir"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    ASSERT_OK_AND_ASSIGN(
        RunResult run,
        RunProcess(kLogBinary, c.args, absl::StrCat(dir, "/case-", n++),
                   kExitTimeout));
    EXPECT_TRUE(run.status.ExitedWith(2)) << run.status.ToString();
    EXPECT_THAT(run.stderr_text, HasSubstr(c.flag));
  }
  ASSERT_OK_AND_ASSIGN(
      RunResult unknown,
      RunProcess(kLogBinary, {"frobnicate"}, dir + "/unknown", kExitTimeout));
  EXPECT_TRUE(unknown.status.ExitedWith(2)) << unknown.status.ToString();
  EXPECT_THAT(unknown.stderr_text, HasSubstr("usage"));
}

TEST_F(LogE2eTest, ServeNeedsKeysOrOpen) {
  const std::string ready = dir_ + "/ready.json";
  ASSERT_OK_AND_ASSIGN(
      RunResult run,
      RunProcess(kLogBinary,
                 {"serve", "--data_dir=" + options_.data_dir,
                  absl::StrCat("--origin=", kOrigin),
                  "--key=" + options_.key.key_path, "--grpc_addr=127.0.0.1:0",
                  "--http_addr=127.0.0.1:0", "--ready_file=" + ready},
                 dir_ + "/no-keys", kExitTimeout));
  EXPECT_TRUE(run.status.ExitedWith(2)) << run.status.ToString();
  EXPECT_THAT(run.stderr_text, HasSubstr("--keys"));
  EXPECT_THAT(run.stderr_text, HasSubstr("--open"));
  EXPECT_FALSE(ReadFile(ready).ok()) << "it reported ready";

  // A keys file that does not exist is named.
  const std::string missing = dir_ + "/missing-signers.txt";
  ASSERT_OK_AND_ASSIGN(
      RunResult no_file,
      RunProcess(
          kLogBinary,
          {"serve", "--data_dir=" + options_.data_dir,
           absl::StrCat("--origin=", kOrigin), "--key=" + options_.key.key_path,
           "--keys=" + missing, "--ready_file=" + ready},
          dir_ + "/missing-keys", kExitTimeout));
  EXPECT_TRUE(no_file.status.exited && no_file.status.code != 0)
      << no_file.status.ToString();
  EXPECT_THAT(no_file.stderr_text, HasSubstr("missing-signers.txt"));
  EXPECT_FALSE(ReadFile(ready).ok()) << "it reported ready";
}

TEST_F(LogE2eTest, ServeRefusesAKeyOthersCanRead) {
  ASSERT_EQ(chmod(options_.key.key_path.c_str(), 0644), 0);
  const std::string ready = dir_ + "/ready.json";
  ASSERT_OK_AND_ASSIGN(
      RunResult run,
      RunProcess(
          kLogBinary,
          {"serve", "--data_dir=" + options_.data_dir,
           absl::StrCat("--origin=", kOrigin), "--key=" + options_.key.key_path,
           "--keys=" + options_.keys_path, "--ready_file=" + ready},
          dir_ + "/readable-key", kExitTimeout));
  EXPECT_TRUE(run.status.exited && run.status.code != 0)
      << run.status.ToString();
  EXPECT_FALSE(ReadFile(ready).ok()) << "it reported ready";
}

// ---------------------------------------------------------------------------
// 2. Serving: submissions, proofs, lookups, bundles, tiles, metrics,
// rejections.

TEST_F(LogE2eTest, SubmitsClaimsAndAttestationsOverGrpc) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  LogStub& stub = server->stub();

  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint empty,
                       CurrentCheckpoint(*server, verifier()));
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.root, tlog::EmptyRoot());

  // Sizes to checkpoints, from every response: the log submits one at a time
  // here, so each submission makes a new checkpoint.
  std::map<uint64_t, tlog::Checkpoint> checkpoints = {{0, empty}};
  std::vector<std::string> leaves;
  std::vector<statement::Claim> claims;
  const auto record = [&](const SubmitResponse& response,
                          const std::string& leaf) {
    EXPECT_EQ(response.index(), leaves.size());
    EXPECT_FALSE(response.duplicate());
    leaves.push_back(leaf);
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        CheckSubmitResponse(response, leaf, verifier());
    ASSERT_OK(checkpoint.status());
    EXPECT_EQ(checkpoint->size, leaves.size());
    EXPECT_OK(AddSeen(*checkpoint, checkpoints));
  };

  // Claims 0-2 as JSON envelopes, claim 3 as leaf bytes.
  for (int i = 0; i < 4; ++i) {
    claims.push_back(MakeClaim(absl::StrCat("grpc-", i)));
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignClaim(vendor_, claims.back()));
    SubmitResponse response;
    ASSERT_GRPC_OK(Submit(stub,
                          i < 3 ? JsonRequest(envelope) : LeafRequest(envelope),
                          &response));
    record(response, crypto::EncodeDsseLeaf(envelope));
  }
  // Attestations: two for claim 0 (JSON and leaf), one for claim 2.
  std::vector<uint64_t> attestations_of_0;
  std::vector<uint64_t> attestations_of_2;
  for (const auto& [claim_index, as_leaf, verdict] :
       std::vector<std::tuple<uint64_t, bool, statement::Verdict>>{
           {0, false, statement::Verdict::kMatch},
           {0, true, statement::Verdict::kFailed},
           {2, false, statement::Verdict::kMatch}}) {
    statement::RebuildAttestation attestation = MakeAttestation(
        claims[claim_index], claim_index, tlog::HashLeaf(leaves[claim_index]));
    if (verdict == statement::Verdict::kFailed) {
      attestation.verdict = verdict;
      attestation.rebuilt.reset();
    }
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignAttestation(rebuilder_, attestation));
    SubmitResponse response;
    ASSERT_GRPC_OK(
        Submit(stub, as_leaf ? LeafRequest(envelope) : JsonRequest(envelope),
               &response));
    (claim_index == 0 ? attestations_of_0 : attestations_of_2)
        .push_back(response.index());
    record(response, crypto::EncodeDsseLeaf(envelope));
  }
  ASSERT_EQ(leaves.size(), 7u);
  ASSERT_OK_AND_ASSIGN(const std::string latest_note, GetCheckpointNote(stub));
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint latest,
                       OpenCheckpoint(latest_note, verifier()));
  EXPECT_EQ(latest.size, 7u);

  // Duplicates return the existing index and add nothing.
  for (const uint64_t index : {uint64_t{0}, uint64_t{3}, uint64_t{4}}) {
    for (const bool as_leaf : {false, true}) {
      SCOPED_TRACE(absl::StrCat("resubmitting ", index,
                                as_leaf ? " as a leaf" : " as JSON"));
      ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                           crypto::DecodeDsseLeaf(leaves[index]));
      SubmitResponse response;
      ASSERT_GRPC_OK(
          Submit(stub, as_leaf ? LeafRequest(envelope) : JsonRequest(envelope),
                 &response));
      EXPECT_EQ(response.index(), index);
      EXPECT_TRUE(response.duplicate());
      EXPECT_OK(
          CheckSubmitResponse(response, leaves[index], verifier()).status());
    }
  }
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint after_duplicates,
                       CurrentCheckpoint(*server, verifier()));
  EXPECT_EQ(after_duplicates, latest);

  // The checkpoint over HTTP is GetCheckpoint's.
  ASSERT_OK_AND_ASSIGN(const HttpResult http_checkpoint,
                       HttpGet(*server, "/checkpoint"));
  EXPECT_EQ(http_checkpoint.status, 200);
  EXPECT_EQ(http_checkpoint.body, latest_note);
  EXPECT_THAT(http_checkpoint.content_type, HasSubstr("text/plain"));

  // Entries, inclusion proofs at every size seen, consistency between every
  // pair of checkpoints.
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> stored,
                       GetAllEntries(stub, 0, latest.size));
  EXPECT_EQ(stored, leaves);
  for (uint64_t index = 0; index < leaves.size(); ++index) {
    for (const auto& [size, checkpoint] : checkpoints) {
      if (size <= index) continue;
      EXPECT_OK(CheckInclusion(stub, leaves[index], index, checkpoint))
          << "entry " << index << " in size " << size;
    }
  }
  for (const auto& [old_size, older] : checkpoints) {
    for (const auto& [new_size, newer] : checkpoints) {
      if (old_size > new_size) continue;
      EXPECT_OK(CheckConsistency(stub, older, newer));
    }
  }
  {
    GetEntriesRequest request;
    request.set_start(latest.size);
    GetEntriesResponse response;
    EXPECT_EQ(Call(&LogStub::GetEntries, stub, request, &response).error_code(),
              grpc::StatusCode::OUT_OF_RANGE);
  }
  {
    GetConsistencyProofRequest request;
    request.set_old_size(2);
    request.set_new_size(latest.size + 1);
    GetConsistencyProofResponse response;
    EXPECT_EQ(Call(&LogStub::GetConsistencyProof, stub, request, &response)
                  .error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Find by artifact, reference value and source; paged by the value every
  // claim shares.
  const auto find = [&stub](const FindRequest& request) {
    IndexPage page;
    const grpc::Status status = Call(&LogStub::Find, stub, request, &page);
    EXPECT_TRUE(status.ok()) << DescribeGrpc(status);
    return page;
  };
  for (uint64_t i = 0; i < claims.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("claim ", i));
    FindRequest by_artifact;
    by_artifact.set_artifact_sha256(claims[i].subjects[0].digest.at("sha256"));
    EXPECT_THAT(find(by_artifact).indices(), ElementsAre(i));
    FindRequest by_value;
    by_value.mutable_reference_value()->set_algorithm("sha384");
    by_value.mutable_reference_value()->set_hex(
        claims[i].reference_values[0].digest.hex);
    EXPECT_THAT(find(by_value).indices(), ElementsAre(i));
    FindRequest by_source;
    by_source.mutable_source()->set_repository(kRepository);
    by_source.mutable_source()->set_commit(claims[i].source.commit);
    EXPECT_THAT(find(by_source).indices(), ElementsAre(i));
  }
  {
    std::vector<uint64_t> paged;
    FindRequest request;
    request.mutable_reference_value()->set_algorithm("sha256");
    request.mutable_reference_value()->set_hex(SharedPcrDigest().hex);
    request.mutable_page()->set_size(3);
    for (int pages = 0; pages < 10; ++pages) {
      const IndexPage page = find(request);
      paged.insert(paged.end(), page.indices().begin(), page.indices().end());
      if (!page.more()) break;
      ASSERT_FALSE(page.indices().empty());
      request.mutable_page()->set_after(page.indices().rbegin()[0]);
      request.mutable_page()->set_after_set(true);
    }
    EXPECT_THAT(paged, ElementsAre(0, 1, 2, 3));
    FindRequest unknown;
    unknown.set_artifact_sha256(SeededHex("no such artifact", 64));
    EXPECT_THAT(find(unknown).indices(), ElementsAre());
    FindRequest malformed;
    malformed.set_artifact_sha256("ABCDEF");
    IndexPage page;
    EXPECT_EQ(Call(&LogStub::Find, stub, malformed, &page).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Attestations of a claim.
  const auto attestations_of = [&stub](uint64_t claim_index) {
    GetAttestationsRequest request;
    request.set_claim_index(claim_index);
    IndexPage page;
    const grpc::Status status =
        Call(&LogStub::GetAttestations, stub, request, &page);
    EXPECT_TRUE(status.ok()) << DescribeGrpc(status);
    return std::vector<uint64_t>(page.indices().begin(), page.indices().end());
  };
  EXPECT_EQ(attestations_of(0), attestations_of_0);
  EXPECT_EQ(attestations_of(2), attestations_of_2);
  EXPECT_THAT(attestations_of(1), ElementsAre());

  // Bundles by claim index, artifact and reference value: each holds the
  // claim and its attestations with proofs that verify against one signed
  // checkpoint.
  const auto check_bundle = [&](const GetBundleRequest& request,
                                const std::vector<uint64_t>& claim_indices) {
    GetBundleResponse response;
    const grpc::Status status =
        Call(&LogStub::GetBundle, stub, request, &response);
    ASSERT_TRUE(status.ok()) << DescribeGrpc(status);
    ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                         tlog::DecodeBundle(response.bundle_json()));
    ASSERT_EQ(bundle.claims.size(), claim_indices.size());
    for (size_t i = 0; i < claim_indices.size(); ++i) {
      const uint64_t claim_index = claim_indices[i];
      const tlog::BundleClaim& claim = bundle.claims[i];
      EXPECT_EQ(claim.claim.leaf, leaves[claim_index]);
      EXPECT_OK(VerifyTlogProof(claim.claim.proof, claim.claim.leaf,
                                claim_index, verifier())
                    .status());
      const std::vector<uint64_t> expected = attestations_of(claim_index);
      ASSERT_EQ(claim.attestations.size(), expected.size());
      for (size_t a = 0; a < expected.size(); ++a) {
        EXPECT_EQ(claim.attestations[a].leaf, leaves[expected[a]]);
        EXPECT_OK(VerifyTlogProof(claim.attestations[a].proof,
                                  claim.attestations[a].leaf, expected[a],
                                  verifier())
                      .status());
      }
    }
  };
  {
    GetBundleRequest request;
    request.set_claim_index(0);
    check_bundle(request, {0});
  }
  {
    GetBundleRequest request;
    request.set_artifact_sha256(claims[2].subjects[0].digest.at("sha256"));
    check_bundle(request, {2});
  }
  {
    GetBundleRequest request;
    request.mutable_reference_value()->set_algorithm("sha384");
    request.mutable_reference_value()->set_hex(
        claims[1].reference_values[0].digest.hex);
    check_bundle(request, {1});
  }
  {
    GetBundleRequest request;
    request.mutable_reference_value()->set_algorithm("sha256");
    request.mutable_reference_value()->set_hex(SharedPcrDigest().hex);
    check_bundle(request, {0, 1, 2, 3});
  }
  {
    GetBundleRequest request;
    request.set_artifact_sha256(SeededHex("no such artifact", 64));
    GetBundleResponse response;
    EXPECT_EQ(Call(&LogStub::GetBundle, stub, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
    request.set_claim_index(latest.size);
    EXPECT_EQ(Call(&LogStub::GetBundle, stub, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  // Keys the log knows.
  for (const Identity* identity : {&vendor_, &rebuilder_}) {
    GetKeyRequest request;
    request.set_keyid(identity->public_key().keyid());
    GetKeyResponse response;
    ASSERT_GRPC_OK(Call(&LogStub::GetKey, stub, request, &response));
    EXPECT_EQ(response.public_key_pem(), identity->public_key().ToPem());
    EXPECT_EQ(response.name(), identity->name);
    EXPECT_EQ(response.role(), identity == &vendor_ ? "vendor" : "rebuilder");
  }
  {
    GetKeyRequest request;
    request.set_keyid(stranger_.public_key().keyid());
    GetKeyResponse response;
    EXPECT_EQ(Call(&LogStub::GetKey, stub, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  // The metrics count what happened: 7 new entries, 6 duplicates.
  ASSERT_OK_AND_ASSIGN(const HttpResult metrics, HttpGet(*server, "/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_submissions_total{result=\"new\"}"),
      7);
  EXPECT_EQ(MetricValue(metrics.body,
                        "refsum_log_submissions_total{result=\"duplicate\"}"),
            6);
  EXPECT_EQ(MetricValue(metrics.body,
                        "refsum_log_submissions_total{result=\"error\"}"),
            0);
  EXPECT_EQ(MetricValue(metrics.body, "refsum_log_tree_size"), 7);
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_integration_latency_seconds_count"),
      13);

  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

TEST_F(LogE2eTest, TilesReproduceTheTree) {
  // Small batches, so that the tree grows through many checkpoints.
  options_.batch_size = 16;
  options_.batch_interval = absl::Milliseconds(2);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  // 600 entries: two full level-0 tiles, one partial, and a partial level-1
  // tile.
  Load load(&server->stub(), &vendor_, options_.key.verifier.get(), "tiles",
            kClientThreads, 75);
  LoadOutcome outcome = load.Finish();
  ASSERT_THAT(outcome.failures, ElementsAre());
  ASSERT_EQ(outcome.acks.size(), 600u);

  ASSERT_OK_AND_ASSIGN(const std::string note,
                       GetCheckpointNote(server->stub()));
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       OpenCheckpoint(note, verifier()));
  ASSERT_EQ(checkpoint.size, 600u);
  ASSERT_OK_AND_ASSIGN(const HttpResult http_checkpoint,
                       HttpGet(*server, "/checkpoint"));
  EXPECT_EQ(http_checkpoint.status, 200);
  EXPECT_EQ(http_checkpoint.body, note);

  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> leaves,
                       GetAllEntries(server->stub(), 0, checkpoint.size));
  for (const Ack& ack : outcome.acks) {
    ASSERT_LT(ack.index, leaves.size());
    EXPECT_EQ(leaves[ack.index], ack.leaf) << "entry " << ack.index;
  }
  const std::vector<tlog::Hash> leaf_hashes = LeafHashes(leaves);

  const std::vector<tlog::TileLevelLayout> layout =
      tlog::TreeTileLayout(checkpoint.size);
  ASSERT_EQ(layout.size(), 2u);
  std::vector<tlog::Hash> tile_leaf_hashes;
  for (const tlog::TileLevelLayout& level : layout) {
    const uint64_t leaves_per_hash = uint64_t{1}
                                     << (tlog::kTileHeight * level.level);
    const uint64_t tiles = level.full_tiles + (level.partial_width > 0);
    for (uint64_t index = 0; index < tiles; ++index) {
      const uint32_t width =
          index < level.full_tiles ? tlog::kTileWidth : level.partial_width;
      const tlog::Tile tile{level.level, index, width};
      ASSERT_OK_AND_ASSIGN(const std::string path,
                           tlog::FormatTilePath({false, tile}));
      SCOPED_TRACE(path);
      ASSERT_OK_AND_ASSIGN(const HttpResult got, HttpGet(*server, "/" + path));
      ASSERT_EQ(got.status, 200) << got.body;
      EXPECT_EQ(got.content_type, "application/octet-stream");
      if (width == tlog::kTileWidth) {
        EXPECT_THAT(got.cache_control, HasSubstr("immutable"));
      }
      ASSERT_EQ(got.body.size(), width * size_t{32});
      for (uint32_t i = 0; i < width; ++i) {
        const tlog::Hash hash =
            HashFromBytes(absl::string_view(got.body).substr(i * 32, 32))
                .value();
        // Hash i of this tile is the root of the leaves under it.
        const uint64_t first = (index * tlog::kTileWidth + i) * leaves_per_hash;
        const absl::Span<const tlog::Hash> under =
            absl::MakeConstSpan(leaf_hashes).subspan(first, leaves_per_hash);
        EXPECT_EQ(hash, tlog::testing::ReferenceRoot(under)) << "hash " << i;
        if (level.level == 0) tile_leaf_hashes.push_back(hash);
      }
      if (level.level != 0) continue;
      ASSERT_OK_AND_ASSIGN(const std::string bundle_path,
                           tlog::FormatTilePath({true, tile}));
      ASSERT_OK_AND_ASSIGN(const HttpResult bundle,
                           HttpGet(*server, "/" + bundle_path));
      ASSERT_EQ(bundle.status, 200) << bundle.body;
      EXPECT_EQ(bundle.content_type, "application/octet-stream");
      ASSERT_OK_AND_ASSIGN(const std::vector<std::string> entries,
                           tlog::ParseEntryBundle(bundle.body));
      ASSERT_EQ(entries.size(), width);
      for (uint32_t i = 0; i < width; ++i) {
        EXPECT_EQ(entries[i], leaves[index * tlog::kTileWidth + i]);
        EXPECT_EQ(tlog::HashLeaf(entries[i]),
                  tile_leaf_hashes[index * tlog::kTileWidth + i]);
      }
    }
  }
  // The level-0 tiles alone give the checkpoint's root.
  ASSERT_EQ(tile_leaf_hashes.size(), checkpoint.size);
  EXPECT_EQ(tlog::testing::ReferenceRoot(tile_leaf_hashes), checkpoint.root);

  // A partial tile of a tile that has grown past it is its prefix.
  ASSERT_OK_AND_ASSIGN(const HttpResult full, HttpGet(*server, "/tile/0/000"));
  ASSERT_OK_AND_ASSIGN(const HttpResult prefix,
                       HttpGet(*server, "/tile/0/000.p/5"));
  EXPECT_EQ(prefix.status, 200);
  EXPECT_EQ(prefix.body, full.body.substr(0, 5 * 32));
  ASSERT_OK_AND_ASSIGN(const HttpResult entries_prefix,
                       HttpGet(*server, "/tile/entries/000.p/5"));
  EXPECT_EQ(entries_prefix.status, 200);
  EXPECT_THAT(tlog::ParseEntryBundle(entries_prefix.body)
                  .value_or(std::vector<std::string>{}),
              ElementsAreArray(leaves.begin(), leaves.begin() + 5));

  // Every checkpoint a client got is consistent with the newest one.
  std::map<uint64_t, tlog::Checkpoint> seen;
  for (const Ack& ack : outcome.acks) {
    ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint old,
                         OpenCheckpoint(ack.checkpoint, verifier()));
    ASSERT_OK(AddSeen(old, seen));
  }
  for (const auto& [size, old] : seen) {
    EXPECT_OK(CheckConsistency(server->stub(), old, checkpoint));
  }

  // --batch_size holds: no batch had more than 16 entries.
  ASSERT_OK_AND_ASSIGN(const HttpResult metrics, HttpGet(*server, "/metrics"));
  const std::optional<double> batches =
      MetricValue(metrics.body, "refsum_log_batch_entries_count");
  ASSERT_TRUE(batches.has_value()) << metrics.body;
  EXPECT_GE(*batches, 600.0 / 16);
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_batch_entries_bucket{le=\"16\"}"),
      batches);
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_submissions_total{result=\"new\"}"),
      600);
  EXPECT_EQ(MetricValue(metrics.body, "refsum_log_tree_size"), 600);

  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

TEST_F(LogE2eTest, HttpAnswersBadTilePathsWith400AndMissingOnesWith404) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  for (int i = 0; i < 3; ++i) {
    SubmitResponse response;
    std::string leaf;
    SubmitClaim(*server, MakeClaim(absl::StrCat("http-", i)), &response, &leaf);
    if (HasFatalFailure()) return;
  }
  // Tree size 3: one partial level-0 tile of width 3.
  const std::vector<std::string> malformed = {
      "/tile/0/0",
      "/tile/0/00",
      "/tile/0/0000",
      "/tile/0/x000/000",
      "/tile/0/000/",
      "/tile//0/000",
      "/tile/0/000.p/0",
      "/tile/0/000.p/256",
      "/tile/0/000.p/03",
      "/tile/0/000.p/",
      "/tile/0/000.p",
      "/tile/0/-01",
      "/tile/-1/000",
      "/tile/64/000",
      "/tile/00/000",
      "/tile/a/000",
      "/tile/0/abc",
      "/tile/entries/0",
      "/tile/entries/000.p/0",
      "/tile/entries/000.p/257",
      "/tile/entries/x000/000",
      "/tile/0/",
      "/tile/entries/",
      "/tile/0/000.p/3/",
      "/tile/0/x001",
      "/tile/0/99999999999999999999999",
  };
  for (const std::string& path : malformed) {
    ASSERT_OK_AND_ASSIGN(const HttpResult got, HttpGet(*server, path));
    EXPECT_EQ(got.status, 400) << path << ": " << got.body;
  }
  const std::vector<std::string> missing = {
      "/tile/0/000",
      "/tile/0/000.p/4",
      "/tile/0/001",
      "/tile/0/001.p/1",
      "/tile/1/000",
      "/tile/1/000.p/1",
      "/tile/entries/000",
      "/tile/entries/000.p/4",
      "/tile/entries/x001/000",
      "/tile/63/000.p/1",
      "/",
      "/checkpoint/",
      "/tile",
      "/nothing",
  };
  for (const std::string& path : missing) {
    ASSERT_OK_AND_ASSIGN(const HttpResult got, HttpGet(*server, path));
    EXPECT_EQ(got.status, 404) << path << ": " << got.body;
  }
  for (const std::string path :
       {"/tile/0/000.p/3", "/tile/0/000.p/1", "/tile/entries/000.p/3",
        "/tile/entries/000.p/2", "/checkpoint", "/metrics"}) {
    ASSERT_OK_AND_ASSIGN(const HttpResult got, HttpGet(*server, path));
    EXPECT_EQ(got.status, 200) << path << ": " << got.body;
  }
  ASSERT_OK_AND_ASSIGN(const HttpResult post, HttpPost(*server, "/checkpoint"));
  EXPECT_EQ(post.status, 405);

  // Still serving, and the metrics counted the answers.
  EXPECT_FALSE(server->process().Poll().has_value());
  ASSERT_OK_AND_ASSIGN(const HttpResult metrics, HttpGet(*server, "/metrics"));
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_http_requests_total{code=\"400\"}"),
      malformed.size());
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_http_requests_total{code=\"404\"}"),
      missing.size());
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

TEST_F(LogE2eTest, RejectsBadSubmissionsWithoutChangingTheTree) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  LogStub& stub = server->stub();

  // Entry 0: a claim; entry 1: an attestation of it.
  const statement::Claim claim = MakeClaim("admitted");
  SubmitResponse claim_response;
  std::string claim_leaf;
  SubmitClaim(*server, claim, &claim_response, &claim_leaf);
  if (HasFatalFailure()) return;
  const tlog::Hash claim_hash = tlog::HashLeaf(claim_leaf);
  const statement::RebuildAttestation attestation =
      MakeAttestation(claim, 0, claim_hash);
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope attestation_envelope,
                       SignAttestation(rebuilder_, attestation));
  const std::string attestation_leaf =
      crypto::EncodeDsseLeaf(attestation_envelope);
  {
    SubmitResponse response;
    ASSERT_GRPC_OK(Submit(stub, JsonRequest(attestation_envelope), &response));
    ASSERT_EQ(response.index(), 1u);
  }
  ASSERT_OK_AND_ASSIGN(const std::string before, GetCheckpointNote(stub));

  struct Case {
    std::string name;
    SubmitRequest request;
    grpc::StatusCode code;
    // Something the message must contain to name the problem.
    std::string message;
  };
  std::vector<Case> cases;
  const auto add = [&cases](std::string name, SubmitRequest request,
                            grpc::StatusCode code, std::string message) {
    cases.push_back(
        Case{std::move(name), std::move(request), code, std::move(message)});
  };
  const statement::Claim fresh = MakeClaim("rejected");
  ASSERT_OK_AND_ASSIGN(const std::string fresh_payload,
                       statement::SerializeClaim(fresh));
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope good,
                       SignPayload(vendor_, fresh_payload));

  // Keys and roles.
  {
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignPayload(stranger_, fresh_payload));
    add("unknown key", JsonRequest(envelope),
        grpc::StatusCode::PERMISSION_DENIED, stranger_.public_key().keyid());
    SubmitRequest with_key = JsonRequest(envelope);
    with_key.set_public_key_pem(stranger_.public_key().ToPem());
    add("unknown key sent along to a log that is not open", with_key,
        grpc::StatusCode::PERMISSION_DENIED, stranger_.public_key().keyid());
  }
  {
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignPayload(rebuilder_, fresh_payload));
    add("claim signed by a rebuilder", JsonRequest(envelope),
        grpc::StatusCode::PERMISSION_DENIED, "claims");
    statement::RebuildAttestation second = attestation;
    second.rebuilt_at = "2026-11-28T12:00:00Z";
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope by_vendor,
                         SignAttestation(vendor_, second));
    add("attestation signed by a vendor", JsonRequest(by_vendor),
        grpc::StatusCode::PERMISSION_DENIED, "attestations");
  }
  // Signatures.
  {
    crypto::DsseEnvelope flipped = good;
    flipped.signatures[0].sig[10] ^= 0x01;
    add("flipped signature bit", JsonRequest(flipped),
        grpc::StatusCode::PERMISSION_DENIED, "");
    crypto::DsseEnvelope swapped = good;
    ASSERT_OK_AND_ASSIGN(swapped.payload,
                         statement::SerializeClaim(MakeClaim("swapped")));
    add("payload replaced after signing", LeafRequest(swapped),
        grpc::StatusCode::PERMISSION_DENIED, "");
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope by_stranger,
                         SignPayload(stranger_, fresh_payload));
    by_stranger.signatures[0].keyid = vendor_.public_key().keyid();
    add("vendor's keyid on another key's signature", JsonRequest(by_stranger),
        grpc::StatusCode::PERMISSION_DENIED, "");
    crypto::DsseEnvelope two = good;
    two.signatures.push_back(
        SignPayload(vendor_, fresh_payload).value().signatures[0]);
    add("two signatures", JsonRequest(two), grpc::StatusCode::INVALID_ARGUMENT,
        "signature");
    crypto::DsseEnvelope none = good;
    none.signatures.clear();
    add("no signature", JsonRequest(none), grpc::StatusCode::INVALID_ARGUMENT,
        "signature");
    crypto::DsseEnvelope no_keyid = good;
    no_keyid.signatures[0].keyid.clear();
    add("no keyid", JsonRequest(no_keyid), grpc::StatusCode::INVALID_ARGUMENT,
        "keyid");
  }
  // Malformed input.
  {
    SubmitRequest request;
    request.set_envelope_json("{\"payload\": ");
    add("truncated envelope JSON", request, grpc::StatusCode::INVALID_ARGUMENT,
        "JSON");
    request.set_envelope_json("[]");
    add("envelope JSON that is not an object", request,
        grpc::StatusCode::INVALID_ARGUMENT, "");
    request.set_envelope_json(absl::StrCat(
        "{\"payload\":\"e30=\",\"payloadType\":\"", statement::kPayloadType,
        "\",\"payloadType\":\"x\",\"signatures\":[]}"));
    add("envelope JSON with a duplicate key", request,
        grpc::StatusCode::INVALID_ARGUMENT, "");
    add("empty request", SubmitRequest(), grpc::StatusCode::INVALID_ARGUMENT,
        "");
    SubmitRequest leaf;
    leaf.set_leaf(claim_leaf + "x");
    add("leaf with trailing bytes", leaf, grpc::StatusCode::INVALID_ARGUMENT,
        "");
  }
  {
    const auto signed_payload = [this](absl::string_view payload) {
      return SignPayload(vendor_, payload).value();
    };
    add("payload that is not JSON", JsonRequest(signed_payload("{\"_type\": ")),
        grpc::StatusCode::INVALID_ARGUMENT, "JSON");
    ASSERT_OK_AND_ASSIGN(
        const std::string unknown_field,
        statement::EditJson(fresh_payload, "predicate.unexpected", "1"));
    add("claim with an unknown field",
        JsonRequest(signed_payload(unknown_field)),
        grpc::StatusCode::INVALID_ARGUMENT, "predicate");
    ASSERT_OK_AND_ASSIGN(
        const std::string upper_hex,
        statement::EditJson(fresh_payload, "subject.0.digest.sha256",
                            statement::Quoted(absl::AsciiStrToUpper(
                                fresh.subjects[0].digest.at("sha256")))));
    add("claim with uppercase hex", JsonRequest(signed_payload(upper_hex)),
        grpc::StatusCode::INVALID_ARGUMENT, "subject");
    ASSERT_OK_AND_ASSIGN(
        const std::string no_values,
        statement::EditJson(fresh_payload, "predicate.referenceValues",
                            std::nullopt));
    add("claim without reference values",
        JsonRequest(signed_payload(no_values)),
        grpc::StatusCode::INVALID_ARGUMENT, "referenceValues");
    ASSERT_OK_AND_ASSIGN(
        const std::string other_type,
        statement::EditJson(fresh_payload, "predicateType",
                            "\"https://slsa.dev/provenance/v1\""));
    add("unknown predicate type", JsonRequest(signed_payload(other_type)),
        grpc::StatusCode::INVALID_ARGUMENT, "predicateType");
    ASSERT_OK_AND_ASSIGN(
        crypto::DsseEnvelope wrong_type,
        SignPayload(vendor_, fresh_payload, "application/json"));
    add("wrong payload type", JsonRequest(wrong_type),
        grpc::StatusCode::INVALID_ARGUMENT, "payloadType");
    // A leaf over 65535 bytes (the tile bundle limit), validly signed.
    add("oversized leaf",
        JsonRequest(signed_payload(std::string(70000, ' ') + fresh_payload)),
        grpc::StatusCode::INVALID_ARGUMENT, "65535");
  }
  // Attestations of claims that are not in the log.
  {
    const auto signed_attestation =
        [this](const statement::RebuildAttestation& a) {
          return JsonRequest(SignAttestation(rebuilder_, a).value());
        };
    statement::RebuildAttestation beyond = attestation;
    beyond.claim.index = 99;
    add("attestation of an index beyond the tree", signed_attestation(beyond),
        grpc::StatusCode::FAILED_PRECONDITION, "predicate.claim.index");
    statement::RebuildAttestation wrong_hash = attestation;
    wrong_hash.claim.leaf_hash = SeededHex("another leaf", 64);
    add("attestation with another leaf hash", signed_attestation(wrong_hash),
        grpc::StatusCode::FAILED_PRECONDITION, "leafHash");
    statement::RebuildAttestation of_attestation = attestation;
    of_attestation.claim.index = 1;
    of_attestation.claim.leaf_hash = HashHex(tlog::HashLeaf(attestation_leaf));
    add("attestation of an attestation", signed_attestation(of_attestation),
        grpc::StatusCode::FAILED_PRECONDITION, "claim");
    statement::RebuildAttestation other_log = attestation;
    other_log.claim.origin = "log.other.example/main";
    add("attestation for another log", signed_attestation(other_log),
        grpc::StatusCode::INVALID_ARGUMENT, "origin");
    statement::RebuildAttestation other_subject = attestation;
    other_subject.subjects = MakeClaim("other").subjects;
    other_subject.rebuilt->subjects = other_subject.subjects;
    add("attestation with another subject", signed_attestation(other_subject),
        grpc::StatusCode::INVALID_ARGUMENT, "subject");
  }

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SubmitResponse response;
    const grpc::Status status = Submit(stub, c.request, &response);
    EXPECT_EQ(status.error_code(), c.code) << DescribeGrpc(status);
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    ASSERT_OK_AND_ASSIGN(const std::string after, GetCheckpointNote(stub));
    EXPECT_EQ(after, before);
  }
  // Nothing was appended, nor is anything half-written: the tree still ends
  // at entry 1.
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       OpenCheckpoint(before, verifier()));
  EXPECT_EQ(checkpoint.size, 2u);
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> leaves,
                       GetAllEntries(stub, 0, 2));
  EXPECT_THAT(leaves, ElementsAre(claim_leaf, attestation_leaf));
  {
    GetEntriesRequest request;
    request.set_start(2);
    GetEntriesResponse response;
    EXPECT_EQ(Call(&LogStub::GetEntries, stub, request, &response).error_code(),
              grpc::StatusCode::OUT_OF_RANGE);
  }
  // The rejected claim is not findable either.
  {
    FindRequest request;
    request.set_artifact_sha256(fresh.subjects[0].digest.at("sha256"));
    IndexPage page;
    ASSERT_GRPC_OK(Call(&LogStub::Find, stub, request, &page));
    EXPECT_THAT(page.indices(), ElementsAre());
  }
  // The stranger's key was not remembered.
  {
    GetKeyRequest request;
    request.set_keyid(stranger_.public_key().keyid());
    GetKeyResponse response;
    EXPECT_EQ(Call(&LogStub::GetKey, stub, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // And the good envelope is still accepted, at the next index.
  {
    SubmitResponse response;
    ASSERT_GRPC_OK(Submit(stub, JsonRequest(good), &response));
    EXPECT_EQ(response.index(), 2u);
    EXPECT_OK(
        CheckSubmitResponse(response, crypto::EncodeDsseLeaf(good), verifier())
            .status());
  }

  ASSERT_OK_AND_ASSIGN(const HttpResult metrics, HttpGet(*server, "/metrics"));
  EXPECT_EQ(MetricValue(metrics.body,
                        "refsum_log_submissions_total{result=\"error\"}"),
            cases.size());
  EXPECT_EQ(
      MetricValue(metrics.body, "refsum_log_submissions_total{result=\"new\"}"),
      3);
  std::map<grpc::StatusCode, int> by_code;
  for (const Case& c : cases) ++by_code[c.code];
  for (const auto& [code, count] : by_code) {
    EXPECT_EQ(
        MetricValue(metrics.body,
                    absl::StrCat("refsum_log_rpc_errors_total{method=\"Submit\""
                                 ",code=\"",
                                 GrpcCodeName(code), "\"}")),
        count)
        << GrpcCodeName(code) << "\n"
        << metrics.body;
  }
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

TEST_F(LogE2eTest, OpenModeLearnsKeysFromSubmissions) {
  options_.keys_path.clear();  // --open
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  const std::string keyid = stranger_.public_key().keyid();
  const statement::Claim claim = MakeClaim("open-0");
  ASSERT_OK_AND_ASSIGN(const crypto::DsseEnvelope envelope,
                       SignClaim(stranger_, claim));
  {
    SubmitResponse response;
    const grpc::Status status =
        Submit(server->stub(), JsonRequest(envelope), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "a key that is neither known nor sent: " << DescribeGrpc(status);
    SubmitRequest other_key = JsonRequest(envelope);
    other_key.set_public_key_pem(vendor_.public_key().ToPem());
    EXPECT_EQ(Submit(server->stub(), other_key, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << "the key sent is not the signature's";
  }
  SubmitRequest request = JsonRequest(envelope);
  request.set_public_key_pem(stranger_.public_key().ToPem());
  SubmitResponse response;
  ASSERT_GRPC_OK(Submit(server->stub(), request, &response));
  EXPECT_EQ(response.index(), 0u);
  EXPECT_OK(CheckSubmitResponse(response, crypto::EncodeDsseLeaf(envelope),
                                verifier())
                .status());
  GetKeyRequest key_request;
  key_request.set_keyid(keyid);
  GetKeyResponse key;
  ASSERT_GRPC_OK(Call(&LogStub::GetKey, server->stub(), key_request, &key));
  EXPECT_EQ(key.public_key_pem(), stranger_.public_key().ToPem());
  EXPECT_EQ(key.role(), "open");

  // The key is remembered across a restart: no need to send it again, and
  // an open key may also attest.
  ASSERT_OK_AND_ASSIGN(ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
  ASSERT_OK(server->Restart());
  ASSERT_OK_AND_ASSIGN(
      const crypto::DsseEnvelope attestation,
      SignAttestation(
          stranger_,
          MakeAttestation(claim, 0,
                          tlog::HashLeaf(crypto::EncodeDsseLeaf(envelope)))));
  ASSERT_GRPC_OK(Submit(server->stub(), JsonRequest(attestation), &response));
  EXPECT_EQ(response.index(), 1u);
  ASSERT_GRPC_OK(Call(&LogStub::GetKey, server->stub(), key_request, &key));
  EXPECT_EQ(key.role(), "open");
  ASSERT_OK_AND_ASSIGN(stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

// ---------------------------------------------------------------------------
// 3. Restart.

TEST_F(LogE2eTest, RestartServesTheSameLogAndContinuesIt) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  std::vector<std::string> leaves;
  std::vector<std::string> proofs;
  std::vector<statement::Claim> claims;
  for (int i = 0; i < 5; ++i) {
    claims.push_back(MakeClaim(absl::StrCat("restart-", i)));
    SubmitResponse response;
    std::string leaf;
    SubmitClaim(*server, claims.back(), &response, &leaf);
    if (HasFatalFailure()) return;
    ASSERT_EQ(response.index(), leaves.size());
    leaves.push_back(leaf);
    proofs.push_back(response.tlog_proof());
  }
  ASSERT_OK_AND_ASSIGN(const std::string old_note,
                       GetCheckpointNote(server->stub()));
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint old_checkpoint,
                       OpenCheckpoint(old_note, verifier()));
  ASSERT_EQ(old_checkpoint.size, 5u);

  ASSERT_OK_AND_ASSIGN(ExitStatus stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();

  // Same data directory: the same checkpoint, over gRPC and HTTP.
  ASSERT_OK(server->Restart());
  ASSERT_OK_AND_ASSIGN(const std::string restarted_note,
                       GetCheckpointNote(server->stub()));
  EXPECT_EQ(restarted_note, old_note);
  ASSERT_OK_AND_ASSIGN(const HttpResult http_note,
                       HttpGet(*server, "/checkpoint"));
  EXPECT_EQ(http_note.body, old_note);
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> stored,
                       GetAllEntries(server->stub(), 0, 5));
  EXPECT_EQ(stored, leaves);

  // Resubmitting an old entry is still a duplicate.
  {
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         crypto::DecodeDsseLeaf(leaves[2]));
    SubmitResponse response;
    ASSERT_GRPC_OK(Submit(server->stub(), JsonRequest(envelope), &response));
    EXPECT_EQ(response.index(), 2u);
    EXPECT_TRUE(response.duplicate());
  }
  // New submissions continue the tree, including an attestation of a claim
  // logged before the restart.
  for (int i = 5; i < 8; ++i) {
    claims.push_back(MakeClaim(absl::StrCat("restart-", i)));
    SubmitResponse response;
    std::string leaf;
    SubmitClaim(*server, claims.back(), &response, &leaf);
    if (HasFatalFailure()) return;
    EXPECT_EQ(response.index(), leaves.size());
    leaves.push_back(leaf);
  }
  {
    ASSERT_OK_AND_ASSIGN(
        crypto::DsseEnvelope envelope,
        SignAttestation(
            rebuilder_,
            MakeAttestation(claims[1], 1, tlog::HashLeaf(leaves[1]))));
    SubmitResponse response;
    ASSERT_GRPC_OK(Submit(server->stub(), JsonRequest(envelope), &response));
    EXPECT_EQ(response.index(), leaves.size());
    leaves.push_back(crypto::EncodeDsseLeaf(envelope));
  }
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint new_checkpoint,
                       CurrentCheckpoint(*server, verifier()));
  EXPECT_EQ(new_checkpoint.size, 9u);
  EXPECT_OK(CheckConsistency(server->stub(), old_checkpoint, new_checkpoint));
  EXPECT_EQ(tlog::testing::ReferenceRoot(LeafHashes(leaves)),
            new_checkpoint.root);
  // The old tlog-proofs still verify, and the old entries are provable in
  // the new tree.
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_OK(
        VerifyTlogProofText(proofs[i], leaves[i], i, verifier()).status());
    EXPECT_OK(CheckInclusion(server->stub(), leaves[i], i, new_checkpoint));
    EXPECT_OK(CheckInclusion(server->stub(), leaves[i], i, old_checkpoint));
  }
  // Lookups of entries from before the restart still work.
  {
    FindRequest request;
    request.set_artifact_sha256(claims[1].subjects[0].digest.at("sha256"));
    IndexPage page;
    ASSERT_GRPC_OK(Call(&LogStub::Find, server->stub(), request, &page));
    EXPECT_THAT(page.indices(), ElementsAre(1));
    GetAttestationsRequest attestations;
    attestations.set_claim_index(1);
    ASSERT_GRPC_OK(
        Call(&LogStub::GetAttestations, server->stub(), attestations, &page));
    EXPECT_THAT(page.indices(), ElementsAre(8));
  }

  // A second restart serves the newest checkpoint.
  ASSERT_OK_AND_ASSIGN(const std::string newest_note,
                       GetCheckpointNote(server->stub()));
  ASSERT_OK_AND_ASSIGN(stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
  ASSERT_OK(server->Restart());
  EXPECT_EQ(GetCheckpointNote(server->stub()).value_or(""), newest_note);
  ASSERT_OK_AND_ASSIGN(stopped, server->Terminate());
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
}

TEST_F(LogE2eTest, SigtermDrainsInFlightSubmissions) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                       LogServer::Start(options_));
  Load load(&server->stub(), &vendor_, options_.key.verifier.get(), "sigterm",
            kClientThreads, 0);
  ASSERT_GE(load.WaitForAcks(kClientThreads * 4, kLoadTimeout), 1u);
  load.ExpectErrors();
  ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
  load.Stop();
  LoadOutcome outcome = load.Finish();
  EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
  EXPECT_THAT(outcome.failures, ElementsAre());
  // Calls refused while draining: UNAVAILABLE, or CANCELLED for calls that
  // reached the server but no handler before the shutdown (gRPC core's
  // choice of code, grpc/grpc#41785). Neither may have been logged: that
  // would be a call the log handled but did not finish.
  for (const LoadOutcome::Refusal& refusal : outcome.expected_errors) {
    EXPECT_THAT(refusal.status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                                 grpc::StatusCode::CANCELLED))
        << DescribeGrpc(refusal.status);
  }

  ASSERT_OK(server->Restart());
  std::map<uint64_t, tlog::Checkpoint> seen;
  for (const Ack& ack : outcome.acks) {
    ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                         OpenCheckpoint(ack.checkpoint, verifier()));
    ASSERT_OK(AddSeen(checkpoint, seen));
  }
  const absl::flat_hash_set<std::string> sent(outcome.sent.begin(),
                                              outcome.sent.end());
  ASSERT_OK_AND_ASSIGN(
      const tlog::Checkpoint checkpoint,
      CheckLogHoldsAcknowledged(*server, verifier(), outcome.acks, sent, seen));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> leaves,
                       GetAllEntries(server->stub(), 0, checkpoint.size));
  const absl::flat_hash_set<std::string> logged(leaves.begin(), leaves.end());
  for (const LoadOutcome::Refusal& refusal : outcome.expected_errors) {
    EXPECT_FALSE(logged.contains(refusal.leaf))
        << "a submission refused with " << DescribeGrpc(refusal.status)
        << " was logged";
  }
  std::cout << "[e2e] SIGTERM drained: " << outcome.acks.size()
            << " acknowledged, " << outcome.expected_errors.size()
            << " refused, tree size " << checkpoint.size << std::endl;
  ASSERT_OK_AND_ASSIGN(const ExitStatus second_stopped, server->Terminate());
  EXPECT_TRUE(second_stopped.ExitedWith(0)) << second_stopped.ToString();
}

// ---------------------------------------------------------------------------
// 4. Crash.

TEST_F(LogE2eTest, SigkillLosesNoAcknowledgedSubmission) {
  const int rounds = std::max(1, EnvInt("REFSUM_E2E_CRASH_ROUNDS", 3));
  uint32_t seed = 0;
  const char* seed_env = std::getenv("REFSUM_E2E_SEED");
  if (seed_env == nullptr || !absl::SimpleAtoi(seed_env, &seed)) {
    seed = std::random_device()();
  }
  std::cout << "[e2e] crash test: " << rounds << " rounds, seed " << seed
            << " (REFSUM_E2E_CRASH_ROUNDS, REFSUM_E2E_SEED)" << std::endl;
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(250, 1500);

  std::vector<Ack> acks;
  absl::flat_hash_set<std::string> sent;
  // Every checkpoint any client was given, by size.
  std::map<uint64_t, tlog::Checkpoint> seen;
  std::vector<double> rates;
  uint64_t tree_size = 0;
  // Checkpoint notes returned by Submit, GetCheckpoint and GET /checkpoint.
  size_t checkpoints_read = 0;

  for (int round = 0; round <= rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogServer> server,
                         LogServer::Start(options_));
    // What the previous rounds left must all be there.
    ASSERT_OK_AND_ASSIGN(
        const tlog::Checkpoint restarted,
        CheckLogHoldsAcknowledged(*server, verifier(), acks, sent, seen));
    ASSERT_OK(AddSeen(restarted, seen));
    tree_size = restarted.size;
    if (round == rounds) {
      ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Terminate());
      EXPECT_TRUE(stopped.ExitedWith(0)) << stopped.ToString();
      break;
    }

    CheckpointPoller poller(server.get());
    Load load(&server->stub(), &vendor_, options_.key.verifier.get(),
              absl::StrCat("crash-", round), kClientThreads, 0);
    // Kill at a random moment once submissions are flowing (waiting for the
    // first acknowledgement keeps a slow machine from killing an idle log).
    ASSERT_GE(load.WaitForAcks(1, kLoadTimeout), 1u);
    absl::SleepFor(absl::Milliseconds(delay_ms(random)));
    load.ExpectErrors();
    ASSERT_OK_AND_ASSIGN(const ExitStatus stopped, server->Kill());
    load.Stop();
    LoadOutcome outcome = load.Finish();
    const std::vector<std::string> polled = poller.Stop();
    EXPECT_TRUE(stopped.KilledBy(SIGKILL)) << stopped.ToString();
    EXPECT_THAT(outcome.failures, ElementsAre());

    // Every checkpoint any client was given, with a submission or by
    // asking: signed by the log, and no two of one size differ. The next
    // round proves each consistent with the restarted log's checkpoint.
    for (const Ack& ack : outcome.acks) {
      ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                           OpenCheckpoint(ack.checkpoint, verifier()));
      ASSERT_OK(AddSeen(checkpoint, seen));
    }
    for (const std::string& note : polled) {
      ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                           OpenCheckpoint(note, verifier()));
      ASSERT_OK(AddSeen(checkpoint, seen));
    }
    checkpoints_read += outcome.acks.size() + polled.size();
    sent.insert(outcome.sent.begin(), outcome.sent.end());
    const double seconds = absl::ToDoubleSeconds(outcome.elapsed);
    const double rate = seconds > 0 ? outcome.acks.size() / seconds : 0;
    rates.push_back(rate);
    std::cout << "[e2e] crash round " << round << ": " << outcome.acks.size()
              << " acknowledged in " << seconds << " s (" << rate
              << " submissions/s), "
              << outcome.sent.size() - outcome.acks.size()
              << " in flight at SIGKILL" << std::endl;
    acks.insert(acks.end(), std::make_move_iterator(outcome.acks.begin()),
                std::make_move_iterator(outcome.acks.end()));
  }
  std::sort(rates.begin(), rates.end());
  const double median =
      rates.empty()
          ? 0
          : (rates[(rates.size() - 1) / 2] + rates[rates.size() / 2]) / 2;
  std::cout << "[e2e] crash test result: tree size " << tree_size << ", "
            << acks.size() << " acknowledged submissions, 0 lost, "
            << checkpoints_read << " checkpoints read (" << seen.size()
            << " sizes), each proved consistent with the next restart's, "
            << "median rate "
            << median << " acknowledged submissions/s over " << rates.size()
            << " rounds (" << kClientThreads << " client threads)" << std::endl;
}

}  // namespace
}  // namespace refsum::tests
