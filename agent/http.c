/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's HTTP server on libmicrohttpd (see http.h).
 *
 * Listeners: the unix socket (mode 0660, the socket group; SO_PEERCRED
 * says who connected), HTTPS on TCP (MHD_USE_TLS, GnuTLS inside
 * libmicrohttpd; optional client certificates), and plain HTTP only on a
 * loopback address.  Each runs libmicrohttpd's epoll loop in a thread
 * pool (MHD_OPTION_THREAD_POOL_SIZE: the single-thread epoll mode stalls
 * when a multiple of 128 connections is ready at once), with a
 * connection limit, a per-IP limit on TCP, an idle timeout and a memory
 * limit per connection that bounds the request headers; a slow or
 * half-open client holds one connection slot and nothing else, because
 * no handler ever waits for a client.
 *
 * A request goes: first call (headers): route, credentials, body limits
 * and media type; body calls: bytes kept (JSON) or streamed (images);
 * last call: the handler runs and the response is queued.  Responses are
 * queued on that last call, never the first, because libmicrohttpd
 * 0.9.75 closes the connection after a response queued on the first
 * call (no keep-alive: 4-5x slower); only a refusal of a body over the
 * limit or of unknown length is queued at once, with "Connection: close"
 * (the connection then closes, which is what we want for an oversized
 * upload). */
#define _GNU_SOURCE
#include "agent/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/sha.h>

#include "agent/agent.h"
#include "agent/certrole.h"
#include "agent/fsutil.h"
#include "agent/hdr_deadline.h"
#include "agent/idempotency.h"
#include "agent/media.h"
#include "agent/resources.h"
#include "agent/router.h"
#include "agent/sd.h"
#include "agent/tls.h"

/* Bounds the request line and headers of one connection (libmicrohttpd
 * answers 431 beyond it); bodies are read in pieces and do not count. */
#define CONN_MEMORY_LIMIT (64u * 1024u)
#define IDEM_MAX_KEYS     1000u /* per caller */
#define IDEM_TTL_S        (24u * 3600u)
/* Body buffers up to this size stay with the connection for the next
 * request on it; larger ones are freed after their request. */
#define BODY_KEEP 16384u
/* A refused body read this far past its limit is still read to its end
 * (to answer it), but the answer then closes the connection. */
#define DISCARD_SLACK (1024u * 1024u)

enum listener_kind { L_UNIX, L_HTTPS, L_HTTP };

struct listener {
	enum listener_kind kind;
	int fd;
	struct MHD_Daemon *d;
	bool client_ca;
	bool unlink_path; /* we made the unix socket, so we remove it */
	char path[108];
	char *key_pem, *cert_pem, *ca_pem;
};

static struct listener listeners[3];
static int nlisteners;

/* One per connection (libmicrohttpd's socket context): who is on the
 * other end, found once, and the request struct, reused by every
 * request of a keep-alive connection. */
struct conn {
	struct listener *l;
	bool peer_done;
	enum vh_role peer_role; /* unix socket: from SO_PEERCRED; TLS: from a client certificate */
	enum vh_api_code cert_refused; /* a client certificate that grants nothing (certrole.h) */
	char cert_why[200];
	char peer_principal[80];
	struct vh_hdr_watch hdr; /* the request-header deadline */
	struct vh_req req;
};

/* ---- responses ------------------------------------------------------------ */

static void reply_clear(struct vh_req *r)
{
	free(r->resp);
	r->resp = NULL;
	r->resp_len = 0;
	r->resp_type = NULL;
	r->nhdrs = 0;
	r->status = 0;
}

void vh_reply_raw(struct vh_req *r, int status, const char *type, char *buf, size_t len)
{
	reply_clear(r);
	r->status = status;
	r->resp_type = type;
	r->resp = buf;
	r->resp_len = len;
}

