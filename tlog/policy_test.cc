#include "tlog/policy.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"

namespace refsum::tlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Names = absl::flat_hash_set<std::string>;

// ---------------------------------------------------------------------------
// ThresholdGroups

// Returns groups with leaves a, b, c and group g = `threshold` of a b c.
ThresholdGroups OneGroup(absl::string_view threshold) {
  ThresholdGroups groups;
  for (absl::string_view leaf : {"a", "b", "c"}) {
    EXPECT_TRUE(groups.AddLeaf(leaf).ok());
  }
  const absl::string_view members[] = {"a", "b", "c"};
  const absl::Status status = groups.AddGroup("g", threshold, members);
  EXPECT_TRUE(status.ok()) << status;
  return groups;
}

TEST(ThresholdGroupsTest, AllAnyAndK) {
  const ThresholdGroups all = OneGroup("all");
  EXPECT_FALSE(all.Satisfied("g", {"a", "b"}));
  EXPECT_TRUE(all.Satisfied("g", {"a", "b", "c"}));

  const ThresholdGroups any = OneGroup("any");
  EXPECT_FALSE(any.Satisfied("g", {}));
  EXPECT_TRUE(any.Satisfied("g", {"c"}));

  const ThresholdGroups two = OneGroup("2");
  EXPECT_FALSE(two.Satisfied("g", {"a"}));
  EXPECT_TRUE(two.Satisfied("g", {"a", "c"}));
  EXPECT_TRUE(two.Satisfied("g", {"a", "b", "c"}));

  // Leading zeros are still decimal.
  EXPECT_TRUE(OneGroup("02").Satisfied("g", {"b", "c"}));
  EXPECT_FALSE(OneGroup("02").Satisfied("g", {"b"}));
}

TEST(ThresholdGroupsTest, LeavesAndNone) {
  const ThresholdGroups groups = OneGroup("any");
  EXPECT_TRUE(groups.Satisfied("a", {"a"}));
  EXPECT_FALSE(groups.Satisfied("a", {"b"}));
  EXPECT_TRUE(groups.Satisfied(ThresholdGroups::kNone, {}));
  EXPECT_TRUE(groups.IsDefined("none"));
  EXPECT_TRUE(groups.IsDefined("g"));
  EXPECT_FALSE(groups.IsDefined("h"));
  // Names outside the groups are ignored, and an undefined name fails closed.
  EXPECT_FALSE(groups.Satisfied("g", {"x", "y", "z"}));
  const ThresholdResult undefined = groups.Evaluate("h", {"a", "b", "c"});
  EXPECT_FALSE(undefined.satisfied);
  EXPECT_EQ(undefined.shortfall, "\"h\" is not defined");
}

TEST(ThresholdGroupsTest, NamesAreOpaqueOctets) {
  ThresholdGroups groups;
  ASSERT_TRUE(groups.AddLeaf("K").ok());
  ASSERT_TRUE(groups.AddLeaf("\xE2\x84\xAA").ok());  // KELVIN SIGN
  EXPECT_FALSE(groups.Satisfied("K", {"\xE2\x84\xAA"}));
  EXPECT_TRUE(groups.Satisfied("\xE2\x84\xAA", {"\xE2\x84\xAA"}));
}

// The spec's example: two organisations' witnesses, 2 of 3 X and any Y.
ThresholdGroups SpecExample() {
  ThresholdGroups groups;
  for (absl::string_view leaf : {"X1", "X2", "X3", "Y1", "Y2", "Y3"}) {
    EXPECT_TRUE(groups.AddLeaf(leaf).ok());
  }
  const absl::string_view xs[] = {"X1", "X2", "X3"};
  const absl::string_view ys[] = {"Y1", "Y2", "Y3"};
  const absl::string_view both[] = {"X-witnesses", "Y-witnesses"};
  EXPECT_TRUE(groups.AddGroup("X-witnesses", "2", xs).ok());
  EXPECT_TRUE(groups.AddGroup("Y-witnesses", "any", ys).ok());
  EXPECT_TRUE(groups.AddGroup("X-and-Y", "all", both).ok());
  return groups;
}

TEST(ThresholdGroupsTest, NestedGroups) {
  const ThresholdGroups groups = SpecExample();
  EXPECT_EQ(groups.leaf_count(), 6u);
  EXPECT_EQ(groups.group_count(), 3u);
  EXPECT_TRUE(groups.Satisfied("X-and-Y", {"X1", "X3", "Y2"}));
  EXPECT_FALSE(groups.Satisfied("X-and-Y", {"X1", "Y1", "Y2", "Y3"}));
  EXPECT_FALSE(groups.Satisfied("X-and-Y", {"X1", "X2", "X3"}));
  EXPECT_TRUE(groups.Satisfied("X-witnesses", {"X1", "X2"}));
}

