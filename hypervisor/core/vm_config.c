/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's configuration: the defaults and the value checks every door
 * applies before a VM is defined (the dispatcher, and the agent and vhctl
 * before they send anything), and the names of the VM states clients print.
 * No host, scheduler or memory manager here: it is part of libvhproto.a,
 * the protocol library clients link (vm.c holds the lifecycle). */
#include "vh/error.h"
#include "vh/resource.h"
#include "vh/string.h"
#include "vh/vm.h"

static const char *const state_names[VH_VM_STATE_COUNT] = {
	[VH_VM_DEFINED] = "defined", [VH_VM_RUNNING] = "running", [VH_VM_PAUSED] = "paused",
	[VH_VM_STOPPED] = "stopped", [VH_VM_CRASHED] = "crashed",
};

const char *vh_vm_state_name(enum vh_vm_state s)
{
	return (unsigned)s < VH_VM_STATE_COUNT ? state_names[s] : "unknown";
}

/* ---- configuration ---------------------------------------------------- */

void vh_vm_config_default(struct vh_vm_config *cfg)
{
	vh_memset(cfg, 0, sizeof(*cfg));
	cfg->vcpus = 1;
	cfg->memory_mib = 64;
	cfg->cpu.shares.level = VH_SHARES_NORMAL;
	cfg->cpu.limit_mhz = VH_UNLIMITED;
	cfg->mem.shares.level = VH_SHARES_NORMAL;
	cfg->mem.limit_mib = VH_UNLIMITED;
	cfg->cosched = VH_COSCHED_RELAXED;
	cfg->ndevices = 2;
	cfg->devices[0].type = VH_DEV_UART16550;
	cfg->devices[1].type = VH_DEV_DEBUG_EXIT;
}

static bool name_char_ok(char c, bool first)
{
	bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

	return alnum || (!first && (c == '-' || c == '_' || c == '.'));
}

/* A string field must be NUL-terminated inside its array. */
static int check_string(const char *s, size_t cap, const char *field, bool required,
			struct vh_error *err)
{
	size_t n = vh_strnlen(s, cap);

	if (n == cap)
		return vh_error_set(err, VH_E_INVAL, "%s: longer than %zu bytes", field, cap - 1);
	if (required && n == 0)
		return vh_error_set(err, VH_E_INVAL, "%s: must not be empty", field);
	return VH_OK;
}

int vh_vm_cpu_validate(const struct vh_cpu_controls *c, struct vh_error *err)
{
	int rc = vh_shares_validate(&c->shares, "cpu.shares", err);

	if (rc)
		return rc;
	if (c->limit_mhz != VH_UNLIMITED && c->limit_mhz == 0)
		return vh_error_set(err, VH_E_INVAL,
				    "cpu.limit_mhz: must be positive or unlimited");
	if (c->reservation_mhz > c->limit_mhz)
		return vh_error_set(
		    err, VH_E_INVAL, "cpu.reservation_mhz: %llu exceeds cpu.limit_mhz %llu",
		    (unsigned long long)c->reservation_mhz, (unsigned long long)c->limit_mhz);
	return VH_OK;
}

int vh_vm_mem_validate(const struct vh_mem_controls *c, uint64_t memory_mib, struct vh_error *err)
{
	int rc = vh_shares_validate(&c->shares, "memory.shares", err);

	if (rc)
		return rc;
	if (c->reservation_mib > memory_mib)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "memory.reservation_mib: %llu exceeds the VM's memory (%llu MiB)",
		    (unsigned long long)c->reservation_mib, (unsigned long long)memory_mib);
	if (c->limit_mib != VH_UNLIMITED && c->limit_mib == 0)
		return vh_error_set(err, VH_E_INVAL,
				    "memory.limit_mib: must be positive or unlimited");
	if (c->reservation_mib > c->limit_mib)
		return vh_error_set(
		    err, VH_E_INVAL, "memory.reservation_mib: %llu exceeds memory.limit_mib %llu",
		    (unsigned long long)c->reservation_mib, (unsigned long long)c->limit_mib);
	return VH_OK;
}

bool vh_vm_name_valid(const char *name)
{
	size_t n = vh_strnlen(name, VH_VM_NAME_MAX);

	if (n == 0 || n == VH_VM_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!name_char_ok(*p, p == name))
			return false;
	return true;
}

/* The disks: names as VM names (the datastore's file names, never a
 * path), known flags, no disk twice (two virtio-blk devices on one file
 * would each cache what the other overwrites). */
