/* SPDX-License-Identifier: Apache-2.0 */
/* VMX instructions as inline functions.  Each reports failure (CF or ZF
 * set: VMfailInvalid / VMfailValid) as false; the caller reads the
 * VM-instruction error field for VMfailValid. */
#ifndef VH_X86_VMX_INSN_H
#define VH_X86_VMX_INSN_H

#include <stdbool.h>
#include <stdint.h>

static inline bool vh_vmxon(uint64_t phys)
{
	bool fail;

	__asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline void vh_vmxoff(void)
{
	__asm__ volatile("vmxoff" ::: "cc", "memory");
}

static inline bool vh_vmclear(uint64_t phys)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline bool vh_vmptrld(uint64_t phys)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline uint64_t vh_vmread(uint64_t field)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

static inline bool vh_vmwrite(uint64_t field, uint64_t v)
{
	bool fail;

	__asm__ volatile("vmwrite %2, %1; setna %0" : "=qm"(fail) : "r"(field), "rm"(v) : "cc");
	return !fail;
}

/* VMWRITE without the status: for the fields every exit writes (RIP,
 * the preemption timer), which exist and are writable whenever a VMCS is
 * current, so the one instruction that reads the flags is saved. */
static inline void vh_vmwrite_hot(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" : : "r"(field), "rm"(v) : "cc");
}

struct vh_inv_desc {
	uint64_t a, b;
};

#define VH_INVEPT_SINGLE 1
#define VH_INVEPT_ALL 2
#define VH_INVVPID_SINGLE 1
#define VH_INVVPID_ALL 2

static inline void vh_invept_single(uint64_t eptp)
{
	struct vh_inv_desc d = { eptp, 0 };

	__asm__ volatile("invept %0, %1"
			 :
			 : "m"(d), "r"((uint64_t)VH_INVEPT_SINGLE)
			 : "cc", "memory");
}

static inline void vh_invept_all(void)
{
	struct vh_inv_desc d = { 0, 0 };

	__asm__ volatile("invept %0, %1" : : "m"(d), "r"((uint64_t)VH_INVEPT_ALL) : "cc", "memory");
}

static inline void vh_invvpid_single(uint16_t vpid)
{
	struct vh_inv_desc d = { vpid, 0 };

	__asm__ volatile("invvpid %0, %1"
			 :
			 : "m"(d), "r"((uint64_t)VH_INVVPID_SINGLE)
			 : "cc", "memory");
}

#endif
