#!/usr/bin/env bash
# refsum in two minutes: one log, three rebuilding witnesses, a vendor and a
# verifier, all on loopback, telling the story step by step.
#
# usage: deploy/demo.sh [--dir DIR] [--keep]
#
#   --dir DIR  work in DIR (default /tmp/refsum-demo). A directory this
#              script made before is stopped and emptied first; any other
#              non-empty directory is refused.
#   --keep     leave the log and the witnesses running at the end and print
#              how to stop them.
#
# It runs deploy/install-deps.sh and `bazel build` of the four binaries,
# unless REFSUM_BIN_DIR names a directory that already holds them
# (log/refsum-log, witness/refsum-witness, submitter/refsum-submit,
# client/refsum-verify), as a Bazel runfiles tree or bazel-bin does.
# Exits non-zero as soon as a step does not show what it should.
set -euo pipefail

usage() { sed -n '5,17s/^# \{0,1\}//p' "$0"; }

dir=/tmp/refsum-demo
keep=0
while (($#)); do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

start_time=$SECONDS
tty=0
[[ -t 1 ]] && tty=1
if ((tty)); then B=$'\033[1m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'; else B= G= R= N=; fi

say() { printf '%s\n' "$*"; }
step() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
ok() { printf '   %s%s%s\n' "$G" "$*" "$N"; }
fail() {
  printf '\n%sdemo: FAILED: %s%s\n' "$R" "$*" "$N" >&2
  printf 'demo: logs are in %s/logs\n' "$dir" >&2
  exit 1
}

# ---------------------------------------------------------------------------
# Binaries.

repo_root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n "${REFSUM_BIN_DIR:-}" ]]; then
  bin=$(cd "$REFSUM_BIN_DIR" && pwd)
else
  cd "$repo_root"
  say "${B}Preparing${N}: system packages and the Bazel build"
  deploy/install-deps.sh
  bazel build //log:refsum-log //witness:refsum-witness \
    //submitter:refsum-submit //client:refsum-verify 2>&1 | tail -n 1
  bin=$(bazel info bazel-bin 2>/dev/null)
fi
LOG_BIN=$bin/log/refsum-log
WITNESS_BIN=$bin/witness/refsum-witness
SUBMIT_BIN=$bin/submitter/refsum-submit
VERIFY_BIN=$bin/client/refsum-verify
for b in "$LOG_BIN" "$WITNESS_BIN" "$SUBMIT_BIN" "$VERIFY_BIN"; do
  [[ -x "$b" ]] || fail "missing binary $b"
done

# ---------------------------------------------------------------------------
# The work directory: fresh every run.

