/* SPDX-License-Identifier: Apache-2.0 */
/* The role a client certificate grants (HTTPS with tls_client_ca), once
 * it has verified against that CA.  The CA alone is not enough: a CA
 * also signs certificates for other purposes, and a subject may list
 * several OUs.  So:
 *   - the certificate must carry extendedKeyUsage clientAuth; one with
 *     no extendedKeyUsage at all, or only other purposes (serverAuth,
 *     anyExtendedKeyUsage…), is not a client credential: 401;
 *   - every OU of the subject is read; exactly one role name (viewer,
 *     operator, admin) among them, repeated or not, gives that role;
 *     none, or two different ones, is refused: 403.  There is no
 *     default role. */
#ifndef VH_AGENT_CERTROLE_H
#define VH_AGENT_CERTROLE_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "agent/auth.h"
#include "api/vh_api.h"

/* der: the peer's certificate (the first gnutls_certificate_get_peers
 * gives).  VH_API_OK with *role and cn (the subject's CN, "" when none);
 * otherwise VH_API_UNAUTHORIZED or VH_API_FORBIDDEN with why, one
 * sentence for the problem's detail. */
enum vh_api_code vh_cert_role(const gnutls_datum_t *der, enum vh_role *role, char *cn, size_t cnlen,
			      char *why, size_t whylen);

#endif
