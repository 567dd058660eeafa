/* SPDX-License-Identifier: Apache-2.0 */
/* VMs and vCPUs: configuration, lifecycle states with only legal
 * transitions, and the calls that change them (hypervisor/core/vm.c).
 * Every call expects the host lock held (see host.h). */
#ifndef VH_VM_H
#define VH_VM_H

#include "vh/console.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/resource.h"
#include "vh/sched.h"
#include "vh/stats.h"
#include "vh/types.h"

#define VH_VM_NAME_MAX 64       /* including the terminating NUL */
#define VH_VM_MAX_VCPUS 64
#define VH_VM_MIN_MEMORY_MIB 1
#define VH_VM_MAX_MEMORY_MIB (1024ull * 1024ull) /* 1 TiB */
#define VH_BOOT_PATH_MAX 128
#define VH_BOOT_CMDLINE_MAX 512
#define VH_BOOT_MAX_MODULES 8
#define VH_VM_MAX_DEVICES 16
#define VH_VM_MAX_DISKS 8
/* A datastore disk's name (NUL included): the rules of a VM name. */
#define VH_DISK_NAME_MAX VH_VM_NAME_MAX

enum vh_vm_state {
	VH_VM_DEFINED = 0, /* configured, never started or undefined-able */
	VH_VM_RUNNING = 1,
	VH_VM_PAUSED = 2,
	VH_VM_STOPPED = 3,
	VH_VM_CRASHED = 4, /* the guest triple-faulted or a backend gave up */
	VH_VM_STATE_COUNT
};

const char *vh_vm_state_name(enum vh_vm_state s);

struct vh_boot_module {
	char image[VH_BOOT_PATH_MAX];
	char args[VH_BOOT_PATH_MAX];
};

/* How the kernel image is read: from its contents (Multiboot, a Linux
 * bzImage or PVH ELF), or as a raw binary, which has no header to
 * recognise (raw16: real mode at 0x7c00; raw32: flat 32-bit at 1 MiB). */
enum vh_boot_kind {
	VH_BOOT_KIND_AUTO = 0,
	VH_BOOT_KIND_RAW16 = 1,
	VH_BOOT_KIND_RAW32 = 2,
	VH_BOOT_KIND_MAX = VH_BOOT_KIND_RAW32
};

struct vh_boot_config {
	char kernel[VH_BOOT_PATH_MAX]; /* image name (the backend resolves it) */
	char cmdline[VH_BOOT_CMDLINE_MAX];
	uint32_t nmodules;
	struct vh_boot_module modules[VH_BOOT_MAX_MODULES];
	char initrd[VH_BOOT_PATH_MAX]; /* image name of a Linux initrd; "" none */
	uint32_t kind;                 /* enum vh_boot_kind */
};

enum vh_device_type {
	VH_DEV_UART16550 = 1,   /* COM1 console */
	VH_DEV_DEBUG_EXIT = 2,  /* QEMU isa-debug-exit at 0xf4 */
	VH_DEV_FW_CFG = 3,      /* QEMU fw_cfg at 0x510 */
	VH_DEV_BALLOON = 4,     /* balloon through hypercalls */
	VH_DEV_TYPE_MAX = VH_DEV_BALLOON
};

struct vh_device_config {
	uint32_t type;  /* enum vh_device_type */
	uint32_t flags; /* per type; 0 for now */
};

/* disks[].flags */
#define VH_DISK_F_READONLY 0x1u
#define VH_DISK_F_ALL      VH_DISK_F_READONLY

/* A datastore disk the VM is given (the backend opens it by name from its
 * datastore: vh-hosted's --disks folder), in boot order. */
struct vh_disk_config {
	char name[VH_DISK_NAME_MAX];
	uint32_t flags; /* VH_DISK_F_* */
};

struct vh_vm_config {
	char name[VH_VM_NAME_MAX];
	uint8_t uuid[16];
	uint32_t vcpus;
	uint64_t memory_mib;
	struct vh_cpu_controls cpu;
	struct vh_mem_controls mem;
	enum vh_cosched_mode cosched;
	struct vh_boot_config boot;
	uint32_t ndevices;
	struct vh_device_config devices[VH_VM_MAX_DEVICES];
	uint32_t ndisks;
	struct vh_disk_config disks[VH_VM_MAX_DISKS];
};

/* A config with the defaults: 1 vCPU, 64 MiB, normal shares, no
 * reservation, no limit, relaxed co-scheduling, UART + debug-exit. */
void vh_vm_config_default(struct vh_vm_config *cfg);
/* Checks every field; the reason names the first field at fault. */
int vh_vm_config_validate(const struct vh_vm_config *cfg, struct vh_error *err);
/* A VM or disk name: 1..63 letters, digits, '-', '_', '.', the first a
 * letter or digit (so never a path, never "." or ".."). */
bool vh_vm_name_valid(const char *name);
/* The controls' part of it, for VM_SET_CPU and VM_SET_MEM: shares,
 * reservation against limit (and, for memory, against memory_mib). */
int vh_vm_cpu_validate(const struct vh_cpu_controls *c, struct vh_error *err);
int vh_vm_mem_validate(const struct vh_mem_controls *c, uint64_t memory_mib, struct vh_error *err);

