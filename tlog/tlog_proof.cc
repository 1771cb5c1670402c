#include "tlog/tlog_proof.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "encoding/base64.h"
#include "tlog/checkpoint.h"
#include "encoding/decimal.h"
#include "tlog/proof.h"

namespace refsum::tlog {
namespace {

constexpr absl::string_view kExtraPrefix = "extra ";
constexpr absl::string_view kIndexPrefix = "index ";

// Moves the next newline-terminated line of `*text`, without its newline,
// into `*line`. Returns false, changing nothing, if no newline is left.
bool NextLine(absl::string_view* text, absl::string_view* line) {
  const size_t newline = text->find('\n');
  if (newline == absl::string_view::npos) return false;
  *line = text->substr(0, newline);
  text->remove_prefix(newline + 1);
  return true;
}

absl::Status NoLineError(absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("tlog-proof ends before its ", expected));
}

absl::Status CheckCheckpoint(absl::string_view checkpoint) {
  const absl::Status status = ParseCheckpointNote(checkpoint).status();
  if (status.ok()) return status;
  return absl::Status(
      status.code(), absl::StrCat("tlog-proof checkpoint: ", status.message()));
}

absl::StatusOr<std::string> ParseExtra(absl::string_view encoded) {
  if (encoded.empty()) {
    return absl::InvalidArgumentError(
        "tlog-proof extra line is empty; without extra data it is left out");
  }
  absl::StatusOr<std::string> extra = encoding::Base64Decode(encoded);
  if (!extra.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof extra data: ", extra.status().message()));
  }
  return extra;
}

// Consumes the proof hash lines of `*text` and the blank line after them.
absl::StatusOr<std::vector<Hash>> ParseProofHashes(absl::string_view* text) {
  std::vector<Hash> hashes;
  absl::string_view line;
  while (NextLine(text, &line)) {
    if (line.empty()) return hashes;
    if (hashes.size() == kMaxProofHashes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tlog-proof has more than ", kMaxProofHashes, " proof hashes"));
    }
    ASSIGN_OR_RETURN(
        const Hash hash,
        ParseBase64Hash(line, absl::StrCat("tlog-proof hash ", hashes.size())));
    hashes.push_back(hash);
  }
  return NoLineError("blank line before the checkpoint");
}

}  // namespace

absl::StatusOr<std::string> FormatTlogProof(const TlogProof& proof) {
  if (proof.inclusion_proof.size() > kMaxProofHashes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tlog-proof inclusion proof has ", proof.inclusion_proof.size(),
        " hashes, more than ", kMaxProofHashes));
  }
  RETURN_IF_ERROR(CheckCheckpoint(proof.checkpoint));
  std::string text = absl::StrCat(kTlogProofHeader, "\n");
  if (!proof.extra.empty()) {
    absl::StrAppend(&text, kExtraPrefix, encoding::Base64Encode(proof.extra),
                    "\n");
  }
  absl::StrAppend(&text, kIndexPrefix, proof.index, "\n");
  for (const Hash& hash : proof.inclusion_proof) {
    absl::StrAppend(&text, FormatBase64Hash(hash), "\n");
  }
  absl::StrAppend(&text, "\n", proof.checkpoint);
  return text;
}

absl::StatusOr<TlogProof> ParseTlogProof(absl::string_view text) {
  absl::string_view line;
  if (!NextLine(&text, &line) || line != kTlogProofHeader) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tlog-proof does not start with the line ", kTlogProofHeader));
  }
  if (!NextLine(&text, &line)) return NoLineError("index line");
  TlogProof proof;
  if (absl::ConsumePrefix(&line, kExtraPrefix)) {
    ASSIGN_OR_RETURN(proof.extra, ParseExtra(line));
    if (!NextLine(&text, &line)) return NoLineError("index line");
  }
  if (!absl::ConsumePrefix(&line, kIndexPrefix)) {
    return absl::InvalidArgumentError(
        "tlog-proof has no \"index \" line after its header");
  }
  ASSIGN_OR_RETURN(proof.index,
                   encoding::ParseCanonicalDecimal(line, "tlog-proof index"));
  ASSIGN_OR_RETURN(proof.inclusion_proof, ParseProofHashes(&text));
  RETURN_IF_ERROR(CheckCheckpoint(text));
  proof.checkpoint = std::string(text);
  return proof;
}

}  // namespace refsum::tlog
