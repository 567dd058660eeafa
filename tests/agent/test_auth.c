/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer tokens (agent/auth.h): create, check, revoke, list; wrong,
 * truncated and mixed tokens refused; what is stored; a second process
 * on the same state folder sees a new token within about a second. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/auth.h"
#include "agent/store.h"
#include "agent_test.h"
#include "vh_test.h"

struct env {
	char *dir;
	struct vh_store *store;
	struct vh_auth *auth;
};

static int env_open(struct env *e, const char *tag)
{
	char err[256];

	e->dir = at_tempdir(tag);
	if (!e->dir)
		return -1;
	e->store = vh_store_open(e->dir, err, sizeof(err));
	if (!e->store)
		return -1;
	e->auth = vh_auth_open(e->store, err, sizeof(err));
	return e->auth ? 0 : -1;
}

static void env_close(struct env *e)
{
	vh_auth_close(e->auth);
	vh_store_close(e->store);
	at_rm_rf(e->dir);
	free(e->dir);
}

VH_TEST(auth, role_names)
{
	VH_EXPECT_STREQ(vh_role_name(VH_ROLE_ADMIN), "admin");
	VH_EXPECT_STREQ(vh_role_name(VH_ROLE_OPERATOR), "operator");
	VH_EXPECT_STREQ(vh_role_name(VH_ROLE_VIEWER), "viewer");
	VH_EXPECT_STREQ(vh_role_name(VH_ROLE_NONE), "none");
	VH_EXPECT_STREQ(vh_role_name((enum vh_role)17), "none");
	VH_EXPECT_EQ((int)vh_role_from_name("admin"), VH_ROLE_ADMIN);
	VH_EXPECT_EQ((int)vh_role_from_name("operator"), VH_ROLE_OPERATOR);
	VH_EXPECT_EQ((int)vh_role_from_name("viewer"), VH_ROLE_VIEWER);
	VH_EXPECT_EQ((int)vh_role_from_name("none"), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_role_from_name("Admin"), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_role_from_name(""), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_role_from_name(NULL), VH_ROLE_NONE);
}

VH_TEST(auth, create_check_revoke)
{
	struct env e;
	struct vh_token_info info, who;
	char tok[80], tok2[80], err[256];

	VH_ASSERT_EQ(env_open(&e, "auth-basic"), 0);
	VH_ASSERT_EQ(vh_auth_token_create(e.auth, "ci-bot", VH_ROLE_OPERATOR, &info, tok,
					  sizeof(tok), err, sizeof(err)),
		     0);
	VH_EXPECT_EQ(strlen(tok), (size_t)55);
	VH_EXPECT_EQ(strncmp(tok, "vh_", 3), 0);
	VH_EXPECT_EQ(strncmp(tok + 3, info.id, 8), 0);
	VH_EXPECT_STREQ(info.name, "ci-bot");
	VH_EXPECT_EQ((int)info.role, VH_ROLE_OPERATOR);
	VH_EXPECT(info.created > 0);

	memset(&who, 0, sizeof(who));
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok, &who), VH_ROLE_OPERATOR);
	VH_EXPECT_STREQ(who.name, "ci-bot");
	VH_EXPECT_STREQ(who.id, info.id);

	VH_ASSERT_EQ(vh_auth_token_create(e.auth, "root", VH_ROLE_ADMIN, NULL, tok2, sizeof(tok2),
					  err, sizeof(err)),
		     0);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok2, NULL), VH_ROLE_ADMIN);
	VH_EXPECT(strcmp(tok, tok2) != 0);

	/* Revoke by name, then by id. */
	VH_ASSERT_EQ(vh_auth_token_revoke(e.auth, "ci-bot", err, sizeof(err)), 0);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok, NULL), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok2, NULL), VH_ROLE_ADMIN);
	VH_ASSERT_EQ(vh_auth_token_revoke(e.auth, tok2 + 3 /* id, then junk */, err, sizeof(err)),
		     -1);
	char id2[9];
	memcpy(id2, tok2 + 3, 8);
	id2[8] = '\0';
	VH_ASSERT_EQ(vh_auth_token_revoke(e.auth, id2, err, sizeof(err)), 0);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok2, NULL), VH_ROLE_NONE);
	errno = 0;
	VH_EXPECT_EQ(vh_auth_token_revoke(e.auth, id2, err, sizeof(err)), -1);
	VH_EXPECT_EQ(errno, ENOENT);
	/* A revoked name may be used again. */
	VH_EXPECT_EQ(vh_auth_token_create(e.auth, "ci-bot", VH_ROLE_VIEWER, NULL, tok, sizeof(tok),
					  err, sizeof(err)),
		     0);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok, NULL), VH_ROLE_VIEWER);
	env_close(&e);
}