TEST(ThresholdGroupsTest, CountedLeavesAreThoseTheResultRestsOn) {
  const ThresholdGroups groups = SpecExample();
  const ThresholdResult met =
      groups.Evaluate("X-and-Y", {"Y3", "X3", "X1", "Y1", "other"});
  ASSERT_TRUE(met.satisfied);
  EXPECT_THAT(met.counted, ElementsAre("X1", "X3", "Y1", "Y3"));
  EXPECT_THAT(met.shortfall, IsEmpty());

  // With X short, X1 did not help the "any" group above it.
  ThresholdGroups either;
  for (absl::string_view leaf : {"X1", "X2", "Y1"}) {
    ASSERT_TRUE(either.AddLeaf(leaf).ok());
  }
  const absl::string_view xs[] = {"X1", "X2"};
  const absl::string_view ys[] = {"Y1"};
  const absl::string_view both[] = {"X", "Y"};
  ASSERT_TRUE(either.AddGroup("X", "all", xs).ok());
  ASSERT_TRUE(either.AddGroup("Y", "all", ys).ok());
  ASSERT_TRUE(either.AddGroup("X-or-Y", "any", both).ok());
  const ThresholdResult partial = either.Evaluate("X-or-Y", {"X1", "Y1"});
  ASSERT_TRUE(partial.satisfied);
  EXPECT_THAT(partial.counted, ElementsAre("Y1"));

  EXPECT_THAT(groups.Evaluate("X1", {"X1"}).counted, ElementsAre("X1"));
  EXPECT_THAT(groups.Evaluate("none", {"X1"}).counted, IsEmpty());
  EXPECT_THAT(groups.Evaluate("X-and-Y", {"X1"}).counted, IsEmpty());
}

TEST(ThresholdGroupsTest, ShortfallNamesEveryUnsatisfiedGroup) {
  const ThresholdGroups groups = SpecExample();
  EXPECT_EQ(groups.Evaluate("X-and-Y", {"X1", "Y1"}).shortfall,
            "group X-and-Y needs 2 of X-witnesses Y-witnesses; "
            "group X-witnesses needs 2 of X1 X2 X3");
  EXPECT_EQ(groups.Evaluate("X-and-Y", {}).shortfall,
            "group X-and-Y needs 2 of X-witnesses Y-witnesses; "
            "group X-witnesses needs 2 of X1 X2 X3; "
            "group Y-witnesses needs 1 of Y1 Y2 Y3");
  EXPECT_EQ(groups.Evaluate("X2", {"X1"}).shortfall, "needs X2");
}

TEST(ThresholdGroupsTest, RejectsBadThresholds) {
  for (absl::string_view threshold :
       {"0", "4", "00", "-1", "+1", "1.0", "two", "ALL", "Any", "",
        "99999999999999999999999"}) {
    ThresholdGroups groups;
    for (absl::string_view leaf : {"a", "b", "c"}) {
      ASSERT_TRUE(groups.AddLeaf(leaf).ok());
    }
    const absl::string_view members[] = {"a", "b", "c"};
    const absl::Status status = groups.AddGroup("g", threshold, members);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << threshold;
    EXPECT_THAT(status.message(), HasSubstr("group \"g\" threshold"));
    EXPECT_FALSE(groups.IsDefined("g"));
  }
}

TEST(ThresholdGroupsTest, RejectsBadNamesAndMembers) {
  ThresholdGroups groups = OneGroup("any");
  const absl::string_view a[] = {"a"};
  const absl::string_view none[] = {"none"};
  const absl::string_view forward[] = {"later"};
  const absl::string_view b_twice[] = {"b", "b"};
  const absl::string_view c_twice[] = {"c", "c"};

  EXPECT_THAT(groups.AddLeaf("a").message(),
              HasSubstr("\"a\" is already defined"));
  EXPECT_THAT(groups.AddLeaf("g").message(),
              HasSubstr("\"g\" is already defined"));
  EXPECT_THAT(groups.AddLeaf("none").message(), HasSubstr("predefined"));
  EXPECT_THAT(groups.AddLeaf("").message(), HasSubstr("empty name"));
  EXPECT_THAT(groups.AddGroup("none", "any", a).message(),
              HasSubstr("predefined"));
  EXPECT_THAT(groups.AddGroup("a", "any", a).message(),
              HasSubstr("already defined"));
  EXPECT_THAT(groups.AddGroup("h", "any", {}).message(),
              HasSubstr("group \"h\" has no members"));
  EXPECT_THAT(groups.AddGroup("h", "any", none).message(),
              HasSubstr("\"none\" cannot be a group member"));
  EXPECT_THAT(groups.AddGroup("h", "any", forward).message(),
              HasSubstr("member \"later\" is not defined on an earlier line"));

  // Each name is a member at most once: not twice in a group, nor in two.
  EXPECT_THAT(groups.AddGroup("h", "any", a).message(),
              HasSubstr("\"a\" is already a member of group \"g\""));
  ThresholdGroups fresh;
  ASSERT_TRUE(fresh.AddLeaf("b").ok());
  ASSERT_TRUE(fresh.AddLeaf("c").ok());
  EXPECT_THAT(fresh.AddGroup("h", "any", b_twice).message(),
              HasSubstr("group \"h\" lists \"b\" twice"));
  // A failed definition leaves everything as it was: b is still free.
  EXPECT_FALSE(fresh.IsDefined("h"));
  const absl::string_view b[] = {"b"};
  EXPECT_TRUE(fresh.AddGroup("h", "all", b).ok());
  EXPECT_THAT(fresh.AddGroup("i", "1", c_twice).message(), HasSubstr("twice"));
  // A group cannot name itself: it is not defined before its own line.
  const absl::string_view self[] = {"j"};
  EXPECT_THAT(fresh.AddGroup("j", "any", self).message(),
              HasSubstr("not defined on an earlier line"));
}

