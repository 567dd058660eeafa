#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vh-sim as operators run it: the shipped example scenarios, exit codes and
# error messages.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

sim=$top_builddir/hypervisor/sim/vh-sim
examples=$top_srcdir/docs/examples
work=$top_builddir/tests/sim/runs
mkdir -p "$work"

# refused NAME FILE TEXT EXPECT: a scenario holding TEXT exits 1 and says EXPECT.
refused() {
	local out rc
	printf "$3" >"$work/$2"
	out=$("$sim" "$work/$2" 2>&1); rc=$?
	if [ $rc = 1 ] && printf '%s' "$out" | grep -qF "$4"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "exit $rc" "$out"
	fi
}

tap_plan 8

for f in reservation sharing cosched; do
	if out=$("$sim" "$examples/$f.vhs" 2>&1) && [ "${out:0:1}" = "{" ] &&
		printf '%s\n' "$out" | tail -1 | grep -qx '}'; then
		tap_ok "the $f example runs and prints one JSON object"
	else
		tap_not_ok "the $f example runs and prints one JSON object" "$out"
	fi
done

refused "a bad scenario exits 1 naming the line and the field" bad.vhs \
	'duration 1s\nvm a vcpus=99\n' 'bad.vhs: line 2: vcpus: "99" is not 1..64'

out=$("$sim" --check "$examples/reservation.vhs" 2>&1); rc=$?
if [ $rc = 0 ] && printf '%s' "$out" | grep -q '3 VMs, 2 changes, 10.000 s'; then
	tap_ok "--check parses without running"
else
	tap_not_ok "--check parses without running" "exit $rc" "$out"
fi

out=$("$sim" 2>&1); rc=$?
out2=$("$sim" "$work/no-such-file.vhs" 2>&1); rc2=$?
if [ $rc = 2 ] && [ $rc2 = 1 ] && printf '%s' "$out2" | grep -q 'No such file'; then
	tap_ok "usage errors exit 2, unreadable files exit 1"
else
	tap_not_ok "usage errors exit 2, unreadable files exit 1" "exit $rc: $out" "exit $rc2: $out2"
fi

# host steal=: the pCPU's host takes its share of every run, reported to
# the scheduler as ready (stolen) time, not used: one always-runnable VM
# uses 75% of its pCPU under steal=25%, two with a 3:1 weight keep 3:1 of
# what is left.
printf 'host pcpus=1 mhz=1000 memory=64M steal=25%%\nduration 10s\nvm a memory=8M workload=cpu\n' > "$work/steal.vhs"
if out=$("$sim" "$work/steal.vhs" 2>&1) && printf '%s' "$out" | "${SYSTEM_PYTHON3:-python3}" -c '
import json, sys
c = json.load(sys.stdin)["vms"][0]["cpu"]
assert abs(c["used_ms"] - 7500) < 50 and abs(c["stolen_ms"] - 2500) < 50, c'; then
	tap_ok "steal=25%: a spinner uses 75% of its pCPU, 25% is stolen"
else
	tap_not_ok "steal=25%: a spinner uses 75% of its pCPU, 25% is stolen" "$out"
fi
refused "a steal over 90% is refused naming it" steal-bad.vhs \
	'host steal=90.1\nduration 1s\n' 'line 1: steal: "90.1" is not a percentage 0..90'
