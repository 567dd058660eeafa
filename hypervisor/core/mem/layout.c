/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-physical layout (vh/layout.h): RAM below the 32-bit hole, the
 * hole's named regions, RAM above 4 GiB, and the e820 map from them. */
#include "vh/layout.h"
#include "vh/devices.h"

_Static_assert(VH_LAYOUT_LAPIC_BASE == VH_LAPIC_BASE, "the local APIC model sits in the layout");

static const struct hole_region {
	uint64_t base, size;
	enum vh_gpa_kind kind;
	const char *name;
} hole[] = {
	{ VH_LAYOUT_PCI_MMIO_BASE, VH_LAYOUT_PCI_MMIO_SIZE, VH_GPA_PCI_MMIO, "PCI MMIO" },
	{ VH_LAYOUT_ECAM_BASE, VH_LAYOUT_ECAM_SIZE, VH_GPA_ECAM, "PCI ECAM" },
	{ VH_LAYOUT_FIRMWARE_BASE, VH_LAYOUT_FIRMWARE_SIZE, VH_GPA_FIRMWARE, "firmware" },
	{ VH_LAYOUT_IOAPIC_BASE, VH_LAYOUT_IOAPIC_SIZE, VH_GPA_IOAPIC, "IOAPIC" },
	{ VH_LAYOUT_LAPIC_BASE, VH_LAYOUT_LAPIC_SIZE, VH_GPA_LAPIC, "local APIC" },
};

void vh_layout_init(struct vh_layout *l, uint64_t ram_bytes)
{
	l->ram_bytes = ram_bytes;
	l->low_end = ram_bytes < VH_LAYOUT_HOLE_START ? ram_bytes : VH_LAYOUT_HOLE_START;
	l->high_end = VH_LAYOUT_4G + (ram_bytes - l->low_end);
}

enum vh_gpa_kind vh_layout_kind(const struct vh_layout *l, uint64_t gpa)
{
	if (vh_layout_is_ram(l, gpa))
		return VH_GPA_RAM;
	if (gpa >= VH_LAYOUT_4G || gpa < VH_LAYOUT_HOLE_START)
		return VH_GPA_NONE; /* above the RAM, or between it and the hole */
	for (size_t i = 0; i < sizeof(hole) / sizeof(hole[0]); i++) {
		if (gpa - hole[i].base < hole[i].size)
			return hole[i].kind;
	}
	return VH_GPA_UNASSIGNED;
}

const char *vh_gpa_kind_name(enum vh_gpa_kind k)
{
	for (size_t i = 0; i < sizeof(hole) / sizeof(hole[0]); i++) {
		if (hole[i].kind == k)
			return hole[i].name;
	}
	return k == VH_GPA_RAM ? "RAM" : k == VH_GPA_UNASSIGNED ? "unassigned" : "none";
}

bool vh_layout_ram_range(const struct vh_layout *l, uint64_t gpa, uint64_t len)
{
	if (gpa <= l->low_end && len <= l->low_end - gpa)
		return true;
	return gpa >= VH_LAYOUT_4G && gpa <= l->high_end && len <= l->high_end - gpa;
}

unsigned vh_layout_phys_bits(const struct vh_layout *l)
{
	uint64_t top = vh_layout_top(l) - 1;
	unsigned bits = 0;

	while (top >> bits)
		bits++;
	return bits;
}

vh_gfn_t vh_layout_ram_gfn(const struct vh_layout *l, uint64_t index)
{
	uint64_t low_pages = l->low_end >> VH_PAGE_SHIFT;

	return index < low_pages ? index : (VH_LAYOUT_4G >> VH_PAGE_SHIFT) + (index - low_pages);
}

vh_gfn_t vh_layout_next_ram_gfn(const struct vh_layout *l, vh_gfn_t gfn)
{
	vh_gfn_t high = VH_LAYOUT_4G >> VH_PAGE_SHIFT;

	if (gfn < l->low_end >> VH_PAGE_SHIFT)
		return gfn;
	if (l->high_end == VH_LAYOUT_4G)
		return l->low_end >> VH_PAGE_SHIFT; /* no high RAM: the end */
	if (gfn < high)
		return high;
	return gfn < l->high_end >> VH_PAGE_SHIFT ? gfn : l->high_end >> VH_PAGE_SHIFT;
}

uint32_t vh_layout_e820(const struct vh_layout *l, struct vh_e820_entry out[VH_E820_MAX])
{
	uint64_t low = l->low_end;
	const struct vh_e820_entry r[VH_E820_MAX] = {
		{ 0, low < VH_LAYOUT_EBDA_START ? low : VH_LAYOUT_EBDA_START, VH_E820_RAM },
		{ VH_LAYOUT_EBDA_START, VH_LAYOUT_VGA_START - VH_LAYOUT_EBDA_START,
		  VH_E820_RESERVED },
		{ VH_LAYOUT_BIOS_START, VH_LAYOUT_1M - VH_LAYOUT_BIOS_START, VH_E820_RESERVED },
		{ VH_LAYOUT_1M, low > VH_LAYOUT_1M ? low - VH_LAYOUT_1M : 0, VH_E820_RAM },
		{ VH_LAYOUT_4G, l->high_end - VH_LAYOUT_4G, VH_E820_RAM },
	};
	uint32_t n = 0;

	for (uint32_t i = 0; i < VH_E820_MAX; i++) {
		/* A reserved legacy area is reported only where RAM covers
		 * it: a guest smaller than 1 MiB has no BIOS area. */
		if (!r[i].len || (r[i].type == VH_E820_RESERVED && low < r[i].addr + r[i].len))
			continue;
		out[n++] = r[i];
	}
	return n;
}
