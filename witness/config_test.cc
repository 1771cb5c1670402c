#include "witness/config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "client/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::witness {
namespace {

using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::NewTestWitness;
using ::refsum::client::testing::TestLog;
using ::refsum::client::testing::TestWitness;
using ::testing::HasSubstr;

constexpr char kPath[] = "/etc/refsum/witness.conf";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(TestLog log, TestLog::Create("log.example.org/a"));
    ASSERT_OK_AND_ASSIGN(TestLog other, TestLog::Create("log.example.org/b"));
    vkey_a_ = log.vkey();
    vkey_b_ = other.vkey();
  }

  // A valid configuration with every required line, on lines 1 to 7.
  std::string Minimal() const {
    return absl::StrCat(
        "name witness.example.org/w1\n"        // 1
        "cosign_key keys/cosign.key\n"         // 2
        "rebuild_key keys/rebuild.key\n"       // 3
        "http_addr 127.0.0.1:7380\n"           // 4
        "state_dir /var/lib/refsum-witness\n"  // 5
        "log log.example.org/a ",
        vkey_a_, " 127.0.0.1:7300\n",  // 6
        "# end\n");                    // 7
  }

  // Expects `text` to fail with "kPath:line: <something containing want>".
  void ExpectLineError(const std::string& text, int line,
                       const std::string& want) const {
    const absl::StatusOr<WitnessConfig> config = ParseConfig(text, kPath);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(config.status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat(kPath, ":", line, ": ")))
        << text;
    EXPECT_THAT(message, HasSubstr(want)) << text;
  }

  std::string vkey_a_;
  std::string vkey_b_;
};

TEST_F(ConfigTest, ParsesEveryKeyword) {
  const std::string text = absl::StrCat(
      "# A witness.\n"
      "\n"
      "  name\twitness.example.org/w1  \n"
      "cosign_key keys/cosign.key\n"
      "rebuild_key /secure/rebuild.key\n"
      "http_addr 0.0.0.0:7380\n"
      "state_dir state\n"
      "log log.example.org/a ",
      vkey_a_,
      " log-a.example.org:7300\n"
      "log log.example.org/b ",
      vkey_b_,
      " [::1]:7301\n"
      "scope https://github.com/acme/   make -C src  release # keep\n"
      "scope https://git.example.org/\t./build.sh\n"
      "limit wall_time 1h30m\n"
      "limit memory 512M\n"
      "limit output 2G\n"
      "parallelism 4\n"
      "report_url https://witness.example.org/refsum/reports\n");
  ASSERT_OK_AND_ASSIGN(const WitnessConfig config, ParseConfig(text, kPath));
  EXPECT_EQ(config.name, "witness.example.org/w1");
  EXPECT_EQ(config.cosign_key_path, "/etc/refsum/keys/cosign.key");
  EXPECT_EQ(config.rebuild_key_path, "/secure/rebuild.key");
  EXPECT_EQ(config.http_address.host, "0.0.0.0");
  EXPECT_EQ(config.http_address.port, 7380);
  EXPECT_EQ(config.state_dir, "/etc/refsum/state");
  ASSERT_EQ(config.logs.size(), 2u);
  EXPECT_EQ(config.logs[0].origin, "log.example.org/a");
  EXPECT_EQ(config.logs[0].vkey, vkey_a_);
  EXPECT_EQ(config.logs[0].grpc_address, "log-a.example.org:7300");
  EXPECT_EQ(config.logs[1].origin, "log.example.org/b");
  EXPECT_EQ(config.logs[1].grpc_address, "[::1]:7301");
  ASSERT_EQ(config.scopes.size(), 2u);
  EXPECT_EQ(config.scopes[0].repository_prefix, "https://github.com/acme/");
  // The rest of the line, '#' included: it is a shell command.
  EXPECT_EQ(config.scopes[0].recipe, "make -C src  release # keep");
  EXPECT_EQ(config.scopes[1].repository_prefix, "https://git.example.org/");
  EXPECT_EQ(config.scopes[1].recipe, "./build.sh");
  EXPECT_EQ(config.limits.wall_time, absl::Minutes(90));
  EXPECT_EQ(config.limits.memory_bytes, uint64_t{512} << 20);
  EXPECT_EQ(config.limits.output_bytes, uint64_t{2} << 30);
  EXPECT_EQ(config.parallelism, 4);
  EXPECT_EQ(config.report_url, "https://witness.example.org/refsum/reports/");
}

