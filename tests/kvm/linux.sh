#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reference Linux guest (docs/linux-guest.md: Debian 12's stock
# kernel, vh's busybox initramfs) under vh-hosted, booted through the
# PVH note of the vmlinux inside Debian's bzImage (make linux-guest's
# linux-guest/vmlinux: on this host's emulating /dev/kvm the bzImage's
# decompressor alone takes minutes) with the initramfs as its initrd.
# All of it through the REST API, as an operator does it: the agent
# beside vh-hosted takes the kernel and initramfs as images (PUT
# /v1/images with their SHA-256), defines the VM with boot.kernel,
# boot.initrd and boot.cmdline (POST /v1/vms), powers it on (PUT
# /v1/vms/{vm}/power) and gives its console (GET /v1/vms/{vm}/console).
#
# make check: the boot to its first console lines, in a time box of 240 s
# (the 57 MiB of segments loaded, then the kernel's first lines: 112 s on
# this 2-core host at a load average of 14, the time is in the TAP line),
# checked line by line: the kernel's banner and version, the command line
# vh passed, vh's e820 map as the kernel read it, its early console on
# vh's COM1.  (vh's ACPI tables come some 60 s of emulated boot later:
# the --long run checks them.)
# Page sharing is off (--scan-rate 0), as in the benchmark, so the boot's
# faults are its own.  Seen in 2 boots of 7 (with sharing and without):
# a #PF on a mapped vmemmap or direct-map address in memmap_init_range /
# __init_single_page after the "On node 0" lines, about 40 s into the
# boot, and a panic (docs/linux-guest.md); the lines checked here come
# before it.
#
# VH_LINUX_TO_INIT=SECONDS (scripts/check --long): also waits that long
# for init and the platform script's results (vh.test=platform) and
# checks them; on a timeout the case fails with the last console line
# and the time it came (where the boot stopped).
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

to_init=${VH_LINUX_TO_INIT:-}
guest=$top_builddir/linux-guest
kvm_require
agent_env_require_built "$VHAGENT"
command -v "$AGENT_ENV_CURL" >/dev/null || { echo "Bail out! curl is missing"; exit 1; }
kvm_setup linux
if [ -n "$to_init" ]; then tap_plan 11; else tap_plan 7; fi
for f in vmlinux initramfs.cpio.gz vmlinuz.version; do
	[ -f "$guest/$f" ] || { echo "Bail out! no $guest/$f: run make linux-guest"; exit 1; }
