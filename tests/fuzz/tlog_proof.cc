// Fuzzes tlog::ParseTlogProof (C2SP tlog-proof@v1), what refsum-verify and
// the submitter read from files and the log. A parsed proof formats back to
// the input byte for byte, and its checkpoint parses.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/checkpoint.h"
#include "tlog/tlog_proof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<refsum::tlog::TlogProof> proof =
      refsum::tlog::ParseTlogProof(input);
  if (!proof.ok()) {
    FUZZ_CHECK(proof.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK_OK(refsum::tlog::ParseCheckpointNote(proof->checkpoint));
  absl::StatusOr<std::string> formatted = refsum::tlog::FormatTlogProof(*proof);
  FUZZ_CHECK_OK(formatted);
  FUZZ_CHECK(*formatted == input);
  return 0;
}
