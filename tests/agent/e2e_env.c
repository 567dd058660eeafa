/* SPDX-License-Identifier: Apache-2.0 */
/* The e2e fixture (see e2e.h): processes, HTTP through libcurl, JSON. */
#define _GNU_SOURCE
#include "e2e.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "vh_test.h"

static struct e2e_env env;
static bool started, start_failed;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *builddir(void)
{
	const char *b = getenv("top_builddir");
	return b && *b ? b : ".";
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* fork + exec with stdout and stderr to log. */
static int spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return (int)pid;
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool unix_connects(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void stop_all(void)
{
	int st;

	if (env.agent_pid > 0) {
		kill(env.agent_pid, SIGTERM);
		waitpid(env.agent_pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fprintf(stderr, "e2e: vhagent exited with status %d (see %s/agent.log)\n",
				st, env.run);
	}
	if (env.hv_pid > 0) {
		kill(env.hv_pid, SIGTERM);
		waitpid(env.hv_pid, &st, 0);
	}
}

static int make_token(const char *name, const char *role, char *out, size_t cap)
{
	char cmd[2048];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "'%s/agent/vhagent' --config /dev/null --state-dir '%s' token create %s --role %s "
		 "2>>'%s/tokens.log'",
		 builddir(), env.state, name, role, env.run);
	if (!(f = popen(cmd, "r")))
		return -1;
	if (!fgets(out, (int)cap, f)) {
		pclose(f);
		return -1;
	}
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return pclose(f) == 0 && n > 0 ? 0 : -1;
}

/* The HTTPS listener answers /healthz before any test runs.  The first
 * HTTPS transfer of this process has failed now and then on a loaded
 * machine before reaching the agent (libcurl: "error setting
 * certificate file" for the agent's certificate, which exists and which
 * nothing rewrites); it is met here, logged, and tried again, so a test
 * never depends on it. */
static int https_ready(void)
{
	for (int i = 0; i < 100; i++) {
		struct e2e_resp r = { 0 };
		long code = e2e_req(&r, E2E_HTTPS, NULL, "GET", "/healthz", NULL, NULL);

		e2e_resp_free(&r);
		if (code == 200)
			return 0;
		sleep_ms(50);
	}
	fprintf(stderr, "e2e: vhagent's HTTPS listener did not answer (see %s/agent.log)\n",
		env.run);
	return -1;
}

static int start(void)
{
	char cmd[4096], port[16], log[700];
	const char *b = builddir();

	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		fprintf(stderr,
			"e2e: /dev/kvm is missing or not read-writable: these tests need KVM\n");
		return -1;
	}
	snprintf(env.run, sizeof(env.run), "%s/tests/agent/runs/e2e", b);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && mkdir -p '%s/state/images' '%s/logs' && cp "
		 "'%s'/tests/guests/*.elf '%s/state/images/'",
		 env.run, env.run, env.run, b, env.run);
	if (run(cmd) != 0) {
		fprintf(stderr, "e2e: cannot prepare %s (are the test guests built?)\n", env.run);
		return -1;
	}
	snprintf(env.state, sizeof(env.state), "%s/state", env.run);
	snprintf(env.hv_sock, sizeof(env.hv_sock), "%s/vh.sock", env.run);
	snprintf(env.agent_sock, sizeof(env.agent_sock), "%s/agent.sock", env.run);
	snprintf(env.cacert, sizeof(env.cacert), "%s/tls/cert.pem", env.state);
	env.https_port = free_port();
	if (make_token("e2e-admin", "admin", env.admin_token, sizeof(env.admin_token)) ||
	    make_token("e2e-operator", "operator", env.operator_token,
		       sizeof(env.operator_token)) ||
	    make_token("e2e-viewer", "viewer", env.viewer_token, sizeof(env.viewer_token))) {
		fprintf(stderr, "e2e: vhagent token create failed (see %s/tokens.log)\n", env.run);
		return -1;
	}
	{
		char hv[600], images[700], logs[600];
		char *argv[] = { hv,   "--socket", env.hv_sock, "--images", images, "--log-dir",
				 logs, "--memory", "256M",      "--pcpus",  "2",    NULL };

		snprintf(hv, sizeof(hv), "%s/hypervisor/hosted/vh-hosted", b);
		snprintf(images, sizeof(images), "%s/images", env.state);
		snprintf(logs, sizeof(logs), "%s/logs", env.run);
		snprintf(log, sizeof(log), "%s/hv.log", env.run);
		env.hv_pid = spawn(argv, log);
	}
	for (int i = 0; i < 200 && !unix_connects(env.hv_sock); i++)
		sleep_ms(50);
	if (!unix_connects(env.hv_sock)) {
		fprintf(stderr, "e2e: vh-hosted did not come up (see %s/hv.log)\n", env.run);
		return -1;
	}
	{
		char agent[600], https[64];
		char *argv[] = { agent,
				 "--config",
				 "/dev/null",
				 "--state-dir",
				 env.state,
				 "--hypervisor-socket",
				 env.hv_sock,
				 "--unix-socket",
				 env.agent_sock,
				 "--https-listen",
				 https,
				 "--socket-group",
				 "",
				 "--max-body-bytes",
				 "65536",
				 "--max-image-bytes",
				 "1048576",
				 NULL };

		snprintf(agent, sizeof(agent), "%s/agent/vhagent", b);
		snprintf(port, sizeof(port), "%d", env.https_port);
		snprintf(https, sizeof(https), "127.0.0.1:%d", env.https_port);
		snprintf(log, sizeof(log), "%s/agent.log", env.run);
		env.agent_pid = spawn(argv, log);
	}
	atexit(stop_all);
	for (int i = 0; i < 200; i++) {
		struct e2e_resp r = { 0 };
		long code =
		    unix_connects(env.agent_sock) ? e2e_call(&r, "GET", "/readyz", NULL) : 0;

		e2e_resp_free(&r);
		if (code == 200)
			return https_ready();
		sleep_ms(50);
	}
	fprintf(stderr, "e2e: vhagent did not become ready (see %s/agent.log)\n", env.run);
	return -1;
}

