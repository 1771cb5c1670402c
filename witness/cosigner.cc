#include "witness/cosigner.h"

#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"
#include "tlog/witness_protocol.h"

namespace refsum::witness {
namespace {

constexpr char kTextContentType[] = "text/plain; charset=utf-8";

AddCheckpointResponse TextResponse(int status, absl::string_view message) {
  AddCheckpointResponse response;
  response.status = status;
  response.content_type = kTextContentType;
  response.body = absl::StrCat(message, "\n");
  return response;
}

AddCheckpointResponse EvidenceResponse(int status, absl::string_view message) {
  AddCheckpointResponse response = TextResponse(status, message);
  response.evidence = true;
  return response;
}

// A failure of the witness, not of the request. The details (file names)
// stay out of the answer; Unavailable and ResourceExhausted (I/O errors, a
// full disk) are worth retrying.
AddCheckpointResponse ServerError(const absl::Status& status) {
  AddCheckpointResponse response =
      absl::IsUnavailable(status) || absl::IsResourceExhausted(status)
          ? TextResponse(503, "the witness cannot store its state right now")
          : TextResponse(500, "internal error");
  response.error = status;
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cosigner>> Cosigner::Create(
    absl::string_view name, const crypto::PrivateKey& key,
    absl::Span<const LogConfig> logs, const std::string& state_dir,
    crypto::Clock clock) {
  // Checked here: crypto's cosigner reports a non-Ed25519 key as
  // FailedPrecondition, but it is a bad argument.
  if (key.type() != crypto::KeyType::kEd25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("the cosigning key is ", crypto::KeyTypeName(key.type()),
                     "; cosignature/v1 needs an Ed25519 key"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteSigner> signer,
                   crypto::NewCosignatureV1Signer(name, key, std::move(clock)));
  ASSIGN_OR_RETURN(
      std::string vkey,
      crypto::FormatVerifierKey(name, crypto::kNoteSignatureTypeCosignatureV1,
                                key.public_key()));
  const std::string dir = CosignedDir(state_dir);
  RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  client::CheckpointStore store(dir);
  absl::flat_hash_map<std::string, std::unique_ptr<Log>> states;
  for (const LogConfig& log : logs) {
    auto state = std::make_unique<Log>();
    ASSIGN_OR_RETURN(state->verifier, crypto::NewNoteVerifierFromKey(log.vkey));
    if (state->verifier->name() != log.origin) {
      return absl::InvalidArgumentError(
          absl::StrCat("the verifier key of log ", log.origin, " is named \"",
                       state->verifier->name(), "\", not by the origin"));
    }
    ASSIGN_OR_RETURN(std::optional<client::StoredCheckpoint> latest,
                     store.Load(log.origin));
    {
      absl::MutexLock lock(&state->mu);
      state->latest = std::move(latest);
    }
    if (!states.try_emplace(log.origin, std::move(state)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("log ", log.origin, " is configured twice"));
    }
  }
  return absl::WrapUnique(new Cosigner(std::string(name), std::move(vkey),
                                       std::move(signer), std::move(store),
                                       std::move(states)));
}

Cosigner::Cosigner(std::string name, std::string vkey,
                   std::unique_ptr<crypto::NoteSigner> signer,
                   client::CheckpointStore store,
                   absl::flat_hash_map<std::string, std::unique_ptr<Log>> logs)
    : name_(std::move(name)),
      vkey_(std::move(vkey)),
      signer_(std::move(signer)),
      store_(std::move(store)),
      logs_(std::move(logs)) {}

AddCheckpointResponse Cosigner::AddCheckpoint(absl::string_view body) {
  const absl::StatusOr<tlog::AddCheckpointRequest> request =
      tlog::ParseAddCheckpointRequest(body);
  if (!request.ok()) return TextResponse(400, request.status().message());
  const absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpointNote(request->checkpoint);
  if (!checkpoint.ok()) return TextResponse(400, checkpoint.status().message());

  const auto it = logs_.find(checkpoint->origin);
  if (it == logs_.end()) {
    return TextResponse(
        404, absl::StrCat("unknown log origin \"", checkpoint->origin, "\""));
  }
  Log& log = *it->second;
  const crypto::NoteVerifier* const verifiers[] = {log.verifier.get()};
  absl::StatusOr<crypto::VerifiedNote> verified =
      crypto::OpenNote(request->checkpoint, verifiers);
  if (absl::IsUnauthenticated(verified.status())) {
    return TextResponse(
        403,
        absl::StrCat("the checkpoint is not signed by the key of ",
                     checkpoint->origin, ": ", verified.status().message()));
  }
  if (!verified.ok()) return TextResponse(400, verified.status().message());
  if (request->old_size > checkpoint->size) {
    return TextResponse(400, absl::StrCat("old size ", request->old_size,
                                          " is larger than the checkpoint's ",
                                          checkpoint->size));
  }

  absl::MutexLock lock(&log.mu);
  const uint64_t stored_size =
      log.latest.has_value() ? log.latest->checkpoint.size : 0;
  if (request->old_size != stored_size) {
    AddCheckpointResponse response;
    response.status = 409;
    response.content_type = tlog::kTlogSizeContentType;
    response.body = tlog::FormatTlogSize(stored_size);
    return response;
  }
  const tlog::Hash stored_root =
      log.latest.has_value() ? log.latest->checkpoint.root : tlog::EmptyRoot();
  const bool same_size = checkpoint->size == stored_size;
  if (same_size && checkpoint->root != stored_root) {
    return EvidenceResponse(
        409,
        absl::StrCat("the witness holds another root for size ", stored_size,
                     " of ", checkpoint->origin, ": the log has forked"));
  }
  const absl::Status consistent =
      tlog::VerifyConsistency(stored_size, checkpoint->size, stored_root,
                              checkpoint->root, request->proof);
  if (!consistent.ok()) {
    return EvidenceResponse(
        422, absl::StrCat("the consistency proof from size ", stored_size,
                          " to ", checkpoint->size,
                          " does not verify: ", consistent.message()));
  }

  const absl::StatusOr<std::string> signature = signer_->Sign(verified->text);
  if (!signature.ok()) return ServerError(signature.status());
  // An unchanged checkpoint (the same size, hence the same root) needs no
  // write: the stored state already says what the cosignature says.
  if (!same_size || !log.latest.has_value()) {
    client::StoredCheckpoint stored{
        *checkpoint, crypto::FormatNote(crypto::Note{
                         verified->text, std::move(verified->verified)})};
    const absl::Status written = store_.Store(stored);
    if (!written.ok()) return ServerError(written);
    log.latest = std::move(stored);
  }
  AddCheckpointResponse response;
  response.content_type = kTextContentType;
  response.body = crypto::FormatSignatureLine(
      crypto::NoteSignature{name_, signer_->key_id(), *signature});
  return response;
}

absl::StatusOr<std::optional<client::StoredCheckpoint>> Cosigner::Latest(
    absl::string_view origin) const {
  const auto it = logs_.find(origin);
  if (it == logs_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown log origin ", origin));
  }
  absl::MutexLock lock(&it->second->mu);
  return it->second->latest;
}

}  // namespace refsum::witness
