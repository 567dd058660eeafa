/* SPDX-License-Identifier: Apache-2.0 */
/* XSAVE/XRSTOR run with XCR0 set to every component the CPU supports, so
 * each switch saves and restores all of them: a guest that enables a
 * component later (XSETBV) never finds another guest's values there.
 * Then XCR0 becomes the guest's own for its run. */
#include <stdint.h>

#include "cpu.h"
#include "fpu.h"
#include "vmx.h"
#include "vmx_vcpu.h"

static inline void xsave(void *area)
{
	__asm__ volatile("xsave (%0)" : : "r"(area), "a"(0xffffffffu), "d"(0xffffffffu) : "memory");
}

static inline void xrstor(const void *area)
{
	__asm__ volatile("xrstor (%0)"
			 :
			 : "r"(area), "a"(0xffffffffu), "d"(0xffffffffu)
			 : "memory");
}

void vh_fpu_load(struct vh_vmx_vcpu *vv)
{
	if (vh_vmx.xsave_size) {
		xsetbv(0, vh_vmx.xcr0_supported);
		xrstor(vv->fpu);
		xsetbv(0, vv->xcr0);
	} else {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(vv->fpu) : "memory");
	}
}

void vh_fpu_save(struct vh_vmx_vcpu *vv)
{
	if (vh_vmx.xsave_size) {
		xsetbv(0, vh_vmx.xcr0_supported);
		xsave(vv->fpu);
	} else {
		__asm__ volatile("fxsave64 (%0)" : : "r"(vv->fpu) : "memory");
	}
}
