/* SPDX-License-Identifier: Apache-2.0 */
/* The connection to vhagent: settings resolved in layers (config file,
 * then VH_URL/VH_TOKEN/VH_CACERT/VH_CERT/VH_KEY, then flags), one
 * libcurl handle reused for every request so that `top` and `--watch`
 * keep one connection alive, and the API's problem details (RFC 9457)
 * turned into a message and an exit code. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/vhctl.h"
#include "config.h"

/* The largest answer vhctl accepts: a list of 1000 VMs is ~1 MB. */
#define MAX_BODY (64u << 20)

/* ---- settings -------------------------------------------------------------- */

static int take(char **dst, const char *val)
{
	if (!val || !*val)
		return 0;
	free(*dst);
	return (*dst = strdup(val)) ? 0 : -1;
}

static int layer(struct vhctl_settings *s, const char *url, const char *token, const char *cacert,
		 const char *cert, const char *key)
{
	return take(&s->url, url) | take(&s->token, token) | take(&s->cacert, cacert) |
	       take(&s->cert, cert) | take(&s->key, key);
}

/* unix:///path -> the socket and http://localhost; http(s)://... as is. */
static int parse_url(struct vhctl *c)
{
	const char *u = c->eff.url;
	size_t n;

	if (!strncmp(u, "unix://", 7)) {
		if (u[7] != '/' || !u[8]) {
			fprintf(stderr,
				"vhctl: url \"%s\": a unix socket URL is unix:///absolute/path\n",
				u);
			return VHCTL_USAGE;
		}
		if (!(c->unix_path = strdup(u + 7)) || !(c->base = strdup("http://localhost")))
			return VHCTL_ERROR;
		return 0;
	}
	if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7)) {
		fprintf(
		    stderr,
		    "vhctl: url \"%s\": expected unix:///run/vh/agent.sock or https://host:8443\n",
		    u);
		return VHCTL_USAGE;
	}
	if (!(c->base = strdup(u)))
		return VHCTL_ERROR;
	n = strlen(c->base);
	while (n > 8 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	return 0;
}

int vhctl_connect(struct vhctl *c)
{
	char *path;
	int rc;

	if (c->resolved)
		return 0;
	if ((path = vhctl_config_path())) {
		rc = vhctl_config_load(path, &c->eff);
		free(path);
		if (rc)
			return rc;
	}
	if (layer(&c->eff, getenv("VH_URL"), getenv("VH_TOKEN"), getenv("VH_CACERT"),
		  getenv("VH_CERT"), getenv("VH_KEY")) ||
	    layer(&c->eff, c->flags.url, c->flags.token, c->flags.cacert, c->flags.cert,
		  c->flags.key) ||
	    (!c->eff.url && !(c->eff.url = strdup(VHCTL_DEFAULT_URL)))) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	if ((rc = parse_url(c)))
		return rc;
	/* It goes into a header line: a line break would end the header. */
	for (const char *t = c->eff.token; t && *t; t++) {
		if ((unsigned char)*t < 0x20 || *t == 0x7f) {
			fprintf(stderr, "vhctl: the token holds a control character\n");
			return VHCTL_USAGE;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c->curl = curl_easy_init())) {
		fprintf(stderr, "vhctl: cannot initialise libcurl\n");
		return VHCTL_ERROR;
	}
	c->resolved = true;
	return 0;
}

void vhctl_close(struct vhctl *c)
{
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	c->curl = NULL;
	vhctl_settings_free(&c->eff);
	free(c->unix_path);
	free(c->base);
	c->unix_path = c->base = NULL;
	c->resolved = false;
}

/* ---- one request ------------------------------------------------------------ */

struct xfer {
	struct vhctl_resp *resp;
	size_t cap;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct vhctl_resp *r = x->resp;
	size_t n = size * nmemb;

	if (r->len + n + 1 > MAX_BODY) {
		x->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		char *nb;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (!(nb = realloc(r->body, cap)))
			return 0;
		r->body = nb;
		x->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Keeps the headers the commands need: ETag (for If-Match), Location,
 * Content-Type (a problem or not). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} keep[] = {
		{ "etag", offsetof(struct vhctl_resp, etag),
		  sizeof(((struct vhctl_resp *)0)->etag) },
		{ "location", offsetof(struct vhctl_resp, location),
		  sizeof(((struct vhctl_resp *)0)->location) },
		{ "content-type", offsetof(struct vhctl_resp, content_type),
		  sizeof(((struct vhctl_resp *)0)->content_type) },
	};
	struct xfer *x = ud;
	size_t n = size * nmemb;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t kl = strlen(keep[i].name), vl;
		const char *v;
		char *dst;

