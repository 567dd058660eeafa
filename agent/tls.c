/* SPDX-License-Identifier: Apache-2.0 */
/* TLS material (agent/tls.h): an ECDSA P-256 key and a self-signed X.509v3
 * certificate, made with the OpenSSL 3 EVP API and written as PEM.
 *
 * The certificate is a leaf that clients pin as their trust anchor
 * (`curl --cacert cert.pem`): basicConstraints CA:FALSE, keyUsage
 * digitalSignature, extendedKeyUsage serverAuth, subjectAltName
 * localhost, 127.0.0.1, ::1 and the host name.  It must not be a CA: a
 * client that trusts it would otherwise trust any certificate signed
 * with the agent's key.  OpenSSL 3 (curl, vhctl, Python's ssl, strict
 * mode included), and GnuTLS accept a self-signed leaf found among the
 * trusted certificates as its own anchor.  It is valid for a year and
 * made anew, with the same key, at a start within 30 days of its end.
 *
 * What the agent made is told apart from what an operator put in its
 * place by a marker file beside the certificate holding the SHA-256 of
 * the public key the agent made: a certificate whose key is another is
 * never touched.  Order of writing, each atomically: the key (0600), the
 * marker, the certificate, so a crash leaves at worst a key without a
 * certificate, which the next start replaces. */
#define _GNU_SOURCE
#include "agent/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent/fsutil.h"

#define VALID_DAYS 365
#define RENEW_DAYS 30
#define PEM_MAX    (1u << 20)
#define MARKER     "agent-made"

static void ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "unknown error";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, buf);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A DNS name for the SAN: the host name when it is a plain one. */
static int host_name(char *out, size_t cap)
{
	if (gethostname(out, cap) < 0)
		return 0;
	out[cap - 1] = '\0';
	if (!*out || strcmp(out, "localhost") == 0)
		return 0;
	for (const char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

static X509 *make_cert(EVP_PKEY *key, char *err, size_t errlen)
{
	X509 *cert = X509_new();
	X509_NAME *subj;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char host[256], san[512];
	int have_host = host_name(host, sizeof(host));

	if (!cert)
		goto fail;
	/* A positive 127-bit random serial (RFC 5280: unique, <= 20 bytes). */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		goto fail;
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), (long)VALID_DAYS * 24 * 3600) ||
	    !X509_set_pubkey(cert, key))
		goto fail;
	subj = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *)"vh", -1,
					-1, 0) ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
					(const unsigned char *)(have_host ? host : "localhost"), -1,
					-1, 0) ||
	    !X509_set_issuer_name(cert, subj))
		goto fail;
	snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1%s%s",
		 have_host ? ",DNS:" : "", have_host ? host : "");
	if (!add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, NID_key_usage,
		     EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
			 ? "critical,digitalSignature,keyEncipherment"
			 : "critical,digitalSignature") ||
	    !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(cert, NID_subject_key_identifier, "hash") ||
	    !add_ext(cert, NID_authority_key_identifier, "keyid:always") ||
	    !add_ext(cert, NID_subject_alt_name, san))
		goto fail;
	if (!X509_sign(cert, key, EVP_sha256()))
		goto fail;
	BN_free(bn);
	return cert;
fail:
	ssl_error(err, errlen, "making the certificate");
	BN_free(bn);
	X509_free(cert);
	return NULL;
}

/* The PEM text a write callback produced into a memory BIO. */
static int bio_text(BIO *b, const char **data, size_t *len)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0)
		return -1;
	*data = p;
	*len = (size_t)n;
	return 0;
}

static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash || slash == path)
		return 0;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return vh_fs_mkdir_p(dir, 0700, err, errlen);
}

/* Writes obj as PEM (through write) atomically to path with mode. */
static int write_pem(const char *path, mode_t mode, int (*write)(BIO *, const void *),
		     const void *obj, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	const char *data;
	size_t len;
	int rc = -1;

	if (!b || !write(b, obj)) {
		ssl_error(err, errlen, "writing PEM");
		goto out;
	}
	if (bio_text(b, &data, &len) == 0 &&
	    vh_fs_write_atomic(path, data, len, mode, err, errlen) == 0)
		rc = 0;
out:
	BIO_free(b);
	return rc;
}

/* PKCS#8 "PRIVATE KEY", which GnuTLS and OpenSSL both load. */
static int pem_key(BIO *b, const void *key)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)key, NULL, NULL, 0, NULL, NULL);
}

static int pem_cert(BIO *b, const void *cert)
{
	return PEM_write_bio_X509(b, (X509 *)cert);
}

/* The marker's path: "agent-made" beside the certificate. */
static void marker_path(const char *cert_path, char *out, size_t cap)
{
	const char *slash = strrchr(cert_path, '/');
	int n = slash ? (int)(slash - cert_path) : 0;

	snprintf(out, cap, "%.*s%s" MARKER, n, cert_path, slash ? "/" : "");
}

/* The marker's text for a public key: "sha256:<hex of its DER>\n". */
static int key_mark(EVP_PKEY *key, char *out, size_t cap)
{
	unsigned char *der = NULL, md[32];
	int n = i2d_PUBKEY(key, &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) && cap >= 73;

	OPENSSL_free(der);
	if (!ok)
		return -1;
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, cap - 7 - 2 * (size_t)i, "%02x", md[i]);
	out[71] = '\n';
	out[72] = '\0';
	return 0;
}

