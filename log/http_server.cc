#include "log/http_server.h"

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "http/bounded_server.h"
#include "tlog/tiles.h"

namespace refsum::log {
namespace {

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
// Every response that does not say otherwise gets http::BoundedServer's
// no-store: errors (a 404 for a tile the tree does not have yet is
// heuristically cacheable, RFC 9111 section 4.2.2, and would hide the tile
// once it exists) and /metrics.

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
  http::AnswerOrFail(response, [&] {
    Reply reply = Route(context, request.method, request.target);
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) {
      response.set_header(name, value);
    }
    response.set_header("Content-Type", reply.content_type);
    // Moved rather than passed to set_content, which copies: entry bundles
    // can be megabytes.
    response.body = std::move(reply.body);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& host, int port, const LogReader* reader,
    CheckpointSource checkpoints, Metrics* metrics,
    std::shared_ptr<const http::TlsServerCredentials> tls) {
  // The limits documented in http_server.h are BoundedServer's defaults.
  http::BoundedServerOptions options;
  options.host = host;
  options.port = port;
  options.tls = std::move(tls);
  // No request body is ever read.
  options.max_body_bytes = 0;
  ASSIGN_OR_RETURN(
      std::unique_ptr<http::BoundedServer> server,
      http::BoundedServer::Start(options, [&](httplib::Server& server) {
        // Every request is answered here, before cpp-httplib's routing
        // would read a body or match its handler regexes (std::regex
        // recurses once per character and can overflow the stack on long
        // paths).
        server.set_pre_routing_handler(
            [context = Context{reader, std::move(checkpoints), metrics}](
                const httplib::Request& request, httplib::Response& response) {
              Respond(context, request, response);
              return httplib::Server::HandlerResponse::Handled;
            });
        // Called once per response written, whoever wrote it.
        server.set_logger([metrics](const httplib::Request&,
                                    const httplib::Response& response) {
          metrics->RecordHttpResponse(response.status);
        });
      }));
  return absl::WrapUnique(new HttpServer(std::move(server)));
}

HttpServer::HttpServer(std::unique_ptr<http::BoundedServer> server)
    : server_(std::move(server)) {}

HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Shutdown() { server_->Shutdown(); }

}  // namespace refsum::log
