/* TLS material for the HTTPS listener.  libmicrohttpd does TLS through
 * GnuTLS; the key and certificate are made here with OpenSSL (PEM, which
 * GnuTLS loads).  At first start, when no certificate is configured, the
 * agent makes an ECDSA P-256 key (mode 0600) and a self-signed
 * certificate valid for 10 years with subjectAltName localhost,
 * 127.0.0.1, ::1 and the host name, under <state>/tls/. */
#ifndef VH_AGENT_TLS_H
#define VH_AGENT_TLS_H

#include <stddef.h>

/* Makes key_path and cert_path unless both exist (then does nothing).
 * Returns 1 when it made them, 0 when they existed, -1 on error. */
int vh_tls_ensure_self_signed(const char *cert_path, const char *key_path, char *err,
			      size_t errlen);
/* Reads a whole PEM file into a malloc'd NUL-terminated string. */
char *vh_tls_read_pem(const char *path, char *err, size_t errlen);
/* SHA-256 fingerprint of a PEM certificate, "AB:CD:…" (for the log). */
int vh_tls_fingerprint(const char *cert_path, char *out, size_t cap);

#endif
