#!/usr/bin/env bash
# Checks refsum-measure's Authenticode and UKI PCRs against the tools users
# already trust, on UKIs built here from Debian's systemd-stub with objcopy:
#   - Authenticode: `pesign -i FILE -h` (EDK2's digest);
#   - PCR 11: `systemd-measure calculate --phase=` over the same section
#     files, in the SHA-256 and SHA-384 banks;
#   - PCR 4: the boot-option events extended with openssl, over pesign's
#     digests of the UKI and of its .linux image.
set -euo pipefail
test_name=uki_oracle_test
source measure/cli_testing.sh
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
measure=/lib/systemd/systemd-measure
cd "$work"
for tool in "$stub" "$measure" /usr/bin/pesign /usr/bin/objcopy; do
  [[ -e "$tool" ]] || fail "$tool is missing: run deploy/install-deps.sh"
done

pesign_hash() { pesign -i "$1" -h | sed -n 's/^hash: //p'; }
# PCR extended from zeros by the hex digests given, with openssl.
extend() {
  local alg=$1 pcr
  shift
  pcr=$(printf '%0*d' $(( $(printf x | openssl dgst "-$alg" -r | cut -d' ' -f1 | wc -c) - 1 )) 0)
  for d in "$@"; do
    pcr=$(printf '%s%s' "$pcr" "$d" | xxd -r -p | openssl dgst "-$alg" -r | cut -d' ' -f1)
  done
  echo "$pcr"
}

# The parts: the stub itself as the "kernel" (a PE, as .linux must be).
cp "$stub" linux.efi
printf 'console=ttyS0 quiet\n' > cmdline
printf 'ID=refsum\nVERSION_ID=1\n' > osrel
head -c 70000 /dev/urandom > initrd
openssl genpkey -algorithm ed25519 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pcrpkey.pem

# Two UKIs with different section sets, and one PE with data after its
# last section (EDK2 hashes it, less any certificate table).
objcopy --add-section .osrel=osrel --change-section-vma .osrel=0x20000 \
  --add-section .cmdline=cmdline --change-section-vma .cmdline=0x30000 \
  --add-section .linux=linux.efi --change-section-vma .linux=0x2000000 \
  --add-section .initrd=initrd --change-section-vma .initrd=0x3000000 \
  "$stub" full.efi
objcopy --add-section .osrel=osrel --change-section-vma .osrel=0x20000 \
  --add-section .linux=linux.efi --change-section-vma .linux=0x2000000 \
  --add-section .pcrpkey=pcrpkey.pem --change-section-vma .pcrpkey=0x3000000 \
  "$stub" keyed.efi
cat "$stub" > trailing.efi && head -c 1000 /dev/urandom >> trailing.efi

for pe in "$stub" linux.efi full.efi keyed.efi trailing.efi; do
  want=$(pesign_hash "$pe")
  got=$("$bin" authenticode "$pe")
  [[ -n "$want" && "$got" == "$want" ]] || fail "authenticode $pe: $got, pesign says $want"
done

check_uki() {
  local uki=$1
  shift  # the systemd-measure section flags
  for bank in sha256 sha384; do
    want11=$("$measure" calculate --phase= --bank="$bank" "$@" | sed -n "s/^11:$bank=//p")
    [[ -n "$want11" ]] || fail "systemd-measure printed no PCR 11 for $uki"
    want4=$(extend "$bank" \
      "$(printf 'Calling EFI Application from Boot Option' | openssl dgst "-$bank" -r | cut -d' ' -f1)" \
      "$(printf '\0\0\0\0' | openssl dgst "-$bank" -r | cut -d' ' -f1)" \
      "$("$bin" authenticode --bank "$bank" "$uki")" \
      "$("$bin" authenticode --bank "$bank" linux.efi)")
    got=$("$bin" uki --bank "$bank" "$uki")
    [[ "$got" == "tpm/pcr/4=$bank:$want4
tpm/pcr/11=$bank:$want11" ]] || fail "uki $uki ($bank): $got, want PCR 4 $want4 and PCR 11 $want11"
  done
}
check_uki full.efi --linux=linux.efi --osrel=osrel --cmdline=cmdline --initrd=initrd
check_uki keyed.efi --linux=linux.efi --osrel=osrel --pcrpkey=pcrpkey.pem
# pesign's SHA-256 digests feed PCR 4 too, so the chain is not only ours.
want4=$(extend sha256 \
  "$(printf 'Calling EFI Application from Boot Option' | openssl dgst -sha256 -r | cut -d' ' -f1)" \
  "$(printf '\0\0\0\0' | openssl dgst -sha256 -r | cut -d' ' -f1)" \
  "$(pesign_hash full.efi)" "$(pesign_hash linux.efi)")
"$bin" uki full.efi | grep -qx "tpm/pcr/4=sha256:$want4" || fail "PCR 4 against pesign's digests"
# A section list restricts PCR 11: only .linux, as a stub measuring just it.
want=$("$measure" calculate --phase= --bank=sha256 --linux=linux.efi | sed -n 's/^11:sha256=//p')
"$bin" uki --sections .linux full.efi | grep -qx "tpm/pcr/11=sha256:$want" || fail "--sections .linux"

# Bad input: exit 1 for what cannot be measured, 2 for usage, naming it.
head -c 300 full.efi > truncated.efi
expect 1 "malformed" authenticode truncated.efi
expect 1 "no .linux section" uki "$stub"
expect 1 "no DOS header" uki cmdline
expect 2 ".pcrsig is never measured" uki --sections .linux,.pcrsig full.efi
expect 2 "--bank must be" uki --bank md5 full.efi
expect 2 "is not a sha256 digest" extend abcd
[[ "$("$bin" extend separator)" == 3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969 ]] ||
  fail "extend separator"
echo "uki_oracle_test: Authenticode agrees with pesign, PCR 11 with systemd-measure, PCR 4 with openssl"
