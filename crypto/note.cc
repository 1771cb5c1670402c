#include "crypto/note.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "encoding/base64.h"
#include "encoding/hex.h"
#include "encoding/utf8.h"

namespace refsum::crypto {
namespace {

constexpr absl::string_view kEmDashSpace = "\xe2\x80\x94 ";
constexpr absl::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";

// Decodes the code point of the well-formed UTF-8 sequence at the start of
// `text`, whose length is `length`.
uint32_t DecodeCodePoint(absl::string_view text, size_t length) {
  const auto byte = [&text](size_t i) {
    return static_cast<uint32_t>(static_cast<uint8_t>(text[i]));
  };
  if (length == 1) return byte(0);
  uint32_t code_point = byte(0) & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  return code_point;
}

// Unicode White_Space, the set Go's unicode.IsSpace tests.
bool IsUnicodeSpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

std::string KeyIdHex(uint32_t key_id) {
  return absl::StrFormat("%08x", key_id);
}

std::string KeyIdBytes(uint32_t key_id) {
  return std::string{static_cast<char>(key_id >> 24),
                     static_cast<char>(key_id >> 16),
                     static_cast<char>(key_id >> 8),
                     static_cast<char>(key_id)};
}

uint32_t ReadBigEndian32(absl::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

std::string NameAndId(absl::string_view name, uint32_t key_id) {
  return absl::StrCat(name, "+", KeyIdHex(key_id));
}

// Checks what every part of a signed note must satisfy: valid UTF-8 and no
// ASCII control characters other than newline.
absl::Status CheckNoteCharacters(absl::string_view text) {
  if (!encoding::IsValidUtf8(text)) {
    return absl::InvalidArgumentError("note is not valid UTF-8");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\n') {
      return absl::InvalidArgumentError(absl::StrFormat(
          "note has control character 0x%02x at offset %d", c, i));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNoteText(absl::string_view text) {
  RETURN_IF_ERROR(CheckNoteCharacters(text));
  if (!absl::EndsWith(text, "\n")) {
    return absl::InvalidArgumentError("note text does not end in a newline");
  }
  return absl::OkStatus();
}

class Ed25519NoteVerifier : public NoteVerifier {
 public:
  Ed25519NoteVerifier(std::string name, uint32_t key_id,
                      std::unique_ptr<Verifier> verifier)
      : name_(std::move(name)),
        key_id_(key_id),
        verifier_(std::move(verifier)) {}

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  absl::Status Verify(absl::string_view text,
                      absl::string_view signature) const override {
    return verifier_->Verify(signature, text);
  }

 private:
  const std::string name_;
  const uint32_t key_id_;
  const std::unique_ptr<Verifier> verifier_;
};

class Ed25519NoteSigner : public NoteSigner {
 public:
  Ed25519NoteSigner(std::string name, uint32_t key_id,
                    std::unique_ptr<Signer> signer)
      : name_(std::move(name)), key_id_(key_id), signer_(std::move(signer)) {}

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  absl::StatusOr<std::string> Sign(absl::string_view text) const override {
    return signer_->Sign(text);
  }

 private:
  const std::string name_;
  const uint32_t key_id_;
  const std::unique_ptr<Signer> signer_;
};

absl::Status CheckKeyName(absl::string_view name) {
  if (!IsValidNoteKeyName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid key name \"", name,
        "\": it must be non-empty, without spaces or '+'"));
  }
  return absl::OkStatus();
}

// Parses "<name>+<hex8>+<base64>" (the tail of both key string forms) and
// checks the key ID against the name and the decoded type-and-key bytes.
absl::StatusOr<VerifierKey> ParseKeyTriple(absl::string_view text,
                                           absl::string_view what) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not of the form <name>+<key ID>+<base64 key>"));
  }
  VerifierKey key;
  key.name = std::string(parts[0]);
  RETURN_IF_ERROR(CheckKeyName(key.name));
  if (!encoding::IsLowerHex(parts[1], 4)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " key ID \"", parts[1], "\" is not 8 lowercase hex digits"));
  }
  key.key_id = ReadBigEndian32(*encoding::HexDecode(parts[1]));
  absl::StatusOr<std::string> type_and_key = encoding::Base64Decode(parts[2]);
  if (!type_and_key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " key is not valid base64: ", type_and_key.status().message()));
  }
  if (type_and_key->size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(what, " key is empty"));
  }
  key.signature_type = static_cast<uint8_t>((*type_and_key)[0]);
  key.public_key = type_and_key->substr(1);
  return key;
}

bool IsEd25519Type(uint8_t signature_type) {
  return signature_type == kNoteSignatureTypeEd25519 ||
         signature_type == kNoteSignatureTypeCosignatureV1;
}

}  // namespace

