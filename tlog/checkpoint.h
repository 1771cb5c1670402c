// The body (note text) of a C2SP tlog-checkpoint v1.0.0: a log's signed
// commitment to its tree at one size. Signing and verifying the note around
// it is crypto/'s job; this file only formats and parses the text, and finds
// the text of a signed note with crypto::ParseNote without verifying it.
//
//   example.com/behind-the-sofa
//   20852163
//   CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

#ifndef REFSUM_TLOG_CHECKPOINT_H_
#define REFSUM_TLOG_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

struct Checkpoint {
  // The log's identity; also the name of the key that signs the note.
  std::string origin;
  // The number of leaves in the tree.
  uint64_t size = 0;
  // The RFC 6962 root of the tree of `size` leaves.
  Hash root = {};
  // Opaque lines after the root hash; the spec does not recommend them.
  std::vector<std::string> extensions;

  friend bool operator==(const Checkpoint& a, const Checkpoint& b) {
    return a.origin == b.origin && a.size == b.size && a.root == b.root &&
           a.extensions == b.extensions;
  }
};

// Returns the padded standard base64 of `hash`, as checkpoints and tlog-proofs
// write hashes. Thread-safe.
std::string FormatBase64Hash(const Hash& hash);

// Parses a hash written as by FormatBase64Hash. Returns InvalidArgument, with
// a message starting with `what`, for anything but strict padded base64 of
// exactly 32 bytes. Thread-safe.
absl::StatusOr<Hash> ParseBase64Hash(absl::string_view text,
                                     absl::string_view what);

// Returns the note text of `checkpoint`: origin, decimal size, base64 root
// and any extension lines, each ending in a newline. Returns InvalidArgument
// if the origin or an extension line is empty, holds a newline or another
// character a signed note forbids (ASCII control characters, DEL, invalid
// UTF-8); the result then would not parse back. Thread-safe.
absl::StatusOr<std::string> FormatCheckpointBody(const Checkpoint& checkpoint);

// Parses a checkpoint note text strictly: it must end with a newline and have
// at least three non-empty lines; the tree size must be a canonical decimal
// (no sign, no leading zero unless it is "0", at most 2^64 - 1); the root hash
// must be padded standard base64 of exactly 32 bytes; every line must be valid
// UTF-8 without ASCII control characters or DEL. Returns InvalidArgument
// naming the first problem otherwise. Thread-safe.
absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body);

// Parses the checkpoint body of a whole signed note (C2SP signed-note: text,
// a blank line, then signature lines). The note must be what
// crypto::ParseNote accepts: valid UTF-8 without control characters other
// than newline, and 1 to crypto::kMaxNoteSignatures signature lines that are
// each well-formed ("— <valid key name> <strict base64 of a 4-byte key ID and
// a non-empty signature>" and a newline). Its text must then be what
// ParseCheckpointBody accepts. Returns InvalidArgument naming the first
// problem otherwise.
//
// Only the syntax of the signature lines is checked: no signature is
// verified, and none need be by the origin's key. The result is therefore
// unauthenticated; callers must open the note with crypto::OpenNote against
// the log's key (and check cosignatures against their witness policy) before
// trusting it. Thread-safe.
absl::StatusOr<Checkpoint> ParseCheckpointNote(absl::string_view signed_note);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_CHECKPOINT_H_
