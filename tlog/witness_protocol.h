// The wire format of C2SP tlog-witness v1.0.0 add-checkpoint: the request
// body a log sends to a witness, and the size a witness answers a 409 with.
//
//   old 20852014                                   old size line
//   PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=   0 to 63 proof lines
//   ...
//                                                  an empty line
//   example.com/behind-the-sofa                    the signed checkpoint
//   20852163
//   CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//
//   — example.com/behind-the-sofa Az3grlgtzPICa5OS8np...
//
// This file only formats and parses: the log's pusher (log/witness_pusher.h)
// writes requests and reads 409 answers, the witness (witness/cosigner.h)
// reads requests, decides what they mean and writes the answers. All
// functions are thread-safe.

#ifndef REFSUM_TLOG_WITNESS_PROTOCOL_H_
#define REFSUM_TLOG_WITNESS_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

// The path of the call, after the witness's submission prefix.
inline constexpr char kAddCheckpointPath[] = "/add-checkpoint";

// The Content-Type of a 409 answer whose body is the witness's stored size.
inline constexpr char kTlogSizeContentType[] = "text/x.tlog.size";

// "The client MUST NOT send more than 63 consistency proof lines."
inline constexpr size_t kMaxProofLines = 63;

struct AddCheckpointRequest {
  // The size of the checkpoint the proof starts from.
  uint64_t old_size = 0;
  // The RFC 6962 consistency proof from old_size to the checkpoint's size.
  std::vector<Hash> proof;
  // The signed checkpoint note, not verified by parsing.
  std::string checkpoint;
};

// Returns the request body for `request`. The caller supplies a well-formed
// signed note and at most kMaxProofLines hashes.
std::string FormatAddCheckpointRequest(const AddCheckpointRequest& request);

// Parses a request body strictly: "old", one space and a canonical decimal
// (no leading zeros); then at most kMaxProofLines lines of padded standard
// base64 of 32 bytes; then an empty line; then a non-empty checkpoint, which
// is not parsed here. Every line ends in a newline. Returns InvalidArgument
// naming the problem otherwise.
absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(
    absl::string_view body);

// Returns the body of a 409 answer: `size` in decimal and a newline.
std::string FormatTlogSize(uint64_t size);

// Parses a body written by FormatTlogSize. Returns InvalidArgument for
// anything else.
absl::StatusOr<uint64_t> ParseTlogSize(absl::string_view body);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_WITNESS_PROTOCOL_H_
