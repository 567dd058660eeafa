/* SPDX-License-Identifier: Apache-2.0 */
/* platform_facts SECTION [ARG]: prints, as the rows of a Markdown table,
 * what the core gives a guest, asked of the code itself (the layout, the
 * device bus of a defined VM, the ACPI tables it builds, the MSR table,
 * the CPUID model, a Linux load's plan).  docs/guest-platform.md holds the
 * same tables between `<!-- facts: SECTION [ARG] -->` and `<!-- /facts -->`;
 * tests/unit/guest_platform_doc.sh runs this program for each and fails
 * where the page and the code disagree, so the page cannot go stale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage_env.h"
#include "sim_platform.h"
#include "vh/acpi.h"
#include "vh/bus.h"
#include "vh/cpuid.h"
#include "vh/error.h"
#include "vh/host.h"
#include "vh/lapic.h"
#include "vh/layout.h"
#include "vh/loader.h"
#include "vh/msr.h"
#include "vh/pci.h"
#include "vh/vm.h"

#define GIB (1024 * VH_MIB)

static struct vh_sim_platform sp;
static struct vh_host host;

static void die(const char *what, const struct vh_error *err)
{
	fprintf(stderr, "platform_facts: %s: %s\n", what, err ? err->reason : "failed");
	exit(1);
}

static void host_init(void)
{
	struct vh_host_config cfg = {
		.pcpus = 2,
		.mhz_per_pcpu = 2000,
		.memory_bytes = 512 * VH_MIB,
		.max_vms = 4,
	};
	struct vh_error err = { 0 };

	if (!vh_sim_platform_init(&sp, cfg.memory_bytes, cfg.pcpus, 1))
		die("simulated platform", NULL);
	if (vh_host_init(&host, &cfg, &sp.plat, &err))
		die("host", &err);
}

/* A defined VM (not started: its devices exist from definition) with
 * the devices listed (0-terminated; none: no configured devices). */
static struct vh_vm *define(const char *name, uint32_t vcpus, uint64_t mib, const uint32_t *devs)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	struct vh_vm *vm;

	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.vcpus = vcpus;
	cfg.memory_mib = mib;
	cfg.ndevices = 0;
	while (devs && devs[cfg.ndevices])
		cfg.devices[cfg.ndevices].type = devs[cfg.ndevices], cfg.ndevices++;
	if (!(vm = vh_vm_define(&host, &cfg, &err)))
		die("define", &err);
	return vm;
}

static const uint32_t all_devices[] = { VH_DEV_UART16550, VH_DEV_DEBUG_EXIT, VH_DEV_FW_CFG, 0 };

/* ---- memory --------------------------------------------------------------------- */

static void e820(uint64_t mib)
{
	struct vh_e820_entry e[VH_E820_MAX];
	struct vh_layout l;
	uint32_t n;

	vh_layout_init(&l, mib * VH_MIB);
	n = vh_layout_e820(&l, e);
	printf("| start | end (inclusive) | type |\n|---|---|---|\n");
	for (uint32_t i = 0; i < n; i++)
		printf("| %#llx | %#llx | %s |\n", (unsigned long long)e[i].addr,
		       (unsigned long long)(e[i].addr + e[i].len - 1),
		       e[i].type == VH_E820_RAM ? "1 RAM" : "2 reserved");
}

/* What each 4 KiB page of [low_end, high RAM) is, in runs (a VM of 4 GiB:
 * RAM on both sides of the hole). */
static void layout(void)
{
	struct vh_layout l;
	uint64_t start = 0;
	enum vh_gpa_kind run;

	vh_layout_init(&l, 4 * GIB);
	printf("| start | end (inclusive) | what (a 4 GiB VM) |\n|---|---|---|\n");
	run = vh_layout_kind(&l, 0);
	for (uint64_t a = VH_PAGE_SIZE;; a += VH_PAGE_SIZE) {
		enum vh_gpa_kind k = vh_layout_kind(&l, a);
		if (k != run || a == vh_layout_top(&l)) {
			printf("| %#llx | %#llx | %s |\n", (unsigned long long)start,
			       (unsigned long long)(a - 1), vh_gpa_kind_name(run));
			start = a;
			run = k;
		}
		if (a == vh_layout_top(&l))
			break;
	}
}

