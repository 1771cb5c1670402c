#include "log/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/metrics.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"
#include "tlog/tiles.h"

namespace refsum::log {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The tlog-tiles spec's example: 273 full level 0 tiles and one of width
// 112, one full level 1 tile and one of width 17, one level 2 tile of width
// 1.
constexpr uint64_t kTreeSize = 70000;
// A smaller checkpoint of the same tree, to see tiles appear as it grows.
constexpr uint64_t kSmallTreeSize = 1000;
constexpr char kOrigin[] = "example.com/refsum-test";

std::string Leaf(uint64_t index) { return absl::StrCat("leaf ", index); }

// Returns the checkpoint note the test log "signed" for `checkpoint`; the
// server passes it through untouched.
std::string Note(const tlog::Checkpoint& checkpoint) {
  return absl::StrCat(*tlog::FormatCheckpointBody(checkpoint), "\n",
                      "\xe2\x80\x94 ", kOrigin, " c2lnbmF0dXJl\n");
}

// The newest checkpoint, as the sequencer would publish it.
class Checkpoints {
 public:
  void Set(std::shared_ptr<const SignedCheckpoint> latest) {
    absl::MutexLock lock(&mu_);
    latest_ = std::move(latest);
  }

  CheckpointSource Source() {
    return [this] {
      absl::MutexLock lock(&mu_);
      return latest_;
    };
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<const SignedCheckpoint> latest_ ABSL_GUARDED_BY(mu_);
};

class HttpServerTest : public ::testing::Test {
 protected:
  // Stores a tree of kTreeSize leaves, keeping every node hash by level to
  // check the tiles against, and the checkpoints at kSmallTreeSize and
  // kTreeSize.
  static void SetUpTestSuite() {
    const char* tmpdir = std::getenv("TEST_TMPDIR");
    ASSERT_NE(tmpdir, nullptr);
    absl::StatusOr<std::unique_ptr<Storage>> storage =
        Storage::Open(absl::StrCat(tmpdir, "/log"));
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = storage->release();
    nodes_ = new std::vector<std::vector<tlog::Hash>>();

    tlog::CompactRange range;
    Batch batch;
    const tlog::CompactRange::NodeCallback keep_node =
        [&batch](const tlog::NodeId& id, const tlog::Hash& hash) {
          if (nodes_->size() <= id.level) nodes_->resize(id.level + 1);
          // Nodes complete left to right within each level.
          ASSERT_EQ((*nodes_)[id.level].size(), id.index);
          (*nodes_)[id.level].push_back(hash);
          batch.nodes.emplace_back(id, hash);
        };
    for (uint64_t index = 0; index < kTreeSize; ++index) {
      const std::string leaf = Leaf(index);
      const tlog::Hash leaf_hash = tlog::HashLeaf(leaf);
      batch.entries.push_back(StoredEntry{index, leaf, leaf_hash, {}});
      ASSERT_TRUE(range.AppendLeaf(leaf_hash, keep_node).ok());
      const uint64_t size = index + 1;
      if (size == kSmallTreeSize || size == kTreeSize) {
        const tlog::Checkpoint checkpoint{kOrigin, size, *range.Root(), {}};
        auto signed_checkpoint = std::make_shared<SignedCheckpoint>(
            SignedCheckpoint{checkpoint, Note(checkpoint)});
        (size == kTreeSize ? large_ : small_) =
            new std::shared_ptr<const SignedCheckpoint>(
                std::move(signed_checkpoint));
      }
      if (size % 10000 == 0 || size == kTreeSize) {
        batch.checkpoint = absl::StrCat("checkpoint at ", size);
        ASSERT_TRUE(storage_->Write(batch).ok());
        batch = Batch();
      }
    }
  }

  static void TearDownTestSuite() {
    delete storage_;
    delete nodes_;
    delete small_;
    delete large_;
  }

  void SetUp() override {
    ASSERT_NE(large_, nullptr) << "the test tree was not built";
    checkpoints_.Set(*large_);
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        "127.0.0.1", 0, storage_, checkpoints_.Source(), &metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->port());
    return client.Get(path.c_str());
  }

