// The log's HTTP read API, C2SP tlog-tiles v0.1.0, over cpp-httplib:
//
//   GET /checkpoint                     the CheckpointSource's checkpoint:
//                                       the newest signed note or, for a
//                                       log with witnesses, the newest
//                                       witnessed one (cosignatures and all)
//   GET /tile/<L>/<N>[.p/<W>]           the hashes of a Merkle tree tile
//   GET /tile/entries/<N>[.p/<W>]       an entry bundle
//   GET /metrics                        Metrics::Render(), for Prometheus
//
// HEAD works wherever GET does; every other method gets 405 (or
// cpp-httplib's 400, for a method it does not know). Paths are matched as
// sent (no percent-decoding; a query string is ignored): any other path gets
// 404, a tile path that is not the one canonical spelling of a tile 400, and
// a tile the served checkpoint's tree does not have (yet) 404, so that
// clients see exactly the tree of the checkpoint they verify. A partial
// tile <N>.p/<W> is served as long as the tile has at least W hashes, also
// once it has grown: those W hashes never change, and tlog-tiles lets
// clients ask for the partial tile a checkpoint they verified needs. Until
// the CheckpointSource has a checkpoint, /checkpoint and tiles get 503.
//
// Tiles are read from stored node hashes and entries (LogReader), never
// recomputed. Caching: full tiles for a year (immutable), partial tiles for
// a minute, the checkpoint only with revalidation (no-cache), everything
// else (errors, /metrics) not at all (no-store). Every response, including
// those cpp-httplib writes itself, is counted in Metrics by status code.
//
// Limits, so that slow or malicious clients cannot hold the server: those
// of http/bounded_server.h (16 workers that only ever see requests whose
// header has fully arrived, at most 1024 connections, 10 s for the whole
// request, 16 KiB of request line and headers, one request per connection),
// with no request body ever read (a body limit of 0). A request body
// cpp-httplib did not read is never taken for a next request: there is
// none on the connection. With `tls` the server speaks HTTPS only.

#ifndef REFSUM_LOG_HTTP_SERVER_H_
#define REFSUM_LOG_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/bounded_server.h"
#include "log/metrics.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"

namespace refsum::log {

class HttpServer {
 public:
  // Listens on `host`:`port` (port 0 picks a free port, see port()) and
  // serves until Shutdown. The server is accepting connections when Start
  // returns. `reader` and `metrics` must outlive the server; `checkpoints`
  // is called once per checkpoint or tile request, from worker threads.
  // With `tls` it serves HTTPS only. Returns Unavailable if it cannot
  // listen there, also when another process listens on that port, and
  // InvalidArgument for TLS credentials that do not load.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& host, int port, const LogReader* reader,
      CheckpointSource checkpoints, Metrics* metrics,
      std::shared_ptr<const http::TlsServerCredentials> tls = nullptr);

  // Shuts down (see Shutdown).
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Returns the port the server listens on. Thread-safe.
  int port() const { return server_->port(); }

  // Stops accepting connections, finishes the requests already accepted
  // (each is bounded by the timeouts above) and joins every thread.
  // Idempotent and thread-safe.
  void Shutdown();

 private:
  explicit HttpServer(std::unique_ptr<http::BoundedServer> server);

  const std::unique_ptr<http::BoundedServer> server_;
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_HTTP_SERVER_H_
