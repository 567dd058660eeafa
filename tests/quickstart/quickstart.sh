#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/quickstart against this build, on private paths: its run, state
# and log folders under tests/quickstart/runs and a free HTTPS port (the
# VH_* variables), never /run/vh, /var/lib/vh or port 8443, and with
# --no-install --no-build.  Checked: the first run starts vh-hosted and
# vhagent as background daemons with pid files, uploads every test guest
# under its file's name, defines and starts the demo VM, and prints the
# next steps; vhctl, vh-msg, vh-sim, vhagent and vh-hosted are linked in
# a prefix of the test's (VH_PREFIX, for /usr/local) where a new shell
# finds them and man their pages, and no line asks for an export PATH=;
# a second run changes nothing (same pids, same VM uuid, boot
# generation and state changes, the state folder's files and times as
# they were, nothing uploaded, the links kept); each printed line works as
# printed in a shell with the prefix on its PATH (the curl lines, vhctl,
# the token over HTTPS, the Ansible playbook);
# `quickstart stop` stops both daemons (no pid alive, no pid file, no
# socket) and a second stop finds nothing; a start after the stop brings
# the demo VM back (same uuid) without uploading anything.  The Linux VM
# it offers: the reference guest's kernel and initramfs (make linux-guest)
# are images beside the test guests, and the printed lines that create it
# (curl, vhctl) define a VM with those images, 2 vCPUs, 256 MiB and the
# command line, which powers on (the loader takes the Debian kernel and
# its initramfs; the boot itself is not waited for) and is deleted.
. "$top_srcdir/tests/harness/tap.sh"
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

QS=$top_srcdir/scripts/quickstart
VHCTL=$top_builddir/cli/vhctl
PY=/usr/bin/python3
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "Bail out! /dev/kvm is missing or not read-writable: vh-hosted needs KVM"
	exit 1
fi
for f in "$top_builddir/hypervisor/hosted/vh-hosted" "$top_builddir/hypervisor/hosted/vh-msg" \
	"$top_builddir/agent/vhagent" "$VHCTL" "$top_builddir/hypervisor/sim/vh-sim" \
	"$top_builddir/tests/guests/spinner.elf" "$top_builddir/linux-guest/vmlinuz" \
	"$top_builddir/linux-guest/initramfs.cpio.gz"; do
	if [ ! -e "$f" ]; then
		echo "Bail out! $f is not built"
		exit 1
	fi
done
for tool in curl setsid sha256sum ansible-playbook man "$PY"; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (see packaging/debian-packages.txt)"
		exit 1
	fi
done

RUN=$top_builddir/tests/quickstart/runs/quickstart
rm -rf "$RUN"
mkdir -p "$RUN/home"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export VH_BUILD_DIR=$top_builddir VH_RUN_DIR=$RUN/run VH_STATE_DIR=$RUN/state VH_LOG_DIR=$RUN/log
# Memory for the demo, the Ansible VMs and the 256 MiB Linux VM at once.
export VH_HTTPS_PORT=$PORT VH_SOCKET_GROUP='' VH_HOSTED_OPTS="--memory 1G --pcpus 2"
export VH_PREFIX=$RUN/prefix
# A new shell of an installed system: the prefix's bin and sbin (as
# /usr/local/bin and /usr/local/sbin) and the system's, nothing of this
# build tree.
NEW_PATH=$VH_PREFIX/bin:$VH_PREFIX/sbin:/usr/local/bin:/usr/bin:/bin
# Nothing of the caller's own settings may leak in.
export HOME=$RUN/home PYTHONDONTWRITEBYTECODE=1 ANSIBLE_NOCOLOR=1
unset XDG_CONFIG_HOME VH_URL VH_TOKEN VH_CACERT VH_CERT VH_KEY VH_QUICKSTART_NO_BUILD
GUESTS=$(cd "$top_builddir/tests/guests" && ls -- *.elf)
LINUX_IMAGES="$top_builddir/linux-guest/vmlinuz $top_builddir/linux-guest/initramfs.cpio.gz"

