#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhagent driven with curl against a real vh-hosted: images with curl -T
# and a SHA-256, Prometheus metrics through promtool, HTTPS with the
# self-signed certificate made at first start, bearer tokens made with
# `vhagent token` (roles, revocation), client certificates, /readyz while
# the hypervisor is down, plain HTTP only on loopback, SIGHUP, SIGTERM,
# and the route table against api/openapi.yaml.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
if [ -z "${PROMTOOL:-}" ] || [ ! -x "$PROMTOOL" ]; then
	echo "Bail out! promtool is missing (configure did not find it): install prometheus"
	exit 1
fi
command -v openssl >/dev/null || { echo "Bail out! the openssl command is missing"; exit 1; }
agent_setup curl_api
printf 'max_body_bytes = 1048576\n' >"$RUN/agent.conf"
hv_start
agent_start --config "$RUN/agent.conf"
SPIN=$GUESTS/spinner.elf
SHA=$(sha256sum "$SPIN" | cut -d' ' -f1)

# ---- the route table is the contract's ------------------------------------------
"$VHAGENT" --routes >"$RUN/routes.txt"
if out=$("$PY" "$top_srcdir/api/lint-openapi" --routes "$RUN/routes.txt" "$top_srcdir/api/openapi.yaml" 2>&1); then
	tap_ok "vhagent --routes matches api/openapi.yaml operation for operation"
else
	tap_not_ok "vhagent --routes matches api/openapi.yaml operation for operation" "$out"
fi

# ---- images with curl -T ----------------------------------------------------------
api PUT "/v1/images/up.elf?sha256=$SHA" -T "$SPIN"
check "curl -T with the right SHA-256: 201, the digest reported" \
	test "$CODE" = 201 -a "$(json "j['sha256']")" = "$SHA" -a "$(json "j['size']")" = "$(stat -c %s "$SPIN")"
check "the upload is in the hypervisor's images folder, byte for byte" cmp -s "$SPIN" "$STATE/images/up.elf"
api PUT "/v1/images/up.elf" -T "$SPIN" -H "X-Checksum-Sha256: $SHA"
check "again with the digest as a header: 200 (replaced)" test "$CODE" = 200
api PUT "/v1/images/bad.elf?sha256=$(printf '%064d' 0)" -T "$SPIN"
check "a wrong SHA-256: 422 checksum_mismatch, field sha256" \
	test "$CODE" = 422 -a "$(json "j['code']")" = checksum_mismatch -a "$(json "j['field']")" = sha256
check "a refused upload leaves no file, not even a temporary one" \
	test -z "$(ls -A "$STATE/images" | grep -v -e '\.elf$' -e '^\.meta$')" -a ! -e "$STATE/images/bad.elf"
api GET /v1/images
check "GET /v1/images lists it with its digest" test "$(json "[i['sha256'] for i in j['items'] if i['name']=='up.elf'][0]")" = "$SHA"
define img-user up.elf
check "a VM booting from it is defined" test "$CODE" = 201
api DELETE /v1/images/up.elf
check "DELETE of an image in use: 409 naming the VM" \
	test "$CODE" = 409 -a "$(json "j['field']")" = name -a "$(json "'img-user' in j['detail']")" = True
api DELETE /v1/vms/img-user
api DELETE /v1/images/up.elf
check "once unused it goes: 204, and the file is gone" test "$CODE" = 204 -a ! -e "$STATE/images/up.elf"

# ---- a Linux kernel with an initrd; bad images refused at power-on ------------------------
api PUT /v1/images/bz.img -T "$GUESTS/bzimage.img"
printf 'APIINITR and the rest: Y' >"$RUN/rd.img"
api PUT /v1/images/rd.img -T "$RUN/rd.img"
api POST /v1/vms -d '{"name":"lx","memory_mib":16,"boot":{"kernel":"bz.img","initrd":"rd.img","cmdline":"console=ttyS0 api=1"}}'
check "boot.kernel, boot.initrd and boot.cmdline define a Linux VM (boot.kind auto)" \
	test "$CODE" = 201 -a "$(json "j['boot']['initrd']")" = rd.img -a "$(json "j['boot']['kind']")" = auto