void vh_reply_json(struct vh_req *r, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s;
	char *copy;

	if (!obj) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	copy = s ? malloc(len + 1) : NULL;
	if (!copy) {
		json_object_put(obj);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	memcpy(copy, s, len);
	copy[len] = '\n';
	json_object_put(obj);
	vh_reply_raw(r, status, "application/json", copy, len + 1);
}

void vh_reply_empty(struct vh_req *r, int status)
{
	vh_reply_raw(r, status, NULL, NULL, 0);
}

void vh_reply_header(struct vh_req *r, const char *name, const char *value)
{
	for (int i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, name) == 0) {
			snprintf(r->hdrs[i].value, sizeof(r->hdrs[i].value), "%s", value);
			return;
		}
	}
	if (r->nhdrs < VH_REQ_HEADERS) {
		snprintf(r->hdrs[r->nhdrs].name, sizeof(r->hdrs[0].name), "%s", name);
		snprintf(r->hdrs[r->nhdrs].value, sizeof(r->hdrs[0].value), "%s", value);
		r->nhdrs++;
	}
}

void vh_reply_problem(struct vh_req *r, const struct vh_api_problem *p)
{
	const char *path = r->path ? r->path : "";
	char *s = vh_api_problem_json(p, path);
	int status = vh_api_http_status(p->code);

	if (!s) {
		static const char oom[] = "{\"status\":500,\"code\":\"internal\"}\n";
		s = strdup(oom);
		status = 500;
	}
	vh_reply_raw(r, status, "application/problem+json", s, s ? strlen(s) : 0);
	if (p->code == VH_API_UNAUTHORIZED)
		vh_reply_header(r, "WWW-Authenticate", "Bearer realm=\"vh\"");
	/* Transient: the hypervisor restarting, a reconcile pass due. */
	if (p->code == VH_API_UNAVAILABLE || p->code == VH_API_BUSY)
		vh_reply_header(r, "Retry-After", "1");
}

void vh_reply_fail(struct vh_req *r, enum vh_api_code code, const char *field, const char *fmt, ...)
{
	struct vh_api_problem p = { .code = code };
	va_list ap;

	snprintf(p.field, sizeof(p.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(p.detail, sizeof(p.detail), fmt, ap);
	va_end(ap);
	vh_reply_problem(r, &p);
}

/* ---- request data ---------------------------------------------------------- */

const char *vh_req_query(struct vh_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->mhd, MHD_GET_ARGUMENT_KIND, key);
}

const char *vh_req_header(struct vh_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, name);
}

int vh_req_query_bool(struct vh_req *r, const char *name, bool def, bool *out)
{
	const char *v = vh_req_query(r, name);

	if (!v) {
		*out = def;
		return 0;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	vh_reply_fail(r, VH_API_INVALID_FIELD, name, "%s: expected true or false, got \"%.40s\"",
		      name, v);
	return -1;
}

struct json_object *vh_req_json(struct vh_req *r)
{
	struct vh_api_problem p = { 0 };
	struct json_object *obj = NULL;

	if (r->body_len == 0) {
		vh_reply_fail(r, VH_API_BAD_JSON, "", "a JSON body is required");
		return NULL;
	}
	if (vh_api_parse(r->body, r->body_len, &obj, &p) != 0) {
		vh_reply_problem(r, &p);
		return NULL;
	}
	return obj;
}

/* ---- who is asking ------------------------------------------------------------ */

static bool in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (gid == want)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

/* The unix socket: root, the agent's user and the socket group are
 * admin without a token (the socket's mode already keeps others out,
 * unless an administrator widened it: they then need a token). */
static void peer_unix(struct conn *c, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cr;
	socklen_t len = sizeof(cr);

	c->peer_role = VH_ROLE_NONE;
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return;
	snprintf(c->peer_principal, sizeof(c->peer_principal), "uid:%u", (unsigned)cr.uid);
	if (cr.uid == 0 || cr.uid == vh_agent->self_uid ||
	    (vh_agent->have_sock_gid && in_group(cr.uid, cr.gid, vh_agent->sock_gid)))
		c->peer_role = VH_ROLE_ADMIN;
}

/* TLS with tls_client_ca set: a client certificate that verifies
 * against that CA grants the one role its subject's OUs name, if it is
 * a clientAuth certificate (agent/certrole.h).  A certificate that does
 * not verify or grants nothing is refused (401 or 403) even with a
 * token. */
static void peer_cert(struct conn *c, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s;
	const gnutls_datum_t *certs;
	unsigned int ncerts = 0, status = 0;
	char cn[64];

	c->peer_role = VH_ROLE_NONE;
	if (!ci || !ci->tls_session)
		return;
	s = (gnutls_session_t)ci->tls_session;
	certs = gnutls_certificate_get_peers(s, &ncerts);
	if (!certs || ncerts == 0)
		return; /* none presented: tokens decide */
	if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0) {
		c->cert_refused = VH_API_UNAUTHORIZED;
		snprintf(c->cert_why, sizeof(c->cert_why), "the client certificate did not verify");
		return;
	}
	c->cert_refused = vh_cert_role(&certs[0], &c->peer_role, cn, sizeof(cn), c->cert_why,
				       sizeof(c->cert_why));
	if (c->cert_refused == VH_API_OK)
		snprintf(c->peer_principal, sizeof(c->peer_principal), "cert:%.60s", cn);
}

