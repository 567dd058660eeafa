/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-physical layout (hypervisor/core/mem/layout.c) and the memory
 * manager over it: RAM below the 32-bit hole and above 4 GiB, the hole
 * never RAM. */
#include "mem_env.h"
#include "vh/layout.h"

#define GIB (1024ull * VH_MIB)

VH_TEST(layout, below_the_hole_is_one_ram_region)
{
	struct vh_layout l;

	vh_layout_init(&l, 64 * VH_MIB);
	VH_EXPECT_EQ(l.low_end, 64 * VH_MIB);
	VH_EXPECT_EQ(l.high_end, VH_LAYOUT_4G); /* no RAM above 4 GiB */
	VH_EXPECT_EQ(vh_layout_ram_pages(&l), 64 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(vh_layout_ram_top(&l), 64 * VH_MIB);
	VH_EXPECT_EQ(vh_layout_top(&l), VH_LAYOUT_4G);
	VH_EXPECT_EQ(vh_layout_phys_bits(&l), 32u);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, 64 * VH_MIB - 1), (int)VH_GPA_RAM);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, 64 * VH_MIB), (int)VH_GPA_NONE);
	/* The local APIC is the device's in every VM. */
	VH_EXPECT_EQ((int)vh_layout_kind(&l, 0xfee00000ull), (int)VH_GPA_LAPIC);
	VH_EXPECT(vh_layout_ram_range(&l, 0, 64 * VH_MIB));
	VH_EXPECT(!vh_layout_ram_range(&l, 64 * VH_MIB - 4, 8));
	VH_EXPECT(!vh_layout_ram_range(&l, 8, UINT64_MAX));
}

VH_TEST(layout, exactly_at_the_hole_has_no_high_ram)
{
	struct vh_layout l;

	vh_layout_init(&l, 3 * GIB);
	VH_EXPECT_EQ(l.low_end, VH_LAYOUT_HOLE_START);
	VH_EXPECT_EQ(l.high_end, VH_LAYOUT_4G);
	VH_EXPECT_EQ(vh_layout_ram_top(&l), 3 * GIB);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, VH_LAYOUT_HOLE_START - 1), (int)VH_GPA_RAM);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, VH_LAYOUT_HOLE_START), (int)VH_GPA_PCI_MMIO);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, VH_LAYOUT_4G), (int)VH_GPA_NONE);
	/* One MiB more goes above 4 GiB, not into the hole. */
	vh_layout_init(&l, 3 * GIB + VH_MIB);
	VH_EXPECT_EQ(l.low_end, VH_LAYOUT_HOLE_START);
	VH_EXPECT_EQ(l.high_end, VH_LAYOUT_4G + VH_MIB);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, VH_LAYOUT_4G + VH_MIB - 1), (int)VH_GPA_RAM);
	VH_EXPECT_EQ((int)vh_layout_kind(&l, VH_LAYOUT_4G + VH_MIB), (int)VH_GPA_NONE);
}

