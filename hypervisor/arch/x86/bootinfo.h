/* SPDX-License-Identifier: Apache-2.0 */
/* What the Multiboot 1 loader handed over, copied into the kernel before
 * anything reuses low memory (the SMP trampoline) or gives memory to the
 * core: the command line, the memory map and the modules. */
#ifndef VH_X86_BOOTINFO_H
#define VH_X86_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#define VH_BOOT_MAX_REGIONS 64
#define VH_MB_MAX_MODULES 16
#define VH_BOOT_CMDLINE_LEN 2048
#define VH_BOOT_MODARGS_LEN 512
#define VH_MEM_AVAILABLE 1 /* Multiboot memory type of usable RAM */

struct vh_boot_region {
	uint64_t base, len;
	uint32_t type;
};

struct vh_boot_module_info {
	uint64_t start, end; /* physical, end exclusive */
	char args[VH_BOOT_MODARGS_LEN]; /* the module's command line */
};

struct vh_bootinfo {
	char loader[64];
	char cmdline[VH_BOOT_CMDLINE_LEN];
	bool has_mem;
	uint32_t mem_lower_kib, mem_upper_kib;
	unsigned nregions;
	struct vh_boot_region regions[VH_BOOT_MAX_REGIONS];
	unsigned nmodules;
	struct vh_boot_module_info modules[VH_MB_MAX_MODULES];
	bool truncated; /* something did not fit: reported at boot */
};

extern struct vh_bootinfo vh_boot;

/* False when magic is not the Multiboot 1 loader magic. */
bool vh_bootinfo_copy(uint32_t magic, uint32_t info_addr);

#endif