/* Sets r->role and r->principal; replies 401 and returns -1 when the
 * request carried credentials that are not valid. */
static int authenticate(struct conn *c, struct vh_req *r)
{
	const char *auth = vh_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!c->peer_done) {
		c->peer_done = true;
		if (c->l->kind == L_UNIX)
			peer_unix(c, r->mhd);
		else if (c->l->kind == L_HTTPS && c->l->client_ca)
			peer_cert(c, r->mhd);
	}
	if (c->cert_refused != VH_API_OK) {
		vh_reply_fail(r, c->cert_refused, "", "%s", c->cert_why);
		return -1;
	}
	r->role = c->peer_role;
	snprintf(r->principal, sizeof(r->principal), "%s", c->peer_principal);
	if (auth) {
		struct vh_token_info who;
		enum vh_role role;

		if (strncasecmp(auth, "Bearer ", 7) != 0) {
			vh_reply_fail(r, VH_API_UNAUTHORIZED, "",
				      "only Bearer tokens are accepted");
			return -1;
		}
		role = vh_auth_check(vh_agent->auth, auth + 7, &who);
		if (role == VH_ROLE_NONE) {
			vh_reply_fail(r, VH_API_UNAUTHORIZED, "", "unknown or revoked token");
			return -1;
		}
		/* A token decides, whatever the peer is: so a root client can
		 * act as a viewer on purpose. */
		r->role = role;
		snprintf(r->principal, sizeof(r->principal), "token:%s", who.id);
	}
	if (!r->principal[0])
		snprintf(r->principal, sizeof(r->principal), "anonymous");
	return 0;
}

/* ---- the request cycle --------------------------------------------------- */

static enum vh_method method_of(const char *m)
{
	static const struct {
		const char *name;
		enum vh_method m;
	} t[] = { { "GET", VH_M_GET }, { "HEAD", VH_M_HEAD },   { "POST", VH_M_POST },
		  { "PUT", VH_M_PUT }, { "PATCH", VH_M_PATCH }, { "DELETE", VH_M_DELETE } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].m;
	return VH_M_OTHER;
}

/* Whether a body follows the headers (Content-Length > 0 or chunked). */
static bool has_body(struct vh_req *r, uint64_t *declared, bool *known)
{
	const char *cl = vh_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = vh_req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	*known = false;
	*declared = 0;
	if (cl) {
		char *end;
		errno = 0;
		*declared = strtoull(cl, &end, 10);
		*known = errno == 0 && end != cl;
		return *declared > 0;
	}
	return te != NULL;
}

static void req_reset(struct vh_req *r, struct MHD_Connection *mc)
{
	char *body = r->body;
	size_t cap = r->body_cap;

	if (body && cap > BODY_KEEP) {
		free(body);
		body = NULL;
		cap = 0;
	}
	reply_clear(r);
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->body_cap = cap;
	r->mhd = mc;
}

