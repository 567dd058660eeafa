/* SPDX-License-Identifier: Apache-2.0 */
/* XRSTOR, which this host's KVM reports as an emulation failure (measured:
 * Debian's 6.1 kernel runs XRSTOR64 of its init_fpstate in fpu__init_system
 * and was stopped there, 48 0f ae 2f).  Completed after the SDM's XRSTOR
 * pseudo-code (Vol. 1 13.8, Vol. 2 XRSTOR) in both forms: #UD without
 * CR4.OSXSAVE, #GP(0) for an area not 64-byte aligned, the legacy region
 * and the header read with the CPL's rights through the shared page walk
 * (#PF); then by XCOMP_BV bit 63:
 *   - the standard form: the header checked (XSTATE_BV within XCR0,
 *     XCOMP_BV and the reserved bytes zero: #GP(0)), MXCSR's reserved bits
 *     (#GP(0)); each component at its CPUID 0xd offset; MXCSR from memory
 *     when RFBM has SSE or AVX;
 *   - the compacted form (vh/xsave.h), #GP(0) where the guest's CPUID
 *     offers no XSAVEC; XCOMP_BV[62:0] within XCR0,
 *     XSTATE_BV within XCOMP_BV, header bytes 16..63 zero (#GP(0)); each
 *     component XCOMP_BV names packed from byte 576 in ascending order,
 *     64-byte aligned where CPUID.(0DH,i).ECX[1] says so; MXCSR from memory
 *     only where RFBM and XSTATE_BV both have SSE (its reserved bits
 *     #GP(0)), 1F80H where RFBM has SSE and XSTATE_BV does not, else kept.
 *     Linux saves its init_fpstate compacted here because this KVM shows
 *     the guest XSAVEC whatever vh's CPU model says (docs/hosted.md).
 * Then, for each component of RFBM = XCR0 & EDX:EAX, the saved state where
 * XSTATE_BV has its bit and the initial state where it does not;
 * components outside RFBM untouched.  The result goes to KVM as its XSAVE
 * image (KVM_GET_XSAVE / KVM_SET_XSAVE: always the standard layout, offsets
 * from CPUID 0xd), so a compacted area is moved to standard offsets. */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/segment.h"
#include "vh/vm.h"
#include "vh/xsave.h"

#define CR4_OSXSAVE  (1u << 18)
#define RFLAGS_VM    (1u << 17)
#define LEGACY_BYTES VH_XSAVE_LEGACY_BYTES
#define HEADER_BYTES VH_XSAVE_HEADER_BYTES
#define AREA_MAX     4096u /* struct kvm_xsave's region */
#define MXCSR_OFF    24u
#define MXCSR_MASK   0xffffu /* what this host's CPUs define (MXCSR_MASK 0xffff) */

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

/* Reads the area's first `len` bytes (the operand's limit or canonical
 * check for that size first): 1 done, 0 an exception injected (or
 * not), -1 the VM stopped. */
static int read_area(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
		     struct kvm_sregs *sr, uint32_t len, uint8_t *area, uint64_t *lin)
{
	unsigned cpl = !(sr->cr0 & 1) ? 0 : (r->rflags & RFLAGS_VM) ? 3 : sr->ss.dpl;
	struct vh_exc exc = { .vector = VH_EXC_GP };
	int rc;

	if (!vh_hosted_operand_linear(u, r, sr, len, false, lin, &exc))
		return vh_hosted_inject(x, sr, &exc) ? 0 : -1;
	exc = (struct vh_exc){ .vector = VH_EXC_GP };
	if (*lin & 63)
		return vh_hosted_inject(x, sr, &exc) ? 0 : -1;
	rc = vh_hosted_read_as(x, sr, r->rflags, cpl, *lin, area, len, &exc);
	if (rc < 0) {
		stop(x, "page tables outside guest memory");
		return -1;
	}
	if (rc > 0)
		return vh_hosted_inject(x, sr, &exc) ? 0 : -1;
	return 1;
}

/* The restore into KVM's standard-format image, then RIP past XRSTOR. */
static bool load(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
		 struct kvm_sregs *sr, const uint8_t *area, const struct vh_xsave_restore *rs)
{
	struct kvm_xsave ks; /* 4 KiB, as the area: a worker's stack holds both */

