// What every refsum binary does the same way: run the subcommand named on
// the command line with the shared exit code convention, and (for daemons)
// wait for SIGTERM or SIGINT.

#ifndef REFSUM_BASE_DAEMON_H_
#define REFSUM_BASE_DAEMON_H_

#include <signal.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refsum {

struct Subcommand {
  const char* name;
  std::function<absl::Status()> run;
};

// Parses the flags (ParseCommandLine), runs the subcommand whose name is the
// one positional argument, and returns the process's exit code: 0 on
// success; 2, after printing "<program>: <problem>" and `usage`, for a bad
// flag or a missing or unknown subcommand; and for a failed subcommand,
// after printing "<program>: <message>", 2 when it failed with
// InvalidArgument (bad input on the command line) and 1 otherwise.
int RunSubcommands(int argc, char** argv, absl::string_view program,
                   const char* usage, std::initializer_list<Subcommand> commands);

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards, so that WaitForTermination alone receives them. Call before
// starting threads.
sigset_t BlockTerminationSignals();

// Waits for one of `signals` and returns its number.
int WaitForTermination(const sigset_t& signals);

}  // namespace refsum

#endif  // REFSUM_BASE_DAEMON_H_
