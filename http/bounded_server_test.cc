#include "http/bounded_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refsum::http {
namespace {

// Serves GET /plain ("plain", no Cache-Control), GET /cached (with one),
// GET /throw (a handler that throws) and POST /post (echoes the body).
void AddTestHandlers(httplib::Server& server) {
  server.Get("/plain",
             [](const httplib::Request&, httplib::Response& response) {
               response.set_content("plain", "text/plain");
             });
  server.Get("/cached",
             [](const httplib::Request&, httplib::Response& response) {
               response.set_header("Cache-Control", "max-age=60");
               response.set_content("cached", "text/plain");
             });
  server.Get("/throw",
             [](const httplib::Request&, httplib::Response& response) {
               AnswerOrFail(response, [&] {
                 response.set_header("X-Partial", "yes");
                 response.set_content("partial", "text/plain");
                 throw std::runtime_error("secret details");
               });
             });
  server.Post("/post",
              [](const httplib::Request& request, httplib::Response& response) {
                response.set_content(request.body, "text/plain");
              });
}

std::unique_ptr<BoundedServer> StartOrDie(
    const BoundedServerOptions& options,
    absl::FunctionRef<void(httplib::Server&)> add_handlers = AddTestHandlers) {
  absl::StatusOr<std::unique_ptr<BoundedServer>> server =
      BoundedServer::Start(options, add_handlers);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

httplib::Client ClientFor(const BoundedServer& server) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(10, 0);
  return client;
}

TEST(BoundedServerTest, ServesTheCallersRoutesOneRequestPerConnection) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  httplib::Client client = ClientFor(*server);
  const httplib::Result plain = client.Get("/plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "plain");
  EXPECT_EQ(plain->get_header_value("Cache-Control"), kDefaultCacheControl);
  EXPECT_EQ(plain->get_header_value("Connection"), "close");

  const httplib::Result cached = client.Get("/cached");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->get_header_value("Cache-Control"), "max-age=60");
}

TEST(BoundedServerTest, CpphttplibsOwnAnswersAreNotCacheable) {
  BoundedServerOptions options;
  options.max_body_bytes = 4;
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  httplib::Client client = ClientFor(*server);
  const httplib::Result small = client.Post("/post", "1234", "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(small->body, "1234");
  const httplib::Result large = client.Post("/post", "12345", "text/plain");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  EXPECT_EQ(large->get_header_value("Cache-Control"), kDefaultCacheControl);
  const httplib::Result missing = client.Get("/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Cache-Control"), kDefaultCacheControl);
}

TEST(BoundedServerTest, AnswerOrFailTurnsAnExceptionIntoABare500) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  httplib::Client client = ClientFor(*server);
  const httplib::Result result = client.Get("/throw");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 500);
  EXPECT_EQ(result->body, "");
  EXPECT_FALSE(result->has_header("X-Partial"));
  for (const auto& [name, value] : result->headers) {
    EXPECT_EQ(value.find("secret"), std::string::npos) << name;
  }
}

TEST(BoundedServerTest, RefusesAPortAnotherServerListensOn) {
  const std::unique_ptr<BoundedServer> first = StartOrDie({});
  ASSERT_NE(first, nullptr);
  BoundedServerOptions options;
  options.port = first->port();
  const absl::StatusOr<std::unique_ptr<BoundedServer>> second =
      BoundedServer::Start(options, AddTestHandlers);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(BoundedServerTest, NoMoreRequestsRunAtOnceThanThereAreWorkers) {
  BoundedServerOptions options;
  options.worker_threads = 2;
  options.max_queued_connections = 1;
  absl::Mutex mu;
  int running = 0;
  int most_running = 0;
  const std::unique_ptr<BoundedServer> server =
      StartOrDie(options, [&](httplib::Server& http) {
        http.Get("/slow",
                 [&](const httplib::Request&, httplib::Response& response) {
                   {
                     absl::MutexLock lock(&mu);
                     most_running = std::max(most_running, ++running);
                   }
                   absl::SleepFor(absl::Milliseconds(50));
                   {
                     absl::MutexLock lock(&mu);
                     --running;
                   }
                   response.set_content("slow", "text/plain");
                 });
      });
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 8;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&server, &statuses, i] {
      httplib::Client client = ClientFor(*server);
      const httplib::Result result = client.Get("/slow");
      if (result) statuses[i] = result->status;
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(statuses[i], 200) << i;
  absl::MutexLock lock(&mu);
  EXPECT_GE(most_running, 1);
  EXPECT_LE(most_running, 2);
}

TEST(BoundedServerTest, IdleConnectionsAreClosedAfterTheIoTimeout) {
  BoundedServerOptions options;
  options.io_timeout = absl::Seconds(1);
  const std::unique_ptr<BoundedServer> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(socket, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(socket, reinterpret_cast<const sockaddr*>(&address),
                      sizeof(address)),
            0);
  const timeval client_timeout = {30, 0};
  ASSERT_EQ(setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &client_timeout,
                       sizeof(client_timeout)),
            0);
  const absl::Time start = absl::Now();
  char byte;
  EXPECT_EQ(::recv(socket, &byte, 1, 0), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ::close(socket);
}

TEST(BoundedServerTest, ShutdownStopsListeningAndIsIdempotent) {
  const std::unique_ptr<BoundedServer> server = StartOrDie({});
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Shutdown();
  server->Shutdown();
  EXPECT_EQ(server->port(), port);
  httplib::Client client = ClientFor(*server);
  EXPECT_FALSE(client.Get("/plain"));
}

}  // namespace
}  // namespace refsum::http
