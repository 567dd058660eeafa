/* SPDX-License-Identifier: Apache-2.0 */
/* The PC's keyboard controller (an 8042) at 0x60 (data) and 0x64 (status,
 * command), as far as a guest kernel's probe and its reboot need:
 *
 *   - 0xfe to 0x64 (pulse the reset line: Linux's reboot=k) resets the VM;
 *     so does writing the output port (0xd1) with bit 0, the CPU's reset
 *     line, low;
 *   - the controller's self-test (0xaa -> 0x55), the port tests (0xab,
 *     0xa9 -> 0x00), the configuration byte (0x20 reads it, 0x60 writes
 *     it), ports enabled and disabled (0xa7/0xa8, 0xad/0xae), the output
 *     port (0xd0), bytes echoed as if from the keyboard or mouse (0xd2,
 *     0xd3), a byte for the mouse (0xd4) answered with its ACK;
 *   - a keyboard with no keys pressed: it acknowledges every command (0xfa),
 *     passes its reset (0xff -> 0xfa 0xaa) and names itself (0xf2 -> 0xfa
 *     0xab 0x83), so atkbd's probe succeeds quickly instead of timing out.
 *
 * A byte waiting in the output buffer sets OBF; from the keyboard or mouse
 * it raises IRQ 1 or 12 while the configuration byte enables them.  Nothing
 * is ever busy (IBF clear).  Unknown commands are ignored. */
#include "dev_internal.h"

#define ST_OBF        0x01u
#define ST_SYS        0x04u /* the self-test passed */
#define ST_CMD        0x08u /* the last write was to 0x64 */
#define ST_UNLOCKED   0x10u /* the keyboard is not inhibited */
#define ST_AUX        0x20u /* the byte waiting is the mouse's */

#define CFG_KBD_INT   0x01u
#define CFG_AUX_INT   0x02u
#define CFG_SYS       0x04u
#define CFG_KBD_OFF   0x10u
#define CFG_AUX_OFF   0x20u
#define CFG_XLATE     0x40u

#define OUTPORT_RESET 0x01u /* low: the CPU's reset line asserted */

enum src { SRC_CTRL, SRC_KBD, SRC_AUX };

void vh_i8042_reset(void *i8042, const struct vh_bus *bus)
{
	struct vh_i8042 *k = i8042;

	(void)bus;
	*k = (struct vh_i8042){
		.config = CFG_KBD_INT | CFG_SYS | CFG_XLATE,
		.outport = OUTPORT_RESET | 0x02, /* reset line high, A20 on */
		.status = ST_SYS | ST_UNLOCKED,
	};
}

/* The interrupt line of the byte at the head of the queue follows OBF. */
static void update_irq(struct vh_i8042 *k, const struct vh_dev_access *a)
{
	bool kbd = false, aux = false;

	if (k->count) {
		kbd = k->src[k->head] == SRC_KBD && (k->config & CFG_KBD_INT);
		aux = k->src[k->head] == SRC_AUX && (k->config & CFG_AUX_INT);
	}
	if (kbd != k->irq1) {
		k->irq1 = kbd;
		vh_dev_irq(a, 1, kbd);
	}
	if (aux != k->irq12) {
		k->irq12 = aux;
		vh_dev_irq(a, 12, aux);
	}
}

/* A byte into the output buffer; a full queue drops it (a guest that
 * never reads). */
static void push(struct vh_i8042 *k, uint8_t v, enum src s)
{
	unsigned at;

	if (k->count == VH_I8042_QUEUE)
		return;
	at = (k->head + k->count) % VH_I8042_QUEUE;
	k->queue[at] = v;
	k->src[at] = (uint8_t)s;
	k->count++;
}

static uint8_t pop(struct vh_i8042 *k)
{
	uint8_t v;

	if (!k->count)
		return k->last; /* an empty buffer reads what it held last */
	v = k->queue[k->head];
	k->head = (uint8_t)((k->head + 1) % VH_I8042_QUEUE);
	k->count--;
	k->last = v;
	return v;
}

static void keyboard_command(struct vh_i8042 *k, uint8_t v)
{
	push(k, 0xfa, SRC_KBD); /* ACK */
	if (v == 0xff) {
		push(k, 0xaa, SRC_KBD); /* basic assurance test passed */
	} else if (v == 0xf2) {
		push(k, 0xab, SRC_KBD); /* MF2 keyboard, translated */
		push(k, 0x83, SRC_KBD);
	}
}

static void command(struct vh_i8042 *k, const struct vh_dev_access *a, uint8_t v)
{
	k->pending = 0;
	switch (v) {
	case 0x20: push(k, k->config, SRC_CTRL); break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4: k->pending = v; break;
	case 0xa7: k->config |= CFG_AUX_OFF; break;
	case 0xa8: k->config &= (uint8_t)~CFG_AUX_OFF; break;
	case 0xa9:
	case 0xab: push(k, 0x00, SRC_CTRL); break; /* port tests pass */
	case 0xaa:                                 /* self-test */
		k->status |= ST_SYS;
		push(k, 0x55, SRC_CTRL);
		break;
	case 0xad: k->config |= CFG_KBD_OFF; break;
	case 0xae: k->config &= (uint8_t)~CFG_KBD_OFF; break;
	case 0xd0: push(k, k->outport, SRC_CTRL); break;
	case 0xfe: vh_dev_guest_reset(a, "i8042 command 0xfe"); break;
	default: break;
	}
}

/* A byte to 0x60: the argument of the command before, else for the
 * keyboard. */
static void data(struct vh_i8042 *k, const struct vh_dev_access *a, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->config = v;
		k->status = (uint8_t)((k->status & ~ST_SYS) | (v & CFG_SYS));
		break;
	case 0xd1:
		k->outport = v;
		if (!(v & OUTPORT_RESET))
			vh_dev_guest_reset(a, "i8042 output port reset line");
		break;
	case 0xd2: push(k, v, SRC_KBD); break;
	case 0xd3: push(k, v, SRC_AUX); break;
	case 0xd4: push(k, 0xfa, SRC_AUX); break; /* the mouse acknowledges */
	default: keyboard_command(k, v); break;
	}
}

/* 0x60 and 0x64 are two ranges of one device (0x61..0x63 belong to
 * others: the PC speaker's port B is 0x61). */
enum vh_io_result vh_i8042_data_io(void *i8042, const struct vh_dev_access *a)
{
	struct vh_i8042 *k = i8042;

	if (a->is_write) {
		k->status &= (uint8_t)~ST_CMD;
		data(k, a, (uint8_t)*a->value);
	} else {
		*a->value = pop(k);
	}
	update_irq(k, a);
	return VH_IO_HANDLED;
}

enum vh_io_result vh_i8042_cmd_io(void *i8042, const struct vh_dev_access *a)
{
	struct vh_i8042 *k = i8042;

	if (a->is_write) {
		k->status |= ST_CMD;
		command(k, a, (uint8_t)*a->value);
		update_irq(k, a);
	} else {
		*a->value = (k->status & ~(ST_OBF | ST_AUX)) | (k->count ? ST_OBF : 0) |
			    (k->count && k->src[k->head] == SRC_AUX ? ST_AUX : 0);
	}
	return VH_IO_HANDLED;
}
