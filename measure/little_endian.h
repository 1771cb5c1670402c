// Little-endian fields of firmware and PE images, for the calculators'
// parsers. Callers check bounds first: these read `bytes[at]` onwards
// unchecked.

#ifndef REFSUM_MEASURE_LITTLE_ENDIAN_H_
#define REFSUM_MEASURE_LITTLE_ENDIAN_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace refsum::measure {

inline uint16_t Le16(absl::string_view bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) |
                               static_cast<uint8_t>(bytes[at + 1]) << 8);
}

inline uint32_t Le32(absl::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = value << 8 | static_cast<uint8_t>(bytes[at + i]);
  }
  return value;
}

// Writes the low `bytes` bytes of `value` at `at`.
inline void PutLe(std::string& out, size_t at, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out[at + i] = static_cast<char>(value >> (8 * i));
  }
}

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_LITTLE_ENDIAN_H_
