// The C2SP tlog-proof@v1 text format: an offline proof that an entry is in a
// log, made of the entry's index, its inclusion proof and the (co)signed
// checkpoint the proof is against.
//
//   c2sp.org/tlog-proof@v1
//   extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
//   index 73894
//   gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
//   ...
//
//   example.com/fancylog
//   109482
//   sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=
//
//   — example.com/fancylog hI2DJw[...]1roloI=

#ifndef REFSUM_TLOG_TLOG_PROOF_H_
#define REFSUM_TLOG_TLOG_PROOF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

// The first line of every tlog-proof.
inline constexpr absl::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";

struct TlogProof {
  // Opaque application data, not authenticated by anything: never trust it
  // without checking it against authenticated data. Empty means none, which
  // the format expresses by leaving the extra line out.
  std::string extra;
  // The entry's index in the log.
  uint64_t index = 0;
  // The RFC 6962 inclusion proof of the entry in the checkpoint's tree, the
  // leaf's sibling first.
  std::vector<Hash> inclusion_proof;
  // The checkpoint as a signed note, verbatim, with any cosignatures. Nothing
  // here verifies its signatures, only their syntax; ParseCheckpointNote
  // reads its body.
  std::string checkpoint;

  friend bool operator==(const TlogProof& a, const TlogProof& b) {
    return a.extra == b.extra && a.index == b.index &&
           a.inclusion_proof == b.inclusion_proof &&
           a.checkpoint == b.checkpoint;
  }
};

// Returns the tlog-proof text of `proof`. Returns InvalidArgument if the
// inclusion proof has more than kMaxProofHashes (proof.h) hashes or the
// checkpoint is not what ParseCheckpointNote accepts: a signed note with
// well-formed signature lines and a valid checkpoint body. Thread-safe.
absl::StatusOr<std::string> FormatTlogProof(const TlogProof& proof);

// Parses tlog-proof text strictly: the header line; an optional
// "extra <base64>" line with non-empty data; "index <canonical decimal>";
// up to kMaxProofHashes lines of base64 32-byte hashes; a blank line; and a
// checkpoint that ParseCheckpointNote accepts. Returns InvalidArgument naming
// the first problem otherwise. Does not verify the proof or any signature.
// Thread-safe; safe on any input.
absl::StatusOr<TlogProof> ParseTlogProof(absl::string_view text);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_TLOG_PROOF_H_
