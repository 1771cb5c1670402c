#include "crypto/keys.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

std::string Unhex(absl::string_view hex) { return *encoding::HexDecode(hex); }

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// RFC 8032 section 7.1, TEST 1.
constexpr absl::string_view kRfc8032Seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr absl::string_view kRfc8032Public =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

TEST(KeysTest, KeyTypeNamesRoundTrip) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    absl::StatusOr<KeyType> parsed = ParseKeyType(KeyTypeName(type));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(ParseKeyType("rsa").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, Ed25519SeedDerivesRfc8032PublicKey) {
  absl::StatusOr<PrivateKey> key =
      PrivateKey::FromEd25519Seed(Unhex(kRfc8032Seed));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  EXPECT_EQ(encoding::HexEncode(*key->public_key().Ed25519Raw()),
            kRfc8032Public);
  EXPECT_EQ(encoding::HexEncode(*key->Ed25519Seed()), kRfc8032Seed);
}

TEST(KeysTest, KeyIdIsSha256OfSubjectPublicKeyInfo) {
  absl::StatusOr<PublicKey> key =
      PublicKey::FromEd25519Raw(Unhex(kRfc8032Public));
  ASSERT_TRUE(key.ok()) << key.status();
  // The Ed25519 SubjectPublicKeyInfo is a fixed 12-byte prefix (RFC 8410)
  // followed by the raw key.
  EXPECT_EQ(encoding::HexEncode(key->der()),
            absl::StrCat("302a300506032b6570032100", kRfc8032Public));
  EXPECT_EQ(key->keyid(), Sha256Hex(key->der()));
  EXPECT_EQ(key->keyid().size(), 64u);
}

TEST(KeysTest, PemRoundTripsForBothTypes) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    absl::StatusOr<PrivateKey> key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::string> pem = key->ToPem();
    ASSERT_TRUE(pem.ok()) << pem.status();
    EXPECT_TRUE(absl::StartsWith(*pem, "-----BEGIN PRIVATE KEY-----\n"));
    absl::StatusOr<PrivateKey> reparsed = PrivateKey::FromPem(*pem);
    ASSERT_TRUE(reparsed.ok()) << reparsed.status();
    EXPECT_EQ(reparsed->type(), type);
    EXPECT_EQ(reparsed->public_key().der(), key->public_key().der());

    const std::string public_pem = key->public_key().ToPem();
    EXPECT_TRUE(absl::StartsWith(public_pem, "-----BEGIN PUBLIC KEY-----\n"));
    absl::StatusOr<PublicKey> public_key = PublicKey::FromPem(public_pem);
    ASSERT_TRUE(public_key.ok()) << public_key.status();
    EXPECT_EQ(public_key->keyid(), key->public_key().keyid());
    EXPECT_EQ(public_key->type(), type);
  }
}

TEST(KeysTest, AcceptsPemSurroundedByWhitespace) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  const std::string pem = "\n  " + key->public_key().ToPem() + "\n\n";
  EXPECT_TRUE(PublicKey::FromPem(pem).ok());
}

TEST(KeysTest, RejectsGarbageTruncatedAndMislabeledPem) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  const std::string private_pem = *key->ToPem();
  const std::string public_pem = key->public_key().ToPem();
  const std::string cases[] = {
      "",
      "garbage",
      public_pem.substr(0, public_pem.size() / 2),
      public_pem.substr(0, public_pem.size() - 10),
      "junk\n" + public_pem,
      public_pem + "trailing",
      public_pem + public_pem,
      private_pem,  // a private key where a public key is expected
  };
  for (const std::string& pem : cases) {
    absl::Status status = PublicKey::FromPem(pem).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << pem;
    EXPECT_FALSE(status.message().empty());
  }
  EXPECT_EQ(PrivateKey::FromPem(public_pem).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem(private_pem.substr(0, 60)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, RejectsBodyCorruption) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  std::string pem = key->public_key().ToPem();
  // Replace a character of the base64 body so the DER no longer parses.
  pem[30] = pem[30] == 'A' ? '!' : 'A';
  EXPECT_EQ(PublicKey::FromPem(pem).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, RejectsOtherAlgorithmsAndCurves) {
  // A P-384 public key (SubjectPublicKeyInfo), generated with openssl.
  const std::string p384 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEr5vEFaQpL2JLPakEvNyZfmGN7N5EBmn6\n"
      "26aPK01Qz/iy61rThLWULCpAb/zbb9bva1WI143PVHt2vaoFWMTnfaioZbB2hK5a\n"
      "86ufA6hXV5uIBW7EqdaRkzsL/aRxvzLO\n"
      "-----END PUBLIC KEY-----\n";
  absl::Status status = PublicKey::FromPem(p384).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("P-256"), absl::string_view::npos) << status;
  EXPECT_EQ(PublicKey::FromEd25519Raw("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromEd25519Seed("short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, Ed25519AccessorsRefuseEcdsaKeys) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->Ed25519Seed().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key->public_key().Ed25519Raw().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(KeysTest, PrivateKeyFilesAre0600AndLooseModesAreRefused) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  const std::string path = TempDir() + "/keys_test.key";
  ASSERT_TRUE(WritePrivateKeyFile(path, *key).ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  absl::StatusOr<PrivateKey> read = ReadPrivateKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->public_key().keyid(), key->public_key().keyid());

  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  absl::Status status = ReadPrivateKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("0640"), absl::string_view::npos) << status;
  EXPECT_EQ(ReadPrivateKeyFile(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(KeysTest, ReadPrivateFileRefusesWhatOthersMayRead) {
  const std::string path = TempDir() + "/keys_test.secret";
  ASSERT_TRUE(WriteFileAtomically(path, "any secret", 0600).ok());
  absl::StatusOr<std::string> read = ReadPrivateFile(path, "TLS key");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "any secret");
  for (const mode_t loose : {0604, 0620}) {
    ASSERT_EQ(chmod(path.c_str(), loose), 0);
    const absl::Status status = ReadPrivateFile(path, "TLS key").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(status.message().find(absl::StrCat("TLS key ", path)),
              absl::string_view::npos)
        << status;
  }
  EXPECT_EQ(ReadPrivateFile(path + ".missing", "TLS key").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(KeysTest, PublicKeyFilesRoundTripAndNameThePathOnError) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  const std::string path = TempDir() + "/keys_test.pub";
  ASSERT_TRUE(WritePublicKeyFile(path, key->public_key()).ok());
  absl::StatusOr<PublicKey> read = ReadPublicKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->der(), key->public_key().der());
  ASSERT_TRUE(WriteFileAtomically(path, "not a key", 0644).ok());
  absl::Status status = ReadPublicKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path), absl::string_view::npos);
}

}  // namespace
}  // namespace refsum::crypto
