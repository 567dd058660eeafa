/* SPDX-License-Identifier: Apache-2.0 */
/* The crash-safe record store (agent/store.h): round trips, key rules,
 * the format version, listing order and leftovers, quarantine, threads,
 * and a child SIGKILLed at random instants while it writes: no record is
 * ever partial and none that was acknowledged is lost. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/store.h"
#include "agent_test.h"
#include "vh_test.h"

static struct vh_store *open_fresh(const char *tag, char **dir)
{
	char err[256] = "";
	struct vh_store *s;

	*dir = at_tempdir(tag);
	if (!*dir)
		return NULL;
	s = vh_store_open(*dir, err, sizeof(err));
	if (!s)
		printf("# vh_store_open: %s\n", err);
	return s;
}

VH_TEST(store, open_writes_format_and_creates_folders)
{
	char *dir, path[4096], err[256];
	struct vh_store *s;

	dir = at_tempdir("store-open");
	VH_ASSERT(dir != NULL);
	snprintf(path, sizeof(path), "%s/a/b/state", dir);
	s = vh_store_open(path, err, sizeof(err));
	VH_ASSERT(s != NULL);
	VH_EXPECT_STREQ(vh_store_dir(s), path);
	vh_store_close(s);
	snprintf(path, sizeof(path), "%s/a/b/state/FORMAT", dir);
	char *f = at_read_file(path, NULL);
	VH_EXPECT_STREQ(f, "vh-state 1\n");
	free(f);
	struct stat st;
	snprintf(path, sizeof(path), "%s/a/b/state", dir);
	VH_ASSERT_EQ(stat(path, &st), 0);
	VH_EXPECT_EQ(st.st_mode & 0777, 0750u);
	/* Opening again reads the FORMAT it wrote. */
	s = vh_store_open(path, err, sizeof(err));
	VH_EXPECT(s != NULL);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(store, unknown_format_is_refused)
{
	static const struct {
		const char *content;
		const char *want; /* in the message */
	} cases[] = {
		{ "vh-state 2\n", "format 2" },
		{ "vh-state 0\n", "format 0" },
		{ "something else\n", "not a vh state folder" },
		{ "vh-state 1 extra\n", "not a vh state folder" },
		{ "", "not a vh state folder" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = at_tempdir("store-format"), path[4096], err[256] = "";
		VH_ASSERT(dir != NULL);
		snprintf(path, sizeof(path), "%s/FORMAT", dir);
		VH_ASSERT_EQ(at_write_file(path, cases[i].content, strlen(cases[i].content)), 0);
		struct vh_store *s = vh_store_open(dir, err, sizeof(err));
		VH_EXPECT(s == NULL);
		if (!strstr(err, cases[i].want))
			VH_FAIL("case %zu: message \"%s\" lacks \"%s\"", i, err, cases[i].want);
		vh_store_close(s);
		/* Refused means untouched. */
		char *f = at_read_file(path, NULL);
		VH_EXPECT_STREQ(f, cases[i].content);
		free(f);
		at_rm_rf(dir);
		free(dir);
	}
}

VH_TEST(store, put_get_overwrite_delete)
{
	char *dir, err[256], *data;
	size_t len;
	struct vh_store *s = open_fresh("store-rw", &dir);

	VH_ASSERT(s != NULL);
	VH_ASSERT_EQ(vh_store_put(s, "vms", "web1", "hello", 5, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_get(s, "vms", "web1", &data, &len, err, sizeof(err)), 0);
	VH_EXPECT_EQ(len, (size_t)5);
	VH_EXPECT_STREQ(data, "hello");
	free(data);
	VH_ASSERT_EQ(vh_store_put(s, "vms", "web1", "bye", 3, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_get(s, "vms", "web1", &data, &len, err, sizeof(err)), 0);
	VH_EXPECT_STREQ(data, "bye");
	VH_EXPECT_EQ(len, (size_t)3);
	free(data);
	/* Empty and binary records. */
	VH_ASSERT_EQ(vh_store_put(s, "vms", "empty", "", 0, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_get(s, "vms", "empty", &data, &len, err, sizeof(err)), 0);
	VH_EXPECT_EQ(len, (size_t)0);
	VH_EXPECT_STREQ(data, "");
	free(data);
	VH_ASSERT_EQ(vh_store_put(s, "vms", "bin", "a\0b", 3, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_get(s, "vms", "bin", &data, &len, err, sizeof(err)), 0);
	VH_EXPECT_EQ(len, (size_t)3);
	VH_EXPECT_MEMEQ(data, "a\0b", 3);
	free(data);
	/* Records are 0640; no temporary file is left. */
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/vms/web1", dir);
	VH_ASSERT_EQ(stat(path, &st), 0);
	VH_EXPECT_EQ(st.st_mode & 0777, 0640u);
	snprintf(path, sizeof(path), "%s/vms", dir);
	VH_EXPECT_EQ(at_count(path, "."), 0);

	VH_ASSERT_EQ(vh_store_delete(s, "vms", "web1", err, sizeof(err)), 0);
	errno = 0;
	VH_EXPECT_EQ(vh_store_get(s, "vms", "web1", &data, &len, err, sizeof(err)), -1);
	VH_EXPECT_EQ(errno, ENOENT);
	/* Deleting what is not there, even a whole collection, is fine. */
	VH_EXPECT_EQ(vh_store_delete(s, "vms", "web1", err, sizeof(err)), 0);
	VH_EXPECT_EQ(vh_store_delete(s, "nothing", "x", err, sizeof(err)), 0);
	errno = 0;
	VH_EXPECT_EQ(vh_store_get(s, "nothing", "x", &data, &len, err, sizeof(err)), -1);
	VH_EXPECT_EQ(errno, ENOENT);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(store, bad_keys_and_collections_are_refused)
{
	static const char *const bad[] = { "",    ".hidden",     "a/b",  "../x",
					   "a b", "é",           "x\n",  ".",
					   "..",  "k.corrupt-1", "a\\b", "semi;colon" };
	char *dir, err[256], *data, long_key[130];
	size_t len;
	struct vh_store *s = open_fresh("store-keys", &dir);

	VH_ASSERT(s != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		errno = 0;
		if (vh_store_put(s, "vms", bad[i], "x", 1, err, sizeof(err)) != -1 ||
		    errno != EINVAL || !strstr(err, "bad record key"))
			VH_FAIL("key \"%s\" accepted or wrong error \"%s\"", bad[i], err);
		if (vh_store_get(s, "vms", bad[i], &data, &len, err, sizeof(err)) != -1 ||
		    errno != EINVAL)
			VH_FAIL("get with key \"%s\" not refused", bad[i]);
		if (vh_store_delete(s, "vms", bad[i], err, sizeof(err)) != -1)
			VH_FAIL("delete with key \"%s\" not refused", bad[i]);
		if (vh_store_put(s, bad[i], "k", "x", 1, err, sizeof(err)) != -1 ||
		    !strstr(err, "bad collection"))
			VH_FAIL("collection \"%s\" accepted", bad[i]);
	}
	memset(long_key, 'k', 129);
	long_key[129] = '\0';
	VH_EXPECT_EQ(vh_store_put(s, "vms", long_key, "x", 1, err, sizeof(err)), -1);
	long_key[128] = '\0';
	VH_EXPECT_EQ(vh_store_put(s, "vms", long_key, "x", 1, err, sizeof(err)), 0);
	VH_EXPECT_EQ(vh_store_put(s, "vms", "A-z_0.9", "x", 1, err, sizeof(err)), 0);
	/* Nothing stray reached the folder. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/vms", dir);
	VH_EXPECT_EQ(at_count(path, ""), 2);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

struct seen {
	char keys[16][64];
	char data[16][64];
	int n;
	int stop_at;
};

static int collect(void *ctx, const char *key, const char *data, size_t len)
{
	struct seen *sn = ctx;

	if (sn->n < 16) {
		snprintf(sn->keys[sn->n], 64, "%s", key);
		snprintf(sn->data[sn->n], 64, "%.*s", (int)len, data);
	}
	sn->n++;
	return sn->stop_at && sn->n == sn->stop_at ? 42 : 0;
}

VH_TEST(store, each_sorts_skips_and_cleans)
{
	char *dir, err[256], path[4096];
	struct vh_store *s = open_fresh("store-each", &dir);
	struct seen sn = { 0 };

	VH_ASSERT(s != NULL);
	/* No collection yet: no records, no error. */
	VH_EXPECT_EQ(vh_store_each(s, "vms", collect, &sn, err, sizeof(err)), 0);
	VH_EXPECT_EQ(sn.n, 0);
	const char *keys[] = { "zeta", "alpha", "Mid", "beta-2", "beta-10" };
	for (int i = 0; i < 5; i++)
		VH_ASSERT_EQ(
		    vh_store_put(s, "vms", keys[i], keys[i], strlen(keys[i]), err, sizeof(err)), 0);
	/* A crash's leftover temporary file, a folder, a stray dot file. */
	snprintf(path, sizeof(path), "%s/vms/.tmp-alpha-0123456789ab", dir);
	VH_ASSERT_EQ(at_write_file(path, "{\"half", 6), 0);
	snprintf(path, sizeof(path), "%s/vms/subdir", dir);
	VH_ASSERT_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/vms/.other", dir);
	VH_ASSERT_EQ(at_write_file(path, "x", 1), 0);

	VH_ASSERT_EQ(vh_store_each(s, "vms", collect, &sn, err, sizeof(err)), 0);
	VH_ASSERT_EQ(sn.n, 5);
	const char *want[] = { "Mid", "alpha", "beta-10", "beta-2", "zeta" }; /* strcmp order */
	for (int i = 0; i < 5; i++) {
		VH_EXPECT_STREQ(sn.keys[i], want[i]);
		VH_EXPECT_STREQ(sn.data[i], want[i]);
	}
	snprintf(path, sizeof(path), "%s/vms", dir);
	VH_EXPECT_EQ(at_count(path, ".tmp-"), 0);
	VH_EXPECT_EQ(at_count(path, ".other"), 1); /* not ours: left alone */

	/* fn's non-zero value stops the walk and is returned. */
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 2;
	VH_EXPECT_EQ(vh_store_each(s, "vms", collect, &sn, err, sizeof(err)), 42);
	VH_EXPECT_EQ(sn.n, 2);

	/* Quarantine: kept on disk under a new name, skipped from then on. */
	VH_ASSERT_EQ(vh_store_quarantine(s, "vms", "beta-2"), 0);
	VH_ASSERT_EQ(vh_store_quarantine(s, "vms", "beta-10"), 0);
	VH_EXPECT_EQ(at_count(path, "beta-2.corrupt-"), 1);
	memset(&sn, 0, sizeof(sn));
	VH_EXPECT_EQ(vh_store_each(s, "vms", collect, &sn, err, sizeof(err)), 0);
	VH_EXPECT_EQ(sn.n, 3);
	/* A second record of the same key quarantined within the second
	 * keeps the first copy. */
	VH_ASSERT_EQ(vh_store_put(s, "vms", "beta-2", "again", 5, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_quarantine(s, "vms", "beta-2"), 0);
	VH_EXPECT_EQ(at_count(path, "beta-2.corrupt-"), 2);
	VH_EXPECT_EQ(vh_store_quarantine(s, "vms", "missing"), -1);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(store, leftovers_of_a_live_writer_are_kept)
{
	char *dir, err[256], path[4096];
	struct vh_store *s = open_fresh("store-live", &dir);
	struct seen sn = { 0 };

	VH_ASSERT(s != NULL);
	VH_ASSERT_EQ(vh_store_put(s, "tokens", "a", "1", 1, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tokens/.tmp-b-0123456789ab", dir);
	VH_ASSERT_EQ(at_write_file(path, "partial", 7), 0);
	/* Another process in the middle of a put holds the shared lock. */
	snprintf(path, sizeof(path), "%s/tokens", dir);
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	VH_ASSERT(fd >= 0);
	VH_ASSERT_EQ(flock(fd, LOCK_SH), 0);
	VH_EXPECT_EQ(vh_store_each(s, "tokens", collect, &sn, err, sizeof(err)), 0);
	VH_EXPECT_EQ(sn.n, 1);
	VH_EXPECT_EQ(at_count(path, ".tmp-"), 1);
	/* Puts still go through beside it. */
	VH_EXPECT_EQ(vh_store_put(s, "tokens", "c", "3", 1, err, sizeof(err)), 0);
	close(fd);
	memset(&sn, 0, sizeof(sn));
	VH_EXPECT_EQ(vh_store_each(s, "tokens", collect, &sn, err, sizeof(err)), 0);
	VH_EXPECT_EQ(sn.n, 2);
	VH_EXPECT_EQ(at_count(path, ".tmp-"), 0);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

struct thr {
	struct vh_store *s;
	int id;
	int failures;
};

static void *writer(void *p)
{
	struct thr *t = p;
	char key[32], val[64], err[256];

	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "t%d-%03d", t->id, i);
		snprintf(val, sizeof(val), "value of %s", key);
		if (vh_store_put(t->s, "vms", key, val, strlen(val), err, sizeof(err)))
			t->failures++;
		/* Everyone also rewrites one shared key. */
		if (vh_store_put(t->s, "vms", "shared", val, strlen(val), err, sizeof(err)))
			t->failures++;
	}
	return NULL;
}

static int count_and_check(void *ctx, const char *key, const char *data, size_t len)
{
	int *n = ctx;
	char want[64];

	if (strcmp(key, "shared") == 0) {
		if (strncmp(data, "value of t", 10) != 0)
			return -1;
	} else {
		snprintf(want, sizeof(want), "value of %s", key);
		if (len != strlen(want) || memcmp(data, want, len) != 0)
			return -1;
	}
	(*n)++;
	return 0;
}

VH_TEST(store, threads_put_side_by_side)
{
	char *dir, err[256];
	struct vh_store *s = open_fresh("store-threads", &dir);
	pthread_t th[4];
	struct thr t[4];
	int n = 0;

	VH_ASSERT(s != NULL);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ s, i, 0 };
		VH_ASSERT_EQ(pthread_create(&th[i], NULL, writer, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		VH_EXPECT_EQ(t[i].failures, 0);
	}
	VH_EXPECT_EQ(vh_store_each(s, "vms", count_and_check, &n, err, sizeof(err)), 0);
	VH_EXPECT_EQ(n, 201);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}

/* ---- the crash test --------------------------------------------------- */

/* A self-checking record: a header with its sequence number, version,
 * payload length and an FNV-1a hash of the payload, then the payload. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

#define CRASH_KEYS_NEW 1000000 /* keys rec-<seq> are new: never rewritten */
#define CRASH_HOT      8       /* keys hot-<n> are rewritten over and over */

static char *make_record(uint32_t seq, uint32_t ver, size_t *len)
{
	size_t plen = 1 + (seq * 2654435761u) % 24000; /* 1 B .. 24 KB: several pages */
	char head[128];
	int hl;
	char *buf;

	unsigned char *payload = malloc(plen);
	if (!payload)
		return NULL;
	for (size_t i = 0; i < plen; i++)
		payload[i] = (unsigned char)('a' + (seq + i * 7) % 26);
	hl = snprintf(head, sizeof(head),
		      "seq=%" PRIu32 " ver=%" PRIu32 " len=%zu sum=%016" PRIx64 "\n", seq, ver,
		      plen, fnv1a(payload, plen));
	buf = malloc((size_t)hl + plen);
	if (buf) {
		memcpy(buf, head, (size_t)hl);
		memcpy(buf + hl, payload, plen);
		*len = (size_t)hl + plen;
	}
	free(payload);
	return buf;
}

/* 0 when whole; fills seq/ver. */
static int check_record(const char *data, size_t len, uint32_t *seq, uint32_t *ver)
{
	size_t plen;
	uint64_t sum;
	int hl = 0;

	if (sscanf(data, "seq=%" SCNu32 " ver=%" SCNu32 " len=%zu sum=%" SCNx64 "\n%n", seq, ver,
		   &plen, &sum, &hl) != 4 ||
	    hl == 0)
		return -1;
	if ((size_t)hl + plen != len)
		return -1;
	return fnv1a((const unsigned char *)data + hl, plen) == sum ? 0 : -1;
}

/* The child: puts forever from seq on, and after each acknowledged put
 * writes {seq, hot index or -1, ver} to the pipe. */
static void crash_child(const char *dir, uint32_t seq, int ackfd)
{
	char err[256], key[32];
	struct vh_store *s = vh_store_open(dir, err, sizeof(err));

	if (!s)
		_exit(3);
	for (;; seq++) {
		int32_t hot = (seq % 3 == 0) ? (int32_t)(seq / 3 % CRASH_HOT) : -1;
		uint32_t ver = seq;
		size_t len;
		char *rec = make_record(seq, ver, &len);
		if (hot >= 0)
			snprintf(key, sizeof(key), "hot-%d", hot);
		else
			snprintf(key, sizeof(key), "rec-%07" PRIu32, seq);
		if (!rec || vh_store_put(s, "vms", key, rec, len, err, sizeof(err)) < 0)
			_exit(4);
		free(rec);
		uint32_t ack[3] = { seq, (uint32_t)hot, ver };
		if (write(ackfd, ack, sizeof(ack)) != sizeof(ack))
			_exit(5);
	}
}

struct crash_state {
	uint8_t *acked;              /* by seq: 1 when rec-<seq> was acknowledged */
	uint32_t hot_ver[CRASH_HOT]; /* latest acknowledged version + 1 (0: none) */
	uint32_t max_seq;
	int bad;
	int records;
	char why[256];
};

static int crash_visit(void *ctx, const char *key, const char *data, size_t len)
{
	struct crash_state *cs = ctx;
	uint32_t seq, ver;

	cs->records++;
	if (check_record(data, len, &seq, &ver) < 0) {
		snprintf(cs->why, sizeof(cs->why), "record %s is not whole (%zu bytes)", key, len);
		cs->bad++;
		return 0;
	}
	if (strncmp(key, "hot-", 4) == 0) {
		int h = atoi(key + 4);
		if (h < 0 || h >= CRASH_HOT || seq % 3 != 0 || (int)(seq / 3 % CRASH_HOT) != h) {
			snprintf(cs->why, sizeof(cs->why), "record %s holds seq %u", key, seq);
			cs->bad++;
		} else if (cs->hot_ver[h] && ver + 1 < cs->hot_ver[h]) {
			snprintf(cs->why, sizeof(cs->why),
				 "record %s went back to version %u after %u was acknowledged", key,
				 ver, cs->hot_ver[h] - 1);
			cs->bad++;
		}
	} else {
		char want[32];
		snprintf(want, sizeof(want), "rec-%07" PRIu32, seq);
		if (strcmp(want, key) != 0) {
			snprintf(cs->why, sizeof(cs->why), "record %s holds seq %u", key, seq);
			cs->bad++;
		} else if (seq < CRASH_KEYS_NEW) {
			cs->acked[seq] |= 2; /* present */
		}
	}
	return 0;
}

VH_TEST(store, sigkill_at_random_instants_loses_nothing_acknowledged)
{
	const int rounds = 60;
	char *dir = at_tempdir("store-crash"), err[256];
	struct crash_state cs = { 0 };
	uint32_t next_seq = 0;
	int total_acks = 0;

	VH_ASSERT(dir != NULL);
	cs.acked = calloc(CRASH_KEYS_NEW, 1);
	VH_ASSERT(cs.acked != NULL);
	for (int round = 0; round < rounds; round++) {
		int pfd[2];
		unsigned r;
		VH_ASSERT_EQ(pipe(pfd), 0);
		fflush(stdout);
		pid_t pid = fork();
		VH_ASSERT(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(dir, next_seq, pfd[1]);
		}
		close(pfd[1]);
		/* Wait for the child's first acknowledged put (so every round
		 * makes progress, however slow the disk), then kill it 0..30 ms
		 * later: it is inside a put most of the time (each fsyncs
		 * twice), so kills land at every step of one. */
		uint32_t ack[3];
		ssize_t n;
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		bool first = poll(&pf, 1, 30000) == 1 &&
			     read(pfd[0], ack, sizeof(ack)) == (ssize_t)sizeof(ack);
		if (first && getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
			usleep(r % 30000);
		kill(pid, SIGKILL); /* before any check that may end the test */
		int status;
		VH_ASSERT_EQ(waitpid(pid, &status, 0), pid);
		if (!first) {
			close(pfd[0]);
			VH_FAIL("round %d: no put acknowledged within 30 s (status %d)", round,
				status);
		}
		if (!WIFSIGNALED(status))
			VH_FAIL("round %d: the child ended by itself (status %d)", round, status);
		do {
			total_acks++;
			if ((int32_t)ack[1] >= 0)
				cs.hot_ver[ack[1]] = ack[2] + 1;
			else if (ack[0] < CRASH_KEYS_NEW)
				cs.acked[ack[0]] = 1;
			if (ack[0] + 1 > next_seq)
				next_seq = ack[0] + 1;
		} while ((n = read(pfd[0], ack, sizeof(ack))) == (ssize_t)sizeof(ack));
		close(pfd[0]);
		/* The put the kill interrupted may have landed: skip its seq so
		 * that seq stays unique. */
		next_seq++;

		/* Reopen as the agent would at start, and check everything. */
		struct vh_store *s = vh_store_open(dir, err, sizeof(err));
		VH_ASSERT(s != NULL);
		for (uint32_t i = 0; i < next_seq && i < CRASH_KEYS_NEW; i++)
			cs.acked[i] &= 1;
		cs.records = 0;
		VH_ASSERT_EQ(vh_store_each(s, "vms", crash_visit, &cs, err, sizeof(err)), 0);
		vh_store_close(s);
		if (cs.bad)
			VH_FAIL("round %d: %d bad records, e.g. %s", round, cs.bad, cs.why);
		for (uint32_t i = 0; i < next_seq && i < CRASH_KEYS_NEW; i++)
			if (cs.acked[i] == 1)
				VH_FAIL("round %d: acknowledged record rec-%07u is missing", round,
					i);
		for (int h = 0; h < CRASH_HOT; h++) {
			char key[16], *data;
			size_t len;
			uint32_t seq, ver;
			if (!cs.hot_ver[h])
				continue;
			snprintf(key, sizeof(key), "hot-%d", h);
			s = vh_store_open(dir, err, sizeof(err));
			VH_ASSERT(s != NULL);
			if (vh_store_get(s, "vms", key, &data, &len, err, sizeof(err)) < 0)
				VH_FAIL("round %d: acknowledged %s is missing", round, key);
			else {
				if (check_record(data, len, &seq, &ver) < 0 ||
				    ver + 1 < cs.hot_ver[h])
					VH_FAIL("round %d: %s is older than acknowledged", round,
						key);
				free(data);
			}
			vh_store_close(s);
		}
		char vms[4096];
		snprintf(vms, sizeof(vms), "%s/vms", dir);
		VH_EXPECT_EQ(at_count(vms, ".tmp-"), 0);
	}
	printf("# crash test: %d kills, %d acknowledged puts, %d records at the end\n", rounds,
	       total_acks, cs.records);
	VH_EXPECT_GE(total_acks, rounds); /* one acknowledged put a round at least */
	free(cs.acked);
	at_rm_rf(dir);
	free(dir);
}

/* The same durable write the store makes, with bare system calls: a
 * temporary file written and fsynced, renamed over the key, the folder
 * fsynced.  What this disk needs for them is the floor no store can beat. */
static double bare_durable_writes(int dfd, const char *rec, size_t len, int first, int n)
{
	char path[64], tmp[64];
	double t0 = at_now();

	for (int i = first; i < first + n; i++) {
		snprintf(tmp, sizeof(tmp), ".tmp-%d", i);
		snprintf(path, sizeof(path), "bare-%012d", i);
		int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		VH_ASSERT(fd >= 0);
		VH_ASSERT_EQ(write(fd, rec, len), (ssize_t)len);
		VH_ASSERT_EQ(fsync(fd), 0);
		close(fd);
		VH_ASSERT_EQ(renameat(dfd, tmp, dfd, path), 0);
		VH_ASSERT_EQ(fsync(dfd), 0);
	}
	return at_now() - t0;
}

/* The goal is 1000 API creates in under 5 s, persisted and
 * fsynced; this measures the store's share of it.  A disk's fsync rate is
 * not the store's to choose (CI's shared disk took 5.05 s where this
 * machine takes 1.5), so the store is held to the bare system calls of
 * the same durable write on the same disk, the two interleaved in rounds
 * of 100 so the disk's moods fall on both: the store may add its
 * bookkeeping, not a second durable write or a scan of the folder a put. */
VH_TEST(store, thousand_puts_throughput)
{
	char *dir, err[256], key[40], rec[400], bare_dir[4096];
	struct vh_store *s = open_fresh("store-bench", &dir);

	VH_ASSERT(s != NULL);
	memset(rec, 'x', sizeof(rec));
	snprintf(bare_dir, sizeof(bare_dir), "%s/bare", dir);
	VH_ASSERT_EQ(mkdir(bare_dir, 0700), 0);
	int dfd = open(bare_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	VH_ASSERT(dfd >= 0);
	double dt = 0, bare = 0;
	for (int round = 0; round < 10; round++) {
		bare += bare_durable_writes(dfd, rec, sizeof(rec), round * 100, 100);
		double t0 = at_now();
		for (int i = round * 100; i < round * 100 + 100; i++) {
			snprintf(key, sizeof(key), "00000000-0000-4000-8000-%012d", i);
			VH_ASSERT_EQ(
			    vh_store_put(s, "vms", key, rec, sizeof(rec), err, sizeof(err)), 0);
		}
		dt += at_now() - t0;
	}
	close(dfd);
	printf(
	    "# 1000 vh_store_put of 400 B, each fsynced (file and folder): %.3f s, %.0f puts/s;"
	    " the same writes with bare system calls: %.3f s (ratio %.2f)\n",
	    dt, 1000 / dt, bare, dt / bare);
	VH_EXPECT_LT(dt, 1.5 * bare + 0.25);
	vh_store_close(s);
	at_rm_rf(dir);
	free(dir);
}
