#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The control protocol over vh-hosted's unix socket: every operation with
# vh-msg, malformed messages (each gets an error and changes nothing),
# broken framing (error, then hang-up), clients that die mid-message,
# several clients at once, and who may connect.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup protocol
tap_plan 41
kvm_start

# ok_if DESC CONDITION-COMMAND...: diagnostics are the last vh-msg output.
ok_if() {
	local desc=$1
	shift
	if "$@"; then tap_ok "$desc"; else tap_not_ok "$desc" "$OUT"; fi
}

msg host
ok_if "HOST_INFO: 2 pCPUs, 256 MiB, 4 KiB pages, protocols 1 to 3" \
	test "$(field pcpus)" = 2 -a "$(field memory_bytes)" = 268435456 -a "$(field page_size)" = 4096 \
	-a "$(field protocol)" = "1..3"
instance=$(field instance)
host_out=$OUT
msg stats-map
# Printed twice: from the STATS_MAP reply and from the mapped header.
map_instances=$(printf '%s\n' "$OUT" | sed -n 's/^\(header\.\)\{0,1\}instance: //p' | sort -u)
OUT="$host_out
$OUT"
ok_if "HOST_INFO names the instance (nonzero), the one STATS_MAP and the area's header carry" \
	test -n "$instance" -a "$instance" != 0 -a "$map_instances" = "$instance"

msg define web vcpus=1 memory=16 kernel=spinner.elf "cmdline=iters=0 report=1000000"
ok_if "VM_DEFINE: a VM in state defined with a generated uuid" \
	test "$(field state)" = defined -a -n "$(field uuid)" -a "$(field uuid)" != 00000000-0000-0000-0000-000000000000
id=$(field id)
msg define web vcpus=1 memory=16
ok_if "VM_DEFINE: a second VM named web is refused (exists)" test "$(field error.code)" = exists
msg define bad vcpus=0
ok_if "VM_DEFINE: 0 vCPUs is refused naming the field" test "$(field error.field)" = vcpus
msg get web
ok_if "VM_GET by name: the config as defined" test "$(field boot.kernel)" = spinner.elf -a "$(field id)" = "$id"
msg get "$id"
ok_if "VM_GET by id" test "$(field name)" = web
msg start web
ok_if "VM_START: running" test "$(field state)" = running
msg pause web
ok_if "VM_PAUSE: paused" test "$(field state)" = paused
msg pause web
ok_if "VM_PAUSE of a paused VM: bad_state, nothing changes" test "$(field error.code)" = bad_state
msg resume web
ok_if "VM_RESUME: running" test "$(field state)" = running
msg reset web
ok_if "VM_RESET: running again, boot generation 2" test "$(field state)" = running -a "$(field boot_generation)" = 2
msg set-cpu web shares=high limit=500
ok_if "VM_SET_CPU: high shares, 500 MHz limit" test "$(field cpu.shares)" = high -a "$(field cpu.limit_mhz)" = 500
msg set-cpu web res=100000000 limit=unlimited
ok_if "VM_SET_CPU: a reservation beyond capacity is refused (admission)" test "$(field error.code)" = admission
msg set-mem web res=8 limit=12
ok_if "VM_SET_MEM: 8 MiB reserved, 12 MiB limit" \
	test "$(field memory.reservation_mib)" = 8 -a "$(field memory.limit_mib)" = 12
msg balloon web 4
ok_if "VM_SET_BALLOON: 4 MiB = 1024 pages requested" test "$(field balloon_request_pages)" = 1024
msg stats web
ok_if "VM_STATS: counters of a running VM with one vCPU" \
	test "$(field state)" = running -a -n "$(field vcpu0.cpu.used_ns)"
msg host-stats
ok_if "HOST_STATS: one VM powered on, 8 MiB reserved, 2 pCPUs" \
	test "$(field npowered_on)" = 1 -a "$(field reserved_mib)" = 8 -a -n "$(field pcpu1)"
msg list
ok_if "VM_LIST: one VM" test "$(field count)" = 1
msg stats-all
ok_if "VM_STATS_ALL: one VM" test "$(field count)" = 1

