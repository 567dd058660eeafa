/* SPDX-License-Identifier: Apache-2.0 */
/* A small printf for freestanding code: the kernel console, the core's
 * diagnostics and the stats lines all go through it.  Output goes to a
 * sink in pieces, so no buffer size limits what can be printed. */
#include <stdbool.h>
#include <stdint.h>

#include "vh/format.h"
#include "vh/string.h"

enum vh_length {
	LEN_INT,
	LEN_CHAR,
	LEN_SHORT,
	LEN_LONG,
	LEN_LLONG,
	LEN_SIZE,
	LEN_INTMAX,
	LEN_PTRDIFF
};

struct vh_spec {
	bool left, zero, plus, space, alt;
	int width;
	int precision; /* -1: none */
	enum vh_length length;
};

struct vh_out {
	vh_format_sink sink;
	void *ctx;
	size_t count;
};

static void out_bytes(struct vh_out *o, const char *s, size_t n)
{
	if (n) {
		o->sink(o->ctx, s, n);
		o->count += n;
	}
}

static void out_repeat(struct vh_out *o, char c, int n)
{
	char chunk[16];

	vh_memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		int k = n < (int)sizeof(chunk) ? n : (int)sizeof(chunk);
		out_bytes(o, chunk, (size_t)k);
		n -= k;
	}
}

/* Writes the already-converted digits with sign/prefix, precision zeros and
 * field padding in the order C's printf defines. */
static void out_number(struct vh_out *o, const struct vh_spec *sp, const char *prefix,
		       const char *digits, int ndigits)
{
	int plen = (int)vh_strlen(prefix);
	int zeros = sp->precision > ndigits ? sp->precision - ndigits : 0;
	int body = plen + zeros + ndigits;
	int pad = sp->width > body ? sp->width - body : 0;

	if (!sp->left && !(sp->zero && sp->precision < 0))
		out_repeat(o, ' ', pad);
	out_bytes(o, prefix, (size_t)plen);
	if (!sp->left && sp->zero && sp->precision < 0)
		out_repeat(o, '0', pad);
	out_repeat(o, '0', zeros);
	out_bytes(o, digits, (size_t)ndigits);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

static void format_unsigned(struct vh_out *o, const struct vh_spec *sp, uintmax_t v,
			    unsigned base, bool upper, const char *sign)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[3 * sizeof(uintmax_t) + 1];
	char prefix[4];
	int n = sizeof(digits);
	bool nonzero = v != 0;

	/* Precision 0 with value 0 prints no digits at all (C11 7.21.6.1). */
	if (!(v == 0 && sp->precision == 0)) {
		do {
			digits[--n] = set[v % base];
			v /= base;
		} while (v);
	}
	vh_strlcpy(prefix, sign, sizeof(prefix));
	/* "0x" only for a non-zero value, as C specifies for '#'. */
	if (sp->alt && base == 16 && nonzero)
		vh_strlcpy(prefix + vh_strlen(prefix), upper ? "0X" : "0x", 3);
	if (sp->alt && base == 8 && (n == (int)sizeof(digits) || digits[n] != '0'))
		digits[--n] = '0';
	out_number(o, sp, prefix, digits + n, (int)sizeof(digits) - n);
}

