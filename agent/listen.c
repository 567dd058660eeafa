/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's listeners on libmicrohttpd (vh_http_start, http.h).
 *
 * The unix socket (mode 0660, the socket group; SO_PEERCRED says who
 * connected, authn.c), HTTPS on TCP (MHD_USE_TLS, GnuTLS inside
 * libmicrohttpd; optional client certificates), and plain HTTP only on a
 * loopback address.  Each runs libmicrohttpd's epoll loop in a thread
 * pool (MHD_OPTION_THREAD_POOL_SIZE: the single-thread epoll mode stalls
 * when a multiple of 128 connections is ready at once), with a
 * connection limit, a per-IP limit on TCP, an idle timeout and a memory
 * limit per connection that bounds the request headers; a slow or
 * half-open client holds one connection slot and nothing else, because
 * no handler ever waits for a client.  The request cycle is request.c's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "agent/agent.h"
#include "agent/fsutil.h"
#include "agent/http_internal.h"
#include "agent/idempotency.h"
#include "agent/sd.h"
#include "agent/tls.h"

/* Bounds the request line and headers of one connection (libmicrohttpd
 * answers 431 beyond it); bodies are read in pieces and do not count. */
#define CONN_MEMORY_LIMIT (64u * 1024u)
#define IDEM_MAX_KEYS     1000u /* per caller */
#define IDEM_TTL_S        (24u * 3600u)

static struct vh_listener listeners[3];
static int nlisteners;

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

static int unix_listen(struct vh_listener *l, const char *path, const char *group, char *err,
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

static int daemon_start(struct vh_listener *l, const struct vh_agent_config *cfg, char *err,
			size_t errlen)
{
	/* Not MHD_USE_TURBO: with it, libmicrohttpd 0.9.75 leaves a connection
	 * it timed out in CLOSE-WAIT once the client closes, its worker
	 * spinning on it for good. */
	/* MHD_ALLOW_SUSPEND_RESUME: a follower waits suspended (follow.c). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	unsigned threads = cfg->threads ? cfg->threads : 4;
	struct MHD_OptionItem tls_ops[6];
	int n = 0;

	if (l->kind == VH_LISTEN_HTTPS) {
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
				     l->kind == VH_LISTEN_UNIX ? 0 : cfg->max_connections_per_ip,
				     NULL };
	tls_ops[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	l->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, vh_http_on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_log,
	    l, /* first, or it misses messages */
	    MHD_OPTION_LISTEN_SOCKET, l->fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 256u,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_COMPLETED, vh_http_on_completed, l, MHD_OPTION_NOTIFY_CONNECTION,
	    vh_http_on_connection, l, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_ARRAY,
	    tls_ops, MHD_OPTION_END);
	if (!l->d) {
		snprintf(err, errlen, "libmicrohttpd would not start the %s listener",
			 l->kind == VH_LISTEN_UNIX    ? "unix socket"
			 : l->kind == VH_LISTEN_HTTPS ? "HTTPS"
						      : "HTTP");
		return -1;
	}
	return 0;
}

static int tls_material(struct vh_listener *l, const struct vh_agent_config *cfg, char *err,
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

/* The next listener, of kind (HTTPS or HTTP), serves the TCP socket fd:
 * its TLS material first for HTTPS, then its daemon.  On failure fd is
 * closed and the listener not counted. */
static int tcp_serve(enum vh_listener_kind kind, int fd, const struct vh_agent_config *cfg,
		     char *err, size_t errlen)
{
	struct vh_listener *l = &listeners[nlisteners];

	l->kind = kind;
	l->fd = fd;
	if ((kind == VH_LISTEN_HTTPS && tls_material(l, cfg, err, errlen)) ||
	    daemon_start(l, cfg, err, errlen)) {
		close(fd);
		return -1;
	}
	nlisteners++;
	return 0;
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
	if (vh_follow_start(cfg->max_followers, cfg->heartbeat_s)) {
		snprintf(err, errlen, "could not start the followers' thread");
		goto fail;
	}
	/* Sockets systemd passed us first (socket activation), then our own. */
	if ((fd = sd_fd("unix")) >= 0 ||
	    (strcmp(cfg->unix_socket, "none") != 0 && cfg->unix_socket[0] &&
	     (fd = unix_listen(&listeners[nlisteners], cfg->unix_socket, cfg->socket_group, err,
			       errlen)) >= 0)) {
		listeners[nlisteners].kind = VH_LISTEN_UNIX;
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
	if (fd == -1 || (fd >= 0 && tcp_serve(VH_LISTEN_HTTPS, fd, cfg, err, errlen)))
		goto fail;
	if (fd >= 0)
		vh_log(VH_LOG_INFO, "serving HTTPS on %s%s",
		       sd_https ? "the socket systemd passed" : cfg->https_listen,
		       listeners[nlisteners - 1].client_ca ? " (client certificates checked)" : "");

	fd = tcp_listen("http_listen", cfg->http_listen, true, err, errlen);
	if (fd == -1 || (fd >= 0 && tcp_serve(VH_LISTEN_HTTP, fd, cfg, err, errlen)))
		goto fail;
	if (fd >= 0)
		vh_log(VH_LOG_INFO, "serving plain HTTP on %s (loopback only)", cfg->http_listen);
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
	vh_follow_stop();
	for (int i = 0; i < nlisteners; i++) {
		struct vh_listener *l = &listeners[i];

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
