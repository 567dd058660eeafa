/* SPDX-License-Identifier: Apache-2.0 */
/* Linux, as Documentation/x86/boot.rst and Xen's docs/misc/pvh.pandoc
 * describe the two ways in:
 *
 *   bzImage, 64-bit entry: the setup header at 0x1F1 checked ("HdrS",
 *   protocol >= 2.12, XLF_KERNEL_64, LOADED_HIGH, setup_sects, syssize
 *   against the file, kernel_alignment, init_size against RAM); the
 *   protected-mode part at 1 MiB, entered at +0x200 in 64-bit mode with
 *   RSI = the zero page (the header copied in, type_of_loader 0xff, the
 *   command line, the initrd, the e820 map, acpi_rsdp_addr), interrupts
 *   off, a GDT with __BOOT_CS 0x10 and __BOOT_DS 0x18 and page tables
 *   mapping the first 4 GiB 1:1 with 2 MiB pages.
 *
 *   PVH: an ELF vmlinux with a XEN_ELFNOTE_PHYS32_ENTRY note, its
 *   segments at their physical addresses, entered at the note's address in
 *   32-bit protected mode, paging off, EBX = hvm_start_info version 1
 *   (command line, memory map, the initrd as module 0, rsdp_paddr).
 *
 * The boot data sit at fixed low addresses, as Firecracker puts them; the
 * initrd goes page-aligned as high as it can below the hole (and below
 * initrd_addr_max), above everything the kernel occupies while it
 * decompresses.  All checks precede the first write. */
#include "loader_internal.h"
#include "vh/string.h"

/* Fixed guest-physical addresses of the boot data (all in the first
 * 640 KiB of RAM every VM has, below any kernel at 1 MiB). */
#define LX_GDT         0x500ull
#define LX_PVH_INFO    0x6000ull
#define LX_ZERO_PAGE   0x7000ull
#define LX_STACK       0x8ff0ull
#define LX_PML4        0x9000ull
#define LX_PDPT        0xa000ull
#define LX_PD          0xb000ull /* 4 pages: 4 GiB in 2 MiB pages */
#define LX_CMDLINE     0x20000ull
#define LX_CMDLINE_MAX 0x10000u    /* up to 0x30000: a longer line is refused */
#define LX_KERNEL      0x100000ull /* the protected-mode part */

/* Setup header fields (offsets in the file and in the zero page). */
#define HDR_SETUP_SECTS      0x1f1
#define HDR_SYSSIZE          0x1f4
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP_LEN         0x201 /* the jump's offset byte: the header ends at 0x202 + it */
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
#define HDR_END_MIN          0x268 /* protocol 2.12's header ends past init_size */
#define LOADED_HIGH          0x01
#define XLF_KERNEL_64        0x0001

/* Zero page (struct boot_params) fields outside the header. */
#define ZP_ACPI_RSDP    0x070
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE   0x2d0
#define ZP_E820_MAX     128u
#define ZP_SIZE         4096u

/* The job's area for a bzImage. */
#define A_GDT     0u  /* 4 descriptors */
#define A_PML4    32u /* one entry */
#define A_PDPT    40u /* four entries */
#define A_PATCH   72u /* zero page [0x210, 0x22c): loader fields */
#define PATCH_LEN (HDR_INITRD_ADDR_MAX - HDR_TYPE_OF_LOADER)
#define A_RSDP    104u /* 8 bytes */
#define A_NE820   112u /* 1 byte */
#define A_E820    116u /* 20 bytes an entry */
_Static_assert(A_PATCH + PATCH_LEN <= A_RSDP, "zero page patch");
_Static_assert(A_E820 + 20u * VH_E820_MAX <= VH_LOADER_AREA_BYTES, "bzImage area");
_Static_assert(VH_E820_MAX <= ZP_E820_MAX, "zero page e820 table");

/* The job's area for PVH: the GDT, then hvm_start_info, its module list
 * and memory map, written together at LX_PVH_INFO. */
#define P_GDT     0u
#define P_INFO    24u
#define P_MOD     (P_INFO + 56u)
#define P_MEMMAP  (P_MOD + 32u)
#define PVH_MAGIC 0x336ec578u
_Static_assert(P_MEMMAP + 24u * VH_E820_MAX <= VH_LOADER_AREA_BYTES, "PVH area");

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)v);
	st16(p + 2, (uint16_t)(v >> 16));
}

