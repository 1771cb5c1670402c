// Fuzzes encoding::ParseJson, the strict JSON parser under every signed
// format: a parsed value serializes to a document that parses to the same
// value and serializes to the same bytes (SerializeJson is canonical), and
// errors are InvalidArgument with the offset.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "encoding/json.h"
#include "encoding/utf8.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::encoding::JsonValue;
  using refsum::encoding::ParseJson;
  using refsum::encoding::SerializeJson;
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<JsonValue> value = ParseJson(input);
  if (!value.ok()) {
    FUZZ_CHECK(value.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StrContains(value.status().message(), "at offset"));
    return 0;
  }
  FUZZ_CHECK(refsum::encoding::IsValidUtf8(input));
  std::string serialized = SerializeJson(*value);
  FUZZ_CHECK(serialized.size() <= input.size() * 6 + 2);
  absl::StatusOr<JsonValue> reparsed = ParseJson(serialized);
  FUZZ_CHECK_OK(reparsed);
  FUZZ_CHECK(*reparsed == *value);
  FUZZ_CHECK(SerializeJson(*reparsed) == serialized);
  return 0;
}