  // Returns the expected bytes of tile (level, index) of width `width`.
  static std::string TileHashes(uint32_t level, uint64_t index,
                                uint32_t width) {
    const std::vector<tlog::Hash>& hashes =
        (*nodes_)[level * tlog::kTileHeight];
    std::string bytes;
    for (uint64_t i = index * tlog::kTileWidth;
         i < index * tlog::kTileWidth + width; ++i) {
      bytes.append(reinterpret_cast<const char*>(hashes[i].data()),
                   hashes[i].size());
    }
    return bytes;
  }

  static std::vector<std::string> Leaves(uint64_t first, uint64_t count) {
    std::vector<std::string> leaves;
    for (uint64_t i = first; i < first + count; ++i) leaves.push_back(Leaf(i));
    return leaves;
  }

  // Waits until /metrics contains `text`: cpp-httplib counts a response
  // after writing it, so the client can be faster than the count.
  void ExpectMetricsEventuallyContain(const std::string& text) {
    std::string body;
    for (int attempt = 0; attempt < 500; ++attempt) {
      const httplib::Result result = Get("/metrics");
      ASSERT_TRUE(result);
      body = result->body;
      if (absl::StrContains(body, text)) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
    ADD_FAILURE() << "/metrics never contained " << text << ":\n" << body;
  }

  static Storage* storage_;
  static std::vector<std::vector<tlog::Hash>>* nodes_;
  static std::shared_ptr<const SignedCheckpoint>* small_;
  static std::shared_ptr<const SignedCheckpoint>* large_;

  Checkpoints checkpoints_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

Storage* HttpServerTest::storage_ = nullptr;
std::vector<std::vector<tlog::Hash>>* HttpServerTest::nodes_ = nullptr;
std::shared_ptr<const SignedCheckpoint>* HttpServerTest::small_ = nullptr;
std::shared_ptr<const SignedCheckpoint>* HttpServerTest::large_ = nullptr;

TEST_F(HttpServerTest, ServesTheNewestCheckpoint) {
  const httplib::Result result = Get("/checkpoint");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, (*large_)->note);
  EXPECT_EQ(result->get_header_value("Content-Type"),
            "text/plain; charset=utf-8");
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(result->get_header_value("Connection"), "close");

  const httplib::Result with_query = Get("/checkpoint?cache=bust");
  ASSERT_TRUE(with_query);
  EXPECT_EQ(with_query->body, (*large_)->note);

  checkpoints_.Set(*small_);
  const httplib::Result older = Get("/checkpoint");
  ASSERT_TRUE(older);
  EXPECT_EQ(older->body, (*small_)->note);
}

TEST_F(HttpServerTest, ServesFullTiles) {
  const struct {
    const char* path;
    uint32_t level;
    uint64_t index;
  } kCases[] = {
      {"/tile/0/000", 0, 0},
      {"/tile/0/001", 0, 1},
      {"/tile/0/272", 0, 272},
      {"/tile/1/000", 1, 0},
  };
  for (const auto& c : kCases) {
    const httplib::Result result = Get(c.path);
    ASSERT_TRUE(result) << c.path;
    EXPECT_EQ(result->status, 200) << c.path << ": " << result->body;
    EXPECT_EQ(result->body, TileHashes(c.level, c.index, tlog::kTileWidth))
        << c.path;
    EXPECT_EQ(result->body.size(), 8192u) << c.path;
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "application/octet-stream");
    EXPECT_EQ(result->get_header_value("Cache-Control"),
              "public, max-age=31536000, immutable");
  }
}

TEST_F(HttpServerTest, ServesPartialTiles) {
  const struct {
    const char* path;
    uint32_t level;
    uint64_t index;
    uint32_t width;
  } kCases[] = {
      {"/tile/0/273.p/112", 0, 273, 112},
      {"/tile/1/001.p/17", 1, 1, 17},
      {"/tile/2/000.p/1", 2, 0, 1},
      // Narrower than the tile is now: the tile's first hashes, as they
      // were when a smaller tree's checkpoint needed them.
      {"/tile/0/273.p/5", 0, 273, 5},
      {"/tile/0/000.p/255", 0, 0, 255},
      {"/tile/1/000.p/3", 1, 0, 3},
  };
  for (const auto& c : kCases) {
    const httplib::Result result = Get(c.path);
    ASSERT_TRUE(result) << c.path;
    EXPECT_EQ(result->status, 200) << c.path << ": " << result->body;
    EXPECT_EQ(result->body, TileHashes(c.level, c.index, c.width)) << c.path;
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "application/octet-stream");
    EXPECT_EQ(result->get_header_value("Cache-Control"), "public, max-age=60");
  }
}

