// A cpp-httplib server with the limits refsum's HTTP services share, so that
// slow or malicious clients cannot hold it, optionally over TLS:
//   - A gate thread takes every accepted connection, non-blocking, and reads
//     its request header (after the TLS handshake, with TLS) until the
//     header is complete; only then does the connection go to one of
//     options.worker_threads workers (16). A slow-loris client that opens
//     connections and dribbles bytes therefore never holds a worker: it
//     holds one of options.max_connections (1024) connection slots (a
//     connection accepted beyond them is closed at once) until
//     options.request_timeout.
//   - options.request_timeout (10 s) from accept for the whole request:
//     handshake and header (a connection whose header is not complete by
//     then gets 408 and is closed), and body. options.io_timeout (5 s)
//     bounds each later wait for the socket, and options.connection_timeout
//     (30 s) from accept the whole exchange, writing the response included.
//   - Request line and headers of at most options.max_header_bytes
//     (16 KiB; 431 otherwise), request bodies of at most
//     options.max_body_bytes (0: none; 413 otherwise).
//   - One request per connection (no keep-alive, "Connection: close"), so a
//     worker is never parked on an idle connection, and a request body the
//     server did not read is never taken for the next request (a proxy in
//     front would see one request where the server saw two).
//   - SO_REUSEADDR instead of cpp-httplib's default SO_REUSEPORT: a second
//     server cannot bind the same port and silently take half of the
//     connections, while a restarted server can still listen while
//     connections of the previous one linger in TIME_WAIT.
//   - TLS (options.tls): TLS 1.2 or later with the given certificate chain
//     and key; a client that does not speak TLS fails the handshake and is
//     closed.
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

// A TLS server certificate and its key, both PEM.
struct TlsServerCredentials {
  // The server certificate followed by any intermediate certificates.
  std::string certificate_chain_pem;
  std::string private_key_pem;
};

struct BoundedServerOptions {
  // Where to listen; port 0 picks a free port (see BoundedServer::port()).
  std::string host = "127.0.0.1";
  int port = 0;
  size_t worker_threads = 16;
  // Connections accepted and not yet closed: waiting for their header,
  // waiting for a worker, or being answered.
  size_t max_connections = 1024;
  int listen_backlog = 256;
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration io_timeout = absl::Seconds(5);
  absl::Duration connection_timeout = absl::Seconds(30);
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 0;
  // Serve HTTPS with these; plain HTTP when null.
  std::shared_ptr<const TlsServerCredentials> tls;
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
  // connections when Start returns. Returns InvalidArgument for options
  // out of range or TLS credentials that do not load (naming the problem),
  // and Unavailable if it cannot listen there, also when another process
  // listens on that port.
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
  // The cpp-httplib server, its listening thread, the gate and the workers.
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
