// Fuzzes crypto::ParseNote and ParseSignatureLine (C2SP signed-note), the
// first parser every checkpoint, cosigned checkpoint and witness answer goes
// through. A parsed note formats back to the input byte for byte, each of its
// signature lines round-trips alone, and OpenNote with no known key never
// accepts.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/note.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refsum::crypto;  // NOLINT: a fuzz target's one function
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<NoteSignature> line = ParseSignatureLine(input);
  if (line.ok()) {
    std::string formatted = FormatSignatureLine(*line);
    FUZZ_CHECK(formatted == std::string(input) + "\n");
  }

  absl::StatusOr<Note> note = ParseNote(input);
  FUZZ_CHECK(!OpenNote(input, {}).ok());
  if (!note.ok()) {
    FUZZ_CHECK(note.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!note->signatures.empty());
  FUZZ_CHECK(note->signatures.size() <= kMaxNoteSignatures);
  FUZZ_CHECK(FormatNote(*note) == input);
  for (const NoteSignature& signature : note->signatures) {
    FUZZ_CHECK(IsValidNoteKeyName(signature.name));
    std::string formatted = FormatSignatureLine(signature);
    FUZZ_CHECK(!formatted.empty() && formatted.back() == '\n');
    formatted.pop_back();
    absl::StatusOr<NoteSignature> reparsed = ParseSignatureLine(formatted);
    FUZZ_CHECK_OK(reparsed);
    FUZZ_CHECK(*reparsed == signature);
  }
  return 0;
}
