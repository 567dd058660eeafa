/* SPDX-License-Identifier: Apache-2.0 */
/* TLS material (agent/tls.h): the key and self-signed certificate are made
 * once, the key is private and matches, the certificate is a leaf (not a
 * CA) valid for a year that verifies as its own anchor for localhost,
 * 127.0.0.1 and ::1, it is renewed near its end only when the agent made
 * it, and a real handshake works:
 * libmicrohttpd (GnuTLS) serves with them and libcurl (OpenSSL) pinning
 * the certificate with CURLOPT_CAINFO, as `curl --cacert` does, accepts
 * it, while an unpinned client and a wrong host name are refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "agent/tls.h"
#include "agent_test.h"
#include "vh_test.h"

struct material {
	char *dir;
	char cert[4096], key[4096];
};

static int make(struct material *m, const char *tag)
{
	char err[256] = "";
	int rc;

	m->dir = at_tempdir(tag);
	if (!m->dir)
		return -1;
	snprintf(m->cert, sizeof(m->cert), "%s/tls/cert.pem", m->dir);
	snprintf(m->key, sizeof(m->key), "%s/tls/key.pem", m->dir);
	rc = vh_tls_ensure_self_signed(m->cert, m->key, err, sizeof(err));
	if (rc != 1)
		printf("# vh_tls_ensure_self_signed: %d %s\n", rc, err);
	return rc;
}

static void drop(struct material *m)
{
	at_rm_rf(m->dir);
	free(m->dir);
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return c;
}

VH_TEST(tls, ensure_makes_once)
{
	struct material m;
	char err[256];
	struct stat st;

	VH_ASSERT_EQ(make(&m, "tls-once"), 1);
	VH_ASSERT_EQ(stat(m.key, &st), 0);
	VH_EXPECT_EQ(st.st_mode & 0777, 0600u);
	VH_ASSERT_EQ(stat(m.cert, &st), 0);
	VH_EXPECT_EQ(st.st_mode & 0777, 0644u);
	char *k1 = at_read_file(m.key, NULL), *c1 = at_read_file(m.cert, NULL);
	VH_ASSERT(k1 && c1);
	VH_EXPECT(strstr(k1, "-----BEGIN PRIVATE KEY-----") != NULL);
	VH_EXPECT(strstr(c1, "-----BEGIN CERTIFICATE-----") != NULL);
	/* Both exist: nothing is made or changed. */
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	char *k2 = at_read_file(m.key, NULL), *c2 = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(k1, k2);
	VH_EXPECT_STREQ(c1, c2);
	free(k2);
	free(c2);
	/* Half a pair (a crash between the two writes): both are made anew. */
	VH_ASSERT_EQ(unlink(m.cert), 0);
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 1);
	k2 = at_read_file(m.key, NULL);
	VH_EXPECT(k2 && strcmp(k1, k2) != 0);
	free(k2);
	free(k1);
	free(c1);
	/* No temporary files left beside them. */
	char tdir[4096];
	snprintf(tdir, sizeof(tdir), "%s/tls", m.dir);
	VH_EXPECT_EQ(at_count(tdir, ""), 3); /* key, certificate, agent-made marker */
	/* An unwritable place is an error with a reason. */
	err[0] = '\0';
	VH_EXPECT_EQ(vh_tls_ensure_self_signed("/proc/vh-no/cert.pem", "/proc/vh-no/key.pem", err,
					       sizeof(err)),
		     -1);
	VH_EXPECT(err[0] != '\0');
	drop(&m);
}

