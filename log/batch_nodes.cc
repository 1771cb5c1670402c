#include "log/batch_nodes.h"

#include "absl/strings/str_cat.h"

namespace refsum::log {

BatchNodes::BatchNodes(
    const tlog::CompactRange& before,
    absl::Span<const std::pair<tlog::NodeId, tlog::Hash>> completed) {
  nodes_.reserve(before.nodes().size() + completed.size());
  for (size_t i = 0; i < before.nodes().size(); ++i) {
    nodes_.emplace(before.nodes()[i], before.hashes()[i]);
  }
  for (const auto& [id, hash] : completed) nodes_.emplace(id, hash);
}

absl::StatusOr<std::vector<tlog::Hash>> BatchNodes::ReadNodes(
    absl::Span<const tlog::NodeId> ids) const {
  std::vector<tlog::Hash> hashes;
  hashes.reserve(ids.size());
  for (const tlog::NodeId& id : ids) {
    const auto it = nodes_.find(id);
    if (it == nodes_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "tree node ", tlog::NodeIdToString(id), " is not in the batch"));
    }
    hashes.push_back(it->second);
  }
  return hashes;
}

}  // namespace refsum::log
