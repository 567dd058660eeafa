/* SPDX-License-Identifier: Apache-2.0 */
/* What the transport's files share, and nothing else includes: the
 * listener and connection records and the calls between the files.
 *
 *   listen.c     the listeners: sockets, TLS material and options,
 *                libmicrohttpd's daemons and log (vh_http_start/stop)
 *   authn.c      who a request comes from: SO_PEERCRED, client
 *                certificates (certrole.c), Bearer tokens (auth.c)
 *   request.c    the access-handler cycle: route, limits, body, the
 *                handler, the queued response; request data (vh_req_*)
 *   idem_http.c  Idempotency-Key on POST over idempotency.c's store
 *   reply.c      the responses handlers build (vh_reply_*)
 *   follow.c     streamed responses (vh_reply_follow): suspended
 *                followers and the thread that resumes them
 *
 * Handlers (res_*.c) see only http.h.  Nothing here calls a handler
 * except through the route table's pointers (router.h). */
#ifndef VH_AGENT_HTTP_INTERNAL_H
#define VH_AGENT_HTTP_INTERNAL_H

#include <stdbool.h>

#include <microhttpd.h>

#include "agent/hdr_deadline.h"
#include "agent/http.h"

enum vh_listener_kind { VH_LISTEN_UNIX, VH_LISTEN_HTTPS, VH_LISTEN_HTTP };

struct vh_listener {
	enum vh_listener_kind kind;
	int fd;
	struct MHD_Daemon *d;
	bool client_ca;
	bool unlink_path; /* we made the unix socket, so we remove it */
	char path[108];
	char *key_pem, *cert_pem, *ca_pem;
};

/* One per connection (libmicrohttpd's socket context): who is on the
 * other end, found once, and the request struct, reused by every
 * request of a keep-alive connection. */
struct vh_conn {
	struct vh_listener *l;
	bool peer_done;
	enum vh_role peer_role; /* unix socket: from SO_PEERCRED; TLS: from a client certificate */
	enum vh_api_code cert_refused; /* a client certificate that grants nothing (certrole.h) */
	char cert_why[200];
	char peer_principal[80];
	struct vh_hdr_watch hdr; /* the request-header deadline */
	struct vh_req req;
};

/* authn.c: sets r->role and r->principal; replies 401 (or the client
 * certificate's refusal) and returns -1 when the request carried
 * credentials that are not valid. */
int vh_authn_request(struct vh_conn *c, struct vh_req *r);

/* request.c: libmicrohttpd's callbacks (cls is the listener). */
enum MHD_Result vh_http_on_request(void *cls, struct MHD_Connection *mc, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **req_cls);
void vh_http_on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			  enum MHD_RequestTerminationCode toe);
void vh_http_on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			   enum MHD_ConnectionNotificationCode toe);

/* idem_http.c.  Before the handler: true when the request was answered
 * (a replay or a refusal of the key); false when the handler is to run,
 * r->idem_owner then says whether its response is to be kept. */
bool vh_idem_http_start(struct vh_req *r);
/* After the handler: keeps its response for replays (a 5xx or none
 * releases the key instead). */
void vh_idem_http_end(struct vh_req *r);
/* A request that ended before its handler's response was kept (the
 * client went away): the key is released for a retry. */
void vh_idem_http_abandon(struct vh_req *r);

/* follow.c: the response of a request that vh_reply_follow answered
 * (takes r->follow; NULL when out of memory); a follower never queued;
 * the followers' thread, started with the listeners and stopped before
 * them (it ends every stream: no connection may stay suspended). */
struct MHD_Response *vh_follow_response(struct vh_req *r);
void vh_follow_discard(struct vh_follow *f);
int vh_follow_start(unsigned max_followers, unsigned heartbeat_s);
void vh_follow_stop(void);

/* reply.c: frees the response and forgets its status and headers. */
void vh_reply_clear(struct vh_req *r);

#endif
