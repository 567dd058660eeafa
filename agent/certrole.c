/* SPDX-License-Identifier: Apache-2.0 */
/* vh_cert_role (see certrole.h). */
#include "agent/certrole.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/x509.h>

static bool has_client_auth(gnutls_x509_crt_t crt)
{
	for (unsigned i = 0;; i++) {
		char oid[128];
		size_t sz = sizeof(oid);
		int rc = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &sz, NULL);

		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* an OID that long is not clientAuth */
		if (rc < 0)
			return false; /* the end of the list, or no extension at all */
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			return true;
	}
}

/* The one role the OUs name: VH_API_OK, or VH_API_FORBIDDEN with why. */
static enum vh_api_code ou_role(gnutls_x509_crt_t crt, enum vh_role *role, char *why, size_t whylen)
{
	enum vh_role found = VH_ROLE_NONE;

	for (unsigned i = 0;; i++) {
		char ou[64];
		size_t sz = sizeof(ou);
		int rc = gnutls_x509_crt_get_dn_by_oid(
		    crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, i, 0, ou, &sz);
		enum vh_role r;

		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* longer than any role name */
		if (rc < 0)
			break;
		r = vh_role_from_name(ou);
		if (r == VH_ROLE_NONE || r == found)
			continue;
		if (found != VH_ROLE_NONE) {
			snprintf(why, whylen,
				 "the client certificate's OUs name two roles (%s and %s); exactly "
				 "one of viewer, operator, admin is allowed",
				 vh_role_name(found), vh_role_name(r));
			return VH_API_FORBIDDEN;
		}
		found = r;
	}
	if (found == VH_ROLE_NONE) {
		snprintf(why, whylen,
			 "the client certificate's OUs name no role; one OU must be viewer, "
			 "operator or admin");
		return VH_API_FORBIDDEN;
	}
	*role = found;
	return VH_API_OK;
}

enum vh_api_code vh_cert_role(const gnutls_datum_t *der, enum vh_role *role, char *cn, size_t cnlen,
			      char *why, size_t whylen)
{
	gnutls_x509_crt_t crt;
	enum vh_api_code code;

	*role = VH_ROLE_NONE;
	if (cnlen)
		cn[0] = '\0';
	if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS) {
		snprintf(why, whylen, "out of memory reading the client certificate");
		return VH_API_UNAUTHORIZED;
	}
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS) {
		snprintf(why, whylen, "the client certificate cannot be read");
		code = VH_API_UNAUTHORIZED;
	} else if (!has_client_auth(crt)) {
		snprintf(why, whylen,
			 "the client certificate is not for client authentication (its "
			 "extendedKeyUsage must include clientAuth)");
		code = VH_API_UNAUTHORIZED;
	} else {
		code = ou_role(crt, role, why, whylen);
	}
	if (code == VH_API_OK) {
		size_t sz = cnlen;
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &sz) <
			0 &&
		    cnlen)
			cn[0] = '\0';
	}
	gnutls_x509_crt_deinit(crt);
	return code;
}
