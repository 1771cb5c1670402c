#include "http/bounded_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace refsum::http {
namespace {

// A fixed pool of worker threads with a bounded queue of accepted
// connections. cpp-httplib's ThreadPool queues without bound, and its 0.11
// TaskQueue interface cannot refuse a connection (a dropped task would never
// close its socket), so enqueue blocks the accept loop while the queue is
// full: further clients then wait in the kernel's listen backlog instead of
// each holding a file descriptor and memory here.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued)
      : max_queued_(max_queued) {
    workers_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Work(); });
    }
  }

  ~BoundedTaskQueue() override { shutdown(); }

  // Called by the accept loop only.
  void enqueue(std::function<void()> task) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BoundedTaskQueue::HasRoom));
    tasks_.push_back(std::move(task));
  }

  // Runs the queued tasks (each closes its connection) and joins the
  // workers. Idempotent; cpp-httplib calls it once the accept loop ends.
  void shutdown() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

 private:
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return tasks_.size() < max_queued_;
  }

  bool HasTaskOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !tasks_.empty() || stopping_;
  }

  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &BoundedTaskQueue::HasTaskOrStopping));
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace

struct BoundedServer::Listener {
  httplib::Server server;
  // The listening socket: the last one cpp-httplib created, since it creates
  // one per address it tries until bind and listen succeed.
  int socket = -1;
  std::thread thread;
  // Set when server.listen_after_bind() has returned.
  std::atomic<bool> stopped{false};
};

absl::StatusOr<std::unique_ptr<BoundedServer>> BoundedServer::Start(
    const BoundedServerOptions& options,
    absl::FunctionRef<void(httplib::Server&)> add_handlers) {
  auto listener = std::make_unique<Listener>();
  httplib::Server& server = listener->server;
  server.new_task_queue = [threads = options.worker_threads,
                           max_queued = options.max_queued_connections] {
    return new BoundedTaskQueue(threads, max_queued);
  };
  const time_t io_timeout_seconds = absl::ToInt64Seconds(options.io_timeout);
  server.set_read_timeout(io_timeout_seconds, 0);
  server.set_write_timeout(io_timeout_seconds, 0);
  // The wait for a request's first byte; with one request per connection
  // there is no later idle wait.
  server.set_keep_alive_timeout(io_timeout_seconds);
  server.set_keep_alive_max_count(1);
  server.set_payload_max_length(options.max_body_bytes);
  server.set_socket_options([listener = listener.get()](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listener->socket = socket;
  });
  add_handlers(server);
  // Runs for every response, also those cpp-httplib writes itself.
  server.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& response) {
        if (!response.has_header("Cache-Control")) {
          response.set_header("Cache-Control", kDefaultCacheControl);
        }
      });

  const int bound_port =
      options.port == 0
          ? server.bind_to_any_port(options.host)
          : (server.bind_to_port(options.host, options.port) ? options.port
                                                             : -1);
  if (bound_port < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", options.host, ":", options.port));
  }
  // cpp-httplib listens with a backlog of 5, so a burst of a few more
  // connection attempts is dropped and retried by the clients a second
  // later. Linux lets listen() on a listening socket change its backlog;
  // should that fail, the server still works, with the small backlog.
  listen(listener->socket, options.listen_backlog);
  listener->thread = std::thread([listener = listener.get()] {
    listener->server.listen_after_bind();
    listener->stopped = true;
  });
  // cpp-httplib marks the server running only once the thread has entered
  // its accept loop, and stop() before that does nothing, which would leave
  // Shutdown waiting forever. So Start returns only once it runs.
  while (!server.is_running() && !listener->stopped) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (listener->stopped) {
    listener->thread.join();
    return absl::UnavailableError(
        absl::StrCat("HTTP server on ", options.host, ":", bound_port,
                     " stopped as soon as it started"));
  }
  return absl::WrapUnique(new BoundedServer(bound_port, std::move(listener)));
}

BoundedServer::BoundedServer(int port, std::unique_ptr<Listener> listener)
    : port_(port), listener_(std::move(listener)) {}

BoundedServer::~BoundedServer() { Shutdown(); }

void BoundedServer::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (listener_ == nullptr) return;
  listener_->server.stop();
  listener_->thread.join();
  listener_.reset();
}

void AnswerOrFail(httplib::Response& response,
                  absl::FunctionRef<void()> handler) {
  try {
    handler();
  } catch (...) {
    response.status = 500;
    response.headers.clear();
    response.body.clear();
  }
}

}  // namespace refsum::http
