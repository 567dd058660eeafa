/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's configuration (agent/config.h): defaults, every key, bad
 * values, unknown keys, file syntax with file:line in errors, listen
 * addresses, plain HTTP only on loopback, and a bad file changing
 * nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent_test.h"
#include "vh_test.h"

VH_TEST(config, defaults)
{
	struct vh_agent_config c;

	memset(&c, 0x5a, sizeof(c));
	vh_agent_config_defaults(&c);
	VH_EXPECT_STREQ(c.config_path, "");
	VH_EXPECT_STREQ(c.state_dir, "/var/lib/vh");
	VH_EXPECT_STREQ(c.hypervisor_socket, "/run/vh/vh.sock");
	VH_EXPECT_STREQ(c.unix_socket, "/run/vh/agent.sock");
	VH_EXPECT_STREQ(c.socket_group, "vh");
	VH_EXPECT_STREQ(c.https_listen, "[::]:8443");
	VH_EXPECT_STREQ(c.http_listen, "none");
	VH_EXPECT_STREQ(c.tls_cert, "");
	VH_EXPECT_STREQ(c.tls_key, "");
	VH_EXPECT_STREQ(c.tls_client_ca, "");
	VH_EXPECT_EQ(c.threads, 4u);
	VH_EXPECT_EQ(c.max_connections, 256u);
	VH_EXPECT_EQ(c.connection_timeout_s, 10u);
	VH_EXPECT_EQ(c.request_header_timeout_s, 10u);
	VH_EXPECT_EQ(c.max_followers, 64u);
	VH_EXPECT_EQ(c.heartbeat_s, 15u);
	VH_EXPECT_EQ(c.max_connections_per_ip, 32u);
	/* A few addresses cannot hold every slot. */
	VH_EXPECT_LE(c.max_connections_per_ip * 5, c.max_connections - 64);
	VH_EXPECT_STREQ(c.tls_priorities, VH_TLS_PRIORITIES_DEFAULT);
	VH_EXPECT(strstr(c.tls_priorities, "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2") != NULL);
	VH_EXPECT_EQ(c.max_body_bytes, (uint64_t)1048576);
	VH_EXPECT_EQ(c.max_image_bytes, (uint64_t)1073741824);
	VH_EXPECT_EQ(c.log_level, 6);
}

