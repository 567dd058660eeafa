#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhagent under systemd's protocols, without systemd as PID 1:
# systemd-socket-activate passes both listening sockets (FileDescriptorName
# unix and https, as packaging/systemd's units do), and a notify socket
# made here receives what Type=notify expects: READY=1 with STATUS=,
# WATCHDOG=1 at least every half WATCHDOG_USEC, RELOADING=1 on SIGHUP,
# STOPPING=1 on SIGTERM.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
ACTIVATE=$(command -v systemd-socket-activate) || {
	echo "Bail out! systemd-socket-activate is missing (package systemd)"
	exit 1
}
agent_setup sd_activation
hv_start
NOTIFY=$RUN/notify.sock
"$PY" - "$NOTIFY" "$RUN/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        for line in msg.split("\n"):
            if line:
                log.write(line + "\n")
EOF
listener=$!
for _ in $(seq 1 100); do [ -S "$NOTIFY" ] && break; sleep 0.05; done
trap 'kill $listener 2>/dev/null; agent_cleanup' EXIT

# systemd-socket-activate listens and starts the agent at the first
# connection, handing it both sockets (fds 3 and 4) by name.
"$ACTIVATE" -l "$ASOCK" -l "127.0.0.1:$PORT" --fdname=unix:https \
	-E NOTIFY_SOCKET="$NOTIFY" -E WATCHDOG_USEC=400000 \
	"$VHAGENT" --config /dev/null --state-dir "$STATE" --hypervisor-socket "$HVSOCK" \
	--unix-socket "$RUN/not-this.sock" --https-listen "127.0.0.1:1" --socket-group "" \
	>>"$RUN/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
api GET /healthz
check "the unix socket passed by systemd serves" test "$CODE" = 200
check "... and the agent made no socket of its own" test ! -e "$RUN/not-this.sock"
for _ in $(seq 1 100); do [ -s "$STATE/tls/cert.pem" ] && break; sleep 0.05; done
tls GET /healthz
check "the HTTPS socket passed by systemd serves (not the configured port)" test "$CODE" = 200
for _ in $(seq 1 40); do grep -q '^READY=1' "$RUN/notify.log" 2>/dev/null && break; sleep 0.05; done
tap_grep "READY=1 sent" '^READY=1$' "$RUN/notify.log"
tap_grep "STATUS= says what it does" '^STATUS=serving' "$RUN/notify.log"
sleep 1
n=$(grep -c '^WATCHDOG=1$' "$RUN/notify.log")
check "WATCHDOG=1 at half the interval ($n pings in about a second; 400 ms interval)" test "$n" -ge 4
kill -HUP "$AGENT_PID"
sleep 0.3
tap_grep "RELOADING=1 on SIGHUP" '^RELOADING=1$' "$RUN/notify.log"
check "... and READY=1 again after it" test "$(grep -c '^READY=1$' "$RUN/notify.log")" -ge 2
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
rc=$?
AGENT_PID=
check "SIGTERM: exits 0" test $rc = 0
tap_grep "STOPPING=1 on SIGTERM" '^STOPPING=1$' "$RUN/notify.log"
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
