// Fuzzes the witness's whole add-checkpoint handling (witness::Cosigner):
// request parsing, the log's signature, old sizes, forks, consistency proofs
// and the state it keeps between requests. Input: the log's verifier key on
// the first line, then one or more request bodies separated by lines "---",
// sent in order to a fresh cosigner (state on tmpfs when there is one).
// Answers are one of the documented codes, never a 5xx; a 200 is a
// cosignature/v1 line by the witness over the checkpoint it cosigned, which
// becomes its newest; a 409 for the old size carries the stored size.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client/state.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/key_dir.h"
#include "tlog/checkpoint.h"
#include "tlog/witness_protocol.h"
#include "witness/config.h"
#include "witness/cosigner.h"

namespace {

using refsum::crypto::NoteVerifier;
using refsum::crypto::PrivateKey;

constexpr char kWitnessName[] = "witness.example.org/fuzz";
constexpr uint64_t kTime = 1767225600;  // 2026-01-01

const PrivateKey& WitnessKey() {
  static const PrivateKey* key = [] {
    absl::StatusOr<PrivateKey> made =
        PrivateKey::Generate(refsum::crypto::KeyType::kEd25519);
    FUZZ_CHECK_OK(made);
    return new PrivateKey(*std::move(made));
  }();
  return *key;
}

const NoteVerifier& WitnessVerifier() {
  static const NoteVerifier* verifier = [] {
    absl::StatusOr<std::unique_ptr<NoteVerifier>> made =
        refsum::crypto::NewCosignatureV1Verifier(kWitnessName,
                                                 WitnessKey().public_key());
    FUZZ_CHECK_OK(made);
    return made->release();
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::witness::AddCheckpointResponse;
  using refsum::witness::Cosigner;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) return 0;
  const absl::string_view vkey = input.substr(0, newline);
  absl::StatusOr<refsum::crypto::VerifierKey> parsed_vkey =
      refsum::crypto::ParseVerifierKey(vkey);
  if (!parsed_vkey.ok()) return 0;
  const std::string origin = parsed_vkey->name;
  const std::vector<refsum::witness::LogConfig> logs = {
      {origin, std::string(vkey), "127.0.0.1:1"}};

  const std::string state_dir =
      refsum::fuzz::NewScratchDir("refsum-fuzz-witness");
  absl::StatusOr<std::unique_ptr<Cosigner>> cosigner = Cosigner::Create(
      kWitnessName, WitnessKey(), logs, state_dir, [] { return kTime; });
  if (cosigner.ok()) {
    for (absl::string_view body :
         absl::StrSplit(input.substr(newline + 1), absl::ByString("\n---\n"))) {
      // Each piece but the last lost its final newline to the separator;
      // the last keeps whatever the input ends with.
      std::string request(body);
      if (body.data() + body.size() != input.data() + input.size()) {
        request.push_back('\n');
      }
      const AddCheckpointResponse response =
          (*cosigner)->AddCheckpoint(request);
      FUZZ_CHECK(response.status == 200 || response.status == 400 ||
                 response.status == 403 || response.status == 404 ||
                 response.status == 409 || response.status == 422);
      if (response.status == 409 &&
          response.content_type == refsum::tlog::kTlogSizeContentType) {
        FUZZ_CHECK_OK(refsum::tlog::ParseTlogSize(response.body));
      }
      if (response.status != 200) continue;
      absl::StatusOr<refsum::tlog::AddCheckpointRequest> parsed =
          refsum::tlog::ParseAddCheckpointRequest(request);
      FUZZ_CHECK_OK(parsed);
      absl::StatusOr<refsum::crypto::Note> note =
          refsum::crypto::ParseNote(parsed->checkpoint);
      FUZZ_CHECK_OK(note);
      FUZZ_CHECK(!response.body.empty() && response.body.back() == '\n');
      absl::StatusOr<refsum::crypto::NoteSignature> cosignature =
          refsum::crypto::ParseSignatureLine(
              absl::string_view(response.body)
                  .substr(0, response.body.size() - 1));
      FUZZ_CHECK_OK(cosignature);
      FUZZ_CHECK(cosignature->name == kWitnessName);
      FUZZ_CHECK_OK(
          WitnessVerifier().Verify(note->text, cosignature->signature));
      absl::StatusOr<refsum::tlog::Checkpoint> checkpoint =
          refsum::tlog::ParseCheckpointBody(note->text);
      FUZZ_CHECK_OK(checkpoint);
      absl::StatusOr<std::optional<refsum::client::StoredCheckpoint>> latest =
          (*cosigner)->Latest(origin);
      FUZZ_CHECK_OK(latest);
      FUZZ_CHECK(latest->has_value() && (*latest)->checkpoint == *checkpoint);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
  return 0;
}