TEST(ThresholdGroupsTest, Limits) {
  ThresholdGroups groups;
  for (size_t i = 0; i < ThresholdGroups::kMaxLeaves; ++i) {
    ASSERT_TRUE(groups.AddLeaf(absl::StrCat("w", i)).ok());
  }
  EXPECT_THAT(groups.AddLeaf("one-more").message(),
              HasSubstr("more than 256 leaves"));
  for (size_t i = 0; i < ThresholdGroups::kMaxGroups; ++i) {
    const std::string member = absl::StrCat("w", i);
    const absl::string_view members[] = {member};
    ASSERT_TRUE(groups.AddGroup(absl::StrCat("g", i), "all", members).ok());
  }
  const absl::string_view members[] = {"g0"};
  EXPECT_THAT(groups.AddGroup("one-more", "any", members).message(),
              HasSubstr("more than 256 groups"));
}

// ---------------------------------------------------------------------------
// ParseTlogPolicy

crypto::PrivateKey NewKey() {
  return crypto::PrivateKey::Generate(crypto::KeyType::kEd25519).value();
}

std::string LogVkey(absl::string_view origin, const crypto::PrivateKey& key) {
  return crypto::FormatVerifierKey(origin, crypto::kNoteSignatureTypeEd25519,
                                   key.public_key())
      .value();
}

std::string WitnessVkey(absl::string_view name, const crypto::PrivateKey& key) {
  return crypto::FormatVerifierKey(
             name, crypto::kNoteSignatureTypeCosignatureV1, key.public_key())
      .value();
}

std::string NewLogVkey(absl::string_view origin) {
  return LogVkey(origin, NewKey());
}

std::string NewWitnessVkey(absl::string_view name) {
  return WitnessVkey(name, NewKey());
}

// Expects ParseTlogPolicy(text) to fail with InvalidArgument and exactly
// `message`.
void ExpectParseError(absl::string_view text, absl::string_view message) {
  const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(text);
  ASSERT_FALSE(policy.ok()) << text;
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(), message) << text;
}

TEST(ParseTlogPolicyTest, SpecExample) {
  const std::string log = NewLogVkey("example.com/log");
  std::vector<std::string> vkeys;
  for (int i = 0; i < 6; ++i) {
    vkeys.push_back(NewWitnessVkey(absl::StrCat("witness", i, ".example")));
  }
  // One policy line per source line.
  // clang-format off
  const std::string text = absl::StrCat(
      "log ", log, "\n",
      "\n",
      "witness X1 ", vkeys[0], "\n",
      "witness X2 ", vkeys[1], " https://x2.example/witness\n",
      "witness X3 ", vkeys[2], "\n",
      "group X-witnesses 2 X1 X2 X3\n",
      "\n",
      "witness Y1 ", vkeys[3], "\n",
      "witness Y2 ", vkeys[4], "\n",
      "witness Y3 ", vkeys[5], "\n",
      "group Y-witnesses any Y1 Y2 Y3\n",
      "\n",
      "group X-and-Y all X-witnesses Y-witnesses\n",
      "quorum X-and-Y\n");
  // clang-format on
  const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(text);
  ASSERT_TRUE(policy.ok()) << policy.status();

  ASSERT_EQ(policy->logs().size(), 1u);
  EXPECT_EQ(policy->logs()[0].vkey, log);
  EXPECT_EQ(policy->logs()[0].origin, "example.com/log");
  EXPECT_EQ(policy->logs()[0].url, "");
  EXPECT_EQ(policy->logs()[0].line, 1);
  EXPECT_EQ(policy->logs()[0].verifier->name(), "example.com/log");

  ASSERT_EQ(policy->witnesses().size(), 6u);
  const PolicyWitness& x2 = policy->witnesses()[1];
  EXPECT_EQ(x2.name, "X2");
  EXPECT_EQ(x2.vkey, vkeys[1]);
  EXPECT_EQ(x2.url, "https://x2.example/witness");
  EXPECT_EQ(x2.line, 4);
  EXPECT_EQ(x2.verifier->name(), "witness1.example");
  EXPECT_EQ(x2.verifier->key_id(), crypto::ParseVerifierKey(vkeys[1])->key_id);
  EXPECT_EQ(policy->FindWitness("X2"), &x2);
  EXPECT_EQ(policy->FindWitness("X-witnesses"), nullptr);
  EXPECT_EQ(policy->witnesses()[5].name, "Y3");

  EXPECT_EQ(policy->quorum(), "X-and-Y");
  EXPECT_EQ(policy->groups().group_count(), 3u);
  EXPECT_TRUE(policy->EvaluateQuorum({"X1", "X2", "Y3"}).satisfied);
  EXPECT_FALSE(policy->EvaluateQuorum({"X1", "Y1", "Y2"}).satisfied);

  // Copies share the verifiers.
  const TlogPolicy copy = *policy;
  EXPECT_EQ(copy.witnesses()[1].verifier, x2.verifier);
}

