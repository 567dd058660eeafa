/* SPDX-License-Identifier: Apache-2.0 */
/* The media type a request must name (see media.h). */
#include "agent/media.h"

#include <string.h>
#include <strings.h>

/* ct's type/subtype (before any ";" parameter) is type, ignoring case. */
static bool media_is(const char *ct, const char *type)
{
	size_t n, want = strlen(type);

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	return n == want && strncasecmp(ct, type, n) == 0;
}

bool vh_media_json(const char *ct)
{
	return media_is(ct, "application/json") || media_is(ct, "application/merge-patch+json");
}

const char *vh_media_required(enum vh_method m, enum vh_body_kind body, const char *ct)
{
	if (m != VH_M_POST && m != VH_M_PUT && m != VH_M_PATCH && m != VH_M_DELETE)
		return NULL; /* reads change nothing */
	if (body == VH_BODY_STREAM)
		return media_is(ct, "application/octet-stream") ? NULL : "application/octet-stream";
	return vh_media_json(ct) ? NULL : "application/json";
}
