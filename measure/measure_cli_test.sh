#!/usr/bin/env bash
# Runs refsum-measure snp as a user would, on every row of sev-snp-measure's
# published vectors (testdata/sev-snp/vectors.tsv), spelled with
# sev-snp-measure's own flags, and checks its output formats and usage
# errors.
set -euo pipefail
test_name=measure_cli_test
data="$PWD/measure/testdata/sev-snp"
source measure/cli_testing.sh
: > "$work/empty"

rows=0
# Tabs become '|' first: read collapses runs of a whitespace IFS, and the
# append column may be empty.
while IFS='|' read -r ovmf vcpus vcpu_type vmm kernel initrd append features hash expected; do
  [[ "$ovmf" == \#* || -z "$ovmf" ]] && continue
  args=(snp --mode snp --vcpus "$vcpus" --vmm-type "$vmm" --ovmf "$data/$ovmf"
        --guest-features "$features")
  [[ "$vcpu_type" != - ]] && args+=(--vcpu-type "$vcpu_type")
  [[ "$kernel" != - ]] && args+=(--kernel "$work/empty")
  [[ "$initrd" != - ]] && args+=(--initrd "$work/empty")
  [[ "$append" != - ]] && args+=(--append "$append")
  [[ "$hash" != - ]] && args+=(--snp-ovmf-hash "$hash")
  got=$("$bin" "${args[@]}" 2> "$work/stderr") ||
    fail "refsum-measure ${args[*]} failed: $(cat "$work/stderr")"
  [[ "$got" == "$expected" ]] || fail "refsum-measure ${args[*]} printed $got, want $expected"
  grep -q "^value: amd-sev-snp/launch-measurement=sha384:$expected,vcpus=$vcpus,vmm-type=$vmm," "$work/stderr" ||
    fail "no claim-syntax value line: $(cat "$work/stderr")"
  rows=$((rows + 1))
done < <(tr '\t' '|' < "$data/vectors.tsv")
[[ $rows -eq 14 ]] || fail "ran $rows vectors, want 14"

# The published intermediate OVMF hash, and the output formats.
amd="$data/ovmf_AmdSev_suffix.bin"
want=086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
[[ "$("$bin" snp --mode snp:ovmf-hash --ovmf "$amd")" == "$want" ]] || fail "ovmf hash"
b64=$(printf '%s' "$want" | xxd -r -p | base64 -w0)
[[ "$("$bin" snp --mode=snp:ovmf-hash --ovmf="$amd" --output-format base64)" == "$b64" ]] ||
  fail "base64 output"
[[ "$("$bin" snp --mode snp:ovmf-hash --ovmf "$amd" -v)" == "Calculated SNP:OVMF-HASH guest measurement: $want" ]] ||
  fail "verbose output"
# --spec prints the value alone, for refsum-submit claim --value (the
# published vector for EPYC-v4, 1 vCPU, guest features 0x1).
spec=$("$bin" snp --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$amd" --spec)
[[ "$spec" == "amd-sev-snp/launch-measurement=sha384:19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d,vcpus=1,vmm-type=qemu,vcpu-type=EPYC-v4,guest-features=0x1" ]] ||
  fail "--spec printed $spec"
# --vcpu-sig and --vcpu-family say the same as --vcpu-type.
for sig in "--vcpu-sig 0x800f12" "--vcpu-sig 8392466" "--vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2"; do
  # shellcheck disable=SC2086
  got=$("$bin" snp --mode snp --vcpus 1 $sig --ovmf "$amd" 2>/dev/null)
  [[ "$got" == 19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d ]] ||
    fail "$sig printed $got"
done

# Usage errors exit 2, bad images 1, each naming the problem.
expect 2 "unknown subcommand" tdx
expect 2 "--ovmf FILE is required" snp --mode snp --vcpus 1 --vcpu-type EPYC
expect 2 "missing --vcpus" snp --mode snp --vcpu-type EPYC --ovmf "$amd"
expect 2 "missing --vcpu-type" snp --mode snp --vcpus 1 --ovmf "$amd"
expect 2 "unknown vCPU type" snp --mode snp --vcpus 1 --vcpu-type Opteron --ovmf "$amd"
expect 2 "unknown VMM type" snp --mode snp --vcpus 1 --vmm-type kvm --ovmf "$amd"
expect 2 "need --kernel" snp --mode snp --vcpus 1 --vcpu-type EPYC --ovmf "$amd" --append x
expect 2 "unknown flag --vcpu" snp --mode snp --vcpu 1 --ovmf "$amd"
expect 2 "is not an integer" snp --mode snp --vcpus four --vcpu-type EPYC --ovmf "$amd"
expect 1 "SNP_KERNEL_HASHES" snp --mode snp --vcpus 1 --vcpu-type EPYC --ovmf "$data/ovmf_OvmfX64_suffix.bin" --kernel "$work/empty"
head -c 2048 "$amd" > "$work/truncated.fd"
expect 1 "not a whole number of 4 KiB pages" snp --mode snp --vcpus 1 --vcpu-type EPYC --ovmf "$work/truncated.fd"
expect 1 "no-such-file" snp --mode snp --vcpus 1 --vcpu-type EPYC --ovmf "$work/no-such-file"
echo "measure_cli_test: 14 vectors and every error case passed"
