#include "tlog/bundle.h"

#include <memory>
#include <string>

#include "absl/strings/str_replace.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"

namespace refsum::tlog {
namespace {

std::string SignedCheckpoint(uint64_t size) {
  crypto::PrivateKey key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto signer = *crypto::NewEd25519NoteSigner("log.example", key);
  const crypto::NoteSigner* signers[] = {signer.get()};
  return *crypto::SignNote(
      *FormatCheckpointBody({"log.example", size, HashLeaf("root"), {}}),
      signers);
}

BundleEntry Entry(const std::string& leaf, uint64_t index,
                  const std::string& checkpoint) {
  return BundleEntry{leaf,
                     TlogProof{"", index, {HashLeaf("sibling")}, checkpoint},
                     "der-" + leaf};
}

Bundle SampleBundle() {
  const std::string checkpoint = SignedCheckpoint(3);
  return Bundle{{BundleClaim{Entry("claim", 0, checkpoint),
                             {Entry("match-1", 1, checkpoint),
                              Entry("match-2", 2, checkpoint)}}}};
}

TEST(BundleTest, RoundTrips) {
  const Bundle bundle = SampleBundle();
  absl::StatusOr<std::string> json = EncodeBundle(bundle);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find(std::string(kBundleMediaType)), std::string::npos);
  absl::StatusOr<Bundle> decoded = DecodeBundle(*json);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, bundle);
}

TEST(BundleTest, RefusesProofsAgainstDifferentCheckpoints) {
  Bundle bundle = SampleBundle();
  bundle.claims[0].attestations[1].proof.checkpoint = SignedCheckpoint(4);
  EXPECT_EQ(EncodeBundle(bundle).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The same in JSON: replace the second attestation's proof text by one
  // against another checkpoint.
  const Bundle good = SampleBundle();
  TlogProof elsewhere = good.claims[0].attestations[1].proof;
  elsewhere.checkpoint = SignedCheckpoint(9);
  const auto as_json = [](const TlogProof& proof) {
    return absl::StrReplaceAll(*FormatTlogProof(proof), {{"\n", "\\n"}});
  };
  const std::string mixed_json = absl::StrReplaceAll(
      *EncodeBundle(good),
      {{as_json(good.claims[0].attestations[1].proof), as_json(elsewhere)}});
  absl::Status status = DecodeBundle(mixed_json).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("claims[0].attestations[1].proof"),
            absl::string_view::npos)
      << status;
}

TEST(BundleTest, ErrorsNameTheField) {
  const std::string json = *EncodeBundle(SampleBundle());
  const std::pair<std::string, std::string> cases[] = {
      {absl::StrReplaceAll(json, {{"\"mediaType\":\"application/vnd.refsum.bundle.v1+json\"",
                                   "\"mediaType\":\"x\""}}),
       "mediaType"},
      {R"({"mediaType":"application/vnd.refsum.bundle.v1+json","claims":[]})",
       "claims"},
      {absl::StrReplaceAll(json, {{"\"claims\":", "\"extra\":1,\"claims\":"}}),
       "extra"},
      {absl::StrReplaceAll(json, {{"c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v9"}}),
       "claims[0].proof"},
      {absl::StrReplaceAll(json, {{"\"leaf\":\"", "\"leaf\":\"!"}}),
       "claims[0].leaf"},
      {absl::StrReplaceAll(json, {{"\"publicKey\":\"", "\"publicKey\":\"!"}}),
       "claims[0].publicKey"},
      {"[]", "object"},
  };
  for (const auto& [input, field] : cases) {
    absl::Status status = DecodeBundle(input).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << input;
    EXPECT_NE(status.message().find(field), absl::string_view::npos)
        << field << ": " << status;
  }
  EXPECT_EQ(EncodeBundle(Bundle{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refsum::tlog