# ---- malformed messages ------------------------------------------------------
# hdr TYPE PAYLOAD_LEN [MAGIC_HEX]: a request header as printf escapes.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
le16() { printf '\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)); }
hdr() {
	local magic=${3:-'\x56\x48\x43\x50'}
	printf "$magic$(le16 1)$(le16 $1)$(le32 0)$(le32 0)$(le32 77)$(le32 0)$(le32 $2)$(le32 0)"
}
zeros() { head -c "$1" /dev/zero; }
before=$("$VH_MSG" list)
raw() { OUT=$("$VH_MSG" raw "$@" 2>&1); }

hdr 99 0 > "$RUN/unknown-type.bin"
raw "$RUN/unknown-type.bin"
ok_if "unknown type: protocol error on header.type, connection kept" \
	test "$(field reply0.status)" = protocol -a "$(field reply0.field)" = header.type -a "$(field replies)" = 1
{ hdr 7 10; zeros 10; } > "$RUN/short-payload.bin"
raw "$RUN/short-payload.bin"
ok_if "VM_START with a 10-byte payload: protocol error on header.payload_len" \
	test "$(field reply0.status)" = protocol -a "$(field reply0.field)" = header.payload_len
{ hdr 7 88; printf "$(le32 9)"; zeros 84; } > "$RUN/bad-kind.bin"
raw "$RUN/bad-kind.bin"
ok_if "VM_START with vm.kind 9: invalid, names vm.kind" \
	test "$(field reply0.status)" = invalid -a "$(field reply0.field)" = vm.kind
{ hdr 8 88; printf "$(le32 2)$(le32 0)"; zeros 16; printf 'web'; zeros 61; } > "$RUN/stop-by-name.bin"
{ hdr 99 0; hdr 8 88; printf "$(le32 2)$(le32 0)"; zeros 16; printf 'nope'; zeros 60; hdr 1 0; } > "$RUN/pipelined.bin"
raw "$RUN/pipelined.bin"
ok_if "three pipelined requests: three replies in order (protocol, not_found, ok)" \
	test "$(field replies)" = 3 -a "$(field reply0.status)" = protocol -a "$(field reply1.status)" = not_found \
	-a "$(field reply2.status)" = ok
hdr 1 0 '\x00\x00\x00\x00' > "$RUN/bad-magic.bin"
raw "$RUN/bad-magic.bin"
ok_if "wrong magic: one protocol error naming header.magic, then the daemon hangs up" \
	test "$(field reply0.status)" = protocol -a "$(field reply0.field)" = header.magic -a "$(field hangup)" = yes
hdr 1 70000 > "$RUN/too-long.bin"
raw "$RUN/too-long.bin"
ok_if "payload_len above 65504: protocol error, hang-up" \
	test "$(field reply0.status)" = protocol -a "$(field hangup)" = yes
msg list
ok_if "after the malformed messages nothing changed" test "$OUT" = "$before"

# ---- clients that die, several clients --------------------------------------
{ hdr 4 3688; zeros 1000; } > "$RUN/half-define.bin"
"$VH_MSG" raw "$RUN/half-define.bin" --no-wait >/dev/null 2>&1
"$VH_MSG" raw "$RUN/half-define.bin" --hold 2 >/dev/null 2>&1 &
holder=$!
msg host
ok_if "a client that hung up mid-message, and one holding half a message, do not block others" \
	test "$(field pcpus)" = 2
ok=0
pids=
for i in $(seq 1 16); do "$VH_MSG" get web >/dev/null 2>&1 & pids="$pids $!"; done
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
OUT="$ok of 16 succeeded"
ok_if "16 clients at once all get their replies" test "$ok" = 16
kill -KILL "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
msg stats web
ok_if "clients killed mid-message harmed nothing: the VM still runs" test "$(field state)" = running

OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VH_MSG" host 2>&1)
rc=$?
ok_if "an unprivileged user (nobody) cannot use the socket" test "$rc" != 0 -a -z "$(field pcpus)"
mode=$(stat -c %a "$SOCK")
OUT="socket mode $mode"
ok_if "the socket is 0600, or 0660 with group vh" test "$mode" = 600 -o "$mode" = 660

# ---- console ------------------------------------------------------------------------
# VM_CONSOLE gives stream bytes [first, total) of what the guest printed
# since it was defined; the log file holds the whole stream (flushed five
# times a second), so the reply must be the log's bytes at those positions.
wait_console web '^spinner: iters' 10
"$VH_MSG" console web >"$RUN/console.out" 2>"$RUN/console.err"
rc=$?
sleep 0.5
read -r first len total <<<"$(sed -n 's/^console: first \([0-9]*\) len \([0-9]*\) total \([0-9]*\)$/\1 \2 \3/p' "$RUN/console.err")"
pos="first ${first:-?} len ${len:-?} total ${total:-?}"
OUT="rc $rc, $pos; $(head -c 300 "$RUN/console.out" | tr -d '\r')"
ok_if "VM_CONSOLE: the tail equals the log file's bytes at those stream positions ($pos)" \
	test "$rc" = 0 -a -n "$len" -a "${len:-0}" -gt 0 -a "$(($first + $len))" = "$total" \
	-a "$(head -c "$total" "$RUN/logs/web.log" | tail -c "$len" | md5sum)" = "$(md5sum <"$RUN/console.out")"
"$VH_MSG" console web "$first" 10 >"$RUN/console10.out" 2>"$RUN/console.err"
OUT="$(cat "$RUN/console.err")"
got=$(sed -n 's/^console: first \([0-9]*\) len \([0-9]*\) .*/\1 \2/p' "$RUN/console.err")
ok_if "VM_CONSOLE with max_bytes 10: those 10 bytes ($OUT)" \
	test "$got" = "$first 10" -a \
	"$(head -c "$((first + 10))" "$RUN/logs/web.log" | tail -c 10 | md5sum)" = "$(md5sum <"$RUN/console10.out")"
msg console web 99999999999
ok_if "VM_CONSOLE past the total: invalid, field from" test "$(field error.code)" = invalid -a "$(field error.field)" = from

# ---- the end of a VM's life -----------------------------------------------------
msg undefine web
ok_if "VM_UNDEFINE of a running VM: bad_state" test "$(field error.code)" = bad_state
msg stop web
ok_if "VM_STOP: stopped" test "$(field state)" = stopped
msg undefine web
ok_if "VM_UNDEFINE: gone" test "$(field undefined)" = yes
msg get web
ok_if "VM_GET of an undefined VM: not_found" test "$(field error.code)" = not_found

kvm_stop
rc=$?
OUT=$(cat "$RUN/daemon.log")
ok_if "the daemon exits 0 on SIGTERM" test "$rc" = 0
kvm_start
msg host
ok_if "a restarted daemon names another instance (was $instance)" \
	test -n "$(field instance)" -a "$(field instance)" != 0 -a "$(field instance)" != "$instance"
kvm_stop
[ "$tap_failed" = 0 ]
