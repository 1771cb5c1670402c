// C2SP signed-note v1.0.0: notes, note signatures, verifier keys and the Go
// note package's private-key form.
//
// A signed note is UTF-8 text ending in a newline, a blank line, and one or
// more lines "— <key name> <base64(4-byte key ID || signature)>". Checkpoints
// (tlog-checkpoint) and witness cosignatures (tlog-cosignature) are both
// carried this way; see crypto/cosignature.h for the latter.

#ifndef REFSUM_CRYPTO_NOTE_H_
#define REFSUM_CRYPTO_NOTE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/keys.h"

namespace refsum::crypto {

// Signature type identifier bytes (signed-note "Signature types").
inline constexpr uint8_t kNoteSignatureTypeEd25519 = 0x01;
inline constexpr uint8_t kNoteSignatureTypeCosignatureV1 = 0x04;

// Notes with more signature lines than this are rejected as malformed. The
// spec requires accepting at least 16; witnesses of one log rarely exceed a
// dozen.
inline constexpr size_t kMaxNoteSignatures = 100;

// Returns true for a valid key name: non-empty, valid UTF-8, no Unicode
// spaces and no '+'.
bool IsValidNoteKeyName(absl::string_view name);

// Returns SHA-256(name || 0x0A || signature_type || public_key)[:4] as a
// big-endian integer, the key ID the spec recommends and refsum always uses.
uint32_t NoteKeyId(absl::string_view name, uint8_t signature_type,
                   absl::string_view public_key);

// One signature line of a note.
struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  // The signature bytes after the key ID.
  std::string signature;

  friend bool operator==(const NoteSignature& a, const NoteSignature& b) {
    return a.name == b.name && a.key_id == b.key_id &&
           a.signature == b.signature;
  }
};

// A note split into its text and its signature lines, not yet verified.
struct Note {
  // The text, including its final newline.
  std::string text;
  std::vector<NoteSignature> signatures;
};

// Verifies signatures by one key. Implementations are immutable and
// thread-safe.
class NoteVerifier {
 public:
  virtual ~NoteVerifier() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  // Returns OK if `signature` (the bytes after the key ID) signs `text`;
  // otherwise a non-OK status saying why.
  virtual absl::Status Verify(absl::string_view text,
                              absl::string_view signature) const = 0;
};

// Produces signatures by one key. Implementations are immutable and
// thread-safe.
class NoteSigner {
 public:
  virtual ~NoteSigner() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  // Returns the signature bytes (without the key ID) over `text`.
  virtual absl::StatusOr<std::string> Sign(absl::string_view text) const = 0;
};

// Returns an Ed25519 (type 0x01) note verifier for `key` under `name`.
// Returns InvalidArgument if the name is invalid or the key is not Ed25519.
absl::StatusOr<std::unique_ptr<NoteVerifier>> NewEd25519NoteVerifier(
    absl::string_view name, const PublicKey& key);

// Returns an Ed25519 (type 0x01) note signer for `key` under `name`.
// Returns InvalidArgument if the name is invalid or the key is not Ed25519.
absl::StatusOr<std::unique_ptr<NoteSigner>> NewEd25519NoteSigner(
    absl::string_view name, const PrivateKey& key);

// A parsed verifier key string "<name>+<hex8 key ID>+<base64(type || key)>".
struct VerifierKey {
  std::string name;
  uint32_t key_id = 0;
  uint8_t signature_type = 0;
  std::string public_key;  // the raw key bytes after the type byte
};

// Formats a verifier key string for an Ed25519 key with the given signature
// type (0x01 for notes, 0x04 for cosignatures). Returns InvalidArgument for an
// invalid name or a non-Ed25519 key.
absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              uint8_t signature_type,
                                              const PublicKey& key);

// Parses a verifier key string. Checks the syntax, that the key ID is the one
// computed from the name, type and key, and that an Ed25519-based type
// (0x01, 0x04) carries a 32-byte key. Returns InvalidArgument naming the
// problem otherwise. Unknown signature types parse; callers pick the types
// they support.
absl::StatusOr<VerifierKey> ParseVerifierKey(absl::string_view vkey);

// Returns a note verifier for a type 0x01 (Ed25519) verifier key string.
absl::StatusOr<std::unique_ptr<NoteVerifier>> NewNoteVerifierFromKey(
    absl::string_view vkey);

// Formats the Go note package's private key string
// "PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || 32-byte seed)>".
absl::StatusOr<std::string> FormatNotePrivateKey(absl::string_view name,
                                                 const PrivateKey& key);

// Returns an Ed25519 note signer for a private key string as formatted by
// FormatNotePrivateKey. Returns InvalidArgument naming the problem when the
// string is malformed or its key ID does not match.
absl::StatusOr<std::unique_ptr<NoteSigner>> NewNoteSignerFromPrivateKey(
    absl::string_view private_key);

// Splits a signed note into text and signature lines, checking only syntax:
// valid UTF-8, no control characters but newline, text ending in a newline,
// a blank line, 1..kMaxNoteSignatures well-formed signature lines (em dash
// U+2014, space, valid key name, space, standard base64 of at least 5 bytes,
// newline). Returns InvalidArgument naming the problem otherwise.
absl::StatusOr<Note> ParseNote(absl::string_view signed_note);

// Parses one signature line without its final newline:
// "— <key name> <base64(key ID || signature)>". Returns InvalidArgument
// naming the problem otherwise.
absl::StatusOr<NoteSignature> ParseSignatureLine(absl::string_view line);

// Returns the signature line for `signature`, ending in a newline. Witnesses
// answer add-checkpoint requests with such lines.
std::string FormatSignatureLine(const NoteSignature& signature);

// Returns the signed-note text of `note`: text, blank line, signature lines.
// `note` must be well-formed (as ParseNote or SignNote produce).
std::string FormatNote(const Note& note);

// Returns `text` signed by each of `signers`, as a signed note. Returns
// InvalidArgument if the text is not valid note text (see ParseNote) or no
// signer is given, and the first signer's error if signing fails.
absl::StatusOr<std::string> SignNote(
    absl::string_view text, absl::Span<const NoteSigner* const> signers);

// A note whose signatures were checked against known keys.
struct VerifiedNote {
  std::string text;
  // Signatures from known keys; every one verified.
  std::vector<NoteSignature> verified;
  // Signatures from keys that are not among the verifiers, kept so that they
  // can be passed on (e.g. cosignatures the caller does not track).
  std::vector<NoteSignature> unverified;
};

// Parses `signed_note` and verifies it against `verifiers`, following the
// spec: a signature whose (name, key ID) matches no verifier is ignored (kept
// in `unverified`); one that matches must verify. Returns InvalidArgument for
// malformed notes and for two signatures with the same name and key ID;
// Unauthenticated when a known key's signature fails to verify or when no
// known key signed the note.
absl::StatusOr<VerifiedNote> OpenNote(
    absl::string_view signed_note,
    absl::Span<const NoteVerifier* const> verifiers);

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_NOTE_H_
