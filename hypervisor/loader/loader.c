/* SPDX-License-Identifier: Apache-2.0 */
/* vh_loader_prepare plans a load (every range checked against the image,
 * guest memory and the other ranges) into a list of copies and the boot
 * vCPU's state; vh_loader_write writes the list through the core's
 * guest-memory accessors, in as many steps as the backend wants.  The
 * split means a malformed image is refused before guest memory changes,
 * and that a backend can plan without its host lock and write in bounded
 * pieces (vh_loader_load does both at once). */
#include "loader_internal.h"
#include "vh/acpi.h"
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/string.h"
#include "vh/vm.h"

int vh_plan_add(struct vh_load_plan *plan, size_t image_len, uint64_t addr, uint64_t offset,
		uint64_t filesz, uint64_t memsz, struct vh_error *err)
{
	uint32_t n = plan->nseg;

	if (n == VH_LOAD_MAX_SEGMENTS)
		return vh_error_set(err, VH_E_INVAL, "image: more than %u loadable segments",
				    VH_LOAD_MAX_SEGMENTS);
	if (filesz > memsz)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: segment %u has more file bytes (%llu) than memory (%llu)", n,
		    (unsigned long long)filesz, (unsigned long long)memsz);
	if (offset > image_len || filesz > image_len - offset)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: segment %u (file bytes %#llx + %#llx) runs past the end of "
		    "the %zu-byte image",
		    n, (unsigned long long)offset, (unsigned long long)filesz, image_len);
	if (addr + memsz < addr)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: segment %u at %#llx + %#llx overflows the address space", n,
		    (unsigned long long)addr, (unsigned long long)memsz);
	for (uint32_t i = 0; i < n; i++) {
		const struct vh_load_segment *s = &plan->seg[i];
		if (addr < s->addr + s->memsz && s->addr < addr + memsz)
			return vh_error_set(err, VH_E_INVAL,
					    "image: segments %u and %u overlap at %#llx", i, n,
					    (unsigned long long)(addr > s->addr ? addr : s->addr));
	}
	plan->seg[n] = (struct vh_load_segment){ addr, offset, filesz, memsz };
	plan->nseg = n + 1;
	if (n == 0 || addr < plan->image_start)
		plan->image_start = addr;
	if (n == 0 || addr + memsz > plan->image_end)
		plan->image_end = addr + memsz;
	return VH_OK;
}