static int body_append(struct vh_req *r, const char *data, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		char *nb;

		while (cap < r->body_len + n + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/* The first call: route, credentials, limits.  Leaves r->status 0 when
 * the request may go on. */
static void begin(struct conn *c, struct vh_req *r, const char *url, const char *method)
{
	char allow[64];
	const char *need;
	uint64_t declared;
	bool known;

	r->method = method_of(method);
	r->path = url;
	switch (vh_route_find(r->method, url, r, &r->route, allow, sizeof(allow))) {
	case VH_ROUTE_NO_PATH:
		vh_reply_fail(r, VH_API_NOT_FOUND, "", "no resource at %.120s", url);
		return;
	case VH_ROUTE_NO_METHOD:
		vh_reply_fail(r, VH_API_METHOD_NOT_ALLOWED, "",
			      "%.10s is not allowed on %.120s (allowed: %s)", method, url, allow);
		vh_reply_header(r, MHD_HTTP_HEADER_ALLOW, allow);
		return;
	case VH_ROUTE_FOUND: break;
	}
	if (authenticate(c, r))
		return;
	if (r->route->min_role > r->role) {
		if (r->role == VH_ROLE_NONE)
			vh_reply_fail(r, VH_API_UNAUTHORIZED, "",
				      "credentials required: a Bearer token%s",
				      c->l->client_ca ? " or a client certificate" : "");
		else
			vh_reply_fail(
			    r, VH_API_FORBIDDEN, "", "%s %.100s needs the %s role; %s has %s",
			    vh_method_name(r->method), r->route->pattern,
			    vh_role_name(r->route->min_role), r->principal, vh_role_name(r->role));
		return;
	}
	if ((need = vh_media_required(r->method, r->route->body,
				      vh_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)))) {
		vh_reply_fail(r, VH_API_UNSUPPORTED_MEDIA, "Content-Type",
			      "%s %.100s needs Content-Type: %s, with or without a body (a type no "
			      "browser sends cross-site without a CORS preflight)",
			      vh_method_name(r->method), r->route->pattern, need);
		return;
	}
	if (r->route->body == VH_BODY_JSON) {
		uint64_t max = atomic_load(&vh_agent->max_body_bytes);

		if (has_body(r, &declared, &known) && known && declared > max) {
			vh_reply_fail(r, VH_API_TOO_LARGE, "",
				      "the body (%llu bytes) is over the limit of %llu bytes",
				      (unsigned long long)declared, (unsigned long long)max);
			return;
		}
	} else if (r->route->body == VH_BODY_STREAM) {
		if (r->route->stream_begin(r) != 0 && !r->status)
			vh_reply_fail(r, VH_API_INTERNAL, "", "the upload could not start");
	}
}

static void body_chunk(struct vh_req *r, const char *data, size_t n)
{
	r->body_seen += n;
	if (r->status)
		return; /* refused already: the bytes are dropped */
	switch (r->route->body) {
	case VH_BODY_JSON:
		if (r->body_seen > atomic_load(&vh_agent->max_body_bytes)) {
			r->body_too_large = true;
			vh_reply_fail(r, VH_API_TOO_LARGE, "",
				      "the body is over the limit of %llu bytes",
				      (unsigned long long)atomic_load(&vh_agent->max_body_bytes));
			return;
		}
		if (body_append(r, data, n))
			vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory reading the body");
		return;
	case VH_BODY_STREAM:
		if (r->route->stream_data(r, data, n) != 0 && !r->status)
			vh_reply_fail(r, VH_API_INTERNAL, "", "the upload failed");
		return;
	case VH_BODY_NONE:
		if (r->body_seen > atomic_load(&vh_agent->max_body_bytes))
			vh_reply_fail(r, VH_API_TOO_LARGE, "", "this request takes no body");
		return;
	}
}

/* Idempotency-Key on POST: replays, refusals, or ownership of the key. */
static bool idem_start(struct vh_req *r)
{
	const char *key = vh_req_header(r, "Idempotency-Key");
	struct vh_idem_response resp = { 0 };
	uint8_t digest[32];
	size_t n;

	if (r->method != VH_M_POST || !key)
		return false;
	if (r->route->idem_refused) {
		/* Its response holds a secret, shown once and kept nowhere, so
		 * not in the replay cache either.  A retry needs no key there:
		 * names are unique, so a repeated create gets 409. */
		vh_reply_fail(
		    r, VH_API_BAD_REQUEST, "Idempotency-Key",
		    "Idempotency-Key is not accepted on %.40s: its response holds a secret "
		    "that is never kept, so it cannot be replayed; retry without the key "
		    "(a name is unique: 409 if the first went through)",
		    r->route->pattern);
		return true;
	}
	n = strlen(key);
	if (n == 0 || n >= sizeof(r->idem_key)) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "Idempotency-Key",
			      "Idempotency-Key: 1 to %zu characters", sizeof(r->idem_key) - 1);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (key[i] < 0x21 || key[i] > 0x7e) {
			vh_reply_fail(r, VH_API_INVALID_FIELD, "Idempotency-Key",
				      "Idempotency-Key: printable ASCII without spaces only");
			return true;
		}
	}
	snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
	snprintf(r->idem_scope, sizeof(r->idem_scope), "POST %.200s", r->path);
	SHA256((const unsigned char *)(r->body ? r->body : ""), r->body_len, digest);
	switch (vh_idem_begin(vh_agent->idem, r->principal, r->idem_scope, r->idem_key, digest,
			      time(NULL), &resp)) {
	case VH_IDEM_NEW: r->idem_owner = true; return false;
	case VH_IDEM_REPLAY:
		/* The stored type is one of ours: map it back to the static
		 * string, since resp_type is not freed. */
		vh_reply_raw(r, resp.status,
			     strcmp(resp.content_type, "application/problem+json") == 0
				 ? "application/problem+json"
			     : resp.content_type[0] ? "application/json"
						    : NULL,
			     resp.body, resp.len);
		if (resp.location[0])
			vh_reply_header(r, MHD_HTTP_HEADER_LOCATION, resp.location);
		if (resp.etag[0])
			vh_reply_header(r, MHD_HTTP_HEADER_ETAG, resp.etag);
		vh_reply_header(r, "Idempotent-Replayed", "true");
		return true;
	case VH_IDEM_MISMATCH:
		vh_reply_fail(r, VH_API_IDEMPOTENCY_MISMATCH, "Idempotency-Key",
			      "Idempotency-Key \"%.60s\" was used with a different body", key);
		return true;
	case VH_IDEM_BUSY:
		vh_reply_fail(r, VH_API_CONFLICT, "Idempotency-Key",
			      "a request with Idempotency-Key \"%.60s\" is still in progress", key);
		return true;
	}
	return false;
}

