#include "client/log_client.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/log.grpc.pb.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"

namespace refsum::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kTreeSize = 10;
constexpr int kPageSize = 4;

// The message as a std::string, for gMock's string matchers.
std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

std::string Leaf(uint64_t index) { return absl::StrCat("leaf-", index); }

std::string SignedCheckpoint() {
  const crypto::PrivateKey key =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const auto signer = *crypto::NewEd25519NoteSigner("log.example", key);
  const crypto::NoteSigner* signers[] = {signer.get()};
  return *crypto::SignNote(
      *tlog::FormatCheckpointBody(
          {"log.example", kTreeSize, tlog::HashLeaf("root"), {}}),
      signers);
}

// A log with kTreeSize leaves and pages of kPageSize, answering like
// refsum-log, with a few misbehaving answers selected by the request.
class FakeLog final : public refsum::v1::Log::Service {
 public:
  FakeLog() {
    const std::string checkpoint = SignedCheckpoint();
    tlog::Bundle bundle;
    bundle.claims.push_back(
        {{"claim", tlog::TlogProof{"", 0, {}, checkpoint}, "der"}, {}});
    bundle_json_ = *tlog::EncodeBundle(bundle);
  }

  const std::string& bundle_json() const { return bundle_json_; }

  grpc::Status Submit(grpc::ServerContext*,
                      const refsum::v1::SubmitRequest* request,
                      refsum::v1::SubmitResponse* response) override {
    if (request->public_key_pem() == "unknown") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "key 1234 is not admitted by this log");
    }
    response->set_index(7);
    response->set_checkpoint(request->envelope_json());
    response->set_tlog_proof(request->public_key_pem());
    return grpc::Status::OK;
  }

  grpc::Status GetCheckpoint(
      grpc::ServerContext*, const refsum::v1::GetCheckpointRequest*,
      refsum::v1::GetCheckpointResponse* response) override {
    response->set_checkpoint("the checkpoint");
    return grpc::Status::OK;
  }

  grpc::Status GetEntries(grpc::ServerContext*,
                          const refsum::v1::GetEntriesRequest* request,
                          refsum::v1::GetEntriesResponse* response) override {
    if (request->start() >= kTreeSize) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "beyond the tree");
    }
    const uint64_t end =
        std::min<uint64_t>({kTreeSize, request->start() + kPageSize,
                            request->start() + request->count()});
    for (uint64_t i = request->start(); i < end; ++i) {
      response->add_leaves(Leaf(i));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetConsistencyProof(
      grpc::ServerContext*,
      const refsum::v1::GetConsistencyProofRequest* request,
      refsum::v1::GetConsistencyProofResponse* response) override {
    // Old size 3 gets an answer for another pair of sizes, 4 a short hash.
    response->set_old_size(request->old_size() == 3 ? 2 : request->old_size());
    response->set_new_size(request->new_size());
    const tlog::Hash hash = tlog::HashLeaf("proof");
    response->add_hashes(std::string(crypto::DigestBytes(hash)));
    if (request->old_size() == 4) {
      response->add_hashes(std::string(31, 'x'));
    }
    return grpc::Status::OK;
  }

  // Claim 1 has attestations at 11, 12, ..., 20; claim 2 repeats its first
  // page; claim 3 answers with an empty page that says more follow.
  grpc::Status GetAttestations(
      grpc::ServerContext*, const refsum::v1::GetAttestationsRequest* request,
      refsum::v1::IndexPage* page) override {
    ++attestation_pages_;
    if (request->claim_index() == 3) {
      page->set_more(true);
      return grpc::Status::OK;
    }
    const uint64_t after =
        request->page().after_set() && request->claim_index() == 1
            ? request->page().after()
            : 10;
    uint64_t index = after + 1;
    for (; index <= 20 && page->indices_size() < kPageSize; ++index) {
      page->add_indices(index);
    }
    page->set_more(index <= 20);
    return grpc::Status::OK;
  }

  grpc::Status GetBundle(grpc::ServerContext*,
                         const refsum::v1::GetBundleRequest* request,
                         refsum::v1::GetBundleResponse* response) override {
    switch (request->query_case()) {
      case refsum::v1::GetBundleRequest::kClaimIndex:
        if (request->claim_index() == 1) {
          response->set_bundle_json("{\"not\":\"a bundle\"}");
          return grpc::Status::OK;
        }
        // Claim 2 has more attestations than the log's page size.
        response->set_truncated(request->claim_index() == 2);
        break;
      case refsum::v1::GetBundleRequest::kReferenceValue:
        if (request->reference_value().algorithm() != "sha384" ||
            request->reference_value().hex() != "ab") {
          return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such value");
        }
        break;
      case refsum::v1::GetBundleRequest::kArtifactSha256:
        if (request->artifact_sha256() != "cd") {
          return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such artifact");
        }
        break;
      default:
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no query");
    }
    response->set_bundle_json(bundle_json_);
    return grpc::Status::OK;
  }

  int attestation_pages() const { return attestation_pages_; }

 private:
  std::string bundle_json_;
  std::atomic<int> attestation_pages_{0};
};

class LogClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&log_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
    absl::StatusOr<std::unique_ptr<LogClient>> client =
        LogClient::Connect(address_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::string Prefix(absl::string_view method) const {
    return absl::StrCat("log ", address_, ": ", method, ": ");
  }

  FakeLog log_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<LogClient> client_;
};