const struct e2e_env *e2e_env(void)
{
	pthread_mutex_lock(&start_lock);
	if (!started && !start_failed) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (start() == 0)
			started = true;
		else
			start_failed = true;
	}
	pthread_mutex_unlock(&start_lock);
	if (!started)
		VH_FAIL("the hypervisor and the agent did not start");
	return &env;
}

/* ---- HTTP ------------------------------------------------------------------------ */

void e2e_resp_free(struct e2e_resp *r)
{
	free(r->body);
	if (r->json)
		json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct e2e_resp *r = ctx;
	size_t add = size * n;
	char *nb = realloc(r->body, r->len + add + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, p, add);
	r->body = nb;
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name);

	if (n > k + 1 && strncasecmp(line, name, k) == 0 && line[k] == ':') {
		const char *v = line + k + 1;
		size_t vn = n - k - 1;

		while (vn && (*v == ' '))
			v++, vn--;
		while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
			vn--;
		snprintf(out, cap, "%.*s", (int)vn, v);
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct e2e_resp *r = ctx;
	size_t len = size * n;

	header_value(p, len, "ETag", r->etag, sizeof(r->etag));
	header_value(p, len, "Location", r->location, sizeof(r->location));
	header_value(p, len, "Content-Type", r->content_type, sizeof(r->content_type));
	header_value(p, len, "Allow", r->allow, sizeof(r->allow));
	header_value(p, len, "Idempotent-Replayed", r->replayed, sizeof(r->replayed));
	return len;
}

static __thread CURL *handles[2];

static void drop_handles(void)
{
	for (int i = 0; i < 2; i++)
		if (handles[i])
			curl_easy_cleanup(handles[i]);
	handles[0] = handles[1] = NULL;
}

void e2e_thread_done(void)
{
	drop_handles();
}

