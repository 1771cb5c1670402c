// refsum-submit: the vendor's tool. It makes signing keys, builds and signs
// a claim from artifact files and reference values, submits it to a log,
// checks what the log returns, and can wait for rebuilders' attestations.
//
//   refsum-submit keygen --type ed25519|ecdsa-p256 --out PREFIX
//   refsum-submit claim --key KEY --artifact FILE [--artifact FILE...]
//       --repository URL --commit HEX [--tag TAG] [--recipe TEXT]
//       --value SPEC [--value SPEC...] --out CLAIM.json
//   refsum-submit submit --log HOST:PORT [--public_key PUB]
//       [--log_key VKEYFILE] [--wait_attestations N --timeout DURATION
//       [--poll_interval DURATION]] --out FILE CLAIM.json
//
// Results go to stdout, errors to stderr as one line; the exit code is 0 on
// success, 2 for a usage error (a missing, unknown or malformed flag or
// argument) and 1 for anything else. Every file is written atomically, so
// a failure leaves no partial output.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/command_line.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "client/log_client.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/signer.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "submitter/attestation_tally.h"
#include "submitter/claim_builder.h"
#include "submitter/receipt.h"
#include "submitter/repeated_flags.h"
#include "tlog/merkle.h"

ABSL_FLAG(std::string, type, "",
          "keygen: the key type, ed25519 or ecdsa-p256.");
ABSL_FLAG(std::string, out, "",
          "keygen: the path prefix of PREFIX.key and PREFIX.pub; claim: the "
          "signed claim (DSSE JSON envelope); submit: the tlog-proof, or with "
          "--wait_attestations the bundle.");
ABSL_FLAG(std::string, key, "",
          "claim: the vendor's private key (PKCS#8 PEM, mode 0600).");
ABSL_FLAG(std::string, repository, "",
          "claim: the source repository, an absolute URI.");
ABSL_FLAG(std::string, commit, "",
          "claim: the source commit, 40 or 64 lowercase hex digits.");
ABSL_FLAG(std::string, tag, "", "claim: the source tag, if any.");
ABSL_FLAG(std::string, recipe, std::string(refsum::submitter::kDefaultRecipe),
          "claim: how the artifacts are built from the source.");
ABSL_FLAG(std::string, log, "", "submit: the log's gRPC address, HOST:PORT.");
ABSL_FLAG(std::string, tls_ca, "",
          "submit: connect to the log with TLS, accepting only a certificate "
          "that chains to the CA certificates in this PEM file.");
ABSL_FLAG(std::string, public_key, "",
          "submit: the signer's public key (PEM), sent along for a log in "
          "open mode.");
ABSL_FLAG(std::string, log_key, "",
          "submit: the log's verifier key file (log.vkey); the checkpoint's "
          "signature is checked with it.");
ABSL_FLAG(int, wait_attestations, 0,
          "submit: wait until this many rebuilders have logged a MATCH "
          "attestation of the claim, then write the claim's bundle to --out.");
ABSL_FLAG(absl::Duration, timeout, absl::ZeroDuration(),
          "submit: how long --wait_attestations waits, e.g. 2h.");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(5),
          "submit: how often --wait_attestations asks the log.");

