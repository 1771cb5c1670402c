// The dm-verity root hash of an image, as `veritysetup format` computes it
// (on-disk format version 1, the default): every data block is hashed as
// H(salt || block); the digests, each zero-padded to the next power of two,
// fill hash blocks (the last zero-padded); each level of hash blocks is
// hashed the same way until one block is left, and the root hash is
// H(salt || that block) (for a single data block, of the block itself).
//
// Pure and thread-safe.

#ifndef REFSUM_MEASURE_VERITY_H_
#define REFSUM_MEASURE_VERITY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/digest.h"

namespace refsum::measure {

struct VerityParameters {
  crypto::HashAlgorithm hash = crypto::HashAlgorithm::kSha256;
  // Powers of two from 512 to 1 MiB, as veritysetup accepts them.
  uint32_t data_block_size = 4096;
  uint32_t hash_block_size = 4096;
  // Raw bytes, at most 256 (veritysetup's limit); may be empty.
  std::string salt;
};

// The root hash of `image`. InvalidArgument when the image is empty or not
// a whole number of data blocks, a block size is not a power of two in
// range, or the salt is too long.
absl::StatusOr<std::string> VerityRootHash(absl::string_view image,
                                           const VerityParameters& parameters);

}  // namespace refsum::measure

#endif  // REFSUM_MEASURE_VERITY_H_
