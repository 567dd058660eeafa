/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel console on COM1.
 *
 * While the kernel boots, output goes to the UART at once (polled: it
 * must work before the IDT and in a panic).  Once the CPUs run guests
 * (vh_console_buffered), output goes into a ring and the UART is fed
 * from it without waiting (vh_console_pump, about every millisecond on
 * CPU 0 while bytes are pending): a polled write waits about 87 us per
 * byte at 115200 baud, and a stats print of a few hundred bytes then held
 * a CPU for tens of milliseconds while a vCPU was current there, time
 * charged to that vCPU although its guest did not run.  A full ring makes
 * the writer wait for the UART (nothing is dropped), and a panic or the
 * machine's stop writes out what is pending first, so order is kept. */
#include <stdarg.h>
#include <stdbool.h>

#include "console.h"
#include "serial.h"
#include "spinlock.h"
#include "vh/format.h"

/* About a second of spinning in Bochs, far less on hardware. */
#define PANIC_LOCK_SPINS 100000
#define RING_SIZE (256u * 1024u) /* a power of two */

static struct vh_spinlock console_lock;
static volatile bool panic_mode;
static bool buffered;
static char ring[RING_SIZE];
static uint64_t ring_head, ring_tail; /* bytes written in, bytes sent out */

static bool lock(void)
{
	if (panic_mode)
		return vh_spin_lock_bounded(&console_lock, PANIC_LOCK_SPINS);
	vh_spin_lock(&console_lock);
	return true;
}

/* Lock held.  The pending bytes up to the ring's end: their count, and
 * where they start. */
static size_t pending_run(const char **at)
{
	size_t from = (size_t)(ring_tail % RING_SIZE), n = (size_t)(ring_head - ring_tail);

	*at = &ring[from];
	return n < RING_SIZE - from ? n : RING_SIZE - from;
}

/* Lock held.  Sends what is pending, waiting for the UART. */
static void drain_locked(void)
{
	while (ring_tail != ring_head) {
		const char *at;
		size_t n = pending_run(&at);

		vh_serial_write(at, n);
		ring_tail += n;
	}
}

/* Lock held. */
static void put(const char *s, size_t n)
{
	if (!buffered || panic_mode) {
		drain_locked();
		vh_serial_write(s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ring_head - ring_tail == RING_SIZE) {
			/* Full: the writer waits for a ring's worth to go. */
			drain_locked();
		}
		ring[ring_head % RING_SIZE] = s[i];
		ring_head++;
	}
}

static void console_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	put(s, n);
}

void vh_console_vprintf(const char *fmt, va_list ap)
{
	lock();
	vh_vformat(console_sink, NULL, fmt, ap);
	vh_spin_unlock(&console_lock);
}

void vh_console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vh_console_vprintf(fmt, ap);
	va_end(ap);
}

void vh_console_write(const char *s, size_t n)
{
	lock();
	put(s, n);
	vh_spin_unlock(&console_lock);
}

void vh_console_buffered(void)
{
	lock();
	buffered = true;
	vh_spin_unlock(&console_lock);
}

bool vh_console_pending(void)
{
	return __atomic_load_n(&ring_head, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&ring_tail, __ATOMIC_RELAXED);
}

void vh_console_pump(void)
{
	/* Whoever holds the lock is printing; the next pump sends it. */
	if (!vh_spin_trylock(&console_lock))
		return;
	if (ring_tail != ring_head) {
		const char *at;
		size_t n = pending_run(&at);

		ring_tail += vh_serial_write_ready(at, n);
	}
	vh_spin_unlock(&console_lock);
}

void vh_console_flush(void)
{
	lock();
	drain_locked();
	vh_spin_unlock(&console_lock);
}

void vh_console_panic_mode(void)
{
	panic_mode = true;
}