bool IsValidNoteKeyName(absl::string_view name) {
  if (name.empty() || !encoding::IsValidUtf8(name)) return false;
  while (!name.empty()) {
    const size_t length = encoding::Utf8SequenceLength(name);
    const uint32_t c = DecodeCodePoint(name, length);
    if (c == '+' || IsUnicodeSpace(c)) return false;
    name.remove_prefix(length);
  }
  return true;
}

uint32_t NoteKeyId(absl::string_view name, uint8_t signature_type,
                   absl::string_view public_key) {
  const char type = static_cast<char>(signature_type);
  const Sha256Digest digest =
      Sha256({name, "\n", absl::string_view(&type, 1), public_key});
  return ReadBigEndian32(DigestBytes(digest));
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NewEd25519NoteVerifier(
    absl::string_view name, const PublicKey& key) {
  RETURN_IF_ERROR(CheckKeyName(name));
  ASSIGN_OR_RETURN(std::unique_ptr<Verifier> verifier,
                   NewEd25519Verifier(key));
  ASSIGN_OR_RETURN(std::string raw, key.Ed25519Raw());
  return std::make_unique<Ed25519NoteVerifier>(
      std::string(name), NoteKeyId(name, kNoteSignatureTypeEd25519, raw),
      std::move(verifier));
}

absl::StatusOr<std::unique_ptr<NoteSigner>> NewEd25519NoteSigner(
    absl::string_view name, const PrivateKey& key) {
  RETURN_IF_ERROR(CheckKeyName(name));
  ASSIGN_OR_RETURN(std::unique_ptr<Signer> signer, NewEd25519Signer(key));
  ASSIGN_OR_RETURN(std::string raw, key.public_key().Ed25519Raw());
  return std::make_unique<Ed25519NoteSigner>(
      std::string(name), NoteKeyId(name, kNoteSignatureTypeEd25519, raw),
      std::move(signer));
}

absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              uint8_t signature_type,
                                              const PublicKey& key) {
  RETURN_IF_ERROR(CheckKeyName(name));
  ASSIGN_OR_RETURN(std::string raw, key.Ed25519Raw());
  const std::string type_and_key =
      std::string(1, static_cast<char>(signature_type)) + raw;
  return absl::StrCat(name, "+",
                      KeyIdHex(NoteKeyId(name, signature_type, raw)), "+",
                      encoding::Base64Encode(type_and_key));
}

absl::StatusOr<VerifierKey> ParseVerifierKey(absl::string_view vkey) {
  ASSIGN_OR_RETURN(VerifierKey key, ParseKeyTriple(vkey, "verifier key"));
  if (IsEd25519Type(key.signature_type) &&
      key.public_key.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key \"", key.name, "\" has a ", key.public_key.size(),
        "-byte Ed25519 key, want 32"));
  }
  if (NoteKeyId(key.name, key.signature_type, key.public_key) != key.key_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key \"", key.name,
                     "\" has a key ID that does not match its key"));
  }
  return key;
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NewNoteVerifierFromKey(
    absl::string_view vkey) {
  ASSIGN_OR_RETURN(VerifierKey key, ParseVerifierKey(vkey));
  if (key.signature_type != kNoteSignatureTypeEd25519) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "verifier key \"%s\" has signature type 0x%02x, want 0x01 (Ed25519)",
        key.name, key.signature_type));
  }
  ASSIGN_OR_RETURN(PublicKey public_key,
                   PublicKey::FromEd25519Raw(key.public_key));
  return NewEd25519NoteVerifier(key.name, public_key);
}

absl::StatusOr<std::string> FormatNotePrivateKey(absl::string_view name,
                                                 const PrivateKey& key) {
  RETURN_IF_ERROR(CheckKeyName(name));
  ASSIGN_OR_RETURN(std::string seed, key.Ed25519Seed());
  ASSIGN_OR_RETURN(std::string raw, key.public_key().Ed25519Raw());
  const std::string type_and_seed =
      std::string(1, static_cast<char>(kNoteSignatureTypeEd25519)) + seed;
  return absl::StrCat(
      kPrivateKeyPrefix, name, "+",
      KeyIdHex(NoteKeyId(name, kNoteSignatureTypeEd25519, raw)), "+",
      encoding::Base64Encode(type_and_seed));
}

absl::StatusOr<std::unique_ptr<NoteSigner>> NewNoteSignerFromPrivateKey(
    absl::string_view private_key) {
  if (!absl::ConsumePrefix(&private_key, kPrivateKeyPrefix)) {
    return absl::InvalidArgumentError(
        "note private key does not start with PRIVATE+KEY+");
  }
  ASSIGN_OR_RETURN(VerifierKey parsed,
                   ParseKeyTriple(private_key, "note private key"));
  if (parsed.signature_type != kNoteSignatureTypeEd25519) {
    return absl::InvalidArgumentError(
        "note private key is not an Ed25519 (type 0x01) key");
  }
  ASSIGN_OR_RETURN(PrivateKey key,
                   PrivateKey::FromEd25519Seed(parsed.public_key));
  ASSIGN_OR_RETURN(std::unique_ptr<NoteSigner> signer,
                   NewEd25519NoteSigner(parsed.name, key));
  if (signer->key_id() != parsed.key_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("note private key \"", parsed.name,
                     "\" has a key ID that does not match its key"));
  }
  return signer;
}

