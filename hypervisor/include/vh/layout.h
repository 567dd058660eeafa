/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's guest-physical layout, computed in one place from its memory
 * size (hypervisor/core/mem/layout.c), as a PC with a 32-bit MMIO hole:
 *
 *   [0, low_end)                RAM, low_end = min(size, 3 GiB)
 *   [3 GiB, 4 GiB)              the hole: never RAM
 *     [0xc0000000, 0xe0000000)  PCI MMIO window (32-bit BARs)
 *     [0xe0000000, 0xf0000000)  PCI ECAM (256 buses)
 *     [0xf0000000, 0xf0100000)  firmware: room for ACPI and other tables
 *     [0xfec00000, +4 KiB)      IOAPIC
 *     [0xfee00000, +4 KiB)      local APIC
 *     the rest                  unassigned
 *   [4 GiB, high_end)           RAM above the hole: size - low_end bytes
 *
 * The hole starts where Cloud Hypervisor and Firecracker put it (3 GiB),
 * so a VM of up to 3 GiB is one contiguous range as before.  The memory
 * manager backs only RAM; both back ends' fault paths send an access
 * anywhere else to the device models (or refuse it); the loaders give the
 * guest the e820 map that follows.  The layout is 24 bytes per VM. */
#ifndef VH_LAYOUT_H
#define VH_LAYOUT_H

#include "vh/types.h"

#define VH_LAYOUT_HOLE_START    0xc0000000ull
#define VH_LAYOUT_4G            0x100000000ull
#define VH_LAYOUT_PCI_MMIO_BASE 0xc0000000ull
#define VH_LAYOUT_PCI_MMIO_SIZE 0x20000000ull
#define VH_LAYOUT_ECAM_BASE     0xe0000000ull
#define VH_LAYOUT_ECAM_SIZE     0x10000000ull
#define VH_LAYOUT_FIRMWARE_BASE 0xf0000000ull
#define VH_LAYOUT_FIRMWARE_SIZE 0x100000ull
#define VH_LAYOUT_IOAPIC_BASE   0xfec00000ull
#define VH_LAYOUT_IOAPIC_SIZE   0x1000ull
#define VH_LAYOUT_LAPIC_BASE    0xfee00000ull
#define VH_LAYOUT_LAPIC_SIZE    0x1000ull
/* The legacy PC areas the Multiboot memory map reports reserved inside
 * low RAM (the EBDA and the BIOS ROM), as a PC firmware does.  The VM's
 * ACPI tables lie in the BIOS area (vh/acpi.h: VH_ACPI_GPA), where a guest
 * scanning for the RSDP finds them; the firmware room in the hole stays
 * free for what is not RAM. */
#define VH_LAYOUT_EBDA_START 0x9fc00ull
#define VH_LAYOUT_VGA_START  0xa0000ull
#define VH_LAYOUT_BIOS_START 0xf0000ull
#define VH_LAYOUT_1M         0x100000ull

/* What a guest-physical address is. */
enum vh_gpa_kind {
	VH_GPA_RAM = 0,  /* guest memory: the memory manager backs it */
	VH_GPA_PCI_MMIO, /* the 32-bit PCI window */
	VH_GPA_ECAM,     /* PCI configuration space (memory-mapped) */
	VH_GPA_FIRMWARE, /* room for firmware tables */
	VH_GPA_IOAPIC,
	VH_GPA_LAPIC,
	VH_GPA_UNASSIGNED, /* in the hole, nothing there */
	VH_GPA_NONE,       /* above everything the VM has */
};

struct vh_layout {
	uint64_t ram_bytes; /* the VM's memory: low plus high RAM */
	uint64_t low_end;   /* RAM [0, low_end) */
	uint64_t high_end;  /* RAM [4 GiB, high_end); 4 GiB when there is none */
};

/* e820 types. */
#define VH_E820_RAM      1u
#define VH_E820_RESERVED 2u
#define VH_E820_MAX      5u /* conventional, EBDA, BIOS, RAM to the hole, RAM above 4 GiB */

struct vh_e820_entry {
	uint64_t addr, len;
	uint32_t type;
};

/* The layout of a VM of ram_bytes (a multiple of 4 KiB). */
void vh_layout_init(struct vh_layout *l, uint64_t ram_bytes);
enum vh_gpa_kind vh_layout_kind(const struct vh_layout *l, uint64_t gpa);
const char *vh_gpa_kind_name(enum vh_gpa_kind k);
static inline bool vh_layout_is_ram(const struct vh_layout *l, uint64_t gpa)
{
	return gpa < l->low_end || (gpa >= VH_LAYOUT_4G && gpa < l->high_end);
}
/* Is all of [gpa, gpa + len) RAM (one region: low and high RAM are not
 * adjacent)?  No sum overflows. */
bool vh_layout_ram_range(const struct vh_layout *l, uint64_t gpa, uint64_t len);
/* RAM frames (ram_bytes / 4 KiB). */
static inline uint64_t vh_layout_ram_pages(const struct vh_layout *l)
{
	return l->ram_bytes >> VH_PAGE_SHIFT;
}
/* One past the highest RAM address: the span a guest map, a KVM address
 * reservation or an EPT must cover. */
static inline uint64_t vh_layout_ram_top(const struct vh_layout *l)
{
	return l->high_end > VH_LAYOUT_4G ? l->high_end : l->low_end;
}
/* One past the highest address the layout gives meaning to (RAM or the
 * hole's devices): at least 4 GiB. */
static inline uint64_t vh_layout_top(const struct vh_layout *l)
{
	return l->high_end;
}
/* Guest-physical address bits needed to reach vh_layout_top(). */
unsigned vh_layout_phys_bits(const struct vh_layout *l);
/* The frame of the index-th RAM page (index < vh_layout_ram_pages): RAM
 * numbered from 0 across the hole, for callers that pick pages by count. */
vh_gfn_t vh_layout_ram_gfn(const struct vh_layout *l, uint64_t index);
/* gfn when it is RAM, else the first RAM frame above it; the frame of
 * vh_layout_ram_top() when none is. */
vh_gfn_t vh_layout_next_ram_gfn(const struct vh_layout *l, vh_gfn_t gfn);
/* The e820 map: the legacy areas reserved below 1 MiB (where RAM reaches
 * them), RAM to the hole, RAM above 4 GiB; nothing in the hole.  Returns
 * the entries written (at most VH_E820_MAX). */
uint32_t vh_layout_e820(const struct vh_layout *l, struct vh_e820_entry out[VH_E820_MAX]);

#endif
