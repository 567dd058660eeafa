#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Console bounds on vh-hosted: a guest flooding its console through the
# console hypercall is held to the VM's console budget (the core's token
# bucket: --console-rate, --console-burst), the bytes over it are counted
# in VM_STATS, its log files rotate within --console-log-max x
# (--console-log-keep + 1), a well-behaved VM beside it loses nothing, and
# deleting the VM deletes its logs.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup console
tap_plan 6
rate=8192 burst=65536 logmax=16384 keep=2 flood=524288
kvm_start --console-rate $rate --console-burst $burst --console-log-max $logmax \
	--console-log-keep $keep

"$VH_MSG" define flood kernel=spinner.elf memory=8 "cmdline=iters=1 work=10 flood=$flood" >/dev/null
"$VH_MSG" define calm kernel=spinner.elf memory=8 "cmdline=iters=20 report=5 work=1000" >/dev/null
t0=$(date +%s%N)
"$VH_MSG" start flood >/dev/null && "$VH_MSG" start calm >/dev/null
"$VH_MSG" wait flood stopped 60 >/dev/null 2>&1
"$VH_MSG" wait calm stopped 30 >/dev/null 2>&1
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))

# 1. The flood's files: none above the size bound, rotated, within the total.
sizes=$(cd "$RUN/logs" && for f in flood.log*; do printf '%s=%s ' "$f" "$(stat -c %s "$f")"; done)
sum=0 big=0
for f in "$RUN"/logs/flood.log*; do
	s=$(stat -c %s "$f"); sum=$((sum + s))
	[ "$s" -le $logmax ] || big=1
done
if [ $big = 0 ] && [ -f "$RUN/logs/flood.log.1" ] && [ -f "$RUN/logs/flood.log.$keep" ] &&
	[ ! -e "$RUN/logs/flood.log.$((keep + 1))" ] && [ $sum -le $((logmax * (keep + 1))) ]; then
	tap_ok "flood: its logs rotate within $logmax bytes x $((keep + 1)) files ($sizes)"
else
	tap_not_ok "flood: its logs rotate within $logmax bytes x $((keep + 1)) files" "$sizes"
fi

# 2. What the guest wrote, what was dropped, what was kept: consistent, and
# what was kept is within the budget (burst + rate x time, a chunk of slack).
msg stats flood
bytes=$(field console.bytes) dropped=$(field console.dropped)
"$VH_MSG" console flood 0 0 2>"$RUN/total" >/dev/null
total=$(sed -n 's/^console: .* total \([0-9]*\)$/\1/p' "$RUN/total")
kept=$((${bytes:-0} - ${dropped:-0}))
allowed=$((burst + rate * elapsed_ms / 1000 + 4096))
if [ -n "$bytes" ] && [ -n "$dropped" ] && [ "$bytes" -ge $flood ] && [ "$dropped" -gt 0 ] &&
	[ "$dropped" -le "$bytes" ] && [ "$kept" = "$total" ] && [ $kept -le $allowed ] &&
	[ $kept -ge $burst ]; then
	tap_ok "flood: VM_STATS counts $dropped of $bytes console bytes dropped; the $kept kept are the console stream and within the budget ($allowed in ${elapsed_ms} ms)"
else
	tap_not_ok "flood: VM_STATS counts the dropped console bytes" \
		"bytes=$bytes dropped=$dropped kept=$kept stream total=$total allowed=$allowed elapsed=${elapsed_ms}ms" \
		"$OUT"
fi
if [ "$(stat_of flood state)" = stopped ]; then
	tap_ok "flood: the guest ran to its end (a dropped write is no error to it)"
else
	tap_not_ok "flood: the guest ran to its end" "$(stat_of flood state)" "$RUN/daemon.log"
fi

# 3. The well-behaved VM beside it: every line, nothing dropped.
missing=
for n in 5 10 15 20; do console calm | grep -q "^spinner: progress $n\$" || missing="$missing progress $n"; done
console calm | grep -q '^spinner: done 20 units checksum' || missing="$missing done"
console calm | grep -q '^vh: debug-exit code 1' || missing="$missing debug-exit"
if [ -z "$missing" ] && [ "$(stat_of calm console.dropped)" = 0 ]; then
	tap_ok "calm: its console is complete beside the flood, nothing dropped"
else
	tap_not_ok "calm: its console is complete beside the flood (missing:$missing)" \
		"dropped $(stat_of calm console.dropped)" "$RUN/logs/calm.log"
fi

# 4. Deleting a VM deletes its logs, every rotated file; the others stay.
"$VH_MSG" undefine flood >/dev/null 2>&1
left=$(cd "$RUN/logs" && ls flood.log* 2>/dev/null)
if [ -z "$left" ] && [ -f "$RUN/logs/calm.log" ]; then
	tap_ok "undefining the flood VM removed its logs, calm.log stays"
else
	tap_not_ok "undefining the flood VM removed its logs" "left: $left" "$(ls "$RUN/logs")"
fi

# 5. A shutdown keeps the logs of the VMs still defined.
kvm_stop
rc=$?
if [ $rc = 0 ] && [ -f "$RUN/logs/calm.log" ]; then
	tap_ok "the daemon stops cleanly and keeps calm.log"
else
	tap_not_ok "the daemon stops cleanly (exit $rc) and keeps calm.log" "$RUN/daemon.log"
fi
[ "$tap_failed" = 0 ]
