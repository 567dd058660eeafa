/* SPDX-License-Identifier: Apache-2.0 */
/* Who a request comes from (http_internal.h).  The unix socket's peer
 * (SO_PEERCRED) and a TLS client certificate are found once per
 * connection; a Bearer token, when the request carries one, decides
 * over either. */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "agent/agent.h"
#include "agent/certrole.h"
#include "agent/http_internal.h"

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
static void peer_unix(struct vh_conn *c, struct MHD_Connection *mc)
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
static void peer_cert(struct vh_conn *c, struct MHD_Connection *mc)
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

/* A token decides when there is one; otherwise the connection's peer. */
int vh_authn_request(struct vh_conn *c, struct vh_req *r)
{
	const char *auth = vh_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!c->peer_done) {
		c->peer_done = true;
		if (c->l->kind == VH_LISTEN_UNIX)
			peer_unix(c, r->mhd);
		else if (c->l->kind == VH_LISTEN_HTTPS && c->l->client_ca)
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
