#include "client/policy.h"

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "client/testing.h"
#include "crypto/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::NewTempDir;
using testing::NewTestSigner;
using testing::NewTestWitness;
using ::testing::StartsWith;
using testing::TestLog;
using testing::TestSigner;
using testing::TestWitness;

std::vector<std::string> Names(const std::vector<PolicySigner>& signers) {
  std::vector<std::string> names;
  for (const PolicySigner& signer : signers) names.push_back(signer.name);
  return names;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("policy"));
    ASSERT_OK_AND_ASSIGN(TestLog log,
                         TestLog::Create("log.example.org/refsum"));
    log_vkey_ = log.vkey();
    for (const char* name : {"W1", "W2", "W3"}) {
      ASSERT_OK_AND_ASSIGN(
          TestWitness witness,
          NewTestWitness(name, absl::StrCat(name, ".witness.example")));
      witness_vkeys_.push_back(witness.Vkey());
    }
    ASSERT_OK_AND_ASSIGN(acme_,
                         NewTestSigner("acme", crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(globex_,
                         NewTestSigner("globex", crypto::KeyType::kEcdsaP256));
    ASSERT_OK_AND_ASSIGN(r1_, NewTestSigner("R1", crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(r2_, NewTestSigner("R2", crypto::KeyType::kEcdsaP256));
    ASSERT_OK_AND_ASSIGN(r3_, NewTestSigner("R3", crypto::KeyType::kEd25519));
    ASSERT_EQ(mkdir(absl::StrCat(dir_, "/keys").c_str(), 0700), 0);
    ASSERT_OK(crypto::WritePublicKeyFile(absl::StrCat(dir_, "/keys/acme.pem"),
                                         acme_->public_key()));
    ASSERT_OK(crypto::WritePublicKeyFile(absl::StrCat(dir_, "/keys/r1.pem"),
                                         r1_->public_key()));
    ASSERT_OK(crypto::WritePublicKeyFile(absl::StrCat(dir_, "/r3.pem"),
                                         r3_->public_key()));
  }

  // The tlog-policy part: a log, three witnesses, a 2-of-3 quorum. Five
  // lines, so the refsum lines that follow start at line 6.
  std::string CheckpointLines() const {
    return absl::StrCat("log ", log_vkey_, " https://log.example.org/\n",
                        "witness W1 ", witness_vkeys_[0], "\n", "witness W2 ",
                        witness_vkeys_[1], " https://w2.example/\n",
                        "witness W3 ", witness_vkeys_[2], "\n",
                        "quorum none\n");
  }

  // Parses CheckpointLines() followed by `refsum_lines`, with keys relative
  // to dir_.
  absl::StatusOr<Policy> ParseWith(absl::string_view refsum_lines) const {
    return Policy::Parse(absl::StrCat(CheckpointLines(), refsum_lines), dir_);
  }

  // Expects ParseWith(refsum_lines) to fail with a message that starts with
  // "line <line>: " and contains `problem`.
  void ExpectErrorOnLine(absl::string_view refsum_lines, int line,
                         absl::string_view problem) const {
    const absl::StatusOr<Policy> policy = ParseWith(refsum_lines);
    ASSERT_FALSE(policy.ok()) << "accepted:\n" << refsum_lines;
    EXPECT_THAT(std::string(policy.status().message()),
                StartsWith(absl::StrCat("line ", line, ": ")));
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(problem));
  }

  std::string dir_;
  std::string log_vkey_;
  std::vector<std::string> witness_vkeys_;
  // Vendors (Ed25519 and ECDSA P-256) and rebuilders.
  std::optional<TestSigner> acme_;
  std::optional<TestSigner> globex_;
  std::optional<TestSigner> r1_;
  std::optional<TestSigner> r2_;
  std::optional<TestSigner> r3_;
};

TEST_F(PolicyTest, FullPolicyParses) {
  const std::string text = absl::StrCat(
      "# refsum policy\n", "log ", log_vkey_, " https://log.example.org/\n",
      "witness W1 ", witness_vkeys_[0], "\n", "witness W2 ", witness_vkeys_[1],
      " https://w2.example/\n", "witness W3 ", witness_vkeys_[2], "\n",
      "group witnesses 2 W1 W2 W3\n", "quorum witnesses\n", "\n",
      "vendor acme keys/acme.pem\n", "vendor\tglobex  ", globex_->Base64Spki(),
      "\n", "rebuilder R1 keys/r1.pem\n", "rebuilder R2 ", r2_->Base64Spki(),
      "\n", "rebuilder R3 ", dir_, "/r3.pem\n", "rebuild-group eu any R1 R2\n",
      "rebuild-group rebuilders 2 eu R3\n", "rebuild-quorum rebuilders\n",
      "on-mismatch warn\n");
  ASSERT_OK(WriteFileAtomically(absl::StrCat(dir_, "/policy"), text, 0644));

  // Key files are found relative to the policy file's directory.
  ASSERT_OK_AND_ASSIGN(const Policy policy,
                       Policy::ReadFile(absl::StrCat(dir_, "/policy")));

  ASSERT_EQ(policy.checkpoints().logs().size(), 1u);
  EXPECT_EQ(policy.checkpoints().logs()[0].origin, "log.example.org/refsum");
  EXPECT_EQ(policy.checkpoints().logs()[0].url, "https://log.example.org/");
  ASSERT_EQ(policy.checkpoints().witnesses().size(), 3u);
  EXPECT_EQ(policy.checkpoints().witnesses()[1].url, "https://w2.example/");
  EXPECT_EQ(policy.checkpoints().quorum(), "witnesses");
  EXPECT_FALSE(policy.checkpoints().EvaluateQuorum({"W1"}).satisfied);
  EXPECT_TRUE(policy.checkpoints().EvaluateQuorum({"W1", "W3"}).satisfied);

  EXPECT_THAT(Names(policy.vendors()), ElementsAre("acme", "globex"));
  EXPECT_EQ(policy.vendors()[0].key.der(), acme_->public_key().der());
  EXPECT_EQ(policy.vendors()[1].key.der(), globex_->public_key().der());
  EXPECT_EQ(policy.vendors()[1].key.type(), crypto::KeyType::kEcdsaP256);
  EXPECT_THAT(Names(policy.rebuilders()), ElementsAre("R1", "R2", "R3"));
  EXPECT_EQ(policy.rebuilders()[0].key.der(), r1_->public_key().der());
  EXPECT_EQ(policy.rebuilders()[1].key.der(), r2_->public_key().der());
  EXPECT_EQ(policy.rebuilders()[2].key.der(), r3_->public_key().der());

  EXPECT_EQ(policy.rebuild_quorum(), "rebuilders");
  const tlog::ThresholdGroups& groups = policy.rebuild_groups();
  EXPECT_EQ(groups.leaf_count(), 3u);
  EXPECT_EQ(groups.group_count(), 2u);
  EXPECT_TRUE(groups.Satisfied("rebuilders", {"R1", "R3"}));
  EXPECT_FALSE(groups.Satisfied("rebuilders", {"R1", "R2"}));
  EXPECT_FALSE(groups.Satisfied("rebuilders", {"R3"}));
  EXPECT_EQ(policy.on_mismatch(), OnMismatch::kWarn);
}

TEST_F(PolicyTest, DefaultsWithoutOptionalLines) {
  ASSERT_OK_AND_ASSIGN(const Policy policy, ParseWith("rebuild-quorum none\n"));
  EXPECT_THAT(policy.vendors(), IsEmpty());
  EXPECT_THAT(policy.rebuilders(), IsEmpty());
  EXPECT_EQ(policy.rebuild_quorum(), "none");
  EXPECT_EQ(policy.on_mismatch(), OnMismatch::kReject);
  EXPECT_TRUE(policy.rebuild_groups().Satisfied(policy.rebuild_quorum(), {}));
}

TEST_F(PolicyTest, OnMismatchReject) {
  ASSERT_OK_AND_ASSIGN(const Policy policy,
                       ParseWith("rebuild-quorum none\non-mismatch reject\n"));
  EXPECT_EQ(policy.on_mismatch(), OnMismatch::kReject);
}

TEST_F(PolicyTest, RebuildQuorumMayNameOneRebuilder) {
  ASSERT_OK_AND_ASSIGN(
      const Policy policy,
      ParseWith(absl::StrCat("rebuilder R2 ", r2_->Base64Spki(), "\n",
                             "rebuild-quorum R2\n")));
  EXPECT_EQ(policy.rebuild_quorum(), "R2");
  EXPECT_TRUE(policy.rebuild_groups().Satisfied("R2", {"R2"}));
  EXPECT_FALSE(policy.rebuild_groups().Satisfied("R2", {}));
}

TEST_F(PolicyTest, FindVendorAndFindRebuilderByKeyid) {
  ASSERT_OK_AND_ASSIGN(
      const Policy policy,
      ParseWith(absl::StrCat("vendor acme keys/acme.pem\n", "vendor globex ",
                             globex_->Base64Spki(), "\n",
                             "rebuilder R1 keys/r1.pem\n", "rebuilder R2 ",
                             r2_->Base64Spki(), "\n", "rebuild-quorum R1\n")));

  const PolicySigner* globex = policy.FindVendor(globex_->public_key().keyid());
  ASSERT_NE(globex, nullptr);
  EXPECT_EQ(globex->name, "globex");
  const PolicySigner* acme = policy.FindVendor(acme_->public_key().keyid());
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->name, "acme");
  const PolicySigner* r2 = policy.FindRebuilder(r2_->public_key().keyid());
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->name, "R2");
  EXPECT_EQ(r2->key.der(), r2_->public_key().der());

  // Vendors are not rebuilders and vice versa; unknown keys are not found.
  EXPECT_EQ(policy.FindRebuilder(acme_->public_key().keyid()), nullptr);
  EXPECT_EQ(policy.FindVendor(r1_->public_key().keyid()), nullptr);
  EXPECT_EQ(policy.FindVendor(r3_->public_key().keyid()), nullptr);
  EXPECT_EQ(policy.FindRebuilder(r3_->public_key().keyid()), nullptr);
  EXPECT_EQ(policy.FindVendor(""), nullptr);
}

