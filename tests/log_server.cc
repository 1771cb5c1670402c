#include "tests/log_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "encoding/json.h"
#include "gtest/gtest.h"

namespace refsum::tests {
namespace {

// See the header. Runs at static initialization, before any test creates a
// channel; the environment wins.
const bool kFastClientPolling = [] {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", 0);
  return true;
}();

// Counts the starts of every LogServer in this binary, so that each run has
// its own output files.
std::atomic<int> starts{0};

// The most of a log's stderr printed for a failed test.
constexpr size_t kStderrTail = 6000;

// Splits "HOST:PORT".
absl::Status SplitAddress(const std::string& address, std::string* host,
                          int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), port) || *port <= 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\" is not HOST:PORT"));
  }
  *host = address.substr(0, colon);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LogKey> GenerateLogKey(absl::string_view origin,
                                      const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("creating ", dir));
  }
  ASSIGN_OR_RETURN(
      RunResult keygen,
      RunProcess(kLogBinary,
                 {"keygen", absl::StrCat("--origin=", origin), "--out=" + dir},
                 dir + "/keygen", absl::Seconds(300)));
  if (!keygen.status.ExitedWith(0)) {
    return absl::InternalError(
        absl::StrCat("refsum-log keygen: ", keygen.status.ToString(), ": ",
                     keygen.stderr_text));
  }
  LogKey key;
  key.origin = std::string(origin);
  key.key_path = dir + "/log.key";
  key.vkey_path = dir + "/log.vkey";
  ASSIGN_OR_RETURN(std::string vkey_file, ReadFile(key.vkey_path));
  key.vkey = std::string(absl::StripAsciiWhitespace(vkey_file));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::NoteVerifier> verifier,
                   crypto::NewNoteVerifierFromKey(key.vkey));
  key.verifier = std::move(verifier);
  return key;
}

LogServer::LogServer(LogServerOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<LogServer>> LogServer::Start(
    LogServerOptions options) {
  if (options.key.origin.empty() || options.key.key_path.empty() ||
      options.key.verifier == nullptr || options.data_dir.empty() ||
      options.output_dir.empty()) {
    return absl::InvalidArgumentError(
        "LogServerOptions need a key (from GenerateLogKey), a data_dir and "
        "an output_dir");
  }
  auto server = std::unique_ptr<LogServer>(new LogServer(std::move(options)));
  RETURN_IF_ERROR(server->Run());
  return server;
}

LogServer::~LogServer() {
  if (::testing::Test::HasFailure()) PrintStderr();
}

void LogServer::PrintStderr() const {
  if (process_ == nullptr) return;
  std::string err = process_->ReadStderr();
  if (err.size() > kStderrTail) {
    err = "..." + err.substr(err.size() - kStderrTail);
  }
  std::cerr << "--- stderr of refsum-log (pid " << process_->pid() << ") ---\n"
            << err << "--- end of stderr ---\n";
}

absl::Status LogServer::Run() {
  const std::string name =
      absl::StrCat(options_.output_dir, "/serve-", starts.fetch_add(1));
  const std::string ready_file = name + ".ready.json";
  std::vector<std::string> args = {
      "serve",
      "--data_dir=" + options_.data_dir,
      "--origin=" + options_.key.origin,
      "--key=" + options_.key.key_path,
      "--grpc_addr=127.0.0.1:0",
      "--http_addr=127.0.0.1:0",
      "--ready_file=" + ready_file,
      options_.keys_path.empty() ? "--open" : "--keys=" + options_.keys_path,
  };
  if (options_.batch_size.has_value()) {
    args.push_back(absl::StrCat("--batch_size=", *options_.batch_size));
  }
  if (options_.batch_interval.has_value()) {
    args.push_back(absl::StrCat(
        "--batch_interval=", absl::FormatDuration(*options_.batch_interval)));
  }
  args.insert(args.end(), options_.extra_flags.begin(),
              options_.extra_flags.end());

  // Forget the previous run's connections before its successor starts.
  client_.reset();
  stub_.reset();
  channel_.reset();
  grpc_address_.clear();
  http_host_.clear();
  http_port_ = 0;
  ASSIGN_OR_RETURN(process_, Process::Start(kLogBinary, args, name + ".stdout",
                                            name + ".stderr"));

  ASSIGN_OR_RETURN(std::string ready,
                   process_->WaitForFile(ready_file, options_.timeout));
  ASSIGN_OR_RETURN(encoding::JsonValue addresses, encoding::ParseJson(ready));
  const encoding::JsonValue* grpc_address = addresses.Find("grpc");
  const encoding::JsonValue* http_address = addresses.Find("http");
  if (grpc_address == nullptr || grpc_address->AsString() == nullptr ||
      http_address == nullptr || http_address->AsString() == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ready file is not {\"grpc\":..,\"http\":..}: ", ready));
  }
  grpc_address_ = *grpc_address->AsString();
  RETURN_IF_ERROR(
      SplitAddress(*http_address->AsString(), &http_host_, &http_port_));

  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!options_.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = options_.tls_ca_pem;
    credentials = grpc::SslCredentials(tls);
  }
  channel_ =
      grpc::CreateCustomChannel(grpc_address_, credentials, channel_args);
  if (!channel_->WaitForConnected(
          absl::ToChronoTime(absl::Now() + options_.timeout))) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to gRPC at ", grpc_address_));
  }
  stub_ = refsum::v1::Log::NewStub(channel_);
  ASSIGN_OR_RETURN(client_,
                   client::LogClient::Connect(grpc_address_, options_.timeout,
                                              options_.tls_ca_pem));
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> LogServer::Terminate() {
  return process_->SignalAndWait(SIGTERM, options_.timeout);
}

absl::StatusOr<ExitStatus> LogServer::Kill() {
  return process_->SignalAndWait(SIGKILL, options_.timeout);
}

absl::Status LogServer::Restart() {
  if (!process_->Poll().has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refsum-log (pid ", process_->pid(),
                     ") is still running; Terminate or Kill it first"));
  }
  return Run();
}

}  // namespace refsum::tests
