/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,
 * iosize=4): a guest writes v and QEMU exits with status (v << 1) | 1, so a
 * test guest reports its verdict with one instruction and any exit status
 * is odd (distinguishable from QEMU's own 0).  Under vh the write stops the
 * VM, the code is printed on its console and kept in vm->guest, the
 * equivalent of the process exit status.  Reads return 0 (QEMU's device
 * has no read side). */
#include "dev_internal.h"

enum vh_io_result vh_debug_exit_io(void *unused, const struct vh_dev_access *a)
{
	uint32_t code, value = (uint32_t)*a->value;

	(void)unused; /* the device has no state of its own */
	if (!a->is_write) {
		*a->value = 0;
		return VH_IO_HANDLED;
	}
	/* The value is the written width; the status wraps at 32 bits (QEMU
	 * passes it to exit(), which keeps 8). */
	code = (value << 1) | 1u;
	/* The line on the console, the code in vm->guest and the stop are
	 * the core's, done once this device's lock is dropped
	 * (vh_bus_finish answers VH_IO_STOPPED then). */
	vh_dev_power_off(a, code, value);
	return VH_IO_HANDLED;
}