int vh_plan_check(const struct vh_load_plan *plan, uint64_t mem_bytes, struct vh_error *err)
{
	bool entry_ok = false;

	for (uint32_t i = 0; i < plan->nseg; i++) {
		const struct vh_load_segment *s = &plan->seg[i];
		if (!vh_load_fits(mem_bytes, s->addr, s->memsz))
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: segment %u at %#llx + %#llx is outside the VM's %llu MiB "
			    "of memory",
			    i, (unsigned long long)s->addr, (unsigned long long)s->memsz,
			    (unsigned long long)(mem_bytes / VH_MIB));
		if (plan->entry >= s->addr && plan->entry - s->addr < s->memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return vh_error_set(err, VH_E_INVAL, "image: entry point %#llx is not in the image",
				    (unsigned long long)plan->entry);
	/* Entered in 32-bit mode: EIP cannot reach above 4 GiB. */
	if (plan->entry > UINT32_MAX)
		return vh_error_set(err, VH_E_INVAL, "image: entry point %#llx is above 4 GiB",
				    (unsigned long long)plan->entry);
	return VH_OK;
}

int vh_job_add(struct vh_loader_job *job, uint64_t gpa, enum vh_loader_src kind, const void *src,
	       uint64_t len, struct vh_error *err)
{
	if (!len)
		return VH_OK;
	if (job->ncopies == VH_LOADER_MAX_COPIES)
		return vh_error_set(err, VH_E_INTERNAL, "image: more than %u ranges to write",
				    VH_LOADER_MAX_COPIES);
	job->copy[job->ncopies++] = (struct vh_loader_copy){ gpa, len, kind, src, 0 };
	job->total += len;
	return VH_OK;
}

int vh_job_add_area(struct vh_loader_job *job, uint64_t gpa, uint32_t area_off, uint64_t len,
		    struct vh_error *err)
{
	int rc = vh_job_add(job, gpa, VH_LOADER_SRC_AREA, NULL, len, err);

	if (!rc && len)
		job->copy[job->ncopies - 1].area_off = area_off;
	return rc;
}

int vh_job_add_segments(struct vh_loader_job *job, const uint8_t *image,
			const struct vh_load_plan *plan, struct vh_error *err)
{
	int rc;

	for (uint32_t i = 0; i < plan->nseg; i++) {
		const struct vh_load_segment *s = &plan->seg[i];
		if ((rc = vh_job_add(job, s->addr, VH_LOADER_SRC_BYTES, image + s->offset,
				     s->filesz, err)) ||
		    (rc = vh_job_add(job, s->addr + s->filesz, VH_LOADER_SRC_ZEROS, NULL,
				     s->memsz - s->filesz, err)))
			return rc;
	}
	return VH_OK;
}

int vh_loader_write(struct vh_host *h, struct vh_vm *vm, struct vh_loader_job *job, uint64_t max,
		    struct vh_error *err)
{
	/* Zeros for bss in bounded pieces: no large stack buffer. */
	static const uint8_t zeros[512];
	uint8_t gen[512];
	int rc;

	while (job->next < job->ncopies && max) {
		const struct vh_loader_copy *c = &job->copy[job->next];
		uint64_t n = c->len - job->offset;
		const uint8_t *src;

		if (n > max)
			n = max;
		switch (c->kind) {
		case VH_LOADER_SRC_ZEROS:
			if (n > sizeof(zeros))
				n = sizeof(zeros);
			src = zeros;
			break;
		case VH_LOADER_SRC_AREA: src = job->area + c->area_off + job->offset; break;
		case VH_LOADER_SRC_IDMAP:
			/* Entry k maps 2 MiB page k: present, writable, PS. */
			if (n > sizeof(gen))
				n = sizeof(gen);
			for (uint64_t i = 0; i < n; i++) {
				uint64_t b = job->offset + i;
				uint64_t e = (b / 8) * (2 * VH_MIB) | 0x83;
				gen[i] = (uint8_t)(e >> (8 * (b % 8)));
			}
			src = gen;
			break;
		default: src = (const uint8_t *)c->src + job->offset; break;
		}
		if ((rc = vh_mem_guest_write(h, vm, c->gpa + job->offset, src, (size_t)n, err)))
			return rc;
		job->offset += n;
		job->written += n;
		max -= n;
		if (job->offset == c->len) {
			job->next++;
			job->offset = 0;
		}
	}
	return VH_OK;
}

/* ---- boot states ------------------------------------------------------------ */

/* VMX access rights: code = execute/read accessed (0xb), data = read/write
 * accessed (0x3); S (0x10), P (0x80); D/B (0x4000), G (0x8000). */
#define AR_CODE32 0xc09bu
#define AR_DATA32 0xc093u
#define AR_CODE16 0x009bu
#define AR_DATA16 0x0093u
#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define RFLAGS_FIXED 0x2ull

void vh_boot_state_prot32(struct vh_boot_state *s)
{
	struct vh_boot_segment code = { 0x08, 0, 0xffffffffu, AR_CODE32 };
	struct vh_boot_segment data = { 0x10, 0, 0xffffffffu, AR_DATA32 };

	s->mode = VH_BOOT_PROT32;
	s->cr0 = CR0_PE | CR0_ET; /* paging off */
	s->rflags = RFLAGS_FIXED; /* interrupts off */
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

/* 64-bit code (L, not D/B), as Linux's __BOOT_CS. */
#define AR_CODE64 0xa09bu
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

void vh_boot_state_long64(struct vh_boot_state *s, uint16_t cs_sel, uint16_t ds_sel, uint64_t cr3)
{
	struct vh_boot_segment code = { cs_sel, 0, 0xffffffffu, AR_CODE64 };
	struct vh_boot_segment data = { ds_sel, 0, 0xffffffffu, AR_DATA32 };

	s->mode = VH_BOOT_LONG64;
	s->cr0 = CR0_PG | CR0_PE | CR0_ET;
	s->cr3 = cr3;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
	s->rflags = RFLAGS_FIXED; /* interrupts off */
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

static void boot_state_real(struct vh_boot_state *s, uint64_t addr)
{
	struct vh_boot_segment data = { 0, 0, 0xffff, AR_DATA16 };

	s->mode = VH_BOOT_REAL;
	s->cr0 = CR0_ET;
	s->rflags = RFLAGS_FIXED;
	s->cs =
	    (struct vh_boot_segment){ (uint16_t)(addr >> 4), addr & ~0xfull, 0xffff, AR_CODE16 };
	s->rip = addr & 0xf;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

/* ---- raw binaries -------------------------------------------------------------- */

static int raw_plan(uint64_t mem_bytes, const struct vh_loader_args *a, struct vh_loader_job *job,
		    struct vh_error *err)
{
	struct vh_boot_state *out = &job->boot;
	int rc;

	if (a->len == 0)
		return vh_error_set(err, VH_E_INVAL, "image: empty");
	if (!vh_load_fits(mem_bytes, a->load_addr, a->len))
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: %zu bytes at %#llx do not fit in the VM's %llu MiB of memory", a->len,
		    (unsigned long long)a->load_addr, (unsigned long long)(mem_bytes / VH_MIB));
	if (a->kind == VH_IMAGE_RAW_REAL && a->load_addr >= 0x100000)
		return vh_error_set(err, VH_E_INVAL,
				    "image: a real-mode entry at %#llx is above 1 MiB",
				    (unsigned long long)a->load_addr);
	if (a->kind == VH_IMAGE_RAW_PROT32 && a->load_addr > UINT32_MAX)
		return vh_error_set(err, VH_E_INVAL,
				    "image: a 32-bit entry at %#llx is above 4 GiB",
				    (unsigned long long)a->load_addr);
	if (a->nmodules)
		return vh_error_set(err, VH_E_INVAL, "modules: a raw binary takes none");
	if ((rc = vh_job_add(job, a->load_addr, VH_LOADER_SRC_BYTES, a->image, a->len, err)))
		return rc;
	if (a->kind == VH_IMAGE_RAW_REAL) {
		boot_state_real(out, a->load_addr);
	} else {
		vh_boot_state_prot32(out);
		out->rip = a->load_addr;
	}
	/* The stack grows down below the image, as below a boot sector
	 * (SS = 0 in real mode: SP reaches only the first 64 KiB; above that
	 * SP = 0, whose first push lands at 0xfffe). */
	if (a->kind == VH_IMAGE_RAW_PROT32)
		out->rsp = a->load_addr;
	else
		out->rsp = a->load_addr <= 0xffff ? a->load_addr : 0;
	out->image_start = a->load_addr;
	out->image_end = a->load_addr + a->len;
	return VH_OK;
}

/* What a PC's BIOS has at its reset vector, F000:FFF0, in the part of it
 * an OS may jump to: a reset.  Linux on a hardware-reduced ACPI machine
 * without EFI (vh's) reboots through EFI, then by a jump to F000:FFF0 in
 * real mode ("reboot=bios"), never reaching the ACPI reset register; with
 * RAM there it ran zeros into a triple fault.  These bytes write
 * VH_ACPI_RESET_VALUE to the ACPI reset register, as the FADT says to,
 * and halt:
 *   mov dx, 0x600 / mov al, 1 / out dx, al / cli / hlt / jmp short hlt */
#define RESET_VECTOR_GPA VH_ACPI_RESET_VECTOR_GPA
static const uint8_t reset_vector_code[] = {
	0xba,
	(VH_ACPI_PM_BASE + VH_ACPI_RESET_OFF) & 0xff,
	(VH_ACPI_PM_BASE + VH_ACPI_RESET_OFF) >> 8,
	0xb0,
	VH_ACPI_RESET_VALUE,
	0xee,
	0xfa,
	0xf4,
	0xeb,
	0xfd,
};

/* The ACPI tables, and the reset vector's code, go to the BIOS area after
 * every other range is planned: an image or module placed there is
 * refused, never overwritten. */
static int acpi_plan(uint64_t mem_bytes, const struct vh_loader_args *a, struct vh_loader_job *job,
		     struct vh_error *err)
{
	uint64_t end = VH_ACPI_GPA + a->acpi_len;
	int rc;

	if (!a->acpi_len)
		return VH_OK;
	if (a->acpi_len > RESET_VECTOR_GPA - VH_ACPI_GPA ||
	    !vh_load_fits(mem_bytes, VH_ACPI_GPA, VH_LAYOUT_1M - VH_ACPI_GPA))
		return vh_error_set(
		    err, VH_E_INVAL,
		    "acpi: %zu bytes of tables at %#llx do not fit in the BIOS area "
		    "of the VM's %llu MiB of memory",
		    a->acpi_len, (unsigned long long)VH_ACPI_GPA,
		    (unsigned long long)(mem_bytes / VH_MIB));
	for (uint32_t i = 0; i < job->ncopies; i++) {
		const struct vh_loader_copy *c = &job->copy[i];
		if (c->gpa < end && VH_ACPI_GPA < c->gpa + c->len)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: %#llx + %#llx overlaps the ACPI tables at %#llx",
			    (unsigned long long)c->gpa, (unsigned long long)c->len,
			    (unsigned long long)VH_ACPI_GPA);
		if (c->gpa < VH_LAYOUT_1M && RESET_VECTOR_GPA < c->gpa + c->len)
			return vh_error_set(
			    err, VH_E_INVAL,
			    "image: %#llx + %#llx overlaps the reset vector at %#llx",
			    (unsigned long long)c->gpa, (unsigned long long)c->len,
			    (unsigned long long)RESET_VECTOR_GPA);
	}
	if ((rc = vh_job_add(job, VH_ACPI_GPA, VH_LOADER_SRC_BYTES, a->acpi, a->acpi_len, err)))
		return rc;
	return vh_job_add(job, RESET_VECTOR_GPA, VH_LOADER_SRC_BYTES, reset_vector_code,
			  sizeof(reset_vector_code), err);
}

int vh_loader_acpi(const struct vh_vm *vm, uint8_t *buf, size_t len, size_t *used,
		   struct vh_error *err)
{
	struct vh_acpi_config c;
	struct vh_acpi_info info;
	int rc;

	*used = 0;
	vh_acpi_config_vm(vm, &c);
	if ((rc = vh_acpi_build(&c, buf, len, VH_ACPI_GPA, &info, err)))
		return rc;
	*used = info.len;
	return VH_OK;
}

enum vh_image_kind vh_loader_detect(const void *image, size_t len)
{
	const uint8_t *p = image;
	struct vh_error err = { 0 };
	uint64_t entry;

	if (!p)
		return VH_IMAGE_AUTO;
	if (len >= 0x206 && p[0x202] == 'H' && p[0x203] == 'd' && p[0x204] == 'r' &&
	    p[0x205] == 'S')
		return VH_IMAGE_BZIMAGE;
	if (vh_multiboot_detect(p, len))
		return VH_IMAGE_MULTIBOOT;
	if (vh_elf_pvh_entry(p, len, &entry, &err) == VH_OK)
		return VH_IMAGE_PVH;
	return VH_IMAGE_AUTO;
}

const char *vh_image_kind_name(enum vh_image_kind k)
{
	static const char *const names[] = {
		[VH_IMAGE_AUTO] = "of no known kind", [VH_IMAGE_MULTIBOOT] = "Multiboot",
		[VH_IMAGE_RAW_REAL] = "raw16",	      [VH_IMAGE_RAW_PROT32] = "raw32",
		[VH_IMAGE_BZIMAGE] = "a Linux bzImage", [VH_IMAGE_PVH] = "a PVH ELF",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

int vh_loader_prepare(uint64_t mem_bytes, const struct vh_loader_args *args,
		      struct vh_loader_job *job, struct vh_error *err)
{
	enum vh_image_kind kind;
	int rc;

	vh_memset(job, 0, sizeof(*job));
	if (!args || !args->image)
		return vh_error_set(err, VH_E_INVAL, "image: none given");
	kind = args->kind;
	if (kind == VH_IMAGE_AUTO)
		kind = vh_loader_detect(args->image, args->len);
	if (args->initrd_len && !args->initrd)
		return vh_error_set(err, VH_E_INVAL, "initrd: no bytes");
	if (args->initrd && kind != VH_IMAGE_AUTO && kind != VH_IMAGE_BZIMAGE &&
	    kind != VH_IMAGE_PVH)
		return vh_error_set(err, VH_E_INVAL,
				    "initrd: only a Linux kernel takes one (this image is %s)",
				    vh_image_kind_name(kind));
	switch (kind) {
	case VH_IMAGE_AUTO:
		rc = vh_error_set(
		    err, VH_E_INVAL,
		    "image: unknown kind (no bzImage \"HdrS\" at 0x202, Multiboot magic %#x "
		    "in %u bytes, ELF PVH note); raw needs boot.kind raw16 or raw32",
		    VH_MULTIBOOT_HEADER_MAGIC, VH_MULTIBOOT_SEARCH);
		break;
	case VH_IMAGE_MULTIBOOT: rc = vh_multiboot_plan(mem_bytes, args, job, err); break;
	case VH_IMAGE_RAW_REAL:
	case VH_IMAGE_RAW_PROT32: rc = raw_plan(mem_bytes, args, job, err); break;
	case VH_IMAGE_BZIMAGE: rc = vh_bzimage_plan(mem_bytes, args, job, err); break;
	case VH_IMAGE_PVH: rc = vh_pvh_plan(mem_bytes, args, job, err); break;
	default:
		rc = vh_error_set(err, VH_E_INVAL, "image: unknown kind %d", (int)args->kind);
		break;
	}
	if (!rc)
		rc = acpi_plan(mem_bytes, args, job, err);
	if (rc)
		vh_memset(job, 0, sizeof(*job));
	return rc;
}

int vh_loader_load(struct vh_host *h, struct vh_vm *vm, const struct vh_loader_args *args,
		   struct vh_boot_state *out, struct vh_error *err)
{
	struct vh_loader_job job;
	int rc;

	vh_memset(out, 0, sizeof(*out));
	if (!args || !args->image)
		return vh_error_set(err, VH_E_INVAL, "image: none given");
	if (!vm->mem.started)
		return vh_error_set(err, VH_E_STATE,
				    "VM \"%s\" is not powered on: load after start", vm->cfg.name);
	if ((rc = vh_loader_prepare(vm->mem.pages * VH_PAGE_SIZE, args, &job, err)) ||
	    (rc = vh_loader_write(h, vm, &job, UINT64_MAX, err)))
		return rc;
	*out = job.boot;
	return VH_OK;
}
