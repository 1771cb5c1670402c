#include "tlog/tiles.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::tlog {
namespace {

constexpr uint32_t kFull = kTileWidth;

TEST(TilePathTest, FormatsAndParsesTheSpecEncoding) {
  const struct {
    TileResource resource;
    const char* path;
  } kCases[] = {
      {{false, {0, 0, kFull}}, "tile/0/000"},
      {{false, {0, 1, kFull}}, "tile/0/001"},
      {{false, {0, 999, kFull}}, "tile/0/999"},
      {{false, {0, 1000, kFull}}, "tile/0/x001/000"},
      {{false, {0, 1234067, kFull}}, "tile/0/x001/x234/067"},
      {{false, {1, 1234067, 17}}, "tile/1/x001/x234/067.p/17"},
      {{false, {2, 0, 1}}, "tile/2/000.p/1"},
      {{false, {10, 1000000, kFull}}, "tile/10/x001/x000/000"},
      {{false, {63, 999, 255}}, "tile/63/999.p/255"},
      {{false, {0, UINT64_MAX, kFull}},
       "tile/0/x018/x446/x744/x073/x709/x551/615"},
      {{true, {0, 0, kFull}}, "tile/entries/000"},
      {{true, {0, 1, 5}}, "tile/entries/001.p/5"},
      {{true, {0, 1000, 112}}, "tile/entries/x001/000.p/112"},
      {{true, {0, 1234067, kFull}}, "tile/entries/x001/x234/067"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<std::string> path = FormatTilePath(c.resource);
    ASSERT_TRUE(path.ok()) << c.path << ": " << path.status();
    EXPECT_EQ(*path, c.path);
    const absl::StatusOr<TileResource> parsed = ParseTilePath(c.path);
    ASSERT_TRUE(parsed.ok()) << c.path << ": " << parsed.status();
    EXPECT_EQ(*parsed, c.resource) << c.path;
  }
}

TEST(TilePathTest, EveryLevelRoundTrips) {
  for (uint32_t level = 0; level <= kMaxTileLevel; ++level) {
    const TileResource resource{false, {level, 42, 7}};
    const absl::StatusOr<std::string> path = FormatTilePath(resource);
    ASSERT_TRUE(path.ok()) << level;
    EXPECT_EQ(*path, "tile/" + std::to_string(level) + "/042.p/7");
    EXPECT_EQ(*ParseTilePath(*path), resource);
  }
}

TEST(TilePathTest, RefusesToFormatTilesThatCannotExist) {
  EXPECT_FALSE(FormatTilePath({false, {64, 0, kFull}}).ok());
  EXPECT_FALSE(FormatTilePath({false, {0, 0, 0}}).ok());
  EXPECT_FALSE(FormatTilePath({false, {0, 0, kFull + 1}}).ok());
  EXPECT_FALSE(FormatTilePath({true, {1, 0, kFull}}).ok());
}

TEST(TilePathTest, RejectsEveryNonCanonicalPath) {
  const struct {
    const char* path;
    const char* problem;
  } kCases[] = {
      {"", "does not start with \"tile/\""},
      {"tile", "does not start with \"tile/\""},
      {"/tile/0/000", "does not start with \"tile/\""},
      {"tiles/0/000", "does not start with \"tile/\""},
      {"tile/", "has no tile index"},
      {"tile/0", "has no tile index"},
      {"tile/entries", "has no tile index"},
      {"tile//000", "tile level is empty"},
      {"tile/00/000", "leading zero"},
      {"tile/064/000", "leading zero"},
      {"tile/64/000", "exceeds 63"},
      {"tile/-1/000", "not a plain decimal"},
      {"tile/+1/000", "not a plain decimal"},
      {"tile/x/000", "not a plain decimal"},
      {"tile/0/", "is not three digits"},
      {"tile/0//000", "does not start with x"},
      {"tile/0/00", "is not three digits"},
      {"tile/0/0000", "is not three digits"},
      {"tile/0/1", "is not three digits"},
      {"tile/0/00a", "is not three digits"},
      {"tile/0/ 000", "is not three digits"},
      {"tile/0/000 ", "is not three digits"},
      {"tile/0/000\n", "is not three digits"},
      {"tile/0/x001", "is not three digits"},
      {"tile/0/x01/000", "is not three digits"},
      {"tile/0/x001/x234", "is not three digits"},
      {"tile/0/000/", "does not start with x"},
      {"tile/0/001/000", "does not start with x"},
      {"tile/0/X001/000", "does not start with x"},
      {"tile/0/x000/001", "zero group"},
      {"tile/0/x000/x001/000", "zero group"},
      {"tile/entries/x000/000", "zero group"},
      {"tile/0/x018/x446/x744/x073/x709/x551/616", "does not fit in 64 bits"},
      {"tile/0/x001/x000/x000/x000/x000/x000/x000/000",
       "does not fit in 64 bits"},
      {"tile/0/000.p/0", "not between 1 and 255"},
      {"tile/0/000.p/256", "not between 1 and 255"},
      {"tile/entries/000.p/256", "not between 1 and 255"},
      {"tile/0/000.p/01", "leading zero"},
      {"tile/0/000.p/", "partial tile width is empty"},
      {"tile/0/000.p/5/", "not a plain decimal"},
      {"tile/0/000.p/5.p/5", "not a plain decimal"},
      {"tile/0/000.p", "is not three digits"},
      {"tile/0/000.P/5", "does not start with x"},
      {"tile/0/entries/000", "does not start with x"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<TileResource> parsed = ParseTilePath(c.path);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << c.path << "\"";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), c.problem))
        << c.path << ": " << parsed.status();
  }
}

