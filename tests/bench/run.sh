#!/usr/bin/env bash
# The benchmark of issue #7: measures this machine's limits, then a real
# refsum-log on loopback with a fresh data directory, and prints one table
# (row, value, unit, limit/baseline, ratio, target, met?).
#
#   tests/bench/run.sh [--quick | --smoke] [--out FILE] [--dir DIR] [--perf]
#
#   (default)  fills the log to 10^6 entries through Submit; 20 s per run
#   --quick    10^5 entries, 5 s per run: for development
#   --smoke    a few hundred entries, about a second per run: checks that
#              the harness works (bench_smoke_test), numbers meaningless
#   --out FILE also writes the table (Markdown) to FILE
#   --dir DIR  work directory (default: a new one under /tmp, removed at
#              the end unless --keep)
#   --keep     keep the work directory (log data, outputs, perf.data)
#   --perf     record a profile of the log (perf record, cpu-clock, DWARF
#              call graphs) for 10 s of the Ed25519 256-caller write run
#              into DIR/perf.data
#
# Builds with `bazel build -c opt` unless REFSUM_BIN_DIR names a directory
# holding log/refsum-log and tests/bench/refsum-bench-{load,limits,compact}
# (the smoke test's runfiles).
set -euo pipefail

mode=full
out=""
work=""
keep=0
perf=0
while (($#)); do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --out) out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --dir) work="$2"; shift ;;
    --dir=*) work="${1#--dir=}" ;;
    --keep) keep=1 ;;
    --perf) perf=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

case "$mode" in
  full)  scale=(10000 100000 1000000); run_s=20; limit_s=5; read_s=10
         scale_s=3; iterations=2000 ;;
  quick) scale=(10000 100000);         run_s=5;  limit_s=2; read_s=5
         scale_s=2; iterations=500 ;;
  smoke) scale=(300 600);              run_s=1;  limit_s=0.3; read_s=1
         scale_s=0.5; iterations=20 ;;
