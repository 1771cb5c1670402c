#include "witness/http_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "witness/protocol.h"

namespace refsum::witness {
namespace {

// The limits documented in http_server.h.
constexpr size_t kWorkerThreads = 16;
constexpr size_t kMaxQueuedConnections = 64;
constexpr int kListenBacklog = 256;
constexpr time_t kIoTimeoutSeconds = 5;
constexpr size_t kMaxReportNameLength = 255;

constexpr char kReportsPath[] = "/reports/";

constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHtmlContentType[] = "text/html; charset=utf-8";
constexpr char kJsonContentType[] = "application/json";

// A cosignature or an error must never be served from a cache.
constexpr char kDefaultCacheControl[] = "no-store";
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

// cpp-httplib is built with exceptions, and answers one that escapes a
// handler with a 500 carrying the exception's text in a header. The only
// one this code can raise is std::bad_alloc.
template <typename Handler>
void AnswerOrFail(httplib::Response& response, Handler handler) {
  try {
    handler();
  } catch (...) {
    response.status = 500;
    response.headers.clear();
    response.body.clear();
  }
}

void AddCheckpoint(const Context& context, const httplib::Request& request,
                   httplib::Response& response) {
  AnswerOrFail(response, [&] {
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
    const HttpServerOptions& options, Cosigner* cosigner) {
  if (!IsValidSubmissionPrefix(options.submission_prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "submission prefix \"", options.submission_prefix,
        "\" must be empty or a path like /witness of [A-Za-z0-9._~/-]"));
  }
  auto context = std::make_shared<const Context>(
      Context{absl::StrCat(options.submission_prefix, kAddCheckpointPath),
              options.reports_dir, cosigner});
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
  server.set_payload_max_length(kMaxRequestBytes);
  // Instead of cpp-httplib's default SO_REUSEPORT, which would let a second
  // server bind the same port and silently take half of the connections.
  // SO_REUSEADDR still lets a restarted witness listen while connections of
  // the previous one linger in TIME_WAIT.
  server.set_socket_options([listener = listener.get()](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listener->socket = socket;
  });
  // Every request but an add-checkpoint POST is answered here, before
  // cpp-httplib would read a body or match its handler regexes (std::regex
  // recurses once per character and can overflow the stack on long paths).
  server.set_pre_routing_handler(
      [context](const httplib::Request& request, httplib::Response& response) {
        bool handled = true;
        AnswerOrFail(response, [&] {
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
      [context](const httplib::Request& request, httplib::Response& response) {
        AddCheckpoint(*context, request, response);
      });
  // Runs for every response, also those cpp-httplib writes itself (400 for
  // an unparsable request, 413, 414).
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
  // cpp-httplib listens with a backlog of 5; Linux lets listen() on a
  // listening socket raise it. Should that fail, the server still works,
  // with the small backlog.
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
        absl::StrCat("HTTP server on ", options.host, ":", bound_port,
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

}  // namespace refsum::witness