VH_TEST(auth, wrong_truncated_and_mixed_tokens_are_refused)
{
	struct env e;
	char a[80], b[80], t[128], err[256];

	VH_ASSERT_EQ(env_open(&e, "auth-wrong"), 0);
	VH_ASSERT_EQ(
	    vh_auth_token_create(e.auth, "a", VH_ROLE_ADMIN, NULL, a, sizeof(a), err, sizeof(err)),
	    0);
	VH_ASSERT_EQ(
	    vh_auth_token_create(e.auth, "b", VH_ROLE_VIEWER, NULL, b, sizeof(b), err, sizeof(err)),
	    0);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, a, NULL), VH_ROLE_ADMIN);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, NULL, NULL), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, "", NULL), VH_ROLE_NONE);
	/* Truncated by one, extended by one. */
	snprintf(t, sizeof(t), "%.54s", a);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	snprintf(t, sizeof(t), "%sA", a);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	/* Every single character of the secret changed. */
	for (int i = 12; i < 55; i++) {
		snprintf(t, sizeof(t), "%s", a);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		if (vh_auth_check(e.auth, t, NULL) != VH_ROLE_NONE)
			VH_FAIL("secret changed at %d still accepted", i);
	}
	/* b's id with a's secret, and a's id with b's secret. */
	snprintf(t, sizeof(t), "vh_%.8s_%s", b + 3, a + 12);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	snprintf(t, sizeof(t), "vh_%.8s_%s", a + 3, b + 12);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	/* An id nobody has. */
	snprintf(t, sizeof(t), "vh_%s_%s", "00000000", a + 12);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	/* Other shapes: upper-case id, bad separator, "Bearer " left in. */
	snprintf(t, sizeof(t), "%s", a);
	for (int i = 3; i < 11; i++)
		if (t[i] >= 'a')
			t[i] = (char)(t[i] - 32);
	if (strcmp(t, a) != 0)
		VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	snprintf(t, sizeof(t), "%s", a);
	t[11] = '-';
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	snprintf(t, sizeof(t), "Bearer %s", a);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	snprintf(t, sizeof(t), "%s", a);
	t[20] = '=';
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, t, NULL), VH_ROLE_NONE);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, a, NULL), VH_ROLE_ADMIN);
	env_close(&e);
}