/* Every key with a good value, checked in the struct. */
VH_TEST(config, every_key)
{
	struct vh_agent_config c;
	char err[256];

	vh_agent_config_defaults(&c);
	VH_EXPECT_STREQ(c.disks_dir, ""); /* <state_dir>/disks */
#define SET(k, v) VH_EXPECT_EQ(vh_agent_config_set(&c, k, v, err, sizeof(err)), 0)
	SET("state_dir", "/srv/vh");
	SET("disks_dir", "/srv/vh-disks");
	SET("hypervisor_socket", "/tmp/vh.sock");
	SET("unix_socket", "none");
	SET("socket_group", "vh-admins");
	SET("https_listen", "0.0.0.0:9443");
	SET("http_listen", "127.0.0.1:8080");
	SET("tls_cert", "/etc/vh/cert.pem");
	SET("tls_key", "/etc/vh/key.pem");
	SET("tls_client_ca", "/etc/vh/clients.pem");
	SET("threads", "8");
	SET("max_connections", "1000");
	SET("connection_timeout_s", "30");
	SET("request_header_timeout_s", "5");
	SET("max_connections_per_ip", "0");
	SET("tls_priorities", "SECURE256:-VERS-ALL:+VERS-TLS1.3");
	SET("max_body_bytes", "64K");
	SET("max_image_bytes", "2G");
	SET("log_level", "debug");
	VH_EXPECT_STREQ(c.state_dir, "/srv/vh");
	VH_EXPECT_STREQ(c.disks_dir, "/srv/vh-disks");
	VH_EXPECT_STREQ(c.hypervisor_socket, "/tmp/vh.sock");
	VH_EXPECT_STREQ(c.unix_socket, "none");
	VH_EXPECT_STREQ(c.socket_group, "vh-admins");
	VH_EXPECT_STREQ(c.https_listen, "0.0.0.0:9443");
	VH_EXPECT_STREQ(c.http_listen, "127.0.0.1:8080");
	VH_EXPECT_STREQ(c.tls_cert, "/etc/vh/cert.pem");
	VH_EXPECT_STREQ(c.tls_key, "/etc/vh/key.pem");
	VH_EXPECT_STREQ(c.tls_client_ca, "/etc/vh/clients.pem");
	VH_EXPECT_EQ(c.threads, 8u);
	VH_EXPECT_EQ(c.max_connections, 1000u);
	VH_EXPECT_EQ(c.connection_timeout_s, 30u);
	VH_EXPECT_EQ(c.request_header_timeout_s, 5u);
	VH_EXPECT_EQ(c.max_connections_per_ip, 0u);
	VH_EXPECT_STREQ(c.tls_priorities, "SECURE256:-VERS-ALL:+VERS-TLS1.3");
	VH_EXPECT_EQ(c.max_body_bytes, (uint64_t)65536);
	VH_EXPECT_EQ(c.max_image_bytes, (uint64_t)2 << 30);
	VH_EXPECT_EQ(c.log_level, 7);
	SET("log_level", "warning");
	VH_EXPECT_EQ(c.log_level, 4);
	SET("log_level", "err");
	VH_EXPECT_EQ(c.log_level, 3);
	SET("log_level", "info");
	VH_EXPECT_EQ(c.log_level, 6);
	SET("max_body_bytes", "1048576");
	VH_EXPECT_EQ(c.max_body_bytes, (uint64_t)1048576);
	SET("max_image_bytes", "3m");
	VH_EXPECT_EQ(c.max_image_bytes, (uint64_t)3 << 20);
	SET("tls_cert", "");
	VH_EXPECT_STREQ(c.tls_cert, "");
	SET("socket_group", "");
	SET("http_listen", "none");
	SET("http_listen", "[::1]:8080");
	SET("http_listen", "localhost:8080");
	SET("http_listen", "127.1.2.3:80");
	SET("https_listen", "none");
	SET("threads", "1");
	SET("threads", "256");
	SET("max_followers", "1024");
	SET("heartbeat_s", "1");
#undef SET
}