static void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t mib(uint64_t bytes)
{
	return bytes / VH_MIB;
}

/* The command line's length (without its NUL), refused past limit. */
static int cmdline_len(const char *s, uint64_t limit, const char *whose, uint64_t *out,
		       struct vh_error *err)
{
	size_t n = s ? vh_strnlen(s, LX_CMDLINE_MAX) : 0;

	if (n >= LX_CMDLINE_MAX || n > limit)
		return vh_error_set(
		    err, VH_E_INVAL, "cmdline: %zu%s bytes, longer than the %llu %s accepts", n,
		    n >= LX_CMDLINE_MAX ? " or more" : "",
		    (unsigned long long)(limit < LX_CMDLINE_MAX - 1 ? limit : LX_CMDLINE_MAX - 1),
		    whose);
	*out = n;
	return VH_OK;
}

/* The initrd, page-aligned and as high as it goes below limit (the hole,
 * 4 GiB, the kernel's initrd_addr_max), not below floor. */
static int place_initrd(uint64_t mem_bytes, const struct vh_loader_args *a, uint64_t floor,
			uint64_t limit, uint64_t *out, struct vh_error *err)
{
	struct vh_layout lay;
	uint64_t top;

	*out = 0;
	if (!a->initrd)
		return VH_OK;
	vh_layout_init(&lay, mem_bytes);
	top = lay.low_end < limit ? lay.low_end : limit;
	floor = (floor + VH_PAGE_SIZE - 1) & ~(VH_PAGE_SIZE - 1);
	if (a->initrd_len == 0 || top < floor || a->initrd_len > top - floor)
		return vh_error_set(err, VH_E_INVAL,
				    "initrd: %zu bytes do not fit in the VM's %llu MiB of memory "
				    "between the kernel's end (%#llx) and %#llx",
				    a->initrd_len, (unsigned long long)mib(mem_bytes),
				    (unsigned long long)floor, (unsigned long long)top);
	*out = (top - a->initrd_len) & ~(VH_PAGE_SIZE - 1);
	return VH_OK;
}

/* Writes the e820 map of the VM's layout as n entries of stride bytes
 * (addr, size, type: 20 bytes in the zero page, 24 in PVH's memmap). */