# pid_of NAME: the pid in NAME's pid file when that process runs this
# build's NAME.
pid_of() {
	local pid exe
	pid=$(cat "$VH_RUN_DIR/$1.pid" 2>/dev/null) || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	case "$1" in
	vh-hosted) [ "$exe" = "$top_builddir/hypervisor/hosted/vh-hosted" ] ;;
	vhagent) [ "$exe" = "$top_builddir/agent/vhagent" ] ;;
	esac && echo "$pid"
}

# alive PID: runs (a zombie that PID 1 has not reaped yet does not).
alive() { readlink "/proc/$1/exe" >/dev/null 2>&1; }

# Whatever a failed check left running goes at exit: quickstart's own
# stop first, then SIGKILL by pid.
cleanup() {
	local n pid
	"$QS" stop >/dev/null 2>&1
	for n in vhagent vh-hosted; do
		pid=$(pid_of "$n") && kill -KILL "$pid" 2>/dev/null
	done
}
trap cleanup EXIT

# qs LOG ARGS...: scripts/quickstart ARGS, output in $RUN/LOG; its status.
qs() {
	local log=$1
	shift
	"$QS" "$@" >"$RUN/$log" 2>&1
}

# vc ARGS...: vhctl on the agent's socket, JSON out.
vc() { "$VHCTL" --url "unix://$VH_RUN_DIR/agent.sock" -o json "$@"; }

# vm_field PATH: a member of the demo VM (or of VM $VM), dotted as cpu.limit_mhz.
vm_field() {
	vc vm show "${VM:-demo}" 2>/dev/null | "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1" 2>/dev/null
}

# snapshot: the state folder's files with sizes and modification times
# (images, VM records, tokens, TLS material).
snapshot() {
	find "$VH_STATE_DIR" -printf '%P %s %T@\n' | sort
}

tap_plan 33

# ---- the first run -----------------------------------------------------------------
if qs first.out --no-install --no-build; then
	tap_ok "first run: exit 0"
else
	tap_not_ok "first run: exit 0" "$RUN/first.out" "$RUN/log/vh-hosted.log" "$RUN/log/vhagent.log"
fi
HV1=$(pid_of vh-hosted) AG1=$(pid_of vhagent)
if [ -n "$HV1" ] && [ -n "$AG1" ]; then
	tap_ok "vh-hosted and vhagent run as daemons with their pid files (pids $HV1, $AG1)"
else
	tap_not_ok "vh-hosted and vhagent run as daemons with their pid files" "$(ls -l "$VH_RUN_DIR" 2>&1)" \
		"$RUN/first.out"
fi
if [ "$(ps -o sid= -p "${HV1:-0}" | tr -d ' ')" = "$HV1" ] && [ "$(ps -o sid= -p "${AG1:-0}" | tr -d ' ')" = "$AG1" ]; then
	tap_ok "each daemon leads its own session (no terminal, no hangup)"
else
	tap_not_ok "each daemon leads its own session" "$(ps -o pid,pgid,sid,comm -p "${HV1:-0},${AG1:-0}")"
fi
grep -q " ready" "$VH_LOG_DIR/vh-hosted.log" && grep -q " ready" "$VH_LOG_DIR/vhagent.log" &&
	tap_ok "their logs are in VH_LOG_DIR" ||
	tap_not_ok "their logs are in VH_LOG_DIR" "$(ls -l "$VH_LOG_DIR" 2>&1)"

vc image list >"$RUN/images.json" 2>&1
# images all|some FILE...: the agent's images are exactly FILE... (all),
# or hold them (some), each named after its file, with its SHA-256.
images() {
	"$PY" - "$RUN/images.json" "$@" <<'EOF' 2>&1
import hashlib, json, os, sys
got = {i["name"]: i["sha256"] for i in json.load(open(sys.argv[1]))["items"]}
want = {os.path.basename(f): hashlib.sha256(open(f, "rb").read()).hexdigest() for f in sys.argv[3:]}
if sys.argv[2] == "some":
    got = {n: s for n, s in got.items() if n in want}
assert got == want, (got, want)
EOF
}
# shellcheck disable=SC2046,SC2086 # one path a word
if why=$(images all $(printf "$top_builddir/tests/guests/%s\n" $GUESTS) $LINUX_IMAGES); then
	tap_ok "every test guest is an image named after its file, with its SHA-256 (${GUESTS//$'\n'/ })"
