/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer tokens and roles.  A token is shown once, at creation:
 * "vh_<id>_<secret>" (id: 8 hex digits naming the record; secret: 32
 * random bytes from getrandom, base64url).  Only a random 16-byte salt and
 * SHA-256(salt || secret) are stored (collection "tokens" of the store,
 * one record per token), so a leaked state folder grants nothing; the
 * secret has 256 bits of entropy, so a fast hash is enough (no password
 * stretching is needed).  Comparison is constant-time.
 *
 * Roles: viewer (GET only), operator (lifecycle and resources: VMs,
 * power, controls, images), admin (everything, tokens included).
 * `vhagent token create|list|revoke` edits the same records while the
 * agent runs; the agent sees changes within a second (it re-reads the
 * collection when its folder changed). */
#ifndef VH_AGENT_AUTH_H
#define VH_AGENT_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/store.h"

enum vh_role {
	VH_ROLE_NONE = 0,
	VH_ROLE_VIEWER = 1,
	VH_ROLE_OPERATOR = 2,
	VH_ROLE_ADMIN = 3,
};

const char *vh_role_name(enum vh_role r);           /* "viewer" … ; "none" */
enum vh_role vh_role_from_name(const char *name);   /* VH_ROLE_NONE if unknown */

struct vh_token_info {
	char id[9];
	char name[64];
	enum vh_role role;
	time_t created;
};

struct vh_auth;

struct vh_auth *vh_auth_open(struct vh_store *store, char *err, size_t errlen);
void vh_auth_close(struct vh_auth *a);

/* Creates a token; secret_out (>= 80 bytes) gets the whole bearer token. */
int vh_auth_token_create(struct vh_auth *a, const char *name, enum vh_role role,
			 struct vh_token_info *info, char *secret_out, size_t cap, char *err,
			 size_t errlen);
/* By id or by name; -1 with errno ENOENT when there is none. */
int vh_auth_token_revoke(struct vh_auth *a, const char *id_or_name, char *err, size_t errlen);
typedef int (*vh_token_visit_fn)(void *ctx, const struct vh_token_info *t);
int vh_auth_token_each(struct vh_auth *a, vh_token_visit_fn fn, void *ctx);

/* The role a bearer token (the text after "Bearer ") grants, or
 * VH_ROLE_NONE.  Thread-safe and cheap (one hash). */
enum vh_role vh_auth_check(struct vh_auth *a, const char *bearer, struct vh_token_info *who);

#endif
