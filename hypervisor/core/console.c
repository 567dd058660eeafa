/* SPDX-License-Identifier: Apache-2.0 */
/* The tail of each VM's console output, kept by the core so that every
 * backend answers the protocol's VM_CONSOLE the same way (the backends'
 * own sinks, a log file or a serial port, are write-only).  The ring is
 * allocated at the VM's first console byte, so a VM that prints nothing
 * costs nothing; stream positions count every byte since the VM was
 * defined, across power cycles, so a client that polls from the last
 * total it saw gets each byte once and can tell when it fell behind.
 *
 * Every console byte of every backend enters here, so this is where the
 * VM's console budget (vh/console.h) applies: bytes over it are counted
 * and discarded before they cost memory, log space or a write. */
#include "vh/host.h"
#include "vh/platform.h"
#include "vh/string.h"
#include "vh/vm.h"

void vh_vm_console_write(struct vh_host *h, struct vh_vm *vm, const char *bytes, size_t n)
{
	struct vh_console_tail *t = &vm->console;
	size_t ok;

	vm->guest.console_bytes += n;
	ok = vh_console_budget_take(&t->budget, h->cfg.console_rate, h->cfg.console_burst,
				    h->plat->now_ns(h->plat->ctx), n);
	vm->guest.console_dropped += n - ok;
	n = ok;
	if (!n)
		return;
	if (!t->ring) {
		t->ring = h->plat->alloc(h->plat->ctx, VH_CONSOLE_TAIL_BYTES);
		t->since = t->total;
	}
	/* Without a ring (no memory) the bytes still count: a reader sees a
	 * gap, never bytes out of place, and a ring allocated later holds
	 * only what came after `since`. */
	if (t->ring) {
		size_t skip = n > VH_CONSOLE_TAIL_BYTES ? n - VH_CONSOLE_TAIL_BYTES : 0;
		for (size_t i = skip; i < n; i++)
			t->ring[(t->total + i) % VH_CONSOLE_TAIL_BYTES] = bytes[i];
	}
	t->total += n;
	h->plat->console(h->plat->ctx, vm, bytes, n);
}

size_t vh_vm_console_read(const struct vh_vm *vm, uint64_t from, void *buf, size_t cap,
			  uint64_t *first)
{
	const struct vh_console_tail *t = &vm->console;
	uint64_t kept = t->total - t->since;
	uint64_t held = !t->ring ? 0 : kept < VH_CONSOLE_TAIL_BYTES ? kept : VH_CONSOLE_TAIL_BYTES;
	uint64_t start = from > t->total - held ? from : t->total - held;
	size_t n;

	if (start > t->total)
		start = t->total;
	n = t->total - start < cap ? (size_t)(t->total - start) : cap;
	for (size_t i = 0; i < n; i++)
		((char *)buf)[i] = t->ring[(start + i) % VH_CONSOLE_TAIL_BYTES];
	*first = start;
	return n;
}

void vh_vm_console_free(struct vh_host *h, struct vh_vm *vm)
{
	if (vm->console.ring)
		h->plat->free(h->plat->ctx, vm->console.ring, VH_CONSOLE_TAIL_BYTES);
	vm->console.ring = NULL;
}