/* ---- devices ---------------------------------------------------------------------- */

/* Is the range [first, last] on a VM without configured devices? */
static bool always(const struct vh_bus_map *bare, const struct vh_bus_range *r)
{
	for (uint32_t i = 0; i < bare->n; i++)
		if (bare->r[i].first == r->first && bare->r[i].last == r->last)
			return true;
	return false;
}

static void ranges(bool mmio)
{
	struct vh_bus *full = vh_devices_bus(define("full", 1, 16, all_devices));
	struct vh_bus *bare = vh_devices_bus(define("bare", 1, 16, NULL));
	const struct vh_bus_map *m = mmio ? &full->mmio : &full->port;

	printf("| %s | device | on every VM |\n|---|---|---|\n", mmio ? "guest-physical" : "ports");
	for (uint32_t i = 0; i < m->n; i++) {
		const struct vh_bus_range *r = &m->r[i];
		printf("| %#llx-%#llx | %s | %s |\n", (unsigned long long)r->first,
		       (unsigned long long)r->last, r->dev->name,
		       always(mmio ? &bare->mmio : &bare->port, r) ? "yes" : "when configured");
	}
}

static uint64_t cfg_read(struct vh_bus *b, unsigned slot, unsigned fn, uint16_t reg, unsigned size)
{
	struct vh_dev_call call = { 0 };
	uint64_t v = 0;

	if (vh_bus_pci_config(b, &call, VH_BUS_NO_VCPU, 0, slot, fn, reg, size, false, &v) !=
	    VH_IO_HANDLED)
		return ~0ull;
	return v;
}

static void pci(void)
{
	struct vh_bus *b = vh_devices_bus(define("pci", 1, 16, all_devices));

	printf("| bus:dev.fn | vendor:device | class | device |\n|---|---|---|---|\n");
	for (unsigned slot = 0; slot < VH_PCI_SLOTS; slot++) {
		for (unsigned fn = 0; fn < VH_PCI_FUNCS; fn++) {
			const struct vh_bus_pci_fn *f = vh_bus_find_pci(b, slot, fn);
			if (!f)
				continue;
			printf("| 00:%02x.%u | %04llx:%04llx | %06llx | %s |\n", slot, fn,
			       (unsigned long long)cfg_read(b, slot, fn, VH_PCI_VENDOR_ID, 2),
			       (unsigned long long)cfg_read(b, slot, fn, VH_PCI_DEVICE_ID, 2),
			       (unsigned long long)cfg_read(b, slot, fn, VH_PCI_REVISION, 4) >> 8,
			       f->dev->name);
		}
	}
}

/* ---- ACPI ------------------------------------------------------------------------ */

static uint8_t acpi_buf[VH_ACPI_MAX_BYTES];
static struct vh_acpi_info acpi_info;

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The tables of a 2-vCPU VM of 256 MiB with the default devices, built
 * once; at(gpa) is the byte there. */
static const uint8_t *at(uint64_t gpa)
{
	if (!acpi_info.len) {
		static const uint32_t defaults[] = { VH_DEV_UART16550, VH_DEV_DEBUG_EXIT, 0 };
		struct vh_error err = { 0 };
		struct vh_acpi_config c;

		vh_acpi_config_vm(define("acpi", 2, 256, defaults), &c);
		if (vh_acpi_build(&c, acpi_buf, sizeof(acpi_buf), VH_ACPI_GPA, &acpi_info, &err))
			die("acpi", &err);
	}
	return acpi_buf + (gpa - VH_ACPI_GPA);
}

/* A table's first byte, the tables built first (which sets *gpa). */
static const uint8_t *table(const uint64_t *gpa)
{
	at(VH_ACPI_GPA);
	return at(*gpa);
}

