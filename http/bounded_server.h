// A cpp-httplib server with the limits refsum's HTTP services share, so that
// slow or malicious clients cannot hold it:
//   - options.worker_threads worker threads (16). At most
//     options.max_queued_connections accepted connections (64) wait for one;
//     then the accept loop pauses and further clients wait in the kernel's
//     listen backlog (options.listen_backlog, 256).
//   - options.io_timeout (5 s) for a request's first byte, and as read and
//     write timeout on every later socket operation.
//   - One request per connection (no keep-alive, "Connection: close"), so a
//     worker is never parked on an idle connection, and a request body the
//     server did not read is never taken for the next request (a proxy in
//     front would see one request where the server saw two).
//   - Request bodies of at most options.max_body_bytes (0: none; 413
//     otherwise). cpp-httplib bounds the request line and each header line
//     to 8 KiB.
//   - SO_REUSEADDR instead of cpp-httplib's default SO_REUSEPORT: a second
//     server cannot bind the same port and silently take half of the
//     connections, while a restarted server can still listen while
//     connections of the previous one linger in TIME_WAIT.
// Every response without a Cache-Control header, including those
// cpp-httplib writes itself (400, 413, 414, ...), gets "Cache-Control:
// no-store".
//
// The routes are the caller's: BoundedServer::Start hands it the
// httplib::Server to add handlers to before it binds.

#ifndef REFSUM_HTTP_BOUNDED_SERVER_H_
#define REFSUM_HTTP_BOUNDED_SERVER_H_

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace refsum::http {

struct BoundedServerOptions {
  // Where to listen; port 0 picks a free port (see BoundedServer::port()).
  std::string host = "127.0.0.1";
  int port = 0;
  size_t worker_threads = 16;
  size_t max_queued_connections = 64;
  int listen_backlog = 256;
  // Rounded down to whole seconds.
  absl::Duration io_timeout = absl::Seconds(5);
  size_t max_body_bytes = 0;
};

// The Cache-Control of every response that does not set one.
inline constexpr char kDefaultCacheControl[] = "no-store";

class BoundedServer {
 public:
  // Calls `add_handlers` once with the server, for it to add its routes
  // (handlers, a pre-routing handler, a logger), then listens as `options`
  // say and serves until Shutdown. `add_handlers` must leave alone what
  // this class sets: the task queue, timeouts, keep-alive, payload limit,
  // socket options and the post-routing handler. The server accepts
  // connections when Start returns. Returns Unavailable if it cannot listen
  // there, also when another process listens on that port.
  static absl::StatusOr<std::unique_ptr<BoundedServer>> Start(
      const BoundedServerOptions& options,
      absl::FunctionRef<void(httplib::Server&)> add_handlers);

  // Shuts down (see Shutdown).
  ~BoundedServer();

  BoundedServer(const BoundedServer&) = delete;
  BoundedServer& operator=(const BoundedServer&) = delete;

  // The port the server listens on. Thread-safe.
  int port() const { return port_; }

  // Stops accepting connections, finishes the requests already accepted
  // (each bounded by the timeouts) and joins every thread; then destroys the
  // handlers. Idempotent and thread-safe.
  void Shutdown();

 private:
  // The cpp-httplib server and its listening thread.
  struct Listener;

  BoundedServer(int port, std::unique_ptr<Listener> listener);

  const int port_;
  absl::Mutex mu_;
  // Null once shut down.
  std::unique_ptr<Listener> listener_ ABSL_GUARDED_BY(mu_);
};

// Calls `handler`, which fills in `response`. cpp-httplib is built with
// exceptions, and answers one that escapes a handler with a 500 carrying
// the exception's text in a header; should `handler` throw (in practice only
// std::bad_alloc), `response` becomes a bare 500 instead.
void AnswerOrFail(httplib::Response& response,
                  absl::FunctionRef<void()> handler);

}  // namespace refsum::http

#endif  // REFSUM_HTTP_BOUNDED_SERVER_H_
