#include "crypto/cosignature.h"

#include <memory>
#include <string>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

// A checkpoint of the arche2025h1 staging CT log as served with its
// witnesses' signatures (from a public interop test suite). It carries an
// Ed25519 log signature (key ba2f06c0), an RFC 6962 signature we do not
// know, and cosignature/v1 lines from four public witnesses.
constexpr absl::string_view kRealCheckpoint =
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "\xe2\x80\x94 arche2025h1.staging.ct.transparency.dev "
    "zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIg"
    "IpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "\xe2\x80\x94 arche2025h1.staging.ct.transparency.dev "
    "ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei5"
    "9RA23oHP7Ry1k3ZFWwQ=\n"
    "\xe2\x80\x94 transparency.dev/DEV:witness-little-garden "
    "2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4Ascy"
    "lP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "\xe2\x80\x94 witness1.smartit.nu/witness1 "
    "pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5"
    "hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "\xe2\x80\x94 remora.n621.de "
    "2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVC"
    "IobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "\xe2\x80\x94 witness.stagemole.eu "
    "Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJ"
    "mIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";

constexpr absl::string_view kLogKey =
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+"
    "AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
constexpr absl::string_view kRemoraKey =
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
constexpr absl::string_view kStagemoleKey =
    "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv";

TEST(CosignatureTest, PublicWitnessCosignaturesVerify) {
  auto log = std::move(NewNoteVerifierFromKey(kLogKey)).value();
  auto remora = std::move(NewCosignatureV1VerifierFromKey(kRemoraKey)).value();
  auto stagemole =
      std::move(NewCosignatureV1VerifierFromKey(kStagemoleKey)).value();
  const NoteVerifier* verifiers[] = {log.get(), remora.get(), stagemole.get()};
  absl::StatusOr<VerifiedNote> opened = OpenNote(kRealCheckpoint, verifiers);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->verified.size(), 3u);
  EXPECT_EQ(opened->verified[1].name, "remora.n621.de");
  absl::StatusOr<uint64_t> timestamp =
      CosignatureV1Timestamp(opened->verified[1].signature);
  ASSERT_TRUE(timestamp.ok());
  EXPECT_EQ(*timestamp, 0x6a122120u);
  EXPECT_EQ(opened->unverified.size(), 3u);
}

TEST(CosignatureTest, TamperedCheckpointFailsTheCosignature) {
  auto remora = std::move(NewCosignatureV1VerifierFromKey(kRemoraKey)).value();
  const NoteVerifier* verifiers[] = {remora.get()};
  const std::string tampered =
      absl::StrReplaceAll(kRealCheckpoint, {{"1432088532", "1432088533"}});
  EXPECT_EQ(OpenNote(tampered, verifiers).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(CosignatureTest, MessageHasHeaderTimeAndBody) {
  EXPECT_EQ(CosignatureV1Message("origin\n5\nroot=\n", 1679315147),
            "cosignature/v1\ntime 1679315147\norigin\n5\nroot=\n");
  EXPECT_EQ(CosignatureV1Message("b\n", 0), "cosignature/v1\ntime 0\nb\n");
}

TEST(CosignatureTest, SignsWithClockAndVerifies) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto signer = std::move(NewCosignatureV1Signer("witness.example/w1", *key,
                                                 [] { return 1700000000u; }))
                    .value();
  const std::string vkey =
      *FormatVerifierKey("witness.example/w1", kNoteSignatureTypeCosignatureV1,
                         key->public_key());
  auto verifier = std::move(NewCosignatureV1VerifierFromKey(vkey)).value();
  EXPECT_EQ(signer->key_id(), verifier->key_id());

  const std::string body = "log.example\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
  absl::StatusOr<std::string> signature = signer->Sign(body);
  ASSERT_TRUE(signature.ok());
  ASSERT_EQ(signature->size(), kCosignatureV1Size);
  EXPECT_EQ(*CosignatureV1Timestamp(*signature), 1700000000u);
  EXPECT_TRUE(verifier->Verify(body, *signature).ok());
  EXPECT_FALSE(verifier->Verify(body + "x\n", *signature).ok());

  // Changing the timestamp breaks the signature: it is signed over.
  std::string restamped = *signature;
  restamped[7] ^= 1;
  EXPECT_FALSE(verifier->Verify(body, restamped).ok());
}

TEST(CosignatureTest, CosignatureKeysAreDistinctFromNoteKeys) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  auto cosigner = std::move(NewCosignatureV1Signer("w", *key)).value();
  auto note_signer = std::move(NewEd25519NoteSigner("w", *key)).value();
  EXPECT_NE(cosigner->key_id(), note_signer->key_id());
  // A type 0x01 vkey is refused as a cosignature key and vice versa.
  const std::string note_vkey =
      *FormatVerifierKey("w", kNoteSignatureTypeEd25519, key->public_key());
  const std::string cosig_vkey = *FormatVerifierKey(
      "w", kNoteSignatureTypeCosignatureV1, key->public_key());
  EXPECT_EQ(NewCosignatureV1VerifierFromKey(note_vkey).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewNoteVerifierFromKey(cosig_vkey).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CosignatureTest, RefusesEcdsaKeysWithInvalidArgument) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(NewCosignatureV1Signer("w", *key).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewCosignatureV1Verifier("w", key->public_key()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CosignatureTest, RejectsMalformedSignatures) {
  EXPECT_EQ(CosignatureV1Timestamp(std::string(71, '\0')).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string too_late(kCosignatureV1Size, '\0');
  too_late[0] = static_cast<char>(0x80);
  absl::Status status = CosignatureV1Timestamp(too_late).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("2^63-1"), absl::string_view::npos);
}

}  // namespace
}  // namespace refsum::crypto
