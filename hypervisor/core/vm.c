/* SPDX-License-Identifier: Apache-2.0 */
/* VM lifecycle and run-time controls.  Every change is validated and
 * admission-controlled before anything is touched, so a refused request
 * leaves the host exactly as it was. */
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/stats_pub.h"
#include "vh/string.h"
#include "vh/vm.h"

/* Powered on: holds reservations and (some) memory. */
static bool powered_on(const struct vh_vm *vm)
{
	return vm->state == VH_VM_RUNNING || vm->state == VH_VM_PAUSED;
}

/* ---- lookup --------------------------------------------------------------- */

struct vh_vm *vh_vm_find_id(struct vh_host *h, uint32_t id)
{
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		if (h->vms[i] && h->vms[i]->id == id)
			return h->vms[i];
	}
	return NULL;
}

struct vh_vm *vh_vm_find_name(struct vh_host *h, const char *name)
{
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		if (h->vms[i] && vh_strcmp(h->vms[i]->cfg.name, name) == 0)
			return h->vms[i];
	}
	return NULL;
}

struct vh_vm *vh_vm_find_uuid(struct vh_host *h, const uint8_t uuid[16])
{
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		if (h->vms[i] && vh_memcmp(h->vms[i]->cfg.uuid, uuid, 16) == 0)
			return h->vms[i];
	}
	return NULL;
}

/* ---- define / undefine ---------------------------------------------------- */

static bool uuid_is_nil(const uint8_t u[16])
{
	for (int i = 0; i < 16; i++) {
		if (u[i])
			return false;
	}
	return true;
}