TEST_F(PolicyTest, UnknownKeywordNamesItsLine) {
  ExpectErrorOnLine("rebuild-quorum none\nverifier x y\n", 7,
                    "unknown keyword \"verifier\"");
  // Keywords are case-sensitive.
  ExpectErrorOnLine("Vendor acme keys/acme.pem\n", 6,
                    "unknown keyword \"Vendor\"");
}

TEST_F(PolicyTest, WrongFieldCountsNameTheirLine) {
  ExpectErrorOnLine("vendor acme\n", 6, "vendor takes 2 fields, got 1");
  ExpectErrorOnLine("vendor acme keys/acme.pem extra\n", 6,
                    "vendor takes 2 fields, got 3");
  ExpectErrorOnLine("\nrebuilder R1\n", 7, "rebuilder takes 2 fields, got 1");
  ExpectErrorOnLine("rebuilder\n", 6, "rebuilder takes 2 fields, got 0");
  ExpectErrorOnLine(
      absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuild-group g any\n"), 7,
      "rebuild-group takes a name, all|any|K");
  ExpectErrorOnLine("rebuild-quorum\n", 6, "rebuild-quorum takes 1 field");
  ExpectErrorOnLine("rebuild-quorum none none\n", 6,
                    "rebuild-quorum takes 1 field, got 2");
  ExpectErrorOnLine("rebuild-quorum none\non-mismatch\n", 7,
                    "on-mismatch takes 1 field, got 0");
  ExpectErrorOnLine("rebuild-quorum none\non-mismatch warn now\n", 7,
                    "on-mismatch takes 1 field, got 2");
}

