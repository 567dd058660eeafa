/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent: the REST control plane (docs/agent.md).
 *
 *   vhagent [--config FILE] [--set KEY=VALUE]... [--KEY VALUE]...
 *   vhagent token create NAME --role viewer|operator|admin | token list | token revoke ID|NAME
 *   vhagent --routes | --version | --help
 *
 * Configuration: defaults, then the file (/etc/vh/agent.conf unless
 * --config names another; a missing default file is fine), then the
 * command line (--set state_dir=/x or --state-dir /x: any key of
 * agent/config.h).  SIGHUP reads it all again: the live settings apply
 * at once, the others are reported as needing a restart.
 *
 * Threads: libmicrohttpd's pools serve requests; main blocks SIGTERM,
 * SIGINT and SIGHUP before any thread starts (so every thread inherits
 * the mask and only main receives them) and waits for them with
 * sigtimedwait, which also paces the systemd watchdog and the
 * reconciliation retries. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/events.h"
#include "agent/http.h"
#include "agent/hvconn.h"
#include "agent/reconcile.h"
#include "agent/router.h"
#include "agent/sampler.h"
#include "agent/sd.h"

#define DEFAULT_CONFIG "/etc/vh/agent.conf"
#define MAX_OVERRIDES  64

/* What the command line said, kept so SIGHUP can apply it again over a
 * re-read file. */
struct cmdline {
	const char *config;
	int n;
	char *keys[MAX_OVERRIDES];
	char *values[MAX_OVERRIDES];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhagent [--config FILE] [--set KEY=VALUE]... [--KEY VALUE]...\n"
		"       vhagent token create NAME --role viewer|operator|admin\n"
		"       vhagent token list\n"
		"       vhagent token revoke ID|NAME\n"
		"       vhagent --routes | --version | --help\n"
		"\n"
		"The vh REST agent (api/openapi.yaml).  KEY is any setting of the configuration\n"
		"file (docs/agent.md): state_dir, disks_dir, hypervisor_socket, unix_socket, "
		"socket_group,\n"
		"https_listen, http_listen, tls_cert, tls_key, tls_client_ca, tls_priorities,\n"
		"threads, max_connections, max_connections_per_ip, connection_timeout_s,\n"
		"request_header_timeout_s, max_followers, heartbeat_s, hypervisor_timeout_ms,\n"
		"simulator, simulate_timeout_ms, max_body_bytes, max_image_bytes, log_level;\n"
		"--state-dir DIR is --set\n"
		"state_dir=DIR.\n"
		"--routes prints the route table (\"METHOD PATH\" lines).\n");
}

static int add_override(struct cmdline *cl, const char *key, const char *value)
{
	if (cl->n == MAX_OVERRIDES) {
		fprintf(stderr, "vhagent: too many settings on the command line\n");
		return -1;
	}
	cl->keys[cl->n] = strdup(key);
	cl->values[cl->n] = strdup(value);
	if (!cl->keys[cl->n] || !cl->values[cl->n])
		return -1;
	for (char *p = cl->keys[cl->n]; *p; p++)
		if (*p == '-')
			*p = '_';
	cl->n++;
	return 0;
}

/* Options common to the agent and `token`; leaves positional words in
 * rest.  Returns -1 on a usage error. */
static int parse_options(int argc, char **argv, struct cmdline *cl, char **rest, int *nrest,
			 const char **role)
{
	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--", 2) != 0) {
			rest[(*nrest)++] = argv[i];
			continue;
		}
		a += 2;
		if (strcmp(a, "set") == 0 || strncmp(a, "set=", 4) == 0) {
			const char *kv = a[3] == '=' ? a + 4 : (i + 1 < argc ? argv[++i] : NULL);
			const char *eq = kv ? strchr(kv, '=') : NULL;
			char key[64];

			if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
				fprintf(stderr, "vhagent: --set needs KEY=VALUE\n");
				return -1;
			}
			memcpy(key, kv, (size_t)(eq - kv));
			key[eq - kv] = '\0';
			if (add_override(cl, key, eq + 1))
				return -1;
			continue;
		}
		{
			const char *eq = strchr(a, '=');
			char key[64];
			const char *value;
			size_t klen = eq ? (size_t)(eq - a) : strlen(a);

			if (klen == 0 || klen >= sizeof(key)) {
				fprintf(stderr, "vhagent: bad option %s\n", argv[i]);
				return -1;
			}
			memcpy(key, a, klen);
			key[klen] = '\0';
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				fprintf(stderr, "vhagent: --%s needs a value\n", key);
				return -1;
			}
			if (strcmp(key, "config") == 0)
				cl->config = value;
			else if (strcmp(key, "role") == 0)
				*role = value;
			else if (add_override(cl, key, value))
				return -1;
		}
	}
	return 0;
}

