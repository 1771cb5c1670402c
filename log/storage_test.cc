#include "log/storage.h"

#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

using ::refsum::tlog::testing::MakeLeafHashes;
using ::refsum::tlog::testing::NodeStore;
using ::refsum::tlog::testing::ReferenceRoot;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Returns a new, empty directory under $TEST_TMPDIR, unique to the call.
std::string NewTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/storage_test_XXXXXX");
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp failed for " << pattern;
  return pattern;
}

std::unique_ptr<Storage> OpenOrDie(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Storage>> storage = Storage::Open(dir);
  EXPECT_TRUE(storage.ok()) << storage.status();
  return storage.ok() ? *std::move(storage) : nullptr;
}

std::string LeafData(uint64_t index) { return absl::StrCat("leaf-", index); }

StoredEntry MakeEntry(uint64_t index,
                      std::vector<std::string> lookup_keys = {}) {
  StoredEntry entry;
  entry.index = index;
  entry.leaf = LeafData(index);
  entry.leaf_hash = tlog::HashLeaf(entry.leaf);
  entry.lookup_keys = std::move(lookup_keys);
  return entry;
}

// A batch holding entries [begin, end) (leaf data LeafData(i)) and every
// node of the tree of `end` such leaves that is not complete at `begin`.
Batch MakeTreeBatch(uint64_t begin, uint64_t end) {
  std::vector<tlog::Hash> leaf_hashes;
  for (uint64_t i = 0; i < end; ++i) {
    leaf_hashes.push_back(tlog::HashLeaf(LeafData(i)));
  }
  Batch batch;
  for (uint64_t i = begin; i < end; ++i) batch.entries.push_back(MakeEntry(i));
  const NodeStore store(leaf_hashes);
  for (const auto& [id, hash] : store.nodes()) {
    const uint64_t last_leaf = ((id.index + 1) << id.level) - 1;
    if (last_leaf >= begin) batch.nodes.emplace_back(id, hash);
  }
  batch.checkpoint = absl::StrCat("checkpoint of size ", end);
  return batch;
}

std::string HashBytes(const tlog::Hash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

TEST(StorageTest, FreshStoreHasNoCheckpointEntriesKeysOrNodes) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);

  absl::StatusOr<std::optional<std::string>> checkpoint =
      storage->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_FALSE(checkpoint->has_value());

  absl::StatusOr<std::vector<std::string>> entries =
      storage->ReadEntries(0, 10);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, IsEmpty());

  absl::StatusOr<std::optional<uint64_t>> found =
      storage->FindLeafHash(tlog::HashLeaf("x"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());

  absl::StatusOr<IndexPage> page =
      storage->Lookup(LookupKeyForAttestationsOf(0), std::nullopt, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->indices, IsEmpty());
  EXPECT_FALSE(page->more);

  absl::StatusOr<std::optional<KnownKey>> key = storage->ReadKey("ab12");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_FALSE(key->has_value());

  const tlog::NodeId ids[] = {{0, 0}};
  EXPECT_EQ(storage->ReadNodes(ids).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(storage->ReadNodeRun(0, 0, 1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(StorageTest, WrittenCheckpointIsRead) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  Batch first;
  first.checkpoint = "first checkpoint\n";
  ASSERT_TRUE(storage->Write(first).ok());
  Batch second;
  second.checkpoint = std::string("second\0checkpoint\n", 18);
  ASSERT_TRUE(storage->Write(second).ok());

  absl::StatusOr<std::optional<std::string>> checkpoint =
      storage->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->value_or(""), second.checkpoint);
}

TEST(StorageTest, WitnessedCheckpointIsSeparateFromTheCheckpointAndSurvives) {
  const std::string dir = NewTempDir();
  {
    std::unique_ptr<Storage> storage = OpenOrDie(dir);
    ASSERT_NE(storage, nullptr);
    absl::StatusOr<std::optional<std::string>> none =
        storage->ReadWitnessedCheckpoint();
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_FALSE(none->has_value());

    ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 3)).ok());
    ASSERT_TRUE(storage->WriteWitnessedCheckpoint("witnessed 1\n").ok());
    ASSERT_TRUE(storage->WriteWitnessedCheckpoint("witnessed 2\n").ok());
    // A later batch leaves the witnessed checkpoint alone, and vice versa.
    ASSERT_TRUE(storage->Write(MakeTreeBatch(3, 5)).ok());
  }
  std::unique_ptr<Storage> storage = OpenOrDie(dir);
  ASSERT_NE(storage, nullptr);
  absl::StatusOr<std::optional<std::string>> witnessed =
      storage->ReadWitnessedCheckpoint();
  ASSERT_TRUE(witnessed.ok()) << witnessed.status();
  EXPECT_EQ(*witnessed, std::optional<std::string>("witnessed 2\n"));
  absl::StatusOr<std::optional<std::string>> checkpoint =
      storage->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, std::optional<std::string>("checkpoint of size 5"));
}