	if (ioctl(x->hv->fd, KVM_GET_XSAVE, &ks) < 0)
		return stop(x, "KVM_GET_XSAVE failed");
	if (!vh_xsave_restore(&x->hv->cpu.xsave, (uint8_t *)ks.region, sizeof(ks.region), area,
			      AREA_MAX, rs))
		return stop(x, "a state component has no place in 4 KiB");
	if (ioctl(x->hv->fd, KVM_SET_XSAVE, &ks) < 0)
		return stop(x, "KVM_SET_XSAVE refused the state");
	vh_hosted_advance_rip(r, sr, u->len);
	return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}

/* The compacted form: the header's checks, then the components XSTATE_BV
 * and RFBM both name read from their packed offsets.  Sizes and alignment
 * come from KVM_GET_CPUID2 (complete.c's load_cpu), not from vh's model:
 * the layout must be the one the guest computed its area by, and the
 * guest reads what this KVM holds (measured equal, leaf 0xd.2-7,
 * docs/hosted.md), while the model's leaf 0xd.1 is rewritten by it. */
static bool compacted(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
		      struct kvm_sregs *sr, uint8_t *area, uint64_t xcr0, uint64_t rfbm)
{
	struct vh_exc exc = { .vector = VH_EXC_GP };
	struct vh_xsave_restore rs;
	uint32_t end;
	uint64_t lin;
	int rc;

	/* Without XSAVEC XCOMP_BV must be 0, as in the standard form. */
	if (!x->hv->cpu.xsavec || !vh_xsave_compacted_header_ok(area + LEGACY_BYTES, xcr0))
		return vh_hosted_inject(x, sr, &exc);
	/* Only what is loaded is read: the components of RFBM & XSTATE_BV. */
	end = vh_xsave_compacted_plan(&x->hv->cpu.xsave, area, rfbm, &rs);
	if (!end)
		return stop(x, "XCOMP_BV names a component CPUID 0xd gives no size");
	if (end > AREA_MAX)
		return stop(x, "a compacted area past 4 KiB");
	if (end > LEGACY_BYTES + HEADER_BYTES &&
	    (rc = read_area(x, u, r, sr, end, area, &lin)) <= 0)
		return rc == 0;
	if (rs.set_mxcsr && (rs.mxcsr & ~MXCSR_MASK))
		return vh_hosted_inject(x, sr, &exc);
	return load(x, u, r, sr, area, &rs);
}

bool vh_hosted_complete_xrstor(struct vh_hosted_exit *x, const struct vh_unem *u,
			       struct kvm_regs *r, struct kvm_sregs *sr)
{
	uint8_t area[AREA_MAX];
	uint64_t xcr0, rfbm, bv, lin;
	uint32_t end = LEGACY_BYTES + HEADER_BYTES, mxcsr;
	struct vh_exc exc = { .vector = VH_EXC_GP };
	struct vh_xsave_restore rs;
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
		if (!x->hv->cpu.xsave.size[i] ||
		    x->hv->cpu.xsave.off[i] + x->hv->cpu.xsave.size[i] > AREA_MAX)
			return stop(x, "a state component XCR0 enables has no place in 4 KiB");
		if (x->hv->cpu.xsave.off[i] + x->hv->cpu.xsave.size[i] > end)
			end = x->hv->cpu.xsave.off[i] + x->hv->cpu.xsave.size[i];
	}
	/* The legacy region and the header first: XCOMP_BV says the form. */
	if ((rc = read_area(x, u, r, sr, LEGACY_BYTES + HEADER_BYTES, area, &lin)) <= 0)
		return rc == 0;
	if (ld64(area + LEGACY_BYTES + 8) & VH_XSAVE_COMPACTED)
		return compacted(x, u, r, sr, area, xcr0, rfbm);
	if ((rc = read_area(x, u, r, sr, end, area, &lin)) <= 0)
		return rc == 0;
	bv = ld64(area + LEGACY_BYTES);
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
	rs = (struct vh_xsave_restore){
		.rfbm = rfbm, .xstate_bv = bv, .set_mxcsr = rfbm & 6, .mxcsr = mxcsr
	};
	memcpy(rs.src, x->hv->cpu.xsave.off, sizeof(rs.src));
	return load(x, u, r, sr, area, &rs);
}