namespace refsum::submitter {
namespace {

constexpr char kUsage[] =
    "refsum-submit keygen --type ed25519|ecdsa-p256 --out PREFIX\n"
    "refsum-submit claim --key KEY --artifact FILE [--artifact FILE...] "
    "--repository URL --commit HEX [--tag TAG] [--recipe TEXT] "
    "--value SPEC [--value SPEC...] --out CLAIM.json\n"
    "refsum-submit submit --log HOST:PORT [--public_key PUB] "
    "[--log_key VKEYFILE] [--wait_attestations N --timeout DURATION "
    "[--poll_interval DURATION]] --out FILE CLAIM.json\n"
    "SPEC is platform/kind[/index]=alg:hex[,name=value...], e.g.\n"
    "  amd-sev-snp/launch-measurement=sha384:<hex>,vcpus=4 or "
    "tpm/pcr/4=sha256:<hex>\n"
    "--artifact and --value may be repeated; each takes one value as given.";

constexpr absl::string_view kArtifactFlag = "artifact";
constexpr absl::string_view kValueFlag = "value";

// Each flag, and the subcommands it belongs to. A flag given to another
// subcommand is a usage error rather than silently ignored.
struct FlagUse {
  absl::string_view flag;
  absl::string_view subcommands;
};

constexpr FlagUse kFlagUses[] = {
    {"type", "keygen"},
    {"out", "keygen claim submit"},
    {"key", "claim"},
    {"repository", "claim"},
    {"commit", "claim"},
    {"tag", "claim"},
    {"recipe", "claim"},
    {"log", "submit"},
    {"public_key", "submit"},
    {"log_key", "submit"},
    {"wait_attestations", "submit"},
    {"timeout", "submit"},
    {"poll_interval", "submit"},
};

// A generous bound on a claim envelope: leaves are at most 64 KiB, and
// their JSON form in base64 is a third larger.
constexpr size_t kMaxEnvelopeFileBytes = size_t{1} << 20;

// Whether `subcommand` is among the space-separated `subcommands`.
bool BelongsTo(absl::string_view subcommand, absl::string_view subcommands) {
  for (absl::string_view name : absl::StrSplit(subcommands, ' ')) {
    if (name == subcommand) return true;
  }
  return false;
}

absl::Status CheckFlagsBelongTo(absl::string_view subcommand,
                                const RepeatedFlags& repeated) {
  for (const FlagUse& use : kFlagUses) {
    if (BelongsTo(subcommand, use.subcommands)) continue;
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(use.flag);
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", use.flag, " does not apply to ", subcommand));
    }
  }
  if (subcommand != "claim" && !repeated.values.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", repeated.values.begin()->first,
                     " does not apply to ", subcommand));
  }
  return absl::OkStatus();
}

absl::Status RequireFlag(const std::string& value, absl::string_view name) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

// ---------------------------------------------------------------------------
// keygen

struct KeygenCommand {
  crypto::KeyType type = crypto::KeyType::kEd25519;
  std::string prefix;
};

absl::StatusOr<KeygenCommand> ParseKeygen() {
  KeygenCommand command;
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_type), "type"));
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_out), "out"));
  absl::StatusOr<crypto::KeyType> type =
      crypto::ParseKeyType(absl::GetFlag(FLAGS_type));
  if (!type.ok()) {
    return absl::InvalidArgumentError("--type must be ed25519 or ecdsa-p256");
  }
  command.type = *type;
  command.prefix = absl::GetFlag(FLAGS_out);
  return command;
}

absl::Status Keygen(const KeygenCommand& command) {
  const std::string key_path = command.prefix + ".key";
  const std::string public_path = command.prefix + ".pub";
  for (const std::string& path : {key_path, public_path}) {
    if (Exists(path)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists; refusing to overwrite a key"));
    }
  }
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(command.type));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(public_path, key.public_key()));
  if (absl::Status written = crypto::WritePrivateKeyFile(key_path, key);
      !written.ok()) {
    // A public key without its private key would only mislead.
    unlink(public_path.c_str());
    return written;
  }
  std::printf("wrote %s (private, mode 0600) and %s\nkeyid %s\n",
              key_path.c_str(), public_path.c_str(),
              key.public_key().keyid().c_str());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// claim

struct ClaimCommand {
  ClaimInputs inputs;
  std::string key_path;
  std::string out;
};

