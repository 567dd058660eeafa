/* SPDX-License-Identifier: Apache-2.0 */
/* Guest loaders shared by both backends (hypervisor/loader/): put a
 * kernel image into a VM's guest-physical memory through the core
 * (vh_mem_guest_write) and say how its boot vCPU starts.
 *
 *   Multiboot 1 (what `qemu -kernel` and GRUB boot): ELF32 or ELF64
 *   segments at their physical addresses (p_paddr), or the header's a.out
 *   kludge address fields; a multiboot information block (memory size,
 *   memory map, command line, modules, boot loader name "vh"); entry in
 *   32-bit protected mode, EAX = 0x2BADB002, EBX = the block's address.
 *
 *   Linux (linux.c, Documentation/x86/boot.rst): a bzImage through its
 *   64-bit entry (zero page, command line, initrd, e820, RSDP address;
 *   long mode with identity page tables, RSI = the zero page), or an ELF
 *   vmlinux through its PVH note (32-bit, EBX = hvm_start_info).
 *
 *   Raw binaries: copied to a given address and entered there in real
 *   mode (CS:IP = addr >> 4 : addr & 15), or flat 32-bit protected mode.
 *   A raw binary has no header to recognise: it is loaded only when the
 *   caller asks for it (VH_IMAGE_RAW_*); VH_IMAGE_AUTO reads the kind of
 *   every other image from its contents (vh_loader_detect).
 *
 * A load is checked completely before the first byte is written, so a
 * malformed image fails with a reason and leaves nothing to run. */
#ifndef VH_LOADER_H
#define VH_LOADER_H

#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_error;

/* A segment register as VMX guest state and KVM's struct kvm_segment hold
 * it.  access uses the VMX access-rights layout: type (bits 3:0), S (4),
 * DPL (6:5), P (7), AVL (12), L (13), D/B (14), G (15). */
struct vh_boot_segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit; /* in bytes, already scaled by G */
	uint32_t access;
};

enum vh_boot_mode {
	VH_BOOT_REAL = 1,    /* real mode: CR0.PE = 0 (needs unrestricted guest) */
	VH_BOOT_PROT32 = 2,  /* 32-bit protected mode, flat, paging off */
	VH_BOOT_LONG64 = 3,  /* 64-bit mode: EFER.LME|LMA, CR0.PG|PE, CR4.PAE, CR3, CS.L */
};

/* The boot vCPU's initial state; every other register is zero (except
 * RFLAGS bit 1 and the usual reset values a backend keeps: CR0.ET, DR6,
 * DR7, IDTR base 0 limit 0xffff, LDTR unusable, TR a busy TSS at base 0
 * limit 0xffff as VMX requires).  CR3, CR4 and EFER are 0 but in
 * VH_BOOT_LONG64, where the backend also enters IA-32e mode (bare metal:
 * the VMCS's IA-32e-mode-guest entry control; vh-hosted: KVM_SET_SREGS). */
struct vh_boot_state {
	enum vh_boot_mode mode;
	uint64_t rip, rsp, rax, rbx, rsi, rflags;
	uint64_t cr0;
	uint64_t cr3, cr4, efer; /* 0 but in VH_BOOT_LONG64 */
	struct vh_boot_segment cs, ds, es, fs, gs, ss;
	/* The GDT the selectors refer to.  Multiboot says the guest must not
	 * rely on it (it loads its own), so vh places none in guest memory:
	 * base 0, limit 0 unless a loader wrote one. */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	/* Where the image went, for diagnostics and tests. */
	uint64_t image_start, image_end; /* guest-physical [start, end) */
	uint64_t info_addr; /* multiboot info, zero page or hvm_start_info; 0 for raw */
};

/* A module handed to the guest (a Multiboot module: bytes plus a string). */
struct vh_loader_module {
	const void *bytes;
	size_t len;
	const char *args; /* the module's string (may be NULL: empty) */
};

enum vh_image_kind {
	VH_IMAGE_AUTO = 0,       /* read from the contents (vh_loader_detect) */
	VH_IMAGE_MULTIBOOT = 1,
	VH_IMAGE_RAW_REAL = 2,   /* raw binary at load_addr, real mode */
	VH_IMAGE_RAW_PROT32 = 3, /* raw binary at load_addr, flat 32-bit */
	VH_IMAGE_BZIMAGE = 4,    /* Linux bzImage, 64-bit entry */
	VH_IMAGE_PVH = 5,        /* ELF with a XEN_ELFNOTE_PHYS32_ENTRY note */
};

/* What an image's contents say it is: a bzImage ("HdrS" at 0x202), a
 * Multiboot image (its header in the first 8 KiB) or an ELF with a PVH
 * entry note, in that order; VH_IMAGE_AUTO when none (a raw binary looks
 * like nothing). */
enum vh_image_kind vh_loader_detect(const void *image, size_t len);
const char *vh_image_kind_name(enum vh_image_kind k);

