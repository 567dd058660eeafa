/* SPDX-License-Identifier: Apache-2.0 */
/* Port I/O and MMIO exits up to the device bus (vh/vcpu_io.h): the bus
 * call (vh_devices_access: the device under its lock, the core's share
 * under the host lock), string elements in order, and the empty bus's
 * answer.  Both back ends' exit handlers end here. */
#include "vh/vcpu_io.h"
#include "vh/vm.h"

/* Nothing there: an empty bus reads all ones; counted (without the host
 * lock on bare metal, hence atomically). */
static void unclaimed(struct vh_vm *vm, uint64_t *value)
{
	__atomic_fetch_add(&vm->guest.io_unhandled, 1, __ATOMIC_RELAXED);
	*value = ~0ull;
}

enum vh_io_result vh_vcpu_port_locked(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				      uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
	uint64_t v = *value;
	enum vh_io_result r = vh_devices_access(h, vm, vcpu, false, port, size, is_write, &v, true);

	if (r == VH_IO_UNHANDLED)
		unclaimed(vm, &v);
	*value = (uint32_t)v;
	return r;
}

enum vh_io_result vh_vcpu_port_string(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				      uint16_t port, unsigned size, bool is_write, uint8_t *data,
				      uint32_t count, bool host_locked)
{
	enum vh_io_result r = VH_IO_HANDLED;

	for (uint32_t i = 0; i < count && r != VH_IO_STOPPED; i++, data += size) {
		uint32_t v = 0;

		for (unsigned k = 0; is_write && k < size; k++)
			v |= (uint32_t)data[k] << (8 * k);
		r = vh_vcpu_port(h, vm, vcpu, port, size, is_write, &v, host_locked);
		for (unsigned k = 0; !is_write && k < size; k++)
			data[k] = (uint8_t)(v >> (8 * k));
	}
	return r;
}

enum vh_io_result vh_vcpu_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
			       uint64_t gpa, unsigned size, bool is_write, uint64_t *value,
			       bool host_locked)
{
	enum vh_io_result r =
	    vh_devices_access(h, vm, vcpu, true, gpa, size, is_write, value, host_locked);

	if (r == VH_IO_UNHANDLED)
		unclaimed(vm, value);
	return r;
}
