// Fuzzes tlog::ParseEntryBundle (C2SP tlog-tiles entry bundles: entries with
// a big-endian uint16 length prefix), what a client reads from a log's
// /tile/entries/ path. A parsed bundle encodes back to the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<std::string>> entries =
      refsum::tlog::ParseEntryBundle(input);
  if (!entries.ok()) {
    FUZZ_CHECK(entries.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!entries->empty() && entries->size() <= refsum::tlog::kTileWidth);
  absl::StatusOr<std::string> encoded =
      refsum::tlog::EncodeEntryBundle(*entries);
  FUZZ_CHECK_OK(encoded);
  FUZZ_CHECK(*encoded == input);
  return 0;
}
