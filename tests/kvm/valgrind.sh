#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vh-hosted and vh-msg under valgrind (memcheck, full leak check): the
# copies built without sanitizers (vh-hosted-plain, vh-msg-plain), since
# valgrind cannot run ASan code.  A short life of the daemon: define and
# start a spinner, its stats, every stats form, its console, a malformed
# request, stop it, a second VM left running, SIGTERM.  Each process must
# exit as it should and valgrind must report nothing (-q: its log holds
# only errors and leaks; --error-exitcode=1 also fails the exit status).
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

VH_HOSTED=$top_builddir/hypervisor/hosted/vh-hosted-plain
VH_MSG_PLAIN=$top_builddir/hypervisor/hosted/vh-msg-plain
kvm_require
if ! command -v valgrind >/dev/null; then
	echo "Bail out! valgrind is not installed (packaging/debian-packages.txt lists it)"
	exit 1
fi
if [ ! -x "$VH_MSG_PLAIN" ]; then
	echo "Bail out! $VH_MSG_PLAIN is not built"
	exit 1
fi
kvm_setup valgrind
tap_plan 4
# lax-ioctls: valgrind has no wrapper for KVM_GET_TSC_KHZ (an _IO ioctl
# that passes no memory) and would log a warning for it; the ioctls it
# knows are checked as before.
VG="valgrind -q --error-exitcode=1 --sim-hints=lax-ioctls --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible"

# vg_msg ARGS...: vh-msg-plain under valgrind, each run with its own log.
n=0
vg_msg() {
	n=$((n + 1))
	$VG --log-file="$RUN/vg-msg.$n.txt" "$VH_MSG_PLAIN" "$@" >"$RUN/msg.$n.out" 2>&1
}

# The daemon under valgrind: kvm_start runs $VH_HOSTED, so wrap it.
real_hosted=$VH_HOSTED
VH_HOSTED=$RUN/vg-hosted
printf '#!/bin/sh\nexec %s --log-file=%s %s "$@"\n' "$VG" "$RUN/vg-daemon.txt" "$real_hosted" >"$VH_HOSTED"
chmod +x "$VH_HOSTED"
kvm_start

fail=
vg_msg define s1 kernel=spinner.elf memory=4 "cmdline=iters=0 report=100000 work=1000" || fail="$fail define"
vg_msg start s1 || fail="$fail start"
wait_console s1 '^spinner: iters' 30 || fail="$fail (s1 never ran)"
vg_msg stats s1 || fail="$fail stats"
vg_msg stats-all || fail="$fail stats-all"
vg_msg host-stats || fail="$fail host-stats"
vg_msg console s1 || fail="$fail console"
# A malformed request: an error reply, nothing changed, nothing leaked.
if vg_msg define bad vcpus=0 memory=4; then fail="$fail (vcpus=0 accepted)"; fi
vg_msg stop s1 || fail="$fail stop"
vg_msg define s2 kernel=spinner.elf memory=4 "cmdline=iters=0 report=100000 work=1000" || fail="$fail define-2"
vg_msg start s2 || fail="$fail start-2"
if [ -z "$fail" ]; then
	tap_ok "every vh-msg call under valgrind answers as expected ($n calls)"
else
	tap_not_ok "every vh-msg call under valgrind answers as expected" "failed:$fail; $(cat "$RUN"/msg.*.out | tail -5)"
fi
errs=$(cat "$RUN"/vg-msg.*.txt)
if [ -z "$errs" ]; then
	tap_ok "valgrind: no errors and no leaks in vh-msg"
else
	tap_not_ok "valgrind: no errors and no leaks in vh-msg" "$errs"
fi

# SIGTERM with s2 running: the clean shutdown, then valgrind's leak check.
kvm_stop
rc=$?
if [ $rc = 0 ] && grep -q 'clean shutdown' "$RUN/daemon.log"; then
	tap_ok "the daemon stops cleanly under valgrind with a VM running"
else
	tap_not_ok "the daemon stops cleanly under valgrind with a VM running (exit $rc)" "$(tail -5 "$RUN/daemon.log")"
fi
if [ -f "$RUN/vg-daemon.txt" ] && [ ! -s "$RUN/vg-daemon.txt" ]; then
	tap_ok "valgrind: no errors and no leaks in vh-hosted"
else
	tap_not_ok "valgrind: no errors and no leaks in vh-hosted" "$(head -60 "$RUN/vg-daemon.txt" 2>/dev/null)"
fi
[ "$tap_failed" = 0 ]
