#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What-if through the real agent on a real vh-hosted with one pCPU of
# 1000 MHz (no mocks): two spinners, one capped at 250 MHz; vhctl what-if
# predicts raising its shares and limit, the change is applied, and the
# used time measured after it agrees with the prediction within 5%.  A
# reservation admission control would refuse is listed with the error
# the real request gets; bad requests (an unknown VM, bad units, a
# duration out of range, too many changes, an oversized body) get 4xx
# problems and change nothing; the time bound kills a long simulation
# (504) and a missing simulator is 503.  The what-if table and the
# measurement are kept in the log as comments.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"
. "$top_srcdir/tests/cli/lib.sh"

cli_require "$VH_SIM"
cli_setup cli-whatif
hv_start 256M --pcpus 1 --mhz 1000
agent_start_ready

# cpu_of NAME: the VM's CPU controls as the agent has them (compact JSON).
cpu_of() {
	"$VHCTL" -o json vm cpu "$1" 2>&1 | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))'
}

vc 0 "a spinner capped at 250 MHz" vm create web --mem 8M --kernel spinner.elf \
	--cmdline "$SPIN" --limit 250MHz --start
# batch's low shares leave web the headroom (80% of what the pCPU's host
# leaves) for its new limit to bind even when the machine's other
# programs take much of the pCPU: the prediction is then the limit's, as
# the measurement after the change is.
vc 0 "an uncapped spinner with low shares beside it" vm create batch --mem 8M \
	--kernel spinner.elf --cmdline "$SPIN" --shares low --start
sleep 4

# ---- the prediction ---------------------------------------------------------------------

vc 0 "what-if web --shares high --limit 300MHz -o json" -o json what-if web --shares high \
	--limit 300MHz --duration 10
cp "$RUN/out" "$RUN/predicted.json"
js "the reply has both VMs, web changed, nothing refused" \
	'[v["vm"] for v in d["vms"]] == ["web", "batch"] and d["vms"][0]["changed"] and not d["vms"][1]["changed"] and d["refused"] == [] and d["duration_s"] == 10 and d["host"]["pcpus"] == 1'
js "web's demand was measured: always runnable, at most its 250 MHz" \
	'd["vms"][0]["demand"]["measured"] and d["vms"][0]["demand"]["busy_pct"] > 99 and d["vms"][0]["before"]["used_mhz"] < 270'
# With 2000 of 2500 shares web is entitled to 80% of what the pCPU's host
# leaves (steal_pct: the machine's other programs): its new limit, 30%,
# unless the host leaves less than 37.5%; batch gets the rest.
js "predicted: web uses its 300 MHz or 80% of what the host leaves, batch the rest" \
	'abs(d["vms"][0]["after"]["used_pct"] - min(30, 0.8 * (100 - d["host"]["steal_pct"]))) < 2 and abs(d["vms"][0]["after"]["used_pct"] + d["vms"][1]["after"]["used_pct"] - (100 - d["host"]["steal_pct"])) < 3'
vc 0 "the change is not made by predicting it" vm cpu web
out "web keeps normal shares and its 250 MHz limit" 'web: cpu shares normal, reservation 0MHz, limit 250MHz'
echo "# ---- vhctl what-if web --shares high --limit 300MHz ----"
"$VHCTL" what-if web --shares high --limit 300MHz 2>&1 | sed 's/^/#   /'
vc 0 "the table prints measured -> predicted for each VM" what-if web --shares high --limit 300MHz
out "web's row is marked changed with its used time before and after" '^web +\* +[0-9.]+ -> [0-9]+\.[0-9] +[0-9.]+ -> [0-9.]+ '

# ---- apply it and measure -----------------------------------------------------------------

vc 0 "apply the change" vm cpu web --shares high --limit 300MHz
sleep 1.5 # the limit's sliding window forgets the old limit
sleep 5
vc 0 "measure over 5 s (the agent's diagnosis window)" -o json explain web --window 5
cp "$RUN/out" "$RUN/measured-web.json"
vc 0 "and batch's" -o json explain batch --window 5
cp "$RUN/out" "$RUN/measured-batch.json"
"$PY" - "$RUN/predicted.json" "$RUN/measured-web.json" "$RUN/measured-batch.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
for f in sys.argv[2:]:
    m = json.load(open(f))
    v = [v for v in p["vms"] if v["vm"] == m["vm"]][0]
    print("# %-5s predicted used %5.1f%%  measured used %5.1f%% (ready %4.1f%%, limited %4.1f%%, taken by the host %4.1f%%)"
          % (m["vm"], v["after"]["used_pct"], m["cpu"]["used_pct"], m["cpu"]["ready_pct"],
             m["cpu"]["limited_pct"], m["cpu"]["stolen_pct"]))
EOF
if why=$("$PY" - "$RUN/predicted.json" "$RUN/measured-web.json" <<'EOF' 2>&1
import json, sys
p = json.load(open(sys.argv[1]))["vms"][0]["after"]["used_pct"]
m = json.load(open(sys.argv[2]))["cpu"]["used_pct"]
assert abs(m - p) <= 0.05 * p, "predicted %.2f%%, measured %.2f%%" % (p, m)
EOF
); then
	tap_ok "web's measured used time is within 5% of the prediction"
