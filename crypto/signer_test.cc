#include "crypto/signer.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>

#include <string>

#include "encoding/hex.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

std::string Unhex(absl::string_view hex) { return *encoding::HexDecode(hex); }

struct Rfc8032Vector {
  absl::string_view seed;
  absl::string_view public_key;
  absl::string_view message;
  absl::string_view signature;
};

// RFC 8032 section 7.1, TESTS 1-3.
constexpr Rfc8032Vector kRfc8032Vectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(SignerTest, Ed25519MatchesRfc8032Vectors) {
  for (const Rfc8032Vector& vector : kRfc8032Vectors) {
    absl::StatusOr<PrivateKey> key =
        PrivateKey::FromEd25519Seed(Unhex(vector.seed));
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::unique_ptr<Signer>> signer = NewSigner(*key);
    ASSERT_TRUE(signer.ok()) << signer.status();
    const std::string message = Unhex(vector.message);
    absl::StatusOr<std::string> signature = (*signer)->Sign(message);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(encoding::HexEncode(*signature), vector.signature);

    absl::StatusOr<PublicKey> public_key =
        PublicKey::FromEd25519Raw(Unhex(vector.public_key));
    ASSERT_TRUE(public_key.ok());
    absl::StatusOr<std::unique_ptr<Verifier>> verifier =
        NewVerifier(*public_key);
    ASSERT_TRUE(verifier.ok());
    EXPECT_TRUE((*verifier)->Verify(Unhex(vector.signature), message).ok());
    EXPECT_FALSE((*verifier)->Verify(Unhex(vector.signature), message + "x")
                     .ok());
  }
}

TEST(SignerTest, RoundTripsAndRejectsTamperingForBothTypes) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    absl::StatusOr<PrivateKey> key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.ok());
    auto signer = *NewSigner(*key);
    auto verifier = *NewVerifier(key->public_key());
    const std::string message = "refsum claim";
    const std::string signature = *signer->Sign(message);
    EXPECT_TRUE(verifier->Verify(signature, message).ok());
    EXPECT_EQ(signer->public_key().keyid(), key->public_key().keyid());
    EXPECT_EQ(verifier->public_key().keyid(), key->public_key().keyid());

    for (size_t i = 0; i < signature.size(); ++i) {
      std::string flipped = signature;
      flipped[i] ^= 0x01;
      absl::Status status = verifier->Verify(flipped, message);
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
          << KeyTypeName(type) << " byte " << i;
    }
    EXPECT_FALSE(verifier->Verify(signature, "refsum claim!").ok());
    EXPECT_FALSE(verifier->Verify("", message).ok());
    EXPECT_FALSE(verifier->Verify(signature.substr(1), message).ok());
    EXPECT_FALSE(verifier->Verify(signature + std::string(1, '\0'), message).ok());

    absl::StatusOr<PrivateKey> other = PrivateKey::Generate(type);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(
        (*NewVerifier(other->public_key()))->Verify(signature, message).ok());
  }
}

// The DER ECDSA signature with a redundant leading zero on r (or a long-form
// length) encodes the same numbers; strict DER parsing must refuse it so that
// signatures are not malleable.
TEST(SignerTest, EcdsaRejectsNonCanonicalDer) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  auto signer = *NewSigner(*key);
  auto verifier = *NewVerifier(key->public_key());
  const std::string signature = *signer->Sign("message");
  ASSERT_EQ(signature[0], 0x30);
  // SEQUENCE { INTEGER r, INTEGER s }: re-encode the sequence length in long
  // form (0x81 len), which BER allows and DER does not.
  const auto length = static_cast<unsigned char>(signature[1]);
  ASSERT_LT(length, 0x80);
  std::string long_form = std::string("\x30\x81", 2) +
                          static_cast<char>(length) + signature.substr(2);
  EXPECT_EQ(verifier->Verify(long_form, "message").code(),
            absl::StatusCode::kInvalidArgument);
  // Garbage that is not DER at all.
  EXPECT_FALSE(verifier->Verify(std::string(64, '\x01'), "message").ok());
}

// Returns the DER signature with s replaced by n - s: the other signature
// that plain ECDSA verification accepts for the same message.
std::string FlipS(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()));
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM* flipped = BN_new();
  BN_sub(flipped, EC_GROUP_get0_order(group), ECDSA_SIG_get0_s(sig));
  ECDSA_SIG_set0(sig, BN_dup(ECDSA_SIG_get0_r(sig)), flipped);
  unsigned char* out = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &out);
  std::string result(reinterpret_cast<char*>(out), static_cast<size_t>(length));
  OPENSSL_free(out);
  ECDSA_SIG_free(sig);
  EC_GROUP_free(group);
  return result;
}

// (r, s) and (r, n - s) both satisfy the ECDSA equation; accepting both would
// let anyone turn one logged entry into a second, different leaf.
TEST(SignerTest, EcdsaSignsAndAcceptsOnlyLowS) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  auto signer = *NewSigner(*key);
  auto verifier = *NewVerifier(key->public_key());
  // Random nonces give high S half of the time; 32 signatures would all be
  // low by chance with probability 2^-32.
  for (int i = 0; i < 32; ++i) {
    const std::string signature = *signer->Sign("message");
    ASSERT_TRUE(verifier->Verify(signature, "message").ok());
    absl::Status flipped = verifier->Verify(FlipS(signature), "message");
    EXPECT_EQ(flipped.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(flipped.message().find("low-S"), absl::string_view::npos)
        << flipped;
  }
}

TEST(SignerTest, Ed25519OnlyFactoriesRefuseEcdsa) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  absl::Status status = NewEd25519Signer(*key).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("ecdsa-p256"), absl::string_view::npos);
  EXPECT_EQ(NewEd25519Verifier(key->public_key()).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<PrivateKey> ed = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(ed.ok());
  EXPECT_TRUE(NewEd25519Signer(*ed).ok());
  EXPECT_TRUE(NewEd25519Verifier(ed->public_key()).ok());
}

}  // namespace
}  // namespace refsum::crypto
