// A checkpoint the log has signed and stored, as readers receive it.

#ifndef REFSUM_LOG_SIGNED_CHECKPOINT_H_
#define REFSUM_LOG_SIGNED_CHECKPOINT_H_

#include <functional>
#include <memory>
#include <string>

#include "tlog/checkpoint.h"

namespace refsum::log {

struct SignedCheckpoint {
  // The parsed body of `note`.
  tlog::Checkpoint checkpoint;
  // The signed note, as served.
  std::string note;
};

// Returns the newest stored checkpoint; never null once the log has started.
// Implementations are thread-safe and do not block on the sequencer.
using CheckpointSource =
    std::function<std::shared_ptr<const SignedCheckpoint>()>;

}  // namespace refsum::log

#endif  // REFSUM_LOG_SIGNED_CHECKPOINT_H_
