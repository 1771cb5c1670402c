#include "log/test_witness.h"

#include <httplib.h>

#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"
#include "tlog/witness_protocol.h"

namespace refsum::log::testing {

struct TestWitness::Server {
  httplib::Server http;
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<TestWitness>> TestWitness::Start(
    absl::string_view name, const crypto::NoteVerifier* log_verifier,
    absl::string_view prefix) {
  auto witness = absl::WrapUnique(new TestWitness());
  witness->name_ = std::string(name);
  witness->log_verifier_ = log_verifier;
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(witness->signer_, crypto::NewCosignatureV1Signer(name, key));
  ASSIGN_OR_RETURN(witness->verifier_,
                   crypto::NewCosignatureV1Verifier(name, key.public_key()));
  ASSIGN_OR_RETURN(
      witness->vkey_,
      crypto::FormatVerifierKey(name, crypto::kNoteSignatureTypeCosignatureV1,
                                key.public_key()));
  ASSIGN_OR_RETURN(crypto::PrivateKey unknown_key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(witness->unknown_signer_,
                   crypto::NewCosignatureV1Signer(
                       absl::StrCat(name, "-unknown"), unknown_key));

  auto server = std::make_unique<Server>();
  // A submission prefix ending in a slash means the same as without it.
  absl::string_view route_prefix = prefix;
  absl::ConsumeSuffix(&route_prefix, "/");
  server->http.Post(absl::StrCat(route_prefix, tlog::kAddCheckpointPath),
                    [raw = witness.get()](const httplib::Request& request,
                                          httplib::Response& response) {
                      const Response answer = raw->Handle(request.body);
                      response.status = answer.status;
                      response.set_content(answer.body,
                                           answer.content_type.c_str());
                    });
  const int port = server->http.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    return absl::UnavailableError("the test witness cannot listen");
  }
  server->thread =
      std::thread([raw = server.get()] { raw->http.listen_after_bind(); });
  // stop() before the accept loop runs would be lost (see HttpServer).
  while (!server->http.is_running()) absl::SleepFor(absl::Milliseconds(1));
  witness->url_ = absl::StrCat("http://127.0.0.1:", port, prefix);
  absl::MutexLock lock(&witness->server_mu_);
  witness->server_ = std::move(server);
  return witness;
}

TestWitness::~TestWitness() { Stop(); }

void TestWitness::Stop() {
  absl::MutexLock lock(&server_mu_);
  if (server_ == nullptr) return;
  server_->http.stop();
  server_->thread.join();
  server_.reset();
}

std::string TestWitness::PolicyLine(absl::string_view policy_name) const {
  return absl::StrCat("witness ", policy_name, " ", vkey_, " ", url_, "\n");
}

void TestWitness::set_mode(Mode mode) {
  absl::MutexLock lock(&mu_);
  mode_ = mode;
}

void TestWitness::SetState(uint64_t size, const tlog::Hash& root) {
  absl::MutexLock lock(&mu_);
  state_ = State{size, root};
}

std::optional<uint64_t> TestWitness::stored_size() const {
  absl::MutexLock lock(&mu_);
  if (!state_.has_value()) return std::nullopt;
  return state_->size;
}

std::vector<TestWitness::Request> TestWitness::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

TestWitness::Response TestWitness::Handle(absl::string_view body) {
  // One request at a time, so that checking the old size and storing the
  // new state are atomic, as tlog-witness requires.
  absl::MutexLock lock(&mu_);
  Request request;
  const auto answer = [&](Response response) {
    request.status = response.status;
    request.content_type = response.content_type;
    requests_.push_back(request);
    return response;
  };
  const auto text = [](int status, absl::string_view message) {
    return Response{status, "text/plain", absl::StrCat(message, "\n")};
  };
  if (mode_ == Mode::kUnavailable) return answer(text(503, "unavailable"));

  const absl::StatusOr<tlog::AddCheckpointRequest> parsed =
      tlog::ParseAddCheckpointRequest(body);
  if (!parsed.ok()) return answer(text(400, parsed.status().message()));
  const absl::string_view note = parsed->checkpoint;
  absl::StatusOr<tlog::Checkpoint> checkpoint = tlog::ParseCheckpointNote(note);
  if (!checkpoint.ok()) return answer(text(400, checkpoint.status().message()));
  const uint64_t old_size = parsed->old_size;
  const std::vector<tlog::Hash>& proof = parsed->proof;
  request.old_size = old_size;
  request.size = checkpoint->size;
  request.proof_hashes = proof.size();

  if (checkpoint->origin != log_verifier_->name()) {
    return answer(text(404, "unknown origin"));
  }
  const crypto::NoteVerifier* verifiers[] = {log_verifier_};
  absl::StatusOr<crypto::VerifiedNote> opened =
      crypto::OpenNote(note, verifiers);
  if (!opened.ok()) return answer(text(403, opened.status().message()));
  if (old_size > checkpoint->size) {
    return answer(text(400, "old size beyond the checkpoint"));
  }
  const uint64_t stored = state_.has_value() ? state_->size : 0;
  const tlog::Hash stored_root =
      state_.has_value() ? state_->root : tlog::EmptyRoot();
  if (old_size != stored) {
    return answer(Response{409, tlog::kTlogSizeContentType,
                           tlog::FormatTlogSize(stored)});
  }
  // A fork: 409 without a size, as witness/cosigner.cc answers it.
  if (old_size == checkpoint->size && stored_root != checkpoint->root) {
    return answer(text(409,
                       "another root for the stored size: the log has "
                       "forked"));
  }
  if (const absl::Status consistent = tlog::VerifyConsistency(
          old_size, checkpoint->size, stored_root, checkpoint->root, proof);
      !consistent.ok()) {
    return answer(text(422, consistent.message()));
  }
  state_ = State{checkpoint->size, checkpoint->root};
  return answer(Cosign(opened->text));
}

TestWitness::Response TestWitness::Cosign(absl::string_view text) {
  const auto line = [text](const crypto::NoteSigner& signer,
                           bool flip) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string signature, signer.Sign(text));
    if (flip) signature.back() ^= 1;
    return crypto::FormatSignatureLine(
        crypto::NoteSignature{signer.name(), signer.key_id(), signature});
  };
  absl::StatusOr<std::string> own =
      line(*signer_, mode_ == Mode::kBadCosignature);
  absl::StatusOr<std::string> unknown = line(*unknown_signer_, false);
  if (!own.ok() || !unknown.ok()) {
    return Response{500, "text/plain", "cannot sign\n"};
  }
  switch (mode_) {
    case Mode::kGarbage:
      return Response{200, "text/plain", "this is not a cosignature\n"};
    case Mode::kExtraUnknownKey:
      return Response{200, "text/plain", absl::StrCat(*unknown, *own)};
    default:
      return Response{200, "text/plain", *own};
  }
}

}  // namespace refsum::log::testing