TEST(ParseTlogPolicyTest, WhitespaceCommentsAndBlankLines) {
  const std::string log = NewLogVkey("example.com/log");
  const std::string w = NewWitnessVkey("w.example");
  // One policy line per source line.
  // clang-format off
  const std::string text = absl::StrCat(
      "# A comment.\n",
      "   \t# An indented comment, with # inside and\xC3\xA9 UTF-8.\n",
      " \t \n",
      "\n",
      "\t log  \t", log, "\t https://log.example/#fragment \t\n",
      "witness #w ", w, "\n",
      "  quorum\t#w  \n");
  // clang-format on
  const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(text);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->logs()[0].url, "https://log.example/#fragment");
  EXPECT_EQ(policy->logs()[0].line, 5);
  // '#' starts a comment only at the start of a line; elsewhere it is data.
  EXPECT_EQ(policy->witnesses()[0].name, "#w");
  EXPECT_EQ(policy->quorum(), "#w");
}

TEST(ParseTlogPolicyTest, QuorumNoneAndEmptySets) {
  const absl::StatusOr<TlogPolicy> none = ParseTlogPolicy("quorum none\n");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(none->logs(), IsEmpty());
  EXPECT_THAT(none->witnesses(), IsEmpty());
  EXPECT_EQ(none->quorum(), "none");
  EXPECT_TRUE(none->EvaluateQuorum({}).satisfied);

  const std::string w = NewWitnessVkey("w.example");
  const absl::StatusOr<TlogPolicy> single =
      ParseTlogPolicy(absl::StrCat("witness w ", w, "\nquorum w\n"));
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_TRUE(single->EvaluateQuorum({"w"}).satisfied);
  EXPECT_EQ(single->EvaluateQuorum({}).shortfall, "needs w");
}

TEST(ParseTlogPolicyTest, RejectsOctetsOutsideTheCharacterSet) {
  for (const char octet : {'\0', '\r', '\x0b', '\x0c', '\x1f', '\x7f'}) {
    std::string text = "# fine\nquorum none\n# bad: x\n";
    text[text.size() - 2] = octet;
    const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(text);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(policy.status().message(),
                HasSubstr(absl::StrCat(
                    "line 3: octet 0x",
                    absl::Hex(static_cast<uint8_t>(octet), absl::kZeroPad2),
                    " is not allowed")));
  }
  // CRLF line ends are therefore errors, on the first line.
  ExpectParseError("quorum none\r\n",
                   "line 1: octet 0x0d is not allowed (only tab, newline, "
                   "0x20-0x7E and 0x80-0xFF)");
  // Octets with the high bit set are allowed anywhere, even invalid UTF-8.
  EXPECT_TRUE(ParseTlogPolicy("# \xff\x80\nquorum none\n").ok());
}

TEST(ParseTlogPolicyTest, EveryLineEndsInANewline) {
  ExpectParseError("quorum none",
                   "line 1: the last line does not end in a newline (is the "
                   "file truncated?)");
  ExpectParseError("quorum none\n# end",
                   "line 2: the last line does not end in a newline (is the "
                   "file truncated?)");
}

TEST(ParseTlogPolicyTest, QuorumLineRules) {
  const std::string w = NewWitnessVkey("w.example");
  ExpectParseError("", "policy has no quorum line");
  ExpectParseError("# only a comment\n", "policy has no quorum line");
  ExpectParseError(absl::StrCat("witness w ", w, "\n"),
                   "policy has no quorum line");
  ExpectParseError("quorum none\n\nquorum none\n",
                   "line 3: second quorum line (the first is line 1)");
  ExpectParseError(absl::StrCat("quorum w\nwitness w ", w, "\n"),
                   "line 1: quorum \"w\" is not none or a witness or group "
                   "defined on an earlier line");
  ExpectParseError("quorum\n",
                   "line 1: quorum line has 1 fields, want: quorum <name>");
  ExpectParseError("quorum a b\n",
                   "line 1: quorum line has 3 fields, want: quorum <name>");
  ExpectParseError("quorum none # the quorum\n",
                   "line 1: quorum line has 5 fields, want: quorum <name> "
                   "(comments must be on lines of their own)");
  // Keywords are case-sensitive.
  ExpectParseError("Quorum none\n", "line 1: unknown keyword \"Quorum\"");
}