TEST(TileLayoutTest, MatchesTheSpecExamples) {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
  // partial level 0 tile of width 112, one full level 1 tile, one partial
  // level 1 tile of width 17, and one partial level 2 tile of width 1."
  EXPECT_EQ(TreeTileLayout(70000), (std::vector<TileLevelLayout>{
                                       {0, 273, 112}, {1, 1, 17}, {2, 0, 1}}));
  // "a tree of size 256 will be represented by a full level 0 tile and a
  // partial level 1 tile of width 1."
  EXPECT_EQ(TreeTileLayout(256),
            (std::vector<TileLevelLayout>{{0, 1, 0}, {1, 0, 1}}));
  EXPECT_EQ(TreeTileLayout(0), std::vector<TileLevelLayout>{});
  EXPECT_EQ(TreeTileLayout(1), (std::vector<TileLevelLayout>{{0, 0, 1}}));
}

TEST(TileLayoutTest, LargestTreeHasEightLevels) {
  const std::vector<TileLevelLayout> layout = TreeTileLayout(UINT64_MAX);
  ASSERT_EQ(layout.size(), 8u);
  EXPECT_EQ(layout[0], (TileLevelLayout{0, (uint64_t{1} << 56) - 1, 255}));
  EXPECT_EQ(layout[7], (TileLevelLayout{7, 0, 255}));
}

