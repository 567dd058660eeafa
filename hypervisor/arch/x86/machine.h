/* Stopping the machine with a verdict the test harness can read. */
#ifndef VH_X86_MACHINE_H
#define VH_X86_MACHINE_H

#include "vh/compiler.h"

/* 0 = success.  Prints "vh: stop status=N" on the console, then tells
 * whichever emulator runs us: QEMU's isa-debug-exit (port 0xf4, exit code
 * 2N+1), Bochs' magic breakpoint on success (exit 0) or its shutdown port
 * on failure (exit 1).  On real hardware it halts. */
VH_NORETURN void vh_machine_stop(int status);

#endif