		if (n <= kl || data[kl] != ':' || strncasecmp(data, keep[i].name, kl))
			continue;
		v = data + kl + 1;
		vl = n - kl - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		dst = (char *)x->resp + keep[i].off;
		if (vl >= keep[i].cap)
			vl = keep[i].cap - 1;
		memcpy(dst, v, vl);
		dst[vl] = '\0';
	}
	return n;
}

static bool connect_error(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL: return true;
	default: return false;
	}
}

/* Why a connection failed, in terms of what the user can fix. */
static int report_curl(struct vhctl *c, CURLcode e, const char *errbuf, const struct xfer *x)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(e);
	struct stat st;

	if (x->too_big) {
		fprintf(stderr, "vhctl: the agent's answer is over %u MiB\n", MAX_BODY >> 20);
		return VHCTL_ERROR;
	}
	if (c->unix_path && e == CURLE_COULDNT_CONNECT) {
		if (stat(c->unix_path, &st) != 0)
			fprintf(stderr, "vhctl: cannot connect to %s: %s (is vhagent running?)\n",
				c->eff.url, strerror(errno));
		else if (!S_ISSOCK(st.st_mode))
			fprintf(stderr, "vhctl: cannot connect to %s: not a socket\n", c->eff.url);
		else if (access(c->unix_path, W_OK) != 0)
			fprintf(
			    stderr,
			    "vhctl: cannot connect to %s: permission denied (root and the vh group "
			    "may use the agent's socket)\n",
			    c->eff.url);
		else
			fprintf(
			    stderr,
			    "vhctl: cannot connect to %s: nothing listens (is vhagent running?)\n",
			    c->eff.url);
		return VHCTL_CONNECT;
	}
	if (e == CURLE_URL_MALFORMAT) {
		fprintf(stderr, "vhctl: url \"%s\": %s\n", c->eff.url, why);
		return VHCTL_USAGE;
	}
	fprintf(stderr, "vhctl: %s %s: %s\n", connect_error(e) ? "cannot connect to" : "request to",
		c->eff.url, why);
	return connect_error(e) ? VHCTL_CONNECT : VHCTL_ERROR;
}

/* The options every request shares. */
static struct curl_slist *setup(struct vhctl *c, const char *method, const char *path,
				struct xfer *x, char *errbuf, const char *content_type,
				const char *if_match)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL, *t;
	char *url = NULL, *line = NULL;

	curl_easy_reset(h); /* keeps the connection cache */
	if (asprintf(&url, "%s%s", c->base, path) < 0)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url); /* libcurl copies strings */
	/* ".." in a name must reach the agent as typed, not be resolved. */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A stalled agent must not hang a script forever. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	if (c->eff.cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->eff.cacert);
	if (c->eff.cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->eff.cert);
	if (c->eff.key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->eff.key);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vhctl/" PACKAGE_VERSION);

	if (!(t = curl_slist_append(hdrs, "Accept: application/json, application/problem+json")))
		goto oom;
	hdrs = t;
	if (content_type) {
		if (asprintf(&line, "Content-Type: %s", content_type) < 0 ||
		    !(t = curl_slist_append(hdrs, line)))
			goto oom;
		hdrs = t;
		free(line);
		line = NULL;
	}
	if (if_match) {
		if (asprintf(&line, "If-Match: %s", if_match) < 0 ||
		    !(t = curl_slist_append(hdrs, line)))
			goto oom;
		hdrs = t;
		free(line);
		line = NULL;
	}
	if (c->eff.token) {
		if (asprintf(&line, "Authorization: Bearer %s", c->eff.token) < 0 ||
		    !(t = curl_slist_append(hdrs, line)))
			goto oom;
		hdrs = t;
		explicit_bzero(line, strlen(line));
		free(line);
		line = NULL;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	return hdrs;
oom:
	free(line);
	curl_slist_free_all(hdrs);
	return NULL;
}

static int perform(struct vhctl *c, struct curl_slist *hdrs, struct xfer *x, char *errbuf)
{
	CURLcode e = curl_easy_perform(c->curl);

	curl_slist_free_all(hdrs);
	if (e != CURLE_OK) {
		vhctl_resp_free(x->resp);
		return report_curl(c, e, errbuf, x);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (!x->resp->body && !(x->resp->body = calloc(1, 1))) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	return 0;
}

int vhctl_request(struct vhctl *c, const char *method, const char *path, struct json_object *body,
		  const char *if_match, struct vhctl_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = { .resp = resp };
	struct curl_slist *hdrs;
	const char *text = NULL;
	size_t len = 0;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if ((rc = vhctl_connect(c)))
		return rc;
	if (body && !(text = json_object_to_json_string_length(
			  body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len))) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	/* Every request that changes something says application/json, a
	 * body-less one (reset, DELETE) too: the agent refuses any other
	 * (415), so that no browser can send it cross-site. */
	if (!(hdrs = setup(c, method, path, &x, errbuf,
			   body || strcmp(method, "GET") ? "application/json" : NULL, if_match))) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	if (body || !strcmp(method, "POST")) {
		/* A POST without a body (reset) still says it has none. */
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c->curl, CURLOPT_COPYPOSTFIELDS, text ? text : "");
	}
	return perform(c, hdrs, &x, errbuf);
}