static void acpi_tables(void)
{
	at(VH_ACPI_GPA);
	const uint64_t t_at[] = { acpi_info.xsdt, acpi_info.fadt, acpi_info.madt, acpi_info.mcfg,
				  acpi_info.dsdt };

	printf("| table | guest-physical | bytes | revision |\n|---|---|---|---|\n");
	printf("| RSDP | %#llx | %llu | %u |\n", (unsigned long long)acpi_info.rsdp,
	       (unsigned long long)le(at(acpi_info.rsdp) + 20, 4), at(acpi_info.rsdp)[15]);
	for (size_t i = 0; i < sizeof(t_at) / sizeof(t_at[0]); i++) {
		const uint8_t *t = at(t_at[i]);
		printf("| %.4s | %#llx | %llu | %u |\n", (const char *)t,
		       (unsigned long long)t_at[i], (unsigned long long)le(t + 4, 4), t[8]);
	}
}

static void madt(void)
{
	const uint8_t *t = table(&acpi_info.madt);
	uint64_t len = le(t + 4, 4);

	printf("| entry | contents |\n|---|---|\n");
	printf("| header | local APIC address %#llx, flags %#llx |\n",
	       (unsigned long long)le(t + 36, 4), (unsigned long long)le(t + 40, 4));
	for (uint64_t off = 44; off + 2 <= len; off += t[off + 1]) {
		const uint8_t *e = t + off;
		switch (e[0]) {
		case 0:
			printf("| local APIC | processor uid %u, APIC id %u, flags %#llx |\n", e[2],
			       e[3], (unsigned long long)le(e + 4, 4));
			break;
		case 1:
			printf("| IOAPIC | id %u at %#llx, GSI base %llu |\n", e[2],
			       (unsigned long long)le(e + 4, 4), (unsigned long long)le(e + 8, 4));
			break;
		case 2:
			printf(
			    "| interrupt source override | ISA IRQ %u -> GSI %llu, flags %#llx |\n",
			    e[3], (unsigned long long)le(e + 4, 4),
			    (unsigned long long)le(e + 8, 2));
			break;
		case 4:
			printf("| local APIC NMI | processors %#x, LINT%u, flags %#llx |\n", e[2],
			       e[5], (unsigned long long)le(e + 3, 2));
			break;
		default: printf("| type %u | %u bytes |\n", e[0], e[1]); break;
		}
		if (e[1] == 0)
			break;
	}
}

static const char *gas(const uint8_t *g)
{
	static char s[64];

	snprintf(s, sizeof(s), "%s %#llx, %u bits", g[0] == 1 ? "port" : "space ?",
		 (unsigned long long)le(g + 4, 8), g[1]);
	return s;
}

static void fadt(void)
{
	const uint8_t *t = table(&acpi_info.fadt);

	printf("| field | value |\n|---|---|\n");
	printf("| revision | %u.%u |\n", t[8], t[131]);
	printf("| Flags | %#llx |\n", (unsigned long long)le(t + 112, 4));
	printf("| IAPC_BOOT_ARCH | %#llx |\n", (unsigned long long)le(t + 109, 2));
	printf("| CENTURY | %u |\n", t[108]);
	printf("| SCI_INT, SMI_CMD, PM1a_EVT_BLK, PM_TMR_BLK | %llu, %llu, %llu, %llu |\n",
	       (unsigned long long)le(t + 46, 2), (unsigned long long)le(t + 48, 4),
	       (unsigned long long)le(t + 56, 4), (unsigned long long)le(t + 76, 4));
	printf("| RESET_REG | %s |\n", gas(t + 116));
	printf("| RESET_VALUE | %#x |\n", t[128]);
	printf("| SLEEP_CONTROL_REG | %s |\n", gas(t + 244));
	printf("| SLEEP_STATUS_REG | %s |\n", gas(t + 256));
	printf("| X_DSDT | %#llx |\n", (unsigned long long)le(t + 140, 8));
}

