// The witness's HTTP API over cpp-httplib:
//
//   POST <prefix>/add-checkpoint   C2SP tlog-witness v1.0.0; answered by a
//                                  Cosigner (see witness/cosigner.h)
//   GET  /reports/<name>           a rebuild report from the reports
//                                  directory (HEAD works too)
//
// Report names are 1 to 255 characters of [A-Za-z0-9._-] that do not start
// with '.', so a name can never leave the directory; only regular files
// (not symlinks) of at most kMaxReportBytes are served. The content type
// follows the extension: .html as text/html (sandboxed by a
// Content-Security-Policy, since a report quotes build output), .json as
// application/json, anything else as text/plain. A missing report is 404.
//
// Paths are matched as sent (no percent-decoding; a query string is
// ignored): any other path gets 404, another method on a known path 405.
// For the operator, stderr receives every add-checkpoint answer that
// carries evidence of log misbehaviour (see AddCheckpointResponse::evidence),
// with the request, and every internal error.
//
// Limits, so that slow or malicious clients cannot hold the server (those
// of http/bounded_server.h, with its defaults):
//   - 16 workers that only ever see requests whose header has fully
//     arrived; at most 1024 connections; 10 s for the whole request from
//     accept (408 otherwise), 5 s for each later wait for the socket.
//   - Request line and headers of at most 16 KiB (431 otherwise), bodies of
//     at most kMaxRequestBytes (413 otherwise), read only for
//     add-checkpoint.
//   - One request per connection. tlog-witness says witnesses SHOULD
//     support keep-alive, but cpp-httplib 0.11 cannot close a connection
//     after answering a request whose body it did not read (a GET with a
//     body), and would then parse that body as the next request; a proxy in
//     front would see one request where the server saw two.
//   - With HttpServerOptions::tls the server speaks HTTPS only.

#ifndef REFSUM_WITNESS_HTTP_SERVER_H_
#define REFSUM_WITNESS_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/bounded_server.h"
#include "witness/cosigner.h"

namespace refsum::witness {

// A checkpoint note with a few dozen signatures is a few KiB; post-quantum
// cosignatures may grow that tenfold.
inline constexpr size_t kMaxRequestBytes = 1 << 20;

// Reports are read into memory to be served; the rebuild side bounds what
// it writes (e.g. diffoscope --max-report-size).
inline constexpr size_t kMaxReportBytes = 16 << 20;

struct HttpServerOptions {
  // Where to listen; port 0 picks a free port (see HttpServer::port()).
  std::string host = "127.0.0.1";
  int port = 0;
  // The submission prefix: "" or a path starting with '/' and not ending in
  // one, of [A-Za-z0-9._~/-], e.g. "/witness" for a server behind a proxy
  // that routes that path here.
  std::string submission_prefix;
  // The directory /reports/ serves; typically ReportsDir(state_dir). It
  // need not exist (every report is then 404).
  std::string reports_dir;
  // HTTPS only with these; plain HTTP when null.
  std::shared_ptr<const http::TlsServerCredentials> tls;
};

class HttpServer {
 public:
  // Listens as `options` say and serves until Shutdown. The server accepts
  // connections when Start returns. `cosigner` must outlive the server.
  // Returns InvalidArgument for a bad submission prefix or TLS credentials
  // that do not load, and Unavailable if it cannot listen there (also when
  // another process listens on the port).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, Cosigner* cosigner);

  // Shuts down (see Shutdown).
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port the server listens on. Thread-safe.
  int port() const { return server_->port(); }

  // Stops accepting connections, finishes the requests already accepted
  // (each bounded by the timeouts above) and joins every thread. Idempotent
  // and thread-safe.
  void Shutdown();

 private:
  explicit HttpServer(std::unique_ptr<http::BoundedServer> server);

  const std::unique_ptr<http::BoundedServer> server_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_HTTP_SERVER_H_