/* The progress bar of an upload on a terminal: one line on stderr,
 * redrawn when the percentage moves, ended by a newline. */
struct progress {
	const char *label;
	int shown; /* the last percentage drawn, -1 none */
};

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct progress *pr = ud;
	char bar[41];
	int pct, fill;

	(void)dltotal;
	(void)dlnow;
	if (ultotal <= 0)
		return 0;
	pct = (int)(ulnow * 100 / ultotal);
	if (pct == pr->shown)
		return 0;
	pr->shown = pct;
	fill = pct * 40 / 100;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(40 - fill));
	bar[40] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MiB", pr->label, bar, pct,
		(double)ulnow / 1048576.0, (double)ultotal / 1048576.0);
	fflush(stderr);
	return 0;
}

int vhctl_upload(struct vhctl *c, const char *path, FILE *f, uint64_t size, const char *progress,
		 struct vhctl_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = { .resp = resp };
	struct progress pr = { progress, -1 };
	struct curl_slist *hdrs;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if ((rc = vhctl_connect(c)))
		return rc;
	if (!(hdrs = setup(c, "PUT", path, &x, errbuf, "application/octet-stream", NULL))) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, f);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	/* A bar only for a person watching: never into a pipe or a file. */
	if (progress && isatty(STDERR_FILENO)) {
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &pr);
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	}
	rc = perform(c, hdrs, &x, errbuf);
	if (pr.shown >= 0) {
		fputc('\n', stderr);
		/* The handle is kept for the next request: no bar there. */
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
	}
	return rc;
}

/* A streamed answer: a 2xx body goes to the sink as it comes, any
 * other (a problem) is kept in the response as usual. */
struct stream_xfer {
	struct xfer x; /* first: on_header takes it */
	vhctl_sink_fn sink;
	void *ctx;
	CURL *h;
};

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ud)
{
	struct stream_xfer *sx = ud;
	long status = 0;

	curl_easy_getinfo(sx->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return on_body(data, size, nmemb, &sx->x);
	return sx->sink(sx->ctx, data, size * nmemb) ? 0 : size * nmemb;
}

int vhctl_stream(struct vhctl *c, const char *path, const char *header, vhctl_sink_fn sink,
		 void *ctx, struct vhctl_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct stream_xfer sx = { .x = { .resp = resp }, .sink = sink, .ctx = ctx };
	struct curl_slist *hdrs, *t;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if ((rc = vhctl_connect(c)))
		return rc;
	if (!(hdrs = setup(c, "GET", path, &sx.x, errbuf, NULL, NULL)) ||
	    (header && !(t = curl_slist_append(hdrs, header)))) {
		curl_slist_free_all(hdrs);
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	if (header)
		hdrs = t;
	sx.h = c->curl;
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sx);
	/* A followed console may be silent for hours: no stall timeout. */
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 0L);
	return perform(c, hdrs, &sx.x, errbuf);
}