esac
final_size=${scale[-1]}
if [[ -n "$out" && "$out" != /* ]]; then out="$PWD/$out"; fi

if [[ -n "${REFSUM_BIN_DIR:-}" ]]; then
  bin=$(cd "$REFSUM_BIN_DIR" && pwd)
else
  cd "$(dirname "$0")/../.."
  bazel build -c opt //log:refsum-log //tests/bench:refsum-bench-load \
    //tests/bench:refsum-bench-limits //tests/bench:refsum-bench-compact >&2
  bin=$(bazel info -c opt bazel-bin 2>/dev/null)
fi
log_bin="$bin/log/refsum-log"
load_bin="$bin/tests/bench/refsum-bench-load"
limits_bin="$bin/tests/bench/refsum-bench-limits"
compact_bin="$bin/tests/bench/refsum-bench-compact"

if [[ -z "$work" ]]; then
  work=$(mktemp -d /tmp/refsum-bench.XXXXXX)
else
  mkdir -p "$work"
fi
work=$(cd "$work" && pwd)
log_pid=""
cleanup() {
  if [[ -n "$log_pid" ]]; then kill -KILL "$log_pid" 2>/dev/null || true; fi
  if ((keep == 0)); then rm -rf "$work"; fi
}
trap cleanup EXIT

say() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
# kv LINE KEY: the value of KEY in a "key=value ..." line.
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n 1; }
# calc EXPR [DECIMALS]
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# yes if EXPR holds.
met() { awk "BEGIN { print (($1) ? \"yes\" : \"NO\") }"; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- limits -------------------------------------------------------------------
say "limits (${limit_s}s each)"
limits=$("$limits_bin" --dir "$work" --duration "${limit_s}s" --concurrency 256)
ed_limit=$(kv "$limits" ed25519_verify_rate)
ecdsa_limit=$(kv "$limits" ecdsa_verify_rate)
ed_cpu=$(kv "$limits" ed25519_verify_cpu_us)
ecdsa_cpu=$(kv "$limits" ecdsa_verify_cpu_us)
grpc_limit=$(kv "$limits" grpc_empty_rate)
rocks_limit=$(kv "$limits" rocksdb_sync_batch_rate)

# --- the log -----------------------------------------------------------------
"$log_bin" keygen --origin bench.example.org/refsum --out "$work/log-keys" \
  >"$work/keygen.out" 2>&1
"$load_bin" setup --key_dir "$work/keys" >/dev/null
start_log() {
  rm -f "$work/ready.json"
  "$log_bin" serve --data_dir "$work/data" --origin bench.example.org/refsum \
    --key "$work/log-keys/log.key" --keys "$work/keys/signers.txt" \
    --ready_file "$work/ready.json" >>"$work/log.out" 2>&1 &
  log_pid=$!
  while [[ ! -s "$work/ready.json" ]]; do
    if ! kill -0 "$log_pid" 2>/dev/null; then
      echo "run.sh: refsum-log exited; its output:" >&2
      tail -n 20 "$work/log.out" >&2
      exit 1
    fi
    sleep 0.002
  done
  grpc=$(sed -n 's/.*"grpc":"\([^"]*\)".*/\1/p' "$work/ready.json")
  http=$(sed -n 's/.*"http":"\([^"]*\)".*/\1/p' "$work/ready.json")
}
stop_log() {
  kill -TERM "$log_pid"
  wait "$log_pid" || { echo "run.sh: refsum-log exited with $?" >&2; exit 1; }
  log_pid=""
}
start_log
say "log at $grpc (gRPC), $http (HTTP), pid $log_pid"

total_leaf_bytes=0
total_submitted=0
# submit NAME FLAGS...: runs the load generator, keeps its line in $result.
submit() {
  local seed=$1; shift
  result=$("$load_bin" submit --log "$grpc" --key_dir "$work/keys" \
    --seed "$seed" --server_pid "$log_pid" "$@")
  total_leaf_bytes=$((total_leaf_bytes + $(kv "$result" leaf_bytes)))
  total_submitted=$((total_submitted + $(kv "$result" ok)))
  echo "$seed $result" >>"$work/results.txt"
}
read_load() {
  result=$("$load_bin" read --log "$grpc" --http "$http" "$@")
  echo "read $* $result" >>"$work/results.txt"
}

size_now() { kv "$("$load_bin" size --log "$grpc")" tree_size; }
declare -A scale_p50 scale_size
# The fill's claims are ECDSA-signed and it runs 32 callers: the fastest
# combination in the write runs (more callers only add queueing).
fill_callers=32
fill_s=0
# scale_point N: fills the log through Submit to at least N entries, then
# measures the proof latency of one caller at the size reached.
scale_point() {
  local target=$1 size
  size=$(size_now)
  if ((size < target)); then
    say "fill: $size -> $target entries through Submit ($fill_callers callers)"
    submit "fill-$target" --key_type ecdsa --concurrency "$fill_callers" \
      --count $((target - size))
    fill_s=$(calc "$fill_s + $(kv "$result" elapsed_s)" 1)
  fi
  read_load --mode inclusion --concurrency 1 --duration "${scale_s}s"
  scale_p50[$target]=$(kv "$result" p50_ms)
  scale_size[$target]=$(kv "$result" tree_size)
}

# --- scale: all sizes but the last, before the write runs add entries ----------
for target in "${scale[@]:0:${#scale[@]}-1}"; do
  scale_point "$target"
done

# --- write path --------------------------------------------------------------
declare -A write_rate write_lat write_cpu write_client_cpu write_exhausted
best_rate=0
for type in ed25519 ecdsa; do
  for c in 1 16 256; do
    # Enough pre-signed claims for a generous rate at this concurrency.
    per_s=8000
    ((c == 1)) && per_s=2000
    ((c == 16)) && per_s=8000
    [[ "$mode" == smoke ]] && per_s=$((per_s / 4))
    presign=$(calc "$run_s * $per_s" 0)
    say "write: $type, $c callers, ${run_s}s (pre-signing $presign)"
    extra=()
    if ((perf == 1 && c == 256)) && [[ "$type" == ed25519 ]]; then
      # Records from when the claims are signed and the load starts.
      extra=(--signed_file "$work/signed")
      rm -f "$work/signed"
      (while [[ ! -e "$work/signed" ]]; do sleep 0.05; done
       perf record -e cpu-clock -F 199 --call-graph dwarf,16384 \
        -p "$log_pid" -o "$work/perf.data" \
        -- sleep "$(calc "$run_s < 10 ? $run_s : 10" 0)" >"$work/perf.out" 2>&1) &
      perf_job=$!
    fi
    submit "w-$type-$c" --key_type "$type" --concurrency "$c" \
      --duration "${run_s}s" --presign "$presign" "${extra[@]}"
    if ((perf == 1 && c == 256)) && [[ "$type" == ed25519 ]]; then
      wait "$perf_job" || true
    fi
    key="$type,$c"
    write_rate[$key]=$(kv "$result" rate)
    write_lat[$key]="$(kv "$result" p50_ms) / $(kv "$result" p90_ms) / $(kv "$result" p99_ms) / $(kv "$result" max_ms)"
    write_cpu[$key]=$(kv "$result" server_cpu_us_per_call)
    write_client_cpu[$key]=$(kv "$result" client_cpu_us_per_call)
    write_exhausted[$key]=$(kv "$result" exhausted)
    # The open-loop run below submits Ed25519 claims: half of their best.
    if [[ "$type" == ed25519 && $(met "${write_rate[$key]} > $best_rate") == yes ]]; then
      best_rate=${write_rate[$key]}
    fi
  done
done
half_rate=$(calc "$best_rate / 2" 0)
say "write: open loop at $half_rate/s (half of $best_rate/s), ${run_s}s"
submit "w-half" --key_type ed25519 --rate "$half_rate" --concurrency 4096 \
  --duration "${run_s}s" --presign "$(calc "$half_rate * $run_s * 1.05 + 10" 0)"
half_line=$result

# --- the final fill ------------------------------------------------------------
scale_point "$final_size"
entries=$(size_now)

# --- read path -----------------------------------------------------------------
say "read: inclusion proofs, bundles, tiles at $entries entries (${read_s}s each)"
read_load --mode inclusion --concurrency 256 --duration "${read_s}s" \
  --server_pid "$log_pid"
proof_line=$result
read_load --mode bundle --concurrency 256 --duration "${read_s}s"
bundle_line=$result
read_load --mode tiles --concurrency 16 --duration "${read_s}s"
tiles_line=$result

# --- client --------------------------------------------------------------------
say "client: bundle verification ($iterations times)"
verify_line=$("$load_bin" verify --log "$grpc" --key_dir "$work/keys" \
  --vkey "$work/log-keys/log.vkey" --iterations "$iterations")
echo "verify $verify_line" >>"$work/results.txt"
entries=$(size_now)

# --- restart and storage -------------------------------------------------------
say "restart at $entries entries"
stop_log
t0=$(date +%s%N)
start_log
t1=$(date +%s%N)
restart_s=$(calc "($t1 - $t0) / 1e9" 3)
restart_entries=$entries
# After a crash: SIGKILL the log while it takes submissions, so that RocksDB
# must replay its write-ahead log on the next start. The load generator
# fails when the log dies; only the restart is measured.
say "restart after SIGKILL during submissions"
# 10 s of submissions since the last flush (the clean stop above flushed):
# ~30 MB of write-ahead log at ~3,000 submissions/s.
kill_after=10
[[ "$mode" == smoke ]] && kill_after=$(calc "$run_s / 2" 1)
"$load_bin" submit --log "$grpc" --key_dir "$work/keys" --seed kill \
  --key_type ecdsa --concurrency 32 --duration "$(calc "$kill_after + 10" 0)s" \
  --presign "$(calc "($kill_after + 10) * 4000" 0)" --signed_file "$work/kill-signed" \
  >/dev/null 2>&1 &
kill_load=$!
while [[ ! -e "$work/kill-signed" ]] && kill -0 "$kill_load" 2>/dev/null; do
  sleep 0.05
done
sleep "$kill_after"
kill -KILL "$log_pid"
wait "$log_pid" 2>/dev/null || true
log_pid=""
wait "$kill_load" 2>/dev/null || true
rm -f "$work/kill-signed"
t0=$(date +%s%N)
start_log
t1=$(date +%s%N)
kill_restart_s=$(calc "($t1 - $t0) / 1e9" 3)
entries=$(size_now)
stop_log
say "storage: compacting the stopped log's data directory"
compact_line=$("$compact_bin" "$work/data")
disk_bytes=$(du -sb "$work/data" | cut -f1)
per_entry=$(calc "$disk_bytes / $entries" 1)
leaf_avg=$(calc "$total_leaf_bytes / $total_submitted" 1)

# --- the table -----------------------------------------------------------------
rows=()
# row NAME VALUE UNIT BASELINE RATIO TARGET MET
row() { rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$@")"); }
ratio() { calc "$1 / $2" 2; }

