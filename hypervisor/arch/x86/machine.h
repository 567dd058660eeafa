/* SPDX-License-Identifier: Apache-2.0 */
/* Stopping the machine with a verdict the test harness can read. */
#ifndef VH_X86_MACHINE_H
#define VH_X86_MACHINE_H

#include <stdbool.h>

#include "vh/compiler.h"

/* 0 = success.  Stops every other CPU (an NMI each), prints
 * "vh: stop status=N" on the console, then tells whichever emulator runs
 * us: QEMU's isa-debug-exit (port 0xf4, exit code 2N+1), Bochs' magic
 * breakpoint on success (exit 0) or its shutdown port on failure (exit
 * 1).  On real hardware it halts.  Safe to call from several CPUs at once:
 * the first one reports, the others halt. */
VH_NORETURN void vh_machine_stop(int status);

/* True once some CPU has begun stopping the machine. */
bool vh_machine_stopping(void);

/* Claims the right to print a panic report; false when another CPU
 * already did (the caller halts). */
bool vh_machine_begin_panic(void);

#endif
