/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP conventions end to end: 404 and 405 with Allow, 413, 415, 431,
 * problem+json, HEAD, keep-alive, Idempotency-Key, slow and half-open
 * clients; credentials and roles over HTTPS; images. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "e2e.h"
#include "vh_test.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

VH_TEST(http, not_found_and_method_not_allowed)
{
	struct e2e_resp r;

	e2e_env();
	e2e_call(&r, "GET", "/v1/nothing", NULL);
	e2e_expect_problem(&r, 404, "not_found", NULL);
	VH_EXPECT_STREQ(e2e_str(r.json, "instance"), "/v1/nothing");
	VH_EXPECT(e2e_str(r.json, "type") != NULL && e2e_str(r.json, "title") != NULL &&
		  e2e_str(r.json, "detail") != NULL);
	e2e_resp_free(&r);
	e2e_call_expect_problem("GET", "/v1/vms/", NULL, 404, "not_found", NULL);
	e2e_call(&r, "DELETE", "/v1/host", NULL);
	e2e_expect_problem(&r, 405, "method_not_allowed", NULL);
	VH_EXPECT_STREQ(r.allow, "GET, HEAD");
	e2e_resp_free(&r);
	e2e_call(&r, "PUT", "/v1/vms", "{}");
	e2e_expect_problem(&r, 405, "method_not_allowed", NULL);
	VH_EXPECT_STREQ(r.allow, "GET, HEAD, POST");
	e2e_resp_free(&r);
	e2e_call(&r, "OPTIONS", "/v1/vms/x", NULL);
	e2e_expect_problem(&r, 405, "method_not_allowed", NULL);
	VH_EXPECT_STREQ(r.allow, "GET, HEAD, PATCH, DELETE");
	e2e_resp_free(&r);
	/* HEAD is GET without the body. */
	VH_EXPECT_EQ(e2e_call(&r, "HEAD", "/v1/host", NULL), 200L);
	VH_EXPECT_EQ(r.len, (size_t)0);
	e2e_resp_free(&r);
}

VH_TEST(http, body_limits_and_media_type)
{
	const char *octet[] = { "Content-Type: text/plain", NULL };
	size_t big = 70000; /* the e2e agent runs with max_body_bytes 65536 */
	char *body = malloc(big + 1);
	struct e2e_resp r;

	e2e_env();
	VH_ASSERT(body != NULL);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	body[big] = '\0';
	e2e_call_expect_problem("POST", "/v1/vms", body, 413, "too_large", NULL);
	/* Without a Content-Length (chunked) the limit holds as the body
	 * arrives, and the refusal comes at its end. */
	{
		const char *chunked[] = { "Transfer-Encoding: chunked", NULL };
		e2e_req(&r, E2E_UNIX, NULL, "POST", "/v1/vms", body, chunked);
		e2e_expect_problem(&r, 413, "too_large", NULL);
		e2e_resp_free(&r);
	}
	free(body);
	/* Far past the limit (4 MiB chunked against 64 KiB): still a 413,
	 * never a reset, over the unix socket and over HTTPS. */
	big = 4u << 20;
	body = malloc(big + 1);
	VH_ASSERT(body != NULL);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	body[big] = '\0';
	{
		const struct e2e_env *env = e2e_env();
		const char *chunked[] = { "Transfer-Encoding: chunked", NULL };
		VH_EXPECT_EQ(e2e_req(&r, E2E_UNIX, NULL, "POST", "/v1/vms", body, chunked), 413L);
		e2e_expect_problem(&r, 413, "too_large", NULL);
		e2e_resp_free(&r);
		VH_EXPECT_EQ(
		    e2e_req(&r, E2E_HTTPS, env->operator_token, "POST", "/v1/vms", body, chunked),
		    413L);
		e2e_expect_problem(&r, 413, "too_large", NULL);
		e2e_resp_free(&r);
	}
	free(body);
	e2e_req(&r, E2E_UNIX, NULL, "POST", "/v1/vms", "{\"name\":\"mt1\"}", octet);
	e2e_expect_problem(&r, 415, "unsupported_media_type", NULL);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/vms/mt1", NULL), 404L);
	e2e_resp_free(&r);
	/* merge-patch+json is JSON too. */
	{
		const char *mp[] = { "Content-Type: application/merge-patch+json", NULL };
		e2e_define("mt2", "");
		VH_EXPECT_EQ(e2e_req(&r, E2E_UNIX, NULL, "PATCH", "/v1/vms/mt2",
				     "{\"cpu\":{\"shares\":\"low\"}}", mp),
			     200L);
		e2e_resp_free(&r);
		e2e_destroy("mt2");
	}
}