api PUT /v1/vms/lx/power -d '{"state":"running"}'
for _ in $(seq 1 100); do
	api GET /v1/vms/lx
	[ "$(json "j['state']")" = stopped ] && break
	sleep 0.1
done
check "the bzImage ran and stopped itself: the initrd's bytes reached it" \
	grep -q 'bz: initrd 0000000000000018 bytes \[APIINITR\] last 59$' "$RUN/logs/lx.log"
check "... and its command line" grep -q 'bz: cmdline \[console=ttyS0 api=1\]' "$RUN/logs/lx.log"
head -c 1200 "$GUESTS/bzimage.img" >"$RUN/short.img"
api PUT /v1/images/short.img -T "$RUN/short.img"
define lxbad short.img
api PUT /v1/vms/lxbad/power -d '{"state":"running"}'
check "a truncated bzImage: power-on refused (422, field boot.kernel) with the reason" \
	test "$CODE" = 422 -a "$(json "j['field']")" = boot.kernel -a \
	"$(json "'bzImage truncated' in j['detail']")" = True
api GET /v1/vms/lxbad
check "... and the VM is unchanged (defined, boot generation 0)" \
	test "$(json "j['state']")" = defined -a "$(json "j['boot_generation']")" = 0
api POST /v1/vms -d '{"name":"lxrd","memory_mib":16,"boot":{"kernel":"bz.img","initrd":"missing.img"}}'
check "an initrd that is not an image: 422 naming boot.initrd" \
	test "$CODE" = 422 -a "$(json "j['field']")" = boot.initrd
api DELETE /v1/vms/lx
api DELETE /v1/vms/lxbad

# ---- metrics --------------------------------------------------------------------------
define m1
api PUT /v1/vms/m1/power -H 'Content-Type: application/json' -d '{"state":"running"}'
sleep 0.3
"$CURL" -s --unix-socket "$ASOCK" http://localhost/metrics >"$RUN/metrics.txt"
if out=$("$PROMTOOL" check metrics <"$RUN/metrics.txt" 2>&1) && [ -z "$out" ]; then
	tap_ok "promtool check metrics: clean"
else
	tap_not_ok "promtool check metrics: clean" "$out"
fi
tap_grep "a running VM's CPU time in seconds" '^vh_vm_cpu_used_seconds_total\{vm="m1",uuid="[0-9a-f-]{36}"\} [0-9.]+$' "$RUN/metrics.txt"
tap_grep "exits by reason" '^vh_vm_exits_total\{vm="m1",uuid="[0-9a-f-]{36}",reason="io"\} [1-9][0-9]*$' "$RUN/metrics.txt"
tap_grep "memory in bytes" '^vh_vm_memory_granted_bytes\{vm="m1",uuid="[0-9a-f-]{36}"\} [0-9]+$' "$RUN/metrics.txt"
tap_grep "the host" '^vh_host_cpu_capacity_hertz [1-9][0-9]*$' "$RUN/metrics.txt"
tap_grep "the agent's own requests by code and method" '^vh_agent_http_requests_total\{method="PUT",code="200"\} [1-9]' "$RUN/metrics.txt"

# ---- state-changing requests need application/json --------------------------------
# A browser sends these cross-site without a preflight: no type, text/plain, a form.
for ct in '' 'text/plain' 'application/x-www-form-urlencoded'; do
	CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -X POST \
		-H "Content-Type:$ct" ${ct:+-d x=1} http://localhost/v1/vms/m1/reset)
	BODY=$(cat "$RUN/body")
	check "POST /v1/vms/m1/reset with Content-Type '$ct': 415 naming application/json" \
		test "$CODE" = 415 -a "$(json "j['field']")" = Content-Type -a "$(json "'application/json' in j['detail']")" = True