/* RFC 9562 version 4 (random) UUID for VMs defined without one. */
static void uuid_generate(struct vh_host *h, uint8_t u[16])
{
	uint64_t a = h->plat->random(h->plat->ctx), b = h->plat->random(h->plat->ctx);

	for (int i = 0; i < 8; i++) {
		u[i] = (uint8_t)(a >> (8 * i));
		u[8 + i] = (uint8_t)(b >> (8 * i));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

static void vm_free(struct vh_host *h, struct vh_vm *vm)
{
	vh_vm_console_free(h, vm);
	if (vm->vcpus)
		h->plat->free(h->plat->ctx, vm->vcpus, sizeof(*vm->vcpus) * vm->cfg.vcpus);
	h->plat->free(h->plat->ctx, vm, sizeof(*vm));
}

struct vh_vm *vh_vm_define(struct vh_host *h, const struct vh_vm_config *cfg, struct vh_error *err)
{
	struct vh_vm *vm;
	uint32_t slot;

	if (vh_vm_config_validate(cfg, err))
		return NULL;
	if (vh_vm_find_name(h, cfg->name)) {
		vh_error_set(err, VH_E_EXIST, "name: a VM named \"%s\" exists", cfg->name);
		return NULL;
	}
	if (!uuid_is_nil(cfg->uuid) && vh_vm_find_uuid(h, cfg->uuid)) {
		vh_error_set(err, VH_E_EXIST, "uuid: another VM has this uuid");
		return NULL;
	}
	for (slot = 0; slot < h->cfg.max_vms && h->vms[slot]; slot++)
		;
	if (slot == h->cfg.max_vms) {
		vh_error_set(err, VH_E_LIMIT, "the host holds its maximum of %u VMs",
			     h->cfg.max_vms);
		return NULL;
	}
	vm = h->plat->alloc(h->plat->ctx, sizeof(*vm));
	if (!vm) {
		vh_error_set(err, VH_E_NOMEM, "no hypervisor memory for a new VM");
		return NULL;
	}
	vm->cfg = *cfg;
	for (uint32_t i = 0; i < cfg->ndevices; i++)
		vm->device_types |= cfg->devices[i].type < 32 ? 1u << cfg->devices[i].type : 0;
	if (uuid_is_nil(vm->cfg.uuid)) {
		do
			uuid_generate(h, vm->cfg.uuid);
		while (vh_vm_find_uuid(h, vm->cfg.uuid));
	}
	vm->vcpus = h->plat->alloc(h->plat->ctx, sizeof(*vm->vcpus) * cfg->vcpus);
	if (!vm->vcpus) {
		vm_free(h, vm);
		vh_error_set(err, VH_E_NOMEM, "no hypervisor memory for %u vCPUs", cfg->vcpus);
		return NULL;
	}
	for (uint32_t i = 0; i < cfg->vcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].index = i;
	}
	vm->state = VH_VM_DEFINED;
	if (vh_sched_vm_init(h, vm, err)) {
		vm_free(h, vm);
		return NULL;
	}
	if (vh_mem_vm_init(h, vm, err)) {
		vh_sched_vm_fini(h, vm);
		vm_free(h, vm);
		return NULL;
	}
	if (vh_devices_create(h, vm, err)) {
		vh_mem_vm_fini(h, vm);
		vh_sched_vm_fini(h, vm);
		vm_free(h, vm);
		return NULL;
	}
	vm->id = h->next_vm_id++;
	h->vms[slot] = vm;
	h->nvms++;
	vm->id_prev = h->vm_last;
	if (h->vm_last)
		h->vm_last->id_next = vm;
	else
		h->vm_first = vm;
	h->vm_last = vm;
	vh_pub_vm_added(h, vm, slot);
	return vm;
}

int vh_vm_undefine(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	unsigned pcpu;

	if (powered_on(vm))
		return vh_error_set(err, VH_E_STATE, "VM \"%s\" is %s: stop it first", vm->cfg.name,
				    vh_vm_state_name(vm->state));
	/* Stopped, but a backend may still be leaving the guest with one of
	 * its vCPUs: freeing now would pull memory from under it. */
	if (vh_sched_vm_in_use(h, vm, &pcpu))
		return vh_error_set(err, VH_E_BUSY,
				    "VM \"%s\" is still leaving pCPU %u: retry shortly",
				    vm->cfg.name, pcpu);
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		if (h->vms[i] == vm) {
			vh_pub_vm_removed(h, vm);
			h->vms[i] = NULL;
			h->nvms--;
			if (vm->id_prev)
				vm->id_prev->id_next = vm->id_next;
			else
				h->vm_first = vm->id_next;
			if (vm->id_next)
				vm->id_next->id_prev = vm->id_prev;
			else
				h->vm_last = vm->id_prev;
			if (h->plat->vm_gone)
				h->plat->vm_gone(h->plat->ctx, vm);
			vh_devices_destroy(h, vm);
			vh_mem_vm_fini(h, vm);
			vh_sched_vm_fini(h, vm);
			vm_free(h, vm);
			return VH_OK;
		}
	}
	return vh_error_set(err, VH_E_NOENT, "no such VM");
}

/* ---- lifecycle ------------------------------------------------------------ */

enum vm_op { OP_START, OP_STOP, OP_PAUSE, OP_RESUME, OP_RESET, OP_CRASH, OP_COUNT };

static const char *const op_names[OP_COUNT] = {
	"start", "stop", "pause", "resume", "reset", "crash",
};

/* The legal transitions, and nothing else. */
static const bool legal[VH_VM_STATE_COUNT][OP_COUNT] = {
	[VH_VM_DEFINED] = { [OP_START] = true },
	[VH_VM_STOPPED] = { [OP_START] = true },
	[VH_VM_CRASHED] = { [OP_START] = true },
	[VH_VM_RUNNING] = { [OP_STOP] = true,
			    [OP_PAUSE] = true,
			    [OP_RESET] = true,
			    [OP_CRASH] = true },
	[VH_VM_PAUSED] = { [OP_STOP] = true, [OP_RESUME] = true, [OP_RESET] = true },
};

