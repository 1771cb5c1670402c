// Fuzzes tlog::ParseCheckpointBody and ParseCheckpointNote (C2SP
// tlog-checkpoint). A parsed body formats back to the input byte for byte;
// a parsed note is a note whose text is a parsed body.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/note.h"
#include "tests/fuzz/check.h"
#include "tlog/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::tlog::Checkpoint;
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<Checkpoint> body = refsum::tlog::ParseCheckpointBody(input);
  if (body.ok()) {
    absl::StatusOr<std::string> formatted =
        refsum::tlog::FormatCheckpointBody(*body);
    FUZZ_CHECK_OK(formatted);
    FUZZ_CHECK(*formatted == input);
  } else {
    FUZZ_CHECK(body.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<Checkpoint> note = refsum::tlog::ParseCheckpointNote(input);
  if (!note.ok()) {
    FUZZ_CHECK(note.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  absl::StatusOr<refsum::crypto::Note> parsed =
      refsum::crypto::ParseNote(input);
  FUZZ_CHECK_OK(parsed);
  absl::StatusOr<Checkpoint> text =
      refsum::tlog::ParseCheckpointBody(parsed->text);
  FUZZ_CHECK_OK(text);
  FUZZ_CHECK(*text == *note);
  return 0;
}