done
CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -X DELETE http://localhost/v1/vms/m1)
BODY=$(cat "$RUN/body")
check "DELETE without a Content-Type: 415, and the VM stays" test "$CODE" = 415
CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -T "$SPIN" http://localhost/v1/images/plain.elf)
BODY=$(cat "$RUN/body")
check "curl -T without Content-Type: application/octet-stream: 415" test "$CODE" = 415 -a ! -e "$STATE/images/plain.elf"
api POST /v1/vms/m1/reset
check "with application/json and no body: reset (200)" test "$CODE" = 200 -a "$(json "j['boot_generation']")" = 2

# ---- HTTPS and tokens -------------------------------------------------------------------
check "a key and a self-signed certificate were made at first start (key mode 0600)" \
	test -s "$STATE/tls/cert.pem" -a "$(stat -c %a "$STATE/tls/key.pem")" = 600
tls GET /healthz
check "HTTPS with --cacert <state>/tls/cert.pem" test "$CODE" = 200
if "$CURL" -s -o /dev/null "https://localhost:$PORT/healthz"; then
	tap_not_ok "without the certificate curl refuses the server" "curl accepted an unknown certificate"
else
	tap_ok "without the certificate curl refuses the server"
fi
tls GET /v1/vms
check "no token over TCP: 401 with WWW-Authenticate" test "$CODE" = 401 -a "$(json "j['code']")" = unauthorized
hdrs=$("$CURL" -s -D - -o /dev/null --cacert "$STATE/tls/cert.pem" "https://localhost:$PORT/v1/vms")
check "401 says how to authenticate" grep -qi '^WWW-Authenticate: Bearer' <<<"$hdrs"
VIEWER=$("$VHAGENT" --config /dev/null --state-dir "$STATE" token create v1 --role viewer 2>/dev/null)
OPERATOR=$("$VHAGENT" --config /dev/null --state-dir "$STATE" token create o1 --role operator 2>/dev/null)
ADMIN=$("$VHAGENT" --config /dev/null --state-dir "$STATE" token create a1 --role admin 2>/dev/null)
check "vhagent token create prints the secret alone" test "${VIEWER#vh_}" != "$VIEWER" -a "${ADMIN#vh_}" != "$ADMIN"
check "the secret is not stored" bash -c "! grep -rqF -- '${VIEWER:12}' '$STATE'"
ok_in_time() { # TOKEN METHOD PATH WANT [curl...]: tokens made meanwhile are seen within a second
	local t=$1 m=$2 p=$3 want=$4
	shift 4
	for _ in $(seq 1 40); do
		tls "$m" "$p" -H "Authorization: Bearer $t" "$@"
		[ "$CODE" = "$want" ] && return 0
		sleep 0.05
	done
	return 1
}
check "a viewer reads" ok_in_time "$VIEWER" GET /v1/vms 200
tls POST /v1/vms -H "Authorization: Bearer $VIEWER" -H 'Content-Type: application/json' -d '{"name":"v-made"}'
check "a viewer POST: 403" test "$CODE" = 403 -a "$(json "j['code']")" = forbidden
tls POST /v1/tokens -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' -d '{"name":"x","role":"viewer"}'
check "an operator creating a token: 403" test "$CODE" = 403
tls POST /v1/vms -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' -d '{"name":"o-made"}'
check "an operator defines a VM: 201" test "$CODE" = 201
tls POST /v1/tokens -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '{"name":"api-made","role":"viewer"}'
check "an admin creates a token over the API: 201" test "$CODE" = 201 -a "$(json "j['role']")" = viewer
"$VHAGENT" --config /dev/null --state-dir "$STATE" token list >"$RUN/tokens.txt" 2>&1
tap_grep "vhagent token list shows every token and role, no secret" '^[0-9a-f]{8} +viewer +.* api-made$' "$RUN/tokens.txt"
"$VHAGENT" --config /dev/null --state-dir "$STATE" token revoke v1 2>>"$RUN/agent.log"
check "a revoked token is refused within a second: 401" ok_in_time "$VIEWER" GET /v1/vms 401
check "vhagent token revoke of an unknown token fails" \
	bash -c "! '$VHAGENT' --config /dev/null --state-dir '$STATE' token revoke nosuch 2>/dev/null"