TEST(StorageTest, ReadEntriesReturnsStoredRunsAndStopsAtTheEnd) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 3)).ok());
  ASSERT_TRUE(storage->Write(MakeTreeBatch(3, 5)).ok());

  absl::StatusOr<std::vector<std::string>> all = storage->ReadEntries(0, 5);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre("leaf-0", "leaf-1", "leaf-2", "leaf-3",
                                "leaf-4"));

  absl::StatusOr<std::vector<std::string>> middle = storage->ReadEntries(2, 2);
  ASSERT_TRUE(middle.ok()) << middle.status();
  EXPECT_THAT(*middle, ElementsAre("leaf-2", "leaf-3"));

  absl::StatusOr<std::vector<std::string>> partial =
      storage->ReadEntries(3, 100);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_THAT(*partial, ElementsAre("leaf-3", "leaf-4"));

  absl::StatusOr<std::vector<std::string>> none = storage->ReadEntries(1, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  for (uint64_t start : {uint64_t{5}, uint64_t{6}, uint64_t{1} << 40,
                         UINT64_MAX}) {
    absl::StatusOr<std::vector<std::string>> past =
        storage->ReadEntries(start, 3);
    ASSERT_TRUE(past.ok()) << past.status();
    EXPECT_THAT(*past, IsEmpty()) << "start " << start;
  }
}

TEST(StorageTest, ReadEntriesIsNotConfusedByOtherRecordKinds) {
  // Lookup, key and node records sort after the entries ('e' < 'h' < 'k' <
  // 'l' < 'n'); a read running off the end must not return any of them.
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  Batch batch = MakeTreeBatch(0, 2);
  batch.entries[1].lookup_keys = {LookupKeyForAttestationsOf(0)};
  batch.keys.push_back(KnownKey{"ff", "open", "", "pem"});
  ASSERT_TRUE(storage->Write(batch).ok());

  absl::StatusOr<std::vector<std::string>> entries =
      storage->ReadEntries(0, 1000);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre("leaf-0", "leaf-1"));
}

TEST(StorageTest, FindLeafHashReturnsTheIndexOfEachStoredLeaf) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 4)).ok());
  ASSERT_TRUE(storage->Write(MakeTreeBatch(4, 7)).ok());

  for (uint64_t i = 0; i < 7; ++i) {
    absl::StatusOr<std::optional<uint64_t>> found =
        storage->FindLeafHash(tlog::HashLeaf(LeafData(i)));
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, std::optional<uint64_t>(i));
  }
  absl::StatusOr<std::optional<uint64_t>> missing =
      storage->FindLeafHash(tlog::HashLeaf(LeafData(7)));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, std::nullopt);
}