TEST_F(HttpServerTest, ServesEntryBundles) {
  const struct {
    const char* path;
    uint64_t first;
    uint64_t count;
  } kCases[] = {
      {"/tile/entries/000", 0, 256},
      {"/tile/entries/272", 272 * 256, 256},
      {"/tile/entries/273.p/112", 273 * 256, 112},
      {"/tile/entries/001.p/1", 256, 1},
  };
  for (const auto& c : kCases) {
    const httplib::Result result = Get(c.path);
    ASSERT_TRUE(result) << c.path;
    EXPECT_EQ(result->status, 200) << c.path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "application/octet-stream");
    const absl::StatusOr<std::vector<std::string>> entries =
        tlog::ParseEntryBundle(result->body);
    ASSERT_TRUE(entries.ok()) << c.path << ": " << entries.status();
    EXPECT_EQ(*entries, Leaves(c.first, c.count)) << c.path;
  }
}

TEST_F(HttpServerTest, TilesBeyondTheTreeAreNotFound) {
  for (const char* path : {
           // Partial in the tree, so not there as a full tile.
           "/tile/0/273",
           "/tile/1/001",
           "/tile/2/000",
           "/tile/entries/273",
           // Wider than the tile is in the tree.
           "/tile/0/273.p/113",
           "/tile/1/001.p/18",
           "/tile/entries/273.p/113",
           // Past the end of the tree.
           "/tile/0/274.p/1",
           "/tile/0/x001/000",
           "/tile/3/000.p/1",
           "/tile/63/000.p/1",
           "/tile/entries/x018/x446/x744/x073/x709/x551/615",
       }) {
    const httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store") << path;
  }
}

TEST_F(HttpServerTest, TilesAppearAsTheTreeGrows) {
  checkpoints_.Set(*small_);
  // 1000 leaves: 3 full level 0 tiles and one of width 232; level 1 has 3.
  EXPECT_EQ(Get("/tile/0/002")->status, 200);
  EXPECT_EQ(Get("/tile/0/003")->status, 404);
  EXPECT_EQ(Get("/tile/0/003.p/232")->status, 200);
  EXPECT_EQ(Get("/tile/0/003.p/233")->status, 404);
  EXPECT_EQ(Get("/tile/1/000.p/3")->status, 200);
  EXPECT_EQ(Get("/tile/1/000.p/4")->status, 404);
  EXPECT_EQ(Get("/tile/entries/003.p/232")->status, 200);
  EXPECT_EQ(Get("/tile/entries/003")->status, 404);

  checkpoints_.Set(*large_);
  const httplib::Result full = Get("/tile/0/003");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body, TileHashes(0, 3, tlog::kTileWidth));
  const httplib::Result partial = Get("/tile/0/003.p/232");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 200);
  EXPECT_EQ(partial->body, TileHashes(0, 3, 232));
  EXPECT_EQ(Get("/tile/1/000.p/4")->status, 200);
}

TEST_F(HttpServerTest, MalformedTilePathsAreBadRequests) {
  const std::string long_path = "/tile/0/" + std::string(7000, 'x');
  for (const std::string& path : std::vector<std::string>{
           "/tile/0/1",
           "/tile/00/001",
           "/tile/0/x000/001",
           "/tile/0/0.p/256",
           "/tile/0/000.p/256",
           "/tile/0/0.p/0",
           "/tile/0/000.p/0",
           "/tile/0/000.p/01",
           "/tile/0/000.p/",
           "/tile/0/000/",
           "/tile/0//000",
           "/tile/64/000",
           "/tile/-1/000",
           "/tile/0/x001",
           "/tile/entries/000.p/256",
           "/tile/entries/x000/001",
           "/tile/",
           "/tile/0",
           "/tile/0/%30%30%30",
           "/tile/0/18446744073709551616",
           "/tile/0/x018/x446/x744/x073/x709/x551/616",
           long_path,
       }) {
    const httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 400) << path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; charset=utf-8");
  }
}

TEST_F(HttpServerTest, UnknownPathsAreNotFound) {
  for (const char* path : {"/", "/checkpoint/", "/Checkpoint", "/tiles/0/000",
                           "/checkpoint.txt", "/metrics/x", "/%63heckpoint"}) {
    const httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
  }
}

