#!/usr/bin/env bash
# Runs the commands of README.md's "Run a log" section as a user would, so
# the README cannot drift from what the binaries accept. The `bazel build`
# line is skipped (Bazel built the binary for this test), bazel-bin/ is the
# runfiles tree, and the fixed ports become 0 so parallel tests cannot
# collide; everything else runs verbatim.
set -euo pipefail

readme="$PWD/README.md"
bin_dir="$PWD"
work="${TEST_TMPDIR:-$(mktemp -d)}/readme"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

fail() { echo "readme_test: $*" >&2; exit 1; }

# The first ```sh block after the heading, with continuation lines joined.
commands=$(awk '/^## Run a log/{section=1} section && /^```sh/{block=1; next}
                block && /^```/{exit} block{print}' "$readme" |
           sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
[[ -n "$commands" ]] || fail "no sh block under '## Run a log' in README.md"

# The signers list the serve command names: one vendor key made with openssl.
openssl genpkey -algorithm ed25519 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pub 2>/dev/null
echo "vendor example-vendor vendor.pub" > signers.txt

serve_pid=""
cleanup() { [[ -n "$serve_pid" ]] && kill -9 "$serve_pid" 2>/dev/null || true; }
trap cleanup EXIT

while IFS= read -r line; do
  [[ "$line" == "bazel build"* ]] && continue
  line=${line//bazel-bin\//$bin_dir/}
  line=${line//127.0.0.1:7300/127.0.0.1:0}
  line=${line//127.0.0.1:7301/127.0.0.1:0}
  if [[ "$line" == *" serve "* ]]; then
    eval "exec $line" 2> serve.log &
    serve_pid=$!
  else
    eval "$line" > /dev/null || fail "command failed: $line"
  fi
done <<< "$commands"

[[ -n "$serve_pid" ]] || fail "the README shows no serve command"
for _ in $(seq 1 600); do
  [[ -s log-ready.json ]] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited early: $(cat serve.log)"
  sleep 0.1
done
[[ -s log-ready.json ]] || fail "serve never wrote its ready file"
[[ "$(stat -c %a log-keys/log.key)" == 600 ]] || fail "log.key is not mode 0600"
grep -q '^log.example.org/refsum+[0-9a-f]\{8\}+' log-keys/log.vkey ||
  fail "log.vkey is not a verifier key for the origin"

http=$(sed -e 's/.*"http":"\([^"]*\)".*/\1/' log-ready.json)
checkpoint=$(curl -fsS "http://$http/checkpoint")
[[ "$(head -n 2 <<< "$checkpoint")" == $'log.example.org/refsum\n0' ]] ||
  fail "unexpected checkpoint: $checkpoint"

kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
serve_pid=""
[[ $status -eq 0 ]] || fail "serve exited with $status after SIGTERM: $(cat serve.log)"
echo "readme_test: README commands work"