absl::StatusOr<ClaimCommand> ParseClaim(RepeatedFlags& repeated) {
  ClaimCommand command;
  command.key_path = absl::GetFlag(FLAGS_key);
  command.out = absl::GetFlag(FLAGS_out);
  RETURN_IF_ERROR(RequireFlag(command.key_path, "key"));
  RETURN_IF_ERROR(RequireFlag(command.out, "out"));
  ClaimInputs& inputs = command.inputs;
  inputs.artifacts = std::move(repeated.values[std::string(kArtifactFlag)]);
  inputs.values = std::move(repeated.values[std::string(kValueFlag)]);
  inputs.repository = absl::GetFlag(FLAGS_repository);
  inputs.commit = absl::GetFlag(FLAGS_commit);
  RETURN_IF_ERROR(RequireFlag(inputs.repository, "repository"));
  RETURN_IF_ERROR(RequireFlag(inputs.commit, "commit"));
  if (const std::string tag = absl::GetFlag(FLAGS_tag); !tag.empty()) {
    inputs.tag = tag;
  }
  inputs.recipe = absl::GetFlag(FLAGS_recipe);
  RETURN_IF_ERROR(CheckClaimInputs(inputs));
  return command;
}

absl::Status Claim(const ClaimCommand& command) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::ReadPrivateKeyFile(command.key_path));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Signer> signer,
                   crypto::NewSigner(key));
  ASSIGN_OR_RETURN(statement::Claim claim, BuildClaimFromFiles(command.inputs));
  ASSIGN_OR_RETURN(std::string envelope, SignClaim(claim, *signer));
  RETURN_IF_ERROR(WriteFileAtomically(command.out, envelope, 0644));
  std::printf("wrote %s, signed by keyid %s\n", command.out.c_str(),
              key.public_key().keyid().c_str());
  for (const statement::Subject& subject : claim.subjects) {
    std::printf("subject %s sha256:%s\n", subject.name.c_str(),
                subject.digest.at(std::string(statement::kSha256)).c_str());
  }
  for (const statement::ReferenceValue& value : claim.reference_values) {
    std::printf(
        "value %s/%s%s %s:%s\n", value.platform.c_str(), value.kind.c_str(),
        value.index.has_value() ? absl::StrCat("/", *value.index).c_str() : "",
        value.digest.algorithm.c_str(), value.digest.hex.c_str());
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// submit

struct SubmitCommand {
  std::unique_ptr<client::LogClient> log;
  std::string claim_path;
  std::string public_key_path;
  std::string log_key_path;
  std::string out;
  int wait_attestations = 0;
  absl::Duration timeout;
  absl::Duration poll_interval;
};

absl::StatusOr<SubmitCommand> ParseSubmit(
    const std::vector<std::string>& positional) {
  SubmitCommand command;
  if (positional.size() != 1) {
    return absl::InvalidArgumentError(
        "submit takes one argument, the claim file (CLAIM.json)");
  }
  command.claim_path = positional[0];
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_log), "log"));
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_out), "out"));
  ASSIGN_OR_RETURN(command.log, client::ConnectWithCaFile(
                                    absl::GetFlag(FLAGS_log),
                                    absl::GetFlag(FLAGS_tls_ca)));
  command.public_key_path = absl::GetFlag(FLAGS_public_key);
  command.log_key_path = absl::GetFlag(FLAGS_log_key);
  command.out = absl::GetFlag(FLAGS_out);
  command.wait_attestations = absl::GetFlag(FLAGS_wait_attestations);
  command.timeout = absl::GetFlag(FLAGS_timeout);
  command.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  if (command.wait_attestations < 0) {
    return absl::InvalidArgumentError(
        "--wait_attestations must not be negative");
  }
  if (command.wait_attestations > 0 &&
      command.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--wait_attestations needs a positive --timeout, e.g. --timeout 2h");
  }
  if (command.wait_attestations == 0 &&
      command.timeout != absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--timeout applies only with --wait_attestations");
  }
  if (command.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--poll_interval must be positive");
  }
  return command;
}

// A claim envelope read from a file, checked the way the log will check
// it, so that a wrong file fails here with a clear message.
struct ClaimEnvelope {
  std::string json;
  std::string leaf;
  std::string keyid;
};

