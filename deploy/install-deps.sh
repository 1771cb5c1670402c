#!/usr/bin/env bash
# Installs the Debian 12 packages refsum needs to build, test and run.
# Idempotent: runs apt-get (and apt-get update) only when a package is missing,
# and prints one short line when everything is already present.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java
  g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libssl-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev
  bubblewrap git ca-certificates openssl curl
  clang libclang-rt-14-dev
  # Oracles for the measurement calculators' tests (measure/): pesign -h
  # (Authenticode as EDK2 hashes), systemd's systemd-measure (UKI PCR 11),
  # Debian's systemd-stub and objcopy to build UKIs, xxd for the tests'
  # own hex handling, veritysetup (dm-verity root hashes), and Debian's
  # OVMF.fd for the SEV-SNP calculator's benchmark.
  pesign systemd systemd-boot-efi binutils xxd cryptsetup-bin ovmf
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
