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

tap_plan 6

for f in reservation sharing cosched; do
	if out=$("$sim" "$examples/$f.vhs" 2>&1) && [ "${out:0:1}" = "{" ] &&
		printf '%s\n' "$out" | tail -1 | grep -qx '}'; then
		tap_ok "the $f example runs and prints one JSON object"
	else
		tap_not_ok "the $f example runs and prints one JSON object" "$out"
	fi
done

printf 'duration 1s\nvm a vcpus=99\n' > "$work/bad.vhs"
out=$("$sim" "$work/bad.vhs" 2>&1); rc=$?
if [ $rc = 1 ] && printf '%s' "$out" | grep -q 'bad.vhs: line 2: vcpus: "99" is not 1..64'; then
	tap_ok "a bad scenario exits 1 naming the line and the field"
else
	tap_not_ok "a bad scenario exits 1 naming the line and the field" "exit $rc" "$out"
fi

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
