#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS seconds each:
#
#   tests/fuzz/run.sh SECONDS [TARGET...]
#
# Builds them with --config=fuzz (clang, libFuzzer, ASan + UBSan), then runs
# each on a fresh copy of its seeds (corpus/TARGET/ and regressions/TARGET/)
# with leak detection. An input that crashes, leaks, trips a sanitizer,
# times out or runs out of memory is written to regressions/TARGET/ (commit
# it with the fix: TARGET_test replays it from then on) and the end of the
# fuzzer's log is printed. Prints one line per target with its executions
# (libFuzzer's stat::number_of_executed_units) and exits 1 if any target
# failed, 2 if the build failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

usage="usage: tests/fuzz/run.sh SECONDS [TARGET...]"
if (($# < 1)) || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "$usage" >&2
  echo "SECONDS must be a positive whole number of seconds per target" >&2
  exit 2
fi
seconds=$1
shift

if (($# > 0)); then
  targets=("$@")
else
  # Every target has a seed corpus (fuzz.bzl insists), so its directories
  # name them all.
  targets=()
  for dir in tests/fuzz/corpus/*/; do
    targets+=("$(basename "$dir")")
  done
fi
labels=()
for target in "${targets[@]}"; do
  if [[ ! -d "tests/fuzz/corpus/$target" ]]; then
    echo "run.sh: no fuzz target '$target' (no tests/fuzz/corpus/$target/)" >&2
    exit 2
  fi
  labels+=("//tests/fuzz:${target}_fuzzer")
done

bazel build --config=fuzz --color=no --curses=no "${labels[@]}" || exit 2
bin_dir=$(bazel info --config=fuzz bazel-bin 2>/dev/null) || exit 2

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[[ -x "$symbolizer" ]] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
for target in "${targets[@]}"; do
  corpus="$work/$target"
  regressions="tests/fuzz/regressions/$target"
  mkdir -p "$corpus" "$regressions"
  cp -r "tests/fuzz/corpus/$target/." "$corpus/"
  cp -r "$regressions/." "$corpus/"
  log="$work/$target.log"
  "$bin_dir/tests/fuzz/${target}_fuzzer" "$corpus" \
    -max_total_time="$seconds" -print_final_stats=1 -detect_leaks=1 \
    -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$regressions/" >"$log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if ((status == 0)); then
    printf '%-20s %12s executions  ok\n' "$target" "${executions:-?}"
  else
    failed=$((failed + 1))
    printf '%-20s %12s executions  FAILED (exit %d)\n' "$target" \
      "${executions:-?}" "$status"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*fuzz invariant)' "$log" | head -5
    tail -n 40 "$log" | sed 's/^/    /'
    ls -t "$regressions" | head -3 | sed "s|^|    input kept: $regressions/|"
  fi
done

echo "fuzz: ${#targets[@]} targets, $seconds s each, $failed failed"
((failed == 0))