row "Ed25519 verifications, all cores" "$(calc "$ed_limit" 0)" "/s" "limit" "" "" ""
row "ECDSA P-256 verifications, all cores" "$(calc "$ecdsa_limit" 0)" "/s" "limit" "" "" ""
row "Ed25519 verification, CPU time" "$ed_cpu" "us" "limit" "" "" ""
row "ECDSA P-256 verification, CPU time" "$ecdsa_cpu" "us" "limit" "" "" ""
row "empty unary gRPC calls, 256 in flight" "$(calc "$grpc_limit" 0)" "/s" "limit" "" "" ""
row "synced RocksDB batch writes" "$(calc "$rocks_limit" 0)" "/s" "limit" "" "" ""
for type in ed25519 ecdsa; do
  for c in 1 16 256; do
    key="$type,$c"
    target="" ok=""
    if ((c == 256)); then
      target=">= 0.40"
      ok=$(met "${write_rate[$key]} / $ed_limit >= 0.40")
    fi
    note=""
    [[ "${write_exhausted[$key]}" == 1 ]] && note=" (ran out of pre-signed claims)"
    row "Submit $type, $c callers: accepted$note" "$(calc "${write_rate[$key]}" 0)" "/s" \
      "Ed25519 verify $(calc "$ed_limit" 0)/s" "$(ratio "${write_rate[$key]}" "$ed_limit")" "$target" "$ok"
    row "  integration latency p50 / p90 / p99 / max" "${write_lat[$key]}" "ms" "" "" "" ""
    row "  server CPU per submission" "${write_cpu[$key]}" "us" "" "" "" ""
    if ((c == 256)); then
      # The 40% target in CPU time, which other load hardly moves: at
      # 0.40 x the all-core verification rate, the log and the load
      # generator may spend 2.5 verifications' CPU per submission.
      both=$(calc "${write_cpu[$key]} + ${write_client_cpu[$key]}" 1)
      row "  log + load generator CPU per submission" "$both" "us" \
        "Ed25519 verify $ed_cpu us" "$(ratio "$both" "$ed_cpu")" "<= 2.50" \
        "$(met "$both / $ed_cpu <= 2.5")"
    fi
  done
