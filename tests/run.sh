#!/usr/bin/env bash
# The project's test command: installs missing dependencies, runs every Bazel
# test target, and ends with one line "N passed, N failed" counting test
# targets. Exits non-zero if any target fails or the build breaks.
#
# Extra arguments go to `bazel test`, e.g. tests/run.sh --config=asan.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

deploy/install-deps.sh || exit 2

log=$(mktemp)
trap 'rm -f "$log"' EXIT

bazel test //... --keep_going --color=no --curses=no --test_output=errors \
  --test_summary=short "$@" 2>&1 | tee "$log"
bazel_status=${PIPESTATUS[0]}

# Summary lines look like "//crypto:note_test   (cached) PASSED in 0.1s".
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY)' "$log")

if ((bazel_status != 0 && failed == 0)); then
  echo "$passed passed, $failed failed (bazel exited with $bazel_status before any test could fail: see the errors above)"
  exit 1
fi
echo "$passed passed, $failed failed"
((bazel_status == 0 && failed == 0))
