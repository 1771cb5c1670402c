// A C2SP tlog-witness v1.0.0 witness for the log's tests, in process: a
// cpp-httplib server on a free loopback port answering
// POST <prefix>/add-checkpoint for one log as the spec says (404 unknown
// origin, 403 no valid log signature, 400 malformed or old size beyond the
// checkpoint, 409 text/x.tlog.size when the old size is not the stored one,
// 409 text/plain (no size) when the same size has another root, as
// witness/cosigner.h does, 422 when the consistency proof does not verify,
// 200 with a real cosignature/v1 line otherwise), keeping its state in
// memory. Requests are parsed by tlog/witness_protocol.h. Real Ed25519
// signatures and real RFC 6962 proof checks (tlog::VerifyConsistency): it
// accepts only what a real witness would.
//
// Modes make it misbehave in the ways the log must survive: unavailable,
// answering garbage, a bad cosignature, or extra lines by unknown keys.

#ifndef REFSUM_LOG_TEST_WITNESS_H_
#define REFSUM_LOG_TEST_WITNESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "crypto/note.h"
#include "tlog/merkle.h"

namespace refsum::log::testing {

class TestWitness {
 public:
  enum class Mode {
    // Follows the spec.
    kHonest,
    // Answers 503 to everything, without looking at the request.
    kUnavailable,
    // Updates its state as kHonest does, then answers 200 with a line that
    // is not a signature line.
    kGarbage,
    // As kHonest, but with one bit of the cosignature flipped.
    kBadCosignature,
    // As kHonest, with another valid cosignature line, by a key no policy
    // lists, before its own.
    kExtraUnknownKey,
  };

  // One add-checkpoint request, as the witness understood it.
  struct Request {
    // Zero when the body did not parse.
    uint64_t old_size = 0;
    // The checkpoint's tree size; zero when it did not parse.
    uint64_t size = 0;
    size_t proof_hashes = 0;
    int status = 0;
    // The Content-Type of the answer.
    std::string content_type;
  };

  // Starts a witness with a fresh cosigning key named `name` (a note key
  // name) that cosigns checkpoints of the log whose checkpoints
  // `log_verifier` verifies (its name is the origin), serving under
  // `prefix` (empty or starting with '/'; a final '/' is optional, as the
  // log strips it). `log_verifier` must outlive the witness.
  static absl::StatusOr<std::unique_ptr<TestWitness>> Start(
      absl::string_view name, const crypto::NoteVerifier* log_verifier,
      absl::string_view prefix = "");

  // Stops the server.
  ~TestWitness();

  TestWitness(const TestWitness&) = delete;
  TestWitness& operator=(const TestWitness&) = delete;

  // The submission prefix: http://127.0.0.1:<port><prefix>.
  const std::string& url() const { return url_; }
  // The cosigning key's verifier key (signature type 0x04).
  const std::string& vkey() const { return vkey_; }
  // Verifies this witness's cosignatures.
  const crypto::NoteVerifier& verifier() const { return *verifier_; }
  // "witness <policy_name> <vkey> <url>\n", a tlog-policy line.
  std::string PolicyLine(absl::string_view policy_name) const;

  void set_mode(Mode mode);
  // Sets the stored state, as if the witness had cosigned the tree of `size`
  // leaves with root `root` before.
  void SetState(uint64_t size, const tlog::Hash& root);
  // The stored tree size, or nullopt if it never cosigned.
  std::optional<uint64_t> stored_size() const;
  // Every request so far, in order.
  std::vector<Request> requests() const;

  // Stops listening: from then on connections to url() are refused.
  // Idempotent.
  void Stop();

 private:
  struct Server;
  struct State {
    uint64_t size = 0;
    tlog::Hash root = {};
  };
  // What to answer.
  struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
  };

  TestWitness() = default;
  Response Handle(absl::string_view body);
  Response Cosign(absl::string_view text) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string name_;
  const crypto::NoteVerifier* log_verifier_ = nullptr;
  std::unique_ptr<crypto::NoteSigner> signer_;
  std::unique_ptr<crypto::NoteSigner> unknown_signer_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  std::string vkey_;
  std::string url_;

  mutable absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kHonest;
  std::optional<State> state_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);

  absl::Mutex server_mu_;
  std::unique_ptr<Server> server_ ABSL_GUARDED_BY(server_mu_);
};

}  // namespace refsum::log::testing

#endif  // REFSUM_LOG_TEST_WITNESS_H_