marker=.refsum-demo
stop_recorded() {  # stops the processes a previous run with --keep left
  [[ -f "$dir/pids" ]] || return 0
  local pid
  while read -r pid _; do
    [[ -n "$pid" ]] || continue
    if grep -qa refsum- "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done < "$dir/pids"
  sleep 0.5
}
if [[ -e "$dir" ]]; then
  if [[ -f "$dir/$marker" ]]; then
    stop_recorded
    rm -rf "${dir:?}"/* "$dir/$marker" "$dir/pids.stopped"
  elif [[ -n "$(ls -A "$dir")" ]]; then
    fail "$dir exists and was not made by this demo; give another --dir"
  fi
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
touch "$dir/$marker"
mkdir -p "$dir/logs" "$dir/keys" "$dir/vendor" "$dir/verifier" "$dir/reports"
: > "$dir/pids"

pids=()
cleanup() {
  local status=$?
  if ((keep && status == 0)); then return; fi
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  mv -f "$dir/pids" "$dir/pids.stopped" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in the background, output in logs/NAME.*.
start() {
  local name=$1; shift
  "$@" > "$dir/logs/$name.out" 2> "$dir/logs/$name.err" &
  pids+=($!)
  echo "$! $name" >> "$dir/pids"
}

# Progress: dots on a terminal, nothing otherwise.
tick() { ((tty)) && printf '.' || true; }
endtick() { ((tty)) && printf '\n' || true; }

# wait_for SECONDS WHAT CMD...: polls CMD every 0.2s until it succeeds.
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit)) n=0
  ((tty)) && printf '   waiting for %s ' "$what"
  until "$@" > /dev/null 2>&1; do
    ((SECONDS < deadline)) || { endtick; fail "timed out waiting for $what"; }
    sleep 0.2
    ((++n % 5 == 0)) && tick
  done
  endtick
}

# run_waiting WHAT OUTFILE CMD...: runs CMD (stdout+stderr to OUTFILE) with
# progress dots; returns its exit status.
run_waiting() {
  local what=$1 out=$2; shift 2
  ((tty)) && printf '   waiting for %s ' "$what"
  "$@" > "$out" 2>&1 &
  local pid=$! n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    ((++n % 5 == 0)) && tick
  done
  endtick
  local status=0
  wait "$pid" || status=$?
  return "$status"
}

# A port on 127.0.0.1 that nothing listens on right now. Below Linux's
# ephemeral range (32768 and up), so that no outgoing connection of another
# process takes it before the daemon we start binds it.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12768))
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null || { echo "$port"; return; }
  done
}

ready_addr() {  # ready_addr FILE KEY -> HOST:PORT
  sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" "$1"
}

# ---------------------------------------------------------------------------
say "${B}refsum demo${N} in $dir (loopback only)"

origin=log.demo.example/refsum
"$LOG_BIN" keygen --origin "$origin" --out "$dir/keys/log" > "$dir/logs/keygen.out"
"$SUBMIT_BIN" keygen --type ecdsa-p256 --out "$dir/keys/vendor" >> "$dir/logs/keygen.out"
log_vkey=$(cat "$dir/keys/log/log.vkey")

declare -a wport wvkey
for i in 1 2 3; do
  "$WITNESS_BIN" keygen --name "witness.demo.example/w$i" --out "$dir/keys/w$i" \
    >> "$dir/logs/keygen.out"
  wvkey[$i]=$(cat "$dir/keys/w$i/cosign.vkey")
  wport[$i]=$(free_port)
done
say "   keys: the log's, the vendor's, and each witness's cosigning and rebuild keys"

# The log admits the vendor's claims and the witnesses' rebuild attestations,
# and pushes each checkpoint to the three witnesses: 2 of 3 must cosign.
{
  echo "vendor acme $dir/keys/vendor.pub"
  for i in 1 2 3; do echo "rebuilder r$i $dir/keys/w$i/rebuild.pub"; done
} > "$dir/signers.txt"
{
  echo "log $log_vkey"
  for i in 1 2 3; do echo "witness r$i ${wvkey[$i]} http://127.0.0.1:${wport[$i]}"; done
  echo "group witnesses 2 r1 r2 r3"
  echo "quorum witnesses"
} > "$dir/log-witnesses.txt"

start log "$LOG_BIN" serve --data_dir "$dir/log.data" --origin "$origin" \
  --key "$dir/keys/log/log.key" --keys "$dir/signers.txt" \
  --witnesses "$dir/log-witnesses.txt" --witness_max_backoff 1s \
  --grpc_addr 127.0.0.1:0 --http_addr 127.0.0.1:0 --ready_file "$dir/log.ready.json"
wait_for 30 "the log" test -s "$dir/log.ready.json"
log_grpc=$(ready_addr "$dir/log.ready.json" grpc)
log_http=$(ready_addr "$dir/log.ready.json" http)

# The witnesses: cosign the log, and rebuild every claim whose repository is
# under file://$dir/vendor/ by running `sh build.sh` in the sandbox.
for i in 1 2 3; do
  mkdir -p "$dir/w$i"
  cat > "$dir/w$i/witness.conf" <<EOF
name witness.demo.example/w$i
cosign_key $dir/keys/w$i/cosign.key
rebuild_key $dir/keys/w$i/rebuild.key
http_addr 127.0.0.1:${wport[$i]}
state_dir $dir/w$i/state
log $origin $log_vkey $log_grpc
scope file://$dir/vendor/ sh build.sh
limit wall_time 5m
EOF
  start "witness-w$i" "$WITNESS_BIN" serve --config "$dir/w$i/witness.conf" \
    --ready_file "$dir/w$i/ready.json"
done
for i in 1 2 3; do wait_for 30 "witness w$i" test -s "$dir/w$i/ready.json"; done
say "   the log listens on $log_grpc (gRPC) and $log_http (HTTP);"
say "   witnesses w1, w2, w3 on ports ${wport[1]}, ${wport[2]}, ${wport[3]}; the log needs 2 of 3 cosignatures"

# The verifier's policy: this log, 2 of the 3 witnesses, the vendor acme,
# and 2 of the 3 rebuilders must report MATCH.
{
  echo "log $log_vkey"
  for i in 1 2 3; do echo "witness w$i ${wvkey[$i]}"; done
  echo "group witnesses 2 w1 w2 w3"
  echo "quorum witnesses"
  echo "vendor acme $dir/keys/vendor.pub"
  for i in 1 2 3; do echo "rebuilder r$i $dir/keys/w$i/rebuild.pub"; done
  echo "rebuild-group r 2 r1 r2 r3"
  echo "rebuild-quorum r"
} > "$dir/verifier/policy.txt"

# ---------------------------------------------------------------------------
# The vendor's project: image/ packed reproducibly into image.tar.gz, and its
# measurement as a TPM measures it into PCR 4: extend a zeroed PCR with the
# artifact's SHA-256, i.e. SHA-256(32 zero bytes || SHA-256(artifact)).

project=$dir/vendor/os-image
git_() {
  env GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
    GIT_AUTHOR_NAME=Vendor GIT_AUTHOR_EMAIL=vendor@example.com \
    GIT_COMMITTER_NAME=Vendor GIT_COMMITTER_EMAIL=vendor@example.com \
    git -C "$project" "$@"
}
mkdir -p "$project/image/boot" "$project/image/etc"
git init --quiet --initial-branch=main "$project"
echo "a kernel, of sorts" > "$project/image/boot/kernel"
echo "NAME=refsum-demo-os" > "$project/image/etc/os-release"
echo "VERSION=1.0" >> "$project/image/etc/os-release"
write_build_sh() {  # write_build_sh [STAMP-LINE]
  cat > "$project/build.sh" <<EOF
#!/bin/sh
# Builds image.tar.gz and measures it into TPM PCR 4.
set -eu
out=\${OUT:-/out}
name=\$(printf '%s\n' "\${REFSUM_SUBJECTS:-image.tar.gz}" | head -n 1)
$1
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \\
  --mode=go=rX,u+rw -C image -cf - . | gzip -n > "\$out/\$name"
pcr=\$( { head -c 32 /dev/zero; openssl dgst -sha256 -binary "\$out/\$name"; } |
  openssl dgst -sha256 -r | cut -d ' ' -f 1)
printf '[{"platform":"tpm","kind":"pcr","index":4,"digest":{"sha256":"%s"}}]\n' \\
  "\$pcr" > "\$out/reference-values.json"
EOF
}
write_build_sh ""
git_ add -A && git_ commit --quiet -m "os-image 1.0" && git_ tag v1.0

# release VERSION: the vendor builds the checked-out tree into
# vendor/VERSION/, measures the artifact itself with openssl, and checks that
# the build's reference value is that measurement. Sets commit and pcr.
release() {
  local out=$dir/vendor/$1
  mkdir -p "$out"
  (cd "$project" && OUT=$out REFSUM_SUBJECTS=image.tar.gz sh build.sh) ||
    fail "the vendor's build of $1 failed"
  pcr=$( { head -c 32 /dev/zero; openssl dgst -sha256 -binary "$out/image.tar.gz"; } |
    openssl dgst -sha256 -r | cut -d ' ' -f 1)
  grep -q "\"sha256\":\"$pcr\"" "$out/reference-values.json" ||
    fail "build.sh's measurement of $1 is not the PCR extend of its artifact"
  commit=$(git_ rev-parse HEAD)
  "$SUBMIT_BIN" claim --key "$dir/keys/vendor.key" --artifact "$out/image.tar.gz" \
    --repository "file://$project" --commit "$commit" --tag "$1" \
    --recipe "sh build.sh" --value "tpm/pcr/4=sha256:$pcr" --out "$out/claim.json" \
    > "$dir/logs/claim-$1.out" 2>&1 || fail "refsum-submit claim $1: $(cat "$dir/logs/claim-$1.out")"
}

verify() {  # verify STATE_DIR OUT ARGS...: refsum-verify with the policy
  local state=$1 out=$2; shift 2
  "$VERIFY_BIN" --policy "$dir/verifier/policy.txt" --state_dir "$state" "$@" \
    > "$out" 2>&1
}

# ---------------------------------------------------------------------------
step "1. The vendor releases v1.0 (reproducible) and submits its claim"
release v1.0
pcr10=$pcr commit10=$commit
say "   source   file://$project @ ${commit10:0:12} (tag v1.0)"
say "   artifact image.tar.gz, measured: TPM PCR 4 = sha256:${pcr10:0:16}..."
say "   submitting to the log; refsum-submit waits until 3 rebuilders report MATCH"

# ---------------------------------------------------------------------------
step "2. The witnesses cosign the checkpoint and rebuild v1.0 from source"
status=0
run_waiting "3 MATCH attestations" "$dir/logs/submit-v1.0.out" \
  "$SUBMIT_BIN" submit --log "$log_grpc" --log_key "$dir/keys/log/log.vkey" \
  --wait_attestations 3 --timeout 90s --poll_interval 1s \
  --out "$dir/vendor/v1.0/bundle.json" "$dir/vendor/v1.0/claim.json" || status=$?
((status == 0)) || fail "refsum-submit exited $status: $(cat "$dir/logs/submit-v1.0.out")"
grep -q '^logged at index ' "$dir/logs/submit-v1.0.out" ||
  fail "refsum-submit did not log the claim: $(cat "$dir/logs/submit-v1.0.out")"
grep -q 'wrote the bundle with 3 attestations' "$dir/logs/submit-v1.0.out" ||
  fail "expected 3 attestations: $(cat "$dir/logs/submit-v1.0.out")"
ok "$(grep '^logged at index ' "$dir/logs/submit-v1.0.out" | cut -d';' -f1)"
ok "w1, w2 and w3 rebuilt it in their sandboxes: 3 MATCH attestations logged"

# ---------------------------------------------------------------------------
step "3. A verifier, given only the measured value and its policy, checks it"
say "   refsum-verify --policy policy.txt --log $log_grpc --value tpm/pcr/4=sha256:${pcr10:0:16}..."
verify "$dir/verifier/state" "$dir/verifier/v1.0.online.txt" --log "$log_grpc" \
  --value "tpm/pcr/4=sha256:$pcr10" --save_bundle "$dir/verifier/v1.0.bundle.json" ||
  fail "refsum-verify did not trust v1.0: $(cat "$dir/verifier/v1.0.online.txt")"
grep -qx TRUSTED "$dir/verifier/v1.0.online.txt" &&
  grep -q "source      file://$project @ $commit10 (tag v1.0)" "$dir/verifier/v1.0.online.txt" ||
  fail "refsum-verify did not say TRUSTED with the source: $(cat "$dir/verifier/v1.0.online.txt")"
sed 's/^/   | /' "$dir/verifier/v1.0.online.txt"
# The offline verifier's state as of this verification (step 5).
cp -a "$dir/verifier/state" "$dir/verifier/offline-state"

# ---------------------------------------------------------------------------
step "4. The vendor releases v1.1, whose build embeds the time (not reproducible)"
write_build_sh "date +%s.%N > image/built-at"
sed -i 's/^VERSION=.*/VERSION=1.1/' "$project/image/etc/os-release"
git_ add -A && git_ commit --quiet -m "os-image 1.1: stamp the build time" && git_ tag v1.1
release v1.1
pcr11=$pcr commit11=$commit
"$SUBMIT_BIN" submit --log "$log_grpc" --log_key "$dir/keys/log/log.vkey" \
  --out "$dir/vendor/v1.1/claim.tlog-proof" "$dir/vendor/v1.1/claim.json" \
  > "$dir/logs/submit-v1.1.out" 2>&1 || fail "refsum-submit v1.1: $(cat "$dir/logs/submit-v1.1.out")"