static int disks_validate(const struct vh_vm_config *cfg, struct vh_error *err)
{
	if (cfg->ndisks > VH_VM_MAX_DISKS)
		return vh_error_set(err, VH_E_INVAL, "disks: %u disks, at most %u", cfg->ndisks,
				    VH_VM_MAX_DISKS);
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		const struct vh_disk_config *d = &cfg->disks[i];
		if (vh_strnlen(d->name, sizeof(d->name)) == sizeof(d->name))
			return vh_error_set(err, VH_E_INVAL,
					    "disks[%u].name: longer than %zu bytes", i,
					    sizeof(d->name) - 1);
		if (!vh_vm_name_valid(d->name))
			return vh_error_set(
			    err, VH_E_INVAL,
			    "disks[%u].name: \"%s\" is not a disk name (1..63 "
			    "letters, digits, '-', '_', '.', first a letter or digit)",
			    i, d->name);
		if (d->flags & ~VH_DISK_F_ALL)
			return vh_error_set(err, VH_E_INVAL, "disks[%u].flags: unknown bits 0x%x",
					    i, d->flags & ~VH_DISK_F_ALL);
		for (uint32_t j = 0; j < i; j++)
			if (vh_strcmp(cfg->disks[j].name, d->name) == 0)
				return vh_error_set(err, VH_E_INVAL,
						    "disks[%u].name: \"%s\" is attached twice "
						    "(also disks[%u])",
						    i, d->name, j);
	}
	return VH_OK;
}

int vh_vm_config_validate(const struct vh_vm_config *cfg, struct vh_error *err)
{
	int rc;

	if ((rc = check_string(cfg->name, sizeof(cfg->name), "name", true, err)))
		return rc;
	if (!vh_vm_name_valid(cfg->name))
		return vh_error_set(err, VH_E_INVAL,
				    "name: \"%s\" must start with a letter or digit and hold only "
				    "letters, digits, '-', '_' and '.'",
				    cfg->name);
	if (cfg->vcpus < 1 || cfg->vcpus > VH_VM_MAX_VCPUS)
		return vh_error_set(err, VH_E_INVAL, "vcpus: %u outside 1..%u", cfg->vcpus,
				    VH_VM_MAX_VCPUS);
	if (cfg->memory_mib < VH_VM_MIN_MEMORY_MIB || cfg->memory_mib > VH_VM_MAX_MEMORY_MIB)
		return vh_error_set(err, VH_E_INVAL, "memory_mib: %llu outside %u..%llu",
				    (unsigned long long)cfg->memory_mib, VH_VM_MIN_MEMORY_MIB,
				    (unsigned long long)VH_VM_MAX_MEMORY_MIB);
	if ((rc = vh_vm_cpu_validate(&cfg->cpu, err)) ||
	    (rc = vh_vm_mem_validate(&cfg->mem, cfg->memory_mib, err)))
		return rc;
	if (cfg->cosched != VH_COSCHED_RELAXED && cfg->cosched != VH_COSCHED_STRICT &&
	    cfg->cosched != VH_COSCHED_NONE)
		return vh_error_set(err, VH_E_INVAL, "cosched: unknown mode %d", (int)cfg->cosched);
	if ((rc = check_string(cfg->boot.kernel, sizeof(cfg->boot.kernel), "boot.kernel", false,
			       err)) ||
	    (rc = check_string(cfg->boot.cmdline, sizeof(cfg->boot.cmdline), "boot.cmdline", false,
			       err)) ||
	    (rc = check_string(cfg->boot.initrd, sizeof(cfg->boot.initrd), "boot.initrd", false,
			       err)))
		return rc;
	if (cfg->boot.kind > VH_BOOT_KIND_MAX)
		return vh_error_set(err, VH_E_INVAL, "boot.kind: unknown kind %u", cfg->boot.kind);
	if (cfg->boot.kind != VH_BOOT_KIND_AUTO && cfg->boot.initrd[0])
		return vh_error_set(err, VH_E_INVAL,
				    "boot.initrd: a raw binary takes no initrd (boot.kind is raw)");
	if (cfg->boot.nmodules > VH_BOOT_MAX_MODULES)
		return vh_error_set(err, VH_E_INVAL, "boot.modules: %u modules, at most %u",
				    cfg->boot.nmodules, VH_BOOT_MAX_MODULES);
	for (uint32_t i = 0; i < cfg->boot.nmodules; i++) {
		const struct vh_boot_module *m = &cfg->boot.modules[i];
		if ((rc = check_string(m->image, sizeof(m->image), "boot.modules[].image", true,
				       err)) ||
		    (rc =
			 check_string(m->args, sizeof(m->args), "boot.modules[].args", false, err)))
			return rc;
	}
	if (cfg->ndevices > VH_VM_MAX_DEVICES)
		return vh_error_set(err, VH_E_INVAL, "devices: %u devices, at most %u",
				    cfg->ndevices, VH_VM_MAX_DEVICES);
	for (uint32_t i = 0; i < cfg->ndevices; i++) {
		const struct vh_device_config *d = &cfg->devices[i];
		if (d->type < 1 || d->type > VH_DEV_TYPE_MAX)
			return vh_error_set(err, VH_E_INVAL, "devices[%u].type: unknown type %u", i,
					    d->type);
		if (d->flags)
			return vh_error_set(err, VH_E_INVAL, "devices[%u].flags: must be 0", i);
		for (uint32_t j = 0; j < i; j++) {
			if (cfg->devices[j].type == d->type)
				return vh_error_set(
				    err, VH_E_INVAL,
				    "devices[%u].type: device type %u appears twice", i, d->type);
		}
	}
	return disks_validate(cfg, err);
}
