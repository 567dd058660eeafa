# SPDX-License-Identifier: Apache-2.0
# Helpers for the vh-hosted tests on /dev/kvm (sourced after tap.sh).
# Each test script runs its own daemon on a private socket, image and log
# directory under tests/kvm/runs/<name>, with its own memfd frame pool, and
# stops it on exit.  Without /dev/kvm the test fails loudly: skipping is
# not an option (see docs/ARCHITECTURE.md, Tests).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
# The daemon starts through tests/harness/agent-env.sh, which also sets
# VH_HOSTED (read at each start: a test may wrap it), VH_MSG and GUESTS.
. "$top_srcdir/tests/harness/agent-env.sh"

kvm_require() {
	agent_env_require_kvm "the hosted tests need KVM"
	agent_env_require_built "$VH_HOSTED" "$VH_MSG"
}

# kvm_setup NAME: a fresh run directory with the test guests as images.
kvm_setup() {
	RUN=$top_builddir/tests/kvm/runs/$1
	rm -rf "$RUN"
	mkdir -p "$RUN/images" "$RUN/logs"
	for g in "$GUESTS"/*.elf; do
		[ -f "$g" ] && cp "$g" "$RUN/images/"
	done
	SOCK=$RUN/vh.sock
	export VH_SOCKET=$SOCK
	DAEMON_PID=
	trap kvm_cleanup EXIT
}

# kvm_start [vh-hosted options...]: starts the daemon (a fresh
# daemon.log), waits until it answers.
kvm_start() {
	: >"$RUN/daemon.log"
	agent_env_hv_launch "$RUN/daemon.log" "$SOCK" "$RUN/images" "$RUN/logs" 256M "$@"
	DAEMON_PID=$AGENT_ENV_HV_PID
	agent_env_hv_wait "$RUN/daemon.log" "$DAEMON_PID" "$SOCK"
}

# kvm_stop: SIGTERM, wait; returns the daemon's exit status.
kvm_stop() {
	agent_env_stop DAEMON_PID
}

kvm_cleanup() {
	if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
}

# msg ARGS...: vh-msg, output kept in $OUT (stdout and stderr).
msg() {
	OUT=$("$VH_MSG" "$@" 2>&1)
}

# field KEY: the value of "KEY: value" in $OUT.
field() {
	printf '%s\n' "$OUT" | sed -n "s/^$1: //p" | head -1
}

# console VM: the VM's console log (CRs removed).
console() {
	tr -d '\r' 2>/dev/null < "$RUN/logs/$1.log"
}

# wait_console VM REGEX SECONDS: until the VM's console matches.
wait_console() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		if console "$1" | grep -Eq -- "$2"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# stat_of VM KEY: one counter of VM_STATS.
stat_of() {
	"$VH_MSG" stats "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -1
}