TEST(ParseTlogPolicyTest, LogLineRules) {
  const crypto::PrivateKey key = NewKey();
  const std::string log = LogVkey("example.com/log", key);
  ExpectParseError("log\nquorum none\n",
                   "line 1: log line has 1 fields, want: log <vkey> [<url>]");
  ExpectParseError(absl::StrCat("log ", log, " https://a https://b\n"),
                   "line 1: log line has 4 fields, want: log <vkey> [<url>]");
  ExpectParseError(absl::StrCat("\nlog ", log, " # main\n"),
                   "line 2: log line has 4 fields, want: log <vkey> [<url>] "
                   "(comments must be on lines of their own)");
  // A cosignature key is not a log key.
  ExpectParseError(
      absl::StrCat("log ", WitnessVkey("example.com/log", key), "\n"),
      "line 1: log key: verifier key \"example.com/log\" has signature type "
      "0x04, want 0x01 (Ed25519)");
  // A vkey whose key ID does not match.
  const std::string bad_id =
      absl::StrReplaceAll(log, {{"example.com/log+", "example.com/other+"}});
  ExpectParseError(absl::StrCat("log ", bad_id, "\n"),
                   "line 1: log key: verifier key \"example.com/other\" has a "
                   "key ID that does not match its key");
  ExpectParseError("log not-a-vkey\n",
                   "line 1: log key: verifier key is not of the form "
                   "<name>+<key ID>+<base64 key>");
}

TEST(ParseTlogPolicyTest, RejectsDuplicateLogsByPublicKey) {
  const crypto::PrivateKey key = NewKey();
  // Other names, hence other key IDs, but the same public key.
  ExpectParseError(
      absl::StrCat("log ", LogVkey("a.example/log", key), "\n", "# between\n",
                   "log ", LogVkey("b.example/log", key), "\n",
                   "quorum none\n"),
      "line 3: log key has the same public key as the log on "
      "line 1");
  // Two keys for one origin are two logs, e.g. across a key rotation.
  const absl::StatusOr<TlogPolicy> two = ParseTlogPolicy(
      absl::StrCat("log ", LogVkey("a.example/log", key), "\n", "log ",
                   NewLogVkey("a.example/log"), "\n", "quorum none\n"));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->logs().size(), 2u);
}

TEST(ParseTlogPolicyTest, WitnessLineRules) {
  const crypto::PrivateKey key = NewKey();
  const std::string w = WitnessVkey("w.example", key);
  ExpectParseError("witness w\n",
                   "line 1: witness line has 2 fields, want: witness <name> "
                   "<vkey> [<url>]");
  ExpectParseError(absl::StrCat("witness w ", w, " https://w # note\n"),
                   "line 1: witness line has 6 fields, want: witness <name> "
                   "<vkey> [<url>] (comments must be on lines of their own)");
  ExpectParseError(
      absl::StrCat("witness w ", LogVkey("w.example", key), "\n"),
      "line 1: witness key: verifier key \"w.example\" has signature type "
      "0x01, want 0x04 (cosignature/v1)");
  ExpectParseError(absl::StrCat("witness none ", w, "\n"),
                   "line 1: the name \"none\" is predefined and cannot be "
                   "defined again");
  ExpectParseError(
      absl::StrCat("witness w ", w, "\nwitness w ", NewWitnessVkey("v"), "\n"),
      "line 2: the name \"w\" is already defined");
  // Duplicate keys by public key, even under other names and key IDs.
  ExpectParseError(absl::StrCat("witness w ", w, "\n", "witness v ",
                                WitnessVkey("v.example", key), "\n"),
                   "line 2: witness key has the same public key as witness "
                   "\"w\" on line 1");
  // The same key as a log and as a witness are different roles, and not
  // duplicates in the spec's sense (the type byte separates their key IDs).
  EXPECT_TRUE(ParseTlogPolicy(absl::StrCat("log ", LogVkey("w.example", key),
                                           "\nwitness w ", w, "\nquorum w\n"))
                  .ok());
}

TEST(ParseTlogPolicyTest, GroupLineRules) {
  std::string text;
  for (absl::string_view name : {"a", "b", "c"}) {
    absl::StrAppend(&text, "witness ", name, " ",
                    NewWitnessVkey(absl::StrCat(name, ".example")), "\n");
  }
  ExpectParseError(text + "group g any\n",
                   "line 4: group line has 3 fields, want: group <name> "
                   "all|any|<k> <member>...");
  ExpectParseError(text + "group g 4 a b c\n",
                   "line 4: group \"g\" threshold 4 is not between 1 and its "
                   "number of members, 3");
  ExpectParseError(text + "group g 0 a b c\n",
                   "line 4: group \"g\" threshold 0 is not between 1 and its "
                   "number of members, 3");
  ExpectParseError(text + "group g most a b c\n",
                   "line 4: group \"g\" threshold \"most\" is not all, any or "
                   "a decimal number");
  ExpectParseError(text + "group g any a d\n",
                   "line 4: group \"g\": member \"d\" is not defined on an "
                   "earlier line");
  ExpectParseError(text + "group g any a none\n",
                   "line 4: group \"g\": \"none\" cannot be a group member");
  ExpectParseError(text + "group g any a b a\n",
                   "line 4: group \"g\" lists \"a\" twice");
  ExpectParseError(text + "group g any a b\ngroup h any b c\n",
                   "line 5: group \"h\": \"b\" is already a member of group "
                   "\"g\" (a name may be a group member only once)");
  ExpectParseError(text + "group a any b c\n",
                   "line 4: the name \"a\" is already defined");
  // A forward reference to a group is rejected, like one to a witness.
  ExpectParseError(text + "group g any a h\ngroup h any b c\n",
                   "line 4: group \"g\": member \"h\" is not defined on an "
                   "earlier line");
  // Groups may follow the quorum line; only names used must come earlier.
  EXPECT_TRUE(ParseTlogPolicy(text + "quorum a\ngroup g all b c\n").ok());
}

