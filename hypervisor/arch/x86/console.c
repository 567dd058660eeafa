#include <stdarg.h>
#include <stdbool.h>

#include "console.h"
#include "serial.h"
#include "spinlock.h"
#include "vh/format.h"

/* About a second of spinning in Bochs, far less on hardware. */
#define PANIC_LOCK_SPINS 100000

static struct vh_spinlock console_lock;
static volatile bool panic_mode;

static void console_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	vh_serial_write(s, n);
}

static bool lock(void)
{
	if (panic_mode)
		return vh_spin_lock_bounded(&console_lock, PANIC_LOCK_SPINS);
	vh_spin_lock(&console_lock);
	return true;
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
	vh_serial_write(s, n);
	vh_spin_unlock(&console_lock);
}

void vh_console_panic_mode(void)
{
	panic_mode = true;
}
