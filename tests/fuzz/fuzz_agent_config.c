/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for vhagent's configuration file parser
 * (agent/config.c): each input is written as a file and read with
 * vh_agent_config_load, the way the agent reads /etc/vh/agent.conf at
 * start and on SIGHUP; the same bytes, split at the first '=', also go to
 * vh_agent_config_set as a `--set key=value` would.
 *
 * Beyond the sanitizers it checks: a refusal has a message and leaves the
 * configuration exactly as it was; an accepted file gives terminated
 * strings, numbers in their ranges, listen addresses that parse (plain
 * HTTP only on loopback), and reads the same when loaded again. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "agent/config.h"
#include "agent/sd.h"

#define FUZZ_NAME "fuzz_agent_config"
#include "fuzz.h"

static char dir[64];
static char path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "%s/vh-fuzz-config.XXXXXX", t && strlen(t) < 32 ? t : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp %s failed", dir);
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	atexit(cleanup);
}

static void write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		die("cannot write %s", path);
}

#define TERMINATED(c, m) (strnlen((c)->m, sizeof((c)->m)) < sizeof((c)->m))

/* The rule docs/agent.md states, written independently of config.c. */
static bool loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((const uint8_t *)&a4)[0] == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
	return strcmp(host, "localhost") == 0;
}

static void check_listen(const char *s, bool loopback_only)
{
	char host[256], err[256];
	uint16_t port;
	bool on;

	if (vh_agent_config_parse_listen(s, &on, host, sizeof(host), &port, err, sizeof(err)))
		die("accepted listen address \"%s\" does not parse: %s", s, err);
	if (loopback_only && on && !loopback(host))
		die("plain HTTP accepted on \"%s\"", s);
}

static void check_config(const struct vh_agent_config *c)
{
	if (!TERMINATED(c, config_path) || !TERMINATED(c, state_dir) ||
	    !TERMINATED(c, hypervisor_socket) || !TERMINATED(c, unix_socket) ||
	    !TERMINATED(c, socket_group) || !TERMINATED(c, https_listen) ||
	    !TERMINATED(c, http_listen) || !TERMINATED(c, tls_cert) || !TERMINATED(c, tls_key) ||
	    !TERMINATED(c, tls_client_ca))
		die("a string setting is not terminated");
	if (!c->state_dir[0] || !c->hypervisor_socket[0] || !c->unix_socket[0])
		die("an empty required path was accepted");
	if (c->threads < 1 || c->threads > 256 || c->max_connections < 1 ||
	    c->max_connections > 65536 || c->connection_timeout_s < 1 ||
	    c->connection_timeout_s > 3600 || c->max_body_bytes < 1024 ||
	    c->max_body_bytes > (1ull << 30) || c->max_image_bytes < 1 ||
	    c->max_image_bytes > (1ull << 40))
		die("a number out of its range was accepted");
	if (c->log_level != VH_LOG_ERR && c->log_level != VH_LOG_WARNING &&
	    c->log_level != VH_LOG_INFO && c->log_level != VH_LOG_DEBUG)
		die("log level %d accepted", c->log_level);
	check_listen(c->https_listen, false);
	check_listen(c->http_listen, true);
}

static void check_set(const uint8_t *data, size_t size)
{
	struct vh_agent_config c, before;
	char kv[512], err[512];
	char *eq;
	size_t n = size < sizeof(kv) - 1 ? size : sizeof(kv) - 1;

	memcpy(kv, data, n);
	kv[n] = '\0';
	if (!(eq = strchr(kv, '=')))
		return;
	*eq = '\0';
	vh_agent_config_defaults(&c);
	before = c;
	err[0] = '\0';
	if (vh_agent_config_set(&c, kv, eq + 1, err, sizeof(err))) {
		if (!err[0])
			die("--set refused without a message");
		if (memcmp(&c, &before, sizeof(c)))
			die("a refused --set changed the configuration: %s", err);
		return;
	}
	check_config(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vh_agent_config c, before, again;
	char err[1024];

	setup();
	write_file(data, size);
	vh_agent_config_defaults(&c);
	before = c;
	err[0] = '\0';
	if (vh_agent_config_load(&c, path, true, err, sizeof(err))) {
		if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err))
			die("refused without a terminated message");
		if (memcmp(&c, &before, sizeof(c)))
			die("a refused file changed the configuration: %s", err);
	} else {
		if (strcmp(c.config_path, path))
			die("config_path is \"%s\", not the file read", c.config_path);
		check_config(&c);
		vh_agent_config_defaults(&again);
		if (vh_agent_config_load(&again, path, true, err, sizeof(err)) ||
		    memcmp(&c, &again, sizeof(c)))
			die("the same file reads differently the second time");
	}
	check_set(data, size);
	return 0;
}
