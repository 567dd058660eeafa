/* SPDX-License-Identifier: Apache-2.0 */
/* ELF executables (32- and 64-bit, little-endian x86) as Multiboot boot
 * loaders read them: PT_LOAD segments go to their physical addresses
 * (p_paddr), since paging is off at entry.  Everything read from the file
 * is bounds-checked first: a truncated header, a program-header table past
 * the end, a segment whose file bytes are not in the file, or sizes whose
 * sums overflow are all errors that name what is wrong. */
#include "loader_internal.h"
#include "vh/string.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The fields vh needs, from either class. */
struct elf_hdr {
	bool is64;
	uint64_t entry, phoff;
	uint32_t phentsize, phnum;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static int read_header(const uint8_t *p, size_t len, struct elf_hdr *eh, struct vh_error *err)
{
	uint16_t type, machine;

	if (len < 52)
		return vh_error_set(err, VH_E_INVAL, "image: ELF header truncated (%zu bytes)",
				    len);
	if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return vh_error_set(err, VH_E_INVAL, "image: not an ELF file");
	if (p[EI_DATA] != ELFDATA2LSB)
		return vh_error_set(err, VH_E_INVAL, "image: ELF is not little-endian");
	eh->is64 = p[EI_CLASS] == ELFCLASS64;
	if (!eh->is64 && p[EI_CLASS] != ELFCLASS32)
		return vh_error_set(err, VH_E_INVAL, "image: unknown ELF class %u", p[EI_CLASS]);
	if (eh->is64 && len < 64)
		return vh_error_set(err, VH_E_INVAL, "image: ELF64 header truncated (%zu bytes)",
				    len);
	type = vh_ld16(p + 16);
	machine = vh_ld16(p + 18);
	if (type != ET_EXEC)
		return vh_error_set(err, VH_E_INVAL, "image: ELF type %u is not an executable",
				    type);
	if (machine != (eh->is64 ? EM_X86_64 : EM_386))
		return vh_error_set(err, VH_E_INVAL, "image: ELF machine %u is not x86", machine);
	if (eh->is64) {
		eh->entry = vh_ld64(p + 24);
		eh->phoff = vh_ld64(p + 32);
		eh->phentsize = vh_ld16(p + 54);
		eh->phnum = vh_ld16(p + 56);
	} else {
		eh->entry = vh_ld32(p + 24);
		eh->phoff = vh_ld32(p + 28);
		eh->phentsize = vh_ld16(p + 42);
		eh->phnum = vh_ld16(p + 44);
	}
	if (eh->phentsize < (eh->is64 ? 56u : 32u))
		return vh_error_set(err, VH_E_INVAL, "image: ELF program header size %u too small",
				    eh->phentsize);
	if (eh->phnum == 0)
		return vh_error_set(err, VH_E_INVAL, "image: ELF has no program headers");
	/* phnum * phentsize fits easily in 64 bits (16-bit factors). */
	if (eh->phoff > len || (uint64_t)eh->phnum * eh->phentsize > len - eh->phoff)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "image: ELF program headers (%u at offset %llu) run past the end "
		    "of the %zu-byte image",
		    eh->phnum, (unsigned long long)eh->phoff, len);
	return VH_OK;
}

static void read_phdr(const uint8_t *p, bool is64, struct elf_phdr *ph)
{
	ph->type = vh_ld32(p);
	if (is64) {
		ph->offset = vh_ld64(p + 8);
		ph->vaddr = vh_ld64(p + 16);
		ph->paddr = vh_ld64(p + 24);
		ph->filesz = vh_ld64(p + 32);
		ph->memsz = vh_ld64(p + 40);
	} else {
		ph->offset = vh_ld32(p + 4);
		ph->vaddr = vh_ld32(p + 8);
		ph->paddr = vh_ld32(p + 12);
		ph->filesz = vh_ld32(p + 16);
		ph->memsz = vh_ld32(p + 20);
	}
}

