/* SPDX-License-Identifier: Apache-2.0 */
/* C side of the test shim: registration, failure formatting and the
 * longjmp that ends a test on a fatal check. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_test.h"

static struct vh_test_case *head;
static struct vh_test_case **tail = &head;

void vh_test_register(struct vh_test_case *tc)
{
	tc->next = NULL;
	*tail = tc;
	tail = &tc->next;
}

struct vh_test_case *vh_test_list(void)
{
	return head;
}

static jmp_buf *current_jmp;

bool vh_test_run(vh_test_fn fn)
{
	jmp_buf env;
	jmp_buf *saved = current_jmp;
	bool completed = true;

	current_jmp = &env;
	if (setjmp(env) == 0)
		fn();
	else
		completed = false;
	current_jmp = saved;
	return completed;
}

void vh_test_fail(const char *file, int line, bool fatal, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vh_test_report_failure(file, line, fatal, msg);
	if (fatal) {
		if (current_jmp)
			longjmp(*current_jmp, 1);
		/* A fatal check outside a running test (a helper called
		 * from main?) cannot unwind anywhere sensible. */
		fprintf(stderr, "%s:%d: fatal check outside a test\n", file, line);
		abort();
	}
}

void vh_test_fmt_i(char *buf, size_t size, long long v)
{
	snprintf(buf, size, "%lld", v);
}

void vh_test_fmt_u(char *buf, size_t size, unsigned long long v)
{
	snprintf(buf, size, "%llu (%#llx)", v, v);
}

void vh_test_fmt_p(char *buf, size_t size, const void *v)
{
	snprintf(buf, size, "%p", v);
}

void vh_test_fmt_d(char *buf, size_t size, double v)
{
	snprintf(buf, size, "%.9g", v);
}

void vh_test_streq(const char *file, int line, bool fatal, const char *ea, const char *eb,
		   const char *a, const char *b)
{
	if (a == b || (a && b && strcmp(a, b) == 0))
		return;
	vh_test_fail(file, line, fatal, "expected: %s == %s\n  left:  \"%s\"\n  right: \"%s\"", ea,
		     eb, a ? a : "(null)", b ? b : "(null)");
}

void vh_test_memeq(const char *file, int line, bool fatal, const char *ea, const char *eb,
		   const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i]) {
			vh_test_fail(
			    file, line, fatal,
			    "expected: %s == %s (%zu bytes)\n  first difference at byte %zu: "
			    "%#04x != %#04x",
			    ea, eb, n, i, x[i], y[i]);
			return;
		}
	}
}

void vh_test_near(const char *file, int line, bool fatal, const char *ea, const char *eb,
		  double a, double b, double tol)
{
	if (fabs(a - b) <= tol)
		return;
	vh_test_fail(file, line, fatal, "expected: |%s - %s| <= %g\n  left:  %.9g\n  right: %.9g",
		     ea, eb, tol, a, b);
}