absl::StatusOr<ClaimEnvelope> ReadClaimEnvelope(const std::string& path) {
  ClaimEnvelope claim;
  ASSIGN_OR_RETURN(claim.json, ReadFile(path, kMaxEnvelopeFileBytes));
  absl::StatusOr<crypto::DsseEnvelope> envelope =
      crypto::DecodeDsseJson(claim.json);
  if (!envelope.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a DSSE envelope: ", envelope.status().message()));
  }
  if (envelope->signatures.size() != 1 ||
      envelope->payload_type != statement::kPayloadType) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     " is not a claim as refsum-submit claim writes it "
                     "(one signature, payloadType ",
                     statement::kPayloadType, ")"));
  }
  if (absl::Status parsed = statement::ParseClaim(envelope->payload).status();
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " does not hold a valid claim: ", parsed.message()));
  }
  claim.leaf = crypto::EncodeDsseLeaf(*envelope);
  claim.keyid = envelope->signatures[0].keyid;
  return claim;
}

// Returns the PEM of the key at `path` after checking that it signed
// `claim`.
absl::StatusOr<std::string> ReadSignerKey(const std::string& path,
                                          const ClaimEnvelope& claim,
                                          const std::string& claim_path) {
  ASSIGN_OR_RETURN(crypto::PublicKey key, crypto::ReadPublicKeyFile(path));
  if (key.keyid() != claim.keyid) {
    return absl::InvalidArgumentError(
        absl::StrCat("--public_key ", path, " (keyid ", key.keyid(),
                     ") is not the key that signed ", claim_path, " (keyid ",
                     claim.keyid, ")"));
  }
  return key.ToPem();
}

// Shows the waiting on stderr: a status line rewritten in place and event
// lines, both only on a terminal (in a log file they would be noise), and
// warnings always.
class Progress {
 public:
  Progress() : terminal_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() { ClearStatus(); }

  void Status(const std::string& line) {
    if (!terminal_) return;
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    status_shown_ = true;
  }

  void Event(const std::string& line) {
    if (!terminal_) return;
    ClearStatus();
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  void Warning(const std::string& line) {
    ClearStatus();
    std::fprintf(stderr, "refsum-submit: warning: %s\n", line.c_str());
  }

 private:
  void ClearStatus() {
    if (!status_shown_) return;
    std::fprintf(stderr, "\r\033[K");
    status_shown_ = false;
  }

  const bool terminal_;
  bool status_shown_ = false;
};

// Errors worth retrying while waiting: the log restarting or overloaded.
bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

std::string Describe(const AttestationTally::Reading& reading) {
  std::string text = absl::StrCat("entry ", reading.index, ": ",
                                  statement::VerdictName(reading.verdict),
                                  " from rebuilder \"", reading.rebuilder_id,
                                  "\" (keyid ", reading.keyid, ")");
  if (reading.report_uri.has_value()) {
    absl::StrAppend(&text, ", report ", *reading.report_uri);
  }
  return text;
}

// Reads the attestations of the claim that `tally` has not seen yet.
absl::Status ReadNewAttestations(client::LogClient& log, uint64_t claim_index,
                                 AttestationTally& tally, Progress& progress) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> indices,
                   log.GetAttestations(claim_index));
  for (const uint64_t index : indices) {
    if (tally.Seen(index)) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> leaves, log.GetEntries(index, 1));
    ASSIGN_OR_RETURN(const AttestationTally::Reading reading,
                     tally.Add(index, leaves[0]));
    if (reading.verdict == statement::Verdict::kMismatch) {
      progress.Warning(Describe(reading));
    } else {
      progress.Event(Describe(reading));
    }
  }
  return absl::OkStatus();
}

