/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,
 * iosize=4): a guest writes v and QEMU exits with status (v << 1) | 1, so a
 * test guest reports its verdict with one instruction and any exit status
 * is odd (distinguishable from QEMU's own 0).  Under vh the write stops the
 * VM, the code is printed on its console and kept in vm->guest, the
 * equivalent of the process exit status.  Reads return 0 (QEMU's device
 * has no read side). */
#include "dev_internal.h"
#include "vh/format.h"

enum vh_io_result vh_debug_exit_io(void *unused, const struct vh_dev_access *a)
{
	char line[64];
	size_t n;
	uint32_t code;

	(void)unused; /* the device has no state of its own */
	if (!a->is_write) {
		*a->value = 0;
		return VH_IO_HANDLED;
	}
	/* The value is the written width; the status wraps at 32 bits (QEMU
	 * passes it to exit(), which keeps 8). */
	code = (*a->value << 1) | 1u;
	a->vm->guest.exited = true;
	a->vm->guest.exit_code = code;
	/* On a line of its own, whatever the guest printed last. */
	n = vh_snprintf(line, sizeof(line), "%svh: debug-exit code %u (value %u)\n",
			a->vm->devices->console_mid_line ? "\n" : "", code, *a->value);
	vh_dev_console(a->h, a->vm, line, n < sizeof(line) ? n : sizeof(line) - 1);
	vh_host_log(a->h, "VM \"%s\": the guest wrote %#x to isa-debug-exit: stopped with code %u",
		    a->vm->cfg.name, *a->value, code);
	/* Not running (paused by the operator meanwhile, say): the code is
	 * kept, the state is the operator's. */
	if (a->vm->state == VH_VM_RUNNING && vh_vm_stop(a->h, a->vm, NULL) == VH_OK)
		return VH_IO_STOPPED;
	return VH_IO_HANDLED;
}
