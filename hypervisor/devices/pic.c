/* SPDX-License-Identifier: Apache-2.0 */
/* The two 8259A PICs, as far as a guest that does not use them needs:
 * kernels written for a PC remap and mask them at boot (ICW1..ICW4, then
 * OCW1 = 0xff) even when they will use the APIC.  vh accepts the
 * initialisation sequence and keeps the mask so that a driver reading it
 * back sees what it wrote; a device's interrupt line (vh_dev_irq) that
 * rises on an unmasked input of an initialised PIC becomes its vector on
 * vCPU 0's local APIC (vh_pic_line).  No device raises one yet. */
#include "dev_internal.h"

#define ICW1_INIT 0x10
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02 /* single PIC: no ICW3 */

void vh_pic_reset(void *pic, const struct vh_bus *bus)
{
	struct vh_pic *p = pic;

	(void)bus;
	*p = (struct vh_pic){ 0 };
}

int vh_pic_line(const struct vh_pic *p, unsigned line)
{
	/* Not yet given its vector base (ICW2), or masked: nothing. */
	if (p->icw_step != 0 || !p->vector_base || (p->imr & (1u << line)))
		return -1;
	return p->vector_base + (int)line;
}

enum vh_io_result vh_pic_io(void *pic, const struct vh_dev_access *a)
{
	struct vh_pic *p = pic;
	uint8_t v = (uint8_t)*a->value;

	if (!a->is_write) {
		/* Command port: IRR or ISR, both empty with nothing wired;
		 * data port: the mask. */
		*a->value = a->offset == 0 ? 0 : p->imr;
		return VH_IO_HANDLED;
	}
	if (a->offset == 0) {
		if (v & ICW1_INIT) {
			/* ICW1 restarts initialisation: the mask clears and
			 * ICW2 (vector base), ICW3 and maybe ICW4 follow. */
			p->imr = 0;
			p->icw_step = 2;
			p->icw4_needed = v & ICW1_IC4;
			p->single = v & ICW1_SNGL;
		}
		/* OCW2 (EOI, priorities) and OCW3 (which of IRR/ISR reads
		 * return): nothing is wired, both read as empty. */
		return VH_IO_HANDLED;
	}
	switch (p->icw_step) {
	case 2:
		p->vector_base = v & 0xf8;
		p->icw_step = p->single ? (p->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		p->icw_step = p->icw4_needed ? 4 : 0;
		break;
	case 4:
		p->icw_step = 0;
		break;
	default:
		p->imr = v; /* OCW1 */
		break;
	}
	return VH_IO_HANDLED;
}
