#!/usr/bin/env bash
# The project's test command. Installs missing dependencies, then runs these
# stages and ends with one line "N passed, N failed" totalling all of them:
#
#   normal    every Bazel test target (bazel test //...)
#   sanitize  every test target under AddressSanitizer + UndefinedBehavior-
#             Sanitizer (--config=asan-ubsan), then the targets tagged
#             "concurrent" under ThreadSanitizer (--config=tsan)
#   fuzz      tests/fuzz/run.sh "${REFSUM_FUZZ_SECONDS:-10}", if it exists
#
# Each Bazel stage counts its test targets; one that breaks before any test
# could fail counts as one failure. The fuzz stage counts its targets (from
# its "fuzz: N targets, ..., F failed" line), or itself as one item. Exits
# non-zero if anything failed.
#
#   tests/run.sh [--fast | --sanitize] [BAZEL_ARGS...]
#
# --fast runs only the normal stage (for development), --sanitize only the
# sanitizer stage. Other arguments go to every `bazel test`, e.g.
# tests/run.sh --fast //log/... or tests/run.sh --sanitize --test_output=all.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

stages=(normal sanitize fuzz)
case "${1:-}" in
  --fast) stages=(normal); shift ;;
  --sanitize) stages=(sanitize); shift ;;
  -h | --help)
    sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac
# Targets given among the arguments replace //... (bazel test takes both).
targets=("//...")
for arg in "$@"; do
  [[ "$arg" == //* || "$arg" == :* ]] && targets=()
done

deploy/install-deps.sh || exit 2

log=$(mktemp)
trap 'rm -f "$log"' EXIT

total_passed=0
total_failed=0
summaries=()

# run_bazel NAME BAZEL_TEST_ARGS...: one `bazel test`, counted.
run_bazel() {
  local name=$1
  shift
  local start=$SECONDS
  echo "=== $name: bazel test $*"
  bazel test --keep_going --color=no --curses=no --test_output=errors \
    --test_summary=short "$@" 2>&1 | tee "$log"
  local bazel_status=${PIPESTATUS[0]}
  # Summary lines look like "//crypto:note_test   (cached) PASSED in 0.1s".
  local passed failed note=""
  passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY)' "$log")
  if ((bazel_status != 0 && failed == 0)); then
    failed=1
    note=" (bazel exited with $bazel_status before any test could fail: see the errors above)"
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summaries+=("$name: $passed passed, $failed failed in $((SECONDS - start))s$note")
}

run_fuzz() {
  local start=$SECONDS
  echo "=== fuzz: tests/fuzz/run.sh ${REFSUM_FUZZ_SECONDS:-10}"
  tests/fuzz/run.sh "${REFSUM_FUZZ_SECONDS:-10}" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local passed failed line
  line=$(grep -E '^fuzz: [0-9]+ targets, .*, [0-9]+ failed$' "$log" | tail -1)
  if [[ -n "$line" ]]; then
    local count
    count=$(sed -E 's/^fuzz: ([0-9]+) targets.*/\1/' <<<"$line")
    failed=$(sed -E 's/.*, ([0-9]+) failed$/\1/' <<<"$line")
    passed=$((count - failed))
    ((status != 0 && failed == 0)) && failed=1
  elif ((status == 0)); then
    passed=1 failed=0
  else
    passed=0 failed=1
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summaries+=("fuzz: $passed passed, $failed failed in $((SECONDS - start))s")
}

for stage in "${stages[@]}"; do
  case "$stage" in
    normal)
      run_bazel normal "${targets[@]}" "$@"
      ;;
    sanitize)
      # The normal stage already built every binary; here only what the
      # tests run (the benchmark tools, for one, are left out).
      run_bazel asan-ubsan --config=asan-ubsan --build_tests_only \
        "${targets[@]}" "$@"
      # Only the tagged tests and what they need are built under TSan.
      run_bazel tsan --config=tsan --test_tag_filters=concurrent \
        --build_tests_only "${targets[@]}" "$@"
      ;;
    fuzz)
      if [[ -x tests/fuzz/run.sh ]]; then
        run_fuzz
      fi
      ;;
  esac
done

printf '%s\n' "${summaries[@]}"
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