TEST(StorageTest, LookupPagesWithAfterAndLimit) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  const std::string key = LookupKeyForArtifact(std::string(32, '\x01'));
  // Listed at 1, 3, 4, 300 and 70000, written out of order over two batches.
  Batch first;
  first.entries = {MakeEntry(300, {key}), MakeEntry(3, {key}),
                   MakeEntry(2, {})};
  first.checkpoint = "1";
  Batch second;
  second.entries = {MakeEntry(70000, {key}), MakeEntry(1, {key}),
                    MakeEntry(4, {key})};
  second.checkpoint = "2";
  ASSERT_TRUE(storage->Write(first).ok());
  ASSERT_TRUE(storage->Write(second).ok());

  absl::StatusOr<IndexPage> all = storage->Lookup(key, std::nullopt, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(all->indices, ElementsAre(1, 3, 4, 300, 70000));
  EXPECT_FALSE(all->more);

  absl::StatusOr<IndexPage> page1 = storage->Lookup(key, std::nullopt, 2);
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_THAT(page1->indices, ElementsAre(1, 3));
  EXPECT_TRUE(page1->more);

  absl::StatusOr<IndexPage> page2 = storage->Lookup(key, 3, 2);
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_THAT(page2->indices, ElementsAre(4, 300));
  EXPECT_TRUE(page2->more);

  absl::StatusOr<IndexPage> page3 = storage->Lookup(key, 300, 2);
  ASSERT_TRUE(page3.ok()) << page3.status();
  EXPECT_THAT(page3->indices, ElementsAre(70000));
  EXPECT_FALSE(page3->more);

  // A limit that exactly exhausts the list leaves nothing more.
  absl::StatusOr<IndexPage> exact = storage->Lookup(key, 1, 4);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_THAT(exact->indices, ElementsAre(3, 4, 300, 70000));
  EXPECT_FALSE(exact->more);

  // `after` need not be a listed index.
  absl::StatusOr<IndexPage> between = storage->Lookup(key, 5, 10);
  ASSERT_TRUE(between.ok()) << between.status();
  EXPECT_THAT(between->indices, ElementsAre(300, 70000));
  EXPECT_FALSE(between->more);

  absl::StatusOr<IndexPage> after_all = storage->Lookup(key, 70000, 10);
  ASSERT_TRUE(after_all.ok()) << after_all.status();
  EXPECT_THAT(after_all->indices, IsEmpty());
  EXPECT_FALSE(after_all->more);

  absl::StatusOr<IndexPage> after_max = storage->Lookup(key, UINT64_MAX, 10);
  ASSERT_TRUE(after_max.ok()) << after_max.status();
  EXPECT_THAT(after_max->indices, IsEmpty());
  EXPECT_FALSE(after_max->more);
}

TEST(StorageTest, LookupKeysDoNotBleedIntoEachOther) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  const std::string digest(32, '\x07');
  const std::string attestations_of_1 = LookupKeyForAttestationsOf(1);
  const std::string attestations_of_256 = LookupKeyForAttestationsOf(256);
  const std::string attestations_of_2 = LookupKeyForAttestationsOf(2);
  const std::string artifact = LookupKeyForArtifact(digest);
  const std::string sha256_value = LookupKeyForReferenceValue("sha256", digest);
  const std::string sha384_value = LookupKeyForReferenceValue(
      "sha384", std::string(48, '\x07'));
  const std::string source = LookupKeyForSource("github.com/a/b", "c0ffee");
  const std::string other_source =
      LookupKeyForSource("github.com/a/bc", "0ffee");

  Batch batch;
  batch.entries = {
      MakeEntry(5, {attestations_of_1, artifact}),
      MakeEntry(6, {attestations_of_256, sha256_value}),
      MakeEntry(7, {attestations_of_1, sha384_value, source}),
      MakeEntry(8, {attestations_of_2, other_source}),
  };
  batch.checkpoint = "c";
  ASSERT_TRUE(storage->Write(batch).ok());

  const auto lookup = [&](const std::string& key) {
    absl::StatusOr<IndexPage> page = storage->Lookup(key, std::nullopt, 100);
    EXPECT_TRUE(page.ok()) << page.status();
    EXPECT_FALSE(page.ok() && page->more);
    return page.ok() ? page->indices : std::vector<uint64_t>{};
  };
  EXPECT_THAT(lookup(attestations_of_1), ElementsAre(5, 7));
  EXPECT_THAT(lookup(attestations_of_256), ElementsAre(6));
  EXPECT_THAT(lookup(attestations_of_2), ElementsAre(8));
  EXPECT_THAT(lookup(LookupKeyForAttestationsOf(0)), IsEmpty());
  EXPECT_THAT(lookup(LookupKeyForAttestationsOf(257)), IsEmpty());
  EXPECT_THAT(lookup(artifact), ElementsAre(5));
  EXPECT_THAT(lookup(sha256_value), ElementsAre(6));
  EXPECT_THAT(lookup(sha384_value), ElementsAre(7));
  EXPECT_THAT(lookup(source), ElementsAre(7));
  EXPECT_THAT(lookup(other_source), ElementsAre(8));
  EXPECT_THAT(lookup(LookupKeyForArtifact(std::string(32, '\x08'))),
              IsEmpty());
  EXPECT_THAT(lookup(LookupKeyForSource("github.com/a/b", "c0ffef")),
              IsEmpty());
}

