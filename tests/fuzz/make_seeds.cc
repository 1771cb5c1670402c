// Writes the seed corpora of the fuzz targets that read signed or
// structured data: valid inputs made with the same test support the unit
// tests use (client/testing.h: a real log key, witnesses, vendor and
// rebuilder keys, sample claims and attestations, real proofs).
//
//   bazel run //tests/fuzz:make_seeds -- $PWD/tests/fuzz/corpus
//
// Keys are fresh on every run, so the seeds differ from run to run; they
// are committed once and only need to be valid. The hex, base64 and json
// seeds and the witness configuration example are written by hand.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/testing.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "encoding/base64.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/value_spec.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/tiles.h"
#include "tlog/tlog_proof.h"
#include "tlog/witness_protocol.h"

namespace refsum::fuzz {
namespace {

using client::testing::TestLog;
using client::testing::TestSigner;
using client::testing::TestWitness;

class SeedWriter {
 public:
  explicit SeedWriter(std::string root) : root_(std::move(root)) {}

  absl::Status Write(absl::string_view target, absl::string_view name,
                     absl::string_view contents) {
    const std::string dir = absl::StrCat(root_, "/", target);
    RETURN_IF_ERROR(MakeDirectories(dir, 0755));
    const std::string path = absl::StrCat(dir, "/", name);
    RETURN_IF_ERROR(WriteFileAtomically(path, contents, 0644));
    std::printf("%s (%zu bytes)\n", path.c_str(), contents.size());
    return absl::OkStatus();
  }

