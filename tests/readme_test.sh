#!/usr/bin/env bash
# Runs README.md's walkthrough exactly as a reader would: every ```sh block
# marked "<!-- readme_test: run -->", in order, as one bash script under
# `set -e`, so the README cannot drift from what the tools accept (its
# `wait`s also check that the daemons exit 0 on SIGTERM). Two things differ from a
# reader's shell: `bazel build` lines are skipped (Bazel built the binaries
# for this test), and bazel-bin/ is this test's runfiles tree.
set -euo pipefail

readme="$PWD/README.md"
runfiles="$PWD"
work="${TEST_TMPDIR:-$(mktemp -d)}/readme"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

fail() { echo "readme_test: $*" >&2; exit 1; }

script=$(awk '/^<!-- readme_test: run -->$/ {marked = 1; next}
              marked && /^```sh$/ {block = 1; marked = 0; next}
              block && /^```$/ {block = 0; next}
              block {print}' "$readme")
[[ -n "$script" ]] || fail "README.md has no block marked for readme_test"
script=$(sed -e '/^bazel build /d' -e "s|bazel-bin/|$runfiles/|g" <<< "$script")

status=0
bash -euo pipefail -c "$script" > out.txt 2> err.txt || status=$?
[[ $status -eq 0 ]] || fail "the walkthrough failed with $status:
$(cat out.txt err.txt)"

grep -qx 'log.example.org/refsum' out.txt ||
  fail "curl did not print the log's checkpoint: $(cat out.txt)"
[[ "$(stat -c %a log-keys/log.key)" == 600 ]] || fail "log.key is not 0600"
[[ "$(stat -c %a vendor.key)" == 600 ]] || fail "vendor.key is not 0600"
[[ "$(stat -c %a witness-keys/cosign.key)" == 600 ]] ||
  fail "cosign.key is not 0600"
grep -q '^witness.example.org/w1+[0-9a-f]\{8\}+B' witness-keys/cosign.vkey ||
  fail "cosign.vkey is not a cosignature/v1 verifier key"
[[ -s claim.tlog-proof && -s bundle.json ]] ||
  fail "submit or verify did not write its file"
trusted=$(grep -c '^TRUSTED$' out.txt || true)
[[ $trusted -eq 2 ]] || fail "expected two TRUSTED verdicts, got $trusted:
$(cat out.txt err.txt)"
grep -q 'source      https://github.com/example/os-image @ 8f3c1e0a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e (tag v1.0)' out.txt ||
  fail "verify did not name the source commit: $(cat out.txt)"
grep -q '^log-data: OK: 1 entries and [0-9]* tree nodes match the checkpoint of log.example.org/refsum of size 1 with root [0-9a-f]\{64\}$' out.txt ||
  fail "fsck did not pass the stopped log: $(cat out.txt err.txt)"
echo "readme_test: the README walkthrough works"