/* What a browser sends cross-site without a preflight (no body, or
 * text/plain or a form encoding) is refused on every state-changing
 * route with 415, before anything happens; application/json passes. */
VH_TEST(http, state_changing_requests_need_json)
{
	static const struct {
		const char *method, *path, *ctype, *body;
	} simple[] = {
		{ "POST", "/v1/vms/ct1/reset", "Content-Type:", NULL },
		{ "POST", "/v1/vms/ct1/reset", "Content-Type: text/plain", "{}" },
		{ "POST", "/v1/vms/ct1/reset", "Content-Type: application/x-www-form-urlencoded",
		  "a=b" },
		{ "POST", "/v1/vms/ct1/reset", "Content-Type: multipart/form-data; boundary=x",
		  "--x--" },
		{ "POST", "/v1/vms", "Content-Type: text/plain",
		  "{\"name\":\"ct2\",\"memory_mib\":16}" },
		{ "PUT", "/v1/vms/ct1/cpu", "Content-Type: text/plain", "{\"shares\":\"low\"}" },
		{ "PATCH", "/v1/vms/ct1", "Content-Type:", "{\"cpu\":{\"shares\":\"low\"}}" },
		{ "DELETE", "/v1/vms/ct1", "Content-Type:", NULL },
		{ "DELETE", "/v1/vms/ct1?force=true", "Content-Type: text/plain", NULL },
		{ "PUT", "/v1/images/ct.elf", "Content-Type: text/plain",
		  "\x7f"
		  "ELF" },
	};
	struct e2e_resp r;

	e2e_env();
	e2e_define("ct1", "");
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/ct1/power", "{\"state\":\"running\"}"), 200L);
	e2e_resp_free(&r);
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		const char *h[] = { simple[i].ctype, NULL };

		e2e_req(&r, E2E_UNIX, NULL, simple[i].method, simple[i].path, simple[i].body, h);
		e2e_expect_problem(&r, 415, "unsupported_media_type", "Content-Type");
		if (r.code != 415)
			fprintf(stderr, "  request %zu: %s %s (%s)\n", i, simple[i].method,
				simple[i].path, simple[i].ctype);
		e2e_resp_free(&r);
	}
	/* Nothing happened: still running, never reset, shares unchanged,
	 * nothing defined, no image. */
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/ct1", NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "state"), "running");
	VH_EXPECT_EQ(e2e_int(r.json, "boot_generation"), 1);
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "normal");
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/vms/ct2", NULL), 404L);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/images/ct.elf", NULL), 404L);
	e2e_resp_free(&r);
	/* A body-less POST with application/json goes through. */
	{
		const char *json[] = { "Content-Type: application/json", NULL };
		VH_EXPECT_EQ(e2e_req(&r, E2E_UNIX, NULL, "POST", "/v1/vms/ct1/reset", NULL, json),
			     200L);
		VH_EXPECT_EQ(e2e_int(r.json, "boot_generation"), 2);
		e2e_resp_free(&r);
	}
	e2e_destroy("ct1");
}