static int load_config(const struct cmdline *cl, struct vh_agent_config *cfg, char *err,
		       size_t errlen)
{
	vh_agent_config_defaults(cfg);
	if (vh_agent_config_load(cfg, cl->config ? cl->config : DEFAULT_CONFIG, cl->config != NULL,
				 err, errlen))
		return -1;
	for (int i = 0; i < cl->n; i++) {
		char e[256];
		if (vh_agent_config_set(cfg, cl->keys[i], cl->values[i], e, sizeof(e))) {
			snprintf(err, errlen, "command line: %s", e);
			return -1;
		}
	}
	return 0;
}

/* ---- vhagent token ------------------------------------------------------------ */

static int print_token(void *ctx, const struct vh_token_info *t)
{
	char when[32];
	struct tm tm;

	(void)ctx;
	gmtime_r(&t->created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-8s  %-8s  %-20s  %s\n", t->id, vh_role_name(t->role), when, t->name);
	return 0;
}

static int token_command(const struct vh_agent_config *cfg, char **rest, int nrest,
			 const char *role)
{
	struct vh_store *store;
	struct vh_auth *auth;
	char err[512];
	int rc = 1;

	if (nrest < 2) {
		usage(stderr);
		return 2;
	}
	if (!(store = vh_store_open(cfg->state_dir, err, sizeof(err)))) {
		fprintf(stderr, "vhagent: %s\n", err);
		return 1;
	}
	if (!(auth = vh_auth_open(store, err, sizeof(err)))) {
		fprintf(stderr, "vhagent: %s\n", err);
		vh_store_close(store);
		return 1;
	}
	if (strcmp(rest[1], "create") == 0 && nrest == 3) {
		struct vh_token_info info;
		char secret[128];
		enum vh_role r = vh_role_from_name(role ? role : "");

		if (r == VH_ROLE_NONE) {
			fprintf(stderr,
				"vhagent: token create needs --role viewer, operator or admin\n");
			rc = 2;
		} else if (vh_auth_token_create(auth, rest[2], r, &info, secret, sizeof(secret),
						err, sizeof(err))) {
			fprintf(stderr, "vhagent: %s\n", err);
		} else {
			/* The secret goes to stdout alone, so scripts can take it. */
			printf("%s\n", secret);
			fprintf(stderr, "token %s (%s, %s) created; it is shown only now\n",
				info.id, info.name, vh_role_name(info.role));
			explicit_bzero(secret, sizeof(secret));
			rc = 0;
		}
	} else if (strcmp(rest[1], "list") == 0 && nrest == 2) {
		printf("%-8s  %-8s  %-20s  %s\n", "ID", "ROLE", "CREATED", "NAME");
		rc = vh_auth_token_each(auth, print_token, NULL) < 0;
	} else if (strcmp(rest[1], "revoke") == 0 && nrest == 3) {
		if (vh_auth_token_revoke(auth, rest[2], err, sizeof(err)) == 0) {
			fprintf(stderr, "token %s revoked\n", rest[2]);
			rc = 0;
		} else {
			fprintf(stderr, "vhagent: %s\n", errno == ENOENT ? "no such token" : err);
		}
	} else {
		usage(stderr);
		rc = 2;
	}
	vh_auth_close(auth);
	vh_store_close(store);
	return rc;
}

/* ---- the agent ------------------------------------------------------------------------ */

static void apply_live(const struct vh_agent_config *cfg)
{
	atomic_store(&vh_agent->max_body_bytes, cfg->max_body_bytes);
	atomic_store(&vh_agent->max_image_bytes, cfg->max_image_bytes);
	vh_log_set_level((enum vh_log_level)cfg->log_level);
}

/* SIGHUP: the file again; live settings now, the rest at the next start. */
static void reload(const struct cmdline *cl)
{
	struct vh_agent_config now, *was = &vh_agent->cfg;
	char err[512];
	static const struct {
		const char *key;
		size_t off, len;
	} restart_only[] = {
/* clang-format off */
#define F(k) { #k, offsetof(struct vh_agent_config, k), sizeof(((struct vh_agent_config *)0)->k) }
		F(state_dir),             F(hypervisor_socket),        F(unix_socket),
		F(disks_dir),
		F(socket_group),          F(https_listen),             F(http_listen),
		F(tls_cert),              F(tls_key),                  F(tls_client_ca),
		F(threads),               F(max_connections),          F(connection_timeout_s),
		F(tls_priorities),        F(request_header_timeout_s), F(max_connections_per_ip),
		F(hypervisor_timeout_ms), F(max_followers),            F(heartbeat_s),
		F(simulator),             F(simulate_timeout_ms),
#undef F
		/* clang-format on */
	};

	vh_sd_reloading();
	if (load_config(cl, &now, err, sizeof(err))) {
		vh_log(VH_LOG_ERR, "reload refused, the configuration is unchanged: %s", err);
		vh_sd_ready("serving (last reload failed)");
		return;
	}
	apply_live(&now);
	for (size_t i = 0; i < sizeof(restart_only) / sizeof(restart_only[0]); i++)
		if (memcmp((char *)&now + restart_only[i].off, (char *)was + restart_only[i].off,
			   restart_only[i].len) != 0)
			vh_log(VH_LOG_WARNING,
			       "reload: %s changed; it takes effect at the next start",
			       restart_only[i].key);
	was->max_body_bytes = now.max_body_bytes;
	was->max_image_bytes = now.max_image_bytes;
	was->log_level = now.log_level;
	vh_log(VH_LOG_INFO, "configuration reloaded (max_body_bytes %llu, max_image_bytes %llu)",
	       (unsigned long long)now.max_body_bytes, (unsigned long long)now.max_image_bytes);
	vh_sd_ready("serving");
}

/* Runs a reconcile pass when one is due: not done yet, or the agent
 * knows another hypervisor instance than the one the last pass reconciled,
 * or none (it restarted and may have lost its definitions).  Costs no
 * message when none is due. */
static void maybe_reconcile(bool *warned)
{
	struct vh_reconcile_report rep;
	uint64_t now = vh_hv_instance();
	bool was = atomic_load(&vh_agent->reconciled);
	char err[512];

	if (was && now && atomic_load(&vh_agent->reconciled_instance) == now)
		return;
	if (vh_reconcile(&rep, err, sizeof(err))) {
		atomic_store(&vh_agent->reconciled, false);
		if (!*warned)
			vh_log(VH_LOG_WARNING,
			       "cannot reconcile with the hypervisor yet: %s (retrying)", err);
		*warned = true;
		vh_sd_status("waiting for the hypervisor: %s", err);
		return;
	}
	/* The instance the pass reconciled: if another is known by now,
	 * the agent is not ready and the next round runs another pass.  Set
	 * before the log line, which tests wait for. */
	atomic_store(&vh_agent->reconciled_instance, rep.instance);
	atomic_store(&vh_agent->reconciled, true);
	*warned = false;
	if (!was || rep.redefined || rep.persisted || rep.corrupt || rep.failed)
		vh_log(VH_LOG_INFO,
		       "reconciled: %u VMs adopted (%u running), %u defined again, %u persisted, "
		       "%u records "
		       "set aside, %u failed",
		       rep.adopted, rep.running, rep.redefined, rep.persisted, rep.corrupt,
		       rep.failed);
	vh_sd_status("serving; %u VMs", rep.adopted + rep.redefined + rep.persisted);
}

static int open_modules(struct vh_agent_config *cfg, char *err, size_t errlen)
{
	char dir[400];
	struct group gr, *res = NULL;
	char buf[4096];

	if (!(vh_agent->store = vh_store_open(cfg->state_dir, err, errlen)))
		return -1;
	snprintf(dir, sizeof(dir), "%s/images", cfg->state_dir);
	if (!(vh_agent->images = vh_images_open(dir, cfg->max_image_bytes, err, errlen)))
		return -1;
	/* The datastore: beside the images unless disks_dir puts it on a
	 * file system of its own (docs/datastore.md). */
	if (cfg->disks_dir[0])
		snprintf(dir, sizeof(dir), "%s", cfg->disks_dir);
	else
		snprintf(dir, sizeof(dir), "%s/disks", cfg->state_dir);
	if (!(vh_agent->disks = vh_disks_open(dir, err, errlen)))
		return -1;
	if (!(vh_agent->auth = vh_auth_open(vh_agent->store, err, errlen)))
		return -1;
	vh_agent->self_uid = getuid();
	if (cfg->socket_group[0] &&
	    getgrnam_r(cfg->socket_group, &gr, buf, sizeof(buf), &res) == 0 && res) {
		vh_agent->have_sock_gid = true;
		vh_agent->sock_gid = res->gr_gid;
	}
	return 0;
}

static void close_modules(void)
{
	vh_auth_close(vh_agent->auth);
	vh_images_close(vh_agent->images);
	vh_disks_close(vh_agent->disks);
	vh_store_close(vh_agent->store);
}

static int serve(const struct cmdline *cl)
{
	struct vh_agent_config *cfg = &vh_agent->cfg;
	sigset_t set;
	char err[512];
	uint64_t wd_usec;
	bool warned = false;
	int sig, rc = 0;

	/* Before any thread exists: the mask is inherited by every thread
	 * libmicrohttpd starts, so these signals reach only sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	vh_agent->started = time(NULL);
	pthread_rwlock_init(&vh_agent->image_lock, NULL);
	pthread_mutex_init(&vh_agent->disk_lock, NULL);
	pthread_rwlock_init(&vh_agent->reconcile_lock, NULL);
	for (int i = 0; i < VH_AGENT_VM_LOCKS; i++)
		pthread_mutex_init(&vh_agent->vm_locks[i], NULL);
	apply_live(cfg);
	if (open_modules(cfg, err, sizeof(err))) {
		vh_log(VH_LOG_ERR, "%s", err);
		return 1;
	}
	vh_hv_init(cfg->hypervisor_socket, cfg->hypervisor_timeout_ms);
	/* Counters without a round trip, once the hypervisor hands them over. */
	vh_hv_shm_start(cfg->hypervisor_socket);
	/* Reconcile before serving when the hypervisor is there, so the
	 * first request already sees every definition. */
	maybe_reconcile(&warned);
	/* Diagnoses take their rates against it (GET .../diagnosis). */
	if (vh_sampler_start())
		vh_log(VH_LOG_WARNING,
		       "cannot start the counter sampler: diagnoses will answer 503");
	if (vh_http_start(cfg, err, sizeof(err))) {
		vh_log(VH_LOG_ERR, "%s", err);
		vh_sampler_stop();
		vh_hv_shm_stop();
		close_modules();
		return 1;
	}
	{
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_string(VH_AGENT_VERSION));
		vh_events_publish("agent_started", NULL, NULL, o);
	}
	vh_events_watch();
	vh_log(VH_LOG_INFO, "vhagent %s ready (state %s, hypervisor %s)", VH_AGENT_VERSION,
	       cfg->state_dir, cfg->hypervisor_socket);
	vh_sd_ready(atomic_load(&vh_agent->reconciled) ? "serving"
						       : "serving; waiting for the hypervisor");
	wd_usec = vh_sd_watchdog_usec();
	for (;;) {
		/* Wake five times a second (a hypervisor that restarted gets
		 * its definitions back within that) and at half the watchdog
		 * interval. */
		uint64_t wait_us = 200000;
		struct timespec ts;

		if (wd_usec && wd_usec / 2 < wait_us)
			wait_us = wd_usec / 2;
		ts.tv_sec = (time_t)(wait_us / 1000000);
		ts.tv_nsec = (long)(wait_us % 1000000) * 1000;
		sig = sigtimedwait(&set, NULL, &ts);
		if (wd_usec)
			vh_sd_watchdog_ping();
		if (sig < 0) {
			if (errno == EAGAIN) {
				maybe_reconcile(&warned);
				vh_events_watch();
			}
			continue;
		}
		if (sig == SIGHUP) {
			reload(cl);
			continue;
		}
		vh_log(VH_LOG_INFO, "%s: stopping", strsignal(sig));
		break;
	}
	vh_sd_stopping();
	{
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "signal", json_object_new_string(strsignal(sig)));
		vh_events_publish("agent_stopped", NULL, NULL, o);
	}
	vh_http_stop();
	vh_sampler_stop();
	vh_hv_shm_stop();
	vh_events_free();
	close_modules();
	return rc;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { 0 };
	char **rest;
	const char *role = NULL;
	char err[512] = "";
	int nrest = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("vhagent %s\n", VH_AGENT_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--routes") == 0) {
			vh_routes_print(stdout);
			return 0;
		}
	}
	if (!(rest = calloc((size_t)argc + 1, sizeof(char *))))
		return 1;
	if (parse_options(argc, argv, &cl, rest, &nrest, &role) ||
	    load_config(&cl, &vh_agent->cfg, err, sizeof(err))) {
		if (err[0])
			fprintf(stderr, "vhagent: %s\n", err);
		usage(stderr);
		rc = 2;
		goto out;
	}
	vh_log_set_level((enum vh_log_level)vh_agent->cfg.log_level);
	if (nrest > 0 && strcmp(rest[0], "token") == 0)
		rc = token_command(&vh_agent->cfg, rest, nrest, role);
	else if (nrest > 0) {
		fprintf(stderr, "vhagent: unknown command %s\n", rest[0]);
		usage(stderr);
		rc = 2;
	} else {
		rc = serve(&cl);
	}
out:
	for (int i = 0; i < cl.n; i++) {
		free(cl.keys[i]);
		free(cl.values[i]);
	}
	free(rest);
	return rc;
}