static void idem_end(struct vh_req *r)
{
	struct vh_idem_response resp = { 0 };

	if (!r->idem_owner)
		return;
	r->idem_owner = false;
	if (r->status >= 500 || r->status == 0) {
		vh_idem_cancel(vh_agent->idem, r->principal, r->idem_scope, r->idem_key);
		return;
	}
	resp.status = r->status;
	snprintf(resp.content_type, sizeof(resp.content_type), "%s",
		 r->resp_type ? r->resp_type : "");
	for (int i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, MHD_HTTP_HEADER_LOCATION) == 0)
			snprintf(resp.location, sizeof(resp.location), "%s", r->hdrs[i].value);
		else if (strcasecmp(r->hdrs[i].name, MHD_HTTP_HEADER_ETAG) == 0)
			snprintf(resp.etag, sizeof(resp.etag), "%s", r->hdrs[i].value);
	}
	resp.body = r->resp;
	resp.len = r->resp_len;
	vh_idem_finish(vh_agent->idem, r->principal, r->idem_scope, r->idem_key, &resp, time(NULL));
}

static void dispatch(struct vh_req *r)
{
	if (idem_start(r))
		return;
	r->route->handle(r);
	if (!r->status)
		vh_reply_fail(r, VH_API_INTERNAL, "", "the handler gave no response");
	idem_end(r);
}

