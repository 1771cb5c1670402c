// Fuzzes the C2SP tlog-witness add-checkpoint body as the witness parses it
// (tlog::ParseAddCheckpointRequest), and the 409 body as the log parses it
// (ParseTlogSize). Both format back to the input byte for byte.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/checkpoint.h"
#include "tlog/witness_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<uint64_t> tlog_size = refsum::tlog::ParseTlogSize(input);
  if (tlog_size.ok()) {
    FUZZ_CHECK(refsum::tlog::FormatTlogSize(*tlog_size) == input);
  }

  absl::StatusOr<refsum::tlog::AddCheckpointRequest> request =
      refsum::tlog::ParseAddCheckpointRequest(input);
  if (!request.ok()) {
    FUZZ_CHECK(request.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!request->checkpoint.empty());
  FUZZ_CHECK(refsum::tlog::FormatAddCheckpointRequest(*request) == input);
  // What the witness does next with the note; it must be safe on anything
  // the request parser let through.
  (void)refsum::tlog::ParseCheckpointNote(request->checkpoint);
  return 0;
}
