# Sourced by measure/'s shell tests, which run refsum-measure as users do.
# Sets `bin` (the binary) and `work` (a fresh directory, the working
# directory); provides `fail MESSAGE` and `expect CODE MESSAGE ARGS...`,
# which runs refsum-measure ARGS and fails unless it exits CODE with
# MESSAGE on stderr. Needs `test_name` set.
bin="$PWD/measure/refsum-measure"
work="${TEST_TMPDIR:-$(mktemp -d)}/$test_name"
rm -rf "$work" && mkdir -p "$work"
fail() { echo "$test_name: $*" >&2; exit 1; }
expect() {
  local code=$1 message=$2
  shift 2
  local status=0
  "$bin" "$@" > "$work/out" 2> "$work/err" || status=$?
  [[ $status -eq $code ]] || fail "refsum-measure $* exited $status, want $code: $(cat "$work/err")"
  grep -qF -- "$message" "$work/err" || fail "refsum-measure $*: no \"$message\" in: $(cat "$work/err")"
}