done
# vh-hosted reads its images where the agent keeps them (<state>/images).
mkdir -p "$RUN/state/images"
AGENT_PID=
stop_agent() { [ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null; }
trap 'stop_agent; kvm_cleanup' EXIT
: >"$RUN/daemon.log"
agent_env_hv_launch "$RUN/daemon.log" "$SOCK" "$RUN/state/images" "$RUN/logs" 512M --scan-rate 0
DAEMON_PID=$AGENT_ENV_HV_PID
agent_env_hv_wait "$RUN/daemon.log" "$DAEMON_PID" "$SOCK"
ASOCK=$RUN/agent.sock
agent_env_agent_launch "$RUN/agent.log" "$RUN/state" "$SOCK" "$ASOCK" "$(agent_env_free_port)"
AGENT_PID=$AGENT_ENV_AGENT_PID
agent_env_agent_wait "$RUN/agent.log" "$AGENT_PID" "$ASOCK" /readyz
release=$(sed -n 's/^release=//p' "$guest/vmlinuz.version")
cmdline="console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr vh.test=platform"

# rest METHOD PATH [curl options...]: over the agent's unix socket (root:
# admin); the status in CODE, the body in $RUN/body.
rest() {
	local m=$1 p=$2
	shift 2
	CODE=$("$AGENT_ENV_CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -X "$m" \
		$(agent_env_content_type "$m" "$@") "$@" "http://vh$p")
}

desc="the kernel and initramfs uploaded as images with their SHA-256 (PUT /v1/images)"
rest PUT "/v1/images/vmlinux?sha256=$(sha256sum <"$guest/vmlinux" | cut -d' ' -f1)" -T "$guest/vmlinux"
up1=$CODE
rest PUT "/v1/images/initramfs.cpio.gz?sha256=$(sha256sum <"$guest/initramfs.cpio.gz" | cut -d' ' -f1)" \
	-T "$guest/initramfs.cpio.gz"
if [ "$up1:$CODE" = 201:201 ] && cmp -s "$guest/vmlinux" "$RUN/state/images/vmlinux"; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "HTTP $up1, $CODE: $(cat "$RUN/body")"
fi

start=$(date +%s.%N)
desc="a Linux VM created with boot.kernel=vmlinux, boot.initrd and boot.cmdline, and powered on"
rest POST /v1/vms -d "{\"name\":\"lx\",\"vcpus\":1,\"memory_mib\":192,\"boot\":{\"kernel\":\"vmlinux\",
	\"initrd\":\"initramfs.cpio.gz\",\"cmdline\":\"$cmdline\"}}"
created=$CODE
rest PUT /v1/vms/lx/power -d '{"state":"running"}'
if [ "$created:$CODE" = 201:200 ]; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "HTTP $created, $CODE: $(cat "$RUN/body")" "$(tail -5 "$RUN/daemon.log")"
fi
desc="the kernel's banner: Linux version $release"
if wait_console lx "^\[ *0\.0+\] Linux version ${release//./\\.} " 240; then
	tap_ok "$desc, after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s"
else
	tap_not_ok "$desc" "$(console lx | tail -5)" "$(tail -5 "$RUN/daemon.log")"
fi
# The kernel's next lines come within a second or two of the banner.
wait_console lx 'NX \(Execute Disable\) protection: active' 60 || true
tap_grep "the command line vh passed, as the kernel read it" \
	"^\\[ *0\\.0+\\] Command line: ${cmdline}" "$RUN/logs/lx.log"
tap_grep "vh's e820 map: RAM from 1 MiB to the VM's 192 MiB" \
	'^\[ *0\.0+\] BIOS-e820: \[mem 0x0000000000100000-0x000000000bffffff\] usable$' "$RUN/logs/lx.log"
tap_grep "the early console on vh's COM1 model" \
	'^\[ *0\.0+\] printk: bootconsole \[earlyser0\] enabled$' "$RUN/logs/lx.log"
# The agent's console is the tail the hypervisor keeps: each of its whole
# lines (the first may be cut, the last may be growing) is in the log.
rest GET /v1/vms/lx/console
console lx >"$RUN/console.now"
tr -d '\r' <"$RUN/body" | sed '1d;$d' >"$RUN/api.lines"
tap_check "GET /v1/vms/lx/console gives the kernel's console ($(wc -l <"$RUN/api.lines") whole lines, each in the log)" \
	sh -c 'test "$(wc -l <"$1")" -gt 10 && ! grep -Fxvf "$2" "$1" | grep -q .' sh "$RUN/api.lines" "$RUN/console.now"

if [ -n "$to_init" ]; then
	wait_console lx 'ACPI: XSDT ' 600 || true
	tap_grep "vh's ACPI tables: the RSDP in the BIOS area, by OEM VH" \
		'^\[ *[0-9.]+\] ACPI: RSDP 0x00000000000F0000 000024 \(v02 VH    \)$' "$RUN/logs/lx.log"
	desc="init runs within ${to_init} s (vhtest: init)"
	if wait_console lx '^vhtest: init uptime=' "$to_init"; then
		tap_ok "$desc, after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s"
	else
		tap_not_ok "$desc" "last line after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s:" \
			"$(console lx | tail -3)" "$(grep 'KVM cannot emulate\|crashed' "$RUN/daemon.log")"
	fi
	desc="the platform script: 1 CPU online, MemTotal within 10% of 192 MiB less the kernel"
	if wait_console lx '^vhtest: done ' 600 && console lx | grep -q '^vhtest: cpus_online=1$' &&
		mem=$(console lx | sed -n 's/^vhtest: memtotal_kb=//p') &&
		[ "$mem" -gt 120000 ] && [ "$mem" -lt 196608 ]; then
		tap_ok "$desc (MemTotal $mem kB)"
	else
		tap_not_ok "$desc" "$(console lx | grep '^vhtest:')"
	fi
	tap_grep "the script passed" '^vhtest: result test=platform status=0$' "$RUN/logs/lx.log"
fi
rest PUT /v1/vms/lx/power -d '{"state":"stopped"}'
stop_agent
kvm_stop
