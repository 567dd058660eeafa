#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "serial.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

void vh_machine_stop(int status)
{
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
