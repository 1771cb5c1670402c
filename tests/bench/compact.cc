// refsum-bench-compact DIR: fully compacts the RocksDB database in DIR (a
// stopped log's data directory, or a copy of one), so that its size on disk
// is what the entries need once compaction has caught up. Prints
// "live_sst_bytes=N" (the database's own figure); the caller measures the
// directory with du.

#include <iostream>
#include <memory>
#include <string>

#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: refsum-bench-compact DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  // The table format refsum-log writes (log/storage.cc), so that compaction
  // writes the files the log would.
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, dir, &raw);
  if (!status.ok()) {
    std::cerr << "opening RocksDB at " << dir << ": " << status.ToString()
              << "\n";
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  status = db->CompactRange(compact, nullptr, nullptr);
  if (!status.ok()) {
    std::cerr << "compacting " << dir << ": " << status.ToString() << "\n";
    return 1;
  }
  uint64_t live = 0;
  db->GetIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &live);
  status = db->Close();
  if (!status.ok()) {
    std::cerr << "closing " << dir << ": " << status.ToString() << "\n";
    return 1;
  }
  std::cout << "live_sst_bytes=" << live << "\n";
  return 0;
}