VH_TEST(http, oversized_headers_are_refused)
{
	size_t n = 80000;
	char *hdr = malloc(n + 16);
	const char *h[2] = { hdr, NULL };
	struct e2e_resp r;
	long code;

	e2e_env();
	VH_ASSERT(hdr != NULL);
	memcpy(hdr, "X-Big: ", 7);
	memset(hdr + 7, 'a', n);
	hdr[7 + n] = '\0';
	code = e2e_req(&r, E2E_UNIX, NULL, "GET", "/v1/host", NULL, h);
	/* libmicrohttpd answers 431 (or closes the connection) rather than
	 * let one client's headers take the memory of others. */
	VH_EXPECT(code == 431 || code == 0 || code == 413);
	e2e_resp_free(&r);
	free(hdr);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/host", NULL), 200L);
	e2e_resp_free(&r);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

VH_TEST(http, keep_alive_connections_are_reused)
{
	static const struct {
		const char *method, *path, *body;
	} reqs[] = {
		{ "GET", "/v1/host", NULL },
		{ "GET", "/v1/host", NULL },
		{ "GET", "/v1/vms/nosuch", NULL },
		{ "GET", "/v1/host", NULL },
		{ "GET", "/v1/nothing", NULL },
		{ "GET", "/healthz", NULL },
		/* Refusals of small bodies: read, dropped, connection kept. */
		{ "PUT", "/v1/vms", "{}" },
		{ "OPTIONS", "/v1/vms/x", NULL },
		{ "POST", "/v1/vms", "{\"x\":1}" },
		{ "POST", "/v1/host", "{}" },
		{ "GET", "/v1/host", NULL },
	};
	const struct e2e_env *env = e2e_env();
	CURL *h = curl_easy_init();

	/* Responses queued on the handler's first call would lose
	 * keep-alive (libmicrohttpd 0.9.75): every one, refusals included,
	 * must leave the connection open. */
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, env->agent_sock);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char url[128];
		long connects = -1;

		snprintf(url, sizeof(url), "http://localhost%s", reqs[i].path);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, reqs[i].method);
		curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
		if (reqs[i].body)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, reqs[i].body);
		else
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		VH_ASSERT_EQ((int)curl_easy_perform(h), (int)CURLE_OK);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
		VH_EXPECT_EQ(connects, i == 0 ? 1L : 0L);
		if (connects != (i == 0 ? 1L : 0L))
			fprintf(stderr, "  request %zu: %s %s\n", i, reqs[i].method, reqs[i].path);
	}
	curl_easy_cleanup(h);
}

