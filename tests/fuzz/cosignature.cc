// Fuzzes verifier keys (crypto::ParseVerifierKey) and signature checking of
// signed notes and cosignature/v1 (C2SP tlog-cosignature) against them.
// Input: a verifier key line, then a signed note, as a witness or verifier
// pins a key and then receives notes. A parsed Ed25519-based key formats
// back to the input; when OpenNote accepts the note, every verified
// signature is by that key and, for type 0x04, carries a valid timestamp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::crypto;  // NOLINT: a fuzz target's one function
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) return 0;
  const absl::string_view vkey = input.substr(0, newline);
  const absl::string_view note = input.substr(newline + 1);

  absl::StatusOr<VerifierKey> key = ParseVerifierKey(vkey);
  if (!key.ok()) {
    FUZZ_CHECK(key.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!NewNoteVerifierFromKey(vkey).ok());
    FUZZ_CHECK(!NewCosignatureV1VerifierFromKey(vkey).ok());
    return 0;
  }
  FUZZ_CHECK(IsValidNoteKeyName(key->name));
  FUZZ_CHECK(key->key_id ==
             NoteKeyId(key->name, key->signature_type, key->public_key));

  std::unique_ptr<NoteVerifier> verifier;
  if (key->signature_type == kNoteSignatureTypeEd25519 ||
      key->signature_type == kNoteSignatureTypeCosignatureV1) {
    absl::StatusOr<PublicKey> public_key =
        PublicKey::FromEd25519Raw(key->public_key);
    FUZZ_CHECK_OK(public_key);
    absl::StatusOr<std::string> formatted =
        FormatVerifierKey(key->name, key->signature_type, *public_key);
    FUZZ_CHECK_OK(formatted);
    FUZZ_CHECK(*formatted == vkey);
    absl::StatusOr<std::unique_ptr<NoteVerifier>> made =
        key->signature_type == kNoteSignatureTypeEd25519
            ? NewNoteVerifierFromKey(vkey)
            : NewCosignatureV1VerifierFromKey(vkey);
    FUZZ_CHECK_OK(made);
    verifier = *std::move(made);
  } else {
    FUZZ_CHECK(!NewNoteVerifierFromKey(vkey).ok());
    FUZZ_CHECK(!NewCosignatureV1VerifierFromKey(vkey).ok());
    return 0;
  }

  absl::StatusOr<Note> parsed = ParseNote(note);
  if (parsed.ok()) {
    for (const NoteSignature& signature : parsed->signatures) {
      absl::StatusOr<uint64_t> timestamp =
          CosignatureV1Timestamp(signature.signature);
      if (timestamp.ok()) FUZZ_CHECK(*timestamp <= INT64_MAX);
    }
  }
  const NoteVerifier* verifiers[] = {verifier.get()};
  absl::StatusOr<VerifiedNote> opened = OpenNote(note, verifiers);
  if (!opened.ok()) return 0;
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(opened->text == parsed->text);
  FUZZ_CHECK(opened->verified.size() == 1);
  FUZZ_CHECK(opened->verified.size() + opened->unverified.size() ==
             parsed->signatures.size());
  const NoteSignature& signature = opened->verified[0];
  FUZZ_CHECK(signature.name == key->name && signature.key_id == key->key_id);
  FUZZ_CHECK_OK(verifier->Verify(opened->text, signature.signature));
  if (key->signature_type == kNoteSignatureTypeCosignatureV1) {
    FUZZ_CHECK_OK(CosignatureV1Timestamp(signature.signature));
  }
  return 0;
}