static enum MHD_Result queue(struct vh_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"",
					       r->resp ? MHD_RESPMEM_MUST_FREE
						       : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->resp = NULL; /* libmicrohttpd frees it with the response */
	if (r->resp_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	for (int i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
	ret = MHD_queue_response(r->mhd, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->queued = true;
	vh_metrics_http_request(r->method, r->status, vh_mono_ns() - r->t0_ns);
	if (r->status >= 500)
		vh_log(VH_LOG_WARNING, "%s %s -> %d (%s)", vh_method_name(r->method), r->path,
		       r->status, r->principal);
	return ret;
}

static uint64_t body_limit(const struct vh_req *r)
{
	return r->route && r->route->body == VH_BODY_STREAM
		   ? atomic_load(&vh_agent->max_image_bytes)
		   : atomic_load(&vh_agent->max_body_bytes);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct vh_req *r = *req_cls;

	(void)cls;
	(void)version;
	if (!r) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct conn *c = ci ? ci->socket_context : NULL;
		uint64_t declared;
		bool known;

		if (!c)
			return MHD_NO;
		vh_hdr_deadline_done(&c->hdr);
		r = &c->req;
		req_reset(r, mc);
		r->t0_ns = vh_mono_ns();
		*req_cls = r;
		begin(c, r, url, method);
		/* A refusal of a body larger than a JSON body may be (an
		 * image, an oversized or unknown-length body) goes out now
		 * and the connection closes, said in the response so that a
		 * client never sends its next request on a connection the
		 * agent is closing.  A small body is read and dropped and the
		 * refusal waits for the last call: the connection stays. */
		if (r->status && has_body(r, &declared, &known) &&
		    (!known || declared > atomic_load(&vh_agent->max_body_bytes))) {
			vh_reply_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
			return queue(r);
		}
		return MHD_YES;
	}
	if (r->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* A body refused midway (over the limit without a
		 * Content-Length, a failed upload) is read to its end and
		 * dropped, so the refusal goes out then: libmicrohttpd 0.9.75
		 * takes no response while a body is arriving, and cutting the
		 * connection would leave the client a reset instead of its
		 * 413.  Dropping keeps no memory, and only a request that
		 * passed the credential and role checks gets here (a refusal
		 * at the headers of a body of unknown or excessive length goes
		 * out at once and closes).  One that went far past the limit
		 * is answered with "Connection: close". */
		if (r->status && r->body_seen > body_limit(r) + DISCARD_SLACK)
			vh_reply_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		return MHD_YES;
	}
	if (!r->status)
		dispatch(r);
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct vh_req *r = *req_cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;

	(void)cls;
	(void)toe;
	if (c) /* a keep-alive connection's next request starts its clock now */
		vh_hdr_deadline_rearm(&c->hdr);
	if (!r)
		return;
	if (r->stream && r->route && r->route->stream_abort)
		r->route->stream_abort(r);
	if (r->idem_owner) {
		vh_idem_cancel(vh_agent->idem, r->principal, r->idem_scope, r->idem_key);
		r->idem_owner = false;
	}
	reply_clear(r);
	*req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn *c = calloc(1, sizeof(*c));
		if (c) {
			c->l = l;
			vh_hdr_deadline_add(&c->hdr, ci ? ci->connect_fd : -1);
		}
		*socket_context = c;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn *c = *socket_context;
		if (c) {
			/* Before libmicrohttpd closes the fd (it may be reused). */
			vh_hdr_deadline_remove(&c->hdr);
			reply_clear(&c->req);
			free(c->req.body);
			free(c);
		}
		*socket_context = NULL;
	}
}

/* libmicrohttpd logs once per event, and some events are the client's to
 * cause as often as it likes ("Server reached connection limit" for every
 * refused connection, about 90 lines a second under a connection flood):
 * at most LOG_BURST of its lines are logged in each LOG_WINDOW_NS, and
 * the number held back is logged with the first line of a later window,
 * so a flood costs the journal a few lines, not a line per connection. */
#define LOG_BURST     20u
#define LOG_WINDOW_NS (10ull * 1000000000ull)

static struct {
	pthread_mutex_t lock;
	uint64_t window_start;
	unsigned in_window;
	unsigned long held_back;
} mhd_log = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void on_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;
	uint64_t now = vh_mono_ns();
	unsigned long held = 0;
	bool emit;

	(void)cls;
	pthread_mutex_lock(&mhd_log.lock);
	if (now - mhd_log.window_start >= LOG_WINDOW_NS) {
		mhd_log.window_start = now;
		mhd_log.in_window = 0;
	}
	emit = mhd_log.in_window < LOG_BURST;
	if (emit) {
		mhd_log.in_window++;
		held = mhd_log.held_back;
		mhd_log.held_back = 0;
	} else {
		mhd_log.held_back++;
	}
	pthread_mutex_unlock(&mhd_log.lock);
	if (!emit)
		return;
	if (held)
		vh_log(VH_LOG_WARNING,
		       "libmicrohttpd: %lu messages held back (more than %u in %llu s)", held,
		       LOG_BURST, LOG_WINDOW_NS / 1000000000ull);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	vh_log(VH_LOG_INFO, "libmicrohttpd: %s", buf);
}

/* ---- listening sockets ------------------------------------------------------- */