ok "v1.1 ($(git_ rev-parse --short HEAD)) $(cut -d';' -f1 "$dir/logs/submit-v1.1.out"), PCR 4 = sha256:${pcr11:0:16}..."
three_mismatches() {
  verify "$dir/verifier/state" "$dir/verifier/v1.1.online.txt" --log "$log_grpc" \
    --value "tpm/pcr/4=sha256:$pcr11" && return 1
  [[ $(grep -o 'rebuilder r[123] reports MISMATCH' "$dir/verifier/v1.1.online.txt" | sort -u | wc -l) -eq 3 ]]
}
wait_for 90 "the witnesses' rebuilds of v1.1" three_mismatches
grep -q '^REJECTED: mismatch: ' "$dir/verifier/v1.1.online.txt" ||
  fail "refsum-verify did not reject v1.1 for a mismatch: $(cat "$dir/verifier/v1.1.online.txt")"
ok "w1, w2 and w3 rebuilt v1.1 and got another artifact: 3 MISMATCH attestations logged"
say "   refsum-verify --value tpm/pcr/4=sha256:${pcr11:0:16}... says:"
sed 's/; /;\n     /g; s/^/   | /' "$dir/verifier/v1.1.online.txt"
report_url=$(grep -o 'report http://[^)]*' "$dir/verifier/v1.1.online.txt" | head -n 1 | cut -d' ' -f2)
[[ -n "$report_url" ]] || fail "the MISMATCH names no report"
curl -sf "$report_url" -o "$dir/reports/v1.1-mismatch-report.txt" ||
  fail "could not fetch the report $report_url"
