/* SPDX-License-Identifier: Apache-2.0 */
/* Multiboot 1, as GRUB legacy and `qemu -kernel` boot it: the header in
 * the image's first 8 KiB, the image from its ELF program headers or from
 * the header's a.out-kludge address fields (flag 16), modules page-aligned
 * after the image, then one information area holding the multiboot info
 * block, a flat GDT matching the entry selectors, the memory map, the
 * module list, the boot loader name and every string.  Nothing the guest
 * loaded can overlap it: it starts after the last byte of the image and of
 * the modules.  Entry: 32-bit protected mode, paging and interrupts off,
 * EAX = 0x2BADB002, EBX = the info block. */
#include "loader_internal.h"
#include "vh/string.h"
#include "vh/vm.h"

#define MB_FLAG_PAGE_ALIGN 0x00000001u /* modules page-aligned (always done) */
#define MB_FLAG_MEMORY_INFO 0x00000002u /* mem_* and mmap (always given) */
#define MB_FLAG_VIDEO_MODE 0x00000004u /* a request; vh has text console only */
#define MB_FLAG_AOUT_KLUDGE 0x00010000u
#define MB_FLAGS_UNDERSTOOD (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

/* Info block flags vh sets. */
#define MBI_MEMORY 0x001u
#define MBI_CMDLINE 0x004u
#define MBI_MODS 0x008u
#define MBI_MMAP 0x040u
#define MBI_LOADER_NAME 0x200u

/* Layout of the information area (offsets from its start). */
#define AREA_INFO 0u       /* struct multiboot_info: 88 bytes used, 128 kept */
#define AREA_GDT 128u      /* null, code 0x08, data 0x10 */
#define AREA_MMAP 152u     /* up to VH_E820_MAX entries of 24 bytes */
#define MMAP_ENTRY 24u
#define MMAP_MAX VH_E820_MAX
#define AREA_MODS (AREA_MMAP + MMAP_ENTRY * MMAP_MAX) /* 16 bytes a module */
#define MOD_ENTRY 16u
#define MAX_MODULES VH_BOOT_MAX_MODULES
#define AREA_STRINGS (AREA_MODS + MOD_ENTRY * MAX_MODULES)
#define STRING_MAX 65536u  /* a longer command line or module string is refused */

#define LOW_RAM_END VH_LAYOUT_EBDA_START /* below: conventional memory */

struct mb_header {
	uint32_t offset, flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* The offset of the first header whose checksum holds, or SIZE_MAX. */
static size_t scan(const uint8_t *p, size_t len)
{
	size_t end = len < VH_MULTIBOOT_SEARCH ? len : VH_MULTIBOOT_SEARCH;

	for (size_t off = 0; off + 12 <= end; off += 4) {
		uint32_t magic = vh_ld32(p + off), flags = vh_ld32(p + off + 4);
		if (magic == VH_MULTIBOOT_HEADER_MAGIC &&
		    (uint32_t)(magic + flags + vh_ld32(p + off + 8)) == 0)
			return off;
	}
	return SIZE_MAX;
}

static int find_header(const uint8_t *p, size_t len, struct mb_header *mh, struct vh_error *err)
{
	size_t off = scan(p, len);

	if (off != SIZE_MAX) {
		uint32_t flags = vh_ld32(p + off + 4);
		mh->offset = (uint32_t)off;
		mh->flags = flags;
		if (!(flags & MB_FLAG_AOUT_KLUDGE))
			return VH_OK;
		if (off + 32 > len)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: Multiboot header at %zu truncated (a.out fields missing)", off);
		mh->header_addr = vh_ld32(p + off + 12);
		mh->load_addr = vh_ld32(p + off + 16);
		mh->load_end_addr = vh_ld32(p + off + 20);
		mh->bss_end_addr = vh_ld32(p + off + 24);
		mh->entry_addr = vh_ld32(p + off + 28);
		return VH_OK;
	}
	return vh_error_set(err, VH_E_INVAL, "image: no Multiboot header in the first %u bytes",
			    VH_MULTIBOOT_SEARCH);
}

/* The a.out kludge: the header says where the file's bytes go. */
static int aout_plan(const struct mb_header *mh, size_t len, struct vh_load_plan *plan,
		     struct vh_error *err)
{
	uint64_t file_off, load_size, mem_size;

