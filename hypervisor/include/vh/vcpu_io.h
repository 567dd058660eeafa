/* SPDX-License-Identifier: Apache-2.0 */
/* Port I/O and MMIO exits up to the device bus, shared by every back end
 * (hypervisor/vcpu/io.c): a back end decodes its exit into a port access
 * (port, size, direction; string I/O element by element) or an MMIO
 * access (guest-physical address, size, direction, value; decoded by
 * vh/decode.h on bare metal, given by KVM in vh-hosted) and calls these.
 * The device runs under its own lock, not the host lock; an access no
 * device claims reads all ones, drops a write and counts in
 * vm->guest.io_unhandled, as an empty PC bus.
 *
 * host_locked says whether the caller holds the host lock (vh-hosted's
 * exit handlers do): it is dropped around the device and held again on
 * return.  VH_IO_STOPPED: the VM stopped (or was undefined meanwhile:
 * then vm must not be touched); the vCPU goes back to the scheduler.
 * Freestanding. */
#ifndef VH_VCPU_IO_H
#define VH_VCPU_IO_H

#include "vh/bus.h"
#include "vh/devices.h"
#include "vh/vm.h"

enum vh_io_result vh_vcpu_port_locked(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				      uint16_t port, unsigned size, bool is_write, uint32_t *value);

/* One port access of size 1, 2 or 4; a read's result in *value (upper
 * bytes zero).  Inline: bare metal's single IN/OUT is the hottest exit
 * after CPUID, and its common case is a call into the bus and back. */
static inline __attribute__((always_inline)) enum vh_io_result
vh_vcpu_port(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint16_t port,
	     unsigned size, bool is_write, uint32_t *value, bool host_locked)
{
	/* The bus is the first member of vm->devices (devices.c). */
	struct vh_bus *b = (struct vh_bus *)(void *)vm->devices;
	uint64_t v = *value;
	enum vh_io_result r = VH_IO_UNHANDLED;

	if (host_locked)
		return vh_vcpu_port_locked(h, vm, vcpu, port, size, is_write, value);
	if (b)
		r = vh_bus_port_exit(b, vcpu ? vcpu->index : VH_BUS_NO_VCPU, port, size, is_write,
				     &v);
	if (r == VH_IO_UNHANDLED) {
		/* An empty bus reads all ones; counted without the host
		 * lock, hence atomically. */
		__atomic_fetch_add(&vm->guest.io_unhandled, 1, __ATOMIC_RELAXED);
		v = ~0ull;
	}
	*value = (uint32_t)v;
	return r;
}

/* A string port access (INS/OUTS with REP) whose elements the back end
 * already has in a buffer (KVM's): count elements of size bytes at data,
 * read into or written from in order.  Stops early on VH_IO_STOPPED. */
enum vh_io_result vh_vcpu_port_string(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				      uint16_t port, unsigned size, bool is_write, uint8_t *data,
				      uint32_t count, bool host_locked);

/* One MMIO access of size 1, 2, 4 or 8 at gpa (not guest RAM). */
enum vh_io_result vh_vcpu_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
			       uint64_t gpa, unsigned size, bool is_write, uint64_t *value,
			       bool host_locked);

#endif