TEST_F(PolicyTest, BadKeysNameTheirLine) {
  // Base64 that is no SubjectPublicKeyInfo, and no such file either.
  ExpectErrorOnLine("vendor acme AAAA\n", 6, "AAAA");

  // A file that is not a PEM public key.
  ASSERT_OK(WriteFileAtomically(absl::StrCat(dir_, "/garbage.pem"),
                                "not a key\n", 0644));
  ExpectErrorOnLine("rebuild-quorum none\nrebuilder R1 garbage.pem\n", 7,
                    "garbage.pem");
  // A missing file.
  ExpectErrorOnLine("vendor acme keys/missing.pem\n", 6, "missing.pem");
  // A private key is not a public key.
  ASSERT_OK_AND_ASSIGN(const std::string private_pem, acme_->key.ToPem());
  ASSERT_OK(WriteFileAtomically(absl::StrCat(dir_, "/private.pem"), private_pem,
                                0600));
  ExpectErrorOnLine("vendor acme private.pem\n", 6, "private.pem");
}

TEST_F(PolicyTest, PemFilesAreRelativeToTheBaseDir) {
  // The same relative path read against another directory is not found.
  const absl::StatusOr<Policy> elsewhere = Policy::Parse(
      absl::StrCat(CheckpointLines(), "vendor acme keys/acme.pem\n",
                   "rebuild-quorum none\n"),
      "/nonexistent-refsum-dir");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_THAT(std::string(elsewhere.status().message()),
              StartsWith("line 6: "));
}

TEST_F(PolicyTest, DuplicateVendorNameOrKey) {
  ExpectErrorOnLine(absl::StrCat("vendor acme keys/acme.pem\n", "vendor acme ",
                                 globex_->Base64Spki(), "\n"),
                    7, "vendor acme is already defined");
  ExpectErrorOnLine(absl::StrCat("vendor acme keys/acme.pem\n", "vendor other ",
                                 acme_->Base64Spki(), "\n"),
                    7, "the key of vendor other is already the key of acme");
}