	if (mh->load_addr > mh->header_addr)
		return vh_error_set(err, VH_E_INVAL,
				    "image: Multiboot load_addr %#x is above header_addr %#x",
				    mh->load_addr, mh->header_addr);
	if (mh->header_addr - mh->load_addr > mh->offset)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: Multiboot header_addr - load_addr (%#x) exceeds the header's "
		    "file offset (%#x)",
		    mh->header_addr - mh->load_addr, mh->offset);
	file_off = mh->offset - (mh->header_addr - mh->load_addr);
	if (mh->load_end_addr == 0) {
		load_size = len - file_off;
	} else {
		if (mh->load_end_addr < mh->load_addr)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: Multiboot load_end_addr %#x is below load_addr %#x",
			    mh->load_end_addr, mh->load_addr);
		load_size = mh->load_end_addr - mh->load_addr;
		if (load_size > len - file_off)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: Multiboot load range needs %llu bytes from offset "
			    "%llu but the image has %zu",
			    (unsigned long long)load_size, (unsigned long long)file_off, len);
	}
	mem_size = load_size;
	if (mh->bss_end_addr) {
		if (mh->bss_end_addr < mh->load_addr + load_size)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: Multiboot bss_end_addr %#x is below the loaded end %#llx",
			    mh->bss_end_addr, (unsigned long long)(mh->load_addr + load_size));
		mem_size = mh->bss_end_addr - (uint64_t)mh->load_addr;
	}
	if (mem_size == 0)
		return vh_error_set(err, VH_E_INVAL, "image: Multiboot load range is empty");
	plan->entry = mh->entry_addr;
	return vh_plan_add(plan, len, mh->load_addr, file_off, load_size, mem_size, err);
}

static uint64_t align_page(uint64_t a)
{
	return (a + VH_PAGE_SIZE - 1) & ~(VH_PAGE_SIZE - 1);
}

struct mb_layout {
	uint64_t mod_start[MAX_MODULES];
	uint64_t area, area_size;
	uint64_t cmdline_len; /* without the NUL */
	uint64_t args_len[MAX_MODULES];
};

static int string_len(const char *s, const char *what, uint64_t *out, struct vh_error *err)
{
	size_t n = s ? vh_strnlen(s, STRING_MAX) : 0;

	if (n == STRING_MAX)
		return vh_error_set(err, VH_E_INVAL, "%s: longer than %u bytes", what,
				    STRING_MAX - 1);
	*out = n;
	return VH_OK;
}

/* Places the modules and the information area after the image and checks
 * that everything fits below both the VM's memory size and 4 GiB (the
 * info block's fields are 32 bits). */
static int layout(uint64_t mem_bytes, const struct vh_loader_args *a,
		  const struct vh_load_plan *plan, struct mb_layout *l, struct vh_error *err)
{
	uint64_t cursor = plan->image_end, strings = 3; /* "vh" */
	int rc;

	if (a->nmodules > MAX_MODULES)
		return vh_error_set(err, VH_E_INVAL, "modules: %u given, at most %u", a->nmodules,
				    MAX_MODULES);
	if ((rc = string_len(a->cmdline, "cmdline", &l->cmdline_len, err)))
		return rc;
	strings += l->cmdline_len + 1;
	for (uint32_t i = 0; i < a->nmodules; i++) {
		const struct vh_loader_module *m = &a->modules[i];
		if (!m->bytes && m->len)
			return vh_error_set(err, VH_E_INVAL, "modules[%u]: no bytes", i);
		if ((rc = string_len(m->args, "modules[].args", &l->args_len[i], err)))
			return rc;
		strings += l->args_len[i] + 1;
		l->mod_start[i] = align_page(cursor);
		if (!vh_load_fits(mem_bytes, l->mod_start[i], m->len) ||
		    l->mod_start[i] + m->len > UINT32_MAX)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "modules[%u]: %zu bytes at %#llx do not fit in the VM's %llu MiB "
			    "of memory",
			    i, m->len, (unsigned long long)l->mod_start[i],
			    (unsigned long long)(mem_bytes / VH_MIB));
		cursor = l->mod_start[i] + m->len;
	}
	l->area = align_page(cursor);
	l->area_size = AREA_STRINGS + strings;
	if (!vh_load_fits(mem_bytes, l->area, l->area_size) || l->area + l->area_size > UINT32_MAX)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: no room for the multiboot information (%llu bytes at %#llx) "
		    "in the VM's %llu MiB of memory",
		    (unsigned long long)l->area_size, (unsigned long long)l->area,
		    (unsigned long long)(mem_bytes / VH_MIB));
	return VH_OK;
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

/* The memory map: the VM's e820 map from its layout (vh/layout.h): the
 * conventional 639 KiB, the EBDA and BIOS areas reserved, RAM from 1 MiB
 * to the 32-bit hole, RAM above 4 GiB.  Returns the entries written. */
static uint32_t memory_map(uint8_t *p, const struct vh_layout *lay)
{
	struct vh_e820_entry e[VH_E820_MAX];
	uint32_t n = vh_layout_e820(lay, e);

	for (uint32_t i = 0; i < n; i++) {
		st32(p + i * MMAP_ENTRY, 20); /* size of the rest of the entry */
		st64(p + i * MMAP_ENTRY + 4, e[i].addr);
		st64(p + i * MMAP_ENTRY + 12, e[i].len);
		st32(p + i * MMAP_ENTRY + 20, e[i].type);
	}
	return n;
}

/* The information area: its fixed part built in job->area, the strings
 * written from where they are (each with its NUL). */