static void mcfg(void)
{
	const uint8_t *t = table(&acpi_info.mcfg);

	printf("| ECAM base | segment | buses |\n|---|---|---|\n");
	printf("| %#llx | %llu | %u-%u |\n", (unsigned long long)le(t + 44, 8),
	       (unsigned long long)le(t + 52, 2), t[54], t[55]);
}

static void prt(void)
{
	printf("| PCI device (bus 0) | INTA | INTB | INTC | INTD |\n|---|---|---|---|---|\n");
	for (uint32_t dev = 0; dev < VH_ACPI_PCI_GSI_COUNT; dev++)
		printf("| %u, %u, %u, %u | GSI %u | GSI %u | GSI %u | GSI %u |\n", dev, dev + 8,
		       dev + 16, dev + 24, vh_acpi_pci_gsi(dev, 0), vh_acpi_pci_gsi(dev, 1),
		       vh_acpi_pci_gsi(dev, 2), vh_acpi_pci_gsi(dev, 3));
}

/* ---- the CPU --------------------------------------------------------------------- */

static const struct {
	uint32_t msr;
	const char *name;
} msr_names[] = {
	{ VH_MSR_TSC, "IA32_TSC" },
	{ VH_MSR_PLATFORM_ID, "IA32_PLATFORM_ID" },
	{ VH_MSR_APIC_BASE_MSR, "IA32_APIC_BASE" },
	{ VH_MSR_FEATURE_CONTROL, "IA32_FEATURE_CONTROL" },
	{ VH_MSR_TSC_ADJUST, "IA32_TSC_ADJUST" },
	{ VH_MSR_SPEC_CTRL, "IA32_SPEC_CTRL" },
	{ VH_MSR_PRED_CMD, "IA32_PRED_CMD" },
	{ VH_MSR_BIOS_SIGN_ID, "IA32_BIOS_SIGN_ID" },
	{ VH_MSR_MTRRCAP, "IA32_MTRRCAP" },
	{ VH_MSR_ARCH_CAPS, "IA32_ARCH_CAPABILITIES" },
	{ VH_MSR_FLUSH_CMD, "IA32_FLUSH_CMD" },
	{ VH_MSR_SYSENTER_CS, "IA32_SYSENTER_CS" },
	{ VH_MSR_SYSENTER_ESP, "IA32_SYSENTER_ESP" },
	{ VH_MSR_SYSENTER_EIP, "IA32_SYSENTER_EIP" },
	{ VH_MSR_MCG_CAP, "IA32_MCG_CAP" },
	{ VH_MSR_MCG_STATUS, "IA32_MCG_STATUS" },
	{ VH_MSR_MISC_ENABLE, "IA32_MISC_ENABLE" },
	{ VH_MSR_MTRR_PHYSBASE0, "IA32_MTRR_PHYSBASE0" },
	{ VH_MSR_MTRR_PHYSBASE0 + 1, "IA32_MTRR_PHYSMASK0" },
	{ VH_MSR_MTRR_FIX64K, "IA32_MTRR_FIX64K_00000" },
	{ VH_MSR_MTRR_FIX16K, "IA32_MTRR_FIX16K_80000" },
	{ VH_MSR_MTRR_FIX16K + 1, "IA32_MTRR_FIX16K_A0000" },
	{ VH_MSR_MTRR_FIX4K + 0, "IA32_MTRR_FIX4K_C0000" },
	{ VH_MSR_MTRR_FIX4K + 1, "IA32_MTRR_FIX4K_C8000" },
	{ VH_MSR_MTRR_FIX4K + 2, "IA32_MTRR_FIX4K_D0000" },
	{ VH_MSR_MTRR_FIX4K + 3, "IA32_MTRR_FIX4K_D8000" },
	{ VH_MSR_MTRR_FIX4K + 4, "IA32_MTRR_FIX4K_E0000" },
	{ VH_MSR_MTRR_FIX4K + 5, "IA32_MTRR_FIX4K_E8000" },
	{ VH_MSR_MTRR_FIX4K + 6, "IA32_MTRR_FIX4K_F0000" },
	{ VH_MSR_MTRR_FIX4K + 7, "IA32_MTRR_FIX4K_F8000" },
	{ VH_MSR_PAT, "IA32_PAT" },
	{ VH_MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE" },
	{ VH_MSR_TSC_DEADLINE, "IA32_TSC_DEADLINE" },
	{ VH_MSR_EFER, "IA32_EFER" },
	{ VH_MSR_STAR, "IA32_STAR" },
	{ VH_MSR_LSTAR, "IA32_LSTAR" },
	{ VH_MSR_CSTAR, "IA32_CSTAR" },
	{ VH_MSR_FMASK, "IA32_FMASK" },
	{ VH_MSR_FS_BASE, "IA32_FS_BASE" },
	{ VH_MSR_GS_BASE, "IA32_GS_BASE" },
	{ VH_MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE" },
	{ VH_MSR_TSC_AUX, "IA32_TSC_AUX" },
};

static const char *msr_name(uint32_t msr)
{
	for (size_t i = 0; i < sizeof(msr_names) / sizeof(msr_names[0]); i++)
		if (msr_names[i].msr == msr)
			return msr_names[i].name;
	return "(unnamed: add it to tests/unit/platform_facts.c)";
}

static void write_rule(const struct vh_msr_rule *r, char *s, size_t n)
{
	static const char *const checks[] = {
		[VH_MSR_CHECK_NONE] = "",
		[VH_MSR_CHECK_CANONICAL] = "; must be canonical",
		[VH_MSR_CHECK_PAT] = "; each byte a PAT type 0, 1, 4-7",
		[VH_MSR_CHECK_MTRR_TYPE] = "; type 0, 1, 4-6",
	};

	if (r->reserved == ~0ull)
		snprintf(s, n, "only 0%s", checks[r->check]);
	else if (r->reserved)
		snprintf(s, n, "#GP on bits %#llx%s", (unsigned long long)r->reserved,
			 checks[r->check]);
	else
		snprintf(s, n, "any%s", checks[r->check]);
}

static void msrs(void)
{
	static const char *const by[] = {
		[VH_MSR_BY_NONE] = "?",
		[VH_MSR_BY_CPUID1_ECX] = "CPUID.1:ECX",
		[VH_MSR_BY_CPUID7_EBX] = "CPUID.7:EBX",
		[VH_MSR_BY_CPUID7_EDX] = "CPUID.7:EDX",
		[VH_MSR_BY_MTRRCAP] = "IA32_MTRRCAP",
	};

	printf("| MSR | name | policy | reads | a write |\n|---|---|---|---|---|\n");
	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];
		char w[96];

		write_rule(r, w, sizeof(w));
		printf("| %#x | %s | ", r->msr, msr_name(r->msr));
		switch (r->store) {
		case VH_MSR_ABSENT:
			printf("absent (%s bit %u %s) | #GP | #GP |\n", by[r->hidden_by], r->bit,
			       r->hidden_by == VH_MSR_BY_MTRRCAP ? "clear or VCNT 0" : "hidden");
			break;
		case VH_MSR_CONST_RO:
			printf("constant | %#llx | #GP |\n", (unsigned long long)r->value);
			break;
		case VH_MSR_CONST_WI:
			printf("constant, writes dropped | %#llx | %s |\n",
			       (unsigned long long)r->value, w);
			break;
		case VH_MSR_GUEST:
			printf("per vCPU (VMCS guest state) | last written, 0 at reset | %s |\n",
			       w);
			break;
		case VH_MSR_LOADED:
			printf(
			    "per vCPU (loaded while it runs) | last written, 0 at reset | %s |\n",
			    w);
			break;
		case VH_MSR_VCPU:
			printf("per vCPU (vh's copy) | last written, %#llx at reset | %s |\n",
			       (unsigned long long)r->value, w);
			break;
		case VH_MSR_SPECIAL: printf("emulated | see below | %s |\n", w); break;
		}
	}
}