struct vh_loader_args {
	enum vh_image_kind kind;
	const void *image;
	size_t len;
	/* The Multiboot command line: conventionally the image name first,
	 * then the arguments ("spinner.elf iters=100"), as GRUB and QEMU
	 * pass it.  NULL: empty. */
	const char *cmdline;
	const struct vh_loader_module *modules;
	uint32_t nmodules;
	uint64_t load_addr; /* raw images only; 0x7c00 is customary */
	/* The VM's ACPI tables (vh/acpi.h), written at VH_ACPI_GPA beside the
	 * image (vh_loader_acpi() builds them); acpi_len 0: none. */
	const void *acpi;
	size_t acpi_len;
	/* Linux only (bzImage and PVH): the initial RAM disk (NULL: none)
	 * and the guest-physical address of the ACPI RSDP (0: none). */
	const void *initrd;
	size_t initrd_len;
	uint64_t rsdp;
};

/* The Multiboot 1 magic numbers. */
#define VH_MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define VH_MULTIBOOT_BOOT_MAGIC 0x2BADB002u
/* The header must lie within the first 8 KiB, 4-byte aligned. */
#define VH_MULTIBOOT_SEARCH 8192u

/* A load split in two: vh_loader_prepare() checks everything and lists
 * every byte range to write (it needs only the size of the VM's memory,
 * so a backend may call it without its host lock); vh_loader_write()
 * writes the list through the core, as much of it per call as the caller
 * allows, so that a backend can hold its host lock for bounded times
 * while a large image goes in.  The job points into the caller's image,
 * module and string buffers: they must outlive it. */
#define VH_LOADER_MAX_COPIES 64  /* segments and bss, modules, strings, info */
#define VH_LOADER_AREA_BYTES 400 /* the fixed part of the multiboot information */

enum vh_loader_src {
	VH_LOADER_SRC_BYTES = 0, /* from src */
	VH_LOADER_SRC_ZEROS = 1, /* zeros (bss) */
	VH_LOADER_SRC_AREA = 2,  /* from the job's own area[], at area_off */
	VH_LOADER_SRC_IDMAP = 3, /* 2 MiB page-directory entries mapping 0.. 1:1 */
};

struct vh_loader_copy {
	uint64_t gpa;
	uint64_t len;
	enum vh_loader_src kind;
	const void *src;   /* VH_LOADER_SRC_BYTES only */
	uint32_t area_off; /* VH_LOADER_SRC_AREA only */
};

struct vh_loader_job {
	struct vh_loader_copy copy[VH_LOADER_MAX_COPIES];
	uint32_t ncopies;
	uint64_t total;                     /* bytes of all copies */
	uint8_t area[VH_LOADER_AREA_BYTES]; /* multiboot information block, GDT, ... */
	struct vh_boot_state boot;          /* valid once every copy is written */
	/* Progress of vh_loader_write(): copy[next] has offset bytes done. */
	uint32_t next;
	uint64_t offset, written;
};

/* Checks the image against a guest memory of mem_bytes and fills *job
 * (nothing written yet).  The errors are those of vh_loader_load(). */
int vh_loader_prepare(uint64_t mem_bytes, const struct vh_loader_args *args,
		      struct vh_loader_job *job, struct vh_error *err);
/* Writes at most max bytes of the job into vm, from where the previous
 * call stopped.  The VM must be running with the memory size the job was
 * prepared for.  An error (the host refused memory, the VM is not
 * running) leaves the job unfinished: the backend must not run the VM. */
int vh_loader_write(struct vh_host *h, struct vh_vm *vm, struct vh_loader_job *job, uint64_t max,
		    struct vh_error *err);
static inline bool vh_loader_done(const struct vh_loader_job *job)
{
	return job->next == job->ncopies;
}

/* Builds vm's ACPI tables (vh/acpi.h) into buf (len bytes;
 * VH_ACPI_MAX_BYTES suffice) and says how many bytes they take: the
 * backend passes them as args.acpi and args.acpi_len, and the load puts
 * them where the guest looks (the RSDP at VH_ACPI_RSDP_GPA, in the BIOS
 * area the e820 map reserves).  buf must outlive the load. */
int vh_loader_acpi(const struct vh_vm *vm, uint8_t *buf, size_t len, size_t *used,
		   struct vh_error *err);

/* Loads the image into vm (which must be running: memory is its own
 * only while powered on) and fills *out.  Call it after vh_vm_start() or
 * vh_vm_reset(), before the boot vCPU first runs.  Every check (headers,
 * sizes, overflow, placement inside guest memory, overlaps) precedes the
 * first write, so a malformed image changes nothing.  On any failure err
 * says why and *out is zeroed (mode 0): the backend must not run the VM
 * (the only failure after the first write is the host refusing memory). */
int vh_loader_load(struct vh_host *h, struct vh_vm *vm, const struct vh_loader_args *args,
		   struct vh_boot_state *out, struct vh_error *err);

#endif