grep -q image.tar.gz "$dir/reports/v1.1-mismatch-report.txt" ||
  fail "the report does not compare image.tar.gz"
ok "report fetched from the witness: $dir/reports/v1.1-mismatch-report.txt"

# ---------------------------------------------------------------------------
step "5. The verifier checks v1.0 again offline, from the bundle saved in step 3"
say "   refsum-verify --bundle v1.0.bundle.json --value tpm/pcr/4=sha256:${pcr10:0:16}...  (no log, no network)"
verify "$dir/verifier/offline-state" "$dir/verifier/v1.0.offline.txt" \
  --bundle "$dir/verifier/v1.0.bundle.json" --value "tpm/pcr/4=sha256:$pcr10" ||
  fail "offline verification failed: $(cat "$dir/verifier/v1.0.offline.txt")"
grep -qx TRUSTED "$dir/verifier/v1.0.offline.txt" && grep -q "$commit10" "$dir/verifier/v1.0.offline.txt" ||
  fail "offline verification did not say TRUSTED: $(cat "$dir/verifier/v1.0.offline.txt")"
ok "TRUSTED, $(grep '  rebuilders' "$dir/verifier/v1.0.offline.txt" | sed 's/^ *//; s/  */ /')"

# ---------------------------------------------------------------------------
step "6. A forged log: same key, same origin, a different history"
# The worst case: the attacker holds the log's key and also the cosigning
# keys of w1 and w2, and runs them against its own history, so that its
# checkpoints carry the 2 of 3 cosignatures the policy asks for.
pinned=$(curl -sf "http://$log_http/checkpoint" | sed -n 2p)
[[ "$pinned" =~ ^[0-9]+$ ]] || fail "could not read the real log's checkpoint size"
declare -a fport
for i in 1 2; do fport[$i]=$(free_port); done
{
  echo "log $log_vkey"
  for i in 1 2; do echo "witness r$i ${wvkey[$i]} http://127.0.0.1:${fport[$i]}"; done
  echo "group witnesses 2 r1 r2"
  echo "quorum witnesses"
} > "$dir/forged-witnesses.txt"
start forged-log "$LOG_BIN" serve --data_dir "$dir/forged-log.data" --origin "$origin" \
  --key "$dir/keys/log/log.key" --keys "$dir/signers.txt" \
  --witnesses "$dir/forged-witnesses.txt" --witness_max_backoff 1s \
  --grpc_addr 127.0.0.1:0 --http_addr 127.0.0.1:0 --ready_file "$dir/forged-log.ready.json"
