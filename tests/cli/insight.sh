#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhctl top in colour and the co-stop and memory causes of the diagnosis,
# through the real agent on a real vh-hosted with two pCPUs of 1000 MHz
# and 256 MiB (no mocks).  A spinner capped at 250 MHz, two uncapped ones
# and a 2-vCPU guest under strict co-scheduling: top colours the capped
# VM's %MLMTD and the gang's %CSTP past their thresholds with
# --color=always, and on a terminal by default, never with --color=never,
# into a pipe, with NO_COLOR or TERM=dumb (unless --color=always); vhctl
# explain names co-stop for the gang.  Then memory: a balloon the
# operator asked for, pages two guests share, and the idle-memory tax of
# a guest that touched its memory once and went idle beside two that keep
# rewriting theirs while the host ran short (the explain outputs are kept
# in the log as comments).
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"
. "$top_srcdir/tests/cli/lib.sh"

cli_require "$GUESTS/smp.elf" "$GUESTS/toucher.elf" "$GUESTS/balloon.elf"
if ! command -v script >/dev/null; then
	echo "Bail out! script (util-linux) is missing: it gives top a terminal"
	exit 1
fi
cli_setup cli-insight NO_COLOR
ESC=$(printf '\033')

hv_start 256M --pcpus 2 --mhz 1000
agent_start_ready

# ---- CPU: a capped VM, and a gang that waits for itself ---------------------------------------

# 10 MHz (1% of a pCPU): a limit the VM reaches even when the machine's other programs
# take most of vh-hosted's pCPU threads.
vc 0 "a spinner capped at 10 MHz" vm create capped --mem 8M --kernel spinner.elf \
	--cmdline "$SPIN" --limit 10MHz --start
for s in s1 s2; do
	vc 0 "an uncapped spinner $s" vm create $s --mem 8M --kernel spinner.elf --cmdline "$SPIN" --start
done
api POST /v1/vms -d '{"name":"gang","vcpus":2,"memory_mib":8,"cosched":"strict","devices":["uart16550","debug_exit","fw_cfg"],"boot":{"kernel":"smp.elf","cmdline":"spin=60000 wait=4000000000"}}'
check "a 2-vCPU guest under strict co-scheduling" test "$CODE" = 201
api PUT /v1/vms/gang/power -d '{"state":"running"}'
check "it starts" test "$CODE" = 200
# (A loaded machine gives vh-hosted's threads little: up to a minute.)
for _ in $(seq 1 300); do
	"$VHCTL" console gang 2>/dev/null | grep -q '^smp: spinning' && break
	sleep 0.2
done
"$VHCTL" console gang >"$RUN/out" 2>&1
tap_grep "the gang spins on both vCPUs" '^smp: spinning 60000 ms on 2 cpus' "$RUN/out"
sleep 3

vc 0 "top --color=always" top -b -n 1 -d 2 --color=always
cp "$RUN/out" "$RUN/top-colour.txt"
sed 's/^/#   /' "$RUN/top-colour.txt"
"$PY" - "$RUN/top-colour.txt" >"$RUN/cells.txt" <<'EOF'
import re, sys
# Each VM row: the column cells with their escape, if any.
for line in open(sys.argv[1]):
    f = re.findall(r"(?:\x1b\[([0-9;]*)m)?([^\s\x1b]+)(?:\x1b\[0m)?", line)
    if len(f) >= 14 and f[0][1].isdigit():
        print(f[1][1], "MLMTD=%s:%s" % (f[5][0] or "-", f[5][1]), "CSTP=%s:%s" % (f[6][0] or "-", f[6][1]))
EOF
sed 's/^/#   cells: /' "$RUN/cells.txt"
tap_grep "the header is bold" "^${ESC}\[1m *ID${ESC}\[0m" "$RUN/top-colour.txt"
tap_grep "the capped VM's %MLMTD is red (its limit holds it back)" '^capped .*MLMTD=1;31:' "$RUN/cells.txt"
tap_grep "the gang's %CSTP is coloured (it waits for its own vCPUs)" '^gang .*CSTP=(33|1;31):' "$RUN/cells.txt"
tap_grep "an uncapped spinner's %MLMTD is not coloured" '^s1 MLMTD=-:0\.0 ' "$RUN/cells.txt"
tap_grep "the legend says what the colours mean" 'per vCPU, .*warn.*bad.* past: %RDY 5/10%, %MLMTD 1/10%, %CSTP 3/10%' "$RUN/top-colour.txt"

vc 0 "top --color=never" top -b -n 1 -d 0.5 --color=never
check "--color=never: no escape at all" sh -c "! grep -q '$ESC' '$RUN/out'"
vc 0 "top into a pipe (auto)" top -b -n 1 -d 0.5
check "auto into a pipe: no colour" sh -c "! grep -q '$ESC' '$RUN/out'"
# On a terminal (script gives it one), auto colours unless NO_COLOR or
# TERM=dumb; --color=always wins over NO_COLOR.
pty() { TERM=${TERM_FOR_PTY:-xterm} script -qec "$*" /dev/null >"$RUN/out" 2>&1 </dev/null; }
pty "'$VHCTL' top -b -n 1 -d 0.5"
check "auto on a terminal: coloured" grep -q "${ESC}\[1m" "$RUN/out"
NO_COLOR=1 pty "'$VHCTL' top -b -n 1 -d 0.5"
check "NO_COLOR=1 on a terminal: no colour" sh -c "! grep -q '${ESC}\[1m' '$RUN/out'"
NO_COLOR= pty "'$VHCTL' top -b -n 1 -d 0.5"
check "NO_COLOR set but empty: coloured (no-color.org)" grep -q "${ESC}\[1m" "$RUN/out"
TERM_FOR_PTY=dumb pty "'$VHCTL' top -b -n 1 -d 0.5"
check "TERM=dumb on a terminal: no colour" sh -c "! grep -q '${ESC}\[1m' '$RUN/out'"
NO_COLOR=1 pty "'$VHCTL' top -b -n 1 -d 0.5 --color=always"
check "--color=always wins over NO_COLOR" grep -q "${ESC}\[1m" "$RUN/out"
vc 0 "-o json never colours" -o json top -n 1 -d 0.5 --color=always
check "-o json: no escape" sh -c "! grep -q '$ESC' '$RUN/out'"
vc 2 "--color=sometimes: exit 2" top -n 1 --color=sometimes
err "the error names the values" 'is not auto, always or never'