else
	tap_not_ok "web's measured used time is within 5% of the prediction" "$why"
fi

# ---- refusals as the real request gets them -------------------------------------------------

vc 0 "what-if of a reservation over capacity" -o json what-if batch --reservation 2000MHz
cp "$RUN/out" "$RUN/refused.json"
js "the change is listed as refused: 409 admission naming the field" \
	'len(d["refused"]) == 1 and d["refused"][0]["change"] == 0 and d["refused"][0]["vm"] == "batch" and d["refused"][0]["status"] == 409 and d["refused"][0]["code"] == "admission" and d["refused"][0]["field"] == "cpu.reservation_mhz"'
api PUT /v1/vms/batch/cpu -d '{"reservation_mhz":2000}'
check "the real request is refused with the same status, code and detail" \
	"$PY" -c 'import json,sys; w=json.load(open(sys.argv[1]))["refused"][0]; r=json.loads(sys.argv[2]); sys.exit(not (int(sys.argv[3]) == w["status"] and r["code"] == w["code"] and r["detail"] == w["detail"] and r.get("field") == w["field"]))' \
	"$RUN/refused.json" "$BODY" "$CODE"
vc 0 "vhctl what-if prints the refusal" what-if batch --reservation 2000MHz
out "refused: cpu of batch: 409 admission" '^refused: cpu of batch: 409 admission, field cpu.reservation_mhz: '

# ---- bad requests change nothing ------------------------------------------------------------

before=$(cpu_of web)
vc 3 "what-if of an unknown VM: exit 3" what-if nosuch --shares high
vc 2 "what-if with a bad unit: exit 2 before any request" what-if web --limit 2XHz
vc 2 "what-if with a duration out of range: exit 2" what-if web --shares low --duration 301
vc 2 "what-if with no change: exit 2" what-if web
api POST /v1/simulate -d '{"changes":[{"vm":"nosuch","cpu":{"shares":"high"}}]}'
check "unknown VM: 404 not_found naming changes[0].vm" \
	test "$CODE" = 404 -a "$(json 'j["code"]')" = not_found -a "$(json 'j["field"]')" = "changes[0].vm"
api POST /v1/simulate -d '{"changes":[{"vm":"web","cpu":{"limit_mhz":"2GHz"}}]}'
check "a unit in a number: 422 naming changes[0].cpu.limit_mhz" \
	test "$CODE" = 422 -a "$(json 'j["field"]')" = "changes[0].cpu.limit_mhz"
api POST /v1/simulate -d '{"duration_s":0,"changes":[]}'
check "duration 0: 422 invalid_field duration_s" \
	test "$CODE" = 422 -a "$(json 'j["field"]')" = duration_s
api POST /v1/simulate -d '{"duration_s":301,"changes":[]}'
check "duration 301: 422 invalid_field duration_s" \
	test "$CODE" = 422 -a "$(json 'j["field"]')" = duration_s
many=$("$PY" -c 'import json; print(json.dumps({"changes": [{"vm": "web", "cpu": {"shares": "low"}}] * 65}))')
api POST /v1/simulate -d "$many"
check "65 changes: 422 naming changes" test "$CODE" = 422 -a "$(json 'j["field"]')" = changes
"$PY" -c 'import json; print(json.dumps({"changes": [], "pad": "x" * (2 << 20)}))' >"$RUN/big.json"
api POST /v1/simulate --data-binary "@$RUN/big.json"
check "a body over max_body_bytes: 413 too_large" test "$CODE" = 413 -a "$(json 'j["code"]')" = too_large
api POST /v1/simulate -d '{"changes":[],"duration_s":1,"x":1'
check "malformed JSON: 400 bad_json" test "$CODE" = 400 -a "$(json 'j["code"]')" = bad_json
check "none of them changed web's controls" test "$(cpu_of web)" = "$before"
api GET /v1/vms
check "nor added or removed a VM" test "$(json 'len(j["items"])')" = 2

# ---- the time bound and a missing simulator --------------------------------------------------

agent_restart --simulate-timeout-ms 100
sleep 1.2
api POST /v1/simulate -d '{"duration_s":300,"changes":[]}'
check "a simulation past simulate_timeout_ms: 504 simulation_timeout" \
	test "$CODE" = 504 -a "$(json 'j["code"]')" = simulation_timeout
check "and no vh-sim is left running" sh -c "! pgrep -f '^$VH_SIM -\$' >/dev/null"
agent_restart --simulator "$RUN/no-such-vh-sim"
sleep 1.2
api POST /v1/simulate -d '{"changes":[]}'
check "a missing simulator: 503 unavailable naming it" \
	test "$CODE" = 503 -a "$(json '"no-such-vh-sim" in j["detail"]')" = True

for vm in web batch; do "$VHCTL" vm delete "$vm" --force >/dev/null 2>&1 || :; done
agent_stops_cleanly
hv_stop

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
