// refsum-witness: a refsum witness, cosigning a log's checkpoints (C2SP
// tlog-witness) and rebuilding the claims it logs.
//
//   refsum-witness keygen --name NAME --out DIR
//   refsum-witness serve --config FILE [--ready_file FILE]
//       [--tls_cert FILE --tls_key FILE] [--log_tls_ca FILE]
//
// keygen writes DIR/cosign.key and DIR/cosign.vkey (the cosigning key, its
// C2SP vkey of type 0x04 named NAME) and DIR/rebuild.key and
// DIR/rebuild.pub (the separate Ed25519 DSSE key of rebuild attestations),
// refusing to overwrite any of them. serve runs the witness the
// configuration file describes (witness/config.h) until SIGTERM or SIGINT,
// then exits 0. Exit codes: 2 for usage errors and bad configuration, 1 for
// other failures.

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/daemon.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "encoding/json.h"
#include "witness/config.h"
#include "witness/witness.h"

ABSL_FLAG(std::string, name, "",
          "keygen: the witness's cosigner name (its key name), e.g. "
          "witness.example.org/w1.");
ABSL_FLAG(std::string, out, "",
          "keygen: directory to write cosign.key, cosign.vkey, rebuild.key "
          "and rebuild.pub to.");
ABSL_FLAG(std::string, config, "", "serve: the configuration file.");
ABSL_FLAG(std::string, ready_file, "",
          "serve: once listening, write {\"http\":\"HOST:PORT\"} here.");
ABSL_FLAG(std::string, tls_cert, "",
          "serve: a PEM certificate chain (the server's certificate first); "
          "with --tls_key, the HTTP server speaks HTTPS only.");
ABSL_FLAG(std::string, tls_key, "",
          "serve: the PEM private key of --tls_cert; refused if its group or "
          "others may read it.");
ABSL_FLAG(std::string, log_tls_ca, "",
          "serve: reach every configured log's gRPC API with TLS, accepting "
          "only certificates that chain to the CA certificates in this PEM "
          "file.");

namespace refsum::witness {
namespace {

constexpr char kUsage[] =
    "refsum-witness keygen --name NAME --out DIR\n"
    "refsum-witness serve --config FILE [--ready_file FILE] "
    "[--tls_cert FILE --tls_key FILE] [--log_tls_ca FILE]";

absl::Status RequireFlag(const std::string& value, absl::string_view name) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return absl::OkStatus();
}

absl::Status Keygen() {
  const std::string name = absl::GetFlag(FLAGS_name);
  const std::string out = absl::GetFlag(FLAGS_out);
  RETURN_IF_ERROR(RequireFlag(name, "name"));
  RETURN_IF_ERROR(RequireFlag(out, "out"));
  if (!crypto::IsValidNoteKeyName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--name \"", name, "\" must be non-empty without spaces or '+'"));
  }
  if (mkdir(out.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("creating ", out));
  }
  const std::string cosign_key_path = out + "/cosign.key";
  const std::string cosign_vkey_path = out + "/cosign.vkey";
  const std::string rebuild_key_path = out + "/rebuild.key";
  const std::string rebuild_pub_path = out + "/rebuild.pub";
  // All or nothing: a half-replaced set would pair keys that were never
  // published together.
  for (const std::string& path : {cosign_key_path, cosign_vkey_path,
                                  rebuild_key_path, rebuild_pub_path}) {
    struct stat existing;
    if (lstat(path.c_str(), &existing) == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists; refusing to overwrite witness keys"));
    }
  }
  ASSIGN_OR_RETURN(crypto::PrivateKey cosign_key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(crypto::PrivateKey rebuild_key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSIGN_OR_RETURN(
      const std::string vkey,
      crypto::FormatVerifierKey(name, crypto::kNoteSignatureTypeCosignatureV1,
                                cosign_key.public_key()));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(cosign_key_path, cosign_key));
  RETURN_IF_ERROR(WriteFileAtomically(cosign_vkey_path, vkey + "\n", 0644));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(rebuild_key_path, rebuild_key));
  RETURN_IF_ERROR(
      crypto::WritePublicKeyFile(rebuild_pub_path, rebuild_key.public_key()));
  std::printf("wrote %s, %s, %s and %s\ncosigner vkey: %s\n",
              cosign_key_path.c_str(), cosign_vkey_path.c_str(),
              rebuild_key_path.c_str(), rebuild_pub_path.c_str(), vkey.c_str());
  return absl::OkStatus();
}

absl::Status WriteReadyFile(const std::string& path, const HostPort& http) {
  using encoding::JsonValue;
  const std::string json = encoding::SerializeJson(JsonValue::MakeObject({
      {"http", JsonValue::String(FormatHostPort(http))},
  }));
  return WriteFileAtomically(path, json + "\n", 0644);
}

absl::Status Serve() {
  const sigset_t termination = BlockTerminationSignals();
  const std::string config_path = absl::GetFlag(FLAGS_config);
  RETURN_IF_ERROR(RequireFlag(config_path, "config"));
  ASSIGN_OR_RETURN(WitnessConfig config, ReadConfigFile(config_path));
  config.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  config.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  if (const std::string ca_path = absl::GetFlag(FLAGS_log_tls_ca);
      !ca_path.empty()) {
    ASSIGN_OR_RETURN(const std::string ca_pem, ReadFile(ca_path, 1 << 20));
    for (LogConfig& log : config.logs) log.tls_ca_pem = ca_pem;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Witness> witness,
                   Witness::Start(std::move(config)));
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  if (!ready_file.empty()) {
    RETURN_IF_ERROR(WriteReadyFile(ready_file, witness->http_address()));
  }
  std::fprintf(
      stderr, "refsum-witness %s: HTTP on %s, cosigning %zu log(s) as %s\n",
      witness->config().name.c_str(),
      FormatHostPort(witness->http_address()).c_str(),
      witness->config().logs.size(), witness->cosigner().vkey().c_str());

  const int signal_number = WaitForTermination(termination);
  std::fprintf(stderr, "refsum-witness: %s, stopping\n",
               strsignal(signal_number));
  witness->Shutdown();
  return absl::OkStatus();
}

}  // namespace
}  // namespace refsum::witness

int main(int argc, char** argv) {
  return refsum::RunSubcommands(
      argc, argv, "refsum-witness", refsum::witness::kUsage,
      {{"keygen", refsum::witness::Keygen}, {"serve", refsum::witness::Serve}});
}