TEST_F(HttpServerTest, OnlyGetAndHeadAreAllowed) {
  httplib::Client client("127.0.0.1", server_->port());
  const httplib::Result head = client.Head("/checkpoint");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->get_header_value("Content-Length"),
            absl::StrCat((*large_)->note.size()));

  const httplib::Result post = client.Post("/checkpoint", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  const httplib::Result put = client.Put("/tile/0/000", "", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  const httplib::Result remove = client.Delete("/metrics");
  ASSERT_TRUE(remove);
  EXPECT_EQ(remove->status, 405);
  // The server still answers.
  EXPECT_EQ(Get("/checkpoint")->status, 200);
}

TEST_F(HttpServerTest, WithoutACheckpointNothingIsServedYet) {
  checkpoints_.Set(nullptr);
  EXPECT_EQ(Get("/checkpoint")->status, 503);
  EXPECT_EQ(Get("/tile/0/000")->status, 503);
  EXPECT_EQ(Get("/tile/0/000.p/1")->status, 503);
}

TEST_F(HttpServerTest, ServesMetricsCountingResponsesByCode) {
  EXPECT_EQ(Get("/checkpoint")->status, 200);
  EXPECT_EQ(Get("/tile/0/1")->status, 400);
  EXPECT_EQ(Get("/nothing")->status, 404);
  httplib::Client client("127.0.0.1", server_->port());
  EXPECT_EQ(client.Post("/checkpoint", "", "text/plain")->status, 405);

  ExpectMetricsEventuallyContain(
      "refsum_log_http_requests_total{code=\"405\"} 1\n");
  const httplib::Result result = Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(result->get_header_value("Content-Type"),
              StartsWith("text/plain; version=0.0.4"));
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
  EXPECT_THAT(result->body,
              HasSubstr("refsum_log_http_requests_total{code=\"400\"} 1\n"));
  EXPECT_THAT(result->body,
              HasSubstr("refsum_log_http_requests_total{code=\"404\"} 1\n"));
  EXPECT_THAT(result->body,
              HasSubstr("# TYPE refsum_log_batch_entries histogram\n"));
}

TEST_F(HttpServerTest, ResponsesTheLibraryWritesAreCountedAndUncached) {
  // Longer than cpp-httplib's 8 KiB limit on the request line.
  const httplib::Result result = Get("/tile/" + std::string(9000, '0'));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 414);
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
  ExpectMetricsEventuallyContain(
      "refsum_log_http_requests_total{code=\"414\"} 1\n");
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(socket, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(socket, reinterpret_cast<const sockaddr*>(&address),
                      sizeof(address)),
            0);
  // A client that never sends: the server must hang up by itself, after a
  // 408 (http/bounded_server.h's request timeout, 10 s). The client's
  // timeout is only a hang guard: recv then fails instead of reading 0.
  const timeval client_timeout = {120, 0};
  ASSERT_EQ(setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &client_timeout,
                       sizeof(client_timeout)),
            0);
  std::string received;
  char buffer[512];
  ssize_t n = 0;
  while ((n = ::recv(socket, buffer, sizeof(buffer), 0)) > 0) {
    received.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_EQ(n, 0) << "the server did not close the connection";
  EXPECT_EQ(received.rfind("HTTP/1.1 408 ", 0), 0u) << received;
  ::close(socket);
}

TEST_F(HttpServerTest, ServesManyClientsAtOnce) {
  // More clients than worker threads, so that connections queue.
  constexpr int kClients = 40;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::string> bodies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([this, i, &statuses, &bodies] {
      const httplib::Result result = Get(absl::StrCat("/tile/0/", 100 + i));
      if (!result) return;
      statuses[i] = result->status;
      bodies[i] = result->body;
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(bodies[i], TileHashes(0, 100 + i, tlog::kTileWidth)) << i;
  }
}

TEST_F(HttpServerTest, ShutdownIsIdempotentAndStopsServing) {
  const int port = server_->port();
  server_->Shutdown();
  server_->Shutdown();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  EXPECT_FALSE(client.Get("/checkpoint"));
}

TEST_F(HttpServerTest, StartFailsOnAPortInUse) {
  const absl::StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Start(
      "127.0.0.1", server_->port(), storage_, checkpoints_.Source(), &metrics_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace refsum::log