wait_for 30 "the forged log" test -s "$dir/forged-log.ready.json"
forged_grpc=$(ready_addr "$dir/forged-log.ready.json" grpc)
for i in 1 2; do
  mkdir -p "$dir/forged-w$i"
  cat > "$dir/forged-w$i/witness.conf" <<EOF
name witness.demo.example/w$i
cosign_key $dir/keys/w$i/cosign.key
rebuild_key $dir/keys/w$i/rebuild.key
http_addr 127.0.0.1:${fport[$i]}
state_dir $dir/forged-w$i/state
log $origin $log_vkey $forged_grpc
EOF
  start "forged-w$i" "$WITNESS_BIN" serve --config "$dir/forged-w$i/witness.conf" \
    --ready_file "$dir/forged-w$i/ready.json"
done
for i in 1 2; do wait_for 30 "forged witness w$i" test -s "$dir/forged-w$i/ready.json"; done
# Its history: v1.0's claim, then enough other claims to be larger than the
# tree the verifier saw (without v1.1 and its MISMATCHes).
"$SUBMIT_BIN" submit --log "$forged_grpc" --out "$dir/forged-0.tlog-proof" \
  "$dir/vendor/v1.0/claim.json" > "$dir/logs/forged-submit-0.out" 2>&1 ||
  fail "submitting to the forged log: $(cat "$dir/logs/forged-submit-0.out")"