/* Whether the agent made cert (the marker names its public key). */
static bool agent_made(const char *cert_path, X509 *cert)
{
	char path[PATH_MAX], want[80], *have = NULL;
	size_t len;
	bool made;

	marker_path(cert_path, path, sizeof(path));
	if (key_mark(X509_get0_pubkey(cert), want, sizeof(want)) < 0 ||
	    vh_fs_read_at(AT_FDCWD, path, 4096, &have, &len) < 0)
		return false;
	made = strcmp(have, want) == 0;
	free(have);
	return made;
}

/* Agents before the leaf certificate made a ten-year CA (CA:TRUE,
 * keyCertSign) and wrote no marker.  Such a certificate is recognised by
 * every mark of how they made it: self-issued, subject exactly O=vh plus
 * a CN, a CA with keyCertSign, valid for exactly LEGACY_SPAN seconds.  It
 * is replaced by a leaf for the same key at the next start, so an upgrade
 * closes the door it left open (a client that pinned it as its anchor
 * would trust anything signed with the agent's key). */
#define LEGACY_SPAN ((10L * 365 + 3) * 24 * 3600 + 3600)

static bool made_by_older_agent(X509 *cert)
{
	X509_NAME *subj = X509_get_subject_name(cert);
	X509_NAME_ENTRY *o = X509_NAME_entry_count(subj) == 2 ? X509_NAME_get_entry(subj, 0) : NULL;
	ASN1_STRING *ov = o ? X509_NAME_ENTRY_get_data(o) : NULL;
	int days = 0, secs = 0;

	return ov && OBJ_obj2nid(X509_NAME_ENTRY_get_object(o)) == NID_organizationName &&
	       ASN1_STRING_length(ov) == 2 && memcmp(ASN1_STRING_get0_data(ov), "vh", 2) == 0 &&
	       OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(subj, 1))) ==
		   NID_commonName &&
	       X509_NAME_cmp(subj, X509_get_issuer_name(cert)) == 0 && X509_check_ca(cert) == 1 &&
	       (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) &&
	       ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) &&
	       (long)days * 24 * 3600 + secs == LEGACY_SPAN;
}

/* Writes the marker naming key as the agent's own. */
static int write_marker(const char *cert_path, EVP_PKEY *key, char *err, size_t errlen)
{
	char path[PATH_MAX], mark[80];

	marker_path(cert_path, path, sizeof(path));
	if (key_mark(key, mark, sizeof(mark)) < 0) {
		ssl_error(err, errlen, "hashing the public key");
		return -1;
	}
	return vh_fs_write_atomic(path, mark, strlen(mark), 0644, err, errlen) < 0 ? -1 : 0;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return cert;
}

/* A certificate the agent made, within RENEW_DAYS of its end: a new one
 * for the same key.  Returns 2 when renewed, 0 when left alone. */
static int renew(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	X509 *old = read_cert(cert_path), *cert = NULL;
	EVP_PKEY *key = NULL;
	FILE *f;
	int days = 0, secs = 0, rc = 0;

	bool legacy;

	ERR_clear_error();
	if (!old)
		goto out;
	legacy = !agent_made(cert_path, old) && made_by_older_agent(old);
	if (!legacy &&
	    (!agent_made(cert_path, old) ||
	     !ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(old)) || days >= RENEW_DAYS))
		goto out;
	rc = -1;
	f = fopen(key_path, "re");
	key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key || X509_check_private_key(old, key) != 1) {
		ssl_error(err, errlen, "renewing the certificate: its key");
		goto out;
	}
	cert = make_cert(key, err, errlen);
	if (cert && (!legacy || write_marker(cert_path, key, err, errlen) == 0) &&
	    write_pem(cert_path, 0644, pem_cert, cert, err, errlen) == 0)
		rc = 2;
out:
	ERR_clear_error();
	X509_free(cert);
	X509_free(old);
	EVP_PKEY_free(key);
	return rc;
}

int vh_tls_ensure_self_signed(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = -1;

	if (access(cert_path, F_OK) == 0 && access(key_path, F_OK) == 0)
		return renew(cert_path, key_path, err, errlen);
	if (make_parent(key_path, err, errlen) < 0 || make_parent(cert_path, err, errlen) < 0)
		return -1;
	key = EVP_EC_gen("P-256");
	if (!key) {
		ssl_error(err, errlen, "making the P-256 key");
		goto out;
	}
	cert = make_cert(key, err, errlen);
	if (!cert)
		goto out;
	if (write_pem(key_path, 0600, pem_key, key, err, errlen) < 0 ||
	    write_marker(cert_path, key, err, errlen) < 0 ||
	    write_pem(cert_path, 0644, pem_cert, cert, err, errlen) < 0)
		goto out;
	rc = 1;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

char *vh_tls_read_pem(const char *path, char *err, size_t errlen)
{
	char *data;
	size_t len;

	if (vh_fs_read_at(AT_FDCWD, path, PEM_MAX, &data, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!strstr(data, "-----BEGIN ")) {
		snprintf(err, errlen, "%s: not a PEM file", path);
		free(data);
		return NULL;
	}
	return data;
}

int vh_tls_fingerprint(const char *cert_path, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *cert = NULL;
	FILE *f = fopen(cert_path, "re");
	int rc = -1;

	if (!f)
		return -1;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!cert || !X509_digest(cert, EVP_sha256(), md, &n) || cap < (size_t)n * 3) {
		ERR_clear_error();
		goto out;
	}
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 3 * i, cap - 3 * i, "%02X%s", md[i], i + 1 < n ? ":" : "");
	rc = 0;
out:
	X509_free(cert);
	return rc;
}