static void format_string(struct vh_out *o, const struct vh_spec *sp, const char *s)
{
	int len;
	int pad;

	if (!s)
		s = "(null)";
	len = (int)(sp->precision >= 0 ? vh_strnlen(s, (size_t)sp->precision) : vh_strlen(s));
	pad = sp->width > len ? sp->width - len : 0;
	if (!sp->left)
		out_repeat(o, ' ', pad);
	out_bytes(o, s, (size_t)len);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

static intmax_t fetch_signed(va_list *ap, enum vh_length len)
{
	switch (len) {
	case LEN_CHAR: return (signed char)va_arg(*ap, int);
	case LEN_SHORT: return (short)va_arg(*ap, int);
	case LEN_LONG: return va_arg(*ap, long);
	case LEN_LLONG: return va_arg(*ap, long long);
	case LEN_SIZE: return (intmax_t)va_arg(*ap, size_t);
	case LEN_INTMAX: return va_arg(*ap, intmax_t);
	case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	case LEN_INT: break;
	}
	return va_arg(*ap, int);
}

static uintmax_t fetch_unsigned(va_list *ap, enum vh_length len)
{
	switch (len) {
	case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG: return va_arg(*ap, unsigned long);
	case LEN_LLONG: return va_arg(*ap, unsigned long long);
	case LEN_SIZE: return va_arg(*ap, size_t);
	case LEN_INTMAX: return va_arg(*ap, uintmax_t);
	case LEN_PTRDIFF: return (uintmax_t)va_arg(*ap, ptrdiff_t);
	case LEN_INT: break;
	}
	return va_arg(*ap, unsigned int);
}

/* Parses flags, width, precision and length; returns the conversion char. */
static const char *parse_spec(const char *f, struct vh_spec *sp, va_list *ap)
{
	*sp = (struct vh_spec){ .precision = -1, .length = LEN_INT };
	for (;; f++) {
		if (*f == '-') sp->left = true;
		else if (*f == '0') sp->zero = true;
		else if (*f == '+') sp->plus = true;
		else if (*f == ' ') sp->space = true;
		else if (*f == '#') sp->alt = true;
		else break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			if (sp->precision < 0)
				sp->precision = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->precision = sp->precision * 10 + (*f++ - '0');
		}
	}
	switch (*f) {
	case 'h':
		sp->length = f[1] == 'h' ? LEN_CHAR : LEN_SHORT;
		f += f[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		sp->length = f[1] == 'l' ? LEN_LLONG : LEN_LONG;
		f += f[1] == 'l' ? 2 : 1;
		break;
	case 'z': sp->length = LEN_SIZE; f++; break;
	case 'j': sp->length = LEN_INTMAX; f++; break;
	case 't': sp->length = LEN_PTRDIFF; f++; break;
	default: break;
	}
	return f;
}

size_t vh_vformat(vh_format_sink sink, void *ctx, const char *fmt, va_list ap_in)
{
	struct vh_out o = { .sink = sink, .ctx = ctx, .count = 0 };
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		const char *lit = fmt;
		struct vh_spec sp;

		while (*fmt && *fmt != '%')
			fmt++;
		out_bytes(&o, lit, (size_t)(fmt - lit));
		if (!*fmt)
			break;
		fmt = parse_spec(fmt + 1, &sp, &ap);
		switch (*fmt) {
		case 'd':
		case 'i': {
			intmax_t v = fetch_signed(&ap, sp.length);
			/* Negate in unsigned arithmetic: INTMAX_MIN has no
			 * positive counterpart. */
			uintmax_t mag = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
			const char *sign = v < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
			format_unsigned(&o, &sp, mag, 10, false, sign);
			break;
		}
		case 'u':
			format_unsigned(&o, &sp, fetch_unsigned(&ap, sp.length), 10, false, "");
			break;
		case 'x':
			format_unsigned(&o, &sp, fetch_unsigned(&ap, sp.length), 16, false, "");
			break;
		case 'X':
			format_unsigned(&o, &sp, fetch_unsigned(&ap, sp.length), 16, true, "");
			break;
		case 'o':
			format_unsigned(&o, &sp, fetch_unsigned(&ap, sp.length), 8, false, "");
			break;
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			sp.alt = true;
			format_unsigned(&o, &sp, v, 16, false, "");
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			int pad = sp.width > 1 ? sp.width - 1 : 0;
			if (!sp.left)
				out_repeat(&o, ' ', pad);
			out_bytes(&o, &c, 1);
			if (sp.left)
				out_repeat(&o, ' ', pad);
			break;
		}
		case 's': format_string(&o, &sp, va_arg(ap, const char *)); break;
		case '%': out_bytes(&o, "%", 1); break;
		case '\0':
			/* A lone '%' at the end: print it rather than read
			 * past the terminator. */
			out_bytes(&o, "%", 1);
			va_end(ap);
			return o.count;
		default:
			/* Unknown conversion: print it verbatim so the mistake
			 * is visible in the output. */
			out_bytes(&o, "%", 1);
			out_bytes(&o, fmt, 1);
			break;
		}
		fmt++;
	}
	va_end(ap);
	return o.count;
}

size_t vh_format(vh_format_sink sink, void *ctx, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vh_vformat(sink, ctx, fmt, ap);
	va_end(ap);
	return n;
}

struct vh_buf {
	char *buf;
	size_t size;
	size_t used;
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
	struct vh_buf *b = ctx;

	if (b->size && b->used < b->size - 1) {
		size_t room = b->size - 1 - b->used;
		size_t k = n < room ? n : room;
		vh_memcpy(b->buf + b->used, s, k);
		b->used += k;
	}
}

size_t vh_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct vh_buf b = { .buf = buf, .size = size, .used = 0 };
	size_t n = vh_vformat(buf_sink, &b, fmt, ap);

	if (size)
		buf[b.used] = '\0';
	return n;
}

size_t vh_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vh_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