VH_TEST(http, idempotency_key_replays_the_first_response)
{
	const char *k1[] = { "Idempotency-Key: e2e-key-1", NULL };
	const char *bad[] = { "Idempotency-Key: has space", NULL };
	struct e2e_resp a, b, c;

	e2e_env();
	VH_ASSERT_EQ(e2e_req(&a, E2E_UNIX, NULL, "POST", "/v1/vms",
			     "{\"name\":\"idem1\",\"memory_mib\":16}", k1),
		     201L);
	VH_ASSERT_EQ(e2e_req(&b, E2E_UNIX, NULL, "POST", "/v1/vms",
			     "{\"name\":\"idem1\",\"memory_mib\":16}", k1),
		     201L);
	VH_EXPECT_STREQ(b.location, a.location);
	VH_EXPECT_STREQ(b.etag, a.etag);
	VH_EXPECT_STREQ(b.replayed, "true");
	VH_EXPECT_STREQ(e2e_str(b.json, "uuid"), e2e_str(a.json, "uuid"));
	/* The same key with another body. */
	e2e_req(&c, E2E_UNIX, NULL, "POST", "/v1/vms", "{\"name\":\"idem2\",\"memory_mib\":16}",
		k1);
	e2e_expect_problem(&c, 422, "idempotency_mismatch", "Idempotency-Key");
	e2e_resp_free(&c);
	VH_EXPECT_EQ(e2e_call(&c, "GET", "/v1/vms/idem2", NULL), 404L);
	e2e_resp_free(&c);
	/* Without the key the second POST is a real one: 409. */
	e2e_call(&c, "POST", "/v1/vms", "{\"name\":\"idem1\",\"memory_mib\":16}");
	e2e_expect_problem(&c, 409, "conflict", NULL);
	e2e_resp_free(&c);
	e2e_req(&c, E2E_UNIX, NULL, "POST", "/v1/vms", "{\"name\":\"idem3\"}", bad);
	e2e_expect_problem(&c, 422, "invalid_field", "Idempotency-Key");
	e2e_resp_free(&c);
	/* Keys are per client: the same key from another principal is new. */
	{
		const struct e2e_env *env = e2e_env();
		VH_EXPECT_EQ(e2e_req(&c, E2E_HTTPS, env->operator_token, "POST", "/v1/vms",
				     "{\"name\":\"idem1\",\"memory_mib\":16}", k1),
			     409L);
		e2e_resp_free(&c);
	}
	e2e_resp_free(&a);
	e2e_resp_free(&b);
	e2e_destroy("idem1");
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

VH_TEST(http, slow_and_half_open_clients_do_not_block_others)
{
	const struct e2e_env *env = e2e_env();
	enum { SLOW = 40 };
	int fds[SLOW], tcp_fds[8];
	struct e2e_resp r;
	double t0;

	/* Connections that send part of a request and stop, and ones that
	 * send nothing at all. */
	for (int i = 0; i < SLOW; i++) {
		fds[i] = raw_connect(env->agent_sock);
		VH_ASSERT(fds[i] >= 0);
		if (i % 2 == 0)
			VH_ASSERT_EQ(
			    write(fds[i], "GET /v1/host HTTP/1.1\r\nHost: x\r\nX-Slow", 38),
			    (ssize_t)38);
		else if (i % 4 == 1)
			VH_ASSERT_EQ(write(fds[i],
					   "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: "
					   "application/json\r\n"
					   "Content-Length: 1000\r\n\r\n{\"na",
					   91),
				     (ssize_t)91);
	}
	t0 = now_s();
	for (int i = 0; i < 20; i++) {
		VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/host", NULL), 200L);
		e2e_resp_free(&r);
	}
	VH_EXPECT_LT(now_s() - t0, 2.0);
	/* Over HTTPS too: TCP clients that never start the handshake, or
	 * stop in the middle of a ClientHello. */
	for (int i = 0; i < 8; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)env->https_port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		VH_ASSERT(fd >= 0);
		VH_ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		if (i % 2)
			VH_ASSERT_EQ(write(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
				     (ssize_t)11);
		tcp_fds[i] = fd;
	}
	t0 = now_s();
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->viewer_token, "GET", "/v1/host", NULL, NULL),
		     200L);
	e2e_resp_free(&r);
	VH_EXPECT_LT(now_s() - t0, 2.0);
	for (int i = 0; i < SLOW; i++)
		close(fds[i]);
	for (int i = 0; i < 8; i++)
		close(tcp_fds[i]);
}

/* ---- credentials and roles ---------------------------------------------------- */

