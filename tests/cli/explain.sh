#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Diagnosis through the real agent on a real vh-hosted with one pCPU of
# 1000 MHz: a capped spinner's top cause is its own limit (and its
# limited time shows in the stats and /metrics); of two spinners with
# different shares the low one is diagnosed with contention naming its
# share; a halting guest is halted, not slow; the host's diagnosis ranks
# the takers.  vhctl explain prints each (the outputs are kept in the log
# as comments); the REST routes refuse a bad window and an unknown VM.
# The agent samples the counters once a second: each scenario runs a
# little longer than the window it is explained over.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"
. "$top_srcdir/tests/cli/lib.sh"

cli_require "$GUESTS/toucher.elf"
cli_setup cli-explain
hv_start 256M --pcpus 1 --mhz 1000
agent_start_ready

# ---- a capped VM alone: its own limit ------------------------------------------------

vc 0 "a spinner capped at 250 MHz" vm create capped --mem 8M --kernel spinner.elf \
	--cmdline "$SPIN" --limit 250MHz --start
sleep 3.5
# Alone on its pCPU, all its ready time is its limit's, but for what the
# machine's other programs take from vh-hosted's pCPU thread (host_steal:
# on a loaded machine it can be large, and it is told apart).
vc 0 "explain capped -o json" -o json explain capped --window 2
js "capped: the top cause (the host's take aside) is its own limit" \
	'[c["code"] for c in d["causes"] if c["code"] != "host_steal"][0] == "cpu_limit" and d["causes"][0]["code"] in ("cpu_limit", "host_steal")'
js "capped: its limit and the host explain all of its ready time, no contention" \
	'd["cpu"]["limited_pct"] > 0 and abs(d["cpu"]["ready_pct"] - d["cpu"]["limited_pct"] - d["cpu"]["stolen_pct"]) < 1.5 and all(c["code"] != "cpu_contention" for c in d["causes"])'
# (A limit holds over any 1 s window: over W ms a VM may use 25% of W + 1000.)
js "capped: the figures name the limit, and it held" \
	'[c for c in d["causes"] if c["code"] == "cpu_limit"][0]["figures"]["limit_mhz"] == 250 and d["cpu"]["used_pct"] <= 25 * (1 + 1000 / d["window_ms"]) + 1'
vc 0 "explain capped" explain capped --window 2
out "the table output names the cause and the change" '^[12]\. cpu_limit \(problem, cost [0-9.]+%\)'
out "the change is printed" 'change: Raise or remove its CPU limit \(vhctl vm cpu capped --limit unlimited\)'
vc 0 "stats -o json of the capped VM" -o json vm stats capped
js "stats: limited_ms counts, part of ready_ms, on the VM and its vCPU" \
	'0 < d["cpu"]["limited_ms"] <= d["cpu"]["ready_ms"] and d["vcpus"][0]["cpu"]["limited_ms"] == d["cpu"]["limited_ms"]'
api GET /metrics
check "/metrics: vh_vm_cpu_limited_seconds_total of the capped VM" \
	grep -Eq '^vh_vm_cpu_limited_seconds_total\{vm="capped",uuid="[0-9a-f-]+"\} (0\.0*[1-9][0-9]*|[1-9][0-9.]*)$' "$RUN/body"
show capped --window 2
vc 0 "stop the capped VM" vm stop capped --force

# ---- two spinners on one pCPU: the low-share one is starved ----------------------------

vc 0 "a spinner with low shares" vm create low --mem 8M --kernel spinner.elf --cmdline "$SPIN" \
	--shares low --start
vc 0 "a spinner with high shares" vm create high --mem 8M --kernel spinner.elf --cmdline "$SPIN" \
	--shares high --start
sleep 2.5
vc 0 "explain low -o json" -o json explain low --window 2
js "low: the top cause is contention, naming its share" \
	'd["causes"][0]["code"] == "cpu_contention" and d["causes"][0]["figures"]["shares"] == 500 and d["causes"][0]["figures"]["shares_total"] == 2500 and abs(d["causes"][0]["figures"]["share_pct"] - 20) < 0.1 and d["causes"][0]["figures"]["pcpus"] == 1 and d["causes"][0]["figures"]["competing_vcpus"] == 2'
js "low: waited most of the time, never for a limit" \
	'd["cpu"]["ready_pct"] - d["cpu"]["stolen_pct"] > 60 and d["cpu"]["limited_pct"] == 0 and all(c["code"] != "cpu_limit" for c in d["causes"])'
js "low: the sentence says how much of the shares it holds" \
	'"its 500 shares are 20.0% of the 2500 shares competing" in d["summary"]'
vc 0 "stats -o json of the starved VM" -o json vm stats low
js "stats: the starved VM is ready but never limited" \
	'd["cpu"]["ready_ms"] > 0 and d["cpu"]["limited_ms"] == 0'
show low --window 2

# ---- an idle guest: halted, not slow -----------------------------------------------------

vc 0 "a guest that halts" vm create idle --mem 8M --kernel toucher.elf \
	--cmdline "size=64K passes=1 idle=1" --start
# Until it has touched its pages and halted (it shares the pCPU).
stats_until idle 100 'd["cpu"]["wait_ms"] >= 200'
sleep 2.5
explain_check idle "idle: the top cause is halts, information rather than a problem" \
	'd["causes"][0]["code"] == "halted" and d["causes"][0]["kind"] == "info" and d["cpu"]["wait_pct"] > 90'

# ---- the host -----------------------------------------------------------------------------

explain_check --host "host: high takes most, then low; the idle guest takes next to nothing" \
	'[v["vm"] for v in d["vms"]][:2] == ["high", "low"] and d["pcpus"] == 1 and d["admission"]["unreserved_mhz"] > 0'

# ---- refusals -----------------------------------------------------------------------------

vc 3 "explain of a missing VM: exit 3" explain nosuch
vc 2 "explain with neither a VM nor --host: exit 2" explain
vc 2 "explain with a window out of range: exit 2" explain low --window 61
api GET '/v1/vms/low/diagnosis?window_ms=500'
check "window_ms out of range: 400 bad_request" test "$CODE" = 400 -a "$(json 'j["code"]')" = bad_request

for vm in low high idle capped; do "$VHCTL" vm delete "$vm" --force >/dev/null 2>&1 || :; done
agent_stops_cleanly
hv_stop

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