 private:
  std::string root_;
};

// The body of a signed note: its text, before the blank line.
absl::StatusOr<std::string> NoteText(absl::string_view signed_note) {
  ASSIGN_OR_RETURN(crypto::Note note, crypto::ParseNote(signed_note));
  return note.text;
}

absl::Status WriteSeeds(const std::string& root) {
  SeedWriter out(root);
  ASSIGN_OR_RETURN(TestLog log, TestLog::Create("log.example.org/refsum"));
  ASSIGN_OR_RETURN(TestWitness w1, client::testing::NewTestWitness(
                                       "w1", "witness.example.org/w1"));
  ASSIGN_OR_RETURN(TestWitness w2, client::testing::NewTestWitness(
                                       "w2", "witness.example.org/w2"));
  ASSIGN_OR_RETURN(TestSigner vendor,
                   client::testing::NewTestSigner("example-vendor",
                                                  crypto::KeyType::kEcdsaP256));
  ASSIGN_OR_RETURN(TestSigner rebuilder,
                   client::testing::NewTestSigner("w1-rebuilder",
                                                  crypto::KeyType::kEd25519));

  // Leaves: two claims and an attestation of each verdict.
  const statement::Claim claim = client::testing::SampleClaim("seed-a");
  const statement::Claim other = client::testing::SampleClaim("seed-b");
  ASSIGN_OR_RETURN(std::string claim_leaf,
                   client::testing::ClaimLeaf(claim, vendor));
  ASSIGN_OR_RETURN(std::string other_leaf,
                   client::testing::ClaimLeaf(other, vendor));
  const uint64_t claim_index = log.Append(claim_leaf);
  log.Append(other_leaf);
  std::vector<std::string> attestation_payloads;
  std::vector<uint64_t> attestation_indexes;
  for (statement::Verdict verdict :
       {statement::Verdict::kMatch, statement::Verdict::kMismatch,
        statement::Verdict::kFailed}) {
    const statement::RebuildAttestation attestation =
        client::testing::SampleAttestation(claim, log.origin(), claim_index,
                                           log.leaf_hash(claim_index), verdict,
                                           rebuilder.name);
    ASSIGN_OR_RETURN(std::string payload,
                     statement::SerializeRebuildAttestation(attestation));
    attestation_payloads.push_back(payload);
    ASSIGN_OR_RETURN(std::string leaf,
                     client::testing::AttestationLeaf(attestation, rebuilder));
    attestation_indexes.push_back(log.Append(leaf));
  }
  for (int i = 0; i < 4; ++i) log.Append(absl::StrCat("filler ", i));

  // Checkpoints, notes, signature lines, cosignatures.
  ASSIGN_OR_RETURN(std::string small, log.SignCheckpoint(3, {}));
  ASSIGN_OR_RETURN(std::string checkpoint, log.SignCheckpoint(log.size(), {}));
  ASSIGN_OR_RETURN(std::string cosigned,
                   log.SignCheckpoint(log.size(), {&w1, &w2}));
  ASSIGN_OR_RETURN(std::string body, NoteText(cosigned));
  ASSIGN_OR_RETURN(crypto::Note cosigned_note, crypto::ParseNote(cosigned));
  std::string line = crypto::FormatSignatureLine(cosigned_note.signatures[1]);
  line.pop_back();
  RETURN_IF_ERROR(out.Write("note", "checkpoint", checkpoint));
  RETURN_IF_ERROR(out.Write("note", "cosigned", cosigned));
  RETURN_IF_ERROR(out.Write("note", "signature_line", line));
  RETURN_IF_ERROR(out.Write("checkpoint", "body", body));
  RETURN_IF_ERROR(out.Write("checkpoint", "note", small));
  RETURN_IF_ERROR(out.Write("checkpoint", "cosigned", cosigned));
  ASSIGN_OR_RETURN(tlog::Checkpoint parsed, tlog::ParseCheckpointBody(body));
  parsed.extensions = {"an extension line"};
  ASSIGN_OR_RETURN(std::string extended, tlog::FormatCheckpointBody(parsed));
  RETURN_IF_ERROR(out.Write("checkpoint", "extension", extended));
  RETURN_IF_ERROR(out.Write("cosignature", "witness",
                            absl::StrCat(w1.Vkey(), "\n", cosigned)));
  RETURN_IF_ERROR(out.Write("cosignature", "log",
                            absl::StrCat(log.vkey(), "\n", checkpoint)));
  RETURN_IF_ERROR(out.Write("cosignature", "other_witness",
                            absl::StrCat(w2.Vkey(), "\n", cosigned)));

  // tlog-proof, bundles.
  const std::string vendor_der = vendor.public_key().der();
  const std::string rebuilder_der = rebuilder.public_key().der();
  ASSIGN_OR_RETURN(tlog::BundleEntry claim_entry,
                   log.Entry(claim_index, cosigned, vendor_der));
  ASSIGN_OR_RETURN(std::string proof, tlog::FormatTlogProof(claim_entry.proof));
  RETURN_IF_ERROR(out.Write("tlog_proof", "claim", proof));
  ASSIGN_OR_RETURN(tlog::BundleEntry last_entry,
                   log.Entry(log.size() - 1, checkpoint, vendor_der));
  last_entry.proof.extra = "opaque extra data";
  ASSIGN_OR_RETURN(proof, tlog::FormatTlogProof(last_entry.proof));
  RETURN_IF_ERROR(out.Write("tlog_proof", "extra", proof));
  ASSIGN_OR_RETURN(tlog::BundleEntry first_entry,
                   log.Entry(0, small, vendor_der));
  ASSIGN_OR_RETURN(proof, tlog::FormatTlogProof(first_entry.proof));
  RETURN_IF_ERROR(out.Write("tlog_proof", "small", proof));

  tlog::Bundle bundle;
  bundle.claims.push_back(tlog::BundleClaim{claim_entry, {}});
  for (uint64_t index : attestation_indexes) {
    ASSIGN_OR_RETURN(tlog::BundleEntry entry,
                     log.Entry(index, cosigned, rebuilder_der));
    bundle.claims[0].attestations.push_back(std::move(entry));
  }
  ASSIGN_OR_RETURN(std::string bundle_json, tlog::EncodeBundle(bundle));
  RETURN_IF_ERROR(out.Write("bundle", "claim_and_attestations", bundle_json));
  ASSIGN_OR_RETURN(tlog::BundleEntry other_entry,
                   log.Entry(1, cosigned, vendor_der));
  bundle.claims.push_back(tlog::BundleClaim{other_entry, {}});
  bundle.claims[0].attestations.resize(1);
  ASSIGN_OR_RETURN(bundle_json, tlog::EncodeBundle(bundle));
  RETURN_IF_ERROR(out.Write("bundle", "two_claims", bundle_json));

  // Proofs as the proof target reads them: two big-endian uint64s, a hash,
  // the proof hashes.
  const auto proof_input = [](uint64_t first, uint64_t second,
                              const tlog::Hash& hash,
                              const std::vector<tlog::Hash>& hashes) {
    std::string input(16, '\0');
    absl::big_endian::Store64(input.data(), first);
    absl::big_endian::Store64(input.data() + 8, second);
    input.append(hash.begin(), hash.end());
    for (const tlog::Hash& h : hashes) input.append(h.begin(), h.end());
    return input;
  };
  ASSIGN_OR_RETURN(std::vector<tlog::Hash> path, log.InclusionProof(3, 7));
  RETURN_IF_ERROR(out.Write("proof", "inclusion",
                            proof_input(3, 7, log.leaf_hash(3), path)));
  ASSIGN_OR_RETURN(path, log.InclusionProof(8, log.size()));
  RETURN_IF_ERROR(
      out.Write("proof", "inclusion_last",
                proof_input(8, log.size(), log.leaf_hash(8), path)));
  ASSIGN_OR_RETURN(tlog::Hash old_root, log.Root(3));
  ASSIGN_OR_RETURN(path, log.ConsistencyProof(3, log.size()));
  RETURN_IF_ERROR(out.Write("proof", "consistency",
                            proof_input(3, log.size(), old_root, path)));
  ASSIGN_OR_RETURN(old_root, log.Root(4));
  ASSIGN_OR_RETURN(path, log.ConsistencyProof(4, 8));
  RETURN_IF_ERROR(out.Write("proof", "consistency_power_of_two",
                            proof_input(4, 8, old_root, path)));

  // Verification: query, policy, "---", bundle.
  const std::string verify_policy = absl::StrCat(
      "log ", log.vkey(), "\nwitness w1 ", w1.Vkey(), "\nwitness w2 ",
      w2.Vkey(), "\ngroup both all w1 w2\nquorum both\n",
      "vendor example-vendor ", vendor.Base64Spki(), "\n", "rebuilder ",
      rebuilder.name, " ", rebuilder.Base64Spki(), "\n", "rebuild-quorum ",
      rebuilder.name, "\n");
  tlog::Bundle verify_bundle;
  verify_bundle.claims.push_back(tlog::BundleClaim{claim_entry, {}});
  ASSIGN_OR_RETURN(tlog::BundleEntry match_entry,
                   log.Entry(attestation_indexes[0], cosigned, rebuilder_der));
  verify_bundle.claims[0].attestations.push_back(match_entry);
  ASSIGN_OR_RETURN(std::string verify_json, tlog::EncodeBundle(verify_bundle));
  const statement::ReferenceValue& value = claim.reference_values[0];
  RETURN_IF_ERROR(out.Write(
      "verify", "value",
      absl::StrCat(statement::FormatValueSelector(statement::SelectorOf(value)),
                   "\n", verify_policy, "---\n", verify_json)));
  RETURN_IF_ERROR(out.Write(
      "verify", "artifact_warn",
      absl::StrCat("artifact sha256:", claim.subjects[0].digest.at("sha256"),
                   "\n", verify_policy, "on-mismatch warn\n---\n",
                   bundle_json)));

  // add-checkpoint bodies and the 409 answer.
  tlog::AddCheckpointRequest request;
  request.old_size = 3;
  ASSIGN_OR_RETURN(request.proof, log.ConsistencyProof(3, log.size()));
  request.checkpoint = checkpoint;
  RETURN_IF_ERROR(out.Write("add_checkpoint", "consistent",
                            tlog::FormatAddCheckpointRequest(request)));
  request.old_size = 0;
  request.proof.clear();
  request.checkpoint = small;
  RETURN_IF_ERROR(out.Write("add_checkpoint", "first",
                            tlog::FormatAddCheckpointRequest(request)));
  RETURN_IF_ERROR(out.Write("add_checkpoint", "conflict",
                            tlog::FormatTlogSize(log.size())));
  // The same requests to a witness: first the checkpoint of size 3 on trust,
  // then the newest with its consistency proof; or that one alone (409).
  const std::string first_request = tlog::FormatAddCheckpointRequest(request);
  request.old_size = 3;
  ASSIGN_OR_RETURN(request.proof, log.ConsistencyProof(3, log.size()));
  request.checkpoint = cosigned;
  const std::string next_request = tlog::FormatAddCheckpointRequest(request);
  RETURN_IF_ERROR(out.Write(
      "witness_cosign", "first_then_consistent",
      absl::StrCat(log.vkey(), "\n", first_request, "---\n", next_request)));
  RETURN_IF_ERROR(out.Write("witness_cosign", "stale",
                            absl::StrCat(log.vkey(), "\n", next_request)));

  // Tile paths and entry bundles.
  const std::pair<const char*, tlog::TileResource> tiles[] = {
      {"level0", {false, {0, 0, tlog::kTileWidth}}},
      {"partial", {false, {1, 1234, 5}}},
      {"entries", {true, {0, 1234067, tlog::kTileWidth}}},
      {"entries_partial", {true, {0, 5, 3}}},
  };
  for (const auto& [name, resource] : tiles) {
    ASSIGN_OR_RETURN(std::string path, tlog::FormatTilePath(resource));
    RETURN_IF_ERROR(out.Write("tile_path", name, path));
  }
  std::vector<std::string> leaves;
  for (uint64_t i = 0; i < log.size(); ++i) leaves.push_back(log.leaf(i));
  ASSIGN_OR_RETURN(std::string entries, tlog::EncodeEntryBundle(leaves));
  RETURN_IF_ERROR(out.Write("entry_bundle", "leaves", entries));
  ASSIGN_OR_RETURN(entries, tlog::EncodeEntryBundle({"a", "", "bc"}));
  RETURN_IF_ERROR(out.Write("entry_bundle", "short", entries));

  // Envelopes, leaves, statements.
  ASSIGN_OR_RETURN(crypto::DsseEnvelope claim_envelope,
                   crypto::DecodeDsseLeaf(claim_leaf));
  RETURN_IF_ERROR(
      out.Write("dsse_json", "claim", crypto::EncodeDsseJson(claim_envelope)));
  RETURN_IF_ERROR(out.Write("dsse_leaf", "claim", claim_leaf));
  ASSIGN_OR_RETURN(std::string claim_payload, statement::SerializeClaim(claim));
  RETURN_IF_ERROR(out.Write("claim", "sample", claim_payload));
  statement::Claim tagged = other;
  ASSIGN_OR_RETURN(std::string other_payload,
                   statement::SerializeClaim(tagged));
  RETURN_IF_ERROR(out.Write("claim", "other", other_payload));
  const char* verdicts[] = {"match", "mismatch", "failed"};
  for (size_t i = 0; i < attestation_payloads.size(); ++i) {
    RETURN_IF_ERROR(
        out.Write("attestation", verdicts[i], attestation_payloads[i]));
    const std::string& leaf = log.leaf(attestation_indexes[i]);
    RETURN_IF_ERROR(out.Write("dsse_leaf",
                              absl::StrCat("attestation_", verdicts[i]), leaf));
    ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope,
                     crypto::DecodeDsseLeaf(leaf));
    RETURN_IF_ERROR(out.Write("dsse_json",
                              absl::StrCat("attestation_", verdicts[i]),
                              crypto::EncodeDsseJson(envelope)));
  }

