#include "crypto/dsse.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "crypto/keys.h"
#include "encoding/hex.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

std::string Unhex(absl::string_view hex) { return *encoding::HexDecode(hex); }

constexpr absl::string_view kInTotoType = "application/vnd.in-toto+json";

DsseEnvelope SignedEnvelope(KeyType type, PrivateKey* key_out = nullptr) {
  PrivateKey key = *PrivateKey::Generate(type);
  if (key_out != nullptr) *key_out = key;
  return *DsseSign(kInTotoType, "{\"_type\":\"x\"}", **NewSigner(key));
}

// The example of DSSE's protocol.md.
TEST(DsseTest, PaeMatchesSpecExample) {
  EXPECT_EQ(DssePae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(DssePae("", ""), "DSSEv1 0  0 ");
}

TEST(DsseTest, SignsAndVerifiesWithBothKeyTypes) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    PrivateKey key = *PrivateKey::Generate(KeyType::kEd25519);
    DsseEnvelope envelope = SignedEnvelope(type, &key);
    ASSERT_EQ(envelope.signatures.size(), 1u);
    EXPECT_EQ(envelope.signatures[0].keyid, key.public_key().keyid());
    auto verifier = *NewVerifier(key.public_key());
    EXPECT_TRUE(DsseVerify(envelope, *verifier).ok());

    DsseEnvelope changed_payload = envelope;
    changed_payload.payload += " ";
    EXPECT_EQ(DsseVerify(changed_payload, *verifier).code(),
              absl::StatusCode::kUnauthenticated);
    DsseEnvelope changed_type = envelope;
    changed_type.payload_type = "application/json";
    EXPECT_FALSE(DsseVerify(changed_type, *verifier).ok());

    auto stranger = *NewVerifier(PrivateKey::Generate(type)->public_key());
    absl::Status status = DsseVerify(envelope, *stranger);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(status.message().find("no signature by key"),
              absl::string_view::npos)
        << status;
  }
}

TEST(DsseTest, Ed25519EnvelopeIsDeterministic) {
  // RFC 8032 TEST 1 key: Ed25519 signatures are deterministic, so this pins
  // PAE, signing and both encodings together.
  PrivateKey key = *PrivateKey::FromEd25519Seed(Unhex(
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  DsseEnvelope first = *DsseSign("t", "p", **NewSigner(key));
  DsseEnvelope second = *DsseSign("t", "p", **NewSigner(key));
  EXPECT_EQ(EncodeDsseLeaf(first), EncodeDsseLeaf(second));
  EXPECT_EQ(EncodeDsseJson(first), EncodeDsseJson(second));
}

TEST(DsseTest, JsonRoundTrips) {
  DsseEnvelope envelope = SignedEnvelope(KeyType::kEcdsaP256);
  const std::string json = EncodeDsseJson(envelope);
  EXPECT_EQ(json.find("{\"payload\":\""), 0u) << json;
  absl::StatusOr<DsseEnvelope> decoded = DecodeDsseJson(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, envelope);
}

TEST(DsseTest, JsonFollowsDssesParsingRules) {
  // Unknown fields are ignored, keyid may be absent, base64 may be URL-safe
  // and unpadded.
  absl::StatusOr<DsseEnvelope> decoded = DecodeDsseJson(
      R"({"payload":"-_-_","payloadType":"t","extra":1,)"
      R"("signatures":[{"sig":"Zm8","future":true}]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->payload, std::string("\xfb\xff\xbf", 3));
  ASSERT_EQ(decoded->signatures.size(), 1u);
  EXPECT_EQ(decoded->signatures[0].sig, "fo");
  EXPECT_EQ(decoded->signatures[0].keyid, "");
}

TEST(DsseTest, JsonErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"payloadType":"t","signatures":[]})", "payload"},
      {R"({"payload":"","signatures":[]})", "payloadType"},
      {R"({"payload":"","payloadType":"t"})", "signatures"},
      {R"({"payload":"","payloadType":"t","signatures":[{"keyid":"k"}]})",
       "signatures[0].sig"},
      {R"({"payload":"!!","payloadType":"t","signatures":[]})", "payload"},
      {R"({"payload":"","payloadType":7,"signatures":[]})", "payloadType"},
      {R"({"payload":"","payloadType":"t","signatures":{}})", "signatures"},
      {R"({"payload":"","payload":"","payloadType":"t","signatures":[]})",
       "duplicate"},
      {R"([])", "object"},
  };
  for (const auto& [json, field] : cases) {
    absl::Status status = DecodeDsseJson(json).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_NE(status.message().find(field), absl::string_view::npos)
        << json << ": " << status;
  }
}