TEST(TileWidthTest, FullPartialOrAbsent) {
  EXPECT_EQ(*TileWidth(0, 0, 70000), kFull);
  EXPECT_EQ(*TileWidth(0, 272, 70000), kFull);
  EXPECT_EQ(*TileWidth(0, 273, 70000), 112u);
  EXPECT_EQ(TileWidth(0, 274, 70000).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*TileWidth(1, 1, 70000), 17u);
  EXPECT_EQ(*TileWidth(2, 0, 70000), 1u);
  EXPECT_EQ(TileWidth(3, 0, 70000).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(TileWidth(0, 0, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(TileWidth(63, 0, UINT64_MAX).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(TileWidth(64, 0, 70000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Finds a node's tile the slow way, from the spec's definition in leaves:
// tile (l, n) spans leaves [n * 256^(l+1), (n+1) * 256^(l+1)) and holds one
// hash per 256^l of them that the tree has complete.
NodeInTile BruteForceLocate(const NodeId& node, uint64_t tree_size) {
  const uint32_t level = node.level / kTileHeight;
  uint64_t leaves_per_hash = 1;
  for (uint32_t l = 0; l < level; ++l) leaves_per_hash *= kTileWidth;
  const uint64_t leaves_per_tile = leaves_per_hash * kTileWidth;
  const uint64_t node_begin = node.index << node.level;
  uint64_t tile_index = 0;
  while ((tile_index + 1) * leaves_per_tile <= node_begin) ++tile_index;
  const uint64_t tile_begin = tile_index * leaves_per_tile;
  uint32_t width = 0;
  while (width < kTileWidth &&
         tile_begin + (width + 1) * leaves_per_hash <= tree_size) {
    ++width;
  }
  NodeInTile location;
  location.tile = Tile{level, tile_index, width};
  location.first =
      static_cast<uint32_t>((node_begin - tile_begin) / leaves_per_hash);
  location.count =
      static_cast<uint32_t>((uint64_t{1} << node.level) / leaves_per_hash);
  return location;
}

std::vector<uint64_t> SampleIndices(uint64_t count) {
  std::vector<uint64_t> indices;
  for (uint64_t i = 0; i < count; ++i) {
    if (count <= 300 || i < 3 || i + 3 >= count || i == count / 2) {
      indices.push_back(i);
    }
  }
  return indices;
}

const uint64_t kTreeSizes[] = {1,     2,     255,   256,   257,     1000,
                               65535, 65536, 65537, 70000, 16777219};

TEST(LocateNodeTest, MatchesBruteForce) {
  for (const uint64_t size : kTreeSizes) {
    for (uint32_t level = 0; level <= 24 && (size >> level) > 0; ++level) {
      for (const uint64_t index : SampleIndices(size >> level)) {
        const NodeId node{level, index};
        SCOPED_TRACE(::testing::Message()
                     << NodeIdToString(node) << " in " << size);
        const absl::StatusOr<NodeInTile> location = LocateNode(node, size);
        ASSERT_TRUE(location.ok()) << location.status();
        const NodeInTile expected = BruteForceLocate(node, size);
        EXPECT_EQ(location->tile, expected.tile);
        EXPECT_EQ(location->first, expected.first);
        EXPECT_EQ(location->count, expected.count);
      }
      EXPECT_EQ(LocateNode({level, size >> level}, size).status().code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_EQ(LocateNode({64, 0}, UINT64_MAX).status().code(),
            absl::StatusCode::kInvalidArgument);
}

std::vector<Tile> BruteForceTiles(const std::vector<NodeId>& nodes,
                                  uint64_t tree_size) {
  std::vector<Tile> tiles;
  for (const NodeId& node : nodes) {
    const Tile tile = BruteForceLocate(node, tree_size).tile;
    if (std::find(tiles.begin(), tiles.end(), tile) == tiles.end()) {
      tiles.push_back(tile);
    }
  }
  return tiles;
}

TEST(ProofTilesTest, AreTheTilesOfThePlannedNodes) {
  for (const uint64_t size : kTreeSizes) {
    for (const uint64_t index : SampleIndices(size)) {
      SCOPED_TRACE(::testing::Message() << index << " in " << size);
      const absl::StatusOr<std::vector<Tile>> tiles =
          TilesForInclusionProof(index, size);
      ASSERT_TRUE(tiles.ok()) << tiles.status();
      EXPECT_EQ(*tiles,
                BruteForceTiles(PlanInclusionProof(index, size)->nodes, size));
      const absl::StatusOr<std::vector<Tile>> consistency_tiles =
          TilesForConsistencyProof(index + 1, size);
      ASSERT_TRUE(consistency_tiles.ok()) << consistency_tiles.status();
      EXPECT_EQ(
          *consistency_tiles,
          BruteForceTiles(PlanConsistencyProof(index + 1, size)->nodes, size));
    }
  }
}

TEST(ProofTilesTest, SpanLevelsAndPartialTiles) {
  // Leaf 0 of 70000: its lower 8 siblings are in tile 0/0, the next 8 in
  // the partial tile 1/0, and the cut-off right half [65536, 70000) in tiles
  // 1/1 (partial, width 17) and 0/256..0/273.
  const absl::StatusOr<std::vector<Tile>> tiles =
      TilesForInclusionProof(0, 70000);
  ASSERT_TRUE(tiles.ok());
  ASSERT_GE(tiles->size(), 3u);
  EXPECT_EQ((*tiles)[0], (Tile{0, 0, kFull}));
  EXPECT_EQ((*tiles)[1], (Tile{1, 0, kFull}));
  EXPECT_EQ((*tiles)[2], (Tile{1, 1, 17}));
  EXPECT_EQ(TilesForInclusionProof(5, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TilesForConsistencyProof(6, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TilesForConsistencyProof(5, 5)->empty());
}

TEST(EntryBundleTest, EncodesBigEndianLengthPrefixes) {
  const std::vector<std::string> entries = {"a", "", std::string(300, 'x')};
  const absl::StatusOr<std::string> bundle = EncodeEntryBundle(entries);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(*bundle, std::string("\x00\x01"
                                 "a"
                                 "\x00\x00"
                                 "\x01\x2c",
                                 7) +
                         std::string(300, 'x'));
  EXPECT_EQ(*ParseEntryBundle(*bundle), entries);
}

TEST(EntryBundleTest, RoundTripsTheLimits) {
  const std::vector<std::string> largest = {std::string(kMaxEntrySize, 'z')};
  EXPECT_EQ(*ParseEntryBundle(*EncodeEntryBundle(largest)), largest);
  std::vector<std::string> full;
  for (uint32_t i = 0; i < kTileWidth; ++i) full.push_back(std::to_string(i));
  EXPECT_EQ(*ParseEntryBundle(*EncodeEntryBundle(full)), full);
}

TEST(EntryBundleTest, RefusesToEncodeWhatCannotBeParsed) {
  EXPECT_FALSE(EncodeEntryBundle({}).ok());
  EXPECT_FALSE(EncodeEntryBundle({std::string(kMaxEntrySize + 1, 'z')}).ok());
  EXPECT_FALSE(
      EncodeEntryBundle(std::vector<std::string>(kTileWidth + 1, "e")).ok());
}

TEST(EntryBundleTest, RejectsMalformedBundles) {
  std::string too_many;
  for (uint32_t i = 0; i <= kTileWidth; ++i) too_many.append("\x00\x00", 2);
  const struct {
    std::string bundle;
    const char* problem;
  } kCases[] = {
      {"", "has 0 entries"},
      {std::string("\x00", 1), "ends inside the length of entry 0"},
      {std::string("\x00\x01"
                   "a"
                   "\x00",
                   4),
       "ends inside the length of entry 1"},
      {std::string("\x00\x02"
                   "a",
                   3),
       "has 2 bytes but only 1 remain"},
      {std::string("\xff\xff", 2), "has 65535 bytes but only 0 remain"},
      {too_many, "more than 256 entries"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<std::vector<std::string>> entries =
        ParseEntryBundle(c.bundle);
    ASSERT_FALSE(entries.ok()) << c.problem;
    EXPECT_TRUE(absl::StrContains(entries.status().message(), c.problem))
        << entries.status();
  }
}

}  // namespace
}  // namespace refsum::tlog
