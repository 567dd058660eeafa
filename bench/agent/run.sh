#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhagent benchmarks (not run by make check).  Usage:
#   bench/agent/run.sh BUILD-DIR [RUNS]
# BUILD-DIR is a release build (configure without --enable-sanitizers).
# Medians of RUNS runs (default 3) of:
#   - GET /v1/vms/{vm}/stats and GET /v1/vms with 100 VMs defined, keep-alive,
#     32 connections for 5 s: over the unix socket with bench/agent/uload
#     (wrk speaks TCP only) and over HTTPS with wrk -t2 -c32 --latency
#     (a viewer token in every request); requests/s and p99 latency;
#   - 1,000 POST /v1/vms one after another over one keep-alive libcurl
#     connection to the unix socket (bench/agent/ucreate), each definition
#     persisted and fsynced before its 201: the total time.
# Goals (issue "vhagent"): >= 20,000 requests/s and p99 < 5 ms for each
# GET on each transport; 1,000 creates in < 5 s.
set -eu
build=$(cd "${1:?build directory}" && pwd)
runs=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
for f in agent/vhagent hypervisor/hosted/vh-hosted hypervisor/hosted/vh-msg bench/agent/uload \
	bench/agent/ucreate tests/guests/spinner.elf; do
	[ -e "$build/$f" ] || { echo "run.sh: $build/$f is not built" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "run.sh: wrk is missing (package wrk)" >&2; exit 2; }
if grep -q '^SANITIZER_FLAGS = .*-fsanitize' "$build/Makefile"; then
	echo "run.sh: warning: $build is a sanitizer build; the figures will not be representative" >&2
fi
. "$src/bench/daemons.sh"
bench_daemons_init vh-agent-bench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# fresh: a new hypervisor and agent on an empty state folder.
fresh() {
	stop
	rm -rf "$work/state" "$work/logs"
	mkdir -p "$work/state/images" "$work/logs"
	cp "$build/tests/guests/spinner.elf" "$work/state/images/"
	VH_SOCKET=$work/vh.sock "$build/hypervisor/hosted/vh-hosted" --socket "$work/vh.sock" \
		--images "$work/state/images" --log-dir "$work/logs" --memory 2G --pcpus "$(nproc)" \
		>"$work/hv.log" 2>&1 &
	hv_pid=$!
	for _ in $(seq 100); do VH_SOCKET=$work/vh.sock "$build/hypervisor/hosted/vh-msg" host >/dev/null 2>&1 && break; sleep 0.05; done
	token=$("$build/agent/vhagent" --config /dev/null --state-dir "$work/state" token create bench --role viewer 2>/dev/null)
	"$build/agent/vhagent" --config /dev/null --state-dir "$work/state" --hypervisor-socket "$work/vh.sock" \
		--unix-socket "$work/agent.sock" --https-listen "127.0.0.1:$port" --socket-group "" \
		--log-level warning >"$work/agent.log" 2>&1 &
	agent_pid=$!
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/agent.sock" http://x/readyz)" = 200 ] && return 0
		sleep 0.05
	done
	echo "run.sh: the agent did not come up" >&2
	cat "$work/agent.log" >&2
	exit 1
}

# "RATE P99_MS" from uload or wrk output.
uload_fig() { awk '/^requests/ {r=$6} /^latency/ {p=$9} END {print r, p}'; }
wrk_fig() {
	awk '/Requests\/sec/ {r=$2}
	     $1 == "99%" {v=$2; u=v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
	                  p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v}
	     /Non-2xx/ {bad=$NF} END {print r, p, bad + 0}'
}

declare -A rate p99
for run in $(seq "$runs"); do
	fresh
	"$build/bench/agent/ucreate" --socket "$work/agent.sock" -n 100 --prefix vm --kernel spinner.elf >/dev/null
	for what in stats list; do
		path=/v1/vms/vm50/stats
		[ $what = list ] && path=/v1/vms
		read -r r p < <("$build/bench/agent/uload" --socket "$work/agent.sock" -c 32 -d 5 "$path" | uload_fig)
		rate[unix-$what]+="$r "
		p99[unix-$what]+="$p "
		read -r r p bad < <(wrk -t2 -c32 -d5s --latency -H "Authorization: Bearer $token" \
			"https://127.0.0.1:$port$path" | wrk_fig)
		[ "$bad" = 0 ] || { echo "run.sh: wrk saw $bad non-2xx responses on $path" >&2; exit 1; }
		rate[https-$what]+="$r "
		p99[https-$what]+="$p "
	done
	fresh
	t=$("$build/bench/agent/ucreate" --socket "$work/agent.sock" -n 1000 --prefix c --kernel spinner.elf |
		awk '{print $4}')
	rate[creates]+="$t "
	n=$(ls "$work/state/vms" | wc -l)
	[ "$n" = 1000 ] || { echo "run.sh: $n records persisted, not 1000" >&2; exit 1; }
done
stop

echo "vhagent, $(nproc) CPUs, medians of $runs runs (release build $build)"
for k in unix-stats https-stats unix-list https-list; do
	r=$(echo ${rate[$k]} | tr ' ' '\n' | median)
	p=$(echo ${p99[$k]} | tr ' ' '\n' | median)
	printf '%-12s %-26s %8.0f req/s  p99 %6.2f ms   (runs: %s/ %s)\n' "${k%%-*}" \
		"GET $([ "${k#*-}" = stats ] && echo '/v1/vms/{vm}/stats' || echo '/v1/vms (100 VMs)')" \
		"$r" "$p" "${rate[$k]}" "${p99[$k]}"
done
printf '1000 creates, one after another, persisted: %.2f s (runs: %s)\n' \
	"$(echo ${rate[creates]} | tr ' ' '\n' | median)" "${rate[creates]}"
