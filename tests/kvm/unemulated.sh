#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The instructions this host's /dev/kvm hands back to vh-hosted unexecuted
# (docs/hosted.md): the unemulated guest (tests/guests/unemulated.c) runs
# each one and checks what a real CPU with the guest's CPUID does (the
# same guest passes under QEMU's TCG: tests/guests/qemu_guests.sh); the
# daemon log says, once per kind, which reached vh-hosted and how it was
# answered, so each completion path and the #UD path are known to have
# been taken, not just the guest's checks to have passed.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup unemulated
tap_plan 7
kvm_start

desc="the unemulated guest: every check passes, stopped through isa-debug-exit with code 1"
if "$VH_MSG" define unem kernel=unemulated.elf memory=8 >/dev/null 2>&1 &&
	"$VH_MSG" start unem >/dev/null 2>&1 && "$VH_MSG" wait unem stopped 60 >/dev/null 2>&1 &&
	console unem | grep -q '^unemulated: done, 0 failed$' &&
	console unem | grep -q '^vh: debug-exit code 1 '; then
	tap_ok "$desc ($(console unem | grep -c ' ok$') checks)"
else
	tap_not_ok "$desc" "$(console unem | grep -v ' ok$')" "$(tail -5 "$RUN/daemon.log")"
fi

# XRSTOR's compacted form (XCOMP_BV bit 63): this KVM shows the guest
# XSAVEC whatever vh's CPU model says (docs/hosted.md), so Linux saves
# compacted; each check must have run and passed (the AVX and AVX-512 ones
# where the guest's XCR0 can have them); a CPUID without XSAVEC gets #GP(0).
desc="XRSTOR's compacted form: restored into KVM's standard image, its #GP(0) cases"
if console unem | grep -Eq '^unemulated: cpuid 0xd\.1 eax 0x[0-9a-f]*[2367abef] '; then
	names=("x87 and SSE from memory" "x87 and SSE initial state"
		"XSTATE_BV outside XCOMP_BV #GP(0)" "header byte 40 set #GP(0)"
		"header byte 16 set #GP(0)" "XCOMP_BV outside XCR0 #GP(0)"
		"MXCSR reserved bit #GP(0)")
	if console unem | grep -q '^unemulated: xrstor compacted form: AVX 1 '; then
		names+=("with AVX")
	fi
	if console unem | grep -q '^unemulated: xrstor compacted form: AVX 1 AVX-512 1$'; then
		names+=("opmask, AVX-512 initialized")
	fi
else
	names=("without XSAVEC #GP(0)")
fi
missing=
for n in "${names[@]}"; do
	console unem | grep -Fxq "unemulated: xrstor compacted $n ok" || missing="$missing; $n"
done
if [ -z "$missing" ]; then
	tap_ok "$desc (${#names[@]} checks)"
else
	tap_not_ok "$desc" "not passed:${missing#;}" "$(grep -E 'XRSTOR|crashed' "$RUN/daemon.log")"
fi

# logged KIND VERDICT: the daemon's line for the first KIND of the VM.
logged() {
	grep -Eq "VM \"unem\": vCPU 0: $1 $2 at rip 0x[0-9a-f]+ \(KVM cannot emulate it\)" \
		"$RUN/daemon.log"
}
# expect DESC KIND VERDICT...: each KIND reached vh-hosted with VERDICT.
expect() {
	local desc=$1 verdict=$2 kind missing=
	shift 2
	for kind in "$@"; do
		logged "$kind" "$verdict" || missing="$missing $kind"
	done
	if [ -z "$missing" ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "not logged:$missing" "$(grep 'KVM cannot emulate' "$RUN/daemon.log")"
	fi
}
done_by="completed by vh-hosted"
expect "CMPXCHG16B (Linux's SLUB; with the #GP and #PF checks) completed by vh-hosted" \
	"$done_by" CMPXCHG16B
expect "INT3, INT n, INTO and the IRETs back completed by vh-hosted" "$done_by" INT3 'INT n' INTO IRET
expect "XGETBV and XRSTOR completed (and their #UD, #GP answers given) by vh-hosted" "$done_by" \
	XGETBV XRSTOR
# CLAC/STAC reach vh only where the model offers SMAP (a host without it
# runs the #UD the guest checks); RDPRU and INVPCID the model never offers.
if console unem | grep -q '^unemulated: stac sets AC ok$'; then
	expect "CLAC and STAC completed by vh-hosted (SMAP offered)" "$done_by" CLAC STAC
else
	expect "CLAC and STAC raise #UD (SMAP not offered)" 'raises #UD' CLAC STAC
fi
expect "#UD for what the CPU model does not offer or does not exist: RDPRU, INVPCID, CMPXCHG8B's register form" \
	'raises #UD' RDPRU INVPCID CMPXCHG8B
kvm_stop
