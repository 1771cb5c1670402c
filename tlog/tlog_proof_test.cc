#include "tlog/tlog_proof.h"

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "crypto/note.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::tlog {
namespace {

// Returns the spec's abbreviated signature line "— <name> <start>[...]<end>"
// with the "[...]" replaced by `gap` "A"s.
std::string FilledSignatureLine(absl::string_view name, absl::string_view start,
                                size_t gap, absl::string_view end) {
  return absl::StrCat("— ", name, " ", start, std::string(gap, 'A'), end, "\n");
}

// The example of the tlog-proof spec. The spec abbreviates each signature
// with "[...]"; here each gap is filled with "A"s up to the real length, so
// that the lines are well-formed and realistic: a 4-byte key ID and a 64-byte
// Ed25519 signature for the log (92 base64 characters), and a key ID, an
// 8-byte timestamp and a 64-byte signature for each tlog-cosignature/v1
// witness (104 characters).
std::string SpecProof() {
  return absl::StrCat(
      "c2sp.org/tlog-proof@v1\n"
      "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
      "index 73894\n"
      "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
      "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
      "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
      "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
      "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
      "\n"
      "example.com/fancylog\n"
      "109482\n"
      "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
      "\n",
      FilledSignatureLine("example.com/fancylog", "hI2DJw", 79, "1roloI="),
      FilledSignatureLine("witness1.example", "mJirIklj", 84, "qY9v2B/5bg=="),
      FilledSignatureLine("witness2.example", "TnKKVHLX", 84, "xwYwrSjgow=="),
      FilledSignatureLine("witness3.example", "S4X82uH5", 84, "3oEcROGLFQ=="));
}

constexpr char kHeader[] = "c2sp.org/tlog-proof@v1\n";

// Returns a well-formed signature line by `name`, shaped like a real Ed25519
// note signature: the key ID of a made-up key, then 64 bytes where the
// signature goes. It verifies against nothing, which is all these tests need:
// tlog/ checks the syntax of signature lines but never verifies them.
std::string SignatureLine(absl::string_view name) {
  const std::string public_key(32, 'k');
  return crypto::FormatSignatureLine(
      {std::string(name),
       crypto::NoteKeyId(name, crypto::kNoteSignatureTypeEd25519, public_key),
       std::string(64, 's')});
}

std::string CheckpointBody() {
  return *FormatCheckpointBody({"example.com/log", 10, HashLeaf("root"), {}});
}

std::string SignedCheckpoint() {
  return absl::StrCat(CheckpointBody(), "\n", SignatureLine("example.com/log"));
}

TEST(TlogProofTest, ParsesAndReproducesTheSpecExample) {
  const std::string spec_proof = SpecProof();
  const absl::StatusOr<TlogProof> proof = ParseTlogProof(spec_proof);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(absl::StartsWith(proof->extra, "age-v1.2.1-darwin-arm64.tar.gz"));
  EXPECT_EQ(proof->index, 73894u);
  ASSERT_EQ(proof->inclusion_proof.size(), 5u);
  EXPECT_EQ(FormatBase64Hash(proof->inclusion_proof[0]),
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=");
  EXPECT_EQ(FormatBase64Hash(proof->inclusion_proof[4]),
            "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=");
  EXPECT_TRUE(absl::StartsWith(proof->checkpoint, "example.com/fancylog\n"));
  EXPECT_TRUE(absl::EndsWith(proof->checkpoint, "3oEcROGLFQ==\n"));
  const absl::StatusOr<Checkpoint> checkpoint =
      ParseCheckpointNote(proof->checkpoint);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->origin, "example.com/fancylog");
  EXPECT_EQ(checkpoint->size, 109482u);
  // The filled-in signatures have the lengths of real ones.
  const absl::StatusOr<crypto::Note> note =
      crypto::ParseNote(proof->checkpoint);
  ASSERT_TRUE(note.ok()) << note.status();
  ASSERT_EQ(note->signatures.size(), 4u);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  for (size_t i = 1; i < note->signatures.size(); ++i) {
    EXPECT_EQ(note->signatures[i].signature.size(), 72u) << i;
  }
  EXPECT_EQ(*FormatTlogProof(*proof), spec_proof);
}

TEST(TlogProofTest, FormatsTheSpecLayout) {
  const Hash h1 = HashLeaf("1");
  const Hash h2 = HashLeaf("2");
  const std::string checkpoint = SignedCheckpoint();
  const struct {
    TlogProof proof;
    std::string text;
  } kCases[] = {
      {{"", 5, {h1, h2}, checkpoint},
       absl::StrCat(kHeader, "index 5\n", FormatBase64Hash(h1), "\n",
                    FormatBase64Hash(h2), "\n\n", checkpoint)},
      {{"extra information", 10, {h1}, checkpoint},
       absl::StrCat(kHeader, "extra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 10\n",
                    FormatBase64Hash(h1), "\n\n", checkpoint)},
      {{"", 0, {}, checkpoint},
       absl::StrCat(kHeader, "index 0\n\n", checkpoint)},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<std::string> text = FormatTlogProof(c.proof);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, c.text);
    const absl::StatusOr<TlogProof> parsed = ParseTlogProof(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c.proof);
  }
}

TEST(TlogProofTest, RoundTripsTheLongestProof) {
  TlogProof proof{std::string("\0\xff", 2), UINT64_MAX, {}, SignedCheckpoint()};
  for (size_t i = 0; i < kMaxProofHashes; ++i) {
    proof.inclusion_proof.push_back(HashLeaf(std::to_string(i)));
  }
  const absl::StatusOr<std::string> text = FormatTlogProof(proof);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*ParseTlogProof(*text), proof);
  proof.inclusion_proof.push_back(EmptyRoot());
  EXPECT_FALSE(FormatTlogProof(proof).ok());
}

