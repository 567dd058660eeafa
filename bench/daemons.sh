# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmarks that start their own vh-hosted and vhagent
# (bench/agent/run.sh, bench/soak/run.sh): a private work folder under
# /tmp (PREFIX given) in $work, the daemons' pids in $hv_pid and
# $agent_pid, and stop, which ends both (the agent first) and forgets
# them.  Both are stopped and the folder removed at exit.
bench_daemons_init() { # PREFIX
	work=$(mktemp -d "/tmp/$1.XXXXXX")
	hv_pid=
	agent_pid=
	trap 'stop; rm -rf "$work"' EXIT
}

stop() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$hv_pid" ] && kill "$hv_pid" 2>/dev/null && wait "$hv_pid" 2>/dev/null
	agent_pid=
	hv_pid=
}
