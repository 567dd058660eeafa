/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's configuration: defaults, then the file (default
 * /etc/vh/agent.conf, "key = value" lines, "#" comments), then the
 * command line.  Unknown keys and bad values are errors that name the
 * file and line.  SIGHUP re-reads the file: the settings marked (live)
 * take effect at once; the others are reported as needing a restart. */
#ifndef VH_AGENT_CONFIG_H
#define VH_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vh_agent_config {
	char config_path[256];      /* where it was read from ("" = none) */
	char state_dir[256];        /* state_dir = /var/lib/vh */
	char disks_dir[256];        /* disks_dir = "" -> <state>/disks, the datastore */
	char hypervisor_socket[108];/* hypervisor_socket = /run/vh/vh.sock */
	char unix_socket[108];      /* unix_socket = /run/vh/agent.sock ("none" = off) */
	char socket_group[64];      /* socket_group = vh (may be absent on the host) */
	char https_listen[128];     /* https_listen = [::]:8443 | 0.0.0.0:8443 | none */
	char http_listen[128];      /* http_listen = none | 127.0.0.1:8080 (loopback only) */
	char tls_cert[256];         /* tls_cert = "" -> <state>/tls/cert.pem, made at first start */
	char tls_key[256];          /* tls_key = "" -> <state>/tls/key.pem */
	char tls_client_ca[256];    /* tls_client_ca = "" (set: client certificates are checked) */
	char tls_priorities[256];   /* tls_priorities = VH_TLS_PRIORITIES_DEFAULT (GnuTLS syntax) */
	unsigned threads;           /* threads = 4 (MHD thread pool) */
	unsigned max_connections;   /* max_connections = 256 */
	unsigned connection_timeout_s; /* connection_timeout_s = 10 */
	unsigned request_header_timeout_s; /* request_header_timeout_s = 10 */
	unsigned max_connections_per_ip; /* max_connections_per_ip = 32 (TCP; 0 = no limit) */
	unsigned max_followers;     /* max_followers = 64 (console and event streams at once) */
	unsigned heartbeat_s;       /* heartbeat_s = 15 (an idle event stream's comment line) */
	unsigned hypervisor_timeout_ms; /* hypervisor_timeout_ms = 10000 (then 504) */
	char simulator[256];        /* simulator = $(bindir)/vh-sim (POST /v1/simulate) */
	unsigned simulate_timeout_ms; /* simulate_timeout_ms = 20000 (then 504, the child killed) */
	uint64_t max_body_bytes;    /* max_body_bytes = 1048576 (JSON bodies) (live) */
	uint64_t max_image_bytes;   /* max_image_bytes = 1073741824 (live) */
	int log_level;              /* log_level = info | debug | warning | err (live) */
};

/* TLS 1.2 and 1.3 only; AEAD ciphers (AES-GCM, ChaCha20-Poly1305) only,
 * so no CBC and no SHA-1 MAC; ECDHE key exchange only (forward secrecy,
 * no RSA key transport; TLS 1.3 is (EC)DHE by design). */
#define VH_TLS_PRIORITIES_DEFAULT                                                                 \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"       \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/* The most followers max_followers may allow (follow.c looks at each
 * waiting one every tick). */
#define VH_FOLLOW_MAX 1024u

void vh_agent_config_defaults(struct vh_agent_config *c);
/* Reads path into c (over what c holds).  A missing file is an error
 * only when must_exist. */
int vh_agent_config_load(struct vh_agent_config *c, const char *path, bool must_exist, char *err,
			 size_t errlen);
/* One "key=value" (as --set key=value on the command line gives it). */
int vh_agent_config_set(struct vh_agent_config *c, const char *key, const char *value, char *err,
			size_t errlen);
/* Host and port of a listen address; "none" gives *enabled = false. */
int vh_agent_config_parse_listen(const char *s, bool *enabled, char *host, size_t hostcap,
				 uint16_t *port, char *err, size_t errlen);

#endif
