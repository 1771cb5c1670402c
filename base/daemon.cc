#include "base/daemon.h"

#include <pthread.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/usage.h"
#include "base/command_line.h"

namespace refsum {

int RunSubcommands(int argc, char** argv, absl::string_view program,
                   const char* usage,
                   std::initializer_list<Subcommand> commands) {
  // Abseil allows setting the usage message once per process.
  static std::once_flag usage_set;
  std::call_once(usage_set, [usage] { absl::SetProgramUsageMessage(usage); });
  const std::string name(program);
  absl::StatusOr<std::vector<std::string>> args = ParseCommandLine(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "%s: %s\nusage:\n%s\n", name.c_str(),
                 std::string(args.status().message()).c_str(), usage);
    return 2;
  }
  const Subcommand* chosen = nullptr;
  for (const Subcommand& command : commands) {
    if (args->size() == 2 && (*args)[1] == command.name) chosen = &command;
  }
  if (chosen == nullptr) {
    std::fprintf(stderr, "usage:\n%s\n", usage);
    return 2;
  }
  const absl::Status status = chosen->run();
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(),
                 std::string(status.message()).c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForTermination(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

}  // namespace refsum