VH_TEST(auth, https_needs_a_token)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r;

	e2e_req(&r, E2E_HTTPS, NULL, "GET", "/v1/vms", NULL, NULL);
	e2e_expect_problem(&r, 401, "unauthorized", NULL);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, "vh_00000000_notarealsecretnotarealsecretnotarealsec", "GET",
		"/v1/vms", NULL, NULL);
	e2e_expect_problem(&r, 401, "unauthorized", NULL);
	e2e_resp_free(&r);
	{
		const char *basic[] = { "Authorization: Basic YWRtaW46YWRtaW4=", NULL };
		e2e_req(&r, E2E_HTTPS, NULL, "GET", "/v1/vms", NULL, basic);
		e2e_expect_problem(&r, 401, "unauthorized", NULL);
		e2e_resp_free(&r);
	}
	/* Probes need nothing. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, NULL, "GET", "/healthz", NULL, NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "status"), "ok");
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, NULL, "GET", "/readyz", NULL, NULL), 200L);
	e2e_resp_free(&r);
	/* /metrics is for viewers and up. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, NULL, "GET", "/metrics", NULL, NULL), 401L);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->viewer_token, "GET", "/metrics", NULL, NULL),
		     200L);
	e2e_resp_free(&r);
}

VH_TEST(auth, roles)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r;

	/* viewer: reads only. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->viewer_token, "GET", "/v1/vms", NULL, NULL), 200L);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->viewer_token, "POST", "/v1/vms", "{\"name\":\"role1\"}", NULL);
	e2e_expect_problem(&r, 403, "forbidden", NULL);
	e2e_resp_free(&r);
	/* operator: lifecycle and resources, not tokens. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->operator_token, "POST", "/v1/vms",
			     "{\"name\":\"role1\"}", NULL),
		     201L);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->operator_token, "PUT", "/v1/vms/role1/power",
			     "{\"state\":\"running\"}", NULL),
		     200L);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->viewer_token, "PUT", "/v1/vms/role1/power",
		"{\"state\":\"paused\"}", NULL);
	e2e_expect_problem(&r, 403, "forbidden", NULL);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->operator_token, "POST", "/v1/tokens",
		"{\"name\":\"t1\",\"role\":\"viewer\"}", NULL);
	e2e_expect_problem(&r, 403, "forbidden", NULL);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->operator_token, "GET", "/v1/tokens", NULL, NULL);
	e2e_expect_problem(&r, 403, "forbidden", NULL);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->operator_token, "DELETE",
			     "/v1/vms/role1?force=true", NULL, NULL),
		     204L);
	e2e_resp_free(&r);
}

VH_TEST(auth, admin_makes_and_revokes_tokens)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r;
	char token[128], id[16], path[64];

	VH_ASSERT_EQ(e2e_req(&r, E2E_HTTPS, env->admin_token, "POST", "/v1/tokens",
			     "{\"name\":\"made-by-api\",\"role\":\"viewer\"}", NULL),
		     201L);
	VH_ASSERT(e2e_str(r.json, "token") != NULL && e2e_str(r.json, "id") != NULL);
	snprintf(token, sizeof(token), "%s", e2e_str(r.json, "token"));
	snprintf(id, sizeof(id), "%s", e2e_str(r.json, "id"));
	VH_EXPECT_STREQ(e2e_str(r.json, "role"), "viewer");
	snprintf(path, sizeof(path), "/v1/tokens/%s", id);
	VH_EXPECT_STREQ(r.location, path);
	e2e_resp_free(&r);

	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, token, "GET", "/v1/host", NULL, NULL), 200L);
	e2e_resp_free(&r);
	/* Listed without its secret. */
	VH_ASSERT_EQ(e2e_req(&r, E2E_HTTPS, env->admin_token, "GET", "/v1/tokens", NULL, NULL),
		     200L);
	VH_EXPECT(strstr(r.body, id) != NULL);
	VH_EXPECT(strstr(r.body, token + 12) == NULL);
	e2e_resp_free(&r);
	/* Bad requests. */
	e2e_req(&r, E2E_HTTPS, env->admin_token, "POST", "/v1/tokens",
		"{\"name\":\"x\",\"role\":\"root\"}", NULL);
	e2e_expect_problem(&r, 422, "invalid_field", "role");
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->admin_token, "POST", "/v1/tokens",
		"{\"name\":\"made-by-api\",\"role\":\"admin\"}", NULL);
	e2e_expect_problem(&r, 409, "conflict", "name");
	e2e_resp_free(&r);
	/* An Idempotency-Key would keep the secret for a replay: refused
	 * (400), twice, with no token made and no secret in either answer. */
	for (int i = 0; i < 2; i++) {
		const char *idem[] = { "Idempotency-Key: tok-key-1", NULL };
		e2e_req(&r, E2E_HTTPS, env->admin_token, "POST", "/v1/tokens",
			"{\"name\":\"idem-token\",\"role\":\"admin\"}", idem);
		e2e_expect_problem(&r, 400, "bad_request", "Idempotency-Key");
		VH_EXPECT(e2e_str(r.json, "token") == NULL);
		VH_EXPECT_STREQ(r.replayed, "");
		e2e_resp_free(&r);
	}
	VH_ASSERT_EQ(e2e_req(&r, E2E_HTTPS, env->admin_token, "GET", "/v1/tokens", NULL, NULL),
		     200L);
	VH_EXPECT(strstr(r.body, "idem-token") == NULL);
	e2e_resp_free(&r);
	/* Revoked: refused from now on. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_HTTPS, env->admin_token, "DELETE", path, NULL, NULL), 204L);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, token, "GET", "/v1/host", NULL, NULL);
	e2e_expect_problem(&r, 401, "unauthorized", NULL);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_HTTPS, env->admin_token, "DELETE", path, NULL, NULL);
	e2e_expect_problem(&r, 404, "not_found", NULL);
	e2e_resp_free(&r);
}

VH_TEST(auth, a_token_decides_even_on_the_unix_socket)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r;

	/* root without a token is admin there; with a viewer token it is a viewer. */
	e2e_req(&r, E2E_UNIX, env->viewer_token, "POST", "/v1/vms", "{\"name\":\"tk1\"}", NULL);
	e2e_expect_problem(&r, 403, "forbidden", NULL);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_UNIX, "vh_00000000_wrong", "GET", "/v1/host", NULL, NULL);
	e2e_expect_problem(&r, 401, "unauthorized", NULL);
	e2e_resp_free(&r);
}