struct vh_vcpu {
	struct vh_vm *vm;
	uint32_t index;
	struct vh_vcpu_sched sched;
	uint64_t exits[VH_EXIT_KIND_COUNT];
	struct vh_pub_vcpu *pub; /* its published record (vh/stats_pub.h), or NULL */
	void *backend; /* the backend's per-vCPU state (VMCS, KVM fd, ...) */
};

/* The last VH_CONSOLE_TAIL_BYTES bytes of a VM's console (core/console.c):
 * stream byte i is at ring[i % VH_CONSOLE_TAIL_BYTES] while i >= total -
 * VH_CONSOLE_TAIL_BYTES. */
#define VH_CONSOLE_TAIL_BYTES 4096u
#define VH_VM_CRASH_REASON_MAX 128u /* NUL included */
struct vh_console_tail {
	uint64_t total; /* bytes written since the VM was defined */
	uint64_t since; /* the stream position the ring starts at */
	char *ring;     /* allocated at the first byte; NULL before */
	struct vh_console_budget budget; /* what the guest may still write */
};

struct vh_vm {
	uint32_t id; /* stable while defined, never reused while the host lives */
	struct vh_vm *id_prev, *id_next; /* h->vm_first's list, by id */
	struct vh_pub_vm *pub; /* its published slot (vh/stats_pub.h), or NULL */
	struct vh_vm_config cfg;
	enum vh_vm_state state;
	struct vh_vcpu *vcpus; /* cfg.vcpus of them */
	struct vh_vm_sched sched;
	struct vh_vm_mem mem;
	uint64_t state_changes;
	/* Bumped at every power-on and reset: backends reload the guest when
	 * it changes. */
	uint32_t boot_generation;
	/* Power-ons and control changes admission control refused (the
	 * dispatcher counts them): a cause an operator's diagnosis names. */
	uint32_t admission_refusals;
	struct vh_devices *devices; /* device models (vh/devices.h) */
	/* Bit (1 << VH_DEV_*) per device type cfg.devices names, set at
	 * definition (the list never changes after): a hypercall's device
	 * check is one test, not a walk (vh_vm_has_device). */
	uint32_t device_types;
	struct vh_guest_stats guest; /* debug-exit code, console, hypercalls */
	struct vh_console_tail console;
	/* Why the guest crashed (vh_vm_crash), until its next power-on:
	 * VM_GET carries it, so a client can say why, not only that. */
	char crash_reason[VH_VM_CRASH_REASON_MAX];
	void *backend;
};

struct vh_host;
struct vh_devices;

/* cfg.devices names a device of this type (VH_DEV_*). */
static inline bool vh_vm_has_device(const struct vh_vm *vm, uint32_t type)
{
	return type < 32 && ((vm->device_types >> type) & 1);
}

/* Defines a VM from a validated config: unique name and uuid, VM count
 * within the host's limit.  Returns NULL with err set on failure (nothing
 * changes). */
struct vh_vm *vh_vm_define(struct vh_host *h, const struct vh_vm_config *cfg,
			   struct vh_error *err);
/* Only a VM that is not running or paused can be undefined. */
int vh_vm_undefine(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);

/* Lifecycle.  Legal transitions:
 *   defined/stopped/crashed --start--> running   (admission-controlled)
 *   running --pause--> paused --resume--> running
 *   running/paused --stop--> stopped
 *   running/paused --reset--> running (memory cleared, vCPUs restart)
 *   running --crash--> crashed (backends report a dead guest)
 * Anything else fails with VH_E_STATE naming both states. */
int vh_vm_start(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
int vh_vm_stop(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
int vh_vm_pause(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
int vh_vm_resume(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
int vh_vm_reset(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
int vh_vm_crash(struct vh_host *h, struct vh_vm *vm, const char *why);

/* Run-time controls, admission-controlled, applied within one quantum.
 * On failure nothing changes. */
int vh_vm_set_cpu(struct vh_host *h, struct vh_vm *vm, const struct vh_cpu_controls *c,
		  struct vh_error *err);
int vh_vm_set_mem(struct vh_host *h, struct vh_vm *vm, const struct vh_mem_controls *c,
		  struct vh_error *err);
int vh_vm_set_balloon(struct vh_host *h, struct vh_vm *vm, uint64_t target_mib,
		      struct vh_error *err);

/* Console output of the guest (UART, console hypercall), under the host
 * lock: counted in vm->guest.console_bytes; what the host's console budget
 * (vh/console.h) admits is kept in the VM's tail and passed to
 * plat->console, the rest is counted in vm->guest.console_dropped. */
void vh_vm_console_write(struct vh_host *h, struct vh_vm *vm, const char *bytes, size_t n);
/* Copies up to cap bytes of the console stream from position `from`, or
 * from the oldest byte still held if that is later (*first says where the
 * copy starts; from beyond the total copies nothing).  Returns the count. */
size_t vh_vm_console_read(const struct vh_vm *vm, uint64_t from, void *buf, size_t cap,
			  uint64_t *first);
void vh_vm_console_free(struct vh_host *h, struct vh_vm *vm);

struct vh_vm *vh_vm_find_id(struct vh_host *h, uint32_t id);
struct vh_vm *vh_vm_find_name(struct vh_host *h, const char *name);
struct vh_vm *vh_vm_find_uuid(struct vh_host *h, const uint8_t uuid[16]);

#endif
