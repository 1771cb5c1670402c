#include "measure/verity.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refsum::measure {
namespace {

bool IsBlockSize(uint32_t size) {
  return size >= 512 && size <= (1u << 20) && (size & (size - 1)) == 0;
}

}  // namespace

absl::StatusOr<std::string> VerityRootHash(absl::string_view image,
                                           const VerityParameters& parameters) {
  for (const auto& [name, size] :
       {std::make_pair("data", parameters.data_block_size),
        std::make_pair("hash", parameters.hash_block_size)}) {
    if (!IsBlockSize(size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", name, " block size ", size,
                       " is not a power of two from 512 to 1048576"));
    }
  }
  if (parameters.salt.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the salt is ", parameters.salt.size(), " bytes, more than 256"));
  }
  if (image.empty() || image.size() % parameters.data_block_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the image is ", image.size(), " bytes, not a whole number of ",
        parameters.data_block_size, "-byte data blocks"));
  }
  const crypto::HashAlgorithm hash = parameters.hash;
  size_t slot = 1;
  while (slot < crypto::DigestSize(hash)) slot *= 2;
  const size_t per_block = parameters.hash_block_size / slot;

  crypto::Hasher hasher(hash);
  const auto hash_block = [&](absl::string_view block) {
    hasher.Update(parameters.salt);
    hasher.Update(block);
    return hasher.Finish();
  };
  // One level at a time: the blocks of the level below, as views into
  // `image` for the data and into `level` for hash blocks.
  std::vector<absl::string_view> blocks;
  for (size_t at = 0; at < image.size(); at += parameters.data_block_size) {
    blocks.push_back(image.substr(at, parameters.data_block_size));
  }
  std::string level;
  while (blocks.size() > 1) {
    const size_t count = (blocks.size() + per_block - 1) / per_block;
    std::string next(count * parameters.hash_block_size, '\0');
    for (size_t i = 0; i < blocks.size(); ++i) {
      const std::string digest = hash_block(blocks[i]);
      next.replace((i / per_block) * parameters.hash_block_size +
                       (i % per_block) * slot,
                   digest.size(), digest);
    }
    level = std::move(next);
    blocks.clear();
    for (size_t at = 0; at < level.size(); at += parameters.hash_block_size) {
      blocks.push_back(absl::string_view(level).substr(
          at, parameters.hash_block_size));
    }
  }
  return hash_block(blocks[0]);
}

}  // namespace refsum::measure
