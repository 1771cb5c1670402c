#include "witness/http_server.h"

#include <httplib.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "http/bounded_server.h"
#include "tlog/witness_protocol.h"

namespace refsum::witness {
namespace {

constexpr size_t kMaxReportNameLength = 255;

constexpr char kReportsPath[] = "/reports/";

constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHtmlContentType[] = "text/html; charset=utf-8";
constexpr char kJsonContentType[] = "application/json";

// A cosignature or an error must never be served from a cache: every
// response that does not say otherwise gets http::BoundedServer's no-store.
// A report may be rewritten (a rebuild retried after a crash), so caches
// must ask again.
constexpr char kReportCacheControl[] = "no-cache";
// Reports quote what builds printed; an HTML report gets no scripts, no
// requests and a unique origin, only its inline styles.
constexpr char kReportContentSecurityPolicy[] =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'";

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

Reply MethodNotAllowed(absl::string_view allow) {
  Reply reply = TextReply(405, absl::StrCat("only ", allow, " is served\n"));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

bool IsValidReportName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxReportNameLength || name[0] == '.') {
    return false;
  }
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidSubmissionPrefix(absl::string_view prefix) {
  if (prefix.empty()) return true;
  if (prefix[0] != '/' || prefix.back() == '/') return false;
  for (const char c : prefix) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '~' && c != '/' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string ReportContentType(absl::string_view name) {
  if (absl::EndsWith(name, ".html")) return kHtmlContentType;
  if (absl::EndsWith(name, ".json")) return kJsonContentType;
  return kTextContentType;
}

Reply ServeReport(const std::string& reports_dir, absl::string_view name) {
  if (!IsValidReportName(name)) return TextReply(404, "no such report\n");
  const std::string path = absl::StrCat(reports_dir, "/", name);
  // lstat: a symlink in the reports directory is never followed.
  struct stat info;
  if (lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return TextReply(404, "no such report\n");
  }
  absl::StatusOr<std::string> contents = ReadFile(path, kMaxReportBytes);
  if (absl::IsNotFound(contents.status())) {
    return TextReply(404, "no such report\n");
  }
  if (!contents.ok()) {
    std::fprintf(stderr, "refsum-witness: serving report %s: %s\n",
                 path.c_str(),
                 std::string(contents.status().message()).c_str());
    return TextReply(500, "the report cannot be read\n");
  }
  Reply reply{200, ReportContentType(name), *std::move(contents), {}};
  reply.headers.emplace_back("Cache-Control", kReportCacheControl);
  if (reply.content_type == kHtmlContentType) {
    reply.headers.emplace_back("Content-Security-Policy",
                               kReportContentSecurityPolicy);
  }
  return reply;
}

// What the handlers read; shared by the worker threads and never changed.
struct Context {
  // <prefix>/add-checkpoint.
  std::string add_checkpoint_path;
  std::string reports_dir;
  Cosigner* cosigner;
};

// Returns the reply for a request, or nullopt for an add-checkpoint POST,
// whose body cpp-httplib must read first.
std::optional<Reply> Route(const Context& context, absl::string_view method,
                           absl::string_view target) {
  // The raw request target, not cpp-httplib's percent-decoded path, so that
  // each resource has exactly one spelling. A query string means nothing
  // here and is ignored.
  const absl::string_view path = target.substr(0, target.find('?'));
  if (path == context.add_checkpoint_path) {
    if (method != "POST") return MethodNotAllowed("POST");
    return std::nullopt;
  }
  if (absl::StartsWith(path, kReportsPath)) {
    if (method != "GET" && method != "HEAD") {
      return MethodNotAllowed("GET, HEAD");
    }
    return ServeReport(context.reports_dir,
                       path.substr(sizeof(kReportsPath) - 1));
  }
  return TextReply(404, "not found\n");
}

void SetResponse(Reply reply, httplib::Response& response) {
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) {
    response.set_header(name, value);
  }
  response.set_header("Content-Type", reply.content_type);
  response.set_header("X-Content-Type-Options", "nosniff");
  response.body = std::move(reply.body);
}

void AddCheckpoint(const Context& context, const httplib::Request& request,
                   httplib::Response& response) {
  http::AnswerOrFail(response, [&] {
    AddCheckpointResponse answer =
        context.cosigner->AddCheckpoint(request.body);
    if (answer.evidence) {
      std::fprintf(stderr,
                   "refsum-witness: add-checkpoint %d, possible log "
                   "misbehaviour: %s  request:\n%s\n",
                   answer.status, answer.body.c_str(), request.body.c_str());
    }
    if (!answer.error.ok()) {
      std::fprintf(stderr, "refsum-witness: add-checkpoint %d: %s\n",
                   answer.status, std::string(answer.error.message()).c_str());
    }
    SetResponse(Reply{answer.status,
                      std::move(answer.content_type),
                      std::move(answer.body),
                      {}},
                response);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, Cosigner* cosigner) {
  if (!IsValidSubmissionPrefix(options.submission_prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "submission prefix \"", options.submission_prefix,
        "\" must be empty or a path like /witness of [A-Za-z0-9._~/-]"));
  }
  auto context = std::make_shared<const Context>(
      Context{absl::StrCat(options.submission_prefix, tlog::kAddCheckpointPath),
              options.reports_dir, cosigner});
  http::BoundedServerOptions bounded;
  bounded.host = options.host;
  bounded.port = options.port;
  bounded.max_body_bytes = kMaxRequestBytes;
  bounded.tls = options.tls;
  ASSIGN_OR_RETURN(
      std::unique_ptr<http::BoundedServer> server,
      http::BoundedServer::Start(bounded, [&](httplib::Server& server) {
        // Every request but an add-checkpoint POST is answered here, before
        // cpp-httplib would read a body or match its handler regexes
        // (std::regex recurses once per character and can overflow the
        // stack on long paths).
        server.set_pre_routing_handler(
            [context](const httplib::Request& request,
                      httplib::Response& response) {
              bool handled = true;
              http::AnswerOrFail(response, [&] {
                std::optional<Reply> reply =
                    Route(*context, request.method, request.target);
                if (!reply.has_value()) {
                  handled = false;
                  return;
                }
                SetResponse(*std::move(reply), response);
              });
              return handled ? httplib::Server::HandlerResponse::Handled
                             : httplib::Server::HandlerResponse::Unhandled;
            });
        // Reached only for the exact add-checkpoint path (see Route), whose
        // characters need no escaping in a regex but '.'.
        server.Post(
            absl::StrReplaceAll(context->add_checkpoint_path, {{".", "\\."}}),
            [context](const httplib::Request& request,
                      httplib::Response& response) {
              AddCheckpoint(*context, request, response);
            });
      }));
  return absl::WrapUnique(new HttpServer(std::move(server)));
}

HttpServer::HttpServer(std::unique_ptr<http::BoundedServer> server)
    : server_(std::move(server)) {}

HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Shutdown() { server_->Shutdown(); }

}  // namespace refsum::witness