static int plan_area(uint64_t bytes, const struct vh_loader_args *a, const struct mb_layout *l,
		     struct vh_loader_job *job, struct vh_error *err)
{
	uint8_t *fixed = job->area;
	uint8_t *info = fixed + AREA_INFO;
	uint64_t s = l->area + AREA_STRINGS;
	struct vh_layout lay;
	uint32_t nmmap;
	int rc;

	vh_layout_init(&lay, bytes);
	st32(info + 0,
	     MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME | (a->nmodules ? MBI_MODS : 0));
	/* mem_upper is the RAM contiguous from 1 MiB: up to the hole. */
	st32(info + 4, (uint32_t)((lay.low_end < LOW_RAM_END ? lay.low_end : LOW_RAM_END) / 1024));
	st32(info + 8,
	     (uint32_t)(lay.low_end > VH_LAYOUT_1M ? (lay.low_end - VH_LAYOUT_1M) / 1024 : 0));
	/* Flat 4 GiB code and data descriptors, accessed bits set to match
	 * the hidden state the vCPU starts with. */
	st64(fixed + AREA_GDT + 8, 0x00cf9b000000ffffull);
	st64(fixed + AREA_GDT + 16, 0x00cf93000000ffffull);
	nmmap = memory_map(fixed + AREA_MMAP, &lay);
	st32(info + 44, nmmap * MMAP_ENTRY);
	st32(info + 48, (uint32_t)(l->area + AREA_MMAP));
	/* The strings: boot loader name, command line, module strings. */
	if ((rc = vh_job_add(job, s, VH_LOADER_SRC_BYTES, "vh", 3, err)))
		return rc;
	st32(info + 64, (uint32_t)s);
	s += 3;
	if ((rc = vh_job_add(job, s, VH_LOADER_SRC_BYTES, a->cmdline ? a->cmdline : "",
			     l->cmdline_len + 1, err)))
		return rc;
	st32(info + 16, (uint32_t)s);
	s += l->cmdline_len + 1;
	st32(info + 20, a->nmodules);
	st32(info + 24, (uint32_t)(l->area + AREA_MODS));
	for (uint32_t i = 0; i < a->nmodules; i++) {
		uint8_t *mod = fixed + AREA_MODS + i * MOD_ENTRY;
		const char *args = a->modules[i].args ? a->modules[i].args : "";
		st32(mod + 0, (uint32_t)l->mod_start[i]);
		st32(mod + 4, (uint32_t)(l->mod_start[i] + a->modules[i].len));
		st32(mod + 8, (uint32_t)s);
		if ((rc = vh_job_add(job, s, VH_LOADER_SRC_BYTES, args, l->args_len[i] + 1, err)))
			return rc;
		s += l->args_len[i] + 1;
	}
	return vh_job_add_area(job, l->area, 0, AREA_STRINGS, err);
}

_Static_assert(AREA_STRINGS <= VH_LOADER_AREA_BYTES, "the information area's fixed part");

bool vh_multiboot_detect(const uint8_t *image, size_t len)
{
	return scan(image, len) != SIZE_MAX;
}

int vh_multiboot_plan(uint64_t mem_bytes, const struct vh_loader_args *a, struct vh_loader_job *job,
		      struct vh_error *err)
{
	const uint8_t *image = a->image;
	struct vh_boot_state *out = &job->boot;
	struct vh_load_plan plan;
	struct mb_header mh = { 0 };
	struct mb_layout l;
	int rc;

	vh_memset(&plan, 0, sizeof(plan));
	vh_memset(&l, 0, sizeof(l));
	if ((rc = find_header(image, a->len, &mh, err)))
		return rc;
	if (mh.flags & 0xffffu & ~MB_FLAGS_UNDERSTOOD)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: Multiboot header requires features vh lacks (flags %#x)",
		    mh.flags & 0xffffu & ~MB_FLAGS_UNDERSTOOD);
	rc = (mh.flags & MB_FLAG_AOUT_KLUDGE) ? aout_plan(&mh, a->len, &plan, err)
					      : vh_elf_plan(image, a->len, &plan, err);
	if (rc || (rc = vh_plan_check(&plan, mem_bytes, err)) ||
	    (rc = layout(mem_bytes, a, &plan, &l, err)))
		return rc;
	/* The copies, in the order they were always written: the image, the
	 * modules, the information area. */
	if ((rc = vh_job_add_segments(job, image, &plan, err)))
		return rc;
	for (uint32_t i = 0; i < a->nmodules; i++) {
		if ((rc = vh_job_add(job, l.mod_start[i], VH_LOADER_SRC_BYTES, a->modules[i].bytes,
				     a->modules[i].len, err)))
			return rc;
	}
	if ((rc = plan_area(mem_bytes, a, &l, job, err)))
		return rc;
	vh_boot_state_prot32(out);
	out->rip = plan.entry;
	out->rax = VH_MULTIBOOT_BOOT_MAGIC;
	out->rbx = l.area + AREA_INFO;
	out->gdt_base = l.area + AREA_GDT;
	out->gdt_limit = 23;
	out->image_start = plan.image_start;
	out->image_end = plan.image_end;
	out->info_addr = l.area + AREA_INFO;
	return VH_OK;
}
