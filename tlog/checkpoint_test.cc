#include "tlog/checkpoint.h"

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "crypto/note.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"

namespace refsum::tlog {
namespace {

// The example of the tlog-checkpoint spec.
constexpr char kSpecBody[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr char kSpecSignature[] =
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gG"
    "zGku9nTo+zyWE+xeMcTOAYQ8=\n";
constexpr char kRoot[] = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

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

TEST(CheckpointTest, ParsesTheSpecExample) {
  const absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointBody(kSpecBody);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(checkpoint->size, 20852163u);
  EXPECT_EQ(FormatBase64Hash(checkpoint->root), kRoot);
  EXPECT_TRUE(checkpoint->extensions.empty());
  EXPECT_EQ(*FormatCheckpointBody(*checkpoint), kSpecBody);
}

TEST(CheckpointTest, ParsesTheBodyOfTheSpecSignedNote) {
  const absl::StatusOr<Checkpoint> checkpoint =
      ParseCheckpointNote(absl::StrCat(kSpecBody, "\n", kSpecSignature));
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(*checkpoint, *ParseCheckpointBody(kSpecBody));
}

TEST(CheckpointTest, RoundTrips) {
  const std::vector<Checkpoint> checkpoints = {
      {"example.com/log", 0, EmptyRoot(), {}},
      {"example.com/log", UINT64_MAX, HashLeaf("x"), {}},
      {"example.com/lög — ünïcode",
       42,
       HashLeaf("y"),
       {"extension one", "— two"}},
  };
  for (const Checkpoint& checkpoint : checkpoints) {
    const absl::StatusOr<std::string> body = FormatCheckpointBody(checkpoint);
    ASSERT_TRUE(body.ok()) << body.status();
    const absl::StatusOr<Checkpoint> parsed = ParseCheckpointBody(*body);
    ASSERT_TRUE(parsed.ok()) << *body << parsed.status();
    EXPECT_EQ(*parsed, checkpoint);
  }
  EXPECT_EQ(*FormatCheckpointBody({"o", 0, EmptyRoot(), {}}),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
}

TEST(CheckpointTest, RejectsMalformedBodies) {
  const std::string root = kRoot;
  const struct {
    std::string body;
    const char* problem;
  } kCases[] = {
      {"", "does not end with a newline"},
      {"o\n5\n" + root, "does not end with a newline"},
      {"o\n5\n", "has 2 lines"},
      {"o\n", "has 1 lines"},
      {"\n5\n" + root + "\n", "checkpoint origin is empty"},
      {"o\n\n" + root + "\n", "checkpoint tree size is empty"},
      {"o\n05\n" + root + "\n", "leading zero"},
      {"o\n00\n" + root + "\n", "leading zero"},
      {"o\n+5\n" + root + "\n", "not a plain decimal"},
      {"o\n-5\n" + root + "\n", "not a plain decimal"},
      {"o\n 5\n" + root + "\n", "not a plain decimal"},
      {"o\n5.0\n" + root + "\n", "not a plain decimal"},
      {"o\n18446744073709551616\n" + root + "\n", "does not fit in 64 bits"},
      {"o\n5\n\n", "checkpoint root hash has 0 bytes"},
      {"o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
       "checkpoint root hash: base64 length 43"},
      {"o\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
       "checkpoint root hash: base64 has an invalid character"},
      {"o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
       "checkpoint root hash: base64"},
      {"o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
       "root hash has 31 bytes, not 32"},
      {"o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
       "root hash has 33 bytes, not 32"},
      {"o\n5\n" + root + "\n\n", "checkpoint extension line is empty"},
      {"o\n5\n" + root + "\nx\n\ny\n", "checkpoint extension line is empty"},
      {"o\r\n5\n" + root + "\n", "control character 0x0d"},
      {"o\n5\r\n" + root + "\n", "not a plain decimal"},
      {std::string("o\0\n5\n", 5) + root + "\n", "control character 0x00"},
      {"o\tx\n5\n" + root + "\n", "control character 0x09"},
      {"o\x7f\n5\n" + root + "\n", "control character 0x7f"},
      {"o\n5\n" + root + "\nx\x1b[31m\n", "control character 0x1b"},
      {"o\xff\n5\n" + root + "\n", "not valid UTF-8 at offset 1"},
      {"o\xc0\x80\n5\n" + root + "\n", "not valid UTF-8"},
      {"o\xed\xa0\x80\n5\n" + root + "\n", "not valid UTF-8"},
      {"o\xf4\x90\x80\x80\n5\n" + root + "\n", "not valid UTF-8"},
      {"o\xe2\x82\n5\n" + root + "\n", "not valid UTF-8"},
      {"o\n5\n" + root + "\n\x80\n", "not valid UTF-8"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointBody(c.body);
    ASSERT_FALSE(checkpoint.ok()) << "accepted \"" << c.body << "\"";
    EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(checkpoint.status().message(), c.problem))
        << c.problem << " vs " << checkpoint.status();
  }
}

TEST(CheckpointTest, RefusesToFormatWhatWouldNotParse) {
  const struct {
    Checkpoint checkpoint;
    const char* problem;
  } kCases[] = {
      {{"", 1, EmptyRoot(), {}}, "checkpoint origin is empty"},
      {{"a\nb", 1, EmptyRoot(), {}}, "checkpoint origin contains a newline"},
      {{"a\tb", 1, EmptyRoot(), {}}, "control character 0x09"},
      {{"o", 1, EmptyRoot(), {""}}, "checkpoint extension line is empty"},
      {{"o", 1, EmptyRoot(), {"x\n"}}, "extension line contains a newline"},
      {{"o", 1, EmptyRoot(), {"\xff"}}, "not valid UTF-8"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<std::string> body = FormatCheckpointBody(c.checkpoint);
    ASSERT_FALSE(body.ok()) << c.problem;
    EXPECT_TRUE(absl::StrContains(body.status().message(), c.problem))
        << c.problem << " vs " << body.status();
  }
}

TEST(CheckpointTest, ChecksSignatureLineSyntaxButVerifiesNoSignature) {
  const std::string body = kSpecBody;
  const absl::StatusOr<Checkpoint> expected = ParseCheckpointBody(body);
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::string most_signatures = body + "\n";
  for (size_t i = 0; i < crypto::kMaxNoteSignatures; ++i) {
    most_signatures += SignatureLine(absl::StrCat("witness", i, ".example"));
  }
  const std::string kNotes[] = {
      // The origin's line and a cosignature, neither of which verifies.
      body + "\n" + SignatureLine("example.com/behind-the-sofa") +
          SignatureLine("witness.example/w1"),
      // No line by the origin's key at all: that is for verification to catch.
      body + "\n" + SignatureLine("other.example"),
      // The shortest signature the syntax allows: key ID and one byte.
      body + "\n— example.com/behind-the-sofa AAAAAAA=\n",
      most_signatures,
  };
  for (const std::string& note : kNotes) {
    const absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointNote(note);
    ASSERT_TRUE(checkpoint.ok()) << note << checkpoint.status();
    EXPECT_EQ(*checkpoint, *expected);
  }
}

TEST(CheckpointTest, RejectsMalformedNotes) {
  const std::string body = kSpecBody;
  const std::string signature = SignatureLine("example.com/behind-the-sofa");
  // `signature` without its newline, and after its em dash and space.
  const absl::string_view unterminated =
      absl::string_view(signature).substr(0, signature.size() - 1);
  const absl::string_view after_dash =
      absl::string_view(signature).substr(absl::string_view("— ").size());
  std::string too_many_signatures = body + "\n";
  for (size_t i = 0; i <= crypto::kMaxNoteSignatures; ++i) {
    too_many_signatures += signature;
  }
  const struct {
    std::string note;
    const char* problem;
  } kCases[] = {
      // The note's layout.
      {"", "note has no blank line between text and signatures"},
      {body, "note has no blank line between text and signatures"},
      {body + signature, "note has no blank line between text and signatures"},
      {body + "\n", "note has no signatures"},
      {body + "\n\n", "note has no signatures"},
      {absl::StrCat(body, "\n", unterminated),
       "note's last signature line does not end in a newline"},
      {too_many_signatures, "note has more than 100 signatures"},
      // Characters anywhere in the note.
      {"example.com/log\x01\n5\n" + std::string(kRoot) + "\n\n" + signature,
       "note has control character 0x01 at offset 15"},
      {absl::StrCat(body, "\n", unterminated, "\x01\n"),
       "note has control character 0x01"},
      {absl::StrCat(body, "\n", unterminated, "\r\n"),
       "note has control character 0x0d"},
      {body + "\n— example.com/\xff AAAAAAA=\n", "note is not valid UTF-8"},
      // Each signature line's syntax.
      {absl::StrCat(body, "\n- ", after_dash),
       "does not start with an em dash"},
      {absl::StrCat(body, "\n—", after_dash), "does not start with an em dash"},
      {absl::StrCat(body, "\n ", signature), "does not start with an em dash"},
      {body + "\n— example.com/behind-the-sofa\n",
       "has no space after the key name"},
      {body + "\n— example+com AAAAAAA=\n", "invalid key name \"example+com\""},
      {body + "\n—  AAAAAAA=\n", "invalid key name \"\""},
      {body + "\n— example.com/log AAAAAA==\n",
       "signature by \"example.com/log\" is shorter than 5 bytes"},
      {body + "\n— example.com/log \n",
       "signature by \"example.com/log\" is shorter than 5 bytes"},
      {body + "\n— example.com/log AAAAAAA\n",
       "signature by \"example.com/log\" is not valid base64"},
      {body + "\n— example.com/log AAAA_AA=\n",
       "signature by \"example.com/log\" is not valid base64"},
      {body + "\n— example.com/log AAAA AA=\n",
       "signature by \"example.com/log\" is not valid base64"},
      {body + "\n" + signature + "— witness.example AAAAAA==\n",
       "signature by \"witness.example\" is shorter than 5 bytes"},
      // The text, once the note around it is well-formed.
      {"example.com/log\n05\n" + std::string(kRoot) + "\n\n" + kSpecSignature,
       "checkpoint tree size \"05\" has a leading zero"},
      {"example.com/log\n5\n\n" + signature, "checkpoint body has 2 lines"},
      {"example.com/log\x7f\n5\n" + std::string(kRoot) + "\n\n" + signature,
       "checkpoint origin has control character 0x7f"},
  };
  for (const auto& c : kCases) {
    const absl::StatusOr<Checkpoint> checkpoint = ParseCheckpointNote(c.note);
    ASSERT_FALSE(checkpoint.ok()) << "accepted \"" << c.note << "\"";
    EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(checkpoint.status().message(), c.problem))
        << c.problem << " vs " << checkpoint.status();
  }
}

TEST(Base64HashTest, RoundTripsAndNamesTheField) {
  const Hash hash = HashLeaf("z");
  EXPECT_EQ(*ParseBase64Hash(FormatBase64Hash(hash), "h"), hash);
  const absl::Status status = ParseBase64Hash("AAAA", "proof hash 3").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "proof hash 3 has 3 bytes"))
      << status;
}

}  // namespace
}  // namespace refsum::tlog
