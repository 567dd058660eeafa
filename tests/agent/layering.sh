#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The agent's dependency arrows point down only (docs/agent.md, Files).
# The route table (router.c) and the resource handlers (res_*.c) are the
# top; every other file of agent/ (the transport, the protocol client and
# its shared reads, reconciliation, the metrics counters, vmutil.c, the
# modules without HTTP) is below them and may neither include
# resources.h nor name a vh_res_ function: a handler is reached only
# through the route table's pointers.  The transport's internals
# (http_internal.h, libmicrohttpd) stay in the transport's files, so a
# handler sees only http.h.  The checks are run on purpose-broken copies
# too, so they cannot pass silently.
. "${top_srcdir:?top_srcdir is not set}/tests/harness/tap.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/layering.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

TRANSPORT='listen.c authn.c request.c idem_http.c reply.c follow.c'

# below_router DIR: the files of DIR that are below the route table.
below_router() {
	for f in "$1"/*.c "$1"/*.h; do
		case ${f##*/} in
		router.c | res_*.c | resources.h) ;;
		*) [ -f "$f" ] && echo "$f" ;;
		esac
	done
}

# upcalls DIR: "file:line: text" for each include of resources.h or
# mention of a vh_res_ name below the route table; empty when clean.
upcalls() {
	below_router "$1" | while read -r f; do
		grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?resources\.h[">]|\bvh_res_[A-Za-z0-9_]+' \
			"$f" | sed "s|^|${f##*/}:|"
	done
}

# transport_leaks DIR: includes of http_internal.h or microhttpd.h
# outside the transport's files.
transport_leaks() {
	for f in "$1"/*.c "$1"/*.h; do
		n=${f##*/}
		case " $TRANSPORT http_internal.h " in
		*" $n "*) continue ;;
		esac
		grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?(http_internal|microhttpd)\.h[">]' \
			"$f" | sed "s|^|$n:|"
	done
}

tap_plan 7

AGENT="$top_srcdir/agent"
below=$(below_router "$AGENT" | wc -l)
# The list must hold the transport and the modules below the handlers,
# or a renamed tree would make every check below vacuous.
missing=
for f in $TRANSPORT vmutil.c hvconn.c hvquery.c reconcile.c metrics.c; do
	below_router "$AGENT" | grep -qx "$AGENT/$f" || missing="$missing $f"
done
if [ -z "$missing" ] && [ "$below" -gt 20 ]; then
	tap_ok "the files below the route table are found ($below)"
else
	tap_not_ok "the files below the route table are found ($below)" "missing:$missing"
fi

out=$(upcalls "$AGENT")
if [ -z "$out" ]; then
	tap_ok "nothing below the route table includes resources.h or names a vh_res_ function"
else
	tap_not_ok "nothing below the route table includes resources.h or names a vh_res_ function" "$out"
fi

out=$(transport_leaks "$AGENT")
if [ -z "$out" ]; then
	tap_ok "http_internal.h and microhttpd.h only in the transport ($TRANSPORT)"
else
	tap_not_ok "http_internal.h and microhttpd.h only in the transport ($TRANSPORT)" "$out"
fi

out=$(grep -nE 'vh_metrics_http_request' "$AGENT"/res_*.c)
if [ -z "$out" ]; then
	tap_ok "the request counters live below the handlers (metrics.c; res_metrics.c renders)"
else
	tap_not_ok "the request counters live below the handlers (metrics.c; res_metrics.c renders)" "$out"
fi

# Self-tests: each kind of upcall, planted in a copy of the tree, is
# reported with its file and line; the handlers and the route table may
# keep theirs.
mkdir "$work/agent"
cp "$AGENT"/*.c "$AGENT"/*.h "$work/agent/"
printf '#include "agent/resources.h"\n' >> "$work/agent/request.c"
printf 'static void f(struct vh_req *r) { vh_res_metrics(r); }\n' >> "$work/agent/hvconn.c"
printf 'void *p = vh_res_vm_get;\n' >> "$work/agent/reconcile.c"
out=$(upcalls "$work/agent")
if printf '%s\n' "$out" | grep -q '^request\.c:[0-9]*:#include "agent/resources.h"' &&
	printf '%s\n' "$out" | grep -q '^hvconn\.c:[0-9]*:.*vh_res_metrics' &&
	printf '%s\n' "$out" | grep -q '^reconcile\.c:[0-9]*:.*vh_res_vm_get'; then
	tap_ok "a planted include and calls below the route table are reported"
else
	tap_not_ok "a planted include and calls below the route table are reported" "got: $out"
fi
if printf '%s\n' "$out" | grep -qE '^(router|res_[a-z]+)\.c:|^resources\.h:'; then
	tap_not_ok "the route table and the handlers are not reported" "$out"
else
	tap_ok "the route table and the handlers are not reported"
fi

printf '#include <microhttpd.h>\n' >> "$work/agent/res_vms.c"
printf '#include "agent/http_internal.h"\n' >> "$work/agent/vmutil.c"
out=$(transport_leaks "$work/agent")
if printf '%s\n' "$out" | grep -q '^res_vms\.c:[0-9]*:#include <microhttpd.h>' &&
	printf '%s\n' "$out" | grep -q '^vmutil\.c:[0-9]*:#include "agent/http_internal.h"' &&
	! printf '%s\n' "$out" | grep -qE '^(listen|authn|request|idem_http|reply)\.c:'; then
	tap_ok "a planted transport include outside the transport is reported"
else
	tap_not_ok "a planted transport include outside the transport is reported" "got: $out"
fi

[ "$tap_failed" -eq 0 ]
