// CPU time of a process, read from /proc/<pid>/stat (utime + stime), for
// CPU seconds per operation of a server under load.

#ifndef REFSUM_TESTS_BENCH_PROC_STAT_H_
#define REFSUM_TESTS_BENCH_PROC_STAT_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace refsum::bench {

// Returns the user plus system CPU time `pid` has used so far (its threads
// included, its reaped children not). Returns NotFound if there is no such
// process and DataLoss if /proc/<pid>/stat does not parse.
absl::StatusOr<absl::Duration> ProcessCpuTime(pid_t pid);

// The CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
absl::Duration ThreadCpuTime();

}  // namespace refsum::bench

#endif  // REFSUM_TESTS_BENCH_PROC_STAT_H_
