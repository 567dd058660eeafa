/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>

#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "serial.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

static volatile int stopping;
static volatile int panicking;

bool vh_machine_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE) != 0;
}

bool vh_machine_begin_panic(void)
{
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL) != 0)
		return false;
	/* The reporting CPU may have been interrupted while printing: the
	 * console must not wait for itself. */
	vh_console_panic_mode();
	return true;
}

void vh_machine_stop(int status)
{
	irq_disable();
	if (__atomic_exchange_n(&stopping, 1, __ATOMIC_ACQ_REL) != 0)
		cpu_halt_forever();
	/* The others must not print over the verdict or keep running
	 * guests: an NMI reaches them whatever they do. */
	vh_apic_stop_others();

	/* A stopped CPU may hold the console lock: as in a panic, wait for
	 * it only briefly, and write out what is pending before the verdict. */
	vh_console_panic_mode();
	vh_console_printf("vh: stop status=%d\n", status);
	vh_serial_drain();

	/* QEMU with -device isa-debug-exit exits here.  Elsewhere port
	 * 0xf4 is unclaimed and the write is ignored. */
	outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)status);

	if (status == 0) {
		/* Bochs' magic breakpoint (magic_break: enabled=1) drops
		 * into its debugger, whose script then quits with 0.  A
		 * no-op everywhere else. */
		__asm__ volatile("xchg %bx, %bx");
	} else {
		static const char cmd[] = "Shutdown";
		for (const char *p = cmd; *p; p++)
			outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	}
	cpu_halt_forever();
}
