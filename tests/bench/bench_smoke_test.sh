#!/usr/bin/env bash
# Runs tests/bench/run.sh --smoke against the binaries in this test's
# runfiles (a real refsum-log on loopback, every phase for about a second)
# and checks that it prints the complete table with a number in every value
# cell. The numbers themselves are not judged: this keeps the harness from
# rotting, it does not measure anything.
set -euo pipefail
cd "${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}"
tmp=${TEST_TMPDIR:-$(mktemp -d)}
table="$tmp/table.md"

REFSUM_BIN_DIR=. tests/bench/run.sh --smoke --dir "$tmp/work" --out "$table" \
  >"$tmp/stdout" 2>"$tmp/stderr" || {
  echo "run.sh --smoke failed:"; tail -n 40 "$tmp/stderr"; exit 1
}

fail=0
expect_row() {
  if ! grep -qF -- "| $1" "$table"; then
    echo "missing row: $1"; fail=1
  fi
}
for row in "Ed25519 verifications, all cores" "ECDSA P-256 verifications" \
  "empty unary gRPC calls" "synced RocksDB batch writes" \
  "Submit ed25519, 1 callers" "Submit ed25519, 16 callers" \
  "Submit ed25519, 256 callers" "Submit ecdsa, 256 callers" \
  "Submit Ed25519 open loop at half max" "GetInclusionProof, 256 in flight" \
  "GetBundle (random claim)" "HTTP level-0 tiles" \
  "disk per entry after full compaction" "bundle verification" \
  "proof latency p50 (1 caller) at 300 entries" "restart at"; do
  expect_row "$row"
done
# One proof latency row per size (300 before the write runs, then the
# size the write runs left, above 600).
if (($(grep -c '^| proof latency p50' "$table") != 2)); then
  echo "want 2 proof latency rows"; fail=1
fi

# Every value cell (column 2) of every data row holds numbers, and each is
# positive where it is a rate.
while IFS= read -r line; do
  value=$(cut -d'|' -f3 <<<"$line" | xargs)
  if ! [[ "$value" =~ ^[0-9]+(\.[0-9]+)?( / [0-9]+(\.[0-9]+)?)*$ ]]; then
    echo "not a number in: $line"; fail=1
  fi
  if [[ "$(cut -d'|' -f4 <<<"$line" | xargs)" == "/s" ]] &&
    awk "BEGIN { exit !($value <= 0) }"; then
    echo "zero rate in: $line"; fail=1
  fi
done < <(grep '^| ' "$table" | grep -v '^| row \|^| ---')

# The stdout copy is the same table.
diff <(grep '^| ' "$tmp/stdout") <(grep '^| ' "$table") || fail=1
if ((fail)); then cat "$table"; exit 1; fi

# micro_benchmark, briefly: one result line per benchmark family.
tests/bench/micro_benchmark --benchmark_min_time=0.01 \
  >"$tmp/micro.out" 2>"$tmp/micro.err" || {
  echo "micro_benchmark failed:"; tail -n 40 "$tmp/micro.err"; exit 1
}
for family in BM_Sha256 BM_HashLeaf BM_HashChildren BM_CompactRangeAppend \
  BM_CompactRangeRoot BM_BuildInclusionProof BM_VerifyInclusion \
  BM_OpenCheckpointNote BM_CosignatureVerify BM_Sha384Page \
  BM_SnpLaunchDigestDebianOvmf; do
  if ! grep -qE "^${family}(/[0-9]+)? +[0-9.]+ [mun]?s " "$tmp/micro.out"; then
    echo "micro_benchmark printed no result for $family"; fail=1
  fi
done
if ((fail)); then cat "$tmp/micro.out"; exit 1; fi
echo "bench smoke: $(grep -c '^| ' "$table") table lines," \
  "$(grep -c '^BM_' "$tmp/micro.out") micro_benchmark results"
