// A directory of public key files for fuzz targets whose input names key
// files (signer lists, verifier policies), so that they can reach the code
// after a successful read.

#ifndef REFSUM_TESTS_FUZZ_KEY_DIR_H_
#define REFSUM_TESTS_FUZZ_KEY_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace refsum::fuzz {

// Returns a directory made on the first call (under $TEST_TMPDIR or /tmp,
// removed at exit) that holds vendor.pub (Ed25519) and rebuilder.pub
// (ECDSA P-256), fresh PEM public keys. Aborts if it cannot be made. Not
// thread-safe; fuzz targets run on one thread.
const std::string& KeyDir();

// Returns false when `input` could name a file outside KeyDir(): when one of
// its blank-separated words starts with '/' or contains "..". Callers skip
// such inputs, so that fuzzing never reads the machine's files or devices
// (a FIFO or /dev/stdin would hang it). The parsers split lines on spaces
// and tabs, a subset of the blanks split on here, so each of their fields
// starts one of these words.
bool NamesOnlyKeyDirFiles(absl::string_view input);

// Returns a new, empty directory "<prefix>-XXXXXX" for state a target
// keeps, on tmpfs (/dev/shm) when there is one, since the code under test
// fsyncs what it stores, and else beside KeyDir(). Aborts if it cannot be
// made. The caller removes it.
std::string NewScratchDir(absl::string_view prefix);

}  // namespace refsum::fuzz

#endif  // REFSUM_TESTS_FUZZ_KEY_DIR_H_
