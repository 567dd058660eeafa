/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for vhagent's token records (agent/auth.c): each
 * input, up to its first NUL byte, is written as the token record
 * tokens/00000000 of a state folder that also holds one good token, and
 * the agent's token table is read from it with vh_auth_open, as at start
 * and after `vhagent token create` edits the folder; what follows the
 * NUL is presented as a bearer token (vh_auth_check, the Authorization
 * header of every request).
 *
 * Beyond the sanitizers it checks: a bad record is skipped and loses
 * nothing (the good token still grants its role); every token listed has
 * an 8-hex-digit id, a valid name and a role; a fuzzed bearer never
 * grants a role (it would need a SHA-256 preimage) unless it is the good
 * token's own secret; and nothing leaks. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/auth.h"
#include "agent/sd.h"
#include "agent/store.h"

#define FUZZ_NAME "fuzz_agent_auth"
#include "fuzz.h"

#define FUZZ_KEY "00000000"

static char dir[64];
static char record[128];
static struct vh_store *store;
static struct vh_token_info good;
static char good_secret[128];

static void cleanup(void)
{
	char cmd[128];

	vh_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_agent_auth: cannot remove %s\n", dir);
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");
	struct vh_auth *a;
	char err[256];

	if (store)
		return;
	vh_log_set_level(VH_LOG_ERR); /* "record ignored" warnings on every input */
	snprintf(dir, sizeof(dir), "%s/vh-fuzz-auth.XXXXXX", t && strlen(t) < 32 ? t : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp %s failed", dir);
	if (!(store = vh_store_open(dir, err, sizeof(err))) ||
	    !(a = vh_auth_open(store, err, sizeof(err))) ||
	    vh_auth_token_create(a, "keep", VH_ROLE_OPERATOR, &good, good_secret,
				 sizeof(good_secret), err, sizeof(err)))
		die("setup: %s", err);
	vh_auth_close(a);
	if (strcmp(good.id, FUZZ_KEY) == 0)
		die("the good token's random id is the fuzzed one; run again");
	snprintf(record, sizeof(record), "%s/tokens/" FUZZ_KEY, dir);
	atexit(cleanup);
}

static void write_record(const uint8_t *data, size_t size)
{
	int fd = open(record, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		die("cannot write %s", record);
}

static bool hex8(const char *s)
{
	if (strlen(s) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* What `vhagent token create` accepts (auth.c): 1-63 of [A-Za-z0-9._-],
 * not "." or "..".  (The REST route is stricter: vh_api_name_valid.) */
static bool token_name_ok(const char *s)
{
	size_t n = strnlen(s, 64);

	if (n < 1 || n > 63 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int visit(void *ctx, const struct vh_token_info *t)
{
	unsigned *n = ctx;

	if (!hex8(t->id) || !token_name_ok(t->name) || t->role < VH_ROLE_VIEWER ||
	    t->role > VH_ROLE_ADMIN || t->created < 0)
		die("token \"%.9s\" listed with a bad id, name, role or time", t->id);
	if (strcmp(t->id, good.id) && strcmp(t->id, FUZZ_KEY))
		die("token %s listed, from no record", t->id);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t rlen = nul ? (size_t)(nul - data) : size;
	char bearer[128], err[256];
	struct vh_token_info who;
	struct vh_auth *a;
	unsigned n = 0;

	setup();
	write_record(data, rlen);
	if (!(a = vh_auth_open(store, err, sizeof(err))))
		die("a bad record made the token table unreadable: %s", err);
	if (vh_auth_check(a, good_secret, &who) != VH_ROLE_OPERATOR || strcmp(who.id, good.id))
		die("a bad record beside it lost the good token");
	if (vh_auth_token_each(a, visit, &n) < 0 || n < 1 || n > 2)
		die("%u tokens listed from two records", n);
	if (nul) {
		size_t blen = size - rlen - 1;
		if (blen > sizeof(bearer) - 1)
			blen = sizeof(bearer) - 1;
		memcpy(bearer, nul + 1, blen);
		bearer[blen] = '\0';
		if (vh_auth_check(a, bearer, NULL) != VH_ROLE_NONE && strcmp(bearer, good_secret))
			die("bearer \"%s\" granted a role", bearer);
	}
	vh_auth_close(a);
	return 0;
}