TEST(ParseTlogPolicyTest, SupportsTheRecommendedMinimumsAndEnforcesLimits) {
  std::string text;
  for (int i = 0; i < 32; ++i) {
    absl::StrAppend(&text, "log ", NewLogVkey(absl::StrCat("log", i)), "\n");
    absl::StrAppend(&text, "witness w", i, " ",
                    NewWitnessVkey(absl::StrCat("w", i)), "\n");
    absl::StrAppend(&text, "group g", i, " 1 w", i, "\n");
  }
  const absl::StatusOr<TlogPolicy> policy =
      ParseTlogPolicy(text + "quorum g31\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->logs().size(), 32u);
  EXPECT_EQ(policy->witnesses().size(), 32u);
  EXPECT_EQ(policy->groups().group_count(), 32u);

  std::string logs;
  for (size_t i = 0; i <= TlogPolicy::kMaxPolicyLogs; ++i) {
    absl::StrAppend(&logs, "log ", NewLogVkey("log"), "\n");
  }
  ExpectParseError(logs, "line 257: more than 256 logs");
  std::string witnesses;
  for (size_t i = 0; i <= ThresholdGroups::kMaxLeaves; ++i) {
    absl::StrAppend(&witnesses, "witness w", i, " ", NewWitnessVkey("w"), "\n");
  }
  ExpectParseError(witnesses, "line 257: more than 256 witnesses");
}

TEST(ParseTlogPolicyTest, ExtraLinesGoToTheHandler) {
  const std::string w = NewWitnessVkey("w.example");
  // One policy line per source line.
  // clang-format off
  const std::string text = absl::StrCat(
      "# refsum client policy\n",
      "rebuilder r1 key1\n",
      "witness w ", w, "\n",
      "\n",
      "rebuild-quorum \t r1  \n",
      "quorum w\n",
      "on-mismatch\n");
  // clang-format on
  std::vector<std::string> seen;
  const ExtraLineHandler handler = [&seen](const PolicyLine& line) {
    std::string fields;
    for (absl::string_view arg : line.args) absl::StrAppend(&fields, "|", arg);
    seen.push_back(absl::StrCat(line.number, " ", line.keyword, fields));
    return absl::OkStatus();
  };
  const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(text, handler);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(seen, ElementsAre("2 rebuilder|r1|key1", "5 rebuild-quorum|r1",
                                "7 on-mismatch"));
  EXPECT_EQ(policy->witnesses().size(), 1u);

  // Without a handler the same lines are errors.
  ExpectParseError(text, "line 2: unknown keyword \"rebuilder\"");

  // A handler's error gets the line number, and keeps its code.
  const ExtraLineHandler failing = [](const PolicyLine& line) {
    if (line.keyword == "rebuild-quorum") {
      return absl::NotFoundError("rebuild group \"r1\" is not defined");
    }
    return absl::OkStatus();
  };
  const absl::StatusOr<TlogPolicy> failed = ParseTlogPolicy(text, failing);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.status().message(),
            "line 5: rebuild group \"r1\" is not defined");
}

// ---------------------------------------------------------------------------
// VerifyCheckpoint

constexpr absl::string_view kOrigin = "log.example/refsum";

class VerifyCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_signer_ = crypto::NewEd25519NoteSigner(kOrigin, log_key_).value();
    for (int i = 1; i <= 4; ++i) {
      witness_keys_.push_back(NewKey());
      const std::string name = absl::StrCat("w", i, ".example");
      witness_signers_.push_back(
          crypto::NewCosignatureV1Signer(name, witness_keys_.back(), [i] {
            return 1700000000u + i;
          }).value());
    }
    Checkpoint checkpoint;
    checkpoint.origin = std::string(kOrigin);
    checkpoint.size = 42;
    checkpoint.root.fill(7);
    body_ = FormatCheckpointBody(checkpoint).value();
  }

  // The policy: the log, witnesses w1-w3 (w4 is unknown to it), and a
  // quorum of `quorum`.
  TlogPolicy Policy(absl::string_view groups_and_quorum) const {
    std::string text = absl::StrCat("log ", LogVkey(kOrigin, log_key_), "\n");
    for (int i = 0; i < 3; ++i) {
      absl::StrAppend(
          &text, "witness w", i + 1, " ",
          WitnessVkey(witness_signers_[i]->name(), witness_keys_[i]), "\n");
    }
    return ParseTlogPolicy(absl::StrCat(text, groups_and_quorum)).value();
  }

  // Returns body_ signed by the log (unless !with_log) and cosigned by the
  // witnesses with the given 1-based numbers.
  std::string Sign(std::vector<int> witnesses, bool with_log = true) const {
    std::vector<const crypto::NoteSigner*> signers;
    if (with_log) signers.push_back(log_signer_.get());
    for (const int i : witnesses) {
      signers.push_back(witness_signers_[i - 1].get());
    }
    return crypto::SignNote(body_, signers).value();
  }

  crypto::PrivateKey log_key_ = NewKey();
  std::unique_ptr<crypto::NoteSigner> log_signer_;
  std::vector<crypto::PrivateKey> witness_keys_;
  std::vector<std::unique_ptr<crypto::NoteSigner>> witness_signers_;
  std::string body_;
};