/* ---- images ----------------------------------------------------------------------- */

VH_TEST(images, upload_verify_list_delete)
{
	static const char data[] = "not really a kernel, but bytes all the same\n";
	/* sha256 of data, from sha256sum. */
	static const char sha[] =
	    "3d42a4c6c1cbaf1b16bc4c69f3d4a4a02a6f3b6d4bd8b0e2e3ce1c8d9c2e0d7a";
	const char *octet[] = { "Content-Type: application/octet-stream", NULL };
	struct e2e_resp r;
	char path[256];
	const char *good;

	e2e_env();
	/* Upload without a digest; the response tells the SHA-256. */
	VH_ASSERT_EQ(e2e_req(&r, E2E_UNIX, NULL, "PUT", "/v1/images/blob1.bin", data, octet), 201L);
	VH_EXPECT_STREQ(r.location, "/v1/images/blob1.bin");
	VH_EXPECT_EQ(e2e_int(r.json, "size"), (int64_t)strlen(data));
	good = e2e_str(r.json, "sha256");
	VH_ASSERT(good != NULL && strlen(good) == 64);
	snprintf(path, sizeof(path), "/v1/images/blob2.bin?sha256=%s", good);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_req(&r, E2E_UNIX, NULL, "PUT", path, data, octet), 201L);
	e2e_resp_free(&r);
	/* Replacing: 200. */
	VH_EXPECT_EQ(e2e_req(&r, E2E_UNIX, NULL, "PUT", path, data, octet), 200L);
	e2e_resp_free(&r);
	/* A wrong digest: 422, and nothing becomes visible. */
	snprintf(path, sizeof(path), "/v1/images/blob3.bin?sha256=%s", sha);
	e2e_req(&r, E2E_UNIX, NULL, "PUT", path, data, octet);
	e2e_expect_problem(&r, 422, "checksum_mismatch", NULL);
	e2e_resp_free(&r);
	e2e_call_expect_problem("GET", "/v1/images/blob3.bin", NULL, 404, "not_found", NULL);
	e2e_req(&r, E2E_UNIX, NULL, "PUT", "/v1/images/blob4.bin?sha256=xyz", data, octet);
	e2e_expect_problem(&r, 422, "invalid_field", "sha256");
	e2e_resp_free(&r);
	e2e_req(&r, E2E_UNIX, NULL, "PUT", "/v1/images/..", data, octet);
	VH_EXPECT(r.code == 422 || r.code == 404);
	e2e_resp_free(&r);
	e2e_req(&r, E2E_UNIX, NULL, "PUT", "/v1/images/bad%20name", data, octet);
	e2e_expect_problem(&r, 422, "invalid_field", "name");
	e2e_resp_free(&r);

	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/images", NULL), 200L);
	VH_EXPECT(strstr(r.body, "\"blob1.bin\"") && strstr(r.body, "\"blob2.bin\"") &&
		  strstr(r.body, "\"spinner.elf\""));
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/images/blob1.bin", NULL), 200L);
	VH_EXPECT_EQ(e2e_int(r.json, "size"), (int64_t)strlen(data));
	e2e_resp_free(&r);

	/* In use: refused, naming the VM; unused: gone. */
	VH_ASSERT_EQ(e2e_call(&r, "POST", "/v1/vms",
			      "{\"name\":\"img1\",\"boot\":{\"kernel\":\"blob1.bin\"}}"),
		     201L);
	e2e_resp_free(&r);
	e2e_call(&r, "DELETE", "/v1/images/blob1.bin", NULL);
	e2e_expect_problem(&r, 409, "conflict", "name");
	VH_EXPECT(r.body && strstr(r.body, "img1"));
	e2e_resp_free(&r);
	e2e_destroy("img1");
	VH_EXPECT_EQ(e2e_call(&r, "DELETE", "/v1/images/blob1.bin", NULL), 204L);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "DELETE", "/v1/images/blob2.bin", NULL), 204L);
	e2e_resp_free(&r);
	e2e_call_expect_problem("DELETE", "/v1/images/blob2.bin", NULL, 404, "not_found", NULL);
}

