/* SPDX-License-Identifier: Apache-2.0 */
/* The per-CPU loop: ask the core's scheduler what to run, run that vCPU
 * in VMX non-root until its quantum ends (the preemption timer), it halts,
 * yields or this CPU is kicked, and report back. */
#ifndef VH_X86_VCPU_RUN_H
#define VH_X86_VCPU_RUN_H

#include "vh/compiler.h"

struct vh_cpu;

/* Enters VMX operation and never returns. */
VH_NORETURN void vh_run_cpu(struct vh_cpu *c);

#endif