static int check_transition(const struct vh_vm *vm, enum vm_op op, struct vh_error *err)
{
	if ((unsigned)vm->state < VH_VM_STATE_COUNT && legal[vm->state][op])
		return VH_OK;
	return vh_error_set(err, VH_E_STATE, "cannot %s VM \"%s\": it is %s", op_names[op],
			    vm->cfg.name, vh_vm_state_name(vm->state));
}

static uint64_t now(struct vh_host *h)
{
	return h->plat->now_ns(h->plat->ctx);
}

/* Would adding these reservations over-commit the host?  The reason
 * names the shortfall. */
static int admit(struct vh_host *h, const struct vh_vm *vm, uint64_t add_mhz, uint64_t add_mib,
		 struct vh_error *err)
{
	uint64_t cpu_cap = vh_host_cpu_capacity_mhz(h), mem_cap = vh_host_mem_capacity_mib(h);
	uint64_t cpu_free = cpu_cap - h->reserved_mhz, mem_free = mem_cap - h->reserved_mib;

	if (add_mhz > cpu_free)
		return vh_error_set(
		    err, VH_E_ADMISSION,
		    "cpu.reservation_mhz: VM \"%s\" needs %llu MHz more but only %llu "
		    "of %llu MHz are unreserved: short by %llu MHz",
		    vm->cfg.name, (unsigned long long)add_mhz, (unsigned long long)cpu_free,
		    (unsigned long long)cpu_cap, (unsigned long long)(add_mhz - cpu_free));
	if (add_mib > mem_free)
		return vh_error_set(
		    err, VH_E_ADMISSION,
		    "memory.reservation_mib: VM \"%s\" needs %llu MiB more but only "
		    "%llu of %llu MiB are unreserved: short by %llu MiB",
		    vm->cfg.name, (unsigned long long)add_mib, (unsigned long long)mem_free,
		    (unsigned long long)mem_cap, (unsigned long long)(add_mib - mem_free));
	return VH_OK;
}

static void set_state(struct vh_host *h, struct vh_vm *vm, enum vh_vm_state s)
{
	vm->state = s;
	vm->state_changes++;
	vh_pub_vm(h, vm);
	vh_pub_host(h);
}

int vh_vm_start(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	int rc;

	if ((rc = check_transition(vm, OP_START, err)) ||
	    (h->plat->boot_check && (rc = h->plat->boot_check(h->plat->ctx, vm, err))) ||
	    (rc = admit(h, vm, vm->cfg.cpu.reservation_mhz, vm->cfg.mem.reservation_mib, err)))
		return rc;
	if ((rc = vh_mem_vm_start(h, vm, err)))
		return rc;
	h->reserved_mhz += vm->cfg.cpu.reservation_mhz;
	h->reserved_mib += vm->cfg.mem.reservation_mib;
	vm->boot_generation++;
	vm->crash_reason[0] = '\0';
	/* A new guest run: its exit code and device counters start over. */
	vh_memset(&vm->guest, 0, sizeof(vm->guest));
	set_state(h, vm, VH_VM_RUNNING);
	vh_sched_vm_run(h, vm, now(h));
	return VH_OK;
}

/* Powers off: the vCPUs leave their pCPUs, memory and reservations go
 * back to the host. */
static void power_off(struct vh_host *h, struct vh_vm *vm, enum vh_vm_state to)
{
	vh_sched_vm_park(h, vm, now(h));
	vh_mem_vm_stop(h, vm);
	h->reserved_mhz -= vm->cfg.cpu.reservation_mhz;
	h->reserved_mib -= vm->cfg.mem.reservation_mib;
	set_state(h, vm, to);
}

int vh_vm_stop(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	int rc = check_transition(vm, OP_STOP, err);

	if (rc)
		return rc;
	power_off(h, vm, VH_VM_STOPPED);
	return VH_OK;
}

int vh_vm_crash(struct vh_host *h, struct vh_vm *vm, const char *why)
{
	int rc = check_transition(vm, OP_CRASH, NULL);

	if (rc)
		return rc;
	vh_host_log(h, "VM \"%s\" crashed: %s", vm->cfg.name, why ? why : "no reason given");
	vh_strlcpy(vm->crash_reason, why ? why : "no reason given", sizeof(vm->crash_reason));
	power_off(h, vm, VH_VM_CRASHED);
	return VH_OK;
}

