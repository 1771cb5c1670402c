#include "log/node_cache.h"

#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"

namespace refsum::log {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

tlog::Hash HashOf(uint32_t level, uint64_t index) {
  return tlog::HashLeaf(std::to_string(level) + "/" + std::to_string(index));
}

TEST(NodeCacheTest, KeepsOnlyCoveredLevels) {
  NodeCache cache(3);
  EXPECT_FALSE(cache.Covers(2));
  EXPECT_TRUE(cache.Covers(3));
  EXPECT_TRUE(cache.Covers(40));
  const std::pair<tlog::NodeId, tlog::Hash> nodes[] = {
      {{2, 5}, HashOf(2, 5)}, {{3, 1}, HashOf(3, 1)}, {{7, 0}, HashOf(7, 0)}};
  cache.Insert(nodes);

  const tlog::NodeId ids[] = {{2, 5}, {3, 1}, {3, 0}, {7, 0}, {8, 0}, {3, 2}};
  std::vector<tlog::Hash> hashes(std::size(ids));
  EXPECT_THAT(cache.Lookup(ids, absl::MakeSpan(hashes)), ElementsAre(0, 2, 4, 5));
  EXPECT_EQ(hashes[1], HashOf(3, 1));
  EXPECT_EQ(hashes[3], HashOf(7, 0));
}

TEST(NodeCacheTest, EmptyCacheMissesEverything) {
  NodeCache cache(0);
  const tlog::NodeId ids[] = {{0, 0}, {1, 7}};
  std::vector<tlog::Hash> hashes(2);
  EXPECT_THAT(cache.Lookup(ids, absl::MakeSpan(hashes)), ElementsAre(0, 1));
  EXPECT_THAT(cache.Lookup({}, {}), IsEmpty());
}

TEST(NodeCacheTest, ReadersSeeWhatWritersInsert) {
  NodeCache cache(1);
  constexpr uint64_t kNodes = 2000;
  std::thread writer([&cache] {
    for (uint64_t i = 0; i < kNodes; ++i) {
      const std::pair<tlog::NodeId, tlog::Hash> node[] = {
          {{1, i}, HashOf(1, i)}};
      cache.Insert(node);
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&cache] {
      for (uint64_t i = 0; i < kNodes; ++i) {
        const tlog::NodeId id[] = {{1, i}};
        tlog::Hash hash = {};
        if (cache.Lookup(id, absl::MakeSpan(&hash, 1)).empty()) {
          EXPECT_EQ(hash, HashOf(1, i));
        }
      }
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  for (uint64_t i = 0; i < kNodes; ++i) {
    const tlog::NodeId id[] = {{1, i}};
    tlog::Hash hash = {};
    ASSERT_THAT(cache.Lookup(id, absl::MakeSpan(&hash, 1)), IsEmpty());
    EXPECT_EQ(hash, HashOf(1, i));
  }
}

}  // namespace
}  // namespace refsum::log
