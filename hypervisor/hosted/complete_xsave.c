/* SPDX-License-Identifier: Apache-2.0 */
/* XRSTOR, which this host's KVM reports as an emulation failure (measured:
 * Debian's 6.1 kernel runs XRSTOR64 of its init_fpstate in fpu__init_system
 * and was stopped there, 48 0f ae 2f).  Completed after the SDM's XRSTOR
 * pseudo-code for the standard format: #UD without CR4.OSXSAVE, #GP(0) for
 * an area not 64-byte aligned, the header checked (XSTATE_BV within XCR0,
 * XCOMP_BV and the reserved bytes zero: #GP(0)), MXCSR's reserved bits
 * (#GP(0)), the area read with the CPL's rights through the shared page
 * walk (#PF).  Then, for each component of RFBM = XCR0 & EDX:EAX, the
 * saved state where XSTATE_BV has its bit and the initial state where it
 * does not; MXCSR from memory when RFBM has SSE or AVX; components outside
 * RFBM untouched.  The result goes to KVM as its XSAVE image (KVM_GET_XSAVE
 * / KVM_SET_XSAVE: the same standard layout, offsets from CPUID 0xd).
 * The compacted format (XCOMP_BV bit 63) is stopped with a reason: vh's
 * CPU model offers no XSAVES, and without it Linux saves in the standard
 * format. */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/segment.h"
#include "vh/vm.h"

#define CR4_OSXSAVE   (1u << 18)
#define RFLAGS_VM     (1u << 17)
#define LEGACY_BYTES  512u
#define HEADER_BYTES  64u
#define AREA_MAX      4096u /* struct kvm_xsave's region */
#define MXCSR_OFF     24u
#define MXCSR_MASK    0xffffu /* what this host's CPUs define (MXCSR_MASK 0xffff) */

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static bool stop(struct vh_hosted_exit *x, const char *what)
{
	char why[160];

	snprintf(why, sizeof(why), "vCPU %u: XRSTOR: %s", x->hv->index, what);
	vh_vm_crash(&x->w->d->host, x->vm, why);
	return false;
}

static bool xcr0_of(struct vh_hosted_exit *x, uint64_t *xcr0)
{
	struct kvm_xcrs xcrs;

	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(x->hv->fd, KVM_GET_XCRS, &xcrs) < 0)
		return false;
	for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (xcrs.xcrs[i].xcr == 0) {
			*xcr0 = xcrs.xcrs[i].value;
			return true;
		}
	}
	return false;
}

bool vh_hosted_complete_xrstor(struct vh_hosted_exit *x, const struct vh_unem *u,
			       struct kvm_regs *r, struct kvm_sregs *sr)
{
	struct kvm_xsave ks; /* 4 KiB, as the area: a worker's stack holds both */
	uint8_t area[AREA_MAX];
	uint8_t *k = (uint8_t *)ks.region;
	unsigned cpl = !(sr->cr0 & 1) ? 0 : (r->rflags & RFLAGS_VM) ? 3 : sr->ss.dpl;
	uint64_t xcr0, rfbm, bv, lin;
	uint32_t end = LEGACY_BYTES + HEADER_BYTES, mxcsr;
	struct vh_exc exc = { .vector = VH_EXC_GP };
	int rc;

	if (!(sr->cr4 & CR4_OSXSAVE)) {
		exc.vector = VH_EXC_UD;
		return vh_hosted_inject(x, sr, &exc);
	}
	if (!xcr0_of(x, &xcr0))
		return stop(x, "reading XCR0 from KVM failed");
	rfbm = xcr0 & ((uint64_t)(uint32_t)r->rdx << 32 | (uint32_t)r->rax);
	for (unsigned i = 2; i < 64; i++) {
		if (!(xcr0 >> i & 1))
			continue;
		if (!x->hv->cpu.xsave_size[i] ||
		    x->hv->cpu.xsave_off[i] + x->hv->cpu.xsave_size[i] > AREA_MAX)
			return stop(x, "a state component XCR0 enables has no place in 4 KiB");
		if (x->hv->cpu.xsave_off[i] + x->hv->cpu.xsave_size[i] > end)
			end = x->hv->cpu.xsave_off[i] + x->hv->cpu.xsave_size[i];
	}
	if (!vh_hosted_operand_linear(u, r, sr, end, false, &lin, &exc))
		return vh_hosted_inject(x, sr, &exc);
	exc = (struct vh_exc){ .vector = VH_EXC_GP };
	if (lin & 63)
		return vh_hosted_inject(x, sr, &exc);
	rc = vh_hosted_read_as(x, sr, r->rflags, cpl, lin, area, end, &exc);
	if (rc < 0)
		return stop(x, "page tables outside guest memory");
	if (rc > 0)
		return vh_hosted_inject(x, sr, &exc);
	bv = ld64(area + LEGACY_BYTES);
	if (ld64(area + LEGACY_BYTES + 8) >> 63)
		return stop(x, "the compacted format (XCOMP_BV bit 63), which vh-hosted does not "
			       "complete");
	exc = (struct vh_exc){ .vector = VH_EXC_GP };
	for (unsigned i = 8; i < HEADER_BYTES; i++) {
		if (area[LEGACY_BYTES + i])
			return vh_hosted_inject(x, sr, &exc); /* XCOMP_BV, reserved bytes */
	}
	if (bv & ~xcr0)
		return vh_hosted_inject(x, sr, &exc);
	memcpy(&mxcsr, area + MXCSR_OFF, 4);
	if ((rfbm & 6) && (mxcsr & ~MXCSR_MASK))
		return vh_hosted_inject(x, sr, &exc);
	if (ioctl(x->hv->fd, KVM_GET_XSAVE, &ks) < 0)
		return stop(x, "KVM_GET_XSAVE failed");
	/* x87: FCW FSW FTW FOP FIP FDP (bytes 0-23) and ST0-ST7 (32-159). */
	if (rfbm & 1) {
		if (bv & 1) {
			memcpy(k, area, 24);
			memcpy(k + 32, area + 32, 128);
		} else {
			memset(k, 0, 24);
			memset(k + 32, 0, 128);
			k[0] = 0x7f, k[1] = 0x03; /* FCW 0x037f */
		}
	}
	/* SSE: XMM0-15 (160-415); MXCSR with SSE or AVX. */
	if (rfbm & 2) {
		if (bv & 2)
			memcpy(k + 160, area + 160, 256);
		else
			memset(k + 160, 0, 256);
	}
	if (rfbm & 6)
		memcpy(k + MXCSR_OFF, &mxcsr, 4);
	for (unsigned i = 2; i < 64; i++) {
		uint32_t off = x->hv->cpu.xsave_off[i], n = x->hv->cpu.xsave_size[i];

		if (!(rfbm >> i & 1))
			continue;
		if (bv >> i & 1)
			memcpy(k + off, area + off, n);
		else
			memset(k + off, 0, n); /* every component's initial state is zeros */
	}
	/* XSTATE_BV: what was restored now says what memory said. */
	{
		uint64_t kbv = ld64(k + LEGACY_BYTES);

		kbv = (kbv & ~rfbm) | (bv & rfbm);
		memcpy(k + LEGACY_BYTES, &kbv, 8);
	}
	if (ioctl(x->hv->fd, KVM_SET_XSAVE, &ks) < 0)
		return stop(x, "KVM_SET_XSAVE refused the state");
	vh_hosted_advance_rip(r, sr, u->len);
	return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}