TEST(StorageTest, LookupKeyConstructorsAreDistinct) {
  const std::string digest(32, '\x01');
  EXPECT_NE(LookupKeyForArtifact(digest),
            LookupKeyForReferenceValue("sha256", digest));
  EXPECT_NE(LookupKeyForReferenceValue("sha256", digest),
            LookupKeyForReferenceValue("sha384", digest));
  EXPECT_NE(LookupKeyForSource("a", "bc"), LookupKeyForSource("ab", "c"));
  EXPECT_NE(LookupKeyForAttestationsOf(1), LookupKeyForAttestationsOf(256));
  // Fixed lengths keep keys of one kind from being prefixes of each other.
  EXPECT_EQ(LookupKeyForSource("a", "b").size(),
            LookupKeyForSource("a much longer repository name", "b").size());
  EXPECT_EQ(LookupKeyForAttestationsOf(0).size(),
            LookupKeyForAttestationsOf(UINT64_MAX).size());
}

TEST(StorageTest, ReadKeyReturnsStoredKeys) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  const KnownKey vendor{std::string(64, 'a'), "vendor", "Acme Corp",
                        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n"
                        "-----END PUBLIC KEY-----\n"};
  const KnownKey open{std::string(64, 'b'), "open", "",
                      "-----BEGIN PUBLIC KEY-----\nother\n"
                      "-----END PUBLIC KEY-----\n"};
  Batch batch;
  batch.keys = {vendor, open};
  batch.checkpoint = "c";
  ASSERT_TRUE(storage->Write(batch).ok());

  absl::StatusOr<std::optional<KnownKey>> read_vendor =
      storage->ReadKey(vendor.keyid);
  ASSERT_TRUE(read_vendor.ok()) << read_vendor.status();
  EXPECT_EQ(*read_vendor, std::optional<KnownKey>(vendor));

  absl::StatusOr<std::optional<KnownKey>> read_open =
      storage->ReadKey(open.keyid);
  ASSERT_TRUE(read_open.ok()) << read_open.status();
  EXPECT_EQ(*read_open, std::optional<KnownKey>(open));

  absl::StatusOr<std::optional<KnownKey>> missing =
      storage->ReadKey(std::string(64, 'c'));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, std::nullopt);

  // A prefix of a stored keyid is not that key.
  absl::StatusOr<std::optional<KnownKey>> prefix =
      storage->ReadKey(std::string(63, 'a'));
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  EXPECT_EQ(*prefix, std::nullopt);
}

TEST(StorageTest, ReadNodesReturnsStoredHashesInRequestOrder) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 6)).ok());
  std::vector<tlog::Hash> leaf_hashes;
  for (uint64_t i = 0; i < 6; ++i) {
    leaf_hashes.push_back(tlog::HashLeaf(LeafData(i)));
  }
  const NodeStore expected(leaf_hashes);

  const std::vector<tlog::NodeId> ids = {{2, 0}, {0, 5}, {1, 2}, {0, 0},
                                         {1, 0}, {0, 5}};
  absl::StatusOr<std::vector<tlog::Hash>> hashes = storage->ReadNodes(ids);
  ASSERT_TRUE(hashes.ok()) << hashes.status();
  ASSERT_EQ(hashes->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ((*hashes)[i], expected.nodes().at(ids[i]))
        << tlog::NodeIdToString(ids[i]);
  }

  absl::StatusOr<std::vector<tlog::Hash>> none = storage->ReadNodes({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  // The root of the six leaves folds from the stored right border, and
  // inclusion proofs build from the storage.
  absl::StatusOr<std::vector<tlog::Hash>> border =
      storage->ReadNodes(tlog::RangeNodes(0, 6));
  ASSERT_TRUE(border.ok()) << border.status();
  const tlog::Hash root = ReferenceRoot(leaf_hashes);
  EXPECT_EQ(tlog::FoldSubtrees(*border), root);
  for (uint64_t i = 0; i < 6; ++i) {
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        tlog::BuildInclusionProof(i, 6, *storage);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(tlog::VerifyInclusion(i, 6, leaf_hashes[i], *proof, root).ok());
  }
}

TEST(StorageTest, ReadNodesReturnsNotFoundNamingAMissingNode) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 3)).ok());

  // 0/3 and 2/0 are not complete in a tree of three leaves.
  for (const tlog::NodeId& missing :
       {tlog::NodeId{0, 3}, tlog::NodeId{2, 0}, tlog::NodeId{1, 1}}) {
    const std::vector<tlog::NodeId> ids = {{0, 0}, missing, {1, 0}};
    absl::StatusOr<std::vector<tlog::Hash>> hashes = storage->ReadNodes(ids);
    EXPECT_EQ(hashes.status().code(), absl::StatusCode::kNotFound)
        << tlog::NodeIdToString(missing) << ": " << hashes.status();
    EXPECT_THAT(hashes.status().message(),
                HasSubstr(tlog::NodeIdToString(missing)));
  }
}