/* A host whose every leaf holds `fill` (leaf 0 and 0x80000000 name the
 * last leaves), to show per register what the model clears and sets. */
struct fake_host {
	uint32_t fill;
};

static bool fake_raw(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	const struct fake_host *f = h->ctx;

	(void)sub;
	for (int i = 0; i < 4; i++)
		out[i] = f->fill;
	if (leaf == 0)
		out[0] = 0x1f;
	else if (leaf == 0x80000000u)
		out[0] = 0x80000008u;
	return true;
}

static void cpuid(void)
{
	static const struct {
		uint32_t leaf, sub;
	} leaves[] = {
		{ 1, 0 },           { 4, 0 },    { 5, 0 },           { 6, 0 },
		{ 7, 0 },           { 7, 1 },    { 0xa, 0 },         { 0xb, 0 },
		{ 0xb, 1 },         { 0xb, 2 },  { 0xd, 1 },         { 0x15, 0 },
		{ 0x16, 0 },        { 0x1f, 0 }, { 0x40000000u, 0 }, { 0x40000001u, 0 },
		{ 0x80000008u, 0 },
	};
	static const char regs[4][4] = { "EAX", "EBX", "ECX", "EDX" };
	struct fake_host ones = { ~0u }, zeros = { 0 };
	struct vh_cpuid_host h1 = { .raw = fake_raw, .ctx = &ones },
			     h0 = { .raw = fake_raw, .ctx = &zeros };
	/* vCPU 1 of 2; a 2893.337 MHz TSC; 39 physical address bits mapped. */
	struct vh_cpuid_vm vm = { .vcpus = 2,
				  .vcpu_index = 1,
				  .hc_features = VH_HC_FEAT_PORT,
				  .tsc_hz = 2893337000ull,
				  .bus_hz = VH_LAPIC_BUS_HZ,
				  .phys_bits = 39 };

	vh_cpuid_host_init(&h1);
	vh_cpuid_host_init(&h0);
	printf("| leaf.sub | reg | host all ones | host all zeros |\n|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		uint32_t a[4], z[4];

		vh_cpuid_guest(&h1, &vm, leaves[i].leaf, leaves[i].sub, a);
		vh_cpuid_guest(&h0, &vm, leaves[i].leaf, leaves[i].sub, z);
		if (!(a[0] | a[1] | a[2] | a[3] | z[0] | z[1] | z[2] | z[3])) {
			printf("| %#x.%u | all | 0 | 0 |\n", leaves[i].leaf, leaves[i].sub);
			continue;
		}
		for (int r = 0; r < 4; r++) {
			if (a[r] == ~0u && z[r] == 0)
				continue; /* the host's, untouched */
			printf("| %#x.%u | %s | 0x%08x | 0x%08x |\n", leaves[i].leaf, leaves[i].sub,
			       regs[r], a[r], z[r]);
		}
	}
}