# ---- every response validates against api/openapi.yaml ---------------------------------
: >"$RUN/instances"
inst() { # SCHEMA: the last BODY, on one line
	printf '%s %s\n' "$1" "$(printf '%s' "$BODY" | tr -d '\n')" >>"$RUN/instances"
}
api GET /v1/vms && inst VMList
api GET /v1/vms?limit=1 && inst VMList
api GET /v1/vms/m1 && inst VM
api GET /v1/vms/m1/stats && inst VMStats
api GET /v1/stats && inst Stats
api GET /v1/host && inst Host
api GET /v1/images && inst ImageList
api GET /v1/images/spinner.elf && inst Image
api GET /v1/tokens && inst TokenList
api GET /healthz && inst Health
api GET /readyz && inst Ready
api GET /v1/vms/nosuch && inst Problem
api PUT /v1/vms/m1/cpu -H 'Content-Type: application/json' -d '{"shares":"high"}' && inst VM
api PUT /v1/vms/m1/power -H 'Content-Type: application/json' -d '{"state":"paused"}' && inst VM
api POST /v1/tokens -H 'Content-Type: application/json' -d '{"name":"inst","role":"viewer"}' && inst TokenCreated
api DELETE /v1/host && inst Problem
if out=$("$PY" "$top_srcdir/api/lint-openapi" --instances "$RUN/instances" "$top_srcdir/api/openapi.yaml" 2>&1); then
	tap_ok "$(wc -l <"$RUN/instances") responses of $(cut -d" " -f1 "$RUN/instances" | sort -u | wc -l) kinds validate against the contract's schemas"
else
	tap_not_ok "responses validate against the contract's schemas" "$out"
fi

# ---- SIGHUP ------------------------------------------------------------------------------
big=$(head -c 3000 /dev/zero | tr '\0' ' ')
api POST /v1/vms -H 'Content-Type: application/json' -d "{\"name\":\"hup1\"$big}"
check "before SIGHUP a 3000-byte body is accepted" test "$CODE" = 201
printf 'max_body_bytes = 2048\n' >"$RUN/agent.conf"
kill -HUP "$AGENT_PID"
sleep 0.3
api POST /v1/vms -H 'Content-Type: application/json' -d "{\"name\":\"hup2\"$big}"
check "after SIGHUP the new max_body_bytes applies: 413" test "$CODE" = 413
printf 'max_body_bytes = 1048576\nthreads = 3\n' >"$RUN/agent.conf"
kill -HUP "$AGENT_PID"
sleep 0.3
tap_grep "a setting that needs a restart is reported as such" 'threads changed; it takes effect at the next start' "$RUN/agent.log"
printf 'max_body_bytes = lots\n' >"$RUN/agent.conf"
kill -HUP "$AGENT_PID"
sleep 0.3
api POST /v1/vms -H 'Content-Type: application/json' -d "{\"name\":\"hup3\"$big}"
check "a bad file is refused and the running settings stay" test "$CODE" = 201
tap_grep "... with the reason in the log" 'reload refused' "$RUN/agent.log"
printf 'max_body_bytes = 1048576\n' >"$RUN/agent.conf"

# ---- the hypervisor goes away and comes back ------------------------------------------
api GET /readyz
check "/readyz: 200 with the hypervisor up" test "$CODE" = 200
hv_stop
api GET /readyz
check "/readyz: 503 unavailable while vh-hosted is down" test "$CODE" = 503 -a "$(json "j['code']")" = unavailable
api GET /healthz
check "/healthz: still 200 (the agent itself is fine)" test "$CODE" = 200
api GET /v1/vms
check "the API says 503 unavailable meanwhile" test "$CODE" = 503
# A 503 is logged with its path: a percent-encoded newline in it must not
# make a line of its own (log injection).
api GET "/v1/vms/a%0Ainjected%20line%0D%0Avhagent:%20error:%20forged%1B%5B2J"
check "a path with %0A, %0D and ESC while it is down: 503" test "$CODE" = 503
if grep -aqE '^(injected line|vhagent: error: forged)' "$RUN/agent.log" || grep -aq $'\x1b' "$RUN/agent.log"; then
	tap_not_ok "... and the log has no line the client forged, no raw control byte" "$(grep -a -A1 injected "$RUN/agent.log")"