VH_TEST(auth, bad_create_requests)
{
	struct env e;
	char tok[80], small[40], err[256];

	VH_ASSERT_EQ(env_open(&e, "auth-badreq"), 0);
	VH_EXPECT_EQ(vh_auth_token_create(e.auth, "x", VH_ROLE_NONE, NULL, tok, sizeof(tok), err,
					  sizeof(err)),
		     -1);
	VH_EXPECT_EQ(vh_auth_token_create(e.auth, "x", (enum vh_role)9, NULL, tok, sizeof(tok), err,
					  sizeof(err)),
		     -1);
	static const char *const bad[] = {
		"",
		"a b",
		"a/b",
		".",
		"..",
		"ü",
		"0123456789012345678901234567890123456789012345678901234567890123"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vh_auth_token_create(e.auth, bad[i], VH_ROLE_ADMIN, NULL, tok, sizeof(tok), err,
					 sizeof(err)) != -1)
			VH_FAIL("name \"%s\" accepted", bad[i]);
	VH_EXPECT_EQ(vh_auth_token_create(e.auth, "x", VH_ROLE_ADMIN, NULL, small, sizeof(small),
					  err, sizeof(err)),
		     -1);
	VH_ASSERT_EQ(vh_auth_token_create(e.auth, "dup", VH_ROLE_ADMIN, NULL, tok, sizeof(tok), err,
					  sizeof(err)),
		     0);
	errno = 0;
	VH_EXPECT_EQ(vh_auth_token_create(e.auth, "dup", VH_ROLE_VIEWER, NULL, tok, sizeof(tok),
					  err, sizeof(err)),
		     -1);
	VH_EXPECT_EQ(errno, EEXIST);
	VH_EXPECT(strstr(err, "dup") != NULL);
	/* Nothing was stored for the refused ones. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/tokens", e.dir);
	VH_EXPECT_EQ(at_count(path, ""), 1);
	env_close(&e);
}

struct names {
	char v[8][64];
	enum vh_role r[8];
	int n;
};

static int list_fn(void *ctx, const struct vh_token_info *t)
{
	struct names *l = ctx;

	if (l->n < 8) {
		snprintf(l->v[l->n], 64, "%s", t->name);
		l->r[l->n] = t->role;
	}
	l->n++;
	return 0;
}

VH_TEST(auth, list_and_what_is_stored)
{
	struct env e;
	struct names l = { 0 };
	struct vh_token_info info;
	char tok[80], err[256], *data;
	size_t len;

	VH_ASSERT_EQ(env_open(&e, "auth-list"), 0);
	const char *names[] = { "zed", "alice", "bob" };
	const enum vh_role roles[] = { VH_ROLE_VIEWER, VH_ROLE_ADMIN, VH_ROLE_OPERATOR };
	for (int i = 0; i < 3; i++)
		VH_ASSERT_EQ(vh_auth_token_create(e.auth, names[i], roles[i], &info, tok,
						  sizeof(tok), err, sizeof(err)),
			     0);
	VH_ASSERT_EQ(vh_auth_token_each(e.auth, list_fn, &l), 0);
	VH_ASSERT_EQ(l.n, 3);
	VH_EXPECT_STREQ(l.v[0], "alice");
	VH_EXPECT_EQ((int)l.r[0], VH_ROLE_ADMIN);
	VH_EXPECT_STREQ(l.v[1], "bob");
	VH_EXPECT_STREQ(l.v[2], "zed");
	VH_EXPECT_EQ((int)l.r[2], VH_ROLE_VIEWER);

	/* The last one's record: salt and hash, never the secret. */
	VH_ASSERT_EQ(vh_store_get(e.store, "tokens", info.id, &data, &len, err, sizeof(err)), 0);
	VH_EXPECT(strstr(data, "\"format\":1") != NULL);
	VH_EXPECT(strstr(data, "\"role\":\"operator\"") != NULL);
	VH_EXPECT(strstr(data, "\"salt\":\"") != NULL);
	VH_EXPECT(strstr(data, "\"hash\":\"") != NULL);
	VH_EXPECT(strstr(data, tok + 12) == NULL);
	VH_EXPECT(strstr(data, tok + 20) == NULL);
	free(data);

	/* A damaged record is skipped, the others still work. */
	VH_ASSERT_EQ(
	    vh_store_put(e.store, "tokens", "0badbad0", "{\"format\":1,", 12, err, sizeof(err)), 0);
	VH_ASSERT_EQ(vh_store_put(e.store, "tokens", "0badbad1",
				  "{\"format\":2,\"id\":\"0badbad1\"}", 28, err, sizeof(err)),
		     0);
	vh_auth_close(e.auth);
	e.auth = vh_auth_open(e.store, err, sizeof(err));
	VH_ASSERT(e.auth != NULL);
	memset(&l, 0, sizeof(l));
	VH_ASSERT_EQ(vh_auth_token_each(e.auth, list_fn, &l), 0);
	VH_EXPECT_EQ(l.n, 3);
	VH_EXPECT_EQ((int)vh_auth_check(e.auth, tok, NULL), VH_ROLE_OPERATOR);
	env_close(&e);
}

/* `vhagent token create` in another process: the agent's vh_auth sees the
 * token within about a second, and sees a revoke as quickly. */