static int unix_listen(struct listener *l, const char *path, const char *group, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group gr, *res = NULL;
	char buf[4096];
	int fd;
	mode_t mode = 0660;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "unix_socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket file left by a dead agent is removed; a live one is not. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "unix_socket %s: another agent is listening there", path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	{
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "unix_socket %s: exists and is not a socket",
					 path);
				return -1;
			}
			unlink(path);
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "unix_socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->unlink_path = true;
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (group[0] && getgrnam_r(group, &gr, buf, sizeof(buf), &res) == 0 && res) {
		if (chown(path, (uid_t)-1, res->gr_gid) != 0)
			vh_log(VH_LOG_WARNING, "unix_socket %s: chown to group %s: %s", path, group,
			       strerror(errno));
	} else {
		mode = 0600; /* no group to share with: owner only */
	}
	if (chmod(path, mode) != 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "unix_socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

static int tcp_listen(const char *what, const char *spec, bool loopback_only, char *err,
		      size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[128], port_s[8];
	uint16_t port;
	bool enabled;
	int fd, one = 1, zero = 0, rc;

	if (vh_agent_config_parse_listen(spec, &enabled, host, sizeof(host), &port, err, errlen))
		return -1;
	if (!enabled)
		return -2;
	snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
	rc = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "%s %s: %s", what, spec, gai_strerror(rc));
		return -1;
	}
	if (loopback_only && !loopback(ai->ai_addr)) {
		snprintf(
		    err, errlen,
		    "%s %s: plain HTTP is only allowed on a loopback address (127.0.0.0/8 or ::1); "
		    "use https_listen for other addresses",
		    what, spec);
		freeaddrinfo(ai);
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6) /* [::] serves IPv4 too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* A priority string GnuTLS refuses is a start-up error naming where it
 * goes wrong, rather than libmicrohttpd's bare refusal to start. */
static int tls_priorities_check(const char *prio, char *err, size_t errlen)
{
	gnutls_priority_t p;
	const char *at = NULL;
	int rc = gnutls_priority_init(&p, prio, &at);

	if (rc != GNUTLS_E_SUCCESS) {
		snprintf(err, errlen, "tls_priorities \"%.120s\": %s at \"%.40s\"", prio,
			 gnutls_strerror(rc), at ? at : "");
		return -1;
	}
	gnutls_priority_deinit(p);
	return 0;
}

static int daemon_start(struct listener *l, const struct vh_agent_config *cfg, char *err,
			size_t errlen)
{
	/* Not MHD_USE_TURBO: with it, libmicrohttpd 0.9.75 leaves a connection
	 * it timed out in CLOSE-WAIT once the client closes, its worker
	 * spinning on it for good. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads ? cfg->threads : 4;
	struct MHD_OptionItem tls_ops[6];
	int n = 0;

	if (l->kind == L_HTTPS) {
		if (tls_priorities_check(cfg->tls_priorities, err, errlen))
			return -1;
		flags |= MHD_USE_TLS;
		tls_ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
							(void *)cfg->tls_priorities };
		tls_ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem };
		tls_ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem };
		if (l->ca_pem)
			tls_ops[n++] =
			    (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, l->ca_pem };
	}
	tls_ops[n++] =
	    (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     l->kind == L_UNIX ? 0 : cfg->max_connections_per_ip, NULL };
	tls_ops[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	l->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_log,
	    l, /* first, or it misses messages */
	    MHD_OPTION_LISTEN_SOCKET, l->fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 256u,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, l, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_ARRAY, tls_ops,
	    MHD_OPTION_END);
	if (!l->d) {
		snprintf(err, errlen, "libmicrohttpd would not start the %s listener",
			 l->kind == L_UNIX    ? "unix socket"
			 : l->kind == L_HTTPS ? "HTTPS"
					      : "HTTP");
		return -1;
	}
	return 0;
}

static int tls_material(struct listener *l, const struct vh_agent_config *cfg, char *err,
			size_t errlen)
{
	char cert[512], key[512], fp[128] = "";
	int made = 0;

	if (cfg->tls_cert[0] || cfg->tls_key[0]) {
		if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
			snprintf(err, errlen, "tls_cert and tls_key must be set together");
			return -1;
		}
		snprintf(cert, sizeof(cert), "%s", cfg->tls_cert);
		snprintf(key, sizeof(key), "%s", cfg->tls_key);
	} else {
		char dir[400];
		snprintf(dir, sizeof(dir), "%s/tls", cfg->state_dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
		snprintf(key, sizeof(key), "%s/key.pem", dir);
		made = vh_tls_ensure_self_signed(cert, key, err, errlen);
		if (made < 0)
			return -1;
	}
	if (!(l->cert_pem = vh_tls_read_pem(cert, err, errlen)) ||
	    !(l->key_pem = vh_tls_read_pem(key, err, errlen)))
		return -1;
	if (cfg->tls_client_ca[0]) {
		if (!(l->ca_pem = vh_tls_read_pem(cfg->tls_client_ca, err, errlen)))
			return -1;
		l->client_ca = true;
	}
	vh_tls_fingerprint(cert, fp, sizeof(fp));
	vh_log(VH_LOG_INFO, "TLS certificate %s%s (SHA-256 %s)", cert,
	       made == 1   ? ", made now (self-signed)"
	       : made == 2 ? ", made anew for the same key (near its end, or an older agent's CA)"
			   : "",
	       fp);
	return 0;
}

