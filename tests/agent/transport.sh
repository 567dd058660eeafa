#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhagent's transport under attack, against agents with no hypervisor
# behind them (/healthz answers without one; no /dev/kvm needed):
# - idle connections timed out and then closed by the client leave no
#   socket in CLOSE-WAIT and no worker spinning;
# - TLS: 1.0 and 1.1 refused, CBC/SHA-1 suites and RSA key transport
#   refused, TLS 1.2 with ECDHE and GCM and TLS 1.3 accepted
#   (tls_priorities, with its default), checked with openssl s_client;
# - the certificate made at first start is a year-long leaf (CA:FALSE,
#   serverAuth, the loopback names) that curl, vhctl and Python's ssl
#   (as the Ansible modules use it) accept pinned; renewed at a start near
#   its end when the agent made it, an operator's left alone;
# - slowloris: 256 connections from 127.0.0.2..6 dripping a TLS
#   ClientHello and 4 dripping HTTP headers for 15 s, while /healthz is
#   asked from 127.0.0.1 every 0.5 s: each answer comes within a second
#   (max_connections_per_ip), and the dripping connections are closed at
#   request_header_timeout_s.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/harness/agent-env.sh"

CURL=${CURL_BIN:-}
PY=$AGENT_ENV_PY
VHCTL=$top_builddir/cli/vhctl
agent_env_require_built "$VHAGENT" "$VHCTL"
for tool in "$CURL" "$PY" "$(command -v openssl)" "$(command -v ss)"; do
	if [ -z "$tool" ] || [ ! -x "$tool" ]; then
		echo "Bail out! curl, python3, openssl (the command) and ss (iproute2) are needed"
		exit 1
	fi
done

RUN=$top_builddir/tests/agent/runs/transport
rm -rf "$RUN"
mkdir -p "$RUN"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done' EXIT

# start NAME STATE [vhagent options...]: an agent on a free port (PORT)
# with its unix socket in RUN; waits for /healthz; its pid in PID.
start() {
	local name=$1 state=$2
	shift 2
	PORT=$(agent_env_free_port)
	agent_env_agent_launch "$RUN/$name.log" "$state" "$RUN/no-hypervisor.sock" \
		"$RUN/$name.sock" "$PORT" "$@"
	PID=$AGENT_ENV_AGENT_PID
	PIDS+=("$PID")
	agent_env_agent_wait "$RUN/$name.log" "$PID" "$RUN/$name.sock" /healthz
}
stop() {
	kill -TERM "$PID"
	wait "$PID"
}
healthz() { # CACERT [HOST]: the status of GET /healthz over HTTPS
	"$CURL" -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$1" \
		"https://${2:-localhost}:$PORT/healthz"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# ---- timed-out connections: no CLOSE-WAIT, no spinning worker -----------------------
mkdir -p "$RUN/a"
start a "$RUN/a" --connection-timeout-s 1 --threads 2
CERT=$RUN/a/tls/cert.pem
"$PY" - "$PORT" <<'EOF'
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(20)]
time.sleep(2.5)  # past connection_timeout_s
for c in conns:
    c.close()
EOF
sleep 0.5
n=$(ss -Htn state close-wait "( sport = :$PORT )" | wc -l)
check_cw="20 idle connections timed out, then closed by the client: none left in CLOSE-WAIT ($n)"
if [ "$n" = 0 ]; then tap_ok "$check_cw"; else tap_not_ok "$check_cw" "$(ss -tn "( sport = :$PORT )")"; fi
t0=$(cpu_ticks "$PID")
sleep 2
t1=$(cpu_ticks "$PID")
ticks=$((t1 - t0))
if [ "$ticks" -le 20 ]; then
	tap_ok "... and the agent is idle after it ($ticks CPU ticks in 2 s)"
else
	tap_not_ok "... and the agent is idle after it ($ticks CPU ticks in 2 s)" "a worker spins"
fi
code=$(healthz "$CERT")
if [ "$code" = 200 ]; then tap_ok "... and /healthz answers"; else tap_not_ok "... and /healthz answers" "HTTP $code"; fi