VH_TEST(tls, key_matches_and_certificate_is_its_own_anchor)
{
	struct material m;

	VH_ASSERT_EQ(make(&m, "tls-verify"), 1);
	X509 *cert = load_cert(m.cert);
	VH_ASSERT(cert != NULL);
	FILE *f = fopen(m.key, "re");
	VH_ASSERT(f != NULL);
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	VH_ASSERT(key != NULL);
	VH_EXPECT_EQ(X509_check_private_key(cert, key), 1);
	VH_EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	VH_EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
	char group[64] = "";
	size_t glen = 0;
	EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen);
	VH_EXPECT_STREQ(group, "prime256v1");
	VH_EXPECT_EQ(X509_get_version(cert), (long)X509_VERSION_3);

	/* Valid now and for about a year. */
	int days = 0, secs = 0;
	VH_ASSERT_EQ(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)), 1);
	VH_EXPECT_GE(days, 364);
	VH_EXPECT_LE(days, 366);
	VH_EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);

	/* A leaf: not a CA (a client pinning it must not trust what its key
	 * signs), signing for TLS servers only. */
	VH_EXPECT_EQ(X509_check_ca(cert), 0);
	VH_EXPECT(X509_get_extension_flags(cert) & EXFLAG_BCONS);
	VH_EXPECT_EQ(X509_get_key_usage(cert), (uint32_t)KU_DIGITAL_SIGNATURE);
	VH_EXPECT_EQ(X509_get_extended_key_usage(cert), (uint32_t)XKU_SSL_SERVER);
	VH_EXPECT_EQ(X509_self_signed(cert, 1), 1);

	/* Verified with itself as the only trust anchor, for each name, as
	 * `openssl verify -CAfile cert.pem cert.pem` with -verify_hostname /
	 * -verify_ip and -purpose sslserver does. */
	static const struct {
		const char *host, *ip;
		int want;
	} cases[] = {
		{ "localhost", NULL, 1 },   { NULL, "127.0.0.1", 1 }, { NULL, "::1", 1 },
		{ "example.com", NULL, 0 }, { NULL, "10.0.0.1", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509_STORE *st = X509_STORE_new();
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		VH_ASSERT(st && ctx);
		X509_STORE_add_cert(st, cert);
		X509_STORE_CTX_init(ctx, st, cert, NULL);
		X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
		if (cases[i].host)
			X509_VERIFY_PARAM_set1_host(p, cases[i].host, 0);
		else
			X509_VERIFY_PARAM_set1_ip_asc(p, cases[i].ip);
		int ok = X509_verify_cert(ctx);
		if (ok != cases[i].want)
			VH_FAIL("verify for %s: %d (%s), want %d",
				cases[i].host ? cases[i].host : cases[i].ip, ok,
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
				cases[i].want);
		X509_STORE_CTX_free(ctx);
		X509_STORE_free(st);
	}

	/* The host name is in the SAN too (when it is a plain DNS name). */
	char host[256];
	if (gethostname(host, sizeof(host)) == 0 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(host) &&
	    strcmp(host, "localhost") != 0)
		VH_EXPECT_EQ(X509_check_host(cert, host, 0, 0, NULL), 1);
	EVP_PKEY_free(key);
	X509_free(cert);
	drop(&m);
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

/* As `openssl req -x509 -days 1 -key KEY` would: a self-signed
 * certificate for key that ends in a day, written to path. */
static int write_short_cert(const char *path, EVP_PKEY *key)
{
	X509 *c = X509_new();
	FILE *f;
	int ok = c && X509_set_version(c, X509_VERSION_3) &&
		 ASN1_INTEGER_set(X509_get_serialNumber(c), 7) &&
		 X509_gmtime_adj(X509_getm_notBefore(c), 0) &&
		 X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600) && X509_set_pubkey(c, key) &&
		 X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
					    (const unsigned char *)"localhost", -1, -1, 0) &&
		 X509_set_issuer_name(c, X509_get_subject_name(c)) &&
		 X509_sign(c, key, EVP_sha256());

	f = ok ? fopen(path, "we") : NULL;
	ok = f && PEM_write_X509(f, c);
	if (f)
		fclose(f);
	X509_free(c);
	return ok ? 0 : -1;
}

static int days_left(const char *cert_path)
{
	X509 *c = load_cert(cert_path);
	int days = -1, secs = 0;

	if (c)
		ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(c));
	X509_free(c);
	return days;
}

/* A certificate in the shape agents before the leaf made: O=vh, CN, a
 * ten-year CA with keyCertSign, self-issued; span in seconds. */
static int write_old_agent_cert(const char *path, EVP_PKEY *key, long span)
{
	X509 *c = X509_new();
	X509_NAME *n = c ? X509_get_subject_name(c) : NULL;
	X509V3_CTX ctx;
	X509_EXTENSION *bc = NULL, *ku = NULL;
	FILE *f;
	int ok = n && X509_set_version(c, X509_VERSION_3) &&
		 ASN1_INTEGER_set(X509_get_serialNumber(c), 9) &&
		 X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
		 X509_gmtime_adj(X509_getm_notAfter(c), span - 3600) && X509_set_pubkey(c, key) &&
		 X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"vh", -1,
					    -1, 0) &&
		 X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					    (const unsigned char *)"localhost", -1, -1, 0) &&
		 X509_set_issuer_name(c, n);

	if (ok) {
		X509V3_set_ctx(&ctx, c, c, NULL, NULL, 0);
		bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		ku = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
					 "critical,digitalSignature,keyCertSign");
		ok = bc && ku && X509_add_ext(c, bc, -1) && X509_add_ext(c, ku, -1) &&
		     X509_sign(c, key, EVP_sha256());
	}
	X509_EXTENSION_free(bc);
	X509_EXTENSION_free(ku);
	f = ok ? fopen(path, "we") : NULL;
	ok = f && PEM_write_X509(f, c);
	if (f)
		fclose(f);
	X509_free(c);
	return ok ? 0 : -1;
}