done
row "Submit Ed25519 open loop at half max ($half_rate/s): accepted" \
  "$(calc "$(kv "$half_line" rate)" 0)" "/s" "" "" "" ""
row "  integration latency p50" "$(kv "$half_line" p50_ms)" "ms" "" "" "<= 50" \
  "$(met "$(kv "$half_line" p50_ms) <= 50")"
row "  integration latency p99" "$(kv "$half_line" p99_ms)" "ms" "" "" "<= 250" \
  "$(met "$(kv "$half_line" p99_ms) <= 250")"
row "  integration latency p90 / max" "$(kv "$half_line" p90_ms) / $(kv "$half_line" max_ms)" "ms" "" "" "" ""
row "GetInclusionProof, 256 in flight, $restart_entries entries" "$(calc "$(kv "$proof_line" rate)" 0)" "/s" \
  "empty gRPC $(calc "$grpc_limit" 0)/s" "$(ratio "$(kv "$proof_line" rate)" "$grpc_limit")" ">= 0.60" \
  "$(met "$(kv "$proof_line" rate) / $grpc_limit >= 0.60")"
row "  latency p50 / p99" "$(kv "$proof_line" p50_ms) / $(kv "$proof_line" p99_ms)" "ms" "" "" "" ""
row "  server CPU per proof" "$(kv "$proof_line" server_cpu_us_per_call)" "us" "" "" "" ""
row "GetBundle (random claim), 256 in flight" "$(calc "$(kv "$bundle_line" rate)" 0)" "/s" \
  "empty gRPC $(calc "$grpc_limit" 0)/s" "$(ratio "$(kv "$bundle_line" rate)" "$grpc_limit")" "" ""