VH_TEST(layout, six_gib_splits_around_the_hole)
{
	static const struct {
		uint64_t gpa;
		enum vh_gpa_kind kind;
	} cases[] = {
		{ 0, VH_GPA_RAM },
		{ VH_LAYOUT_HOLE_START - 1, VH_GPA_RAM },
		{ 0xc0000000ull, VH_GPA_PCI_MMIO },
		{ 0xdfffffffull, VH_GPA_PCI_MMIO },
		{ 0xe0000000ull, VH_GPA_ECAM },
		{ 0xefffffffull, VH_GPA_ECAM },
		{ 0xf0000000ull, VH_GPA_FIRMWARE },
		{ 0xf0100000ull, VH_GPA_UNASSIGNED },
		{ 0xfec00000ull, VH_GPA_IOAPIC },
		{ 0xfec00fffull, VH_GPA_IOAPIC },
		{ 0xfec01000ull, VH_GPA_UNASSIGNED },
		{ 0xfee00000ull, VH_GPA_LAPIC },
		{ 0xfee00fffull, VH_GPA_LAPIC },
		{ 0xffffffffull, VH_GPA_UNASSIGNED },
		{ VH_LAYOUT_4G, VH_GPA_RAM },
		{ 7 * GIB - 1, VH_GPA_RAM },
		{ 7 * GIB, VH_GPA_NONE },
		{ UINT64_MAX, VH_GPA_NONE },
	};
	struct vh_layout l;

	vh_layout_init(&l, 6 * GIB);
	VH_EXPECT_EQ(l.low_end, 3 * GIB);
	VH_EXPECT_EQ(l.high_end, 7 * GIB);
	VH_EXPECT_EQ(vh_layout_ram_pages(&l), 6 * GIB / VH_PAGE_SIZE);
	VH_EXPECT_EQ(vh_layout_ram_top(&l), 7 * GIB);
	VH_EXPECT_EQ(vh_layout_phys_bits(&l), 33u);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (vh_layout_kind(&l, cases[i].gpa) != cases[i].kind)
			VH_FAIL("gpa %#llx: %s, expected %s", (unsigned long long)cases[i].gpa,
				vh_gpa_kind_name(vh_layout_kind(&l, cases[i].gpa)),
				vh_gpa_kind_name(cases[i].kind));
	}
	VH_EXPECT_STREQ(vh_gpa_kind_name(VH_GPA_LAPIC), "local APIC");
	/* Ranges lie in one region: none crosses the hole. */
	VH_EXPECT(vh_layout_ram_range(&l, 3 * GIB - 8, 8));
	VH_EXPECT(!vh_layout_ram_range(&l, 3 * GIB - 8, 16));
	VH_EXPECT(!vh_layout_ram_range(&l, 0xfee00000ull, 4));
	VH_EXPECT(vh_layout_ram_range(&l, VH_LAYOUT_4G, 3 * GIB));
	VH_EXPECT(!vh_layout_ram_range(&l, VH_LAYOUT_4G, 3 * GIB + 1));
	/* RAM numbered across the hole, and the next RAM frame. */
	VH_EXPECT_EQ(vh_layout_ram_gfn(&l, 0), 0ull);
	VH_EXPECT_EQ(vh_layout_ram_gfn(&l, 3 * GIB / VH_PAGE_SIZE - 1), 3 * GIB / VH_PAGE_SIZE - 1);
	VH_EXPECT_EQ(vh_layout_ram_gfn(&l, 3 * GIB / VH_PAGE_SIZE), VH_LAYOUT_4G / VH_PAGE_SIZE);
	VH_EXPECT_EQ(vh_layout_ram_gfn(&l, 6 * GIB / VH_PAGE_SIZE - 1), 7 * GIB / VH_PAGE_SIZE - 1);
	VH_EXPECT_EQ(vh_layout_next_ram_gfn(&l, 5), 5ull);
	VH_EXPECT_EQ(vh_layout_next_ram_gfn(&l, 0xfee00), VH_LAYOUT_4G / VH_PAGE_SIZE);
	VH_EXPECT_EQ(vh_layout_next_ram_gfn(&l, 7 * GIB / VH_PAGE_SIZE + 9),
		     7 * GIB / VH_PAGE_SIZE);
}

VH_TEST(layout, e820_lists_ram_below_the_hole_and_above_4g)
{
	struct vh_e820_entry e[VH_E820_MAX];
	struct vh_layout l;
	uint32_t n;

	vh_layout_init(&l, 6 * GIB);
	n = vh_layout_e820(&l, e);
	VH_ASSERT_EQ(n, 5u);
	VH_EXPECT_EQ(e[0].addr, 0ull);
	VH_EXPECT_EQ(e[0].len, 0x9fc00ull);
	VH_EXPECT_EQ(e[0].type, VH_E820_RAM);
	VH_EXPECT_EQ(e[1].addr, 0x9fc00ull);
	VH_EXPECT_EQ(e[1].type, VH_E820_RESERVED);
	VH_EXPECT_EQ(e[2].addr, 0xf0000ull);
	VH_EXPECT_EQ(e[2].type, VH_E820_RESERVED);
	VH_EXPECT_EQ(e[3].addr, VH_LAYOUT_1M);
	VH_EXPECT_EQ(e[3].len, 3 * GIB - VH_LAYOUT_1M);
	VH_EXPECT_EQ(e[3].type, VH_E820_RAM);
	VH_EXPECT_EQ(e[4].addr, VH_LAYOUT_4G);
	VH_EXPECT_EQ(e[4].len, 3 * GIB);
	VH_EXPECT_EQ(e[4].type, VH_E820_RAM);
	/* No entry says RAM inside the hole. */
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type == VH_E820_RAM)
			VH_EXPECT(e[i].addr + e[i].len <= VH_LAYOUT_HOLE_START ||
				  e[i].addr >= VH_LAYOUT_4G);
	}
	/* A small VM: no high RAM entry. */
	vh_layout_init(&l, 16 * VH_MIB);
	VH_EXPECT_EQ(vh_layout_e820(&l, e), 4u);
	VH_EXPECT_EQ(e[3].len, 15 * VH_MIB);
	/* Below 1 MiB: the conventional RAM only, no BIOS areas it lacks. */
	vh_layout_init(&l, 512 * 1024);
	VH_ASSERT_EQ(vh_layout_e820(&l, e), 1u);
	VH_EXPECT_EQ(e[0].len, 512ull * 1024);
}