VH_TEST(config, bad_values_name_the_key_and_change_nothing)
{
	static const struct {
		const char *key, *value, *want;
	} cases[] = {
		{ "state_dir", "", "state_dir: a path is needed" },
		{ "state_dir", "/a\tb", "control characters" },
		{ "hypervisor_socket", "", "a socket path or none" },
		{ "hypervisor_socket",
		  "/a/very/long/path/that/does/not/fit/in/sun_path/because/it/is/longer/than/one/"
		  "hundred/and/seven/bytes/so/it/is/refused.sock",
		  "longer than 107" },
		{ "unix_socket", "", "unix_socket" },
		{ "socket_group", "vh admins", "not a group name" },
		{ "https_listen", "8443", "https_listen" },
		{ "https_listen", "0.0.0.0", "host:port" },
		{ "https_listen", "0.0.0.0:0", "1..65535" },
		{ "https_listen", "0.0.0.0:65536", "1..65535" },
		{ "https_listen", "0.0.0.0:84x3", "1..65535" },
		{ "https_listen", "0.0.0.0:-1", "1..65535" },
		{ "https_listen", "::1:8443", "brackets" },
		{ "https_listen", "[::1]8443", "[address]:port" },
		{ "https_listen", "[nonsense]:8443", "not an IPv6 address" },
		{ "https_listen", "300.1.1.1:8443", "not an address" },
		{ "https_listen", "bad_host:8443", "not an address" },
		{ "https_listen", ":8443", "host:port" },
		{ "http_listen", "0.0.0.0:8080", "only on a loopback address" },
		{ "http_listen", "[::]:8080", "only on a loopback address" },
		{ "http_listen", "192.168.1.5:8080", "only on a loopback address" },
		{ "http_listen", "example.com:8080", "only on a loopback address" },
		{ "threads", "0", "out of range 1..256" },
		{ "max_followers", "0", "out of range 1..1024" },
		{ "max_followers", "1025", "out of range 1..1024" },
		{ "heartbeat_s", "0", "out of range 1..3600" },
		{ "threads", "257", "out of range" },
		{ "threads", "-1", "not a number" },
		{ "threads", "4K", "not a number" },
		{ "threads", "four", "not a number" },
		{ "threads", "", "not a number" },
		{ "threads", "99999999999999999999999", "not a number" },
		{ "max_connections", "0", "out of range" },
		{ "connection_timeout_s", "3601", "out of range" },
		{ "request_header_timeout_s", "0", "out of range 1..3600" },
		{ "max_connections_per_ip", "65537", "out of range" },
		{ "tls_priorities", "", "a value is needed" },
		{ "tls_priorities", "NORMAL\x01", "control characters" },
		{ "max_body_bytes", "100", "out of range 1024.." },
		{ "max_body_bytes", "2G", "out of range" },
		{ "max_body_bytes", "1T", "not a size" },
		{ "max_body_bytes", "1KB", "not a size" },
		{ "max_image_bytes", "0", "out of range" },
		{ "max_image_bytes", "18014398509481984G", "not a size" },
		{ "log_level", "verbose", "not one of" },
		{ "log_level", "", "not one of" },
		{ "nonsense", "1", "unknown setting \"nonsense\"" },
		{ "config_path", "/x", "unknown setting" },
		{ "", "1", "unknown setting" },
	};
	struct vh_agent_config c, before;
	char err[256];

	vh_agent_config_defaults(&c);
	before = c;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rc = vh_agent_config_set(&c, cases[i].key, cases[i].value, err, sizeof(err));
		if (rc != -1 || !strstr(err, cases[i].want))
			VH_FAIL("%s = \"%s\": rc %d, message \"%s\" lacks \"%s\"", cases[i].key,
				cases[i].value, rc, err, cases[i].want);
		if (cases[i].key[0] && strcmp(cases[i].key, "nonsense") &&
		    strcmp(cases[i].key, "config_path") &&
		    strncmp(err, cases[i].key, strlen(cases[i].key)))
			VH_FAIL("message \"%s\" does not start with the key", err);
	}
	VH_EXPECT_MEMEQ(&c, &before, sizeof(c));
}

VH_TEST(config, listen_parsing)
{
	static const struct {
		const char *in;
		bool enabled;
		const char *host;
		uint16_t port;
	} ok[] = {
		{ "0.0.0.0:8443", true, "0.0.0.0", 8443 },
		{ "[::1]:8443", true, "::1", 8443 },
		{ "[::]:8443", true, "::", 8443 },
		{ "none", false, "", 0 },
		{ "localhost:8080", true, "localhost", 8080 },
		{ "vh-host.example.com:1", true, "vh-host.example.com", 1 },
		{ "127.0.0.1:65535", true, "127.0.0.1", 65535 },
		{ "[fe80::1]:443", true, "fe80::1", 443 },
	};
	char host[64], err[256];
	uint16_t port;
	bool en;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err[0] = '\0';
		if (vh_agent_config_parse_listen(ok[i].in, &en, host, sizeof(host), &port, err,
						 sizeof(err)) != 0) {
			VH_FAIL("\"%s\" refused: %s", ok[i].in, err);
			continue;
		}
		VH_EXPECT_EQ(en, ok[i].enabled);
		VH_EXPECT_STREQ(host, ok[i].host);
		VH_EXPECT_EQ(port, ok[i].port);
	}
	static const char *const bad[] = { "",           "8443",          ":8443",
					   "[::1]",      "[::1]:",        "host:",
					   "a:b:c:8443", "1.2.3.4:99999", "[::1]:08443x",
					   "ho st:80",   "none:80x",      "NONE" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vh_agent_config_parse_listen(bad[i], &en, host, sizeof(host), &port, err,
						 sizeof(err)) == 0)
			VH_FAIL("\"%s\" accepted", bad[i]);
	/* A host buffer too small is an error, not a truncation. */
	char tiny[4];
	VH_EXPECT_EQ(vh_agent_config_parse_listen("localhost:80", &en, tiny, sizeof(tiny), &port,
						  err, sizeof(err)),
		     -1);
}

