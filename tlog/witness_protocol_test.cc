#include "tlog/witness_protocol.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"

namespace refsum::tlog {
namespace {

using ::testing::HasSubstr;

// The example request of tlog-witness v1.0.0, verbatim.
constexpr char kSpecExample[] =
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

constexpr char kNote[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

TEST(WitnessProtocolTest, ParsesTheSpecExample) {
  const absl::StatusOr<AddCheckpointRequest> request =
      ParseAddCheckpointRequest(kSpecExample);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->old_size, 20852014u);
  ASSERT_EQ(request->proof.size(), 4u);
  EXPECT_EQ(request->checkpoint, kNote);
  EXPECT_EQ(FormatAddCheckpointRequest(*request), kSpecExample);
}

TEST(WitnessProtocolTest, RoundTrips) {
  const std::vector<Hash> hashes = tlog::testing::MakeLeafHashes(63);
  for (const size_t count : {size_t{0}, size_t{1}, size_t{63}}) {
    AddCheckpointRequest request;
    request.old_size = count == 0 ? 0 : 18446744073709551615u;
    request.proof.assign(hashes.begin(), hashes.begin() + count);
    request.checkpoint = kNote;
    const std::string body = FormatAddCheckpointRequest(request);
    const absl::StatusOr<AddCheckpointRequest> parsed =
        ParseAddCheckpointRequest(body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->old_size, request.old_size);
    EXPECT_EQ(parsed->proof, request.proof);
    EXPECT_EQ(parsed->checkpoint, request.checkpoint);
  }
  EXPECT_EQ(FormatAddCheckpointRequest({0, {}, kNote}),
            absl::StrCat("old 0\n\n", kNote));
}

TEST(WitnessProtocolTest, RejectsMalformedRequests) {
  const std::string hash = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
  std::string too_long_proof = "old 1\n";
  for (int i = 0; i < 64; ++i) too_long_proof += hash;
  absl::StrAppend(&too_long_proof, "\n", kNote);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "does not end in a newline"},
      {absl::StrCat("old 5"), "does not end in a newline"},
      {absl::StrCat("new 5\n\n", kNote), "does not start with an \"old"},
      {absl::StrCat("Old 5\n\n", kNote), "does not start with an \"old"},
      {absl::StrCat("old  5\n\n", kNote), "old size"},
      {absl::StrCat("old 05\n\n", kNote), "old size"},
      {absl::StrCat("old -1\n\n", kNote), "old size"},
      {absl::StrCat("old 18446744073709551616\n\n", kNote), "old size"},
      {absl::StrCat("old 5 \n\n", kNote), "old size"},
      {absl::StrCat("old 5\r\n\n", kNote), "old size"},
      {absl::StrCat("old 5\n", hash), "does not end in a newline"},
      {absl::StrCat("old 5\nnot base64\n\n", kNote), "consistency proof line"},
      {absl::StrCat("old 5\nAAAA\n\n", kNote), "consistency proof line"},
      {absl::StrCat("old 5\n", hash.substr(0, 43), "\n\n", kNote),
       "consistency proof line"},
      {too_long_proof, "more than 63 consistency proof lines"},
      {"old 5\n\n", "the request has no checkpoint"},
      {absl::StrCat("old 5\n", hash, "\n"), "the request has no checkpoint"},
  };
  for (const auto& [body, want] : cases) {
    const absl::StatusOr<AddCheckpointRequest> request =
        ParseAddCheckpointRequest(body);
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(request.status().message()), HasSubstr(want))
        << body;
  }
}

TEST(WitnessProtocolTest, TlogSize) {
  EXPECT_EQ(FormatTlogSize(0), "0\n");
  EXPECT_EQ(FormatTlogSize(20852014), "20852014\n");
  const absl::StatusOr<uint64_t> size = ParseTlogSize("20852014\n");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 20852014u);
  for (const char* bad : {"", "5", "05\n", "5\n\n", " 5\n", "-1\n", "x\n"}) {
    EXPECT_FALSE(ParseTlogSize(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace refsum::tlog
