#include "submitter/claim_builder.h"

#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "crypto/signer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/claim.h"
#include "statement/in_toto.h"

namespace refsum::submitter {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kCommit(40, 'e');
const std::string kSnpHex(96, 'b');
const std::string kPcrHex(64, 'c');

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

ClaimInputs ValidInputs() {
  ClaimInputs inputs;
  inputs.artifacts = {"out/os-image.raw", "out/kernel"};
  inputs.repository = "https://github.com/example/os-image";
  inputs.commit = kCommit;
  inputs.values = {absl::StrCat("amd-sev-snp/launch-measurement=sha384:",
                                kSnpHex, ",vcpus=4"),
                   absl::StrCat("tpm/pcr/4=sha256:", kPcrHex)};
  return inputs;
}

const std::vector<std::string> kDigests = {std::string(64, '1'),
                                           std::string(64, '2')};

TEST(HashFileTest, HashesSmallAndLargeFiles) {
  const std::string small = TempDir() + "/small";
  ASSERT_TRUE(WriteFileAtomically(small, "abc", 0644).ok());
  EXPECT_EQ(HashFile(small).value_or(""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  // Several read chunks and a partial last one.
  std::string contents;
  for (int i = 0; contents.size() < (size_t{5} << 20) + 123; ++i) {
    absl::StrAppend(&contents, i, ",");
  }
  const std::string large = TempDir() + "/large";
  ASSERT_TRUE(WriteFileAtomically(large, contents, 0644).ok());
  EXPECT_EQ(HashFile(large).value_or(""), crypto::Sha256Hex(contents));

  const std::string empty = TempDir() + "/empty";
  ASSERT_TRUE(WriteFileAtomically(empty, "", 0644).ok());
  EXPECT_EQ(HashFile(empty).value_or(""), crypto::Sha256Hex(""));
}

TEST(HashFileTest, ErrorsNameThePath) {
  const std::string missing = TempDir() + "/no-such-file";
  const absl::StatusOr<std::string> hash = HashFile(missing);
  EXPECT_EQ(hash.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(hash.status()), HasSubstr(missing));

  const absl::StatusOr<std::string> directory = HashFile(TempDir());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(directory.status()), HasSubstr("not a regular file"));
}

TEST(BuildClaimTest, BuildsAValidClaim) {
  ClaimInputs inputs = ValidInputs();
  const absl::StatusOr<statement::Claim> claim = BuildClaim(inputs, kDigests);
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_EQ(claim->subjects.size(), 2u);
  EXPECT_EQ(claim->subjects[0].name, "os-image.raw");
  EXPECT_EQ(claim->subjects[0].digest,
            (statement::DigestSet{{"sha256", kDigests[0]}}));
  EXPECT_EQ(claim->subjects[1].name, "kernel");
  EXPECT_EQ(claim->source.repository, inputs.repository);
  EXPECT_EQ(claim->source.commit, kCommit);
  EXPECT_FALSE(claim->source.tag.has_value());
  EXPECT_EQ(claim->build.recipe, kDefaultRecipe);
  EXPECT_FALSE(claim->build.toolchain.has_value());
  EXPECT_FALSE(claim->measurement_tool.has_value());
  ASSERT_EQ(claim->reference_values.size(), 2u);
  EXPECT_EQ(claim->reference_values[0].platform, "amd-sev-snp");
  EXPECT_EQ(claim->reference_values[1].index, 4);
  EXPECT_TRUE(statement::ValidateClaim(*claim).ok());

  inputs.tag = "v1.2.0";
  inputs.recipe = "nix build .#image";
  const absl::StatusOr<statement::Claim> tagged = BuildClaim(inputs, kDigests);
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  EXPECT_EQ(tagged->source.tag, "v1.2.0");
  EXPECT_EQ(tagged->build.recipe, "nix build .#image");
}

struct BadInputs {
  std::string name;
  void (*edit)(ClaimInputs*);
  std::string message;
};

void PrintTo(const BadInputs& bad, std::ostream* os) { *os << bad.name; }

class BadClaimInputsTest : public ::testing::TestWithParam<BadInputs> {};

TEST_P(BadClaimInputsTest, NamesTheFlag) {
  ClaimInputs inputs = ValidInputs();
  GetParam().edit(&inputs);
  const absl::StatusOr<statement::Claim> claim = BuildClaim(inputs, kDigests);
  ASSERT_EQ(claim.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(claim.status()), StartsWith(GetParam().message));
  // CheckClaimInputs finds the same problem without the digests.
  EXPECT_EQ(CheckClaimInputs(inputs), claim.status());
}

INSTANTIATE_TEST_SUITE_P(
    Flags, BadClaimInputsTest,
    ::testing::Values(
        BadInputs{"commit", [](ClaimInputs* in) { in->commit = "abc"; },
                  "--commit: "},
        BadInputs{"uppercase commit",
                  [](ClaimInputs* in) { in->commit = std::string(40, 'E'); },
                  "--commit: "},
        BadInputs{"repository",
                  [](ClaimInputs* in) { in->repository = "github.com/x"; },
                  "--repository: "},
        BadInputs{"tag", [](ClaimInputs* in) { in->tag = "v1\n"; }, "--tag: "},
        BadInputs{"empty tag", [](ClaimInputs* in) { in->tag = ""; },
                  "--tag: "},
        BadInputs{"recipe", [](ClaimInputs* in) { in->recipe = ""; },
                  "--recipe: "},
        BadInputs{"artifact name",
                  [](ClaimInputs* in) { in->artifacts[1] = "out/a\x01z"; },
                  "--artifact \"out/a\\x01z\": name: "},
        BadInputs{"directory",
                  [](ClaimInputs* in) { in->artifacts[0] = "out/"; },
                  "--artifact \"out/\": does not name a file"},
        BadInputs{"dot dot",
                  [](ClaimInputs* in) { in->artifacts[0] = "out/.."; },
                  "--artifact \"out/..\": does not name a file"},
        BadInputs{"same base name",
                  [](ClaimInputs* in) { in->artifacts[1] = "os-image.raw"; },
                  "--artifact \"out/os-image.raw\" and --artifact "
                  "\"os-image.raw\" have the same file name"},
        BadInputs{"value",
                  [](ClaimInputs* in) {
                    in->values[1] = "tpm/pcr/99=sha256:" + kPcrHex;
                  },
                  "--value \"tpm/pcr/99=sha256:"},
        BadInputs{"too many values",
                  [](ClaimInputs* in) {
                    in->values.assign(statement::kMaxReferenceValues + 1,
                                      in->values[1]);
                  },
                  "--value: more than 256 reference values"},
        BadInputs{"no value", [](ClaimInputs* in) { in->values.clear(); },
                  "give at least one --value SPEC"}));

TEST(BuildClaimTest, NeedsAnArtifact) {
  ClaimInputs inputs = ValidInputs();
  inputs.artifacts.clear();
  EXPECT_EQ(Message(BuildClaim(inputs, {}).status()),
            "give at least one --artifact FILE");
  EXPECT_EQ(Message(CheckClaimInputs(inputs)),
            "give at least one --artifact FILE");
}

TEST(BuildClaimTest, TooManyArtifacts) {
  ClaimInputs inputs = ValidInputs();
  inputs.artifacts.clear();
  for (size_t i = 0; i <= statement::kMaxSubjects; ++i) {
    inputs.artifacts.push_back(absl::StrCat("a", i));
  }
  EXPECT_EQ(Message(CheckClaimInputs(inputs)),
            "--artifact: more than 64 subjects");
}

TEST(BuildClaimTest, CheckClaimInputsReadsNoFile) {
  ClaimInputs inputs = ValidInputs();
  inputs.artifacts = {TempDir() + "/does-not-exist"};
  EXPECT_TRUE(CheckClaimInputs(inputs).ok());
  EXPECT_EQ(BuildClaimFromFiles(inputs).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BuildClaimTest, BuildClaimFromFilesHashesTheArtifacts) {
  ClaimInputs inputs = ValidInputs();
  inputs.artifacts = {TempDir() + "/image-one", TempDir() + "/image-two"};
  ASSERT_TRUE(WriteFileAtomically(inputs.artifacts[0], "one", 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(inputs.artifacts[1], "two", 0644).ok());
  const absl::StatusOr<statement::Claim> claim = BuildClaimFromFiles(inputs);
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->subjects[0].name, "image-one");
  EXPECT_EQ(claim->subjects[0].digest.at("sha256"), crypto::Sha256Hex("one"));
  EXPECT_EQ(claim->subjects[1].name, "image-two");
  EXPECT_EQ(claim->subjects[1].digest.at("sha256"), crypto::Sha256Hex("two"));
}

TEST(SignClaimTest, WritesAVerifiableDsseEnvelope) {
  for (const crypto::KeyType type :
       {crypto::KeyType::kEd25519, crypto::KeyType::kEcdsaP256}) {
    const crypto::PrivateKey key = *crypto::PrivateKey::Generate(type);
    const std::unique_ptr<crypto::Signer> signer = *crypto::NewSigner(key);
    const statement::Claim claim = *BuildClaim(ValidInputs(), kDigests);
    const absl::StatusOr<std::string> json = SignClaim(claim, *signer);
    ASSERT_TRUE(json.ok()) << json.status();
    EXPECT_EQ(json->back(), '\n');
    const absl::StatusOr<crypto::DsseEnvelope> envelope =
        crypto::DecodeDsseJson(*json);
    ASSERT_TRUE(envelope.ok()) << envelope.status();
    EXPECT_EQ(envelope->payload_type, statement::kPayloadType);
    ASSERT_EQ(envelope->signatures.size(), 1u);
    EXPECT_EQ(envelope->signatures[0].keyid, key.public_key().keyid());
    EXPECT_TRUE(
        crypto::DsseVerify(*envelope, **crypto::NewVerifier(key.public_key()))
            .ok());
    EXPECT_EQ(envelope->payload, *statement::SerializeClaim(claim));
    EXPECT_TRUE(statement::ParseClaim(envelope->payload).ok());
  }
}

}  // namespace
}  // namespace refsum::submitter