int vh_elf_plan(const uint8_t *image, size_t len, struct vh_load_plan *plan, struct vh_error *err)
{
	struct elf_hdr eh = { 0 };
	bool entry_found = false, entry_phys = false;
	int rc;

	if ((rc = read_header(image, len, &eh, err)))
		return rc;
	plan->entry = eh.entry;
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct elf_phdr ph;

		read_phdr(image + eh.phoff + (uint64_t)i * eh.phentsize, eh.is64, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if ((rc = vh_plan_add(plan, len, ph.paddr, ph.offset, ph.filesz, ph.memsz, err)))
			return rc;
		/* The entry is a virtual address; at entry paging is off, so
		 * it runs at the physical address of the same byte. */
		if (!entry_found && eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.memsz) {
			plan->entry = ph.paddr + (eh.entry - ph.vaddr);
			entry_found = true;
		}
		/* Linux's vmlinux gives its entry as the physical address
		 * (startup_64 at 16 MiB, its segments at 0xffffffff8...):
		 * a byte no segment's virtual range holds but a physical one
		 * does is that byte. */
		if (!entry_phys && eh.entry >= ph.paddr && eh.entry - ph.paddr < ph.memsz)
			entry_phys = true;
	}
	if (!entry_found && entry_phys) {
		plan->entry = eh.entry;
		entry_found = true;
	}
	if (plan->nseg == 0)
		return vh_error_set(err, VH_E_INVAL, "image: ELF has no loadable segment");
	if (!entry_found)
		return vh_error_set(err, VH_E_INVAL,
				    "image: ELF entry point %#llx is in no loadable segment",
				    (unsigned long long)eh.entry);
	return VH_OK;
}

/* One note: namesz, descsz, type, the name and the descriptor, each padded
 * to 4 bytes.  Returns the bytes it takes, or 0 when it runs past end. */
static uint64_t note_size(const uint8_t *p, uint64_t avail, uint32_t *namesz, uint32_t *descsz)
{
	uint64_t n;

	if (avail < 12)
		return 0;
	*namesz = vh_ld32(p);
	*descsz = vh_ld32(p + 4);
	n = 12 + (((uint64_t)*namesz + 3) & ~3ull) + (((uint64_t)*descsz + 3) & ~3ull);
	return n <= avail ? n : 0;
}

int vh_elf_pvh_entry(const uint8_t *image, size_t len, uint64_t *entry, struct vh_error *err)
{
	struct elf_hdr eh = { 0 };
	int rc;

	if ((rc = read_header(image, len, &eh, err)))
		return rc;
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct elf_phdr ph;
		uint64_t off, end;

		read_phdr(image + eh.phoff + (uint64_t)i * eh.phentsize, eh.is64, &ph);
		if (ph.type != PT_NOTE)
			continue;
		if (ph.offset > len || ph.filesz > len - ph.offset)
			return vh_error_set(err, VH_E_INVAL,
					    "image: ELF note segment %u runs past the end of the "
					    "%zu-byte image",
					    i, len);
		end = ph.offset + ph.filesz;
		for (off = ph.offset; off < end;) {
			uint32_t namesz, descsz;
			uint64_t n = note_size(image + off, end - off, &namesz, &descsz);
			const uint8_t *desc = image + off + 12 + ((namesz + 3ull) & ~3ull);

			if (!n)
				break;
			if (namesz == 4 && !vh_memcmp(image + off + 12, "Xen", 4) &&
			    vh_ld32(image + off + 8) == XEN_ELFNOTE_PHYS32_ENTRY) {
				if (descsz != 4 && descsz != 8)
					return vh_error_set(err, VH_E_INVAL,
							    "image: PVH entry note has %u bytes, "
							    "not 4 or 8",
							    descsz);
				*entry = descsz == 4 ? vh_ld32(desc) : vh_ld64(desc);
				return VH_OK;
			}
			off += n;
		}
	}
	return vh_error_set(err, VH_E_INVAL,
			    "image: ELF has no PVH entry note (Xen note type %u)",
			    XEN_ELFNOTE_PHYS32_ENTRY);
}
