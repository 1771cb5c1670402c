#!/usr/bin/env bash
# Checks deploy/systemd/'s units as they are installed: `systemd-analyze
# verify` on each, in a fake root that holds the host's system units, the
# real refsum binaries at the units' /usr/local/bin paths and the unit files
# unchanged in /etc/systemd/system (so the ExecStart paths are checked as
# written), failing on any output at all, warnings included; then that the
# hardening directives the units promise are present.
set -euo pipefail

fail() { echo "systemd_units_test: $*" >&2; exit 1; }

runfiles=${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}
analyze=/usr/bin/systemd-analyze
[[ -x $analyze ]] || fail "$analyze is missing (apt-get install systemd)"

root=$(mktemp -d "${TEST_TMPDIR:-/tmp}/root.XXXXXX")
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
# The units order after network-online.target and are wanted by
# multi-user.target: verify needs the host's units to resolve them. Debian's
# unit symlinks are absolute /lib/systemd/system paths, hence the /lib link.
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
ln -s usr/lib "$root/lib"
cp "$runfiles/log/refsum-log" "$runfiles/witness/refsum-witness" "$root/usr/local/bin/"
chmod 0755 "$root/usr/local/bin/"*

for unit in refsum-log refsum-witness; do
  cp "$runfiles/deploy/systemd/$unit.service" "$root/etc/systemd/system/"
  if ! out=$("$analyze" verify --man=no --root="$root" \
      "$root/etc/systemd/system/$unit.service" 2>&1); then
    fail "systemd-analyze verify $unit.service failed:"$'\n'"$out"
  fi
  [[ -z $out ]] || fail "systemd-analyze verify $unit.service warned:"$'\n'"$out"
  echo "systemd_units_test: $unit.service verifies cleanly"
done

# The verifier itself must notice problems, or the checks above prove
# nothing: an unknown key and a missing binary.
broken="$root/etc/systemd/system/refsum-broken.service"
sed 's|^ExecStart=/usr/local/bin/refsum-log |ExecStart=/usr/local/bin/refsum-missing |' \
    "$runfiles/deploy/systemd/refsum-log.service" > "$broken"
echo 'NoSuchDirective=yes' >> "$broken"
out=$("$analyze" verify --man=no --root="$root" "$broken" 2>&1) || true
[[ $out == *NoSuchDirective* && $out == *refsum-missing* ]] ||
  fail "systemd-analyze verify did not catch a broken unit: $out"

# expect UNIT LINE...: each LINE must be a line of the unit, exactly.
expect() {
  local unit=$runfiles/deploy/systemd/$1.service line
  shift
  for line in "$@"; do
    grep -qxF -- "$line" "$unit" || fail "$1.service lacks the line: $line"
  done
}
# refuse UNIT PATTERN...: no line of the unit may match the extended regexp.
refuse() {
  local unit=$runfiles/deploy/systemd/$1.service pattern
  shift
  for pattern in "$@"; do
    if grep -qE -- "$pattern" "$unit"; then
      fail "$unit has a line matching $pattern: $(grep -E -- "$pattern" "$unit")"
    fi
  done
}

common=(
  "Type=exec"
  "UMask=0077"
  "ProtectSystem=strict"
  "ProtectHome=yes"
  "PrivateTmp=yes"
  "PrivateDevices=yes"
  "NoNewPrivileges=yes"
  "CapabilityBoundingSet="
  "AmbientCapabilities="
  "LockPersonality=yes"
  "RestrictSUIDSGID=yes"
  "RestrictRealtime=yes"
  "ProtectKernelModules=yes"
  "ProtectControlGroups=yes"
  "ProtectClock=yes"
  "ProtectHostname=yes"
  "SystemCallArchitectures=native"
  "Restart=on-failure"
  "KillSignal=SIGTERM"
  "KillMode=mixed"
  "WantedBy=multi-user.target"
)
expect refsum-log "${common[@]}" \
  "ExecStart=/usr/local/bin/refsum-log serve --flagfile=/etc/refsum-log/refsum-log.flags --data_dir=/var/lib/refsum-log/data --key=/etc/refsum-log/keys/log.key" \
  "User=refsum-log" \
  "StateDirectory=refsum-log" \
  "ConfigurationDirectory=refsum-log" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
  "RestrictNamespaces=yes" \
  "PrivateUsers=yes" \
  "ProtectKernelTunables=yes" \
  "ProtectKernelLogs=yes" \
  "MemoryDenyWriteExecute=yes" \
  "SystemCallFilter=@system-service" \
  "TimeoutStopSec=60s"
expect refsum-witness "${common[@]}" \
  "ExecStart=/usr/local/bin/refsum-witness serve --config /etc/refsum-witness/witness.conf" \
  "User=refsum-witness" \
  "StateDirectory=refsum-witness" \
  "ConfigurationDirectory=refsum-witness" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" \
  "SystemCallFilter=@system-service @mount" \
  "TimeoutStopSec=90s"
# What bubblewrap cannot work under: no namespaces, a user namespace of
# one UID, a partly hidden /proc (it mounts a fresh one), read-only state.
refuse refsum-witness '^RestrictNamespaces=' '^PrivateUsers=' \
  '^ProtectKernelTunables=' '^ProtectKernelLogs=' '^ProtectProc=' \
  '^ProcSubset=' '^ReadOnlyPaths=.*refsum-witness' '^MemoryDenyWriteExecute='
# The witness's example configuration keeps its state where the unit lets
# it write.
grep -qxF "state_dir /var/lib/refsum-witness" "$runfiles/deploy/witness.example.conf" ||
  fail "deploy/witness.example.conf's state_dir is not the unit's StateDirectory"

echo "systemd_units_test: both units verify and are hardened"