VH_TEST(tls, an_older_agents_ca_certificate_becomes_a_leaf_for_the_same_key)
{
	const long old_span = (10L * 365 + 3) * 24 * 3600 + 3600;
	struct material m;
	char err[256], marker[4200];

	VH_ASSERT_EQ(make(&m, "tls-legacy"), 1);
	snprintf(marker, sizeof(marker), "%s/tls/agent-made", m.dir);
	EVP_PKEY *key = load_key(m.key);
	VH_ASSERT(key != NULL);

	/* An operator's self-signed CA of another span: never touched. */
	VH_ASSERT_EQ(unlink(marker), 0);
	VH_ASSERT_EQ(write_old_agent_cert(m.cert, key, old_span - 24 * 3600), 0);
	char *c0 = at_read_file(m.cert, NULL);
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	char *c1 = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(c0, c1);
	free(c0);
	free(c1);

	/* What an older agent made, with no marker: replaced by a leaf. */
	VH_ASSERT_EQ(write_old_agent_cert(m.cert, key, old_span), 0);
	X509 *cert = load_cert(m.cert);
	VH_ASSERT(cert != NULL);
	VH_EXPECT_EQ(X509_check_ca(cert), 1);
	X509_free(cert);
	int rc = vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err));
	if (rc != 2)
		VH_FAIL("replacing the older agent's CA: %d (%s), want 2", rc, err);
	cert = load_cert(m.cert);
	VH_ASSERT(cert != NULL);
	VH_EXPECT_EQ(X509_check_ca(cert), 0);
	VH_EXPECT_EQ(X509_check_private_key(cert, key), 1);
	X509_free(cert);
	VH_EXPECT_EQ(access(marker, F_OK), 0);
	/* Now the agent's own: left alone until near its end. */
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	EVP_PKEY_free(key);
	drop(&m);
}