// Fetches the claim's bundle and returns it if it holds `wanted` MATCHes
// (the log may build it against a checkpoint that does not cover every
// attestation yet), after checking it and that its checkpoint and the
// receipt's describe one history.
absl::StatusOr<std::optional<client::FetchedBundle>> FetchCompleteBundle(
    client::LogClient& log, const Receipt& receipt, absl::string_view leaf,
    const crypto::NoteVerifier* log_key, int wanted) {
  ASSIGN_OR_RETURN(client::FetchedBundle fetched,
                   log.GetBundleForClaim(receipt.index));
  ASSIGN_OR_RETURN(
      tlog::Checkpoint checkpoint,
      VerifyClaimBundle(fetched.bundle, receipt.index, leaf, log_key));
  AttestationTally bundled(receipt.checkpoint.origin, receipt.index,
                           tlog::HashLeaf(leaf));
  for (const tlog::BundleEntry& entry : fetched.bundle.claims[0].attestations) {
    RETURN_IF_ERROR(bundled.Add(entry.proof.index, entry.leaf).status());
  }
  if (bundled.matches() < static_cast<size_t>(wanted)) return std::nullopt;
  std::vector<tlog::Hash> proof;
  const uint64_t smaller = std::min(checkpoint.size, receipt.checkpoint.size);
  const uint64_t larger = std::max(checkpoint.size, receipt.checkpoint.size);
  if (smaller != larger) {
    ASSIGN_OR_RETURN(proof, log.GetConsistencyProof(smaller, larger));
  }
  RETURN_IF_ERROR(VerifySameHistory(receipt.checkpoint, checkpoint, proof));
  return fetched;
}

absl::StatusOr<client::FetchedBundle> WaitForAttestations(
    client::LogClient& log, const SubmitCommand& command,
    const Receipt& receipt, absl::string_view leaf,
    const crypto::NoteVerifier* log_key) {
  const absl::Time deadline = absl::Now() + command.timeout;
  AttestationTally tally(receipt.checkpoint.origin, receipt.index,
                         tlog::HashLeaf(leaf));
  Progress progress;
  std::string last_error;
  while (true) {
    absl::Status polled =
        ReadNewAttestations(log, receipt.index, tally, progress);
    if (polled.ok() &&
        tally.matches() >= static_cast<size_t>(command.wait_attestations)) {
      absl::StatusOr<std::optional<client::FetchedBundle>> bundle =
          FetchCompleteBundle(log, receipt, leaf, log_key,
                              command.wait_attestations);
      if (bundle.ok() && bundle->has_value()) return **std::move(bundle);
      polled = bundle.status();
    }
    if (!polled.ok() && !IsTransient(polled)) return polled;
    last_error = polled.ok() ? "" : std::string(polled.message());
    const absl::Time now = absl::Now();
    const std::string have = absl::StrCat(
        tally.matches(), " of ", command.wait_attestations,
        " MATCH attestations",
        tally.matches() == 0
            ? ""
            : absl::StrCat(
                  " (", absl::StrJoin(tally.matching_rebuilders(), ", "), ")"));
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "timed out after ", absl::FormatDuration(command.timeout), " with ",
          have, " for the claim at index ", receipt.index,
          last_error.empty() ? ""
                             : absl::StrCat(" (last error: ", last_error, ")"),
          "; it is logged: run submit again to keep waiting"));
    }
    progress.Status(absl::StrCat(
        "waiting: ", have, ", ",
        absl::FormatDuration(absl::Ceil(deadline - now, absl::Seconds(1))),
        " left",
        last_error.empty() ? "" : absl::StrCat(" (", last_error, ")")));
    absl::SleepFor(std::min(command.poll_interval, deadline - now));
  }
}