TEST(StorageTest, ReadNodeRunConcatenatesATileOfHashes) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 5)).ok());
  ASSERT_TRUE(storage->Write(MakeTreeBatch(5, 9)).ok());
  std::vector<tlog::Hash> leaf_hashes;
  for (uint64_t i = 0; i < 9; ++i) {
    leaf_hashes.push_back(tlog::HashLeaf(LeafData(i)));
  }
  const NodeStore expected(leaf_hashes);
  const auto expected_run = [&](uint32_t level, uint64_t first,
                                uint32_t count) {
    std::string run;
    for (uint64_t i = first; i < first + count; ++i) {
      run += HashBytes(expected.nodes().at(tlog::NodeId{level, i}));
    }
    return run;
  };

  absl::StatusOr<std::string> leaves = storage->ReadNodeRun(0, 0, 9);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_EQ(*leaves, expected_run(0, 0, 9));

  absl::StatusOr<std::string> middle = storage->ReadNodeRun(0, 3, 4);
  ASSERT_TRUE(middle.ok()) << middle.status();
  EXPECT_EQ(*middle, expected_run(0, 3, 4));

  absl::StatusOr<std::string> level1 = storage->ReadNodeRun(1, 0, 4);
  ASSERT_TRUE(level1.ok()) << level1.status();
  EXPECT_EQ(*level1, expected_run(1, 0, 4));

  absl::StatusOr<std::string> level3 = storage->ReadNodeRun(3, 0, 1);
  ASSERT_TRUE(level3.ok()) << level3.status();
  EXPECT_EQ(*level3, expected_run(3, 0, 1));

  absl::StatusOr<std::string> empty = storage->ReadNodeRun(0, 9, 0);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
}

TEST(StorageTest, ReadNodeRunReturnsNotFoundWhenANodeIsMissing) {
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  // Leaves 0..4 and the nodes 1/0, 1/1, 2/0; 1/2 is not complete.
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 5)).ok());

  // Past the end of a level.
  absl::StatusOr<std::string> past_end = storage->ReadNodeRun(0, 3, 3);
  EXPECT_EQ(past_end.status().code(), absl::StatusCode::kNotFound)
      << past_end.status();
  EXPECT_THAT(past_end.status().message(), HasSubstr("0/5"));

  // The run must not continue into the next level: after 1/1 comes 2/0 in
  // key order.
  absl::StatusOr<std::string> into_next_level = storage->ReadNodeRun(1, 0, 3);
  EXPECT_EQ(into_next_level.status().code(), absl::StatusCode::kNotFound)
      << into_next_level.status();
  EXPECT_THAT(into_next_level.status().message(), HasSubstr("1/2"));

  // Entirely beyond the tree.
  EXPECT_EQ(storage->ReadNodeRun(0, 100, 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(storage->ReadNodeRun(5, 0, 1).status().code(),
            absl::StatusCode::kNotFound);

  // A gap in the middle of a run.
  Batch gap;
  gap.entries = {};
  gap.nodes = {{tlog::NodeId{7, 0}, tlog::HashLeaf("a")},
               {tlog::NodeId{7, 2}, tlog::HashLeaf("c")}};
  gap.checkpoint = "c";
  ASSERT_TRUE(storage->Write(gap).ok());
  absl::StatusOr<std::string> with_gap = storage->ReadNodeRun(7, 0, 3);
  EXPECT_EQ(with_gap.status().code(), absl::StatusCode::kNotFound)
      << with_gap.status();
  EXPECT_THAT(with_gap.status().message(), HasSubstr("7/1"));
}

TEST(StorageTest, NodeLevelsAboveTheMaximumDoNotAliasLowerLevels) {
  // Node keys hold the level in one byte. Level 256 is no valid level (see
  // tlog::kMaxNodeLevel), and must not read the hashes of level 0.
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 2)).ok());

  absl::StatusOr<std::string> run = storage->ReadNodeRun(256, 0, 2);
  EXPECT_FALSE(run.ok()) << "level 256 read the hashes of level 0";
  const tlog::NodeId ids[] = {{256, 0}};
  EXPECT_FALSE(storage->ReadNodes(ids).ok())
      << "node 256/0 read the hash of node 0/0";
}