else
	tap_ok "... and the log has no line the client forged, no raw control byte"
fi
tap_grep "... the request is logged, its control bytes as \\xNN" \
	'GET /v1/vms/a\\x0ainjected line\\x0d\\x0avhagent: error: forged\\x1b\[2J -> 503' "$RUN/agent.log"
hv_start
check "/readyz: 200 again once it is back and reconciled" agent_wait_ready
api GET /v1/vms/m1
check "... and the VMs it lost are defined again (powered off)" test "$CODE" = 200 -a "$(json "j['state']")" = defined

# ---- plain HTTP only on loopback --------------------------------------------------------
mkdir -p "$RUN/state2"
if "$VHAGENT" --config /dev/null --state-dir "$RUN/state2" --hypervisor-socket "$HVSOCK" --unix-socket none \
	--https-listen none --http-listen "0.0.0.0:$PORT" >"$RUN/agent2.log" 2>&1; then
	tap_not_ok "plain HTTP on a non-loopback address: refused at start" "$RUN/agent2.log"
else
	tap_grep "plain HTTP on a non-loopback address: refused at start" 'loopback' "$RUN/agent2.log"
fi
PORT2=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VHAGENT" --config /dev/null --state-dir "$RUN/state2" --hypervisor-socket "$HVSOCK" --unix-socket none \
	--https-listen none --http-listen "127.0.0.1:$PORT2" >>"$RUN/agent2.log" 2>&1 &
