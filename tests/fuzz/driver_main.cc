// A main() for fuzz targets outside libFuzzer: runs LLVMFuzzerTestOneInput
// once on each file named on the command line, in order, and prints how many
// ran. A target that crashes, trips a sanitizer or aborts on a broken
// invariant fails the test like any other crash. Exits 1 when a file cannot
// be read or no file is given, so that a test whose inputs went missing
// cannot pass.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "base/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s INPUT...\nno inputs given\n", argv[0]);
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    absl::StatusOr<std::string> input = refsum::ReadFile(argv[i]);
    if (!input.ok()) {
      std::fprintf(stderr, "%s\n", input.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "running %s (%zu bytes)\n", argv[i], input->size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input->data()),
                           input->size());
  }
  std::printf("ran %d inputs\n", argc - 1);
  return 0;
}