TEST(StorageTest, DataSurvivesCloseAndReopen) {
  const std::string dir = NewTempDir();
  const KnownKey key{std::string(64, 'd'), "rebuilder", "r1", "pem\n"};
  const std::string lookup_key = LookupKeyForAttestationsOf(2);
  {
    std::unique_ptr<Storage> storage = OpenOrDie(dir);
    ASSERT_NE(storage, nullptr);
    ASSERT_TRUE(storage->Write(MakeTreeBatch(0, 3)).ok());
    Batch batch = MakeTreeBatch(3, 7);
    batch.entries[0].lookup_keys = {lookup_key};
    batch.entries[2].lookup_keys = {lookup_key};
    batch.keys = {key};
    ASSERT_TRUE(storage->Write(batch).ok());
  }
  std::unique_ptr<Storage> storage = OpenOrDie(dir);
  ASSERT_NE(storage, nullptr);

  absl::StatusOr<std::optional<std::string>> checkpoint =
      storage->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, std::optional<std::string>("checkpoint of size 7"));

  absl::StatusOr<std::vector<std::string>> entries =
      storage->ReadEntries(0, 100);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre("leaf-0", "leaf-1", "leaf-2", "leaf-3",
                                    "leaf-4", "leaf-5", "leaf-6"));
  for (uint64_t i = 0; i < 7; ++i) {
    absl::StatusOr<std::optional<uint64_t>> found =
        storage->FindLeafHash(tlog::HashLeaf(LeafData(i)));
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, std::optional<uint64_t>(i));
  }

  absl::StatusOr<IndexPage> page =
      storage->Lookup(lookup_key, std::nullopt, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->indices, ElementsAre(3, 5));

  absl::StatusOr<std::optional<KnownKey>> read_key = storage->ReadKey(key.keyid);
  ASSERT_TRUE(read_key.ok()) << read_key.status();
  EXPECT_EQ(*read_key, std::optional<KnownKey>(key));

  std::vector<tlog::Hash> leaf_hashes;
  for (uint64_t i = 0; i < 7; ++i) {
    leaf_hashes.push_back(tlog::HashLeaf(LeafData(i)));
  }
  absl::StatusOr<std::vector<tlog::Hash>> border =
      storage->ReadNodes(tlog::RangeNodes(0, 7));
  ASSERT_TRUE(border.ok()) << border.status();
  EXPECT_EQ(tlog::FoldSubtrees(*border), ReferenceRoot(leaf_hashes));
}