TEST(DsseTest, LeafEncodingUsesDsseFieldNumbers) {
  DsseEnvelope envelope{"a", "t", {{"k", "s"}}};
  // payload=1 "a", payloadType=2 "t", signatures=3 {sig=1 "s", keyid=2 "k"}.
  EXPECT_EQ(encoding::HexEncode(EncodeDsseLeaf(envelope)),
            "0a01611201741a060a017312016b");
  // Empty fields are omitted, but an empty signature message is kept.
  EXPECT_EQ(encoding::HexEncode(EncodeDsseLeaf(DsseEnvelope{"", "", {{}}})),
            "1a00");
  // A 200-byte payload needs a two-byte varint length.
  const std::string leaf =
      EncodeDsseLeaf(DsseEnvelope{std::string(200, 'x'), "", {}});
  EXPECT_EQ(encoding::HexEncode(leaf.substr(0, 3)), "0ac801");
}

TEST(DsseTest, LeafRoundTrips) {
  DsseEnvelope envelope = SignedEnvelope(KeyType::kEd25519);
  absl::StatusOr<DsseEnvelope> decoded =
      DecodeDsseLeaf(EncodeDsseLeaf(envelope));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, envelope);
  envelope.signatures.push_back({"second", "sig2"});
  EXPECT_EQ(*DecodeDsseLeaf(EncodeDsseLeaf(envelope)), envelope);
  EXPECT_EQ(*DecodeDsseLeaf(""), DsseEnvelope{});
}

TEST(DsseTest, LeafDecodingAcceptsOnlyCanonicalBytes) {
  const std::pair<const char*, const char*> cases[] = {
      {"0a0161120174", nullptr},                      // valid baseline
      {"1201740a0161", "canonical"},                 // fields out of order
      {"0a01610a0162", "canonical"},                 // payload repeated
      {"0a00", "canonical"},                          // empty field written
      {"0a810061", "canonical"},                      // non-minimal varint
      {"22016b", "unknown field 4"},                  // unknown field
      {"0a05616263", "truncated"},                    // length beyond end
      {"0a", "truncated"},                            // missing length
      {"0a01", "truncated"},                          // missing bytes
      {"1201ff", "UTF-8"},                            // invalid payloadType
      {"1a021201", "truncated"},                      // bad inner message
      {"1a03220161", "unknown field 4"},              // unknown inner field
  };
  for (const auto& [hex, expected] : cases) {
    absl::StatusOr<DsseEnvelope> decoded = DecodeDsseLeaf(Unhex(hex));
    if (expected == nullptr) {
      EXPECT_TRUE(decoded.ok()) << hex << ": " << decoded.status();
      continue;
    }
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument)
        << hex;
    EXPECT_NE(decoded.status().message().find(expected),
              absl::string_view::npos)
        << hex << ": " << decoded.status();
  }
  // Varint wire type (field 1, type 0) and invalid UTF-8 in a keyid.
  EXPECT_NE(DecodeDsseLeaf(Unhex("0801")).status().message().find("tag 8"),
            absl::string_view::npos);
  EXPECT_NE(DecodeDsseLeaf(Unhex("1a031201ff")).status().message().find(
                "UTF-8"),
            absl::string_view::npos);
  // Trailing garbage after a valid envelope is an incomplete field.
  EXPECT_FALSE(DecodeDsseLeaf(Unhex("0a016100")).ok());
}

}  // namespace
}  // namespace refsum::crypto
