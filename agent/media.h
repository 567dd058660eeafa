/* SPDX-License-Identifier: Apache-2.0 */
/* The media type a request must name.  A browser sends a "simple"
 * cross-site request (GET, HEAD or POST with text/plain, a form encoding
 * or no body at all) without asking first, and would attach a client
 * certificate it holds.  So every state-changing request (POST, PUT,
 * PATCH, DELETE), a body-less one included, must carry a Content-Type no
 * such request can have: application/json (or application/merge-patch+json)
 * on JSON and body-less routes, application/octet-stream on uploads.
 * Anything else gets 415 before the handler runs; a browser would have
 * to ask with a CORS preflight first, and the agent grants none
 * (OPTIONS is 405). */
#ifndef VH_AGENT_MEDIA_H
#define VH_AGENT_MEDIA_H

#include <stdbool.h>

#include "agent/http.h"
#include "agent/router.h"

/* Whether ct (the Content-Type header, NULL when absent) names a JSON
 * type: application/json or application/merge-patch+json, parameters
 * (charset) allowed. */
bool vh_media_json(const char *ct);

/* NULL when a request with this method, route body kind and Content-Type
 * may go on; otherwise the type it must carry ("application/json"). */
const char *vh_media_required(enum vh_method m, enum vh_body_kind body, const char *ct);

#endif