  // Keys as files hold them.
  RETURN_IF_ERROR(
      out.Write("keys", "ecdsa_public.pem", vendor.public_key().ToPem()));
  RETURN_IF_ERROR(
      out.Write("keys", "ed25519_public.pem", rebuilder.public_key().ToPem()));
  RETURN_IF_ERROR(out.Write("keys", "ecdsa_public.der", vendor_der));
  ASSIGN_OR_RETURN(std::string pem, vendor.key.ToPem());
  RETURN_IF_ERROR(out.Write("keys", "ecdsa_private.pem", pem));
  ASSIGN_OR_RETURN(pem, rebuilder.key.ToPem());
  RETURN_IF_ERROR(out.Write("keys", "ed25519_private.pem", pem));

  // Policies and signer lists (key files as tests/fuzz/key_dir.h makes).
  const std::string tlog_policy = absl::StrCat(
      "# a log and two witnesses, both needed\n", "log ", log.vkey(),
      " https://log.example.org/\n", "witness w1 ", w1.Vkey(),
      " https://w1.example.org/\n", "witness w2 ", w2.Vkey(), "\n",
      "group both all w1 w2\n", "group one 1 both\n", "quorum one\n");
  RETURN_IF_ERROR(out.Write("tlog_policy", "witnessed", tlog_policy));
  RETURN_IF_ERROR(
      out.Write("tlog_policy", "no_witnesses",
                absl::StrCat("log ", log.vkey(), "\nquorum none\n")));
  RETURN_IF_ERROR(out.Write(
      "client_policy", "readme",
      absl::StrCat("log ", log.vkey(), "\nquorum none\n",
                   "vendor example-vendor vendor.pub\nrebuild-quorum none\n")));
  RETURN_IF_ERROR(out.Write(
      "client_policy", "rebuilders",
      absl::StrCat(tlog_policy, "vendor example-vendor ", vendor.Base64Spki(),
                   "\nrebuilder r1 rebuilder.pub\n", "rebuilder r2 ",
                   rebuilder.Base64Spki(), "\n",
                   "rebuild-group both all r1 r2\n", "rebuild-quorum both\n",
                   "on-mismatch warn\n")));
  RETURN_IF_ERROR(out.Write("log_keys", "signers",
                            "# vendors and rebuilders\n"
                            "vendor example-vendor vendor.pub\n\n"
                            "rebuilder w1\trebuilder.pub\n"));
  RETURN_IF_ERROR(out.Write(
      "witness_config", "minimal",
      absl::StrJoin({std::string("name witness.example.org/w1"),
                     std::string("cosign_key witness-keys/cosign.key"),
                     std::string("rebuild_key witness-keys/rebuild.key"),
                     std::string("http_addr 127.0.0.1:7380"),
                     std::string("state_dir witness-state"),
                     absl::StrCat("log ", log.origin(), " ", log.vkey(),
                                  " 127.0.0.1:7300"),
                     std::string("")},
                    "\n")));
  return absl::OkStatus();
}

}  // namespace
}  // namespace refsum::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const absl::Status status = refsum::fuzz::WriteSeeds(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "make_seeds: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
