#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, end to end on this machine (as root; run by
# `scripts/check --packages`, which CI runs): they build from a clean
# export with dpkg-buildpackage and lintian finds no error; apt installs
# them; every file is where it belongs, the units verify and are enabled,
# the vh group exists, the man pages and the completion work, the GRUB
# script makes a Multiboot entry; the installed vh-hosted, vhagent and
# vhctl run a VM together with the packaged configuration; then a purge
# leaves nothing behind (the vh group stays, as Debian policy has it for
# system groups).  TAP.
#
#   packaging/tests/packages.sh        (OUTDIR: $VH_PACKAGES_OUT or build/packages)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/harness/tap.sh"
. "$top/packaging/tests/grub-standins.sh"
set -u

OUT=${VH_PACKAGES_OUT:-$top/build/packages}
PKGS="vh vh-hosted vhagent vhctl"
if [ "$(id -u)" != 0 ]; then
	echo "Bail out! the package test installs packages: run it as root"
	exit 1
fi
for tool in apt-get dpkg-query systemd-analyze curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (scripts/install-deps installs what the tests need)"
		exit 1
	fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/vh-pkgtest.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'cleanup; rm -rf "$T"' EXIT

installed() { # PKG: installed (not just configuration files left)?
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
known() { # PKG: dpkg knows it in any state
	dpkg-query -W -f='${Status}' "$1" >/dev/null 2>&1 &&
		! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'not-installed'
}

# Left over from an interrupted run: purge first, so the test starts clean.
for p in $PKGS; do
	if known "$p"; then
		echo "# $p was installed before the test: purging it first"
		dpkg --purge $PKGS >"$T/prepurge.log" 2>&1 || { echo "Bail out! cannot purge the installed $p"; sed 's/^/# /' "$T/prepurge.log"; exit 1; }
		break
	fi
done
# What the packages own at run time must not be there already, or the
# "nothing left" checks below would mean nothing.
for d in /var/lib/vh /var/log/vh /etc/vh /usr/lib/vh; do
	if [ -e "$d" ]; then
		echo "Bail out! $d exists without the vh packages: remove it (left by a manual install?) and run again"
		exit 1
	fi
done

tap_plan 23

# --- build and lint ----------------------------------------------------------
if "$top/packaging/build-packages" -o "$OUT" >"$T/build.out" 2>&1; then
	tap_ok "the packages build (dpkg-buildpackage -us -uc -b) and lintian reports no error"
else
	tap_not_ok "the packages build (dpkg-buildpackage -us -uc -b) and lintian reports no error" "$T/build.out"
	echo "Bail out! no packages to test"
	exit 1
fi
echo "# lintian (warnings and notes; errors fail the build step):"
grep -E '^[WIP]: ' "$OUT/lintian.txt" | sed 's/^/#   /'
version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
debs=()
for p in $PKGS; do debs+=("$OUT/${p}_${version}_amd64.deb"); done
missing=$(for d in "${debs[@]}"; do [ -f "$d" ] || echo "$d"; done)
[ -z "$missing" ] && tap_ok "four packages: $PKGS ($version, amd64)" ||
	tap_not_ok "four packages: $PKGS ($version, amd64)" "missing: $missing" "$(ls "$OUT")"

# --- install -------------------------------------------------------------------
if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${debs[@]}" >"$T/install.log" 2>&1; then
	tap_ok "apt-get installs the four packages"
else
	tap_not_ok "apt-get installs the four packages" "$(tail -30 "$T/install.log")"
fi
bad=$(for p in $PKGS; do installed "$p" || echo "$p"; done)
[ -z "$bad" ] && tap_ok "dpkg: all four installed and configured" || tap_not_ok "dpkg: all four installed and configured" "not: $bad"

# has PKG PATH...: each path is a file of the package (dpkg -L) and exists.
has() {
	local pkg=$1 list miss=
	shift
	list=$(dpkg -L "$pkg" 2>/dev/null)
	for f in "$@"; do
		if ! printf '%s\n' "$list" | grep -qxF "$f" || [ ! -e "$f" ]; then
			miss="$miss $f"
		fi
	done
	if [ -z "$miss" ]; then
		tap_ok "$pkg: its files where they belong"
	else
		tap_not_ok "$pkg: its files where they belong" "missing:$miss"
	fi
}
has vh /boot/vh.elf /etc/grub.d/42_vh /etc/default/vh /usr/lib/vh/guests/spinner.elf \
	/usr/lib/vh/guests/toucher.elf /usr/share/doc/vh/baremetal.md /usr/share/doc/vh/copyright
has vh-hosted /usr/sbin/vh-hosted /usr/bin/vh-msg /usr/bin/vh-sim /lib/systemd/system/vh-hosted.service \
	/usr/lib/sysusers.d/vh-hosted.conf /etc/default/vh-hosted /usr/share/man/man8/vh-hosted.8.gz \
	/usr/share/man/man1/vh-msg.1.gz /usr/share/man/man1/vh-sim.1.gz \
	/usr/share/doc/vh-hosted/hosted.md /usr/share/doc/vh-hosted/protocol.md
has vhagent /usr/sbin/vhagent /lib/systemd/system/vhagent.service /lib/systemd/system/vhagent.socket \
	/lib/systemd/system/vhagent-https.socket /usr/lib/sysusers.d/vhagent.conf /etc/vh/agent.conf \
	/usr/share/man/man8/vhagent.8.gz /usr/share/doc/vhagent/openapi.yaml /usr/share/doc/vhagent/agent.md \
	/usr/share/vh/grafana/vh.json
has vhctl /usr/bin/vhctl /usr/share/man/man1/vhctl.1.gz /usr/share/bash-completion/completions/vhctl

# The kernel: a Multiboot 1 header (magic 0x1BADB002, checksum) in its
# first 8 KiB, and executable files with their modes.
if /usr/bin/python3 - /boot/vh.elf <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(8192)
for off in range(0, len(d) - 11, 4):
    magic, flags, csum = struct.unpack_from('<III', d, off)
    if magic == 0x1BADB002 and (magic + flags + csum) & 0xffffffff == 0:
        sys.exit(0)
sys.exit(1)
EOF
then
	tap_ok "/boot/vh.elf carries a valid Multiboot header"
else
	tap_not_ok "/boot/vh.elf carries a valid Multiboot header"
fi
out=$( { vhctl --version && vhagent --version && vh-hosted --version; } 2>&1)
if [ $? = 0 ] && [ "$(printf '%s\n' "$out" | grep -c "$version")" = 3 ]; then
	tap_ok "vhctl --version, vhagent --version and vh-hosted --version run ($version)"
else
	tap_not_ok "vhctl --version, vhagent --version and vh-hosted --version run ($version)" "$out"
fi
if getent group vh >/dev/null; then
	tap_ok "the vh group exists (sysusers.d)"
else
	tap_not_ok "the vh group exists (sysusers.d)" "$(tail -20 "$T/install.log")"
fi

# --- units -----------------------------------------------------------------------
UNITS="/lib/systemd/system/vhagent.service /lib/systemd/system/vhagent.socket /lib/systemd/system/vhagent-https.socket /lib/systemd/system/vh-hosted.service"
out=$(systemd-analyze verify $UNITS 2>&1)
if [ $? = 0 ] && [ -z "$out" ]; then
	tap_ok "systemd-analyze verify: the installed units, no warning"
else
	tap_not_ok "systemd-analyze verify: the installed units, no warning" "$out"
fi
miss=$(for u in $UNITS; do
	sed -n 's/^Documentation=//p' "$u" | tr ' ' '\n' | sed -n 's#^file:##p' | while read -r f; do
		[ -f "$f" ] || echo "${u##*/}: $f"
	done
done)
[ -z "$miss" ] && tap_ok "the units' Documentation= files are installed" ||
	tap_not_ok "the units' Documentation= files are installed" "$miss"
for svc in vh-hosted.service vhagent.service; do
	score=$(systemd-analyze security --offline=true --no-pager "/lib/systemd/system/$svc" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \(.*\)/\1 \2/p')
	echo "# systemd-analyze security $svc: $score"
done
miss=
for l in multi-user.target.wants/vh-hosted.service multi-user.target.wants/vhagent.service \
	sockets.target.wants/vhagent.socket sockets.target.wants/vhagent-https.socket; do
	[ -L "/etc/systemd/system/$l" ] || miss="$miss $l"
done
[ -z "$miss" ] && tap_ok "the units are enabled (multi-user.target, sockets.target)" ||
	tap_not_ok "the units are enabled (multi-user.target, sockets.target)" "missing:$miss"

# --- documentation, completion, GRUB ------------------------------------------------
out=$(for m in vhctl vhagent vh-hosted vh-msg vh-sim; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings "$m" 2>&1 >/dev/null
	LC_ALL=C.UTF-8 MANWIDTH=80 man "$m" 2>/dev/null | grep -q "$m" || echo "man $m: no page"
done)
[ -z "$out" ] && tap_ok "man vhctl, vhagent, vh-hosted, vh-msg, vh-sim render without warnings" ||
	tap_not_ok "man vhctl, vhagent, vh-hosted, vh-msg, vh-sim render without warnings" "$out"
if bash -c '. /usr/share/bash-completion/completions/vhctl && complete -p vhctl' >"$T/compl.log" 2>&1; then
	tap_ok "bash completion for vhctl loads"
else
	tap_not_ok "bash completion for vhctl loads" "$T/compl.log"
fi
# GRUB's device probing needs a real disk: stand-ins for a plain /dev/sda1.
grub_standins "$T"
if [ -f /usr/share/grub/grub-mkconfig_lib ]; then
	grub_probe=$T/grub-probe grub_mkrelpath=$T/grub-mkrelpath /etc/grub.d/42_vh >"$T/grub.cfg" 2>"$T/grub.err"
	rc=$?
	if [ $rc = 0 ] && grep -qP '^\tmultiboot\t/boot/vh.elf vh.elf vm=demo,kernel=0,mem=16M$' "$T/grub.cfg" &&
		grep -qP '^\tmodule\t/usr/lib/vh/guests/spinner.elf spinner.elf$' "$T/grub.cfg" &&
		grep -q "^menuentry 'vh hypervisor (bare metal)'" "$T/grub.cfg"; then
		tap_ok "/etc/grub.d/42_vh: a Multiboot entry for /boot/vh.elf with the module of /etc/default/vh"
	else
		tap_not_ok "/etc/grub.d/42_vh: a Multiboot entry for /boot/vh.elf with the module of /etc/default/vh" \
			"exit $rc" "$T/grub.cfg" "$T/grub.err"
	fi
else
	# Without GRUB (grub-common) the script has nothing to run with and
	# must print nothing rather than fail update-grub-less machines.
	echo "Bail out! grub-common is missing (packaging/debian-packages.txt [boot])"
	exit 1
fi

# --- the installed programs run a VM together -------------------------------------------
if [ ! -c /dev/kvm ]; then
	echo "Bail out! /dev/kvm is missing: the installed vh-hosted needs KVM"
	exit 1
fi
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# As the units run them (same paths, the packaged configuration), with the
# sockets and port of the test's own.
mkdir -p /var/lib/vh/images
/usr/sbin/vh-hosted --socket "$T/vh.sock" --images /var/lib/vh/images --log-dir /var/log/vh \
	--memory 128M --pcpus 1 >"$T/hv.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$T/vh.sock" ] && break; sleep 0.05; done
/usr/sbin/vhagent --config /etc/vh/agent.conf --hypervisor-socket "$T/vh.sock" \
	--unix-socket "$T/agent.sock" --https-listen "127.0.0.1:$port" >"$T/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/agent.sock" http://vh/readyz)" = 200 ] && break
	sleep 0.05
done
export VH_URL="unix://$T/agent.sock"
{
	vhctl image upload /usr/lib/vh/guests/spinner.elf &&
	vhctl vm create pkgtest --mem 16M --kernel spinner.elf --limit 100 --start &&
	vhctl -o json vm show pkgtest
} >"$T/vhctl.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '"state": *"running"' "$T/vhctl.log" && [ -f /var/lib/vh/tls/cert.pem ]; then
	tap_ok "installed vh-hosted + vhagent + vhctl: a VM from the packaged guest runs (state in /var/lib/vh)"
else
	tap_not_ok "installed vh-hosted + vhagent + vhctl: a VM from the packaged guest runs (state in /var/lib/vh)" \
		"exit $rc" "$T/vhctl.log" "$T/agent.log" "$T/hv.log"
fi
unset VH_URL
cleanup

# --- purge -------------------------------------------------------------------------
files=$(for p in $PKGS; do dpkg -L "$p"; done | sort -u | while read -r f; do [ -d "$f" ] || echo "$f"; done)
conffiles=$(for p in $PKGS; do dpkg-query -W -f='${Conffiles}\n' "$p"; done | awk 'NF { print $1 }')
if dpkg --purge $PKGS >"$T/purge.log" 2>&1; then
	tap_ok "dpkg --purge removes the four packages"
else
	tap_not_ok "dpkg --purge removes the four packages" "$T/purge.log"
fi
bad=$(for p in $PKGS; do known "$p" && echo "$p"; done)
[ -z "$bad" ] && tap_ok "dpkg knows none of them any more (no configuration files left)" ||
	tap_not_ok "dpkg knows none of them any more (no configuration files left)" "still known: $bad"
left=$(for f in $files $conffiles; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
[ -z "$left" ] && tap_ok "every file the packages had is gone ($(echo $files | wc -w) files)" ||
	tap_not_ok "every file the packages had is gone" "left: $left"
left=$(for d in /var/lib/vh /var/log/vh /etc/vh /usr/lib/vh /etc/default/vh /etc/default/vh-hosted \
	/etc/systemd/system/multi-user.target.wants/vh-hosted.service \
	/etc/systemd/system/multi-user.target.wants/vhagent.service \
	/etc/systemd/system/sockets.target.wants/vhagent.socket \
	/etc/systemd/system/sockets.target.wants/vhagent-https.socket; do
	[ -e "$d" ] || [ -L "$d" ] && echo "$d"
done)
[ -z "$left" ] && tap_ok "nothing left: state, logs, configuration, enablement links" ||
	tap_not_ok "nothing left: state, logs, configuration, enablement links" "left: $left"
# Debian policy: a system group is not removed on purge (files outside
# the packages, e.g. copies of images, may still carry its id).
if getent group vh >/dev/null; then
	tap_ok "the vh group stays after purge (Debian policy for system groups)"
else
	tap_not_ok "the vh group stays after purge (Debian policy for system groups)"
fi
[ "$tap_failed" -eq 0 ]
