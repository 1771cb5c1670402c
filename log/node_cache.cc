#include "log/node_cache.h"

namespace refsum::log {

std::vector<size_t> NodeCache::Lookup(absl::Span<const tlog::NodeId> ids,
                                      absl::Span<tlog::Hash> hashes) const {
  std::vector<size_t> misses;
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < ids.size(); ++i) {
    const tlog::NodeId& id = ids[i];
    if (Covers(id.level) && id.level - min_level_ < levels_.size()) {
      const Level& level = levels_[id.level - min_level_];
      if (id.index < level.known.size() && level.known[id.index]) {
        hashes[i] = level.hashes[id.index];
        continue;
      }
    }
    misses.push_back(i);
  }
  return misses;
}

void NodeCache::Insert(
    absl::Span<const std::pair<tlog::NodeId, tlog::Hash>> nodes) {
  bool any = false;
  for (const auto& node : nodes) any = any || Covers(node.first.level);
  if (!any) return;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, hash] : nodes) {
    if (!Covers(id.level) || id.level > tlog::kMaxNodeLevel) continue;
    const size_t l = id.level - min_level_;
    if (l >= levels_.size()) levels_.resize(l + 1);
    Level& level = levels_[l];
    if (id.index >= level.known.size()) {
      level.known.resize(id.index + 1, false);
      level.hashes.resize(id.index + 1);
    }
    level.hashes[id.index] = hash;
    level.known[id.index] = true;
  }
}

}  // namespace refsum::log