int vh_vm_pause(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	int rc = check_transition(vm, OP_PAUSE, err);

	if (rc)
		return rc;
	vh_sched_vm_park(h, vm, now(h));
	set_state(h, vm, VH_VM_PAUSED);
	return VH_OK;
}

int vh_vm_resume(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	int rc = check_transition(vm, OP_RESUME, err);

	if (rc)
		return rc;
	set_state(h, vm, VH_VM_RUNNING);
	vh_sched_vm_run(h, vm, now(h));
	return VH_OK;
}

int vh_vm_reset(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	int rc = check_transition(vm, OP_RESET, err);

	if (rc)
		return rc;
	/* A reset is a power cycle that keeps the reservations: the guest
	 * sees fresh zeroed memory and its vCPUs start from the boot state. */
	vh_sched_vm_park(h, vm, now(h));
	vh_mem_vm_stop(h, vm);
	if ((rc = vh_mem_vm_start(h, vm, err))) {
		/* Could not take the reserved frames back: the VM is off. */
		h->reserved_mhz -= vm->cfg.cpu.reservation_mhz;
		h->reserved_mib -= vm->cfg.mem.reservation_mib;
		set_state(h, vm, VH_VM_STOPPED);
		return rc;
	}
	vm->boot_generation++;
	set_state(h, vm, VH_VM_RUNNING);
	vh_sched_vm_run(h, vm, now(h));
	return VH_OK;
}

/* ---- run-time controls ---------------------------------------------------- */

int vh_vm_set_cpu(struct vh_host *h, struct vh_vm *vm, const struct vh_cpu_controls *c,
		  struct vh_error *err)
{
	int rc = vh_vm_cpu_validate(c, err);

	if (rc)
		return rc;
	if (powered_on(vm)) {
		uint64_t old = vm->cfg.cpu.reservation_mhz;
		if (c->reservation_mhz > old &&
		    (rc = admit(h, vm, c->reservation_mhz - old, 0, err)))
			return rc;
		h->reserved_mhz = h->reserved_mhz - old + c->reservation_mhz;
	}
	vm->cfg.cpu = *c;
	vh_sched_set_controls(h, vm, &vm->cfg.cpu, vm->cfg.cosched, now(h));
	return VH_OK;
}

int vh_vm_set_mem(struct vh_host *h, struct vh_vm *vm, const struct vh_mem_controls *c,
		  struct vh_error *err)
{
	int rc = vh_vm_mem_validate(c, vm->cfg.memory_mib, err);

	if (rc)
		return rc;
	if (powered_on(vm)) {
		uint64_t old = vm->cfg.mem.reservation_mib;
		if (c->reservation_mib > old &&
		    (rc = admit(h, vm, 0, c->reservation_mib - old, err)))
			return rc;
	}
	/* The memory manager takes or releases real frames; it may still
	 * refuse (frames in use by other VMs' unreserved memory). */
	if ((rc = vh_mem_set_controls(h, vm, c, err)))
		return rc;
	if (powered_on(vm))
		h->reserved_mib =
		    h->reserved_mib - vm->cfg.mem.reservation_mib + c->reservation_mib;
	vm->cfg.mem = *c;
	return VH_OK;
}

int vh_vm_set_balloon(struct vh_host *h, struct vh_vm *vm, uint64_t target_mib,
		      struct vh_error *err)
{
	if (target_mib > vm->cfg.memory_mib)
		return vh_error_set(err, VH_E_INVAL,
				    "balloon.target_mib: %llu exceeds the VM's memory (%llu MiB)",
				    (unsigned long long)target_mib,
				    (unsigned long long)vm->cfg.memory_mib);
	return vh_mem_set_balloon_target(h, vm, target_mib * VH_PAGES_PER_MIB, err);
}