absl::StatusOr<NoteSignature> ParseSignatureLine(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, kEmDashSpace)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature line \"", line,
        "\" does not start with an em dash (U+2014) and a space"));
  }
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature line \"", line, "\" has no space after the key name"));
  }
  NoteSignature signature;
  signature.name = std::string(line.substr(0, space));
  if (!IsValidNoteKeyName(signature.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature line has an invalid key name \"", signature.name, "\""));
  }
  absl::StatusOr<std::string> decoded =
      encoding::Base64Decode(line.substr(space + 1));
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature by \"", signature.name,
                     "\" is not valid base64: ", decoded.status().message()));
  }
  if (decoded->size() < 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature by \"", signature.name, "\" is shorter than 5 bytes"));
  }
  signature.key_id = ReadBigEndian32(*decoded);
  signature.signature = decoded->substr(4);
  return signature;
}

std::string FormatSignatureLine(const NoteSignature& signature) {
  return absl::StrCat(
      kEmDashSpace, signature.name, " ",
      encoding::Base64Encode(KeyIdBytes(signature.key_id) +
                             signature.signature),
      "\n");
}

absl::StatusOr<Note> ParseNote(absl::string_view signed_note) {
  RETURN_IF_ERROR(CheckNoteCharacters(signed_note));
  const size_t blank = signed_note.rfind("\n\n");
  if (blank == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "note has no blank line between text and signatures");
  }
  Note note;
  note.text = std::string(signed_note.substr(0, blank + 1));
  absl::string_view block = signed_note.substr(blank + 2);
  if (block.empty()) return absl::InvalidArgumentError("note has no signatures");
  if (!absl::EndsWith(block, "\n")) {
    return absl::InvalidArgumentError(
        "note's last signature line does not end in a newline");
  }
  block.remove_suffix(1);
  for (absl::string_view line : absl::StrSplit(block, '\n')) {
    if (note.signatures.size() == kMaxNoteSignatures) {
      return absl::InvalidArgumentError(absl::StrCat(
          "note has more than ", kMaxNoteSignatures, " signatures"));
    }
    ASSIGN_OR_RETURN(NoteSignature signature, ParseSignatureLine(line));
    note.signatures.push_back(std::move(signature));
  }
  return note;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text + "\n";
  for (const NoteSignature& signature : note.signatures) {
    out += FormatSignatureLine(signature);
  }
  return out;
}

absl::StatusOr<std::string> SignNote(
    absl::string_view text, absl::Span<const NoteSigner* const> signers) {
  RETURN_IF_ERROR(CheckNoteText(text));
  if (signers.empty()) {
    return absl::InvalidArgumentError("a note needs at least one signer");
  }
  Note note;
  note.text = std::string(text);
  for (const NoteSigner* signer : signers) {
    ASSIGN_OR_RETURN(std::string signature, signer->Sign(text));
    note.signatures.push_back(
        NoteSignature{signer->name(), signer->key_id(), std::move(signature)});
  }
  return FormatNote(note);
}

absl::StatusOr<VerifiedNote> OpenNote(
    absl::string_view signed_note,
    absl::Span<const NoteVerifier* const> verifiers) {
  ASSIGN_OR_RETURN(Note note, ParseNote(signed_note));
  VerifiedNote result;
  std::set<std::pair<std::string, uint32_t>> seen;
  for (NoteSignature& signature : note.signatures) {
    if (!seen.emplace(signature.name, signature.key_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("note has two signatures by key ",
                       NameAndId(signature.name, signature.key_id)));
    }
    const NoteVerifier* verifier = nullptr;
    for (const NoteVerifier* candidate : verifiers) {
      if (candidate->name() == signature.name &&
          candidate->key_id() == signature.key_id) {
        verifier = candidate;
        break;
      }
    }
    if (verifier == nullptr) {
      result.unverified.push_back(std::move(signature));
      continue;
    }
    absl::Status status = verifier->Verify(note.text, signature.signature);
    if (!status.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "note signature by known key ",
          NameAndId(signature.name, signature.key_id),
          " does not verify: ", status.message()));
    }
    result.verified.push_back(std::move(signature));
  }
  if (result.verified.empty()) {
    std::vector<std::string> signers;
    for (const NoteSignature& signature : result.unverified) {
      signers.push_back(NameAndId(signature.name, signature.key_id));
    }
    return absl::UnauthenticatedError(
        absl::StrCat("note is not signed by any known key (signed by ",
                     absl::StrJoin(signers, ", "), ")"));
  }
  result.text = std::move(note.text);
  return result;
}

}  // namespace refsum::crypto
