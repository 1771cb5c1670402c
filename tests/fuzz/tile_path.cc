// Fuzzes tlog::ParseTilePath, the log HTTP server's parser of request paths
// under /tile/ (C2SP tlog-tiles). Every tile has exactly one path, so a
// parsed path formats back to the input byte for byte.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/fuzz/check.h"
#include "tlog/tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<refsum::tlog::TileResource> resource =
      refsum::tlog::ParseTilePath(input);
  if (!resource.ok()) {
    FUZZ_CHECK(resource.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(resource->tile.width >= 1 &&
             resource->tile.width <= refsum::tlog::kTileWidth);
  FUZZ_CHECK(!resource->entry_bundle || resource->tile.level == 0);
  absl::StatusOr<std::string> formatted =
      refsum::tlog::FormatTilePath(*resource);
  FUZZ_CHECK_OK(formatted);
  FUZZ_CHECK(*formatted == input);
  return 0;
}