TEST_F(ConfigTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(const WitnessConfig config,
                       ParseConfig(Minimal(), kPath));
  EXPECT_TRUE(config.scopes.empty());
  EXPECT_EQ(config.limits.wall_time, kDefaultWallTime);
  EXPECT_EQ(config.limits.memory_bytes, kDefaultMemoryBytes);
  EXPECT_EQ(config.limits.output_bytes, kDefaultOutputBytes);
  EXPECT_EQ(config.parallelism, kDefaultParallelism);
  EXPECT_EQ(config.report_url, "");
  EXPECT_EQ(config.state_dir, "/var/lib/refsum-witness");
}

TEST_F(ConfigTest, RelativePathsFollowTheConfigFile) {
  ASSERT_OK_AND_ASSIGN(const WitnessConfig in_cwd,
                       ParseConfig(Minimal(), "witness.conf"));
  EXPECT_EQ(in_cwd.cosign_key_path, "keys/cosign.key");
  ASSERT_OK_AND_ASSIGN(const WitnessConfig relative,
                       ParseConfig(Minimal(), "conf/witness.conf"));
  EXPECT_EQ(relative.cosign_key_path, "conf/keys/cosign.key");
  EXPECT_EQ(relative.rebuild_key_path, "conf/keys/rebuild.key");
}

TEST_F(ConfigTest, ByteSuffixes) {
  for (const auto& [text, bytes] :
       std::vector<std::pair<std::string, uint64_t>>{{"1", 1},
                                                     {"1K", 1024},
                                                     {"3M", 3 << 20},
                                                     {"5G", uint64_t{5} << 30},
                                                     {"007", 7}}) {
    ASSERT_OK_AND_ASSIGN(
        const WitnessConfig config,
        ParseConfig(absl::StrCat(Minimal(), "limit memory ", text, "\n"),
                    kPath));
    EXPECT_EQ(config.limits.memory_bytes, bytes) << text;
  }
  // The largest count that fits.
  ASSERT_OK_AND_ASSIGN(
      const WitnessConfig largest,
      ParseConfig(absl::StrCat(Minimal(), "limit output 17179869183G\n"),
                  kPath));
  EXPECT_EQ(largest.limits.output_bytes, uint64_t{17179869183} << 30);
}

