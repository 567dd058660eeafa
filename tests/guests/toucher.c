/* SPDX-License-Identifier: Apache-2.0 */
/* Memory toucher: fills a range of its memory with content that depends
 * only on the seed and the page's index in the range, so VMs started with
 * the same seed hold identical pages (what page sharing finds), then
 * verifies it.  Command line:
 *   size=S     bytes to touch, K/M/G suffixes (default 4M)
 *   seed=N     content seed (default 1)
 *   passes=P   fill-and-verify passes (0: forever; default 1)
 *   idle=1     after the last pass, halt for good instead of exiting, so
 *              the pages stay in place for the hypervisor to share
 *   fill=page  one word per page, repeated (REP STOSD, checked with REPE
 *              SCASD), instead of a word per word: a page costs a few
 *              instructions, so the range is touched in moments even where
 *              the guest's instructions are emulated one by one (this
 *              machine's PVM KVM runs these 32-bit guests that way, at
 *              about 17 ms a page word by word)
 * Each pass rewrites the same content (a write to a shared page must give
 * the writer a private copy with the same bytes) and verifies every word.
 * Output: "toucher: range A..B", "toucher: pass P ok checksum X", then
 * "toucher: done"; exits GUEST_PASS, or GUEST_FAIL naming a bad word. */
#include "lib/runtime.h"

const char guest_name[] = "toucher";

static uint32_t word_at(uint32_t seed, uint32_t page, uint32_t i)
{
	uint32_t x = seed * 2654435761u ^ page * 40503u ^ i * 2246822519u;
	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return x;
}

/* fill=page: each page holds word_at(seed, page, 0) in every word. */
static bool pass_by_page(uint32_t start, uint32_t npages, uint32_t seed, uint32_t pass,
			 uint32_t *checksum)
{
	for (uint32_t p = 0; p < npages; p++) {
		uint32_t dst = start + p * PAGE_SIZE, n = PAGE_SIZE / 4;
		__asm__ volatile("cld; rep stosl"
				 : "+D"(dst), "+c"(n)
				 : "a"(word_at(seed, p, 0))
				 : "memory");
	}
	for (uint32_t p = 0; p < npages; p++) {
		uint32_t want = word_at(seed, p, 0), at = start + p * PAGE_SIZE, n = PAGE_SIZE / 4;
		uint32_t got;
		/* Stops past the first word that differs (n counts what is left). */
		__asm__ volatile("cld; repe scasl"
				 : "+D"(at), "+c"(n)
				 : "a"(want)
				 : "memory", "cc");
		got = *(volatile uint32_t *)(at - 4);
		if (n || got != want) {
			printf("toucher: pass %u: page %u reads 0x%x at 0x%x, wrote 0x%x\n", pass,
			       p, got, at - 4, want);
			return false;
		}
		*checksum = *checksum * 31 + want;
	}
	return true;
}

unsigned guest_main(void)
{
	uint64_t size = arg_size("size", 4 << 20);
	uint32_t seed = arg_u32("seed", 1), passes = arg_u32("passes", 1);
	uint32_t idle = arg_u32("idle", 0);
	const char *fill = arg("fill");
	bool by_page = fill && !strncmp(fill, "page", 5);
	uint32_t start = free_start, npages, checksum = 0;

	size = (size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	if (start + size > mem_end || start + size < start) {
		printf("toucher: %u KiB from 0x%x do not fit below 0x%llx\n",
		       (uint32_t)(size >> 10), start, mem_end);
		return GUEST_FAIL;
	}
	npages = (uint32_t)(size / PAGE_SIZE);
	printf("toucher: range 0x%x..0x%x (%u pages) seed %u passes %u\n", start,
	       start + (uint32_t)size, npages, seed, passes);
	for (uint32_t pass = 1; passes == 0 || pass <= passes; pass++) {
		checksum = 0;
		if (by_page) {
			if (!pass_by_page(start, npages, seed, pass, &checksum))
				return GUEST_FAIL;
			printf("toucher: pass %u ok checksum %x\n", pass, checksum);
			continue;
		}
		for (uint32_t p = 0; p < npages; p++) {
			volatile uint32_t *w = (volatile uint32_t *)(start + p * PAGE_SIZE);
			for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
				w[i] = word_at(seed, p, i);
		}
		for (uint32_t p = 0; p < npages; p++) {
			volatile uint32_t *w = (volatile uint32_t *)(start + p * PAGE_SIZE);
			for (uint32_t i = 0; i < PAGE_SIZE / 4; i++) {
				uint32_t want = word_at(seed, p, i);
				if (w[i] != want) {
					printf("toucher: pass %u: word %u of page %u reads 0x%x, "
					       "wrote 0x%x\n",
					       pass, i, p, w[i], want);
					return GUEST_FAIL;
				}
				checksum = checksum * 31 + want;
			}
		}
		printf("toucher: pass %u ok checksum %x\n", pass, checksum);
	}
	printf("toucher: done\n");
	if (idle) {
		printf("toucher: idle\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	return GUEST_PASS;
}