/* The memory manager: a fault in the hole of a 6 GiB VM is refused (the
 * back end then treats it as a device access) and costs neither a frame
 * nor a guest-map node; one above 4 GiB is served. */
VH_TEST(layout, mem_fault_in_the_hole_is_refused_above_4g_served)
{
	struct mem_env e;
	struct vh_vm *vm;
	const struct vh_sim_map_entry *m;
	uint64_t free0, nodes0, v = 0x1122334455667788ull, back = 0;
	vh_gfn_t high = (VH_LAYOUT_4G >> VH_PAGE_SHIFT) + 0x1234;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "big", 6 * 1024, 0, VH_UNLIMITED, true);
	free0 = mem_env_free(&e);
	nodes0 = vm->mem.p2m_nodes;
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, 0xfee00, VH_MEM_WRITE, 0),
		     (int)VH_FAULT_BAD_ADDRESS);
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, 0xfec00, VH_MEM_READ, 0),
		     (int)VH_FAULT_BAD_ADDRESS);
	VH_EXPECT_EQ(
	    (int)vh_mem_fault(&e.h, vm, VH_LAYOUT_HOLE_START >> VH_PAGE_SHIFT, VH_MEM_READ, 0),
	    (int)VH_FAULT_BAD_ADDRESS);
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, (7 * GIB) >> VH_PAGE_SHIFT, VH_MEM_READ, 0),
		     (int)VH_FAULT_BAD_ADDRESS);
	VH_EXPECT_EQ(mem_env_free(&e), free0);
	VH_EXPECT_EQ(vm->mem.p2m_nodes, nodes0);
	VH_EXPECT(vh_sim_lookup(&e.sp, vm, 0xfee00) == NULL ||
		  vh_sim_lookup(&e.sp, vm, 0xfee00)->prot == 0);
	/* The hypervisor's own accesses follow the same rule. */
	VH_EXPECT_EQ(vh_mem_guest_write(&e.h, vm, 0xfee00080ull, &v, 4, NULL), VH_E_INVAL);
	VH_EXPECT(!vh_mem_guest_range_ok(vm, 3 * GIB - 4, 8));

	/* Above 4 GiB: a frame, mapped, written and read back. */
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, high, VH_MEM_WRITE, 0), (int)VH_FAULT_MAPPED);
	m = vh_sim_lookup(&e.sp, vm, high);
	VH_ASSERT(m != NULL);
	VH_EXPECT(m->prot & VH_PROT_WRITE);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 1);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, 1ull);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, vm, (7 * GIB) - 8, &v, 8, NULL), VH_OK);
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, vm, (7 * GIB) - 8, &back, 8, NULL), VH_OK);
	VH_EXPECT_EQ(back, v);
	/* Below the hole still works, and a sparse 6 GiB VM holds what it
	 * touched and a few map nodes only. */
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, 0x100, VH_MEM_WRITE, 0), (int)VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, 3ull);
	VH_EXPECT_LE(vm->mem.p2m_nodes, 8ull);
	vh_mem_vm_stop(&e.h, vm);
	VH_EXPECT_EQ(mem_env_free(&e), free0);
	mem_env_fini(&e);
}

/* The balloon and the sharing scanner index pages by gfn: hole frames are
 * not pages (refused by inflate), high RAM is scanned. */
VH_TEST(layout, balloon_and_scanner_skip_the_hole)
{
	struct mem_env e;
	struct vh_vm *vm;
	vh_gfn_t gfns[2] = { 0xfee00, (VH_LAYOUT_4G >> VH_PAGE_SHIFT) + 7 };
	uint64_t zero = 0, passes;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "big", 6 * 1024, 0, VH_UNLIMITED, true);
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vm, gfns, 2), 1ull);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).balloon, 1ull);
	/* Two zero pages above 4 GiB merge onto the zero frame. */
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, vm, VH_LAYOUT_4G + 0x10000, &zero, 8, NULL), VH_OK);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, vm, VH_LAYOUT_4G + 0x20000, &zero, 8, NULL), VH_OK);
	passes = vh_share_counters(&e.h)->passes;
	for (int i = 0; i < 8 && vh_share_counters(&e.h)->passes == passes; i++)
		vh_share_scan(&e.h, 1000);
	VH_EXPECT_GT(vh_share_counters(&e.h)->passes, passes);
	VH_EXPECT_EQ(vh_share_counters(&e.h)->zero_merged, 2ull);
	mem_env_fini(&e);
}