/* A socket-activated fd, non-blocking as libmicrohttpd's pool wants. */
static int sd_fd(const char *name)
{
	int fd = vh_sd_listen_fd(name);

	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int vh_http_start(const struct vh_agent_config *cfg, char *err, size_t errlen)
{
	bool sd_https;
	int fd;

	if (!(vh_agent->idem = vh_idem_new(IDEM_MAX_KEYS, IDEM_TTL_S))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (vh_hdr_deadline_start(cfg->request_header_timeout_s)) {
		snprintf(err, errlen, "could not start the request-header deadline thread");
		goto fail;
	}
	/* Sockets systemd passed us first (socket activation), then our own. */
	if ((fd = sd_fd("unix")) >= 0 ||
	    (strcmp(cfg->unix_socket, "none") != 0 && cfg->unix_socket[0] &&
	     (fd = unix_listen(&listeners[nlisteners], cfg->unix_socket, cfg->socket_group, err,
			       errlen)) >= 0)) {
		listeners[nlisteners].kind = L_UNIX;
		listeners[nlisteners].fd = fd;
		if (daemon_start(&listeners[nlisteners], cfg, err, errlen))
			goto fail;
		vh_log(VH_LOG_INFO, "serving the unix socket %s",
		       listeners[nlisteners].unlink_path ? cfg->unix_socket : "systemd passed");
		nlisteners++;
	} else if (strcmp(cfg->unix_socket, "none") != 0 && cfg->unix_socket[0]) {
		goto fail;
	}

	fd = sd_fd("https");
	sd_https = fd >= 0;
	if (fd < 0)
		fd = tcp_listen("https_listen", cfg->https_listen, false, err, errlen);
	if (fd == -1)
		goto fail;
	if (fd >= 0) {
		struct listener *l = &listeners[nlisteners];
		l->kind = L_HTTPS;
		l->fd = fd;
		if (tls_material(l, cfg, err, errlen) || daemon_start(l, cfg, err, errlen)) {
			close(fd);
			goto fail;
		}
		vh_log(VH_LOG_INFO, "serving HTTPS on %s%s",
		       sd_https ? "the socket systemd passed" : cfg->https_listen,
		       l->client_ca ? " (client certificates checked)" : "");
		nlisteners++;
	}

	fd = tcp_listen("http_listen", cfg->http_listen, true, err, errlen);
	if (fd == -1)
		goto fail;
	if (fd >= 0) {
		struct listener *l = &listeners[nlisteners];
		l->kind = L_HTTP;
		l->fd = fd;
		if (daemon_start(l, cfg, err, errlen)) {
			close(fd);
			goto fail;
		}
		vh_log(VH_LOG_INFO, "serving plain HTTP on %s (loopback only)", cfg->http_listen);
		nlisteners++;
	}
	if (nlisteners == 0) {
		snprintf(err, errlen,
			 "no listener configured (unix_socket, https_listen and http_listen are "
			 "all off)");
		goto fail;
	}
	return 0;
fail:
	vh_http_stop();
	return -1;
}

void vh_http_stop(void)
{
	for (int i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];

		if (l->d)
			MHD_stop_daemon(l->d);
		l->d = NULL;
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		if (l->unlink_path)
			unlink(l->path);
		free(l->key_pem);
		free(l->cert_pem);
		free(l->ca_pem);
		l->key_pem = l->cert_pem = l->ca_pem = NULL;
	}
	nlisteners = 0;
	vh_hdr_deadline_stop();
	vh_idem_free(vh_agent->idem);
	vh_agent->idem = NULL;
}
