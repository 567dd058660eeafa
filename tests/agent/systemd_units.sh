#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units in packaging/systemd: `systemd-analyze verify` accepts
# them with not a single warning (a unit that only parses with "ignoring"
# lines fails here), they carry what the agent relies on (Type=notify,
# the watchdog, reload by SIGHUP, the two sockets named "unix" and
# "https", /dev/kvm for vh-hosted), and `systemd-analyze security
# --offline=true` rates each service; the scores are printed and must stay
# at 3.0 or below ("OK" is below 5).  The units are checked as installed,
# with ExecStart pointing at the binaries of this build (verify requires
# an executable there).
. "$top_srcdir/tests/harness/tap.sh"
set -u

UNITS=$top_srcdir/packaging/systemd
SA=$(command -v systemd-analyze || true)
if [ -z "$SA" ]; then
	echo "Bail out! systemd-analyze is missing (Debian package systemd, see packaging/debian-packages.txt)"
	exit 1
fi
VHAGENT=$top_builddir/agent/vhagent
VHHOSTED=$top_builddir/hypervisor/hosted/vh-hosted
for b in "$VHAGENT" "$VHHOSTED"; do
	if [ ! -x "$b" ]; then
		echo "Bail out! $b is not built"
		exit 1
	fi
done
RUN=$top_builddir/tests/agent/runs/systemd-units
rm -rf "$RUN"
mkdir -p "$RUN/units"
for f in vhagent.service vhagent.socket vhagent-https.socket vh-hosted.service; do
	sed -e "s#/usr/sbin/vhagent #$VHAGENT #" -e "s#/usr/sbin/vh-hosted #$VHHOSTED #" \
		"$UNITS/$f" >"$RUN/units/$f"
done

tap_plan 20

# verify_clean DESC UNIT...: rc 0 and no output at all.
verify_clean() {
	local desc=$1 out rc
	shift
	out=$(cd "$RUN/units" && "$SA" verify "$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "exit $rc" "$out"
	fi
}

verify_clean "systemd-analyze verify: the four units together, no warning" \
	./vhagent.service ./vhagent.socket ./vhagent-https.socket ./vh-hosted.service
grep -q "^ExecStart=$VHAGENT --config /etc/vh/agent.conf\$" "$RUN/units/vhagent.service" &&
	grep -q "^ExecStart=$VHHOSTED --socket /run/vh/vh.sock " "$RUN/units/vh-hosted.service" &&
	tap_ok "the verified copies run this build's vhagent and vh-hosted" ||
	tap_not_ok "the verified copies run this build's vhagent and vh-hosted" "$RUN/units/vhagent.service"

# The checker itself: a unit with a misspelt key or value must not pass.
printf '[Service]\nExecStart=/bin/true\nTyp=notify\n' >"$RUN/units/bad-key.service"
sed 's/^Type=notify$/Type=notifyy/' "$RUN/units/vhagent.service" >"$RUN/units/bad-type.service"
for bad in bad-key bad-type; do
	out=$(cd "$RUN/units" && "$SA" verify ./$bad.service ./vhagent.socket ./vhagent-https.socket 2>&1)
	if [ -n "$out" ]; then
		tap_ok "verify reports a broken unit ($bad)"
	else
		tap_not_ok "verify reports a broken unit ($bad)" "no output"
	fi
done

# unit_has DESC FILE LINE: the exact line is in the unit.
unit_has() {
	if grep -qxF -- "$3" "$UNITS/$2"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "no line \"$3\" in $2"
	fi
}
unit_has "vhagent.service: Type=notify" vhagent.service "Type=notify"
unit_has "vhagent.service: notifications from the main process only" vhagent.service "NotifyAccess=main"
unit_has "vhagent.service: a watchdog" vhagent.service "WatchdogSec=30s"
unit_has "vhagent.service: reload is SIGHUP" vhagent.service 'ExecReload=/bin/kill -HUP $MAINPID'
unit_has "vhagent.service: writes only its state and run folders" vhagent.service "ReadWritePaths=/var/lib/vh /run/vh"
unit_has "vhagent.socket: /run/vh/agent.sock" vhagent.socket "ListenStream=/run/vh/agent.sock"
unit_has "vhagent.socket: named unix" vhagent.socket "FileDescriptorName=unix"
unit_has "vhagent.socket: root and group vh, mode 0660" vhagent.socket "SocketMode=0660"
unit_has "vhagent-https.socket: port 8443" vhagent-https.socket "ListenStream=8443"
unit_has "vhagent-https.socket: named https" vhagent-https.socket "FileDescriptorName=https"
if grep -qxF "Service=vhagent.service" "$UNITS/vhagent.socket" &&
	grep -qxF "Service=vhagent.service" "$UNITS/vhagent-https.socket"; then
	tap_ok "both sockets start vhagent.service"
else
	tap_not_ok "both sockets start vhagent.service"
fi
unit_has "vh-hosted.service: /dev/kvm only" vh-hosted.service "DeviceAllow=/dev/kvm rw"
unit_has "vh.sysusers: the vh group" vh.sysusers "g vh -"

# Exposure scores (0 = locked down, 10 = unsandboxed).  Socket units have
# no process of their own: only services are rated.
for svc in vhagent.service vh-hosted.service; do
	out=$(cd "$RUN/units" && "$SA" security --offline=true --no-pager ./$svc 2>&1)
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security --offline=true $svc: $score"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
		tap_ok "$svc: exposure $score (at most 3.0)"
	else
		tap_not_ok "$svc: exposure ${score:-unknown} (at most 3.0)" "$(printf '%s\n' "$out" | grep '✗')"
	fi
done

# The exposure check itself: an unsandboxed unit scores high.
printf '[Service]\nExecStart=/bin/true\n' >"$RUN/units/bare.service"
score=$(cd "$RUN/units" && "$SA" security --offline=true --no-pager ./bare.service 2>&1 |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s > 9.0) }'; then
	tap_ok "an unsandboxed unit scores $score (the rating discriminates)"
else
	tap_not_ok "an unsandboxed unit scores ${score:-unknown}"
fi
if [ "$tap_failed" -eq 0 ]; then
	rm -rf "$RUN"
fi
[ "$tap_failed" -eq 0 ]
