#include <stdarg.h>

#include "console.h"
#include "serial.h"
#include "vh/format.h"

static void console_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	vh_serial_write(s, n);
}

void vh_console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vh_vformat(console_sink, NULL, fmt, ap);
	va_end(ap);
}