row "  latency p50 / p99" "$(kv "$bundle_line" p50_ms) / $(kv "$bundle_line" p99_ms)" "ms" "" "" "" ""
row "HTTP level-0 tiles, 16 clients" "$(calc "$(kv "$tiles_line" rate)" 0)" "/s" "" "" "" ""
row "  latency p50 / p99" "$(kv "$tiles_line" p50_ms) / $(kv "$tiles_line" p99_ms)" "ms" "" "" "" ""
row "disk per entry after full compaction" "$per_entry" "B" "leaf $leaf_avg B" \
  "+$(calc "$per_entry - $leaf_avg" 1) B" "<= leaf + 100 B" "$(met "$per_entry <= $leaf_avg + 100")"
row "bundle verification (claim + 3 attestations), CPU" "$(kv "$verify_line" verify_cpu_us)" "us" "" "" "< 1000" \
  "$(met "$(kv "$verify_line" verify_cpu_us) < 1000")"
base=${scale[0]}
for target in "${scale[@]}"; do
  r=$(ratio "${scale_p50[$target]}" "${scale_p50[$base]}")
  # log n growth from the first size, with 50% allowance for noise.
  bound=$(calc "1.5 * log(${scale_size[$target]}) / log(${scale_size[$base]})" 2)
  row "proof latency p50 (1 caller) at ${scale_size[$target]} entries" "${scale_p50[$target]}" "ms" \
    "at ${scale_size[$base]}" "$r" "<= $bound (log n)" "$(met "$r <= $bound")"
done
row "restart at $restart_entries entries (exec to ready file)" "$restart_s" "s" "" "" "< 1" \
  "$(met "$restart_s < 1")"
row "restart after SIGKILL during submissions, $entries entries" "$kill_restart_s" "s" "" "" "< 1" \
  "$(met "$kill_restart_s < 1")"
row "fill through Submit to $final_size entries ($fill_callers callers, ECDSA)" "$fill_s" "s" "" "" "" ""

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "refsum benchmark ($mode), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu), $mem RAM, $(uname -r); load average at start $load_start, at end $load_end"
  echo
  echo "| row | value | unit | limit/baseline | ratio | target | met? |"
  echo "| --- | ---: | --- | --- | ---: | --- | --- |"
  printf '%s\n' "${rows[@]}"
} >"$work/table.md"
cat "$work/table.md"
if [[ -n "$out" ]]; then cp "$work/table.md" "$out"; fi
if ((keep == 1)); then say "work directory kept: $work"; fi