TEST_F(PolicyTest, DuplicateRebuilderNameOrKey) {
  ExpectErrorOnLine(absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuilder R2 ",
                                 r2_->Base64Spki(), "\n", "rebuilder R1 ",
                                 r3_->Base64Spki(), "\n"),
                    8, "rebuilder R1 is already defined");
  ExpectErrorOnLine(absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuilder R9 ",
                                 r1_->Base64Spki(), "\n"),
                    7, "the key of rebuilder R9 is already the key of R1");
}

TEST_F(PolicyTest, RebuildGroupMembersMustBeDefinedEarlier) {
  ExpectErrorOnLine(
      absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuild-group g any R1 R2\n",
                   "rebuilder R2 ", r2_->Base64Spki(), "\n"),
      7, "member \"R2\" is not defined on an earlier line");
  ExpectErrorOnLine(absl::StrCat("rebuilder R1 keys/r1.pem\n",
                                 "rebuild-group g all R1 nobody\n"),
                    7, "member \"nobody\" is not defined");
  // Witnesses are not rebuilders.
  ExpectErrorOnLine("rebuild-group g any W1\n", 6,
                    "member \"W1\" is not defined");
  // A threshold above the member count.
  ExpectErrorOnLine(
      absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuild-group g 2 R1\n"), 7,
      "group \"g\" threshold");
}

TEST_F(PolicyTest, RebuildQuorumUndefinedTwiceOrMissing) {
  ExpectErrorOnLine("rebuild-quorum R1\n", 6,
                    "rebuild-quorum R1 names no rebuilder or rebuild-group");
  // Defined only after the quorum line.
  ExpectErrorOnLine(
      absl::StrCat("rebuild-quorum R1\n", "rebuilder R1 keys/r1.pem\n"), 6,
      "names no rebuilder or rebuild-group defined above");
  ExpectErrorOnLine(
      absl::StrCat("rebuilder R1 keys/r1.pem\n", "rebuild-quorum R1\n",
                   "rebuild-quorum none\n"),
      8, "a second rebuild-quorum line");

  const absl::StatusOr<Policy> missing =
      ParseWith("rebuilder R1 keys/r1.pem\non-mismatch warn\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("no rebuild-quorum line"));
}

TEST_F(PolicyTest, OnMismatchTwiceOrBadValue) {
  ExpectErrorOnLine("rebuild-quorum none\non-mismatch warn\non-mismatch warn\n",
                    8, "a second on-mismatch line");
  ExpectErrorOnLine("rebuild-quorum none\non-mismatch ignore\n", 7,
                    "on-mismatch takes reject or warn");
  ExpectErrorOnLine("rebuild-quorum none\non-mismatch WARN\n", 7,
                    "on-mismatch takes reject or warn");
}

TEST_F(PolicyTest, LineErrorsAreInvalidArgument) {
  const absl::StatusOr<Policy> policy = ParseWith("vendor acme\n");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PolicyTest, KeyFileErrorsAreInvalidArgument) {
  // policy.h: Parse returns InvalidArgument "line N: <problem>" for the first
  // bad line, "unreadable key files included".
  for (const char* line :
       {"vendor acme keys/missing.pem\n", "rebuilder R1 AAAA\n"}) {
    SCOPED_TRACE(line);
    const absl::StatusOr<Policy> policy = ParseWith(line);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument)
        << policy.status();
    EXPECT_THAT(std::string(policy.status().message()), StartsWith("line 6: "));
  }
}

TEST_F(PolicyTest, TlogPolicyErrorsStillApply) {
  // No quorum line in the tlog-policy part.
  const absl::StatusOr<Policy> policy = Policy::Parse(
      absl::StrCat("log ", log_vkey_, "\nrebuild-quorum none\n"), dir_);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(std::string(policy.status().message()),
              HasSubstr("no quorum line"));
}

TEST_F(PolicyTest, ReadFileErrorsStartWithThePath) {
  const std::string path = absl::StrCat(dir_, "/bad-policy");
  ASSERT_OK(WriteFileAtomically(
      path, absl::StrCat(CheckpointLines(), "vendor acme\n"), 0644));
  const absl::StatusOr<Policy> policy = Policy::ReadFile(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(std::string(policy.status().message()),
              StartsWith(absl::StrCat(path, ": line 6: ")));

  EXPECT_FALSE(Policy::ReadFile(absl::StrCat(dir_, "/no-such-policy")).ok());
}

}  // namespace
}  // namespace refsum::client