static uint32_t e820(uint64_t mem_bytes, uint8_t *p, uint32_t stride)
{
	struct vh_e820_entry e[VH_E820_MAX];
	struct vh_layout lay;
	uint32_t n;

	vh_layout_init(&lay, mem_bytes);
	n = vh_layout_e820(&lay, e);
	for (uint32_t i = 0; i < n; i++) {
		st64(p + i * stride, e[i].addr);
		st64(p + i * stride + 8, e[i].len);
		st32(p + i * stride + 16, e[i].type);
	}
	return n;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

struct bz {
	uint64_t prot_off, prot_len; /* the protected-mode part in the file */
	uint64_t run, init_size;     /* where it decompresses and runs */
	uint64_t end;                /* the end of everything the kernel occupies */
	uint32_t hdr_end, cmdline_size, initrd_max;
};

/* Every setup-header check; fills *bz. */
static int bz_header(uint64_t mem_bytes, const uint8_t *p, size_t len, struct bz *bz,
		     struct vh_error *err)
{
	struct vh_layout lay;
	uint32_t version, align, sects;
	uint64_t pref;

	if (len < HDR_MAGIC + 4 || vh_memcmp(p + HDR_MAGIC, "HdrS", 4))
		return vh_error_set(err, VH_E_INVAL,
				    "image: not a Linux bzImage (no \"HdrS\" at offset 0x202)");
	if (len < HDR_END_MIN)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "bzImage truncated: %zu bytes, its setup header alone needs %#x", len,
		    HDR_END_MIN);
	version = vh_ld16(p + HDR_VERSION);
	if (version < 0x20c)
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: boot protocol %u.%02u is older than 2.12 (the "
				    "64-bit entry)",
				    version >> 8, version & 0xff);
	bz->hdr_end = 0x202u + p[HDR_JUMP_LEN];
	if (bz->hdr_end < HDR_END_MIN || bz->hdr_end > len)
		return vh_error_set(err, VH_E_INVAL, "setup header: says it ends at %#x, %s",
				    bz->hdr_end,
				    bz->hdr_end > len ? "outside the file" : "before init_size");
	if (vh_ld16(p + HDR_BOOT_FLAG) != 0xaa55)
		return vh_error_set(err, VH_E_INVAL, "setup header: boot_flag %#x is not 0xaa55",
				    vh_ld16(p + HDR_BOOT_FLAG));
	if (!(vh_ld16(p + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: no 64-bit entry point (XLF_KERNEL_64 clear)");
	if (!(p[HDR_LOADFLAGS] & LOADED_HIGH))
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: a zImage (LOADED_HIGH clear), not a bzImage");
	sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4;
	bz->prot_off = (sects + 1ull) * 512;
	if (bz->prot_off >= len)
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: setup_sects %u puts the kernel at %#llx, "
				    "outside the %zu-byte file",
				    sects, (unsigned long long)bz->prot_off, len);
	bz->prot_len = len - bz->prot_off;
	if (vh_ld32(p + HDR_SYSSIZE) == 0 || vh_ld32(p + HDR_SYSSIZE) * 16ull > bz->prot_len)
		return vh_error_set(err, VH_E_INVAL,
				    "bzImage truncated: syssize says %llu bytes of kernel, the "
				    "file has %llu after its setup code",
				    vh_ld32(p + HDR_SYSSIZE) * 16ull,
				    (unsigned long long)bz->prot_len);
	align = vh_ld32(p + HDR_KERNEL_ALIGNMENT);
	if (!pow2(align))
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: kernel_alignment %#x is not a power of two",
				    align);
	/* Where head_64.S decompresses to: the load address aligned up
	 * (relocatable), never below pref_address (LOAD_PHYSICAL_ADDR). */
	pref = vh_ld64(p + HDR_PREF_ADDRESS);
	bz->run = LX_KERNEL;
	if (p[HDR_RELOCATABLE])
		bz->run = (LX_KERNEL + align - 1) & ~((uint64_t)align - 1);
	if (bz->run < pref)
		bz->run = pref;
	bz->init_size = vh_ld32(p + HDR_INIT_SIZE);
	vh_layout_init(&lay, mem_bytes);
	/* init_size covers the decompression, the compressed kernel included. */
	if (bz->init_size < bz->prot_len)
		return vh_error_set(err, VH_E_INVAL,
				    "setup header: init_size %#llx is smaller than the %#llx-byte "
				    "kernel",
				    (unsigned long long)bz->init_size,
				    (unsigned long long)bz->prot_len);
	if (bz->run >= lay.low_end || bz->init_size > lay.low_end - bz->run)
		return vh_error_set(err, VH_E_INVAL,
				    "kernel: needs %llu MiB (init_size) from %#llx, the VM's %llu "
				    "MiB of memory end at %#llx",
				    (unsigned long long)mib(bz->init_size + VH_MIB - 1),
				    (unsigned long long)bz->run, (unsigned long long)mib(mem_bytes),
				    (unsigned long long)lay.low_end);
	if (lay.low_end <= LX_KERNEL || bz->prot_len > lay.low_end - LX_KERNEL)
		return vh_error_set(
		    err, VH_E_INVAL, "kernel: %llu bytes do not fit in the VM's %llu MiB of memory",
		    (unsigned long long)bz->prot_len, (unsigned long long)mib(mem_bytes));
	bz->end = bz->run + bz->init_size;
	if (LX_KERNEL + bz->prot_len > bz->end)
		bz->end = LX_KERNEL + bz->prot_len;
	bz->cmdline_size = vh_ld32(p + HDR_CMDLINE_SIZE);
	bz->initrd_max = vh_ld32(p + HDR_INITRD_ADDR_MAX);
	return VH_OK;
}

/* The GDT both entries use: null, null, then code and data at 0x10 and
 * 0x18 (64-bit code for a bzImage, 32-bit for PVH at 0x08/0x10). */
static void gdt(uint8_t *p, bool is64)
{
	if (is64) {
		st64(p + 16, 0x00af9b000000ffffull);
		st64(p + 24, 0x00cf93000000ffffull);
	} else {
		st64(p + 8, 0x00cf9b000000ffffull);
		st64(p + 16, 0x00cf93000000ffffull);
	}
}

int vh_bzimage_plan(uint64_t mem_bytes, const struct vh_loader_args *a, struct vh_loader_job *job,
		    struct vh_error *err)
{
	const uint8_t *p = a->image;
	uint8_t *area = job->area, *patch = job->area + A_PATCH;
	uint64_t ncmd = 0, initrd;
	struct bz bz;
	uint32_t n;
	int rc;

	vh_memset(&bz, 0, sizeof(bz));
	if ((rc = bz_header(mem_bytes, p, a->len, &bz, err)) ||
	    (rc = cmdline_len(a->cmdline, bz.cmdline_size, "kernel (cmdline_size)", &ncmd, err)))
		return rc;
	if (a->nmodules)
		return vh_error_set(err, VH_E_INVAL,
				    "modules: a Linux kernel takes an initrd, not modules");
	if ((rc = place_initrd(mem_bytes, a, bz.end, bz.initrd_max + 1ull, &initrd, err)))
		return rc;
	/* The zero page: zeros, the header as the file has it, then what
	 * the boot loader fills in. */
	vh_memcpy(patch, p + HDR_TYPE_OF_LOADER, PATCH_LEN);
	patch[HDR_TYPE_OF_LOADER - HDR_TYPE_OF_LOADER] = 0xff; /* undefined loader */
	st32(patch + HDR_RAMDISK_IMAGE - HDR_TYPE_OF_LOADER, (uint32_t)initrd);
	st32(patch + HDR_RAMDISK_SIZE - HDR_TYPE_OF_LOADER, (uint32_t)a->initrd_len);
	st32(patch + HDR_CMD_LINE_PTR - HDR_TYPE_OF_LOADER, (uint32_t)LX_CMDLINE);
	st64(area + A_RSDP, a->rsdp);
	n = e820(mem_bytes, area + A_E820, 20);
	area[A_NE820] = (uint8_t)n;
	gdt(area + A_GDT, true);
	st64(area + A_PML4, LX_PDPT | 3);
	for (uint32_t i = 0; i < 4; i++)
		st64(area + A_PDPT + 8 * i, (LX_PD + i * VH_PAGE_SIZE) | 3);
	if ((rc = vh_job_add(job, LX_KERNEL, VH_LOADER_SRC_BYTES, p + bz.prot_off, bz.prot_len,
			     err)) ||
	    (rc = vh_job_add(job, initrd, VH_LOADER_SRC_BYTES, a->initrd, a->initrd_len, err)) ||
	    (rc = vh_job_add(job, LX_CMDLINE, VH_LOADER_SRC_BYTES, a->cmdline ? a->cmdline : "",
			     ncmd + 1, err)) ||
	    (rc = vh_job_add(job, LX_ZERO_PAGE, VH_LOADER_SRC_ZEROS, NULL, ZP_SIZE, err)) ||
	    (rc = vh_job_add(job, LX_ZERO_PAGE + HDR_SETUP_SECTS, VH_LOADER_SRC_BYTES,
			     p + HDR_SETUP_SECTS, bz.hdr_end - HDR_SETUP_SECTS, err)) ||
	    (rc = vh_job_add_area(job, LX_ZERO_PAGE + HDR_TYPE_OF_LOADER, A_PATCH, PATCH_LEN,
				  err)) ||
	    (rc = vh_job_add_area(job, LX_ZERO_PAGE + ZP_ACPI_RSDP, A_RSDP, 8, err)) ||
	    (rc = vh_job_add_area(job, LX_ZERO_PAGE + ZP_E820_ENTRIES, A_NE820, 1, err)) ||
	    (rc = vh_job_add_area(job, LX_ZERO_PAGE + ZP_E820_TABLE, A_E820, 20ull * n, err)) ||
	    (rc = vh_job_add_area(job, LX_GDT, A_GDT, 32, err)) ||
	    (rc = vh_job_add(job, LX_PML4, VH_LOADER_SRC_ZEROS, NULL, 2 * VH_PAGE_SIZE, err)) ||
	    (rc = vh_job_add_area(job, LX_PML4, A_PML4, 8, err)) ||
	    (rc = vh_job_add_area(job, LX_PDPT, A_PDPT, 32, err)) ||
	    (rc = vh_job_add(job, LX_PD, VH_LOADER_SRC_IDMAP, NULL, 4 * VH_PAGE_SIZE, err)))
		return rc;
	vh_boot_state_long64(&job->boot, 0x10, 0x18, LX_PML4);
	job->boot.rip = LX_KERNEL + 0x200;
	job->boot.rsi = LX_ZERO_PAGE;
	job->boot.rsp = LX_STACK;
	job->boot.gdt_base = LX_GDT;
	job->boot.gdt_limit = 31;
	job->boot.image_start = LX_KERNEL;
	job->boot.image_end = LX_KERNEL + bz.prot_len;
	job->boot.info_addr = LX_ZERO_PAGE;
	return VH_OK;
}

int vh_pvh_plan(uint64_t mem_bytes, const struct vh_loader_args *a, struct vh_loader_job *job,
		struct vh_error *err)
{
	uint8_t *area = job->area, *info = job->area + P_INFO;
	struct vh_load_plan plan;
	uint64_t ncmd = 0, initrd, entry;
	uint32_t n;
	int rc;

	vh_memset(&plan, 0, sizeof(plan));
	if ((rc = vh_elf_pvh_entry(a->image, a->len, &entry, err)) ||
	    (rc = vh_elf_plan(a->image, a->len, &plan, err)))
		return rc;
	plan.entry = entry;
	if ((rc = vh_plan_check(&plan, mem_bytes, err)) ||
	    (rc = cmdline_len(a->cmdline, LX_CMDLINE_MAX - 1, "boot loader", &ncmd, err)))
		return rc;
	if (a->nmodules)
		return vh_error_set(err, VH_E_INVAL,
				    "modules: a Linux kernel takes an initrd, not modules");
	if (plan.image_start < VH_LAYOUT_1M)
		return vh_error_set(err, VH_E_INVAL,
				    "image: PVH kernel at %#llx overlaps the boot data below 1 MiB",
				    (unsigned long long)plan.image_start);
	if ((rc = place_initrd(mem_bytes, a, plan.image_end, VH_LAYOUT_4G, &initrd, err)))
		return rc;
	gdt(area + P_GDT, false);
	st32(info + 0, PVH_MAGIC);
	st32(info + 4, 1); /* version: the memory map fields exist */
	st32(info + 12, a->initrd ? 1 : 0);
	st64(info + 16, LX_PVH_INFO + (P_MOD - P_INFO));
	st64(info + 24, LX_CMDLINE);
	st64(info + 32, a->rsdp);
	st64(info + 40, LX_PVH_INFO + (P_MEMMAP - P_INFO));
	st64(area + P_MOD, initrd);
	st64(area + P_MOD + 8, a->initrd_len);
	n = e820(mem_bytes, area + P_MEMMAP, 24);
	st32(info + 48, n);
	if ((rc = vh_job_add_segments(job, a->image, &plan, err)) ||
	    (rc = vh_job_add(job, initrd, VH_LOADER_SRC_BYTES, a->initrd, a->initrd_len, err)) ||
	    (rc = vh_job_add(job, LX_CMDLINE, VH_LOADER_SRC_BYTES, a->cmdline ? a->cmdline : "",
			     ncmd + 1, err)) ||
	    (rc = vh_job_add_area(job, LX_GDT, P_GDT, 24, err)) ||
	    (rc = vh_job_add_area(job, LX_PVH_INFO, P_INFO, (P_MEMMAP - P_INFO) + 24ull * n, err)))
		return rc;
	vh_boot_state_prot32(&job->boot);
	job->boot.rip = plan.entry;
	job->boot.rbx = LX_PVH_INFO;
	job->boot.gdt_base = LX_GDT;
	job->boot.gdt_limit = 23;
	job->boot.image_start = plan.image_start;
	job->boot.image_end = plan.image_end;
	job->boot.info_addr = LX_PVH_INFO;
	return VH_OK;
}
