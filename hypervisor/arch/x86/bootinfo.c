/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "bootinfo.h"
#include "multiboot.h"
#include "vh/string.h"

struct vh_bootinfo vh_boot;

static void copy_string(char *dst, size_t cap, uint32_t addr)
{
	if (!addr) {
		dst[0] = '\0';
		return;
	}
	if (vh_strlcpy(dst, (const char *)(uintptr_t)addr, cap) >= cap)
		vh_boot.truncated = true;
}

static void copy_mmap(const struct multiboot_info *mbi)
{
	uint64_t p = mbi->mmap_addr, end = (uint64_t)mbi->mmap_addr + mbi->mmap_length;

	while (p + sizeof(struct multiboot_mmap_entry) <= end) {
		const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)p;
		if (e->size < 20)
			break; /* malformed: an entry is at least base, length, type */
		if (vh_boot.nregions == VH_BOOT_MAX_REGIONS) {
			vh_boot.truncated = true;
			break;
		}
		vh_boot.regions[vh_boot.nregions++] =
			(struct vh_boot_region){ .base = e->addr, .len = e->len, .type = e->type };
		p += (uint64_t)e->size + 4;
	}
}

bool vh_bootinfo_copy(uint32_t magic, uint32_t info_addr)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)info_addr;

	vh_memset(&vh_boot, 0, sizeof(vh_boot));
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || !mbi)
		return false;
	if (mbi->flags & MULTIBOOT_INFO_BOOT_LOADER_NAME)
		copy_string(vh_boot.loader, sizeof(vh_boot.loader), mbi->boot_loader_name);
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		copy_string(vh_boot.cmdline, sizeof(vh_boot.cmdline), mbi->cmdline);
	if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
		vh_boot.has_mem = true;
		vh_boot.mem_lower_kib = mbi->mem_lower;
		vh_boot.mem_upper_kib = mbi->mem_upper;
	}
	if (mbi->flags & MULTIBOOT_INFO_MEM_MAP)
		copy_mmap(mbi);
	if ((mbi->flags & MULTIBOOT_INFO_MODS) && mbi->mods_addr) {
		const struct multiboot_module *m = (const void *)(uintptr_t)mbi->mods_addr;
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			if (vh_boot.nmodules == VH_MB_MAX_MODULES) {
				vh_boot.truncated = true;
				break;
			}
			struct vh_boot_module_info *o = &vh_boot.modules[vh_boot.nmodules++];
			o->start = m[i].mod_start;
			o->end = m[i].mod_end > m[i].mod_start ? m[i].mod_end : m[i].mod_start;
			copy_string(o->args, sizeof(o->args), m[i].string);
		}
	}
	return true;
}