TEST(LogClientConnectTest, RejectsWhatIsNotHostPort) {
  for (const std::string address :
       {"", "localhost", ":7300", "localhost:", "localhost:0",
        "localhost:65536", "localhost:http", "localhost:+80", "::1:7300",
        "[]:7300"}) {
    const absl::StatusOr<std::unique_ptr<LogClient>> client =
        LogClient::Connect(address);
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument)
        << address;
    EXPECT_THAT(Message(client.status()), HasSubstr("HOST:PORT")) << address;
  }
  for (const std::string address :
       {"localhost:7300", "127.0.0.1:1", "[::1]:65535", "log.example:443"}) {
    const absl::StatusOr<std::unique_ptr<LogClient>> client =
        LogClient::Connect(address);
    ASSERT_TRUE(client.ok()) << address << ": " << client.status();
    EXPECT_EQ((*client)->address(), address);
  }
  EXPECT_EQ(LogClient::Connect("localhost:7300", absl::ZeroDuration())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LogClientTest, SubmitSendsTheEnvelopeAndKey) {
  const absl::StatusOr<refsum::v1::SubmitResponse> response =
      client_->Submit("{\"payload\":\"\"}", "PEM");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->index(), 7u);
  EXPECT_EQ(response->checkpoint(), "{\"payload\":\"\"}");
  EXPECT_EQ(response->tlog_proof(), "PEM");
}

TEST_F(LogClientTest, ErrorsKeepTheCodeAndNameTheLog) {
  const absl::StatusOr<refsum::v1::SubmitResponse> response =
      client_->Submit("{}", "unknown");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(response.status().message(),
            Prefix("Submit") + "key 1234 is not admitted by this log");
}

TEST_F(LogClientTest, UnreachableLogIsUnavailable) {
  server_->Shutdown();
  server_.reset();
  const absl::StatusOr<std::string> checkpoint = client_->GetCheckpoint();
  EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Message(checkpoint.status()),
              StartsWith(Prefix("GetCheckpoint")));
}

TEST_F(LogClientTest, GetCheckpoint) {
  EXPECT_EQ(client_->GetCheckpoint().value_or(""), "the checkpoint");
}

TEST_F(LogClientTest, GetEntriesFollowsPages) {
  const absl::StatusOr<std::vector<std::string>> leaves =
      client_->GetEntries(1, 9);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_THAT(*leaves, ElementsAre(Leaf(1), Leaf(2), Leaf(3), Leaf(4), Leaf(5),
                                   Leaf(6), Leaf(7), Leaf(8), Leaf(9)));
  EXPECT_THAT(client_->GetEntries(9, 1).value_or(std::vector<std::string>()),
              ElementsAre(Leaf(9)));
  const absl::StatusOr<std::vector<std::string>> none =
      client_->GetEntries(3, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(LogClientTest, GetEntriesBeyondTheTree) {
  const absl::StatusOr<std::vector<std::string>> beyond =
      client_->GetEntries(kTreeSize, 1);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(beyond.status()), StartsWith(Prefix("GetEntries")));
  // The tree ends after two of the three asked for: the second page fails.
  EXPECT_EQ(client_->GetEntries(kTreeSize - 2, 3).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(LogClientTest, GetConsistencyProofChecksTheAnswer) {
  const absl::StatusOr<std::vector<tlog::Hash>> proof =
      client_->GetConsistencyProof(2, 9);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_THAT(*proof, ElementsAre(tlog::HashLeaf("proof")));

  const absl::StatusOr<std::vector<tlog::Hash>> other_sizes =
      client_->GetConsistencyProof(3, 9);
  EXPECT_EQ(other_sizes.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(other_sizes.status()),
              StartsWith(Prefix("GetConsistencyProof")));
  EXPECT_EQ(client_->GetConsistencyProof(4, 9).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(client_->GetConsistencyProof(2, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->GetConsistencyProof(9, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LogClientTest, GetAttestationsFollowsPages) {
  const absl::StatusOr<std::vector<uint64_t>> indices =
      client_->GetAttestations(1);
  ASSERT_TRUE(indices.ok()) << indices.status();
  EXPECT_THAT(*indices, ElementsAre(11, 12, 13, 14, 15, 16, 17, 18, 19, 20));
  EXPECT_EQ(log_.attestation_pages(), 3);
}

TEST_F(LogClientTest, GetAttestationsRefusesPagesThatDoNotAdvance) {
  const absl::StatusOr<std::vector<uint64_t>> repeated =
      client_->GetAttestations(2);
  EXPECT_EQ(repeated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(repeated.status()),
              StartsWith(Prefix("GetAttestations")));
  EXPECT_EQ(client_->GetAttestations(3).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(LogClientTest, GetBundleKeepsTheJsonVerbatim) {
  const absl::StatusOr<FetchedBundle> bundle = client_->GetBundleForClaim(0);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->json, log_.bundle_json());
  ASSERT_EQ(bundle->bundle.claims.size(), 1u);
  EXPECT_EQ(bundle->bundle.claims[0].claim.leaf, "claim");
  EXPECT_FALSE(bundle->truncated);
  const absl::StatusOr<FetchedBundle> truncated =
      client_->GetBundleForClaim(2);
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_TRUE(truncated->truncated);

  EXPECT_TRUE(client_->GetBundleForValue({"sha384", "ab"}).ok());
  EXPECT_TRUE(client_->GetBundleForArtifact("cd").ok());
  const absl::StatusOr<FetchedBundle> missing =
      client_->GetBundleForArtifact("ef");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            Prefix("GetBundle") + "no such artifact");
}

TEST_F(LogClientTest, GetBundleRefusesWhatDoesNotDecode) {
  const absl::StatusOr<FetchedBundle> bundle = client_->GetBundleForClaim(1);
  EXPECT_EQ(bundle.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(bundle.status()),
              StartsWith(Prefix("GetBundle") + "the bundle does not decode"));
}

}  // namespace
}  // namespace refsum::client
