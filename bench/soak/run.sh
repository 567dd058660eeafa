#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Soak of vh-hosted and vhagent (bench/README.md, "Soak"; run by make
# bench, never by make check: tests/agent/soak.sh is its one-minute form).
#   bench/soak/run.sh BUILD-DIR [SECONDS [WORKERS [soak.py options...]]]
# A fresh vh-hosted (2 pCPUs, 512 MiB) and agent on a private state folder;
# bench/soak/soak.py drives them over the agent's unix socket for SECONDS
# (300) with WORKERS (4) create/start/stats/stop/delete loops and a
# poller, samples both daemons each second and prints the summary.  The
# exit status is soak.py's --check: 0 when no request failed, fds and
# threads came back to the baseline and RSS stayed flat.
set -eu
build=$(cd "${1:?build directory}" && pwd)
seconds=${2:-300}
workers=${3:-4}
shift $(($# < 3 ? $# : 3))
src=$(cd "$(dirname "$0")/../.." && pwd)
for f in agent/vhagent hypervisor/hosted/vh-hosted hypervisor/hosted/vh-msg tests/guests/spinner.elf; do
	[ -e "$build/$f" ] || { echo "soak: $build/$f is not built" >&2; exit 2; }
done
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "soak: /dev/kvm is missing or not read-writable" >&2; exit 2; }
if grep -q '^SANITIZER_FLAGS = .*-fsanitize' "$build/Makefile"; then
	# ASan's quarantine of freed blocks would read as growth for minutes.
	echo "soak: $build is a sanitizer build: ASan's quarantine is turned off for the daemons" >&2
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
fi
. "$src/bench/daemons.sh"
bench_daemons_init vh-soak
mkdir -p "$work/state/images" "$work/logs"
"$build/hypervisor/hosted/vh-hosted" --socket "$work/vh.sock" --images "$work/state/images" \
	--log-dir "$work/logs" --memory 512M --pcpus 2 >"$work/hv.log" 2>&1 &
hv_pid=$!
for _ in $(seq 100); do
	VH_SOCKET=$work/vh.sock "$build/hypervisor/hosted/vh-msg" host >/dev/null 2>&1 && break
	sleep 0.05
done
"$build/agent/vhagent" --config /dev/null --state-dir "$work/state" --hypervisor-socket "$work/vh.sock" \
	--unix-socket "$work/agent.sock" --https-listen none --socket-group "" --log-level warning \
	>"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/agent.sock" http://x/readyz)" = 200 ] && break
	sleep 0.05
done
# The guest goes in as an image through the API, as an operator would.
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/agent.sock" \
	-H 'Content-Type: application/octet-stream' \
	-T "$build/tests/guests/spinner.elf" http://x/v1/images/spinner.elf)
[ "$code" = 201 ] || { echo "soak: the image upload answered $code" >&2; cat "$work/agent.log" >&2; exit 1; }
echo "soak: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $seconds s, $workers workers"
rc=0
python3 "$src/bench/soak/soak.py" --socket "$work/agent.sock" --pid "vh-hosted=$hv_pid" \
	--pid "vhagent=$agent_pid" --image spinner.elf --seconds "$seconds" --workers "$workers" \
	--check "$@" || rc=$?
stop
exit $rc
