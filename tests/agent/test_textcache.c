/* SPDX-License-Identifier: Apache-2.0 */
/* The per-thread text cache (agent/textcache.h): a text comes back only
 * under the very key bytes it was kept with, a slot keeps the last text
 * put into it, ids that share a slot evict each other, and each thread
 * has slots of its own. */
#include <pthread.h>
#include <string.h>

#include "agent/textcache.h"
#include "vh_test.h"

struct key {
	uint32_t id;
	uint8_t bytes[12];
};

static struct vh_text_cache cache = VH_TEXT_CACHE_INIT(4u, sizeof(struct key));

VH_TEST(textcache, hit_only_under_the_same_key)
{
	struct key k = { .id = 1, .bytes = "abcdefghijk" };
	const char *t;
	size_t len = 0;

	VH_EXPECT(vh_text_cache_get(&cache, k.id, &k, &len) == NULL);
	t = vh_text_cache_put(&cache, k.id, &k, "{\"a\":1}", 7);
	VH_ASSERT(t != NULL);
	VH_EXPECT_STREQ(t, "{\"a\":1}");
	t = vh_text_cache_get(&cache, k.id, &k, &len);
	VH_ASSERT(t != NULL);
	VH_EXPECT_EQ(len, 7u);
	VH_EXPECT_MEMEQ(t, "{\"a\":1}", 8);
	/* One byte of the key differs: a miss. */
	k.bytes[11] = 'x';
	VH_EXPECT(vh_text_cache_get(&cache, k.id, &k, &len) == NULL);
	/* The slot now holds the newer text; the old key misses. */
	VH_ASSERT(vh_text_cache_put(&cache, k.id, &k, "{\"a\":2}", 7) != NULL);
	k.bytes[11] = '\0';
	VH_EXPECT(vh_text_cache_get(&cache, k.id, &k, &len) == NULL);
}

VH_TEST(textcache, ids_sharing_a_slot_evict_each_other)
{
	struct key a = { .id = 2 }, b = { .id = 6 }; /* 2 and 6 modulo 4 */
	size_t len = 0;

	VH_ASSERT(vh_text_cache_put(&cache, a.id, &a, "A", 1) != NULL);
	VH_ASSERT(vh_text_cache_get(&cache, a.id, &a, &len) != NULL);
	VH_ASSERT(vh_text_cache_put(&cache, b.id, &b, "B", 1) != NULL);
	VH_EXPECT(vh_text_cache_get(&cache, a.id, &a, &len) == NULL);
	VH_EXPECT_STREQ(vh_text_cache_get(&cache, b.id, &b, &len), "B");
	/* An empty text is a text. */
	VH_ASSERT(vh_text_cache_put(&cache, 3, &a, "", 0) != NULL);
	VH_EXPECT_STREQ(vh_text_cache_get(&cache, 3, &a, &len), "");
	VH_EXPECT_EQ(len, 0u);
}

static void *other_thread(void *arg)
{
	struct key *k = arg;
	size_t len = 0;
	const char *seen = vh_text_cache_get(&cache, k->id, k, &len);

	/* Its own slots: what the main thread kept is not here, and what
	 * it keeps is freed with the thread (valgrind and LSan see that). */
	vh_text_cache_put(&cache, k->id, k, "theirs", 6);
	return (void *)seen;
}

VH_TEST(textcache, each_thread_has_its_own_slots)
{
	struct key k = { .id = 9, .bytes = "thread" };
	pthread_t t;
	void *seen = (void *)1;
	size_t len = 0;

	VH_ASSERT(vh_text_cache_put(&cache, k.id, &k, "mine", 4) != NULL);
	VH_ASSERT_EQ(pthread_create(&t, NULL, other_thread, &k), 0);
	VH_ASSERT_EQ(pthread_join(t, &seen), 0);
	VH_EXPECT(seen == NULL);
	VH_EXPECT_STREQ(vh_text_cache_get(&cache, k.id, &k, &len), "mine");
}
