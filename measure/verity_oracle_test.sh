#!/usr/bin/env bash
# Checks refsum-measure verity against `veritysetup format` (cryptsetup) on
# random images: one block, one full hash block and one more, several
# levels; 512- to 4096-byte blocks; sha256, sha384 and sha512; no salt, a
# short and a long salt.
set -euo pipefail
test_name=verity_oracle_test
source measure/cli_testing.sh
cd "$work"
veritysetup=/usr/sbin/veritysetup
[[ -x "$veritysetup" ]] || fail "$veritysetup is missing: run deploy/install-deps.sh"

cases=0
check() {
  local blocks=$1 data_block=$2 hash_block=$3 hash=$4 salt=$5
  head -c $((blocks * data_block)) /dev/urandom > data.img
  rm -f hash.img
  want=$("$veritysetup" format data.img hash.img --hash="$hash" --salt="$salt" \
    --data-block-size="$data_block" --hash-block-size="$hash_block" |
    sed -n 's/^Root hash:[[:space:]]*//p')
  got=$("$bin" verity --hash "$hash" --salt "$salt" --data-block-size "$data_block" \
    --hash-block-size "$hash_block" data.img 2> stderr)
  [[ -n "$want" && "$got" == "$want" ]] ||
    fail "$blocks blocks of $data_block, hash blocks $hash_block, $hash, salt $salt: $got, veritysetup says $want"
  grep -q "^value: generic/dm-verity-root=$hash:$want,hash=$hash," stderr || fail "value line: $(cat stderr)"
  cases=$((cases + 1))
}
salt32=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
check 1 4096 4096 sha256 "$salt32"
check 128 4096 4096 sha256 "$salt32"
check 129 4096 4096 sha256 -
check 300 4096 4096 sha256 a1b2c3
check 70 512 512 sha256 "$salt32"
check 257 1024 4096 sha512 "$salt32"
check 90 4096 1024 sha384 -
check 3000 512 4096 sha256 "$salt32$salt32$salt32$salt32"

head -c 1000 /dev/urandom > odd.img
expect 1 "not a whole number of 4096-byte data blocks" verity odd.img
expect 1 "not a power of two" verity --data-block-size 1000 data.img
expect 2 "--salt is not lowercase hex" verity --salt xyz data.img
expect 2 "--hash" verity --hash md5 data.img
echo "verity_oracle_test: $cases images agree with veritysetup"