# ---- TLS versions and suites ------------------------------------------------------------
# tls_try WANT DESC [s_client options...]: WANT accept|refuse.
tls_try() {
	local want=$1 desc=$2 got=refuse
	shift 2
	if openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -CAfile "$TRUST" \
		"$@" </dev/null >"$RUN/s_client.txt" 2>&1 && grep -q 'Cipher is ' "$RUN/s_client.txt" &&
		! grep -q 'Cipher is (NONE)' "$RUN/s_client.txt"; then
		got=accept
	fi
	if [ "$got" = "$want" ]; then
		tap_ok "$desc: $got"
	else
		tap_not_ok "$desc: $got, want $want" "$(grep -E 'Protocol|Cipher|alert|error' "$RUN/s_client.txt" | head -5)"
	fi
}
TRUST=$CERT
# OpenSSL 3's client offers TLS 1.0/1.1 and SHA-1 suites only at level 0.
tls_try refuse "TLS 1.0" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
tls_try refuse "TLS 1.1" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
tls_try refuse "TLS 1.2 ECDHE-ECDSA-AES128-SHA (CBC, SHA-1 MAC)" -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0'
tls_try refuse "TLS 1.2 ECDHE-ECDSA-AES256-SHA384 (CBC)" -tls1_2 -cipher 'ECDHE-ECDSA-AES256-SHA384'
tls_try accept "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256" -tls1_2 -cipher 'ECDHE-ECDSA-AES128-GCM-SHA256'
tls_try accept "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305" -tls1_2 -cipher 'ECDHE-ECDSA-CHACHA20-POLY1305'
tls_try accept "TLS 1.3" -tls1_3

# ---- the certificate made at first start ----------------------------------------------
openssl x509 -in "$CERT" -noout -text >"$RUN/cert.txt"
tap_grep "made certificate: CA:FALSE (critical)" 'CA:FALSE' "$RUN/cert.txt"
if grep -q 'Certificate Sign' "$RUN/cert.txt"; then
	tap_not_ok "... keyUsage digitalSignature only (no keyCertSign)" "$(grep -A1 'Key Usage' "$RUN/cert.txt")"
else
	tap_grep "... keyUsage digitalSignature only (no keyCertSign)" '^ +Digital Signature$' "$RUN/cert.txt"
fi
tap_grep "... extendedKeyUsage serverAuth" '^ +TLS Web Server Authentication$' "$RUN/cert.txt"
tap_grep "... subjectAltName localhost, 127.0.0.1, ::1" 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' "$RUN/cert.txt"
if openssl x509 -in "$CERT" -noout -checkend $((360 * 86400)) >/dev/null &&
	! openssl x509 -in "$CERT" -noout -checkend $((370 * 86400)) >/dev/null; then
	tap_ok "... valid for a year"
else
	tap_not_ok "... valid for a year" "$(grep -A2 Validity "$RUN/cert.txt")"
fi
code=$(healthz "$CERT")
code2=$(healthz "$CERT" 127.0.0.1)
if [ "$code/$code2" = 200/200 ]; then tap_ok "curl --cacert accepts it (localhost, 127.0.0.1)"; else tap_not_ok "curl --cacert accepts it" "$code/$code2"; fi
out=$("$PY" - "$PORT" "$CERT" <<'EOF' 2>&1
import ssl, sys, urllib.request
for strict in (False, True):
    for host in ("localhost", "127.0.0.1"):
        ctx = ssl.create_default_context(cafile=sys.argv[2])  # as module_utils/vh_api.py
        if strict:
            ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        urllib.request.urlopen("https://%s:%s/healthz" % (host, sys.argv[1]), context=ctx, timeout=5)
EOF
)
tap_check "Python's ssl (as the Ansible modules), also with VERIFY_X509_STRICT, accepts it" test -z "$out" -a $? = 0
ADMIN=$("$VHAGENT" --config /dev/null --state-dir "$RUN/a" token create t --role admin 2>/dev/null)
out=$("$VHCTL" --url "https://localhost:$PORT" --cacert "$CERT" --token "$ADMIN" -o json token list 2>&1)
tap_check "vhctl (libcurl) --cacert accepts it" grep -q '"name": *"t"' <<<"$out"
stop

# A near-expiry certificate the agent made (its key, its marker): renewed.
key_before=$(sha256sum <"$RUN/a/tls/key.pem")
openssl req -x509 -key "$RUN/a/tls/key.pem" -subj /CN=localhost -days 1 -out "$CERT" 2>/dev/null
start a "$RUN/a"
tap_grep "a made certificate a day from its end is renewed at start" 'made anew for the same key' "$RUN/a.log"
if openssl x509 -in "$CERT" -noout -checkend $((360 * 86400)) >/dev/null &&
	[ "$(sha256sum <"$RUN/a/tls/key.pem")" = "$key_before" ] && [ "$(healthz "$CERT")" = 200 ]; then
	tap_ok "... for another year, same key, served"
else
	tap_not_ok "... for another year, same key, served" "$(openssl x509 -in "$CERT" -noout -enddate)"
fi
stop

