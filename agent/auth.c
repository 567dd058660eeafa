/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer tokens and roles (agent/auth.h).
 *
 * A token "vh_<id>_<secret>": id is 8 hex digits, the record's key in the
 * store's "tokens" collection; secret is 32 random bytes in base64url
 * (43 characters).  The record is JSON:
 *   {"format":1,"id":"…","name":"…","role":"operator",
 *    "salt":"<16 bytes hex>","hash":"<SHA-256(salt || secret) hex>","created":<unix s>}
 * where secret is the 43-character text as the client sends it.
 *
 * Checks read an in-memory table (sorted by id) under a read lock.  The
 * table is re-read when the tokens folder changed, looked at no more than
 * once a second, so `vhagent token create|revoke` in another process is
 * seen within about a second.  Folder timestamps can be coarse (a tick of
 * a few ms): two changes in one tick leave one mtime, so when the folder
 * changed less than two seconds before a read, the next look re-reads
 * regardless.  Creates and revokes hold an exclusive flock on
 * <state>/.tokens.lock, so names stay unique across processes. */
#define _GNU_SOURCE
#include "agent/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent/fsutil.h"
#include "agent/sd.h"

#define COLLECTION    "tokens"
#define LOCK_FILE     ".tokens.lock"
#define RECORD_FORMAT 1
#define SALT_LEN      16
#define SECRET_BYTES  32
#define SECRET_CHARS  43 /* base64url of 32 bytes, no padding */
#define TOKEN_LEN     (3 + 8 + 1 + SECRET_CHARS)
#define RECHECK_NS    1000000000LL

struct token {
	struct vh_token_info info;
	unsigned char salt[SALT_LEN];
	unsigned char hash[32];
};

struct vh_auth {
	struct vh_store *store;
	pthread_rwlock_t lock; /* toks, ntoks */
	struct token *toks;    /* sorted by id */
	size_t ntoks;
	pthread_mutex_t refresh; /* one re-read at a time */
	_Atomic long long next_look_ns;
	/* What the folder looked like at the last read. */
	bool seen_exists, force;
	struct timespec seen_mtime;
	ino_t seen_ino;
};

static const char *const role_names[] = {
	[VH_ROLE_NONE] = "none",
	[VH_ROLE_VIEWER] = "viewer",
	[VH_ROLE_OPERATOR] = "operator",
	[VH_ROLE_ADMIN] = "admin",
};

const char *vh_role_name(enum vh_role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "none";
}

enum vh_role vh_role_from_name(const char *name)
{
	for (int r = VH_ROLE_VIEWER; r <= VH_ROLE_ADMIN; r++)
		if (name && strcmp(name, role_names[r]) == 0)
			return (enum vh_role)r;
	return VH_ROLE_NONE;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2*n lower-case hex digits. */
static bool from_hex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static bool id_valid(const char *s)
{
	if (strlen(s) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

static bool name_valid(const char *s)
{
	return vh_fs_name_ok(s, 63) && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static bool b64url_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
		out[o++] = t[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
	}
	out[o] = '\0';
}

static int random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void hash_secret(const unsigned char salt[SALT_LEN], const char *secret, size_t len,
			unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, salt, SALT_LEN) || !EVP_DigestUpdate(c, secret, len) ||
	    !EVP_DigestFinal_ex(c, out, &n) || n != 32)
		/* Never matches a stored hash by accident: a random value. */
		random_bytes(out, 32);
	EVP_MD_CTX_free(c);
}

/* ---- records ------------------------------------------------------------ */

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool get_int(struct json_object *o, const char *key, long long *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*out = json_object_get_int64(v);
	return errno == 0;
}

/* A record in strict JSON with every field checked; false if unusable. */
static bool record_parse(const char *key, const char *data, size_t len, struct token *t, char *why,
			 size_t whylen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	const char *s;
	long long v;
	bool ok = false;

	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	if (!tok)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, data, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	memset(t, 0, sizeof(*t));
	if (!get_int(o, "format", &v) || v != RECORD_FORMAT) {
		snprintf(why, whylen, "format is not %d", RECORD_FORMAT);
		goto out;
	}
	if (!(s = get_str(o, "id")) || !id_valid(s) || strcmp(s, key) != 0) {
		snprintf(why, whylen, "id missing or not the record's key");
		goto out;
	}
	memcpy(t->info.id, s, 9);
	if (!(s = get_str(o, "name")) || !name_valid(s)) {
		snprintf(why, whylen, "bad name");
		goto out;
	}
	snprintf(t->info.name, sizeof(t->info.name), "%s", s);
	if (!(s = get_str(o, "role")) || (t->info.role = vh_role_from_name(s)) == VH_ROLE_NONE) {
		snprintf(why, whylen, "bad role");
		goto out;
	}
	if (!(s = get_str(o, "salt")) || !from_hex(s, t->salt, SALT_LEN) ||
	    !(s = get_str(o, "hash")) || !from_hex(s, t->hash, 32)) {
		snprintf(why, whylen, "bad salt or hash");
		goto out;
	}
	if (!get_int(o, "created", &v) || v < 0) {
		snprintf(why, whylen, "bad created time");
		goto out;
	}
	t->info.created = (time_t)v;
	ok = true;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return ok;
}

static char *record_format(const struct token *t)
{
	struct json_object *o = json_object_new_object();
	char salt[2 * SALT_LEN + 1], hash[65];
	char *out = NULL;

	if (!o)
		return NULL;
	vh_hex_encode(t->salt, SALT_LEN, salt);
	vh_hex_encode(t->hash, 32, hash);
	json_object_object_add(o, "format", json_object_new_int(RECORD_FORMAT));
	json_object_object_add(o, "id", json_object_new_string(t->info.id));
	json_object_object_add(o, "name", json_object_new_string(t->info.name));
	json_object_object_add(o, "role", json_object_new_string(vh_role_name(t->info.role)));
	json_object_object_add(o, "salt", json_object_new_string(salt));
	json_object_object_add(o, "hash", json_object_new_string(hash));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)t->info.created));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (s && asprintf(&out, "%s\n", s) < 0)
		out = NULL;
	json_object_put(o);
	return out;
}

