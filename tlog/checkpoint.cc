#include "tlog/checkpoint.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "encoding/base64.h"
#include "encoding/utf8.h"
#include "encoding/decimal.h"

namespace refsum::tlog {
namespace {

// Checks what C2SP signed-note demands of all note text: valid UTF-8 and no
// ASCII control characters but newline. DEL is rejected too, as it has no
// business in a log's text and is invisible when printed; crypto::ParseNote
// allows DEL, so body lines are checked here even inside a parsed note. The
// message names `what` and the offset, which a whole-note check cannot.
absl::Status CheckNoteCharacters(absl::string_view text,
                                 absl::string_view what) {
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if ((static_cast<uint8_t>(c) < 0x20 && c != '\n') || c == '\x7f') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has control character 0x",
                       absl::Hex(static_cast<uint8_t>(c), absl::kZeroPad2),
                       " at offset ", i));
    }
    const size_t length = encoding::Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not valid UTF-8 at offset ", i));
    }
    i += length;
  }
  return absl::OkStatus();
}

// Checks a free-text line (origin or extension) of a checkpoint body.
absl::Status CheckTextLine(absl::string_view line, absl::string_view what) {
  if (line.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (line.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " contains a newline"));
  }
  return CheckNoteCharacters(line, what);
}

}  // namespace

std::string FormatBase64Hash(const Hash& hash) {
  return encoding::Base64Encode(crypto::DigestBytes(hash));
}

absl::StatusOr<Hash> ParseBase64Hash(absl::string_view text,
                                     absl::string_view what) {
  absl::StatusOr<std::string> bytes = encoding::Base64Decode(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", bytes.status().message()));
  }
  Hash hash;
  if (bytes->size() != hash.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " has ", bytes->size(), " bytes, not ", hash.size()));
  }
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

absl::StatusOr<std::string> FormatCheckpointBody(const Checkpoint& checkpoint) {
  RETURN_IF_ERROR(CheckTextLine(checkpoint.origin, "checkpoint origin"));
  std::string body =
      absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                   FormatBase64Hash(checkpoint.root), "\n");
  for (const std::string& extension : checkpoint.extensions) {
    RETURN_IF_ERROR(CheckTextLine(extension, "checkpoint extension line"));
    absl::StrAppend(&body, extension, "\n");
  }
  return body;
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint body does not end with a newline");
  }
  body.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint body has ", lines.size(),
                     " lines, not the origin, tree size and root hash lines"));
  }
  Checkpoint checkpoint;
  RETURN_IF_ERROR(CheckTextLine(lines[0], "checkpoint origin"));
  checkpoint.origin = std::string(lines[0]);
  ASSIGN_OR_RETURN(checkpoint.size,
                   encoding::ParseCanonicalDecimal(lines[1], "checkpoint tree size"));
  ASSIGN_OR_RETURN(checkpoint.root,
                   ParseBase64Hash(lines[2], "checkpoint root hash"));
  for (size_t i = 3; i < lines.size(); ++i) {
    RETURN_IF_ERROR(CheckTextLine(lines[i], "checkpoint extension line"));
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

absl::StatusOr<Checkpoint> ParseCheckpointNote(absl::string_view signed_note) {
  ASSIGN_OR_RETURN(crypto::Note note, crypto::ParseNote(signed_note));
  return ParseCheckpointBody(note.text);
}

}  // namespace refsum::tlog
