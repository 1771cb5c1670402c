#include "tlog/witness_protocol.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "tlog/checkpoint.h"
#include "encoding/decimal.h"

namespace refsum::tlog {
namespace {

constexpr absl::string_view kOldPrefix = "old ";

// Removes the first line of `*rest` and returns it without its newline.
// Returns InvalidArgument naming `what` if there is no newline.
absl::StatusOr<absl::string_view> ConsumeLine(absl::string_view* rest,
                                              absl::string_view what) {
  const size_t newline = rest->find('\n');
  if (newline == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " does not end in a newline"));
  }
  const absl::string_view line = rest->substr(0, newline);
  rest->remove_prefix(newline + 1);
  return line;
}

}  // namespace

std::string FormatAddCheckpointRequest(const AddCheckpointRequest& request) {
  std::string body = absl::StrCat(kOldPrefix, request.old_size, "\n");
  for (const Hash& hash : request.proof) {
    absl::StrAppend(&body, FormatBase64Hash(hash), "\n");
  }
  absl::StrAppend(&body, "\n", request.checkpoint);
  return body;
}

absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(
    absl::string_view body) {
  AddCheckpointRequest request;
  absl::string_view rest = body;
  ASSIGN_OR_RETURN(const absl::string_view old_line,
                   ConsumeLine(&rest, "old size line"));
  if (!absl::StartsWith(old_line, kOldPrefix)) {
    return absl::InvalidArgumentError(
        "the request does not start with an \"old <size>\" line");
  }
  ASSIGN_OR_RETURN(
      request.old_size,
      encoding::ParseCanonicalDecimal(old_line.substr(kOldPrefix.size()), "old size"));
  for (;;) {
    ASSIGN_OR_RETURN(const absl::string_view line,
                     ConsumeLine(&rest, "consistency proof"));
    if (line.empty()) break;
    if (request.proof.size() == kMaxProofLines) {
      return absl::InvalidArgumentError(absl::StrCat(
          "more than ", kMaxProofLines, " consistency proof lines"));
    }
    ASSIGN_OR_RETURN(Hash hash,
                     ParseBase64Hash(line, "consistency proof line"));
    request.proof.push_back(hash);
  }
  if (rest.empty()) {
    return absl::InvalidArgumentError("the request has no checkpoint");
  }
  request.checkpoint = std::string(rest);
  return request;
}

std::string FormatTlogSize(uint64_t size) { return absl::StrCat(size, "\n"); }

absl::StatusOr<uint64_t> ParseTlogSize(absl::string_view body) {
  if (!absl::ConsumeSuffix(&body, "\n")) {
    return absl::InvalidArgumentError(
        "the tree size does not end in a newline");
  }
  return encoding::ParseCanonicalDecimal(body, "tree size");
}

}  // namespace refsum::tlog
