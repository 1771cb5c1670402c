#include "http/bounded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/thread_pool.h"

namespace refsum::http {
namespace {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

// The text of OpenSSL's oldest queued error, clearing the queue.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

absl::StatusOr<SslCtxPtr> NewServerContext(
    const TlsServerCredentials& credentials) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (ctx == nullptr) return absl::InternalError(OpenSslError());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // The certificate chain: the first PEM block is the server's certificate,
  // further ones its intermediates.
  std::unique_ptr<BIO, BioDeleter> chain(
      BIO_new_mem_buf(credentials.certificate_chain_pem.data(),
                      static_cast<int>(credentials.certificate_chain_pem.size())));
  std::unique_ptr<X509, X509Deleter> leaf(
      PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  if (leaf == nullptr || SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS certificate is not a PEM certificate: ", OpenSslError()));
  }
  for (;;) {
    std::unique_ptr<X509, X509Deleter> intermediate(
        PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
    if (intermediate == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx.get(), intermediate.get()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the TLS certificate chain: ", OpenSslError()));
    }
    intermediate.release();  // Owned by ctx now.
  }
  ERR_clear_error();  // The end of the chain.
  std::unique_ptr<BIO, BioDeleter> key_bio(
      BIO_new_mem_buf(credentials.private_key_pem.data(),
                      static_cast<int>(credentials.private_key_pem.size())));
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS key is not an unencrypted PEM private key: ",
        OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS key does not belong to the TLS certificate: ",
        OpenSslError()));
  }
  return ctx;
}

constexpr char kHeaderEnd[] = "\r\n\r\n";