/* ---- the table ------------------------------------------------------------ */

struct load {
	struct token *v;
	size_t n, cap;
	int oom;
};

static int load_one(void *ctx, const char *key, const char *data, size_t len)
{
	struct load *l = ctx;
	char why[128];
	struct token t;

	if (!record_parse(key, data, len, &t, why, sizeof(why))) {
		vh_log(VH_LOG_WARNING, "token record %s ignored: %s", key, why);
		return 0;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct token *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = t; /* keys come in order: the table is sorted by id */
	return 0;
}

static void dir_path(struct vh_auth *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/" COLLECTION, vh_store_dir(a->store));
}

/* Re-reads the collection into the table.  Caller holds a->refresh. */
static int reload(struct vh_auth *a, char *err, size_t errlen)
{
	struct load l = { 0 };
	char path[4096];
	struct stat st;
	struct timespec now;
	int rc;

	/* Look at the folder before reading it: a change after this instant
	 * gives a newer mtime and so another read. */
	dir_path(a, path, sizeof(path));
	a->seen_exists = stat(path, &st) == 0;
	a->seen_mtime = a->seen_exists ? st.st_mtim : (struct timespec){ 0 };
	a->seen_ino = a->seen_exists ? st.st_ino : 0;
	clock_gettime(CLOCK_REALTIME, &now);
	a->force = a->seen_exists && now.tv_sec - st.st_mtim.tv_sec < 2;

	rc = vh_store_each(a->store, COLLECTION, load_one, &l, err, errlen);
	if (rc || l.oom) {
		if (l.oom)
			snprintf(err, errlen, "out of memory");
		free(l.v);
		a->force = true;
		return -1;
	}
	pthread_rwlock_wrlock(&a->lock);
	free(a->toks);
	a->toks = l.v;
	a->ntoks = l.n;
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

static bool folder_changed(struct vh_auth *a)
{
	char path[4096];
	struct stat st;
	bool exists;

	if (a->force)
		return true;
	dir_path(a, path, sizeof(path));
	exists = stat(path, &st) == 0;
	if (exists != a->seen_exists)
		return true;
	return exists && (st.st_ino != a->seen_ino || st.st_mtim.tv_sec != a->seen_mtime.tv_sec ||
			  st.st_mtim.tv_nsec != a->seen_mtime.tv_nsec);
}

/* At most once a second, and by one thread at a time. */
static void maybe_refresh(struct vh_auth *a)
{
	long long now = (long long)vh_mono_ns();
	char err[256];

	if (now < atomic_load_explicit(&a->next_look_ns, memory_order_relaxed))
		return;
	if (pthread_mutex_trylock(&a->refresh) != 0)
		return;
	atomic_store(&a->next_look_ns, now + RECHECK_NS);
	if (folder_changed(a) && reload(a, err, sizeof(err)) < 0)
		vh_log(VH_LOG_ERR, "reading the tokens: %s", err);
	pthread_mutex_unlock(&a->refresh);
}

struct vh_auth *vh_auth_open(struct vh_store *store, char *err, size_t errlen)
{
	struct vh_auth *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->store = store;
	pthread_rwlock_init(&a->lock, NULL);
	pthread_mutex_init(&a->refresh, NULL);
	pthread_mutex_lock(&a->refresh);
	int rc = reload(a, err, errlen);
	pthread_mutex_unlock(&a->refresh);
	if (rc < 0) {
		vh_auth_close(a);
		return NULL;
	}
	atomic_store(&a->next_look_ns, (long long)vh_mono_ns() + RECHECK_NS);
	return a;
}

void vh_auth_close(struct vh_auth *a)
{
	if (!a)
		return;
	pthread_rwlock_destroy(&a->lock);
	pthread_mutex_destroy(&a->refresh);
	free(a->toks);
	free(a);
}

/* The cross-process lock for creates and revokes, then a fresh table. */
static int edit_begin(struct vh_auth *a, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/" LOCK_FILE, vh_store_dir(a->store));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: flock: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	pthread_mutex_lock(&a->refresh);
	if (reload(a, err, errlen) < 0) {
		pthread_mutex_unlock(&a->refresh);
		close(fd);
		return -1;
	}
	return fd;
}

static void edit_end(struct vh_auth *a, int fd)
{
	char err[256];

	/* Our own change is visible at once. */
	if (reload(a, err, sizeof(err)) < 0)
		vh_log(VH_LOG_ERR, "reading the tokens: %s", err);
	pthread_mutex_unlock(&a->refresh);
	close(fd);
}

/* Index of id or name in the table (caller holds the lock), or -1. */
static long find(struct vh_auth *a, const char *id_or_name)
{
	for (size_t i = 0; i < a->ntoks; i++)
		if (strcmp(a->toks[i].info.id, id_or_name) == 0)
			return (long)i;
	for (size_t i = 0; i < a->ntoks; i++)
		if (strcmp(a->toks[i].info.name, id_or_name) == 0)
			return (long)i;
	return -1;
}

int vh_auth_token_create(struct vh_auth *a, const char *name, enum vh_role role,
			 struct vh_token_info *info, char *secret_out, size_t cap, char *err,
			 size_t errlen)
{
	unsigned char raw[SECRET_BYTES], idb[4];
	char secret[SECRET_CHARS + 1];
	struct token t = { 0 };
	char *rec;
	int fd, rc, e;

	if (!name || !name_valid(name)) {
		snprintf(err, errlen, "bad token name \"%.80s\": 1..63 of A-Z a-z 0-9 . _ -",
			 name ? name : "");
		errno = EINVAL;
		return -1;
	}
	if (role < VH_ROLE_VIEWER || role > VH_ROLE_ADMIN) {
		snprintf(err, errlen, "bad role: viewer, operator or admin");
		errno = EINVAL;
		return -1;
	}
	if (!secret_out || cap < TOKEN_LEN + 1) {
		snprintf(err, errlen, "token buffer too small");
		errno = EINVAL;
		return -1;
	}
	fd = edit_begin(a, err, errlen);
	if (fd < 0)
		return -1;
	pthread_rwlock_rdlock(&a->lock);
	bool taken = false;
	for (size_t i = 0; i < a->ntoks; i++)
		taken |= strcmp(a->toks[i].info.name, name) == 0;
	pthread_rwlock_unlock(&a->lock);
	if (taken) {
		snprintf(err, errlen, "a token named %s exists already", name);
		edit_end(a, fd);
		errno = EEXIST;
		return -1;
	}
	for (;;) {
		if (random_bytes(idb, sizeof(idb)) < 0)
			goto random_failed;
		vh_hex_encode(idb, sizeof(idb), t.info.id);
		pthread_rwlock_rdlock(&a->lock);
		long clash = find(a, t.info.id);
		pthread_rwlock_unlock(&a->lock);
		if (clash < 0)
			break;
	}
	if (random_bytes(raw, sizeof(raw)) < 0 || random_bytes(t.salt, sizeof(t.salt)) < 0)
		goto random_failed;
	b64url_encode(raw, sizeof(raw), secret);
	hash_secret(t.salt, secret, SECRET_CHARS, t.hash);
	snprintf(t.info.name, sizeof(t.info.name), "%s", name);
	t.info.role = role;
	t.info.created = time(NULL);
	rec = record_format(&t);
	if (!rec) {
		snprintf(err, errlen, "out of memory");
		edit_end(a, fd);
		errno = ENOMEM;
		return -1;
	}
	rc = vh_store_put(a->store, COLLECTION, t.info.id, rec, strlen(rec), err, errlen);
	e = errno; /* the caller tells a full disk (507) from other faults */
	free(rec);
	edit_end(a, fd);
	if (rc < 0) {
		errno = e;
		return -1;
	}
	snprintf(secret_out, cap, "vh_%s_%s", t.info.id, secret);
	if (info)
		*info = t.info;
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
random_failed:
	snprintf(err, errlen, "getrandom: %s", strerror(errno));
	edit_end(a, fd);
	return -1;
}

int vh_auth_token_revoke(struct vh_auth *a, const char *id_or_name, char *err, size_t errlen)
{
	char id[9];
	long i;
	int fd, rc;

	fd = edit_begin(a, err, errlen);
	if (fd < 0)
		return -1;
	pthread_rwlock_rdlock(&a->lock);
	i = id_or_name ? find(a, id_or_name) : -1;
	if (i >= 0)
		memcpy(id, a->toks[i].info.id, sizeof(id));
	pthread_rwlock_unlock(&a->lock);
	if (i < 0) {
		snprintf(err, errlen, "no token with id or name \"%.80s\"",
			 id_or_name ? id_or_name : "");
		edit_end(a, fd);
		errno = ENOENT;
		return -1;
	}
	rc = vh_store_delete(a->store, COLLECTION, id, err, errlen);
	edit_end(a, fd);
	return rc;
}

static int cmp_info(const void *x, const void *y)
{
	const struct vh_token_info *a = x, *b = y;

	return strcmp(a->name, b->name);
}

int vh_auth_token_each(struct vh_auth *a, vh_token_visit_fn fn, void *ctx)
{
	struct vh_token_info *v;
	size_t n;
	int rc = 0;

	maybe_refresh(a);
	/* Copy, then call fn unlocked: fn may revoke. */
	pthread_rwlock_rdlock(&a->lock);
	n = a->ntoks;
	v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = a->toks[i].info;
	pthread_rwlock_unlock(&a->lock);
	if (!v)
		return -1;
	qsort(v, n, sizeof(*v), cmp_info);
	for (size_t i = 0; !rc && i < n; i++)
		rc = fn(ctx, &v[i]);
	free(v);
	return rc;
}

/* "vh_" 8 hex "_" 43 base64url: anything else is not one of ours. */
static bool bearer_shape(const char *b)
{
	if (strlen(b) != TOKEN_LEN || strncmp(b, "vh_", 3) != 0 || b[11] != '_')
		return false;
	for (int i = 3; i < 11; i++)
		if (hexval(b[i]) < 0)
			return false;
	for (int i = 12; i < TOKEN_LEN; i++)
		if (!b64url_char(b[i]))
			return false;
	return true;
}

enum vh_role vh_auth_check(struct vh_auth *a, const char *bearer, struct vh_token_info *who)
{
	static const unsigned char dummy_salt[SALT_LEN];
	unsigned char salt[SALT_LEN], want[32], got[32];
	struct vh_token_info info;
	bool found = false;
	char id[9];

	if (!bearer || !bearer_shape(bearer))
		return VH_ROLE_NONE;
	maybe_refresh(a);
	memcpy(id, bearer + 3, 8);
	id[8] = '\0';
	pthread_rwlock_rdlock(&a->lock);
	size_t lo = 0, hi = a->ntoks;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(a->toks[mid].info.id, id);
		if (c == 0) {
			memcpy(salt, a->toks[mid].salt, SALT_LEN);
			memcpy(want, a->toks[mid].hash, 32);
			info = a->toks[mid].info;
			found = true;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	pthread_rwlock_unlock(&a->lock);
	/* The same work whether or not the id exists. */
	hash_secret(found ? salt : dummy_salt, bearer + 12, SECRET_CHARS, got);
	if (!found) {
		memset(want, 0xa5, sizeof(want));
	}
	if (CRYPTO_memcmp(got, want, sizeof(got)) != 0 || !found)
		return VH_ROLE_NONE;
	if (who)
		*who = info;
	return info.role;
}