else
	tap_not_ok "every test guest is an image named after its file" "$why"
fi
# shellcheck disable=SC2086 # two paths
if why=$(images some $LINUX_IMAGES) &&
	grep -q "^the Linux guest: linux-image-[0-9.]*-[0-9]*-amd64 [^ ]*, in $top_builddir/linux-guest$" "$RUN/first.out"; then
	tap_ok "beside them the reference Linux guest: vmlinuz and initramfs.cpio.gz of make linux-guest, said which kernel"
else
	tap_not_ok "beside them the reference Linux guest" "$why" "$RUN/first.out"
fi
UUID1=$(vm_field uuid) GEN1=$(vm_field boot_generation) CHG1=$(vm_field state_changes)
if [ "$(vm_field state)" = running ] && [ "$(vm_field boot.kernel)" = spinner.elf ]; then
	tap_ok "the demo VM runs spinner.elf (uuid $UUID1)"
else
	tap_not_ok "the demo VM runs spinner.elf" "$(vc vm show demo 2>&1)" "$RUN/first.out"
fi
# The next steps: the lines after "Try next:".
sed -n '/^Try next:$/,$p' "$RUN/first.out" | sed -n 's/^  //p' >"$RUN/steps"
missing=
for re in '^export VH_URL=unix://[^ ]*/agent\.sock$' \
	'^curl -sS --unix-socket .*/agent\.sock http://localhost/v1/vms$' \
	'^vhctl vm list$' '^vhctl top -n 1$' '^vhctl vm cpu demo ' '^TOKEN=\$\(vhctl token create ' \
	"^curl -sS --cacert .*/tls/cert\\.pem -H \"Authorization: Bearer \\\$TOKEN\" https://localhost:$PORT/v1/host\$" \
	'^ANSIBLE_COLLECTIONS_PATH=.*/packaging/ansible ansible-playbook .*quickstart-playbook\.yml -e vh_socket=' \
	'/scripts/quickstart stop$' \
	"^curl -sS --unix-socket .*/agent\\.sock -H 'Content-Type: application/json' -d '\\{\"name\":\"linux\",.*\\}' http://localhost/v1/vms\$" \
	"^curl -sS --unix-socket .*/agent\\.sock -X PUT .*-d '\\{\"state\":\"running\"\\}' http://localhost/v1/vms/linux/power\$" \
	'^vhctl vm create linux --vcpus 2 --mem 256M --kernel vmlinuz --initrd initramfs\.cpio\.gz --cmdline "[^"]*" --start$'; do
	grep -Eq -- "$re" "$RUN/steps" || missing="$missing
no line matches /$re/"
done
grep -Eq '(^|[[:space:];])PATH=' "$RUN/steps" && missing="$missing
a line sets PATH: $(grep -E '(^|[[:space:];])PATH=' "$RUN/steps")"
[ -z "$missing" ] && tap_ok "the next steps are printed: curl (unix socket and HTTPS), vhctl, a token, Ansible, stop, a Linux VM" ||
	tap_not_ok "the next steps are printed" "$missing" "$RUN/first.out"

