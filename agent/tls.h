/* SPDX-License-Identifier: Apache-2.0 */
/* TLS material for the HTTPS listener.  libmicrohttpd does TLS through
 * GnuTLS; the key and certificate are made here with OpenSSL (PEM, which
 * GnuTLS loads).  At first start, when no certificate is configured, the
 * agent makes an ECDSA P-256 key (mode 0600) and a self-signed leaf
 * certificate (CA:FALSE, serverAuth) valid for a year with subjectAltName
 * localhost, 127.0.0.1, ::1 and the host name, under <state>/tls/, with a
 * marker ("agent-made") naming its public key; at a later start within
 * 30 days of its end the certificate is made anew for the same key. */
#ifndef VH_AGENT_TLS_H
#define VH_AGENT_TLS_H

#include <stddef.h>

/* Makes key_path and cert_path unless both exist; when they do, renews
 * a certificate the agent made (the marker beside it names its key)
 * that ends within 30 days, and leaves any other alone.  Returns 1 when
 * it made them, 2 when it renewed the certificate, 0 when it left them,
 * -1 on error. */
int vh_tls_ensure_self_signed(const char *cert_path, const char *key_path, char *err,
			      size_t errlen);
/* Reads a whole PEM file into a malloc'd NUL-terminated string. */
char *vh_tls_read_pem(const char *path, char *err, size_t errlen);
/* SHA-256 fingerprint of a PEM certificate, "AB:CD:…" (for the log). */
int vh_tls_fingerprint(const char *cert_path, char *out, size_t cap);

#endif
