#include "log/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tlog/tiles.h"

namespace refsum::log {
namespace {

// The limits documented in http_server.h.
constexpr size_t kWorkerThreads = 16;
constexpr size_t kMaxQueuedConnections = 64;
constexpr int kListenBacklog = 256;
constexpr time_t kIoTimeoutSeconds = 5;

constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kTileContentType[] = "application/octet-stream";
constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// tlog-tiles: the checkpoint "SHOULD prevent caching beyond a few seconds";
// it changes with every batch, so caches must ask again each time.
constexpr char kCheckpointCacheControl[] = "no-cache";
// A full tile never changes.
constexpr char kFullTileCacheControl[] = "public, max-age=31536000, immutable";
// A partial tile's bytes never change either, but a client needs it only
// until the tile fills up and the tree grows past it; a short lifetime keeps
// caches from holding on to the many partial tiles a growing log produces.
constexpr char kPartialTileCacheControl[] = "public, max-age=60";
// Every response that does not say otherwise: errors (a 404 for a tile the
// tree does not have yet is heuristically cacheable, RFC 9111 section 4.2.2,
// and would hide the tile once it exists) and /metrics.
constexpr char kDefaultCacheControl[] = "no-store";

// What to answer to one request.
struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
  // Headers besides Content-Type.
  std::vector<std::pair<std::string, std::string>> headers;
};

Reply TextReply(int status, std::string text) {
  return Reply{status, kTextContentType, std::move(text), {}};
}

// A failure of the log itself, not of the request. The details stay out of
// the response (they can name files); Unavailable and ResourceExhausted are
// worth retrying, anything else is a bug or corruption.
Reply ServerError(const absl::Status& status) {
  if (absl::IsUnavailable(status) || absl::IsResourceExhausted(status)) {
    return TextReply(503, "the log is temporarily unavailable\n");
  }
  return TextReply(500, "internal error\n");
}

// Before the log's first checkpoint there is no tree to serve.
Reply NoCheckpointReply() {
  return TextReply(503, "the log has no checkpoint yet\n");
}

// What the request handlers read; shared by the worker threads. Every
// member is thread-safe (see their classes).
struct Context {
  const LogReader* reader;
  CheckpointSource checkpoints;
  Metrics* metrics;
};

Reply ServeCheckpoint(const Context& context) {
  const std::shared_ptr<const SignedCheckpoint> latest = context.checkpoints();
  if (latest == nullptr) return NoCheckpointReply();
  Reply reply{200, kTextContentType, latest->note, {}};
  reply.headers.emplace_back("Cache-Control", kCheckpointCacheControl);
  return reply;
}

// Returns the entry bundle of the `count` entries from index `first`, which
// the served checkpoint's tree holds.
absl::StatusOr<std::string> ReadEntryBundle(const LogReader& reader,
                                            uint64_t first, uint32_t count) {
  ASSIGN_OR_RETURN(const std::vector<std::string> entries,
                   reader.ReadEntries(first, count));
  if (entries.size() != count) {
    return absl::DataLossError(absl::StrCat(
        "entries ", first, " to ", first + count - 1,
        " are in the tree but only ", entries.size(), " are stored"));
  }
  return tlog::EncodeEntryBundle(entries);
}

// Serves a tile or entry bundle; `path` is "tile/...", without the leading
// slash, as tlog::ParseTilePath expects.
Reply ServeTile(const Context& context, absl::string_view path) {
  const absl::StatusOr<tlog::TileResource> resource = tlog::ParseTilePath(path);
  if (!resource.ok()) {
    return TextReply(400, absl::StrCat(resource.status().message(), "\n"));
  }
  const std::shared_ptr<const SignedCheckpoint> latest = context.checkpoints();
  if (latest == nullptr) return NoCheckpointReply();
  const tlog::Tile& tile = resource->tile;
  const uint64_t tree_size = latest->checkpoint.size;

  // Served if the tree has at least the requested hashes: a full tile once
  // it is full, a partial tile of width W once the tile has W or more.
  const absl::StatusOr<uint32_t> width_in_tree =
      tlog::TileWidth(tile.level, tile.index, tree_size);
  if (absl::IsNotFound(width_in_tree.status()) ||
      (width_in_tree.ok() && *width_in_tree < tile.width)) {
    return TextReply(404, absl::StrCat(path, " is not in the tree of size ",
                                       tree_size, "\n"));
  }
  if (!width_in_tree.ok()) return ServerError(width_in_tree.status());

  const uint64_t first = tile.index * tlog::kTileWidth;
  absl::StatusOr<std::string> body =
      resource->entry_bundle
          ? ReadEntryBundle(*context.reader, first, tile.width)
          : context.reader->ReadNodeRun(tile.level * tlog::kTileHeight, first,
                                        tile.width);
  if (!body.ok()) return ServerError(body.status());
  Reply reply{200, kTileContentType, *std::move(body), {}};
  reply.headers.emplace_back("Cache-Control", tile.width == tlog::kTileWidth
                                                  ? kFullTileCacheControl
                                                  : kPartialTileCacheControl);
  return reply;
}

Reply Route(const Context& context, absl::string_view method,
            absl::string_view target) {
  if (method != "GET" && method != "HEAD") {
    Reply reply = TextReply(405, "only GET and HEAD are served\n");
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  // The raw request target, not cpp-httplib's percent-decoded path, so that
  // each resource has exactly one spelling. A query string means nothing
  // here and is ignored.
  const absl::string_view path = target.substr(0, target.find('?'));
  if (path == "/checkpoint") return ServeCheckpoint(context);
  if (path == "/metrics") {
    return Reply{200, kMetricsContentType, context.metrics->Render(), {}};
  }
  if (absl::StartsWith(path, "/tile/")) {
    return ServeTile(context, path.substr(1));
  }
  return TextReply(404, "not found\n");
}

void Respond(const Context& context, const httplib::Request& request,
             httplib::Response& response) {
  // cpp-httplib is built with exceptions, and answers one that escapes a
  // handler with a 500 carrying the exception's text in a header. The only
  // one this code can raise is std::bad_alloc.
  try {
    Reply reply = Route(context, request.method, request.target);
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) {
      response.set_header(name, value);
    }
    response.set_header("Content-Type", reply.content_type);
    // Moved rather than passed to set_content, which copies: entry bundles
    // can be megabytes.
    response.body = std::move(reply.body);
  } catch (...) {
    response.status = 500;
    response.headers.clear();
    response.body.clear();
  }
}

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

struct HttpServer::Listener {
  httplib::Server server;
  // The listening socket: the last one cpp-httplib created, since it creates
  // one per address it tries until bind and listen succeed.
  int socket = -1;
  std::thread thread;
  // Set when server.listen_after_bind() has returned.
  std::atomic<bool> stopped{false};
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& host, int port, const LogReader* reader,
    CheckpointSource checkpoints, Metrics* metrics) {
  auto listener = std::make_unique<Listener>();
  httplib::Server& server = listener->server;
  server.new_task_queue = [] {
    return new BoundedTaskQueue(kWorkerThreads, kMaxQueuedConnections);
  };
  server.set_read_timeout(kIoTimeoutSeconds, 0);
  server.set_write_timeout(kIoTimeoutSeconds, 0);
  // The wait for a request's first byte; with one request per connection
  // there is no later idle wait.
  server.set_keep_alive_timeout(kIoTimeoutSeconds);
  server.set_keep_alive_max_count(1);
  server.set_payload_max_length(0);
  // Instead of cpp-httplib's default SO_REUSEPORT, which would let a second
  // server bind the same port and silently take half of the connections.
  // SO_REUSEADDR still lets a restarted log listen while connections of the
  // previous one linger in TIME_WAIT.
  server.set_socket_options([listener = listener.get()](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listener->socket = socket;
  });
  // Every request is answered here, before cpp-httplib's routing would read
  // a body or match its handler regexes (std::regex recurses once per
  // character and can overflow the stack on long paths).
  server.set_pre_routing_handler(
      [context = Context{reader, std::move(checkpoints), metrics}](
          const httplib::Request& request, httplib::Response& response) {
        Respond(context, request, response);
        return httplib::Server::HandlerResponse::Handled;
      });
  // Runs for every response, also those cpp-httplib writes itself (400 for
  // an unparsable request, 414, 416).
  server.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& response) {
        if (!response.has_header("Cache-Control")) {
          response.set_header("Cache-Control", kDefaultCacheControl);
        }
      });
  // Called once per response written, whoever wrote it.
  server.set_logger(
      [metrics](const httplib::Request&, const httplib::Response& response) {
        metrics->RecordHttpResponse(response.status);
      });

  const int bound_port = port == 0
                             ? server.bind_to_any_port(host)
                             : (server.bind_to_port(host, port) ? port : -1);
  if (bound_port < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", host, ":", port));
  }
  // cpp-httplib listens with a backlog of 5, so a burst of a few more
  // connection attempts is dropped and retried by the clients a second
  // later. Linux lets listen() on a listening socket change its backlog;
  // should that fail, the server still works, with the small backlog.
  listen(listener->socket, kListenBacklog);
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
        absl::StrCat("HTTP server on ", host, ":", bound_port,
                     " stopped as soon as it started"));
  }
  return absl::WrapUnique(new HttpServer(bound_port, std::move(listener)));
}

HttpServer::HttpServer(int port, std::unique_ptr<Listener> listener)
    : port_(port), listener_(std::move(listener)) {}

HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (listener_ == nullptr) return;
  listener_->server.stop();
  listener_->thread.join();
  listener_.reset();
}

}  // namespace refsum::log