long e2e_req(struct e2e_resp *r, enum e2e_via via, const char *token, const char *method,
	     const char *path, const char *body, const char *const *headers)
{
	const struct e2e_env *e = &env;
	struct curl_slist *hl = NULL;
	char url[512], auth[200];
	bool has_ct = false;
	CURL *h;

	memset(r, 0, sizeof(*r));
	if (!handles[via]) {
		handles[via] = curl_easy_init();
		if (via == E2E_UNIX)
			curl_easy_setopt(handles[via], CURLOPT_UNIX_SOCKET_PATH, e->agent_sock);
		else
			curl_easy_setopt(handles[via], CURLOPT_CAINFO, e->cacert);
	}
	h = handles[via];
	/* What went wrong, when a transfer fails, goes to the test's log. */
	static __thread char errbuf[CURL_ERROR_SIZE];
	errbuf[0] = 0;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (via == E2E_UNIX)
		snprintf(url, sizeof(url), "http://localhost%s", path);
	else
		snprintf(url, sizeof(url), "https://localhost:%d%s", e->https_port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	for (const char *const *p = headers; p && *p; p++) {
		hl = curl_slist_append(hl, *p);
		if (strncasecmp(*p, "Content-Type:", 13) == 0)
			has_ct = true;
	}
	/* The agent requires it of every state-changing request, with a
	 * body or not; a test that wants none passes "Content-Type:". */
	if (!has_ct && (body || strcmp(method, "GET") != 0) && strcmp(method, "HEAD") != 0)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	/* libcurl adds Expect: 100-continue to large bodies; the agent
	 * answers it, but it costs a round trip. */
	hl = curl_slist_append(hl, "Expect:");
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, -1L);
		curl_easy_setopt(h, CURLOPT_HTTPGET, strcmp(method, "GET") == 0 ? 1L : 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
	} else {
		printf("# %s %s: curl: %s (%s)\n", method, path, curl_easy_strerror(rc), errbuf);
		drop_handles(); /* a fresh connection next time */
	}
	curl_slist_free_all(hl);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (r->body && (strstr(r->content_type, "json"))) {
		enum json_tokener_error jerr;
		r->json = json_tokener_parse_verbose(r->body, &jerr);
	}
	return r->code;
}

long e2e_call(struct e2e_resp *r, const char *method, const char *path, const char *body)
{
	return e2e_req(r, E2E_UNIX, NULL, method, path, body, NULL);
}

void e2e_expect_problem(struct e2e_resp *r, long status, const char *code, const char *field)
{
	VH_EXPECT_EQ(r->code, status);
	VH_EXPECT_STREQ(r->content_type, "application/problem+json");
	VH_EXPECT_STREQ(e2e_str(r->json, "code"), code);
	VH_EXPECT_EQ(e2e_int(r->json, "status"), (int64_t)status);
	if (field)
		VH_EXPECT_STREQ(e2e_str(r->json, "field"), field);
	if (r->code != status)
		fprintf(stderr, "  body: %s\n", r->body ? r->body : "(none)");
}

void e2e_call_expect_problem(const char *method, const char *path, const char *body, long status,
			     const char *code, const char *field)
{
	struct e2e_resp r;

	e2e_call(&r, method, path, body);
	e2e_expect_problem(&r, status, code, field);
	e2e_resp_free(&r);
}

/* ---- JSON ---------------------------------------------------------------------------- */

struct json_object *e2e_get(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(tok, &end, 10);
			o = *end ? NULL : json_object_array_get_idx(o, (size_t)i);
		} else if (!json_object_object_get_ex(o, tok, &o)) {
			o = NULL;
		}
	}
	return o;
}

const char *e2e_str(struct json_object *o, const char *path)
{
	struct json_object *v = e2e_get(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t e2e_int(struct json_object *o, const char *path)
{
	struct json_object *v = e2e_get(o, path);
	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : INT64_MIN;
}

void e2e_define(const char *name, const char *extra)
{
	struct e2e_resp r;
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"spinner."
		 "elf\",\"cmdline\":\"\"}%s%s}",
		 name, extra && *extra ? "," : "", extra ? extra : "");
	e2e_env();
	e2e_call(&r, "POST", "/v1/vms", body);
	if (r.code != 201)
		VH_FAIL("defining %s: %ld %s", name, r.code, r.body ? r.body : "");
	e2e_resp_free(&r);
}

int e2e_vh_msg(const char *args)
{
	char cmd[2048];
	int st;

	e2e_env();
	snprintf(cmd, sizeof(cmd), "'%s/hypervisor/hosted/vh-msg' --socket '%s' %s >/dev/null 2>&1",
		 builddir(), env.hv_sock, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

double e2e_metric(const char *name)
{
	struct e2e_resp r;
	double v = -1;
	size_t n = strlen(name);

	if (e2e_call(&r, "GET", "/metrics", NULL) == 200 && r.body) {
		for (const char *l = r.body; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (strncmp(l, name, n) == 0 && l[n] == ' ') {
				v = strtod(l + n + 1, NULL);
				break;
			}
	}
	e2e_resp_free(&r);
	return v;
}

void e2e_destroy(const char *name)
{
	struct e2e_resp r;
	char path[256];

	snprintf(path, sizeof(path), "/v1/vms/%s?force=true", name);
	e2e_call(&r, "DELETE", path, NULL);
	e2e_resp_free(&r);
}
