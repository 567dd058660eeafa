/* SPDX-License-Identifier: Apache-2.0 */
/* IRET's EFLAGS rules (vh/iret.h). */
#include "vh/iret.h"

/* CF PF AF ZF SF TF DF OF NT: always taken from the frame. */
#define ALWAYS 0x4dd5u
#define RF     (1u << 16)
#define AC     (1u << 18)
#define VIF    (1u << 19)
#define VIP    (1u << 20)
#define ID     (1u << 21)

uint32_t vh_iret_eflags(uint32_t cur, uint32_t popped, unsigned cpl, bool prot, bool op32)
{
	uint32_t iopl = (cur & VH_EFLAGS_IOPL) >> 12;
	uint32_t take = ALWAYS;

	if (!prot) {
		/* Real mode: everything but VM, VIF, VIP (kept). */
		take |= VH_EFLAGS_IF | VH_EFLAGS_IOPL | RF | AC | ID;
	} else {
		if (cpl <= iopl)
			take |= VH_EFLAGS_IF;
		if (cpl == 0)
			take |= VH_EFLAGS_IOPL | VIF | VIP;
		take |= RF | AC | ID;
	}
	if (!op32)
		take &= 0xffffu;
	return ((cur & ~take) | (popped & take) | 2u) & ~(0xffc00000u | 0x8028u);
}
