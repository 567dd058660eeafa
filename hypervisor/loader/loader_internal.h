/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the guest loaders (hypervisor/loader/):
 *
 *   loader.c     vh_loader_prepare / _write / _load: checks, then the list
 *                of copies, then writing it; boot states
 *   multiboot.c  Multiboot 1 header, ELF32/ELF64 and a.out-kludge
 *                images, the information block
 *   elf.c        ELF program headers -> a list of segments; PVH notes
 *   linux.c      bzImage (64-bit entry) and PVH vmlinux: zero page or
 *                hvm_start_info, command line, initrd, page tables
 *
 * A load is planned first (struct vh_load_plan: every byte range that
 * will be written, all checked against guest memory and each other), and
 * only a complete, valid plan is written. */
#ifndef VH_LOADER_INTERNAL_H
#define VH_LOADER_INTERNAL_H

#include "vh/error.h"
#include "vh/layout.h"
#include "vh/loader.h"

struct vh_vm;

/* At most this many loadable segments (the vh kernel has 3; a guest
 * kernel rarely more than 6). */
#define VH_LOAD_MAX_SEGMENTS 16

/* One piece of the image: file bytes [offset, offset + filesz) go to
 * guest-physical addr, and memsz - filesz zeros follow (bss). */
struct vh_load_segment {
	uint64_t addr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

struct vh_load_plan {
	struct vh_load_segment seg[VH_LOAD_MAX_SEGMENTS];
	uint32_t nseg;
	uint64_t entry;                  /* guest-physical */
	uint64_t image_start, image_end; /* the segments' extent */
};

/* Parses an ELF32 or ELF64 executable's PT_LOAD segments into plan, at
 * their physical addresses (p_paddr); the entry point is translated from
 * virtual to physical through the segment that holds it. */
int vh_elf_plan(const uint8_t *image, size_t len, struct vh_load_plan *plan, struct vh_error *err);

/* Adds a segment after checking it against the image file, overflow and
 * the segments already planned. */
int vh_plan_add(struct vh_load_plan *plan, size_t image_len, uint64_t addr, uint64_t offset,
		uint64_t filesz, uint64_t memsz, struct vh_error *err);

/* Does [gpa, gpa + len) lie in the RAM of a VM of mem bytes, as its
 * layout places it (below the 32-bit hole or above 4 GiB; never in the
 * hole)?  No sum that can overflow, as vh_mem_guest_range_ok. */
static inline bool vh_load_fits(uint64_t mem, uint64_t gpa, uint64_t len)
{
	struct vh_layout l;

	vh_layout_init(&l, mem);
	return vh_layout_ram_range(&l, gpa, len);
}

/* Checks every planned range against a guest memory of mem_bytes and the
 * entry point against the segments. */
int vh_plan_check(const struct vh_load_plan *plan, uint64_t mem_bytes, struct vh_error *err);

/* Appends a range to write (none when len is 0). */
int vh_job_add(struct vh_loader_job *job, uint64_t gpa, enum vh_loader_src kind, const void *src,
	       uint64_t len, struct vh_error *err);
/* Appends len bytes of the job's area from area_off. */
int vh_job_add_area(struct vh_loader_job *job, uint64_t gpa, uint32_t area_off, uint64_t len,
		    struct vh_error *err);
/* Appends the planned segments: file bytes, then zeros. */
int vh_job_add_segments(struct vh_loader_job *job, const uint8_t *image,
			const struct vh_load_plan *plan, struct vh_error *err);

/* A Multiboot image into job (copies and the boot state). */
int vh_multiboot_plan(uint64_t mem_bytes, const struct vh_loader_args *args,
		      struct vh_loader_job *job, struct vh_error *err);
/* Is there a valid Multiboot header in the image's first 8 KiB? */
bool vh_multiboot_detect(const uint8_t *image, size_t len);

/* The PVH entry point of an ELF (XEN_ELFNOTE_PHYS32_ENTRY in a PT_NOTE
 * segment): VH_OK with *entry set, or an error saying why there is none. */
int vh_elf_pvh_entry(const uint8_t *image, size_t len, uint64_t *entry, struct vh_error *err);

/* Linux images into job. */
int vh_bzimage_plan(uint64_t mem_bytes, const struct vh_loader_args *args,
		    struct vh_loader_job *job, struct vh_error *err);
int vh_pvh_plan(uint64_t mem_bytes, const struct vh_loader_args *args, struct vh_loader_job *job,
		struct vh_error *err);

/* Little-endian reads from an image (callers have bounds-checked). */
static inline uint16_t vh_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t vh_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vh_ld64(const uint8_t *p)
{
	return (uint64_t)vh_ld32(p) | (uint64_t)vh_ld32(p + 4) << 32;
}

/* Flat 32-bit protected mode (Multiboot's entry state and raw32). */
void vh_boot_state_prot32(struct vh_boot_state *s);
/* 64-bit mode with paging through the tables at cr3, flat segments. */
void vh_boot_state_long64(struct vh_boot_state *s, uint16_t cs_sel, uint16_t ds_sel, uint64_t cr3);

#endif