/* ---- a Linux load ------------------------------------------------------------------ */

/* The struct boot_params fields (Documentation/arch/x86/zero-page.rst)
 * a loader's copy into the zero page starts at. */
static const char *zero_page_field(uint64_t off)
{
	switch (off) {
	case 0x070: return "zero page: acpi_rsdp_addr";
	case 0x1e8: return "zero page: e820_entries";
	case 0x2d0: return "zero page: e820_table";
	case 0x210:
		return "zero page: type_of_loader 0xff, ramdisk_image, ramdisk_size, cmd_line_ptr";
	default: return "zero page: (unnamed field: name it in tests/unit/platform_facts.c)";
	}
}

static void bzimage(void)
{
	static struct bz im;
	static uint8_t initrd[1 << 20];
	static const char cmdline[] = "console=ttyS0";
	static const uint32_t defaults[] = { VH_DEV_UART16550, VH_DEV_DEBUG_EXIT, 0 };
	static struct vh_loader_job job;
	struct vh_error err = { 0 };
	struct vh_loader_args a;
	size_t acpi_len;

	bz_image(&im);
	if (vh_loader_acpi(define("linux", 1, 256, defaults), acpi_buf, sizeof(acpi_buf), &acpi_len,
			   &err))
		die("acpi", &err);
	a = (struct vh_loader_args){ .image = im.b,
				     .len = im.len,
				     .cmdline = cmdline,
				     .initrd = initrd,
				     .initrd_len = sizeof(initrd),
				     .acpi = acpi_buf,
				     .acpi_len = acpi_len,
				     .rsdp = VH_ACPI_RSDP_GPA };
	if (vh_loader_prepare(256 * VH_MIB, &a, &job, &err))
		die("bzImage", &err);
	printf("| guest-physical | bytes | what (a 256 MiB VM, a 1 MiB initrd) |\n|---|---|---|\n");
	for (uint32_t i = 0; i < job.ncopies; i++) {
		const struct vh_loader_copy *c = &job.copy[i];
		const uint8_t *src = c->src;
		const char *what = "?";

		switch (c->kind) {
		case VH_LOADER_SRC_BYTES:
			if (src >= im.b && src < im.b + im.len)
				what = src == im.b + PROT_OFF ? "the kernel (protected-mode part)"
							      : "the setup header, from the image";
			else if (src == initrd)
				what = "the initrd";
			else if (src == (const uint8_t *)cmdline)
				what = "the command line";
			else if (src == acpi_buf)
				what = "the ACPI tables (RSDP first)";
			else if (c->gpa == VH_ACPI_RESET_VECTOR_GPA)
				what = "F000:FFF0: 0x01 to the ACPI reset register";
			break;
		case VH_LOADER_SRC_ZEROS:
			what = c->gpa == job.boot.info_addr ? "the zero page, zeroed"
							    : "page tables, zeroed";
			break;
		case VH_LOADER_SRC_AREA:
			if (c->gpa >= job.boot.info_addr &&
			    c->gpa < job.boot.info_addr + VH_PAGE_SIZE)
				what = zero_page_field(c->gpa - job.boot.info_addr);
			else if (c->gpa == job.boot.gdt_base)
				what = "the GDT";
			else if (c->gpa == job.boot.cr3)
				what = "the PML4";
			else
				what = "the page-directory pointers";
			break;
		case VH_LOADER_SRC_IDMAP:
			what = "page directories: the first 4 GiB 1:1, 2 MiB pages";
			break;
		}
		printf("| %#llx | %llu | %s |\n", (unsigned long long)c->gpa,
		       (unsigned long long)c->len, what);
	}
	printf("| register | RIP %#llx, RSI %#llx, RSP %#llx, CR3 %#llx, CS %#x, DS/SS %#x |"
	       " (entry state) |\n",
	       (unsigned long long)job.boot.rip, (unsigned long long)job.boot.rsi,
	       (unsigned long long)job.boot.rsp, (unsigned long long)job.boot.cr3,
	       job.boot.cs.selector, job.boot.ds.selector);
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	host_init();
	if (!strcmp(s, "e820") && argc == 3)
		e820(strtoull(argv[2], NULL, 0));
	else if (!strcmp(s, "layout"))
		layout();
	else if (!strcmp(s, "ports") || !strcmp(s, "mmio"))
		ranges(!strcmp(s, "mmio"));
	else if (!strcmp(s, "pci"))
		pci();
	else if (!strcmp(s, "acpi"))
		acpi_tables();
	else if (!strcmp(s, "madt"))
		madt();
	else if (!strcmp(s, "fadt"))
		fadt();
	else if (!strcmp(s, "mcfg"))
		mcfg();
	else if (!strcmp(s, "prt"))
		prt();
	else if (!strcmp(s, "msr"))
		msrs();
	else if (!strcmp(s, "cpuid"))
		cpuid();
	else if (!strcmp(s, "bzimage"))
		bzimage();
	else {
		fprintf(stderr,
			"usage: platform_facts e820 MIB | layout | ports | mmio | pci | acpi | "
			"madt | fadt | mcfg | prt | msr | cpuid | bzimage\n");
		return 2;
	}
	vh_host_fini(&host);
	vh_sim_platform_fini(&sp);
	return 0;
}