pid2=$!
for _ in $(seq 1 100); do "$CURL" -sf "http://127.0.0.1:$PORT2/healthz" >/dev/null && break; sleep 0.05; done
CODE=$("$CURL" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/v1/vms")
BODY=
check "plain HTTP on loopback when asked for (tokens still required: 401)" test "$CODE" = 401
kill -TERM $pid2
wait $pid2
check "... and that agent stops cleanly on SIGTERM" test $? = 0

# ---- connection limit and idle timeout -----------------------------------------------
PORT3=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VHAGENT" --config /dev/null --state-dir "$RUN/state2" --hypervisor-socket "$HVSOCK" --unix-socket none \
	--https-listen none --http-listen "127.0.0.1:$PORT3" --threads 1 --max-connections 4 \
	--connection-timeout-s 1 >>"$RUN/agent3.log" 2>&1 &
pid3=$!
for _ in $(seq 1 100); do "$CURL" -sf "http://127.0.0.1:$PORT3/healthz" >/dev/null && break; sleep 0.05; done
# Four clients that connect and say nothing take every slot ...
for i in 1 2 3 4; do eval "exec {idle$i}<>/dev/tcp/127.0.0.1/$PORT3"; done
sleep 0.1
t0=$(date +%s%N)
CODE=$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT3/healthz")
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
BODY="answered after $ms ms"
check "max_connections holds a fifth client back; the idle ones time out and it is served ($ms ms)" \
	test "$CODE" = 200 -a "$ms" -ge 500 -a "$ms" -lt 5000
for i in 1 2 3 4; do eval "exec {idle$i}>&-"; done
kill -TERM $pid3
wait $pid3

# ---- client certificates --------------------------------------------------------------------
# A CA may sign certificates for other purposes, and a subject may list
# several OUs: only a clientAuth certificate whose OUs name exactly one
# role gets in, with that role; no default role.
agent_stop
cd "$RUN" || exit 1
printf 'extendedKeyUsage = clientAuth\n' >client.ext
printf 'extendedKeyUsage = serverAuth\n' >server.ext
mkcert() { # NAME SUBJECT CA [EXTFILE]: a key and a certificate signed by CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-subj "$2" -out "$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 1 \
			${4:+-extfile "$4"} -out "$1.pem" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca.key" \
		-subj "/CN=$ca" -days 1 -out "$ca.pem" 2>/dev/null
done
mkcert cviewer /CN=cviewer/OU=viewer ca client.ext && mkcert cadmin /CN=cadmin/OU=admin ca client.ext &&
	mkcert crogue /CN=crogue/OU=admin other-ca client.ext &&
	mkcert cnoeku /CN=cnoeku/OU=admin ca && mkcert cserver /CN=cserver/OU=admin ca server.ext &&
	mkcert cxviewer /CN=cxviewer/OU=x/OU=viewer ca client.ext &&
	mkcert ctwo /CN=ctwo/OU=viewer/OU=admin ca client.ext &&
	mkcert cnoou /CN=cnoou ca client.ext && mkcert cxonly /CN=cxonly/OU=x ca client.ext ||
	{ echo "Bail out! openssl could not make the test certificates"; exit 1; }
cd - >/dev/null || exit 1
agent_start --config "$RUN/agent.conf" --tls-client-ca "$RUN/ca.pem"
ctls() { # CERT METHOD PATH [curl...]: tls with that client certificate
	local c=$1
	shift
	tls "$1" "$2" --cert "$RUN/$c.pem" --key "$RUN/$c.key" "${@:3}"
}
ctls cviewer GET /v1/vms
check "a clientAuth certificate from the configured CA grants its OU's role (viewer reads)" test "$CODE" = 200
ctls cviewer POST /v1/vms -H 'Content-Type: application/json' -d '{"name":"c1"}'
check "... and only that role (viewer POST: 403)" test "$CODE" = 403
ctls cadmin POST /v1/vms -H 'Content-Type: application/json' -d '{"name":"c1"}'
check "OU=admin may define" test "$CODE" = 201
ctls crogue GET /v1/vms
check "a certificate from another CA: refused" test "$CODE" = 401 -o "$CODE" = 000
ctls cnoeku GET /v1/vms
check "no extendedKeyUsage at all (OU=admin): 401 naming clientAuth" \
	test "$CODE" = 401 -a "$(json "'clientAuth' in j['detail']")" = True
ctls cserver GET /v1/vms
check "extendedKeyUsage serverAuth only (OU=admin): 401 naming clientAuth" \
	test "$CODE" = 401 -a "$(json "'clientAuth' in j['detail']")" = True
ctls cxviewer GET /v1/vms
check "OU=x, OU=viewer: every OU is read, viewer reads" test "$CODE" = 200
ctls cxviewer POST /v1/vms -H 'Content-Type: application/json' -d '{"name":"c2"}'
check "... and is a viewer only (POST: 403 naming the viewer role)" \
	test "$CODE" = 403 -a "$(json "'has viewer' in j['detail']")" = True
ctls ctwo GET /v1/vms
check "OU=viewer, OU=admin: two roles, refused (403 forbidden naming both)" \
	test "$CODE" = 403 -a "$(json "j['code']")" = forbidden -a "$(json "'viewer and admin' in j['detail']")" = True
ctls ctwo GET /v1/vms -H "Authorization: Bearer $ADMIN"
check "... even with an admin token" test "$CODE" = 403
ctls cnoou GET /v1/vms
check "no OU: no default role (403 forbidden, 'no role')" \
	test "$CODE" = 403 -a "$(json "'no role' in j['detail']")" = True
ctls cxonly GET /v1/vms
check "OU=x only: no default role either (403)" test "$CODE" = 403
tls GET /v1/vms -H "Authorization: Bearer $OPERATOR"
check "without a certificate tokens still work" test "$CODE" = 200

# ---- SIGTERM -------------------------------------------------------------------------------
agent_stop
check "SIGTERM: the agent exits 0 (no leak under the sanitizers)" test $? = 0
check "... and removes its unix socket" test ! -e "$ASOCK"
"$VH_MSG" get m1 >"$RUN/m1.txt" 2>&1
"$VH_MSG" get o-made >>"$RUN/m1.txt" 2>&1
check "... and the hypervisor keeps its VMs" grep -q '^name: o-made' "$RUN/m1.txt"
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
