#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM with VMs running: every VM is stopped through the core, the
# daemon exits 0 and removes its socket; a daemon killed hard leaves a
# stale socket that the next one replaces.  VMs run on with no client.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup shutdown
tap_plan 6
kvm_start

for v in a b c; do
	"$VH_MSG" define $v kernel=spinner.elf memory=4 "cmdline=iters=0 report=50 work=1000" >/dev/null
	"$VH_MSG" start $v >/dev/null
done
"$VH_MSG" pause c >/dev/null
# No client is connected now: the VMs must keep running.
u=$(stat_of a cpu.used_ns); sleep 1; v=$(stat_of a cpu.used_ns)
if [ "$v" -gt $((u + 100000000)) ]; then
	tap_ok "VMs run with no client connected"
else
	tap_not_ok "VMs run with no client connected" "used $u -> $v"
fi
start=$(date +%s%N)
kvm_stop
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc = 0 ]; then tap_ok "SIGTERM with 2 running and 1 paused VM: exit 0 in $ms ms"; else tap_not_ok "SIGTERM: exit 0" "exit $rc" "$RUN/daemon.log"; fi
tap_grep "the daemon stopped the 3 VMs through the core" 'stopped 3 VMs' "$RUN/daemon.log"
tap_grep "the daemon says it shut down cleanly" 'clean shutdown' "$RUN/daemon.log"
if [ ! -e "$SOCK" ]; then tap_ok "the socket is removed"; else tap_not_ok "the socket is removed"; fi

# A daemon killed with SIGKILL leaves its socket; the next one takes over.
kvm_start
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
kvm_start
if "$VH_MSG" host >/dev/null 2>&1 && kvm_stop; then
	tap_ok "a stale socket from a killed daemon is replaced"
else
	tap_not_ok "a stale socket from a killed daemon is replaced" "$RUN/daemon.log"
fi
[ "$tap_failed" = 0 ]