explain_check gang "the gang's diagnosis names co-stop with its figures" \
	'any(c["code"] == "costop" and c["kind"] == "problem" and c["figures"]["costop_pct"] > 0 for c in d["causes"]) and d["cpu"]["costop_pct"] > 0'
for vm in capped s1 s2 gang; do "$VHCTL" vm delete "$vm" --force >/dev/null 2>&1 || :; done

# ---- memory: a balloon asked for, shared pages, the idle-memory tax -------------------------------

api POST /v1/vms -d '{"name":"bal","memory_mib":16,"devices":["uart16550","debug_exit","fw_cfg","balloon"],"boot":{"kernel":"balloon.elf","cmdline":"rounds=1000 fill=2048 wait=1 spin=0"}}'
check "a guest with a balloon driver" test "$CODE" = 201
api PUT /v1/vms/bal/power -d '{"state":"running"}'
sleep 1.5 # a sample of it before the window
vc 0 "ask for an 8 MiB balloon" vm balloon bal 8M
stats_until bal 50 'd["memory"]["balloon_mib"] >= 8'
sleep 2.2
explain_check bal "bal: the balloon is a cause, the operator's request its reason" \
	'[c for c in d["causes"] if c["code"] == "balloon"][0]["figures"]["reason"] == "request" and [c for c in d["causes"] if c["code"] == "balloon"][0]["figures"]["balloon_mib"] == 8'
vc 0 "give the balloon back" vm balloon bal 0
"$VHCTL" vm delete bal --force >/dev/null 2>&1 || :

for t in twin1 twin2; do
	vc 0 "a guest that writes 8 MiB of seed 7 and idles ($t)" vm create $t --mem 16M \
		--kernel toucher.elf --cmdline "size=8M seed=7 passes=1 idle=1" --start
done
stats_until twin2 100 'd["memory"]["shared_mib"] >= 4'
sleep 2.2
explain_check twin2 "twin2: page sharing is named, as information that costs nothing" \
	'[c for c in d["causes"] if c["code"] == "page_sharing"][0]["kind"] == "info" and [c for c in d["causes"] if c["code"] == "page_sharing"][0]["figures"]["shared_mib"] >= 4'
for t in twin1 twin2; do "$VHCTL" vm delete $t --force >/dev/null 2>&1 || :; done

# The idle-memory tax needs the host short of memory: a vh-hosted of 32
# MiB and three guests that write 10.2 MiB each, which leaves less free
# than the 6% low-free mark, so reclaim sets balloon targets from the
# shares with the idle pages taxed.  One guest writes its memory once and
# idles; the other two keep rewriting theirs, so the tax falls on the idle
# one alone (with three alike guests the reclaim moves between them as
# their sampled active memory wobbles, and the VM taxed at one moment may
# not be a second later).
agent_stop >/dev/null 2>&1
hv_stop
hv_start 32M --pcpus 2 --mhz 1000
agent_start_ready
vc 0 "a guest that writes 10.2 MiB once and idles (idle, 32 MiB host)" vm create idle --mem 12M \
	--kernel toucher.elf --cmdline "size=10450K seed=1 passes=1 idle=1 fill=page" --start
for t in busy1 busy2; do
	vc 0 "a guest that rewrites 10.2 MiB for ever ($t, 32 MiB host)" vm create $t --mem 12M \
		--kernel toucher.elf --cmdline "size=10450K seed=${t#busy}1 passes=0 fill=page" --start
done
# Reclaim takes what brings free memory back over the mark, the idle
# pages first.
taxed=
for _ in $(seq 1 600); do
	taxed=$("$VHCTL" -o json stats 2>/dev/null | "$PY" -c '
import json, sys
t = [v["vm"] for v in json.load(sys.stdin)["vms"] if v["memory"]["idle_tax_mib"] > 0.25]
print(" ".join(t))' 2>/dev/null)
	[ -n "$taxed" ] && break
	sleep 0.2
done
"$VHCTL" stats 2>&1 | sed 's/^/#   /'
check "the tax falls on the idle guest alone (taxed: ${taxed:-none})" test "$taxed" = idle
sleep 2.2
explain_check idle "idle: the idle-memory tax is named with what it took and why" \
	'[c for c in d["causes"] if c["code"] == "idle_memory_tax"][0]["figures"]["idle_tax_mib"] > 0.25 and [c for c in d["causes"] if c["code"] == "idle_memory_tax"][0]["figures"]["active_mib"] < [c for c in d["causes"] if c["code"] == "idle_memory_tax"][0]["figures"]["granted_mib"]'
vc 0 "explain --host -o json" -o json explain --host --window 2
show --host --window 2
for t in idle busy1 busy2; do "$VHCTL" vm delete $t --force >/dev/null 2>&1 || :; done

agent_stops_cleanly
hv_stop

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