TEST_F(ConfigTest, LineErrors) {
  const std::string base = Minimal();
  struct Case {
    std::string line;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"frobnicate 1", "unknown keyword \"frobnicate\""},
      {"name", "name takes 1 argument (NAME), got 0"},
      {"name a b", "name takes 1 argument (NAME), got 2"},
      {"cosign_key", "cosign_key takes 1 argument (PATH), got 0"},
      {"rebuild_key a b", "rebuild_key takes 1 argument (PATH), got 2"},
      {"state_dir", "state_dir takes 1 argument (PATH), got 0"},
      {"http_addr", "http_addr takes 1 argument (HOST:PORT), got 0"},
      {"log log.example.org/b", "log takes 3 arguments"},
      {absl::StrCat("log log.example.org/b ", vkey_b_),
       "log takes 3 arguments (ORIGIN VKEY GRPC_ADDR), got 2"},
      {"log log.example.org/b not-a-vkey 127.0.0.1:1", "verifier key"},
      {absl::StrCat("log log.example.org/c ", vkey_b_, " 127.0.0.1:1"),
       "the verifier key is named \"log.example.org/b\", not the origin "
       "\"log.example.org/c\""},
      {absl::StrCat("log log.example.org/b ", vkey_b_, " 127.0.0.1:0"),
       "is not HOST:PORT with a port from 1 to 65535"},
      {absl::StrCat("log log.example.org/b ", vkey_b_, " 127.0.0.1"),
       "is not HOST:PORT"},
      {absl::StrCat("log log.example.org/a ", vkey_a_, " 127.0.0.1:1"),
       "log log.example.org/a given again (first on line 6)"},
      {"scope", "scope takes REPOSITORY_PREFIX RECIPE..."},
      {"scope https://github.com/acme/   ", "scope takes REPOSITORY_PREFIX"},
      {"limit", "limit takes wall_time DURATION"},
      {"limit cpu 4", "limit takes wall_time DURATION"},
      {"limit wall_time", "limit wall_time takes 1 argument (DURATION), got 0"},
      {"limit wall_time 0s", "is not a positive duration"},
      {"limit wall_time -5m", "is not a positive duration"},
      {"limit wall_time inf", "is not a positive duration"},
      {"limit wall_time soon", "is not a positive duration"},
      {"limit memory", "limit memory takes 1 argument (BYTES), got 0"},
      {"limit memory 0", "\"0\" is not a positive byte count"},
      {"limit memory 12X", "is not a positive byte count"},
      {"limit memory G", "is not a positive byte count"},
      {"limit memory 1k", "is not a positive byte count"},
      {"limit memory +5", "is not a positive byte count"},
      {"limit memory 1.5G", "is not a positive byte count"},
      {"limit output 17179869184G", "is not a positive byte count"},
      {"limit output 99999999999999999999", "is not a positive byte count"},
      {"parallelism", "parallelism takes 1 argument (N), got 0"},
      {"parallelism 0", "is not a number from 1 to 256"},
      {"parallelism 257", "is not a number from 1 to 256"},
      {"parallelism -1", "is not a number from 1 to 256"},
      {"parallelism two", "is not a number from 1 to 256"},
      {"report_url", "report_url takes 1 argument (URL_PREFIX), got 0"},
      {"report_url ftp://example.org/", "is not an http:// or https:// URL"},
      {"report_url https://", "is not an http:// or https:// URL"},
      {"report_url http:///reports", "is not an http:// or https:// URL"},
      {"name witness.example.org/w2", "name given again (first on line 1)"},
      {"cosign_key other.key", "cosign_key given again (first on line 2)"},
      {"rebuild_key other.key", "rebuild_key given again (first on line 3)"},
      {"http_addr 127.0.0.1:1", "http_addr given again (first on line 4)"},
      {"state_dir /tmp", "state_dir given again (first on line 5)"},
      {"name\r", "carriage return"},
      {"name a\x01", "control character"},
      {"name a\x7f", "control character"},
  };
  for (const Case& c : cases) {
    ExpectLineError(absl::StrCat(base, c.line, "\n"), 8, c.want);
  }
  ExpectLineError(absl::StrReplaceAll(
                      base, {{"name witness.example.org/w1", "name two+plus"}}),
                  1, "name \"two+plus\" is not a valid key name");
  // Lines that can only be wrong once they repeat.
  ExpectLineError(absl::StrCat(base, "scope p a\nscope p b\n"), 9,
                  "scope p given again (first on line 8)");
  ExpectLineError(absl::StrCat(base, "limit memory 1G\nlimit memory 2G\n"), 9,
                  "limit memory given again (first on line 8)");
  ExpectLineError(
      absl::StrCat(base, "limit wall_time 1h\nlimit wall_time 2h\n"), 9,
      "limit wall_time given again (first on line 8)");
  ExpectLineError(absl::StrCat(base, "limit output 1G\nlimit output 2G\n"), 9,
                  "limit output given again (first on line 8)");
  ExpectLineError(absl::StrCat(base, "parallelism 1\nparallelism 2\n"), 9,
                  "parallelism given again (first on line 8)");
  ExpectLineError(absl::StrCat(base,
                               "report_url http://a/\nreport_url "
                               "http://b/\n"),
                  9, "report_url given again (first on line 8)");
}

TEST_F(ConfigTest, HttpAddrErrors) {
  for (const char* address :
       {"7380", ":7380", "localhost:", "localhost:http", "localhost:65536",
        "localhost:-1", "::1:7380", "[::1:7380", "[::1]7380"}) {
    std::string text = Minimal();
    text = absl::StrReplaceAll(text, {{"http_addr 127.0.0.1:7380",
                                       absl::StrCat("http_addr ", address)}});
    ExpectLineError(text, 4, "is not HOST:PORT");
  }
}

TEST_F(ConfigTest, LogKeyMustBeAnEd25519NoteKey) {
  // A cosigner's vkey (type 0x04) is valid syntax but not a log key.
  ASSERT_OK_AND_ASSIGN(const TestWitness witness,
                       NewTestWitness("W", "log.example.org/b"));
  ExpectLineError(absl::StrCat(Minimal(), "log log.example.org/b ",
                               witness.Vkey(), " 127.0.0.1:1\n"),
                  8, "is not an Ed25519 note key (signature type 0x01)");
}

TEST_F(ConfigTest, MissingDirectives) {
  for (const char* keyword :
       {"name", "cosign_key", "rebuild_key", "http_addr", "state_dir"}) {
    std::string text;
    for (absl::string_view line : absl::StrSplit(Minimal(), '\n')) {
      if (!absl::StartsWith(line, absl::StrCat(keyword, " "))) {
        absl::StrAppend(&text, line, "\n");
      }
    }
    const absl::StatusOr<WitnessConfig> config = ParseConfig(text, kPath);
    EXPECT_EQ(config.status(), absl::InvalidArgumentError(absl::StrCat(
                                   kPath, ": no ", keyword, " line")));
  }
  std::string no_log;
  for (absl::string_view line : absl::StrSplit(Minimal(), '\n')) {
    if (!absl::StartsWith(line, "log ")) absl::StrAppend(&no_log, line, "\n");
  }
  EXPECT_THAT(std::string(ParseConfig(no_log, kPath).status().message()),
              HasSubstr("no log line"));
}