TEST(StorageTest, EveryRecordOfAWrittenBatchIsVisibleAfterReopen) {
  const std::string dir = NewTempDir();
  Batch batch = MakeTreeBatch(0, 64);
  const KnownKey key{std::string(64, 'e'), "open", "", "pem"};
  batch.keys = {key};
  for (StoredEntry& entry : batch.entries) {
    entry.lookup_keys = {LookupKeyForArtifact(HashBytes(entry.leaf_hash))};
  }
  {
    std::unique_ptr<Storage> storage = OpenOrDie(dir);
    ASSERT_NE(storage, nullptr);
    ASSERT_TRUE(storage->Write(batch).ok());
  }
  std::unique_ptr<Storage> storage = OpenOrDie(dir);
  ASSERT_NE(storage, nullptr);

  absl::StatusOr<std::optional<std::string>> checkpoint =
      storage->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, std::optional<std::string>(batch.checkpoint));
  absl::StatusOr<std::vector<std::string>> entries =
      storage->ReadEntries(0, 1000);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), batch.entries.size());
  for (const StoredEntry& entry : batch.entries) {
    EXPECT_EQ((*entries)[entry.index], entry.leaf);
    absl::StatusOr<std::optional<uint64_t>> found =
        storage->FindLeafHash(entry.leaf_hash);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, std::optional<uint64_t>(entry.index));
    absl::StatusOr<IndexPage> page =
        storage->Lookup(entry.lookup_keys[0], std::nullopt, 10);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_THAT(page->indices, ElementsAre(entry.index));
  }
  std::vector<tlog::NodeId> ids;
  std::vector<tlog::Hash> expected;
  for (const auto& [id, hash] : batch.nodes) {
    ids.push_back(id);
    expected.push_back(hash);
  }
  absl::StatusOr<std::vector<tlog::Hash>> hashes = storage->ReadNodes(ids);
  ASSERT_TRUE(hashes.ok()) << hashes.status();
  EXPECT_EQ(*hashes, expected);
  absl::StatusOr<std::optional<KnownKey>> read_key = storage->ReadKey(key.keyid);
  ASSERT_TRUE(read_key.ok()) << read_key.status();
  EXPECT_EQ(*read_key, std::optional<KnownKey>(key));
}

TEST(StorageTest, ConcurrentReadersNeverSeeACheckpointAheadOfItsBatch) {
  // Each batch's checkpoint names the number of entries it covers. Since a
  // batch is written atomically and reads see every batch written before
  // they started, a reader that has seen a checkpoint must find all of its
  // entries and their nodes.
  std::unique_ptr<Storage> storage = OpenOrDie(NewTempDir());
  ASSERT_NE(storage, nullptr);
  constexpr uint64_t kBatches = 40;
  constexpr uint64_t kBatchSize = 5;
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        absl::StatusOr<std::optional<std::string>> checkpoint =
            storage->ReadCheckpoint();
        if (!checkpoint.ok() || !checkpoint->has_value()) continue;
        const absl::string_view text = **checkpoint;
        uint64_t size = 0;
        if (!absl::SimpleAtoi(text.substr(text.rfind(' ') + 1), &size)) {
          ++violations;
          continue;
        }
        absl::StatusOr<std::vector<std::string>> entries =
            storage->ReadEntries(0, size);
        if (!entries.ok() || entries->size() != size) ++violations;
        if (size > 0 && !storage->ReadNodes(tlog::RangeNodes(0, size)).ok()) {
          ++violations;
        }
      }
    });
  }
  for (uint64_t b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(
        storage->Write(MakeTreeBatch(b * kBatchSize, (b + 1) * kBatchSize))
            .ok());
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(violations.load(), 0);
}

TEST(StorageTest, SecondOpenOfAnOpenDirectoryFailsClearly) {
  const std::string dir = NewTempDir();
  std::unique_ptr<Storage> first = OpenOrDie(dir);
  ASSERT_NE(first, nullptr);

  absl::StatusOr<std::unique_ptr<Storage>> second = Storage::Open(dir);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr(dir));

  // The first handle still works, and once closed the directory opens again.
  Batch batch;
  batch.checkpoint = "still writable";
  EXPECT_TRUE(first->Write(batch).ok());
  first.reset();
  std::unique_ptr<Storage> third = OpenOrDie(dir);
  ASSERT_NE(third, nullptr);
  absl::StatusOr<std::optional<std::string>> checkpoint =
      third->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, std::optional<std::string>("still writable"));
}

TEST(StorageTest, OpenBelowARegularFileIsAnIoError) {
  // Whether the path happens to contain "lock" must not change the error:
  // only a held database lock is FailedPrecondition.
  const std::string base = NewTempDir();
  for (const std::string name : {"plainfile", "blockfile"}) {
    const std::string file = absl::StrCat(base, "/", name);
    { std::ofstream(file) << "not a directory"; }
    absl::StatusOr<std::unique_ptr<Storage>> storage =
        Storage::Open(absl::StrCat(file, "/db"));
    EXPECT_EQ(storage.status().code(), absl::StatusCode::kUnavailable)
        << name << ": " << storage.status();
  }
}

}  // namespace
}  // namespace refsum::log