VH_TEST(images, too_large_is_413)
{
	const char *octet[] = { "Content-Type: application/octet-stream", NULL };
	size_t n = 1100000; /* the e2e agent takes images up to 1 MiB */
	char *big = malloc(n + 1);
	struct e2e_resp r;

	e2e_env();
	VH_ASSERT(big != NULL);
	memset(big, 'x', n);
	big[n] = '\0';
	e2e_req(&r, E2E_UNIX, NULL, "PUT", "/v1/images/big.bin", big, octet);
	e2e_expect_problem(&r, 413, "too_large", NULL);
	e2e_resp_free(&r);
	free(big);
	e2e_call_expect_problem("GET", "/v1/images/big.bin", NULL, 404, "not_found", NULL);
}

/* An upload a little over the limit is read to its end before its 413
 * (closing while the client still sends would leave it a reset instead
 * of its answer), and the connection stays; one far over the limit is
 * refused at its headers and the connection closes. */
VH_TEST(images, a_refused_upload_keeps_or_closes_its_connection)
{
	static const struct {
		size_t size;
		long connects_after; /* by the next request on the handle */
	} cases[] = {
		{ 1100000, 0 },           /* 50 KiB over the 1 MiB limit: drained, kept */
		{ 1048576 + 3145728, 1 }, /* 3 MiB over: refused at once, closed */
	};
	const struct e2e_env *env = e2e_env();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct curl_slist *hl =
		    curl_slist_append(NULL, "Content-Type: application/octet-stream");
		char *big = malloc(cases[i].size);
		CURL *h = curl_easy_init();
		long code = 0, connects = -1;

		VH_ASSERT(big != NULL && h != NULL);
		memset(big, 'x', cases[i].size);
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, env->agent_sock);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_URL, "http://localhost/v1/images/big.bin");
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, big);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cases[i].size);
		VH_EXPECT_EQ((int)curl_easy_perform(h), (int)CURLE_OK);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		VH_EXPECT_EQ(code, 413L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(h, CURLOPT_URL, "http://localhost/v1/images/big.bin");
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		VH_EXPECT_EQ((int)curl_easy_perform(h), (int)CURLE_OK);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		VH_EXPECT_EQ(code, 404L);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
		VH_EXPECT_EQ(connects, cases[i].connects_after);
		curl_easy_cleanup(h);
		curl_slist_free_all(hl);
		free(big);
	}
}