constexpr absl::string_view kTwoOfThree = "group g 2 w1 w2 w3\nquorum g\n";

TEST_F(VerifyCheckpointTest, QuorumMet) {
  const std::string note = Sign({3, 1});
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(Policy(kTwoOfThree), note);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->checkpoint, *ParseCheckpointBody(body_));
  ASSERT_EQ(verified->cosignatures.size(), 2u);
  EXPECT_EQ(verified->cosignatures[0].witness, "w3");
  EXPECT_EQ(verified->cosignatures[0].timestamp, 1700000003u);
  EXPECT_EQ(verified->cosignatures[0].signature.name, "w3.example");
  EXPECT_EQ(verified->cosignatures[1].witness, "w1");
  EXPECT_EQ(verified->cosignatures[1].timestamp, 1700000001u);
  EXPECT_EQ(verified->note.text, body_);
  EXPECT_EQ(verified->note.verified.size(), 3u);
  EXPECT_THAT(verified->note.unverified, IsEmpty());
}

TEST_F(VerifyCheckpointTest, QuorumNotMet) {
  const absl::StatusOr<VerifiedCheckpoint> one =
      VerifyCheckpoint(Policy(kTwoOfThree), Sign({1}));
  EXPECT_EQ(one.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(one.status().message(),
            "checkpoint cosignatures do not meet the quorum: have w1; group g "
            "needs 2 of w1 w2 w3");
  const absl::StatusOr<VerifiedCheckpoint> none =
      VerifyCheckpoint(Policy("quorum w2\n"), Sign({}));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(none.status().message(),
            "checkpoint cosignatures do not meet the quorum: have none; "
            "needs w2");
}

TEST_F(VerifyCheckpointTest, QuorumNoneNeedsOnlyTheLog) {
  const absl::StatusOr<VerifiedCheckpoint> bare =
      VerifyCheckpoint(Policy("quorum none\n"), Sign({}));
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_THAT(bare->cosignatures, IsEmpty());
  // Cosignatures by policy witnesses are still verified and reported.
  const absl::StatusOr<VerifiedCheckpoint> cosigned =
      VerifyCheckpoint(Policy("quorum none\n"), Sign({2}));
  ASSERT_TRUE(cosigned.ok()) << cosigned.status();
  ASSERT_EQ(cosigned->cosignatures.size(), 1u);
  EXPECT_EQ(cosigned->cosignatures[0].witness, "w2");
}

TEST_F(VerifyCheckpointTest, UnknownWitnessIsIgnored) {
  // w4 is not in the policy: it neither helps nor hurts.
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(Policy(kTwoOfThree), Sign({4, 2, 3}));
  ASSERT_TRUE(verified.ok()) << verified.status();
  ASSERT_EQ(verified->cosignatures.size(), 2u);
  ASSERT_EQ(verified->note.unverified.size(), 1u);
  EXPECT_EQ(verified->note.unverified[0].name, "w4.example");
  EXPECT_EQ(VerifyCheckpoint(Policy(kTwoOfThree), Sign({4, 2})).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(VerifyCheckpointTest, TamperedCosignatureRejectsTheNote) {
  crypto::Note note = crypto::ParseNote(Sign({1, 2, 3})).value();
  note.signatures[2].signature[20] ^= 1;  // w2's Ed25519 signature
  // Two good cosignatures would meet the quorum, yet a bad signature by a
  // known key rejects the whole note (signed-note).
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(Policy(kTwoOfThree), crypto::FormatNote(note));
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(verified.status().message(),
              HasSubstr("checkpoint has a bad signature: note signature by "
                        "known key w2.example+"));

  // A changed timestamp is tampering too: it is signed over.
  note = crypto::ParseNote(Sign({1, 2})).value();
  note.signatures[1].signature[7] ^= 1;
  EXPECT_EQ(VerifyCheckpoint(Policy(kTwoOfThree), crypto::FormatNote(note))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(VerifyCheckpointTest, TamperedBodyFailsTheLogSignature) {
  const std::string note = absl::StrReplaceAll(
      Sign({1, 2}), {{absl::StrCat("\n42\n"), absl::StrCat("\n43\n")}});
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(Policy(kTwoOfThree), note);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(verified.status().message(),
              HasSubstr("checkpoint has a bad signature: note signature by "
                        "known key log.example/refsum+"));
}

TEST_F(VerifyCheckpointTest, LogSignatureIsRequired) {
  const absl::StatusOr<VerifiedCheckpoint> verified = VerifyCheckpoint(
      Policy(kTwoOfThree), Sign({1, 2, 3}, /*with_log=*/false));
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verified.status().message(),
            "checkpoint is not signed by a log in the policy (origin "
            "log.example/refsum)");
}

TEST_F(VerifyCheckpointTest, LogKeyNotInPolicy) {
  // Signed under the right origin, by another key.
  const auto impostor = crypto::NewEd25519NoteSigner(kOrigin, NewKey()).value();
  const crypto::NoteSigner* signers[] = {
      impostor.get(), witness_signers_[0].get(), witness_signers_[1].get()};
  const absl::StatusOr<VerifiedCheckpoint> verified = VerifyCheckpoint(
      Policy(kTwoOfThree), crypto::SignNote(body_, signers).value());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verified.status().message(),
            "checkpoint is not signed by a log in the policy (origin "
            "log.example/refsum)");
}

TEST_F(VerifyCheckpointTest, WrongOrigin) {
  // The policy's log key signs a checkpoint of another origin: its key name
  // is not that origin, so it does not count.
  const std::string other =
      absl::StrReplaceAll(body_, {{std::string(kOrigin), "other.example/log"}});
  const crypto::NoteSigner* signers[] = {
      log_signer_.get(), witness_signers_[0].get(), witness_signers_[1].get()};
  const absl::StatusOr<VerifiedCheckpoint> verified = VerifyCheckpoint(
      Policy(kTwoOfThree), crypto::SignNote(other, signers).value());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verified.status().message(),
            "checkpoint is not signed by a log in the policy (origin "
            "other.example/log)");
}

TEST_F(VerifyCheckpointTest, MalformedNotes) {
  const TlogPolicy policy = Policy(kTwoOfThree);
  for (const std::string& note :
       {std::string("not a note"), std::string(body_),
        // A body that is not a checkpoint.
        crypto::SignNote("hello\n", {log_signer_.get()}).value()}) {
    const absl::StatusOr<VerifiedCheckpoint> verified =
        VerifyCheckpoint(policy, note);
    EXPECT_EQ(verified.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(verified.status().message(),
                HasSubstr("checkpoint is malformed: "));
  }
  // Two signatures by one key.
  const std::string note = Sign({1, 2});
  const std::string doubled = note + note.substr(note.rfind("\xe2\x80\x94 "));
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(policy, doubled);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(verified.status().message(),
              HasSubstr("checkpoint is malformed: note has two signatures by "
                        "key w2.example+"));
}

// The arche2025h1 checkpoint of crypto/cosignature_test.cc, as served with
// public witnesses' cosignatures: an interop check against real signers.
constexpr absl::string_view kRealCheckpoint =
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "\xe2\x80\x94 arche2025h1.staging.ct.transparency.dev "
    "zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIg"
    "IpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "\xe2\x80\x94 arche2025h1.staging.ct.transparency.dev "
    "ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei5"
    "9RA23oHP7Ry1k3ZFWwQ=\n"
    "\xe2\x80\x94 transparency.dev/DEV:witness-little-garden "
    "2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4Ascy"
    "lP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "\xe2\x80\x94 witness1.smartit.nu/witness1 "
    "pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5"
    "hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "\xe2\x80\x94 remora.n621.de "
    "2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVC"
    "IobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "\xe2\x80\x94 witness.stagemole.eu "
    "Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJ"
    "mIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";

constexpr absl::string_view kRealPolicy =
    "# arche2025h1 with two of its public witnesses\n"
    "log arche2025h1.staging.ct.transparency.dev+ba2f06c0+"
    "AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f\n"
    "witness remora "
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2\n"
    "witness stagemole "
    "witness.stagemole.eu+67f7aea0+"
    "BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv\n"
    "group both all remora stagemole\n"
    "quorum both\n";

TEST(VerifyCheckpointInteropTest, PublicCheckpointAndWitnesses) {
  const absl::StatusOr<TlogPolicy> policy = ParseTlogPolicy(kRealPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(*policy, kRealCheckpoint);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->checkpoint.origin,
            "arche2025h1.staging.ct.transparency.dev");
  EXPECT_EQ(verified->checkpoint.size, 1432088532u);
  ASSERT_EQ(verified->cosignatures.size(), 2u);
  EXPECT_EQ(verified->cosignatures[0].witness, "remora");
  EXPECT_EQ(verified->cosignatures[0].timestamp, 0x6a122120u);
  EXPECT_EQ(verified->cosignatures[1].witness, "stagemole");
  // The RFC 6962 signature and two other witnesses are not policy keys.
  EXPECT_EQ(verified->note.unverified.size(), 3u);

  // Tampering with the body fails; so does a quorum the note cannot meet.
  EXPECT_EQ(VerifyCheckpoint(
                *policy, absl::StrReplaceAll(kRealCheckpoint,
                                             {{"1432088532", "1432088533"}}))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace refsum::tlog