VH_TEST(auth, another_process_create_is_seen_within_a_second)
{
	struct env e;
	char err[256];
	int pfd[2];

	VH_ASSERT_EQ(env_open(&e, "auth-proc"), 0);
	/* Look once so the next look is a second away. */
	VH_EXPECT_EQ((int)vh_auth_check(
			 e.auth, "vh_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL),
		     VH_ROLE_NONE);
	for (int round = 0; round < 3; round++) {
		char tok[80] = "";
		VH_ASSERT_EQ(pipe(pfd), 0);
		fflush(stdout);
		pid_t pid = fork();
		VH_ASSERT(pid >= 0);
		if (pid == 0) {
			char name[16];
			struct vh_store *s = vh_store_open(e.dir, err, sizeof(err));
			struct vh_auth *a = s ? vh_auth_open(s, err, sizeof(err)) : NULL;
			snprintf(name, sizeof(name), "proc%d", round);
			if (!a || vh_auth_token_create(a, name, VH_ROLE_OPERATOR, NULL, tok,
						       sizeof(tok), err, sizeof(err)) < 0)
				_exit(1);
			if (write(pfd[1], tok, sizeof(tok)) != (ssize_t)sizeof(tok))
				_exit(2);
			_exit(0);
		}
		close(pfd[1]);
		VH_ASSERT_EQ(read(pfd[0], tok, sizeof(tok)), (ssize_t)sizeof(tok));
		close(pfd[0]);
		int st;
		waitpid(pid, &st, 0);
		VH_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		double t0 = at_now(), seen = -1;
		while (at_now() - t0 < 3.0) {
			if (vh_auth_check(e.auth, tok, NULL) == VH_ROLE_OPERATOR) {
				seen = at_now() - t0;
				break;
			}
			usleep(10000);
		}
		printf("# round %d: the token made by another process was accepted after %.3f s\n",
		       round, seen);
		VH_EXPECT_GE(seen, 0.0);
		VH_EXPECT_LE(seen, 1.5);

		/* Revoked by another process: refused as quickly. */
		fflush(stdout);
		pid = fork();
		VH_ASSERT(pid >= 0);
		if (pid == 0) {
			char name[16];
			struct vh_store *s = vh_store_open(e.dir, err, sizeof(err));
			struct vh_auth *a = s ? vh_auth_open(s, err, sizeof(err)) : NULL;
			snprintf(name, sizeof(name), "proc%d", round);
			_exit(a && vh_auth_token_revoke(a, name, err, sizeof(err)) == 0 ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		VH_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		t0 = at_now();
		seen = -1;
		while (at_now() - t0 < 3.0) {
			if (vh_auth_check(e.auth, tok, NULL) == VH_ROLE_NONE) {
				seen = at_now() - t0;
				break;
			}
			usleep(10000);
		}
		VH_EXPECT_GE(seen, 0.0);
		VH_EXPECT_LE(seen, 1.5);
	}
	env_close(&e);
}

/* Two processes creating the same name at once: exactly one wins. */
VH_TEST(auth, names_stay_unique_across_processes)
{
	struct env e;
	pid_t pids[4];
	int ok = 0;

	VH_ASSERT_EQ(env_open(&e, "auth-race"), 0);
	fflush(stdout);
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		VH_ASSERT(pids[i] >= 0);
		if (pids[i] == 0) {
			char err[256], tok[80];
			struct vh_store *s = vh_store_open(e.dir, err, sizeof(err));
			struct vh_auth *a = s ? vh_auth_open(s, err, sizeof(err)) : NULL;
			_exit(a && vh_auth_token_create(a, "same", VH_ROLE_ADMIN, NULL, tok,
							sizeof(tok), err, sizeof(err)) == 0
				  ? 0
				  : 1);
		}
	}
	for (int i = 0; i < 4; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	VH_EXPECT_EQ(ok, 1);
	char path[4096];
	snprintf(path, sizeof(path), "%s/tokens", e.dir);
	VH_EXPECT_EQ(at_count(path, ""), 1);
	env_close(&e);
}

VH_TEST(auth, check_is_cheap)
{
	struct env e;
	char tok[80], err[256];

	VH_ASSERT_EQ(env_open(&e, "auth-speed"), 0);
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%02d", i);
		VH_ASSERT_EQ(vh_auth_token_create(e.auth, name, VH_ROLE_VIEWER, NULL, tok,
						  sizeof(tok), err, sizeof(err)),
			     0);
	}
	double t0 = at_now();
	int n = 0;
	for (int i = 0; i < 100000; i++)
		n += vh_auth_check(e.auth, tok, NULL) == VH_ROLE_VIEWER;
	double dt = at_now() - t0;
	VH_EXPECT_EQ(n, 100000);
	printf("# vh_auth_check: %.2f us per call (50 tokens)\n", dt * 1e6 / 100000);
	VH_EXPECT_LT(dt * 1e6 / 100000, 50.0); /* far below a request's budget at 20k req/s */
	env_close(&e);
}
