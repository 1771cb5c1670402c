#include "crypto/note.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "encoding/base64.h"
#include "gtest/gtest.h"

namespace refsum::crypto {
namespace {

// The example of the Go note package (golang.org/x/mod/sumdb/note), whose
// Ed25519 signature is deterministic and so reproducible byte for byte.
constexpr absl::string_view kPeterVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kPeterPrivateKey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kPeterSignature =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

std::string PeterNote() {
  return absl::StrCat(kPeterText, "\n\xe2\x80\x94 PeterNeumann ",
                      kPeterSignature, "\n");
}

std::unique_ptr<NoteVerifier> PeterVerifier() {
  absl::StatusOr<std::unique_ptr<NoteVerifier>> verifier =
      NewNoteVerifierFromKey(kPeterVerifierKey);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return std::move(verifier).value();
}

std::unique_ptr<NoteSigner> NewRandomSigner(const std::string& name) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  EXPECT_TRUE(key.ok());
  return std::move(NewEd25519NoteSigner(name, *key)).value();
}

// A verifier matching `signer`, built from the signer's vkey string.
std::unique_ptr<NoteVerifier> VerifierFor(const PrivateKey& key,
                                          const std::string& name) {
  return std::move(
             NewNoteVerifierFromKey(
                 *FormatVerifierKey(name, kNoteSignatureTypeEd25519,
                                    key.public_key())))
      .value();
}

TEST(NoteTest, GoExampleVerifies) {
  std::unique_ptr<NoteVerifier> verifier = PeterVerifier();
  EXPECT_EQ(verifier->name(), "PeterNeumann");
  EXPECT_EQ(verifier->key_id(), 0xc74f20a3u);
  const NoteVerifier* verifiers[] = {verifier.get()};
  absl::StatusOr<VerifiedNote> opened = OpenNote(PeterNote(), verifiers);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, kPeterText);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, "PeterNeumann");
  EXPECT_TRUE(opened->unverified.empty());
}

