/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor proper on this machine: the core's host over the kernel
 * platform, the VMs the command line defines, and the pCPU loops. */
#ifndef VH_X86_HV_H
#define VH_X86_HV_H

#include <stdbool.h>

#include "vh/compiler.h"
#include "vh/host.h"

extern struct vh_host vh_the_host;

/* Creates the core's host over every online CPU and the guest frames.
 * False with a message on failure. */
bool vh_hv_host_init(void);

struct vh_cpu;

/* Reads the hypervisor's options and the VMs from the command line
 * (vm=..., see vmspec.h; runtime=DURATION: stop after that long;
 * stats=DURATION: the stats period, 1s by default; until=done: stop when
 * no VM runs any more), defines and starts the VMs.  False with a message
 * on any error: nothing runs then. */
bool vh_hv_setup_vms(const char *cmdline);
/* Starts every CPU's loop; never returns. */
VH_NORETURN void vh_hv_run(void);

/* For the CPU loops: the earliest of until and this CPU's housekeeping
 * time (CPU 0 keeps the clockwork: memory ticks, stats lines, the end of
 * the run), and the housekeeping itself. */
uint64_t vh_hv_deadline(struct vh_cpu *c, uint64_t until);
void vh_hv_housekeeping(struct vh_cpu *c, uint64_t now);
/* A CPU entered VMX operation and starts scheduling. */
void vh_hv_cpu_ready(struct vh_cpu *c);

/* Boot self-test of the platform through the core (selftest=platform):
 * faults, EPT entries, guest memory copies, ballooning, teardown.
 * Prints one verdict line; false when a check failed. */
bool vh_hv_platform_selftest(void);

#endif
