// C2SP tlog-cosignature v1.0.1, Ed25519 `cosignature/v1` (signature type
// 0x04): a witness's timestamped statement that a checkpoint is the largest
// consistent tree head it has seen for that log.
//
// A cosignature is a signed-note signature line whose bytes are
// key ID (4) || timestamp (8, big-endian) || Ed25519 signature (64) over
// "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.
// Cosigners and cosignature verifiers are NoteSigner / NoteVerifier, so they
// plug into SignNote and OpenNote like any other key.

#ifndef REFSUM_CRYPTO_COSIGNATURE_H_
#define REFSUM_CRYPTO_COSIGNATURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"
#include "crypto/note.h"

namespace refsum::crypto {

// The size of a cosignature/v1 signature after the key ID.
inline constexpr size_t kCosignatureV1Size = 8 + kEd25519SignatureSize;

// Returns the message a cosignature/v1 signs for `checkpoint_body` (the note
// text, ending in a newline) at POSIX time `timestamp`.
std::string CosignatureV1Message(absl::string_view checkpoint_body,
                                 uint64_t timestamp);

// Returns the timestamp of a cosignature/v1 signature (the bytes after the
// key ID). Returns InvalidArgument if it is not kCosignatureV1Size bytes or
// the timestamp exceeds 2^63-1.
absl::StatusOr<uint64_t> CosignatureV1Timestamp(absl::string_view signature);

// A source of the current POSIX time in seconds.
using Clock = std::function<uint64_t()>;

// Returns the system clock.
Clock SystemClock();

// A cosigner with Ed25519 key `key` under `name`, stamping signatures with
// `clock`. Sign(checkpoint_body) returns timestamp || signature. Returns
// InvalidArgument for an invalid name or a non-Ed25519 key.
absl::StatusOr<std::unique_ptr<NoteSigner>> NewCosignatureV1Signer(
    absl::string_view name, const PrivateKey& key,
    Clock clock = SystemClock());

// A verifier of cosignature/v1 signatures by `key` under `name`. Returns
// InvalidArgument for an invalid name or a non-Ed25519 key.
absl::StatusOr<std::unique_ptr<NoteVerifier>> NewCosignatureV1Verifier(
    absl::string_view name, const PublicKey& key);

// A verifier from a verifier key string of signature type 0x04. Returns
// InvalidArgument if it is malformed or of another type.
absl::StatusOr<std::unique_ptr<NoteVerifier>>
NewCosignatureV1VerifierFromKey(absl::string_view vkey);

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_COSIGNATURE_H_
