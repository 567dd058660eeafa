/* SPDX-License-Identifier: Apache-2.0 */
/* What IRET does to EFLAGS, after the SDM's IRET pseudo-code (vol. 2A),
 * for a backend that completes an IRET itself (vh-hosted, where this
 * host's KVM cannot).  Freestanding, so the rules are unit-tested. */
#ifndef VH_IRET_H
#define VH_IRET_H

#include <stdbool.h>
#include <stdint.h>

#define VH_EFLAGS_IF   (1u << 9)
#define VH_EFLAGS_IOPL (3u << 12)
#define VH_EFLAGS_NT   (1u << 14)
#define VH_EFLAGS_VM   (1u << 17)

/* The EFLAGS after an IRET that pops `popped` (zero-extended for a 16-bit
 * IRET, op32 false) over `cur`, at privilege level cpl, in protected mode
 * (prot) or real mode, returning to the same privilege level: IOPL
 * changes only at CPL 0, IF only when CPL <= IOPL, VIF/VIP only at CPL 0
 * (32-bit), VM never (a return to virtual-8086 mode is not this path);
 * a 16-bit IRET keeps the upper half. */
uint32_t vh_iret_eflags(uint32_t cur, uint32_t popped, unsigned cpl, bool prot, bool op32);

#endif