VH_TEST(tls, renews_only_its_own_certificate_near_its_end)
{
	struct material m;
	char err[256];

	VH_ASSERT_EQ(make(&m, "tls-renew"), 1);
	/* Far from its end: left alone. */
	char *c0 = at_read_file(m.cert, NULL);
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	char *c1 = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(c0, c1);
	free(c0);
	free(c1);

	/* Its own key, a day left: a new year-long leaf for the same key. */
	EVP_PKEY *key = load_key(m.key);
	VH_ASSERT(key != NULL);
	VH_ASSERT_EQ(write_short_cert(m.cert, key), 0);
	VH_ASSERT_LE(days_left(m.cert), 1);
	char *k0 = at_read_file(m.key, NULL);
	int rc = vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err));
	if (rc != 2)
		VH_FAIL("renewal: %d (%s), want 2", rc, err);
	VH_EXPECT_GE(days_left(m.cert), 364);
	X509 *cert = load_cert(m.cert);
	VH_ASSERT(cert != NULL);
	VH_EXPECT_EQ(X509_check_private_key(cert, key), 1);
	VH_EXPECT_EQ(X509_check_ca(cert), 0);
	X509_free(cert);
	char *k1 = at_read_file(m.key, NULL);
	VH_EXPECT_STREQ(k0, k1); /* the key stays: pins of it still hold */
	free(k1);

	/* No marker: it may be an operator's, near its end or not. */
	char marker[4200];
	snprintf(marker, sizeof(marker), "%s/tls/agent-made", m.dir);
	VH_ASSERT_EQ(write_short_cert(m.cert, key), 0);
	char *mk = at_read_file(marker, NULL);
	VH_ASSERT(mk != NULL);
	VH_ASSERT_EQ(unlink(marker), 0);
	c0 = at_read_file(m.cert, NULL);
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	c1 = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(c0, c1);
	free(c1);

	/* The marker names the agent's key, but an operator put a
	 * certificate for another key there: never touched. */
	VH_ASSERT_EQ(at_write_file(marker, mk, strlen(mk)), 0);
	EVP_PKEY *other = EVP_EC_gen("P-256");
	VH_ASSERT(other != NULL);
	VH_ASSERT_EQ(write_short_cert(m.cert, other), 0);
	FILE *f = fopen(m.key, "we");
	VH_ASSERT(f != NULL);
	VH_EXPECT_EQ(PEM_write_PrivateKey(f, other, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	free(c0);
	c0 = at_read_file(m.cert, NULL);
	VH_EXPECT_EQ(vh_tls_ensure_self_signed(m.cert, m.key, err, sizeof(err)), 0);
	c1 = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(c0, c1);
	VH_EXPECT_LE(days_left(m.cert), 1);
	free(c0);
	free(c1);
	free(k0);
	free(mk);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	drop(&m);
}

VH_TEST(tls, fingerprint_and_read_pem)
{
	struct material m;
	char fp[128], err[256], want[128];
	unsigned char md[32], *der = NULL;

	VH_ASSERT_EQ(make(&m, "tls-fp"), 1);
	VH_ASSERT_EQ(vh_tls_fingerprint(m.cert, fp, sizeof(fp)), 0);
	/* Independently: SHA-256 of the DER encoding. */
	X509 *cert = load_cert(m.cert);
	VH_ASSERT(cert != NULL);
	int n = i2d_X509(cert, &der);
	VH_ASSERT(n > 0);
	VH_ASSERT_EQ(EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(want + 3 * i, sizeof(want) - 3 * (size_t)i, "%02X%s", md[i],
			 i < 31 ? ":" : "");
	VH_EXPECT_STREQ(fp, want);
	VH_EXPECT_EQ(strlen(fp), (size_t)95);
	OPENSSL_free(der);
	X509_free(cert);
	VH_EXPECT_EQ(vh_tls_fingerprint(m.cert, fp, 50), -1); /* too small */
	VH_EXPECT_EQ(vh_tls_fingerprint(m.key, fp, sizeof(fp)), -1);
	VH_EXPECT_EQ(vh_tls_fingerprint("/nonexistent/cert.pem", fp, sizeof(fp)), -1);

	char *pem = vh_tls_read_pem(m.cert, err, sizeof(err));
	VH_ASSERT(pem != NULL);
	char *raw = at_read_file(m.cert, NULL);
	VH_EXPECT_STREQ(pem, raw);
	free(raw);
	free(pem);
	err[0] = '\0';
	VH_EXPECT(vh_tls_read_pem("/nonexistent/x.pem", err, sizeof(err)) == NULL);
	VH_EXPECT(strstr(err, "/nonexistent/x.pem") != NULL);
	char junk[4096];
	snprintf(junk, sizeof(junk), "%s/junk.pem", m.dir);
	VH_ASSERT_EQ(at_write_file(junk, "hello", 5), 0);
	VH_EXPECT(vh_tls_read_pem(junk, err, sizeof(err)) == NULL);
	VH_EXPECT(strstr(err, "not a PEM") != NULL);
	drop(&m);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static int first;
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	if (*state == NULL) {
		*state = &first;
		return MHD_YES;
	}
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	char *buf = ud;
	size_t have = strlen(buf), len = size * n;

	if (have + len < 64) {
		memcpy(buf + have, p, len);
		buf[have + len] = '\0';
	}
	return len;
}

/* One GET; returns the curl code, body in body (64 bytes). */
static CURLcode get(const char *url, const char *cainfo, const char *resolve, char *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *res = NULL;
	CURLcode rc;

	body[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	if (resolve) {
		res = curl_slist_append(NULL, resolve);
		curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(res);
	return rc;
}

VH_TEST(tls, libmicrohttpd_serves_it_and_curl_pins_it)
{
	struct material m;
	char err[256], url[128], body[64], resolve[128];

	VH_ASSERT_EQ(make(&m, "tls-https"), 1);
	char *key = vh_tls_read_pem(m.key, err, sizeof(err));
	char *cert = vh_tls_read_pem(m.cert, err, sizeof(err));
	VH_ASSERT(key && cert);
	struct MHD_Daemon *d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_DUAL_STACK, 0,
			     NULL, NULL, answer, NULL, MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
	VH_ASSERT(d != NULL);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	VH_ASSERT(info != NULL && info->port != 0);
	unsigned port = info->port;

	VH_ASSERT_EQ((int)curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	static const char *const hosts[] = { "localhost", "127.0.0.1", "[::1]" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "https://%s:%u/", hosts[i], port);
		CURLcode rc = get(url, m.cert, NULL, body);
		if (rc != CURLE_OK)
			VH_FAIL("%s with the certificate pinned: %s", url, curl_easy_strerror(rc));
		VH_EXPECT_STREQ(body, "ok\n");
	}
	/* Pinned to another agent's certificate: refused. */
	struct material other;
	VH_ASSERT_EQ(make(&other, "tls-other"), 1);
	snprintf(url, sizeof(url), "https://localhost:%u/", port);
	VH_EXPECT_EQ((int)get(url, other.cert, NULL, body), CURLE_PEER_FAILED_VERIFICATION);
	drop(&other);
	/* A name the certificate does not carry: refused. */
	snprintf(url, sizeof(url), "https://vh-other.example:%u/", port);
	snprintf(resolve, sizeof(resolve), "vh-other.example:%u:127.0.0.1", port);
	VH_EXPECT_EQ((int)get(url, m.cert, resolve, body), CURLE_PEER_FAILED_VERIFICATION);
	curl_global_cleanup();
	MHD_stop_daemon(d);
	free(key);
	free(cert);
	drop(&m);
}
