#!/usr/bin/env bash
# Runs deploy/demo.sh end to end against the binaries Bazel built for this
# test (REFSUM_BIN_DIR is the runfiles root, so the demo skips
# install-deps.sh and bazel build), twice in the same --dir to show that it
# is idempotent, and checks that every step showed its outcome.
set -euo pipefail

runfiles="$PWD"
work="${TEST_TMPDIR:-$(mktemp -d)}/demo"

fail() { echo "demo_test: $*" >&2; exit 1; }

# --help prints the usage and exits 0 without running anything.
help_status=0
"$runfiles/deploy/demo.sh" --help > "$work.help" 2>&1 || help_status=$?
[[ $help_status -eq 0 ]] || fail "demo.sh --help exited $help_status:
$(cat "$work.help")"
for expected in '^usage: deploy/demo\.sh \[--dir DIR\] \[--keep\]$' \
    '--dir' '--keep'; do
  grep -q -- "$expected" "$work.help" ||
    fail "demo.sh --help lacks /$expected/:
$(cat "$work.help")"
done

for run in 1 2; do
  status=0
  REFSUM_BIN_DIR="$runfiles" "$runfiles/deploy/demo.sh" --dir "$work" \
    > "$work.out" 2>&1 || status=$?
  [[ $status -eq 0 ]] || fail "run $run: demo.sh exited $status:
$(cat "$work.out")"
  for expected in \
      '^1\. The vendor releases v1\.0' \
      'logged at index 0' \
      '3 MATCH attestations logged' \
      '^   | TRUSTED$' \
      '^   |   source      file://.*/vendor/os-image @ [0-9a-f]\{40\} (tag v1\.0)$' \
      '3 MISMATCH attestations logged' \
      'REJECTED: mismatch: rebuilder r[123] reports MISMATCH' \
      '^5\. The verifier checks v1\.0 again offline' \
      '^   TRUSTED, rebuilders r1, r2, r3 (MATCH)$' \
      'REJECTED: consistency: possible split view' \
      'and the real log still verifies' \
      '^Done in [0-9]*s\. Everything is in '; do
    grep -q -- "$expected" "$work.out" ||
      fail "run $run: the output lacks /$expected/:
$(cat "$work.out")"
  done
  # Every process it started is gone.
  while read -r pid _; do
    [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null ||
      fail "run $run: process $pid is still running"
  done < "$work/pids.stopped"
  [[ ! -e "$work/pids" ]] || fail "run $run: $work/pids is left"
done
for r in r1 r2 r3; do
  grep -q "rebuilder $r reports MISMATCH" "$work.out" || fail "the rejection of v1.1 does not name $r"
done
grep -q 'possible split view' "$work/verifier/forged.txt" ||
  fail "verifier/forged.txt does not hold the split view"
echo "demo_test: the demo tells all six steps"