static char *write_conf(const char *dir, const char *name, const char *text)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if (at_write_file(path, text, strlen(text)) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

VH_TEST(config, file_syntax)
{
	char *dir = at_tempdir("config-file"), err[256];
	struct vh_agent_config c;

	VH_ASSERT(dir != NULL);
	char *p = write_conf(dir, "agent.conf",
			     "# vhagent\n"
			     "\n"
			     "state_dir = /srv/vh   # trailing comment\n"
			     "  threads=2\n"
			     "\tlog_level =\tdebug\r\n"
			     "tls_cert = \"/etc/vh/has # hash.pem\"\n"
			     "tls_key = \"\"\n"
			     "tls_client_ca = /etc/vh/ca#1.pem\n"
			     "https_listen = [::1]:9443\n"
			     "threads = 3\n"); /* the later line wins */
	VH_ASSERT(p != NULL);
	vh_agent_config_defaults(&c);
	snprintf(c.tls_key, sizeof(c.tls_key), "/old");
	VH_ASSERT_EQ(vh_agent_config_load(&c, p, true, err, sizeof(err)), 0);
	VH_EXPECT_STREQ(c.config_path, p);
	VH_EXPECT_STREQ(c.state_dir, "/srv/vh");
	VH_EXPECT_EQ(c.threads, 3u);
	VH_EXPECT_EQ(c.log_level, 7);
	VH_EXPECT_STREQ(c.tls_cert, "/etc/vh/has # hash.pem");
	VH_EXPECT_STREQ(c.tls_key, "");
	VH_EXPECT_STREQ(c.tls_client_ca, "/etc/vh/ca#1.pem");
	VH_EXPECT_STREQ(c.https_listen, "[::1]:9443");
	/* Untouched keys keep what c held. */
	VH_EXPECT_STREQ(c.unix_socket, "/run/vh/agent.sock");
	free(p);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(config, file_errors_name_file_and_line_and_change_nothing)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "threads = 2\nbogus = 1\n", ":2: unknown setting \"bogus\"" },
		{ "# c\n\nthreads\n", ":3: expected \"key = value\"" },
		{ "threads = 2\n= 5\n", ":2: a setting name is missing" },
		{ "http_listen = 0.0.0.0:8080\n",
		  ":1: http_listen: plain HTTP is allowed only on a "
		  "loopback address" },
		{ "threads = 2\nthreads = 0\n", ":2: threads: 0 is out of range" },
		{ "tls_cert = \"/x\n", ":1: tls_cert: unbalanced quotes" },
		{ "tls_cert = \"/x\" y\n", ":1: tls_cert: unbalanced quotes or text after them" },
		{ "log_level = loud\n", ":1: log_level" },
	};
	char *dir = at_tempdir("config-errors"), err[512];
	struct vh_agent_config c, before;

	VH_ASSERT(dir != NULL);
	vh_agent_config_defaults(&c);
	before = c;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = write_conf(dir, "bad.conf", cases[i].text);
		char want[512];
		VH_ASSERT(p != NULL);
		snprintf(want, sizeof(want), "%s%s", p, cases[i].want);
		err[0] = '\0';
		if (vh_agent_config_load(&c, p, true, err, sizeof(err)) != -1 || !strstr(err, want))
			VH_FAIL("case %zu: \"%s\" lacks \"%s\"", i, err, want);
		free(p);
	}
	/* threads = 2 came before the bad line: not applied either. */
	VH_EXPECT_MEMEQ(&c, &before, sizeof(c));

	/* A missing file: fine unless it must exist. */
	char missing[4096];
	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	VH_EXPECT_EQ(vh_agent_config_load(&c, missing, false, err, sizeof(err)), 0);
	VH_EXPECT_STREQ(c.config_path, "");
	errno = 0;
	VH_EXPECT_EQ(vh_agent_config_load(&c, missing, true, err, sizeof(err)), -1);
	VH_EXPECT_EQ(errno, ENOENT);
	VH_EXPECT(strstr(err, missing) != NULL);
	/* A folder is not a file. */
	VH_EXPECT_EQ(vh_agent_config_load(&c, dir, true, err, sizeof(err)), -1);
	VH_EXPECT_MEMEQ(&c, &before, sizeof(c));
	at_rm_rf(dir);
	free(dir);
}