TEST(TlogProofTest, RefusesToFormatAnInvalidCheckpoint) {
  const struct {
    std::string checkpoint;
    const char* problem;
  } kCases[] = {
      {"example.com/log\n1\n",
       "tlog-proof checkpoint: note has no blank line between text and "
       "signatures"},
      {CheckpointBody() + "\n— example.com/log AAAAAA==\n",
       "tlog-proof checkpoint: signature by \"example.com/log\" is shorter "
       "than 5 bytes"},
      {"example.com/log\n01\n" + FormatBase64Hash(HashLeaf("root")) + "\n\n" +
           SignatureLine("example.com/log"),
       "tlog-proof checkpoint: checkpoint tree size \"01\" has a leading zero"},
  };
  for (const auto& c : kCases) {
    const absl::Status status =
        FormatTlogProof({"", 0, {}, c.checkpoint}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(status.message(), c.problem))
        << c.problem << " vs " << status;
  }
}

TEST(TlogProofTest, RejectsMalformedProofs) {
  const std::string header = kHeader;
  const std::string hash = FormatBase64Hash(HashLeaf("h")) + "\n";
  const std::string checkpoint = SignedCheckpoint();
  std::string too_many_hashes = header + "index 0\n";
  for (size_t i = 0; i <= kMaxProofHashes; ++i) too_many_hashes += hash;
  too_many_hashes += "\n" + checkpoint;
  const struct {
    std::string text;
    const char* problem;
  } kCases[] = {
      {"", "does not start with the line c2sp.org/tlog-proof@v1"},
      {"c2sp.org/tlog-proof@v1", "does not start with the line"},
      {"c2sp.org/tlog-proof@v2\nindex 0\n\n" + checkpoint,
       "does not start with the line"},
      {"c2sp.org/tlog-proof@v1\r\nindex 0\n\n" + checkpoint,
       "does not start with the line"},
      {"\xef\xbb\xbf" + header + "index 0\n\n" + checkpoint,
       "does not start with the line"},
      {header, "ends before its index line"},
      {header + "extra YQ==\n", "ends before its index line"},
      {header + "index 0", "ends before its index line"},
      {header + "extra \nindex 0\n\n" + checkpoint, "extra line is empty"},
      {header + "extra !!notbase64!!\nindex 0\n\n" + checkpoint,
       "tlog-proof extra data: base64"},
      {header + "extra YQ\nindex 0\n\n" + checkpoint,
       "tlog-proof extra data: base64 length 2"},
      {header + "extra YQ==\nextra YQ==\nindex 0\n\n" + checkpoint,
       "no \"index \" line"},
      {header + "\nindex 0\n\n" + checkpoint, "no \"index \" line"},
      {header + "Index 0\n\n" + checkpoint, "no \"index \" line"},
      {header + "index\n\n" + checkpoint, "no \"index \" line"},
      {header + "index \n\n" + checkpoint, "tlog-proof index is empty"},
      {header + "index notanumber\n\n" + checkpoint, "not a plain decimal"},
      {header + "index -5\n\n" + checkpoint, "not a plain decimal"},
      {header + "index  5\n\n" + checkpoint, "not a plain decimal"},
      {header + "index 05\n\n" + checkpoint, "leading zero"},
      {header + "index 18446744073709551616\n\n" + checkpoint,
       "does not fit in 64 bits"},
      {header + "index 0\n" + hash, "ends before its blank line"},
      {header + "index 0\n!!notbase64!!\n\n" + checkpoint,
       "tlog-proof hash 0: base64"},
      {header + "index 0\n" + hash + "AAAA\n\n" + checkpoint,
       "tlog-proof hash 1 has 3 bytes, not 32"},
      {header + "index 0\nextra YQ==\n\n" + checkpoint,
       "tlog-proof hash 0: base64"},
      {too_many_hashes, "more than 64 proof hashes"},
      {header + "index 0\n\n",
       "tlog-proof checkpoint: note has no blank line between text and "
       "signatures"},
      {header + "index 0\n\nexample.com/log\n1\n" + hash,
       "tlog-proof checkpoint: note has no blank line"},
      {header + "index 0\n\n" + CheckpointBody() + "\n",
       "tlog-proof checkpoint: note has no signatures"},
      {header + "index 0\n\n" + CheckpointBody() + "\n— sig\n",
       "tlog-proof checkpoint: signature line \"sig\" has no space after the "
       "key name"},
      {header + "index 0\n\n" + CheckpointBody() +
           "\n— example.com/log AAAAAA==\n",
       "tlog-proof checkpoint: signature by \"example.com/log\" is shorter "
       "than 5 bytes"},
      {header + "index 0\n\n" + CheckpointBody() +
           "\n— example.com/log AAAAAAA\n",
       "tlog-proof checkpoint: signature by \"example.com/log\" is not valid "
       "base64"},
      {header + "index 0\n\n" + checkpoint + "- example.com/log AAAAAAA=\n",
       "tlog-proof checkpoint: signature line \"- example.com/log AAAAAAA=\" "
       "does not start with an em dash"},
      {header + "index 0\n\nexample.com/log\n01\n" + hash + "\n" +
           SignatureLine("example.com/log"),
       "tlog-proof checkpoint: checkpoint tree size \"01\" has a leading zero"},
      {header + "index 0\n\n" + checkpoint + "\x01",
       "tlog-proof checkpoint: note has control character 0x01"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<TlogProof> proof = ParseTlogProof(c.text);
    ASSERT_FALSE(proof.ok()) << "accepted \"" << c.text << "\"";
    EXPECT_EQ(proof.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(proof.status().message(), c.problem))
        << c.problem << " vs " << proof.status();
  }
}

}  // namespace
}  // namespace refsum::tlog
