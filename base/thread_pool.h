// A fixed set of worker threads running queued closures in FIFO order.

#ifndef REFSUM_BASE_THREAD_POOL_H_
#define REFSUM_BASE_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace refsum {

// Thread-safe. The destructor runs every closure already scheduled, then
// joins the workers.
class ThreadPool {
 public:
  // Starts `threads` workers (at least one).
  explicit ThreadPool(size_t threads);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `work` to run on some worker. Must not be called once the
  // destructor has started.
  void Schedule(std::function<void()> work);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace refsum

#endif  // REFSUM_BASE_THREAD_POOL_H_
