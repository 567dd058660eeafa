#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Grafana dashboard packaging/grafana/vh.json: valid JSON of the shape
# Grafana imports (a title, a uid, panels with unique ids, a grid
# position and Prometheus targets, the datasource and vm variables), and
# every metric it names exists in the /metrics of a real agent on a real
# vh-hosted running a spinner (histogram series by their family).  The
# check is run on a copy naming a metric the agent does not export, which
# it must refuse.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

DASH=$top_srcdir/packaging/grafana/vh.json

agent_require
agent_setup grafana
hv_start
agent_start_ready

# check DASHBOARD METRICS: the dashboard's shape, then each metric it
# names against the scrape; prints what is wrong.
check_dash() {
	"$PY" - "$1" "$2" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
bad = []
for k in ("title", "uid", "panels", "templating", "schemaVersion"):
    if k not in d:
        bad.append("no %s" % k)
ids = [p.get("id") for p in d.get("panels", [])]
if len(ids) != len(set(ids)) or None in ids:
    bad.append("panel ids not unique: %s" % ids)
names = set()
for p in d.get("panels", []):
    if "gridPos" not in p or not p.get("title"):
        bad.append("panel %s: no gridPos or title" % p.get("id"))
    if p.get("type") == "row":
        continue
    if not p.get("targets"):
        bad.append("panel %r: no targets" % p.get("title"))
    for t in p.get("targets", []):
        if not t.get("expr"):
            bad.append("panel %r: a target without expr" % p.get("title"))
        names |= set(re.findall(r"\bvh_[a-z0-9_]+", t.get("expr", "")))
variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("query") != "prometheus":
    bad.append("no prometheus datasource variable")
if "vm" not in variables:
    bad.append("no vm variable")
else:
    names |= set(re.findall(r"\bvh_[a-z0-9_]+", json.dumps(variables["vm"].get("query"))))
scraped = set()
for line in open(sys.argv[2]):
    m = re.match(r"(vh_[a-z0-9_]+)[{ ]", line)
    if m:
        scraped.add(m.group(1))
for n in sorted(names):
    if n not in scraped:
        bad.append("%s is not in /metrics" % n)
if len(names) < 20:
    bad.append("only %d metrics named" % len(names))
print("\n".join(bad) if bad else "%d metrics named, all exported" % len(names))
sys.exit(1 if bad else 0)
EOF
}

tap_check "the dashboard is valid JSON" "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$DASH"

# Every expression parses as PromQL: each one (Grafana's $__rate_interval
# and $vm given values) a recording rule for promtool.
PROMTOOL=$(command -v promtool || :)
if [ -z "$PROMTOOL" ]; then
	tap_not_ok "promtool is installed (package prometheus)"
else
	"$PY" - "$DASH" "$RUN/rules.yml" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = ["groups:", "  - name: dashboard", "    rules:"]
n = 0
for p in d["panels"]:
    for t in p.get("targets", []):
        e = t["expr"].replace("$__rate_interval", "1m").replace("$vm", ".*")
        n += 1
        out.append("      - record: vh:dashboard:%d" % n)
        out.append("        expr: %s" % json.dumps(e))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
	tap_check "every expression is valid PromQL (promtool check rules)" \
		"$PROMTOOL" check rules "$RUN/rules.yml"
fi

# A spinner running, so every vh_vm_* family and its exits have samples.
define spin
api PUT /v1/vms/spin/power -d '{"state":"running"}'
check "a spinner runs" test "$CODE" = 200
sleep 1
api GET /metrics
check "/metrics answers" test "$CODE" = 200
cp "$RUN/body" "$RUN/metrics.txt"

if out=$(check_dash "$DASH" "$RUN/metrics.txt" 2>&1); then
	tap_ok "every metric the dashboard names is in the agent's /metrics (${out%%,*})"
else
	tap_not_ok "every metric the dashboard names is in the agent's /metrics" "$out"
fi
"$PY" - "$DASH" "$RUN/broken.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"][-1]["targets"][0]["expr"] = "rate(vh_vm_cpu_imaginary_seconds_total[5m])"
json.dump(d, open(sys.argv[2], "w"))
EOF
if check_dash "$RUN/broken.json" "$RUN/metrics.txt" >"$RUN/broken.out" 2>&1; then
	tap_not_ok "a dashboard naming a metric the agent lacks is refused" "$RUN/broken.out"
else
	tap_grep "a dashboard naming a metric the agent lacks is refused, naming it" \
		'vh_vm_cpu_imaginary_seconds_total is not in /metrics' "$RUN/broken.out"
fi

api DELETE '/v1/vms/spin?force=true'
agent_stops_cleanly
hv_stop

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