void vhctl_resp_free(struct vhctl_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

/* ---- problems --------------------------------------------------------------- */

int vhctl_exit_of(enum vh_api_code code, long status)
{
	/* By the stable code, which the status only summarizes. */
	static const unsigned char by_code[VH_API_CODE_COUNT] = {
		[VH_API_OK] = VHCTL_OK,
		[VH_API_BAD_JSON] = VHCTL_USAGE,
		[VH_API_INVALID_FIELD] = VHCTL_USAGE,
		[VH_API_MISSING_FIELD] = VHCTL_USAGE,
		[VH_API_NOT_FOUND] = VHCTL_NOT_FOUND,
		[VH_API_METHOD_NOT_ALLOWED] = VHCTL_ERROR,
		[VH_API_CONFLICT] = VHCTL_CONFLICT,
		[VH_API_ADMISSION] = VHCTL_CONFLICT,
		[VH_API_PRECONDITION] = VHCTL_CONFLICT,
		[VH_API_PRECONDITION_REQUIRED] = VHCTL_CONFLICT,
		[VH_API_TOO_LARGE] = VHCTL_USAGE,
		[VH_API_UNSUPPORTED_MEDIA] = VHCTL_USAGE,
		[VH_API_UNAUTHORIZED] = VHCTL_AUTH,
		[VH_API_FORBIDDEN] = VHCTL_AUTH,
		[VH_API_LIMIT] = VHCTL_CONFLICT,
		[VH_API_BUSY] = VHCTL_ERROR,
		[VH_API_UNAVAILABLE] = VHCTL_ERROR,
		[VH_API_CHECKSUM] = VHCTL_USAGE,
		[VH_API_INTERNAL] = VHCTL_ERROR,
		[VH_API_IDEMPOTENCY_MISMATCH] = VHCTL_USAGE,
		[VH_API_TOO_MANY_REQUESTS] = VHCTL_ERROR,
		[VH_API_BAD_REQUEST] = VHCTL_USAGE,
		[VH_API_INSUFFICIENT_STORAGE] = VHCTL_ERROR,
		[VH_API_TIMEOUT] = VHCTL_ERROR,
		[VH_API_SIMULATION_TIMEOUT] = VHCTL_ERROR,
	};

	if ((unsigned)code < VH_API_CODE_COUNT)
		return by_code[code];
	if (status >= 200 && status < 300)
		return VHCTL_OK;
	switch (status) {
	case 401:
	case 403: return VHCTL_AUTH;
	case 404: return VHCTL_NOT_FOUND;
	case 409:
	case 412:
	case 428: return VHCTL_CONFLICT;
	case 400:
	case 413:
	case 415:
	case 422: return VHCTL_USAGE;
	default: return VHCTL_ERROR;
	}
}

int vhctl_problem(struct vhctl *c, const struct vhctl_resp *resp)
{
	struct json_object *o = NULL;
	enum vh_api_code code = VH_API_CODE_COUNT;
	struct vh_api_problem p;

	c->last_code = VH_API_CODE_COUNT;
	c->last_field[0] = '\0';
	if (resp->body && resp->len && vh_api_parse(resp->body, resp->len, &o, &p) == 0 &&
	    json_object_is_type(o, json_type_object)) {
		const char *name = vhctl_jstr(o, "code");
		const char *detail = vhctl_jstr(o, "detail");
		const char *field = vhctl_jstr(o, "field");

		if (!*detail)
			detail = vhctl_jstr(o, "title");
		if (*name) {
			code = vh_api_code_from_name(name);
			c->last_code = code;
			snprintf(c->last_field, sizeof(c->last_field), "%s", field);
			if (*field)
				fprintf(stderr, "vhctl: %s (code %s, field %s)\n", detail, name,
					field);
			else
				fprintf(stderr, "vhctl: %s (code %s)\n", detail, name);
			json_object_put(o);
			return vhctl_exit_of(code, resp->status);
		}
	}
	json_object_put(o);
	/* Not a problem document (a proxy in between, or a bug): the status
	 * and the start of the body are all there is. */
	{
		size_t n = resp->body ? strcspn(resp->body, "\r\n") : 0;
		fprintf(stderr, "vhctl: HTTP %ld from the agent%s%.*s\n", resp->status,
			n ? ": " : "", (int)(n > 200 ? 200 : n), resp->body ? resp->body : "");
	}
	return vhctl_exit_of(code, resp->status);
}

int vhctl_call(struct vhctl *c, const char *method, const char *path, struct json_object *body,
	       const char *if_match, struct json_object **out, char *etag, size_t etagcap)
{
	struct vhctl_resp r;
	struct vh_api_problem p;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = vhctl_request(c, method, path, body, if_match, &r)))
		return rc;
	if (r.status < 200 || r.status >= 300) {
		rc = vhctl_problem(c, &r);
		vhctl_resp_free(&r);
		return rc;
	}
	if (etag && etagcap)
		snprintf(etag, etagcap, "%s", r.etag);
	if (out && r.len && vh_api_parse(r.body, r.len, out, &p)) {
		fprintf(stderr, "vhctl: the agent's answer to %s %s is not JSON: %s\n", method,
			path, p.detail);
		rc = VHCTL_ERROR;
	}
	vhctl_resp_free(&r);
	return rc;
}

char *vhctl_escape(const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(seg);
	char *esc = malloc(n * 3 + 1), *q = esc;

	if (!esc)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)seg; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_' || *s == '~') {
			*q++ = (char)*s;
		} else {
			*q++ = '%';
			*q++ = hex[*s >> 4];
			*q++ = hex[*s & 15];
		}
	}
	*q = '\0';
	return esc;
}

char *vhctl_path(const char *prefix, const char *seg, const char *suffix)
{
	char *esc = vhctl_escape(seg), *out = NULL;

	if (!esc || asprintf(&out, "%s%s%s", prefix, esc, suffix ? suffix : "") < 0) {
		/* A command line tool has nothing better to do. */
		fprintf(stderr, "vhctl: out of memory\n");
		exit(VHCTL_ERROR);
	}
	free(esc);
	return out;
}