mkdir -p "$dir/forged"
fillers=()
for ((k = 1; k <= pinned; k++)); do
  echo "filler $k" > "$dir/forged/filler-$k"
  "$SUBMIT_BIN" claim --key "$dir/keys/vendor.key" --artifact "$dir/forged/filler-$k" \
    --repository "file://$project" --commit "$commit10" --recipe "sh build.sh" \
    --value "tpm/pcr/8=sha256:$(printf 'filler %s' "$k" | openssl dgst -sha256 -r | cut -d' ' -f1)" \
    --out "$dir/forged/claim-$k.json" > /dev/null 2>&1 || fail "making filler claim $k"
  "$SUBMIT_BIN" submit --log "$forged_grpc" --out "$dir/forged/claim-$k.tlog-proof" \
    "$dir/forged/claim-$k.json" > "$dir/logs/forged-submit-$k.out" 2>&1 &
  fillers+=($!)
done
for pid in "${fillers[@]}"; do wait "$pid" || fail "a filler submission to the forged log failed"; done
ok "the forged log holds v1.0's claim and $pinned others: $((pinned + 1)) entries, cosigned by the stolen w1 and w2 keys"
say "   the verifier, whose state pins the real log's checkpoint, asks the forged log for v1.0:"
split_view() {
  verify "$dir/verifier/state" "$dir/verifier/forged.txt" --log "$forged_grpc" \
    --value "tpm/pcr/4=sha256:$pcr10" && return 2
  grep -q 'possible split view' "$dir/verifier/forged.txt"
}
status=0
deadline=$((SECONDS + 60))
((tty)) && printf '   waiting for the forged log to be cosigned '
until split_view; do
  status=$?
  ((status != 2)) || { endtick; fail "the verifier trusted the forged log: $(cat "$dir/verifier/forged.txt")"; }
  ((SECONDS < deadline)) || { endtick; fail "no split view detected: $(cat "$dir/verifier/forged.txt")"; }
  sleep 0.5; tick
done
endtick
grep -q '^REJECTED: consistency: possible split view' "$dir/verifier/forged.txt" ||
  fail "unexpected rejection: $(cat "$dir/verifier/forged.txt")"
sed 's/^/   | /' "$dir/verifier/forged.txt"
ok "caught: the verifier's pinned checkpoint proves the forged log is not the log it saw"
verify "$dir/verifier/state" "$dir/verifier/after-fork.txt" --log "$log_grpc" \
  --value "tpm/pcr/4=sha256:$pcr10" && grep -qx TRUSTED "$dir/verifier/after-fork.txt" ||
  fail "the real log no longer verifies: $(cat "$dir/verifier/after-fork.txt")"
ok "and the real log still verifies against the same state: TRUSTED"
# The forgers go now, whatever --keep says.
n=${#pids[@]}
for ((k = n - 3; k < n; k++)); do kill "${pids[$k]}" 2>/dev/null || true; wait "${pids[$k]}" 2>/dev/null || true; done
pids=("${pids[@]:0:n-3}")
head -n 4 "$dir/pids" > "$dir/pids.new" && mv "$dir/pids.new" "$dir/pids"

# ---------------------------------------------------------------------------
step "Done in $((SECONDS - start_time))s. Everything is in $dir:"
say "   logs/           each process's stdout and stderr (log.err, witness-w1.err, ...)"
say "   log.data/       the log's RocksDB; w1/ w2/ w3/ the witnesses' configs and state"
say "   w*/state/reports/ the witnesses' rebuild reports; reports/ the one fetched in step 4"
say "   vendor/         the git project, the artifacts, claims and bundles"
say "   verifier/       policy.txt, the pinned state, bundles and every verdict"
if ((keep)); then
  say "   The log ($log_grpc, http://$log_http) and the witnesses keep running:"
  say "   stop them with: kill ${pids[*]}"
else
  say "   Stopping the log and the witnesses (--keep leaves them running)."
fi