# Each command a link to this build's binary, found by a new shell; each
# man page found by man (whose search path follows PATH to the prefix's
# share/man), the page being the repository's.
why=
for c in vhctl:cli/vhctl vh-msg:hypervisor/hosted/vh-msg vh-sim:hypervisor/sim/vh-sim \
	vhagent:agent/vhagent vh-hosted:hypervisor/hosted/vh-hosted; do
	got=$(env -i HOME="$HOME" PATH="$NEW_PATH" bash -c "type -P ${c%%:*}")
	[ -n "$got" ] && [ "${got#"$VH_PREFIX"/}" != "$got" ] && [ -L "$got" ] &&
		[ "$(readlink -f "$got")" = "$(readlink -f "$top_builddir/${c#*:}")" ] &&
		env -i HOME="$HOME" PATH="$NEW_PATH" bash -c "${c%%:*} --help" >/dev/null 2>&1 ||
		why="$why
${c%%:*}: found as '$got' (want a link in $VH_PREFIX to $top_builddir/${c#*:} that runs --help)"
done
[ -z "$why" ] && tap_ok "vhctl, vh-msg, vh-sim, vhagent, vh-hosted: a new shell runs them from the prefix, links to this build" ||
	tap_not_ok "the commands are on a new shell's PATH" "$why" "$RUN/first.out" "$(find "$VH_PREFIX" 2>&1)"
why=
for c in vhctl:1:cli/vhctl.1 vh-msg:1:packaging/man/vh-msg.1 vh-sim:1:packaging/man/vh-sim.1 \
	vhagent:8:packaging/man/vhagent.8 vh-hosted:8:packaging/man/vh-hosted.8; do
	IFS=: read -r name sec page <<<"$c"
	got=$(env -i HOME="$HOME" PATH="$NEW_PATH" man -w "$sec" "$name" 2>&1)
	[ "$(readlink -f "$got")" = "$(readlink -f "$top_srcdir/$page")" ] &&
		[ -L "$VH_PREFIX/share/man/man$sec/$name.$sec" ] ||
		why="$why
man -w $sec $name: '$got' (want $top_srcdir/$page through $VH_PREFIX/share/man/man$sec)"
done
[ -z "$why" ] && tap_ok "their man pages: man finds vhctl(1), vh-msg(1), vh-sim(1), vhagent(8), vh-hosted(8) in the prefix" ||
	tap_not_ok "man finds the five pages in the prefix" "$why" "$(find "$VH_PREFIX" 2>&1)"

# ---- the second run changes nothing ---------------------------------------------------
snapshot >"$RUN/state.before"
if VH_QUICKSTART_NO_BUILD=1 qs second.out; then
	tap_ok "second run (VH_QUICKSTART_NO_BUILD=1): exit 0"
else
	tap_not_ok "second run: exit 0" "$RUN/second.out"
fi
snapshot >"$RUN/state.after"
if [ "$(pid_of vh-hosted)" = "$HV1" ] && [ "$(pid_of vhagent)" = "$AG1" ] &&
	grep -q "^vh-hosted runs already (pid $HV1)" "$RUN/second.out" &&
	grep -q "^vhagent runs already (pid $AG1)" "$RUN/second.out" &&
	grep -q "^in place already: vhctl, vh-msg, vh-sim, vhagent, vh-hosted and their man pages in $VH_PREFIX" \
		"$RUN/second.out"; then
	tap_ok "second run: the same daemons (same pids), the links in place, said so"
else
	tap_not_ok "second run: the same daemons" "$RUN/second.out"
fi
if [ "$(vm_field uuid)" = "$UUID1" ] && [ "$(vm_field boot_generation)" = "$GEN1" ] &&
	[ "$(vm_field state_changes)" = "$CHG1" ] && [ "$(vm_field state)" = running ] &&
	grep -q "^VM demo runs already" "$RUN/second.out"; then
	tap_ok "second run: the same demo VM, not restarted (uuid, boot generation $GEN1, state changes $CHG1)"
else
	tap_not_ok "second run: the same demo VM, not restarted" "$(vc vm show demo 2>&1)" "$RUN/second.out"
fi
if cmp -s "$RUN/state.before" "$RUN/state.after" && ! grep -q '^uploaded' "$RUN/second.out" &&
	grep -q '^already there with the same SHA-256' "$RUN/second.out"; then
	tap_ok "second run: nothing uploaded, the state folder unchanged (files, sizes, times)"
else
	tap_not_ok "second run: nothing uploaded, the state folder unchanged" \
		"$(diff "$RUN/state.before" "$RUN/state.after")" "$RUN/second.out"
fi
if diff <(sed -n '/^Try next:$/,$p' "$RUN/first.out") <(sed -n '/^Try next:$/,$p' "$RUN/second.out") >/dev/null; then
	tap_ok "second run: the same next steps"
else
	tap_not_ok "second run: the same next steps" "$RUN/second.out"
fi

# ---- the next steps work as printed ---------------------------------------------------
# step N REGEX: runs the printed line matching REGEX after the export
# line, in bash with the prefix on its PATH, output in $RUN/step.N; its
# status.
EXPORT=$(grep '^export ' "$RUN/steps")
step() {
	local line
	line=$(grep -E -m1 -- "$2" "$RUN/steps") || { echo "no such step: $2" >"$RUN/step.$1"; return 1; }
	PATH=$NEW_PATH bash -c "$EXPORT; $line" >"$RUN/step.$1" 2>&1
}
if step curl '^curl -sS --unix-socket' && "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert [(v["name"], v["state"]) for v in j["items"]] == [("demo", "running")], j' "$RUN/step.curl" 2>/dev/null; then
	tap_ok "the curl line on the unix socket lists the demo VM, running"
else
	tap_not_ok "the curl line on the unix socket lists the demo VM" "$RUN/step.curl"
fi
step list '^vhctl vm list$' && grep -Eq '^demo +running ' "$RUN/step.list" &&
	tap_ok "vhctl vm list shows demo running" || tap_not_ok "vhctl vm list shows demo running" "$RUN/step.list"
step top '^vhctl top -n 1$' && grep -Eq '^ *[0-9]+ +demo +1 ' "$RUN/step.top" &&
	tap_ok "vhctl top -n 1 shows demo" || tap_not_ok "vhctl top -n 1 shows demo" "$RUN/step.top"
step cpu '^vhctl vm cpu demo ' && [ "$(vm_field cpu.shares) $(vm_field cpu.limit_mhz)" = "high 200" ] &&
	tap_ok "vhctl vm cpu demo changes its CPU controls at run time" ||
	tap_not_ok "vhctl vm cpu demo changes its CPU controls" "$RUN/step.cpu" "$(vc vm show demo 2>&1)"
# The token line and the HTTPS line together: one shell, as typed.
TOK=$(grep -E -m1 '^TOKEN=' "$RUN/steps") HTTPS=$(grep -E -m1 '^curl -sS --cacert' "$RUN/steps")
if PATH=$NEW_PATH bash -c "$EXPORT; $TOK; $HTTPS" >"$RUN/step.https" 2>"$RUN/step.https.err" &&
	"$PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["vms"]["powered_on"] == 1' "$RUN/step.https" 2>/dev/null; then
	tap_ok "a viewer token from the printed line reads /v1/host over HTTPS with the agent's certificate"
else
	tap_not_ok "a viewer token reads /v1/host over HTTPS" "$RUN/step.https" "$RUN/step.https.err"
fi
if step ansible '^ANSIBLE_COLLECTIONS_PATH=' && grep -Eq 'localhost +: ok=[0-9]+ +changed=2 +unreachable=0 +failed=0' "$RUN/step.ansible" &&
	[ "$(VM=web vm_field state)" = running ] && [ "$(VM=batch vm_field state)" = defined ]; then
	tap_ok "the Ansible line defines web (running) and batch (off) beside demo"
else
	tap_not_ok "the Ansible line defines web and batch" "$(tail -20 "$RUN/step.ansible")"
fi
step ansible2 '^ANSIBLE_COLLECTIONS_PATH=' && grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$RUN/step.ansible2" &&
	tap_ok "the playbook a second time: changed=0" ||
	tap_not_ok "the playbook a second time: changed=0" "$(tail -20 "$RUN/step.ansible2")"

# ---- the Linux VM, as printed -----------------------------------------------------------
# linux_defined: the VM "linux" has the printed boot fields, vCPUs and memory.
linux_defined() {
	vc vm show linux 2>/dev/null | "$PY" -c '
import json, sys
v = json.load(sys.stdin)
got = (v["vcpus"], v["memory_mib"], v["boot"]["kernel"], v["boot"]["initrd"], v["boot"]["cmdline"])
want = (2, 256, "vmlinuz", "initramfs.cpio.gz", "console=ttyS0 vh.test=platform")
assert got == want, (got, want)' 2>&1
}
# powered_on: it was powered on once: the loader took the kernel and the
# initrd (a refused image leaves it defined, boot generation 0).
powered_on() { [ "$(VM=linux vm_field boot_generation)" = 1 ]; }
why=
if step lxcurl '"name":"linux"' && why=$(linux_defined) && [ "$(VM=linux vm_field state)" = defined ]; then
	tap_ok "the printed curl line defines the Linux VM: vmlinuz, initramfs.cpio.gz, its command line, 2 vCPUs, 256 MiB"
else
	tap_not_ok "the printed curl line defines the Linux VM" "$RUN/step.lxcurl" "$why"
fi
if step lxpower '/v1/vms/linux/power$' && powered_on; then
	tap_ok "the printed power line powers it on: the Debian kernel and its initramfs load (state $(VM=linux vm_field state))"
else
	tap_not_ok "the printed power line powers it on" "$RUN/step.lxpower" "$(vc vm show linux 2>&1)"
fi
vc vm delete linux --force >/dev/null 2>&1
why=
if step lxvhctl '^vhctl vm create linux ' && why=$(linux_defined) && powered_on; then
	tap_ok "the printed vhctl line defines and starts the same Linux VM"
else
	tap_not_ok "the printed vhctl line defines and starts the same Linux VM" "$RUN/step.lxvhctl" "$why" \
		"$(vc vm show linux 2>&1)"
fi
vc vm delete linux --force >/dev/null 2>&1

# ---- stop -----------------------------------------------------------------------------
if step stop '/scripts/quickstart stop$' && grep -q "^stopped vhagent (pid $AG1)" "$RUN/step.stop" &&
	grep -q "^stopped vh-hosted (pid $HV1)" "$RUN/step.stop"; then
	tap_ok "the printed stop line stops vhagent, then vh-hosted"
else
	tap_not_ok "the printed stop line stops both daemons" "$RUN/step.stop"
fi
left=
for p in $HV1 $AG1; do
	alive "$p" && left="$left pid $p"
done
for f in vh-hosted.pid vhagent.pid vh.sock agent.sock; do
	[ -e "$VH_RUN_DIR/$f" ] && left="$left $f"
done
[ -z "$left" ] && tap_ok "after stop: no daemon alive, no pid file, no socket" ||
	tap_not_ok "after stop: no daemon alive, no pid file, no socket" "left:$left"
[ -s "$VH_STATE_DIR/tls/cert.pem" ] && [ -n "$(ls "$VH_STATE_DIR/vms")" ] && [ -f "$VH_STATE_DIR/images/spinner.elf" ] &&
	tap_ok "after stop: the state stays (VM records, images, TLS material)" ||
	tap_not_ok "after stop: the state stays" "$(find "$VH_STATE_DIR" | head -30)"
qs stop2.out stop && grep -q "nothing it started was running" "$RUN/stop2.out" &&
	tap_ok "a second stop finds nothing to stop, exit 0" || tap_not_ok "a second stop finds nothing to stop" "$RUN/stop2.out"

# ---- a start after the stop ----------------------------------------------------------
snapshot | grep '^images/' >"$RUN/images.before"
if qs third.out --no-install --no-build && [ "$(vm_field state)" = running ] && [ "$(vm_field uuid)" = "$UUID1" ] &&
	grep -q "^VM demo is defined: starting it" "$RUN/third.out"; then
	tap_ok "a start after stop: new daemons, the demo VM defined again by the agent and started (same uuid)"
else
	tap_not_ok "a start after stop brings the demo VM back" "$RUN/third.out" "$(vc vm show demo 2>&1)"
fi
snapshot | grep '^images/' >"$RUN/images.after"
cmp -s "$RUN/images.before" "$RUN/images.after" && ! grep -q '^uploaded' "$RUN/third.out" &&
	tap_ok "a start after stop uploads nothing (the images' times unchanged)" ||
	tap_not_ok "a start after stop uploads nothing" "$(diff "$RUN/images.before" "$RUN/images.after")"
HV3=$(pid_of vh-hosted) AG3=$(pid_of vhagent)
if qs stop3.out stop && [ -n "$HV3" ] && [ -n "$AG3" ] && ! alive "$HV3" && ! alive "$AG3"; then
	tap_ok "and stop again"
else
	tap_not_ok "and stop again" "$RUN/stop3.out"
fi
# Under --enable-sanitizers a leak or an error at exit lands in the logs.
if grep -Eq 'Sanitizer|runtime error:' "$VH_LOG_DIR/vh-hosted.log" "$VH_LOG_DIR/vhagent.log"; then
	tap_not_ok "the daemons' logs hold no sanitizer report" "$VH_LOG_DIR/vh-hosted.log" "$VH_LOG_DIR/vhagent.log"
else
	tap_ok "the daemons' logs hold no sanitizer report"
fi