TEST_F(ConfigTest, WildcardAddressWithScopesNeedsReportUrl) {
  const std::string wildcard = absl::StrReplaceAll(
      Minimal(), {{"http_addr 127.0.0.1:7380", "http_addr 0.0.0.0:7380"}});
  // Cosigning alone needs no report URL.
  EXPECT_TRUE(ParseConfig(wildcard, kPath).ok());
  const std::string scoped = absl::StrCat(wildcard, "scope p make\n");
  ExpectLineError(scoped, 4, "need a report_url line");
  const std::string ipv6 = absl::StrReplaceAll(
      scoped, {{"http_addr 0.0.0.0:7380", "http_addr [::]:7380"}});
  ExpectLineError(ipv6, 4, "need a report_url line");
  EXPECT_TRUE(
      ParseConfig(absl::StrCat(scoped, "report_url http://w.example/r/\n"),
                  kPath)
          .ok());
}

TEST_F(ConfigTest, InvalidUtf8) {
  const absl::StatusOr<WitnessConfig> config =
      ParseConfig(absl::StrCat(Minimal(), "scope p echo \xff\n"), kPath);
  EXPECT_EQ(config.status(), absl::InvalidArgumentError(
                                 absl::StrCat(kPath, ": not valid UTF-8")));
}

TEST_F(ConfigTest, ReadConfigFile) {
  ASSERT_OK_AND_ASSIGN(const std::string dir, NewTempDir("config"));
  const std::string path = dir + "/witness.conf";
  ASSERT_OK(WriteFileAtomically(path, Minimal(), 0644));
  ASSERT_OK_AND_ASSIGN(const WitnessConfig config, ReadConfigFile(path));
  EXPECT_EQ(config.cosign_key_path, dir + "/keys/cosign.key");
  EXPECT_TRUE(absl::IsNotFound(ReadConfigFile(dir + "/missing").status()));
  ASSERT_OK(WriteFileAtomically(path, "name\n", 0644));
  EXPECT_EQ(ReadConfigFile(path).status(),
            absl::InvalidArgumentError(
                absl::StrCat(path, ":1: name takes 1 argument (NAME), got 0")));
}

TEST(ExampleConfigTest, DeployExampleParses) {
  // The runfiles path of //deploy:witness.example.conf.
  ASSERT_OK_AND_ASSIGN(const WitnessConfig config,
                       ReadConfigFile("deploy/witness.example.conf"));
  EXPECT_EQ(config.name, "witness.example.org/w1");
  EXPECT_EQ(config.cosign_key_path, "deploy/keys/cosign.key");
  EXPECT_EQ(config.logs.size(), 1u);
  ASSERT_EQ(config.scopes.size(), 1u);
  EXPECT_EQ(config.limits.wall_time, absl::Hours(2));
  EXPECT_EQ(config.parallelism, 2);
  EXPECT_EQ(config.report_url, "https://witness.example.org/reports/");
}

TEST(HostPortTest, ParseAndFormat) {
  ASSERT_OK_AND_ASSIGN(const HostPort v4, ParseHostPort("127.0.0.1:80", false));
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 80);
  EXPECT_EQ(FormatHostPort(v4), "127.0.0.1:80");
  ASSERT_OK_AND_ASSIGN(const HostPort v6, ParseHostPort("[::1]:0", true));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  EXPECT_EQ(FormatHostPort(v6), "[::1]:0");
  EXPECT_FALSE(ParseHostPort("[::1]:0", false).ok());
  EXPECT_EQ(ReportUrlPrefix(HostPort{"::1", 7380}),
            "http://[::1]:7380/reports/");
  EXPECT_EQ(ReportUrlPrefix(HostPort{"w.example", 80}),
            "http://w.example:80/reports/");
}

TEST(StateDirTest, Layout) {
  EXPECT_EQ(CosignedDir("/var/lib/w"), "/var/lib/w/cosigned");
  EXPECT_EQ(ReportsDir("/var/lib/w"), "/var/lib/w/reports");
}

}  // namespace
}  // namespace refsum::witness