# An operator's RSA certificate a day from its end: left alone; RSA key
# transport and ECDHE-RSA CBC refused, ECDHE-RSA GCM accepted.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/rsa.key" -out "$RUN/rsa.pem" -days 1 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
cp "$RUN/rsa.pem" "$RUN/rsa.orig"
mkdir -p "$RUN/b"
start b "$RUN/b" --tls-cert "$RUN/rsa.pem" --tls-key "$RUN/rsa.key"
tap_check "an operator's certificate near its end is not touched" cmp "$RUN/rsa.pem" "$RUN/rsa.orig"
TRUST=$RUN/rsa.pem
tls_try refuse "RSA certificate: TLS 1.2 ECDHE-RSA-AES128-SHA" -tls1_2 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
tls_try refuse "RSA certificate: TLS 1.2 AES128-GCM-SHA256 (RSA key transport)" -tls1_2 -cipher 'AES128-GCM-SHA256'
tls_try accept "RSA certificate: TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256" -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256'
stop

# tls_priorities is the operator's to set; a bad one stops the start with the reason.
start b "$RUN/b" --tls-cert "$RUN/rsa.pem" --tls-key "$RUN/rsa.key" --tls-priorities 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
tls_try refuse "tls_priorities set to TLS 1.3 only: TLS 1.2 GCM" -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256'
stop
if timeout 10 "$VHAGENT" --config /dev/null --state-dir "$RUN/b" --hypervisor-socket "$RUN/no-hypervisor.sock" \
	--unix-socket none --https-listen "127.0.0.1:$PORT" --tls-priorities 'NORMAL:+NO-SUCH' \
	>"$RUN/bad.log" 2>&1; then
	tap_not_ok "a tls_priorities GnuTLS refuses: the agent does not start" "$RUN/bad.log"
else
	tap_grep "a tls_priorities GnuTLS refuses: the agent does not start, saying where" 'tls_priorities .*at "\+NO-SUCH' "$RUN/bad.log"
fi

# ---- slowloris ------------------------------------------------------------------------------
mkdir -p "$RUN/s"
HTTP_PORT=$(agent_env_free_port)
start s "$RUN/s" --http-listen "127.0.0.1:$HTTP_PORT"
"$PY" "$top_srcdir/tests/agent/slowloris.py" --port "$PORT" --http-port "$HTTP_PORT" \
	--cacert "$RUN/s/tls/cert.pem" --curl "$CURL" --duration 15 >"$RUN/slowloris.json"
res() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$RUN/slowloris.json"; }
desc="slowloris (256 TLS + 4 HTTP drips, 15 s): every /healthz from 127.0.0.1 answered within 1 s"
if [ "$(res "j['probes'] >= 20 and j['probe_failed'] == 0 and j['probe_worst_s'] < 1.0")" = True ]; then
	tap_ok "$desc ($(res "j['probes']") probes, worst $(res "j['probe_worst_s']") s)"
else
	tap_not_ok "$desc" "$RUN/slowloris.json"
fi
desc="... the dripping TLS connections are closed at request_header_timeout_s (10 s)"
if [ "$(res "j['cut'] >= 100 and 9.5 <= j['cut_min_s'] and j['cut_max_s'] <= 11.5 and j['alive_oldest_s'] <= 11.5")" = True ]; then
	tap_ok "$desc ($(res "j['cut']") closed after $(res "j['cut_min_s']")..$(res "j['cut_max_s']") s)"
else
	tap_not_ok "$desc" "$RUN/slowloris.json"
fi
desc="... and so are the HTTP connections dripping headers"
if [ "$(res "j['http_cut'] == 4 and 9.5 <= j['http_cut_min_s'] and j['http_cut_max_s'] <= 11.5")" = True ]; then
	tap_ok "$desc ($(res "j['http_cut_min_s']")..$(res "j['http_cut_max_s']") s)"
else
	tap_not_ok "$desc" "$RUN/slowloris.json"
fi
stop
tap_check "... and the agent stops cleanly afterwards (no leak under the sanitizers)" test $? = 0
# libmicrohttpd logs each refused connection; a flood of them must cost
# the log a few lines a window (listen.c on_log), not one per connection.
mhd_lines=$(grep -c 'libmicrohttpd: ' "$RUN/s.log")
if [ "$mhd_lines" -le 60 ] && grep -q 'libmicrohttpd: [0-9]* messages held back' "$RUN/s.log"; then
	tap_ok "the flood's libmicrohttpd messages are bounded in the log ($mhd_lines lines, the rest counted as held back)"
else
	tap_not_ok "the flood's libmicrohttpd messages are bounded in the log ($mhd_lines lines)" \
		"$(grep 'libmicrohttpd: ' "$RUN/s.log" | sort | uniq -c | sort -rn | head)"
fi

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
