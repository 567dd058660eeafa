/* SPDX-License-Identifier: Apache-2.0 */
/* VMs defined on the kernel command line, before any agent exists:
 *
 *   vm=NAME,kernel=MOD[,vcpus=N][,mem=SIZE][,cpu.shares=S][,cpu.reservation=MHZ]
 *      [,cpu.limit=MHZ][,mem.shares=S][,mem.reservation=MIB][,mem.limit=MIB]
 *      [,cosched=relaxed|strict|none][,cmdline=WORDS][,initrd=MOD]
 *
 * MOD is the index of a Multiboot module (0 = the first) holding the guest
 * image; its module string is the guest's command line unless cmdline=
 * gives one ('+' stands for a space there).  initrd= names the module
 * holding a Linux kernel's initial RAM disk.  SIZE takes K, M or G
 * suffixes (M by default); shares are low, normal, high or a number.
 * Every such VM gets the QEMU-like devices: COM1, isa-debug-exit, fw_cfg
 * and the balloon.  Parsing is strict: an unknown key, a bad value or a missing kernel is
 * an error that names the VM and the key. */
#ifndef VH_X86_VMSPEC_H
#define VH_X86_VMSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "vh/vm.h"

#define VH_VMSPEC_MAX 16

struct vh_vmspec {
	struct vh_vm_config cfg;
	unsigned module;
	bool has_initrd;
	unsigned initrd_module;
	bool has_cmdline;
	char cmdline[512];
};

/* Parses one "vm=" value (the text after "vm=", n bytes).  Returns false
 * with the reason in err. */
bool vh_vmspec_parse(const char *s, size_t n, unsigned nmodules, struct vh_vmspec *out,
		     char *err, size_t errlen);

/* Parses a duration: a number with ns, us, ms or s (s by default). */
bool vh_parse_duration(const char *s, size_t n, uint64_t *ns);

/* Parses a plain decimal number, the whole of the n bytes. */
bool vh_parse_count(const char *s, size_t n, uint64_t *v);

#endif