absl::Status Submit(const SubmitCommand& command) {
  std::unique_ptr<crypto::NoteVerifier> log_key;
  if (!command.log_key_path.empty()) {
    ASSIGN_OR_RETURN(log_key, ReadLogKeyFile(command.log_key_path));
  }
  ASSIGN_OR_RETURN(const ClaimEnvelope claim,
                   ReadClaimEnvelope(command.claim_path));
  std::string public_key_pem;
  if (!command.public_key_path.empty()) {
    ASSIGN_OR_RETURN(public_key_pem, ReadSignerKey(command.public_key_path,
                                                   claim, command.claim_path));
  }
  ASSIGN_OR_RETURN(const refsum::v1::SubmitResponse response,
                   command.log->Submit(claim.json, public_key_pem));
  absl::StatusOr<Receipt> receipt =
      VerifySubmitResponse(response, claim.leaf, log_key.get());
  if (!receipt.ok()) {
    return absl::Status(receipt.status().code(),
                        absl::StrCat("log ", command.log->address(),
                                     ": the answer to Submit does not verify: ",
                                     receipt.status().message()));
  }
  const std::string logged = absl::StrCat(
      receipt->duplicate ? "already logged" : "logged", " at index ",
      receipt->index, " (checkpoint size ", receipt->checkpoint.size, ")");
  if (log_key == nullptr) {
    std::fprintf(stderr,
                 "refsum-submit: note: the checkpoint's signature was not "
                 "checked; pass --log_key with the log's verifier key\n");
  }
  if (command.wait_attestations == 0) {
    RETURN_IF_ERROR(
        WriteFileAtomically(command.out, receipt->tlog_proof, 0644));
    std::printf("%s; wrote the tlog-proof to %s\n", logged.c_str(),
                command.out.c_str());
    return absl::OkStatus();
  }
  std::printf("%s\n", logged.c_str());
  std::fflush(stdout);
  ASSIGN_OR_RETURN(const client::FetchedBundle bundle,
                   WaitForAttestations(*command.log, command, *receipt,
                                       claim.leaf, log_key.get()));
  RETURN_IF_ERROR(WriteFileAtomically(command.out, bundle.json, 0644));
  std::printf("wrote the bundle with %zu attestations to %s\n",
              bundle.bundle.claims[0].attestations.size(), command.out.c_str());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

// Prints `status` as one line: messages that quote a server or a file could
// otherwise span several.
void PrintError(const absl::Status& status) {
  const std::string message = absl::StrReplaceAll(
      status.message(), {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
  std::fprintf(stderr, "refsum-submit: %s\n", message.c_str());
}

int UsageError(const absl::Status& status) {
  PrintError(status);
  return 2;
}

int Finish(const absl::Status& status) {
  if (status.ok()) return 0;
  PrintError(status);
  return 1;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const absl::string_view repeatable[] = {kArtifactFlag, kValueFlag};
  absl::StatusOr<RepeatedFlags> repeated =
      ExtractRepeatedFlags(argc, argv, repeatable);
  if (!repeated.ok()) return UsageError(repeated.status());
  const int remaining_argc = static_cast<int>(repeated->remaining.size());
  repeated->remaining.push_back(nullptr);  // argv[argc] is null by convention
  absl::StatusOr<std::vector<std::string>> args =
      ParseCommandLine(remaining_argc, repeated->remaining.data());
  if (!args.ok()) return UsageError(args.status());
  if (args->size() < 2) {
    std::fprintf(stderr, "usage:\n%s\n", kUsage);
    return 2;
  }
  const std::string subcommand = (*args)[1];
  const std::vector<std::string> positional(args->begin() + 2, args->end());
  if (subcommand != "keygen" && subcommand != "claim" &&
      subcommand != "submit") {
    return UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown subcommand \"", subcommand,
                     "\"; expected keygen, claim or submit")));
  }
  if (absl::Status belongs = CheckFlagsBelongTo(subcommand, *repeated);
      !belongs.ok()) {
    return UsageError(belongs);
  }
  if (subcommand != "submit" && !positional.empty()) {
    return UsageError(absl::InvalidArgumentError(
        absl::StrCat(subcommand, " takes no arguments besides flags, got \"",
                     positional[0], "\"")));
  }
  if (subcommand == "keygen") {
    absl::StatusOr<KeygenCommand> command = ParseKeygen();
    if (!command.ok()) return UsageError(command.status());
    return Finish(Keygen(*command));
  }
  if (subcommand == "claim") {
    absl::StatusOr<ClaimCommand> command = ParseClaim(*repeated);
    if (!command.ok()) return UsageError(command.status());
    return Finish(Claim(*command));
  }
  absl::StatusOr<SubmitCommand> command = ParseSubmit(positional);
  if (!command.ok()) return UsageError(command.status());
  return Finish(Submit(*command));
}

}  // namespace
}  // namespace refsum::submitter

int main(int argc, char** argv) { return refsum::submitter::Main(argc, argv); }