// One accepted connection: its socket (non-blocking), TLS state, and what
// the gate read of the request. Closes the socket when destroyed.
struct Connection {
  Connection(int fd, absl::Time accepted, const BoundedServerOptions& options)
      : fd(fd),
        read_deadline(accepted + options.request_timeout),
        write_deadline(accepted + options.connection_timeout) {}
  ~Connection() {
    if (ssl != nullptr && handshake_done) SSL_shutdown(ssl.get());
    ssl.reset();
    ERR_clear_error();
    close(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const int fd;
  const absl::Time read_deadline;
  const absl::Time write_deadline;
  SslPtr ssl;  // Null for plain HTTP.
  bool handshake_done = false;
  // Received bytes not yet handed to cpp-httplib: the header and possibly
  // the start of the body.
  std::string received;
  size_t consumed = 0;
  // What the gate waits for: POLLIN or POLLOUT.
  short events = POLLIN;
};

// Waits until `connection` is ready for `events`, at most io_timeout and
// until `deadline`. False when the time is up or poll fails.
bool WaitFor(const Connection& connection, short events,
             absl::Duration io_timeout, absl::Time deadline) {
  for (;;) {
    const absl::Duration left = std::min(io_timeout, deadline - absl::Now());
    if (left <= absl::ZeroDuration()) return false;
    pollfd entry = {connection.fd, events, 0};
    const int ready = poll(&entry, 1,
                           static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

// The outcome of one non-blocking read or write attempt.
enum class Io { kDone, kWantRead, kWantWrite, kClosed, kFailed };

// The outcome of SSL_read or SSL_write on `ssl` that returned `n`.
Io SslOutcome(SSL* ssl, int n, size_t* count) {
  if (n > 0) {
    *count = static_cast<size_t>(n);
    return Io::kDone;
  }
  switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kClosed;
    default:
      ERR_clear_error();
      return Io::kFailed;
  }
}

// At most this much per SSL_read or SSL_write, whose lengths are ints.
constexpr size_t kMaxSslChunk = size_t{1} << 30;

// Reads what is available into `out` (up to `size` bytes). `*count` is
// the number read when kDone.
Io ReadSome(Connection& connection, char* out, size_t size, size_t* count) {
  if (connection.ssl != nullptr) {
    return SslOutcome(connection.ssl.get(),
                      SSL_read(connection.ssl.get(), out,
                               static_cast<int>(std::min(size, kMaxSslChunk))),
                      count);
  }
  for (;;) {
    const ssize_t n = recv(connection.fd, out, size, 0);
    if (n > 0) {
      *count = static_cast<size_t>(n);
      return Io::kDone;
    }
    if (n == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWantRead;
    return Io::kFailed;
  }
}

Io WriteSome(Connection& connection, const char* data, size_t size,
             size_t* count) {
  if (connection.ssl != nullptr) {
    return SslOutcome(connection.ssl.get(),
                      SSL_write(connection.ssl.get(), data,
                                static_cast<int>(std::min(size, kMaxSslChunk))),
                      count);
  }
  for (;;) {
    const ssize_t n = send(connection.fd, data, size, MSG_NOSIGNAL);
    if (n >= 0) {
      *count = static_cast<size_t>(n);
      return Io::kDone;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWantWrite;
    return Io::kFailed;
  }
}

void AddressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address = {};
  socklen_t length = sizeof(address);
  const int result =
      peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
           : getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (result != 0) return;
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host,
                  sizeof(host), service, sizeof(service),
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// What cpp-httplib reads the request from and writes the response to: the
// bytes the gate received first, then the socket, every wait bounded by
// io_timeout and the connection's deadlines.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(Connection& connection, absl::Duration io_timeout)
      : connection_(connection), io_timeout_(io_timeout) {}

  bool is_readable() const override {
    return connection_.consumed < connection_.received.size() ||
           (connection_.ssl != nullptr &&
            SSL_pending(connection_.ssl.get()) > 0) ||
           WaitFor(connection_, POLLIN, io_timeout_,
                   connection_.read_deadline);
  }

  bool is_writable() const override {
    return WaitFor(connection_, POLLOUT, io_timeout_,
                   connection_.write_deadline);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (connection_.consumed < connection_.received.size()) {
      const size_t n =
          std::min(size, connection_.received.size() - connection_.consumed);
      std::copy_n(connection_.received.data() + connection_.consumed, n, ptr);
      connection_.consumed += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      size_t count = 0;
      switch (ReadSome(connection_, ptr, size, &count)) {
        case Io::kDone:
          return static_cast<ssize_t>(count);
        case Io::kClosed:
          return 0;
        case Io::kWantRead:
          if (!WaitFor(connection_, POLLIN, io_timeout_,
                       connection_.read_deadline)) {
            return -1;
          }
          break;
        case Io::kWantWrite:
          if (!WaitFor(connection_, POLLOUT, io_timeout_,
                       connection_.read_deadline)) {
            return -1;
          }
          break;
        case Io::kFailed:
          return -1;
      }
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    for (;;) {
      size_t count = 0;
      switch (WriteSome(connection_, ptr, size, &count)) {
        case Io::kDone:
          return static_cast<ssize_t>(count);
        case Io::kWantRead:
          if (!WaitFor(connection_, POLLIN, io_timeout_,
                       connection_.write_deadline)) {
            return -1;
          }
          break;
        case Io::kWantWrite:
          if (!WaitFor(connection_, POLLOUT, io_timeout_,
                       connection_.write_deadline)) {
            return -1;
          }
          break;
        case Io::kClosed:
        case Io::kFailed:
          return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(connection_.fd, /*peer=*/true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(connection_.fd, /*peer=*/false, ip, port);
  }
  int socket() const override { return connection_.fd; }

 private:
  Connection& connection_;
  const absl::Duration io_timeout_;
};

// Runs every task at once, on the accept loop's thread: the server's
// process_and_close_socket only hands the socket to the gate.
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> task) override { task(); }
  void shutdown() override {}
};

// The httplib::Server whose connections go through the gate to the workers.
class GatedServer : public httplib::Server {
 public:
  GatedServer(const BoundedServerOptions& options, SslCtxPtr ssl_ctx)
      : options_(options),
        ssl_ctx_(std::move(ssl_ctx)),
        workers_(std::make_unique<ThreadPool>(options.worker_threads)) {
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
    new_task_queue = [] { return new InlineTaskQueue; };
    gate_ = std::thread([this] { RunGate(); });
  }

  ~GatedServer() override { StopGateAndWorkers(); }

  bool gate_ok() const { return wake_[0] >= 0; }

  // Closes the connections still waiting for their header, then finishes
  // those handed to workers and joins them. Idempotent; call once the
  // accept loop has ended.
  void StopGateAndWorkers() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    Wake();
    if (gate_.joinable()) gate_.join();
    workers_.reset();
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
  }

 private:
  // Called on the accept loop's thread for each accepted socket.
  bool process_and_close_socket(int sock) override {
    if (live_.fetch_add(1) >= options_.max_connections) {
      live_.fetch_sub(1);
      close(sock);
      return false;
    }
    const int flags = fcntl(sock, F_GETFL);
    fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    auto connection = std::make_unique<Connection>(sock, absl::Now(), options_);
    if (ssl_ctx_ != nullptr) {
      connection->ssl.reset(SSL_new(ssl_ctx_.get()));
      if (connection->ssl == nullptr ||
          SSL_set_fd(connection->ssl.get(), sock) != 1) {
        ERR_clear_error();
        Release(std::move(connection));
        return false;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      incoming_.push_back(std::move(connection));
    }
    Wake();
    return true;
  }

  void Wake() {
    const char byte = 0;
    if (wake_[1] >= 0) (void)!::write(wake_[1], &byte, 1);
  }

  // Closes `connection` and frees its slot.
  void Release(std::unique_ptr<Connection> connection) {
    connection.reset();
    live_.fetch_sub(1);
  }

  // Answers `status` (408 or 431) on a connection the gate gives up on, as
  // far as the socket takes it without waiting, and closes it.
  void Refuse(std::unique_ptr<Connection> connection, int status) {
    if (connection->ssl == nullptr || connection->handshake_done) {
      const std::string response = absl::StrCat(
          "HTTP/1.1 ", status,
          status == 408 ? " Request Timeout" : " Request Header Fields Too Large",
          "\r\nContent-Length: 0\r\nCache-Control: ", kDefaultCacheControl,
          "\r\nConnection: close\r\n\r\n");
      size_t count = 0;
      WriteSome(*connection, response.data(), response.size(), &count);
    }
    Release(std::move(connection));
  }

  // Advances the handshake and reads what has arrived. Returns true when
  // the connection is done with the gate: handed to a worker, or closed.
  bool Advance(std::unique_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.ssl != nullptr && !c.handshake_done) {
      const int result = SSL_accept(c.ssl.get());
      if (result != 1) {
        switch (SSL_get_error(c.ssl.get(), result)) {
          case SSL_ERROR_WANT_READ:
            c.events = POLLIN;
            return false;
          case SSL_ERROR_WANT_WRITE:
            c.events = POLLOUT;
            return false;
          default:
            // Not TLS, or a client that does not trust the certificate.
            ERR_clear_error();
            Release(std::move(connection));
            return true;
        }
      }
      c.handshake_done = true;
    }
    char buffer[4096];
    for (;;) {
      size_t count = 0;
      switch (ReadSome(c, buffer, sizeof(buffer), &count)) {
        case Io::kDone: {
          const size_t searched_from =
              c.received.size() < 3 ? 0 : c.received.size() - 3;
          c.received.append(buffer, count);
          const size_t end = c.received.find(kHeaderEnd, searched_from);
          if (end != std::string::npos &&
              end + 4 <= options_.max_header_bytes) {
            Dispatch(std::move(connection));
            return true;
          }
          if (c.received.size() > options_.max_header_bytes) {
            Refuse(std::move(connection), 431);
            return true;
          }
          break;
        }
        case Io::kWantRead:
          c.events = POLLIN;
          return false;
        case Io::kWantWrite:
          c.events = POLLOUT;
          return false;
        case Io::kClosed:
        case Io::kFailed:
          Release(std::move(connection));
          return true;
      }
    }
  }

  // Hands a connection whose header has arrived to a worker.
  void Dispatch(std::unique_ptr<Connection> connection) {
    workers_->Schedule(
        [this, shared = std::shared_ptr<Connection>(
                   std::move(connection))]() mutable {
          {
            ConnectionStream stream(*shared, options_.io_timeout);
            bool closed = false;
            process_request(stream, /*close_connection=*/true, closed,
                            [&shared](httplib::Request& request) {
                              request.ssl = shared->ssl.get();
                            });
          }
          shared.reset();
          live_.fetch_sub(1);
        });
  }

  void RunGate() {
    std::list<std::unique_ptr<Connection>> waiting;
    std::vector<pollfd> polled;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
        for (auto& connection : incoming_) {
          waiting.push_back(std::move(connection));
        }
        incoming_.clear();
      }
      // Time out the connections whose request did not arrive in time.
      const absl::Time now = absl::Now();
      absl::Time next_deadline = absl::InfiniteFuture();
      for (auto it = waiting.begin(); it != waiting.end();) {
        if ((*it)->read_deadline <= now) {
          Refuse(std::move(*it), 408);
          it = waiting.erase(it);
        } else {
          next_deadline = std::min(next_deadline, (*it)->read_deadline);
          ++it;
        }
      }
      polled.assign(1, pollfd{wake_[0], POLLIN, 0});
      for (const auto& connection : waiting) {
        polled.push_back(pollfd{connection->fd, connection->events, 0});
      }
      const int timeout_ms =
          next_deadline == absl::InfiniteFuture()
              ? -1
              : static_cast<int>(
                    absl::ToInt64Milliseconds(next_deadline - now)) + 1;
      const int ready = poll(polled.data(), polled.size(), timeout_ms);
      if (ready < 0) continue;  // EINTR; nothing else can fail here.
      if (polled[0].revents != 0) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof(drain)) > 0) {
        }
      }
      size_t i = 1;
      for (auto it = waiting.begin(); it != waiting.end(); ++i) {
        if (polled[i].revents != 0 && Advance(*it)) {
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& connection : waiting) Release(std::move(connection));
    absl::MutexLock lock(&mu_);
    for (auto& connection : incoming_) Release(std::move(connection));
    incoming_.clear();
  }

  const BoundedServerOptions options_;
  const SslCtxPtr ssl_ctx_;
  // Connections accepted and not yet closed.
  std::atomic<size_t> live_{0};
  // wake_[1] is written to wake the gate from poll.
  int wake_[2] = {-1, -1};
  absl::Mutex mu_;
  // Accepted, not yet seen by the gate.
  std::vector<std::unique_ptr<Connection>> incoming_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Null once stopped; its destructor runs the dispatched connections.
  std::unique_ptr<ThreadPool> workers_;
  std::thread gate_;
};

absl::Status CheckOptions(const BoundedServerOptions& options) {
  if (options.worker_threads < 1 || options.max_connections < 1 ||
      options.max_header_bytes < 64 ||
      options.request_timeout <= absl::ZeroDuration() ||
      options.io_timeout <= absl::ZeroDuration() ||
      options.connection_timeout < options.request_timeout) {
    return absl::InvalidArgumentError(
        "HTTP server limits out of range: workers, connections and timeouts "
        "must be positive, the header limit at least 64 bytes, and the "
        "connection timeout at least the request timeout");
  }
  return absl::OkStatus();
}

}  // namespace

struct BoundedServer::Listener {
  explicit Listener(const BoundedServerOptions& options, SslCtxPtr ssl_ctx)
      : server(options, std::move(ssl_ctx)) {}
  GatedServer server;
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
  if (absl::Status status = CheckOptions(options); !status.ok()) {
    return status;
  }
  SslCtxPtr ssl_ctx;
  if (options.tls != nullptr) {
    absl::StatusOr<SslCtxPtr> ctx = NewServerContext(*options.tls);
    if (!ctx.ok()) return ctx.status();
    ssl_ctx = *std::move(ctx);
  }
  auto listener = std::make_unique<Listener>(options, std::move(ssl_ctx));
  GatedServer& server = listener->server;
  if (!server.gate_ok()) {
    return absl::InternalError("cannot create the HTTP server's wake pipe");
  }
  // cpp-httplib's own limits, for what reaches it: the payload limit is
  // checked against Content-Length and chunked bodies.
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
  listener_->server.StopGateAndWorkers();
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