TEST(NoteTest, GoExamplePrivateKeyReproducesSignatureAndKeys) {
  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      NewNoteSignerFromPrivateKey(kPeterPrivateKey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  const NoteSigner* signers[] = {signer->get()};
  absl::StatusOr<std::string> signed_note = SignNote(kPeterText, signers);
  ASSERT_TRUE(signed_note.ok()) << signed_note.status();
  EXPECT_EQ(*signed_note, PeterNote());

  // The key strings round-trip through our formatting.
  absl::StatusOr<VerifierKey> vkey = ParseVerifierKey(kPeterVerifierKey);
  ASSERT_TRUE(vkey.ok()) << vkey.status();
  absl::StatusOr<PublicKey> public_key =
      PublicKey::FromEd25519Raw(vkey->public_key);
  ASSERT_TRUE(public_key.ok());
  EXPECT_EQ(*FormatVerifierKey("PeterNeumann", kNoteSignatureTypeEd25519,
                               *public_key),
            kPeterVerifierKey);
}

TEST(NoteTest, PrivateKeyFormRoundTrips) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  absl::StatusOr<std::string> skey =
      FormatNotePrivateKey("log.example/refsum", *key);
  ASSERT_TRUE(skey.ok()) << skey.status();
  absl::StatusOr<std::unique_ptr<NoteSigner>> signer =
      NewNoteSignerFromPrivateKey(*skey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  std::unique_ptr<NoteVerifier> verifier =
      VerifierFor(*key, "log.example/refsum");
  EXPECT_EQ((*signer)->key_id(), verifier->key_id());
  const NoteSigner* signers[] = {signer->get()};
  const NoteVerifier* verifiers[] = {verifier.get()};
  EXPECT_TRUE(OpenNote(*SignNote("hello\n", signers), verifiers).ok());
}

TEST(NoteTest, RejectsMalformedKeyStrings) {
  const std::string cases[] = {
      "",
      "PeterNeumann",
      "PeterNeumann+c74f20a3",
      "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
      "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  };
  for (const std::string& vkey : cases) {
    absl::Status status = NewNoteVerifierFromKey(vkey).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << vkey;
  }
  EXPECT_FALSE(NewNoteSignerFromPrivateKey(kPeterVerifierKey).ok());
  EXPECT_FALSE(NewNoteSignerFromPrivateKey(absl::StrReplaceAll(
                                               kPeterPrivateKey,
                                               {{"c74f20a3", "c74f20a4"}}))
                   .ok());
}

TEST(NoteTest, KeyNamesFollowTheSpec) {
  EXPECT_TRUE(IsValidNoteKeyName("example.com/log"));
  EXPECT_TRUE(IsValidNoteKeyName("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidNoteKeyName(""));
  EXPECT_FALSE(IsValidNoteKeyName("a+b"));
  EXPECT_FALSE(IsValidNoteKeyName("a b"));
  EXPECT_FALSE(IsValidNoteKeyName("a\tb"));
  EXPECT_FALSE(IsValidNoteKeyName("a\xc2\xa0" "b"));      // no-break space
  EXPECT_FALSE(IsValidNoteKeyName("a\xe3\x80\x80" "b"));  // ideographic space
  EXPECT_FALSE(IsValidNoteKeyName("\xff"));
}

struct MalformedCase {
  const char* description;
  std::string note;
  const char* expected_message;
};

TEST(NoteTest, RejectsMalformedNotesWithClearErrors) {
  const std::string note = PeterNote();
  const std::string sig_line =
      absl::StrCat("\xe2\x80\x94 PeterNeumann ", kPeterSignature, "\n");
  std::string too_many = absl::StrCat(kPeterText, "\n");
  for (int i = 0; i <= 100; ++i) {
    too_many += absl::StrCat("\xe2\x80\x94 other", i, " AAAAAAAA\n");
  }
  const MalformedCase cases[] = {
      {"no blank line", absl::StrCat(kPeterText, sig_line), "blank line"},
      {"ASCII hyphen instead of em dash",
       absl::StrReplaceAll(note, {{"\xe2\x80\x94", "-"}}), "em dash"},
      {"bad base64",
       absl::StrReplaceAll(note, {{kPeterSignature, "not*base64"}}),
       "base64"},
      {"signature too short",
       absl::StrReplaceAll(note, {{kPeterSignature, "AAAA"}}),
       "shorter than 5"},
      {"too many signatures", too_many, "more than 100"},
      {"duplicate key IDs", note + sig_line, "two signatures"},
      {"no signatures", absl::StrCat(kPeterText, "\n"), "no signatures"},
      {"missing final newline", note.substr(0, note.size() - 1),
       "newline"},
      {"control character", absl::StrReplaceAll(note, {{"think", "th\tnk"}}),
       "control character"},
      {"invalid UTF-8", absl::StrReplaceAll(note, {{"think", "th\xffnk"}}),
       "UTF-8"},
      {"no space after name",
       absl::StrCat(kPeterText, "\n\xe2\x80\x94 PeterNeumann\n"), "space"},
  };
  std::unique_ptr<NoteVerifier> verifier = PeterVerifier();
  const NoteVerifier* verifiers[] = {verifier.get()};
  for (const MalformedCase& test : cases) {
    absl::Status status = OpenNote(test.note, verifiers).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << test.description << ": " << status;
    EXPECT_NE(status.message().find(test.expected_message),
              absl::string_view::npos)
        << test.description << ": " << status;
  }
}

TEST(NoteTest, TextMayContainBlankLinesAndSplitsAtTheLast) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  std::unique_ptr<NoteSigner> signer =
      std::move(NewEd25519NoteSigner("k", *key)).value();
  std::unique_ptr<NoteVerifier> verifier = VerifierFor(*key, "k");
  const NoteSigner* signers[] = {signer.get()};
  const NoteVerifier* verifiers[] = {verifier.get()};
  const std::string text = "line one\n\nline three\n";
  absl::StatusOr<VerifiedNote> opened =
      OpenNote(*SignNote(text, signers), verifiers);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, text);
}

TEST(NoteTest, SignNoteRejectsBadText) {
  std::unique_ptr<NoteSigner> signer = NewRandomSigner("k");
  const NoteSigner* signers[] = {signer.get()};
  EXPECT_EQ(SignNote("no newline", signers).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("bell\a\n", signers).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("ok\n", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NoteTest, AcceptsSixteenSignaturesAndIgnoresUnknownKeys) {
  std::vector<PrivateKey> keys;
  std::vector<std::unique_ptr<NoteSigner>> signers;
  std::vector<const NoteSigner*> signer_ptrs;
  for (int i = 0; i < 16; ++i) {
    keys.push_back(*PrivateKey::Generate(KeyType::kEd25519));
    signers.push_back(
        std::move(NewEd25519NoteSigner(absl::StrCat("w", i), keys.back()))
            .value());
    signer_ptrs.push_back(signers.back().get());
  }
  absl::StatusOr<std::string> signed_note = SignNote("body\n", signer_ptrs);
  ASSERT_TRUE(signed_note.ok());

  std::vector<std::unique_ptr<NoteVerifier>> verifiers;
  std::vector<const NoteVerifier*> verifier_ptrs;
  for (int i = 0; i < 16; ++i) {
    verifiers.push_back(VerifierFor(keys[i], absl::StrCat("w", i)));
    verifier_ptrs.push_back(verifiers.back().get());
  }
  absl::StatusOr<VerifiedNote> all = OpenNote(*signed_note, verifier_ptrs);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->verified.size(), 16u);

  // Knowing only w3, the other fifteen are kept as unverified.
  const NoteVerifier* only_w3[] = {verifiers[3].get()};
  absl::StatusOr<VerifiedNote> one = OpenNote(*signed_note, only_w3);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->verified.size(), 1u);
  EXPECT_EQ(one->verified[0].name, "w3");
  EXPECT_EQ(one->unverified.size(), 15u);

  // A key with w3's name but another key is unknown, not a failure.
  absl::StatusOr<PrivateKey> impostor = PrivateKey::Generate(KeyType::kEd25519);
  std::unique_ptr<NoteVerifier> impostor_verifier = VerifierFor(*impostor, "w3");
  const NoteVerifier* with_impostor[] = {impostor_verifier.get(),
                                         verifiers[5].get()};
  absl::StatusOr<VerifiedNote> mixed = OpenNote(*signed_note, with_impostor);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_EQ(mixed->verified.size(), 1u);
}

TEST(NoteTest, FailsWhenNoKnownKeyVerifies) {
  std::unique_ptr<NoteVerifier> peter = PeterVerifier();
  std::unique_ptr<NoteSigner> stranger = NewRandomSigner("stranger");
  const NoteSigner* signers[] = {stranger.get()};
  const NoteVerifier* verifiers[] = {peter.get()};
  absl::Status status = OpenNote(*SignNote("text\n", signers), verifiers)
                            .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(status.message().find("stranger+"), absl::string_view::npos)
      << status;
  EXPECT_EQ(OpenNote(PeterNote(), {}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(NoteTest, FailsWhenAKnownKeySignatureIsBad) {
  std::unique_ptr<NoteVerifier> verifier = PeterVerifier();
  const NoteVerifier* verifiers[] = {verifier.get()};
  const std::string tampered =
      absl::StrReplaceAll(PeterNote(), {{"cryptography", "cryptographY"}});
  absl::Status status = OpenNote(tampered, verifiers).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(status.message().find("PeterNeumann+c74f20a3"),
            absl::string_view::npos)
      << status;
}

TEST(NoteTest, FormatNoteRoundTripsParseNote) {
  absl::StatusOr<Note> note = ParseNote(PeterNote());
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(FormatNote(*note), PeterNote());
  note->signatures.push_back(note->signatures[0]);
  note->signatures.back().name = "Copy";
  absl::StatusOr<Note> reparsed = ParseNote(FormatNote(*note));
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->signatures.size(), 2u);
  EXPECT_EQ(reparsed->signatures[1], note->signatures[1]);
}

}  // namespace
}  // namespace refsum::crypto
