/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-page operations on frame contents, 64 bits at a time (frames are
 * page aligned).  These are the hot loops of first touch (zeroing), copy
 * on write and the sharing scanner, so they avoid the byte loops of
 * vh/string.h. */
#include "mem_internal.h"

/* may_alias: guest pages are plain bytes to the compiler. */
typedef uint64_t __attribute__((may_alias)) word_t;

#define WORDS (VH_PAGE_SIZE / sizeof(word_t))

void vh_page_zero(void *page)
{
	word_t *w = page;

	for (size_t i = 0; i < WORDS; i += 4) {
		w[i] = 0;
		w[i + 1] = 0;
		w[i + 2] = 0;
		w[i + 3] = 0;
	}
}

void vh_page_copy(void *dst, const void *src)
{
	word_t *d = dst;
	const word_t *s = src;

	for (size_t i = 0; i < WORDS; i += 4) {
		d[i] = s[i];
		d[i + 1] = s[i + 1];
		d[i + 2] = s[i + 2];
		d[i + 3] = s[i + 3];
	}
}

bool vh_page_equal(const void *a, const void *b)
{
	const word_t *x = a, *y = b;

	for (size_t i = 0; i < WORDS; i += 4) {
		if ((x[i] ^ y[i]) | (x[i + 1] ^ y[i + 1]) | (x[i + 2] ^ y[i + 2]) |
		    (x[i + 3] ^ y[i + 3]))
			return false;
	}
	return true;
}

bool vh_page_is_zero(const void *page)
{
	const word_t *w = page;

	/* Most non-zero pages differ in their first words: check those
	 * before the whole page. */
	if (w[0] | w[1])
		return false;
	for (size_t i = 0; i < WORDS; i += 4) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	}
	return true;
}

/* xxHash64 (Yann Collet, BSD-2-Clause algorithm) specialised to one 4 KiB
 * page with seed 0: four independent lanes of multiply-rotate, so it runs
 * near memory speed without any vector or floating-point instructions (the
 * bare-metal build forbids them). */
#define P1 11400714785092567791ull
#define P2 14029467366897019727ull
#define P3 1609587929392839161ull
#define P4 9650029242287828579ull

static inline uint64_t rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t round64(uint64_t acc, uint64_t input)
{
	acc += input * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static inline uint64_t merge(uint64_t acc, uint64_t v)
{
	acc ^= round64(0, v);
	return acc * P1 + P4;
}

uint64_t vh_page_hash(const void *page)
{
	const word_t *w = page;
	uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1, h;

	for (size_t i = 0; i < WORDS; i += 4) {
		v1 = round64(v1, w[i]);
		v2 = round64(v2, w[i + 1]);
		v3 = round64(v3, w[i + 2]);
		v4 = round64(v4, w[i + 3]);
	}
	h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
	h = merge(h, v1);
	h = merge(h, v2);
	h = merge(h, v3);
	h = merge(h, v4);
	h += VH_PAGE_SIZE;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}
