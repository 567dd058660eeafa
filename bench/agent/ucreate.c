/* SPDX-License-Identifier: Apache-2.0 */
/* ucreate: POST /v1/vms N times, one after another, over one keep-alive
 * libcurl connection to the agent's unix socket, and print the total
 * time.  Every response must be 201 (else exit 1).
 *
 *   ucreate --socket PATH [-n N] [--prefix NAME] [--kernel IMAGE] [--cmdline ARGS]
 * ARGS: the guest's command line, letters, digits, "=", "," and spaces only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *prefix = "bench", *kernel = "", *cmdline = "";
	int n = 1000;
	struct curl_slist *hdrs = NULL;
	struct timespec t0, t1;
	CURL *h;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc)
			kernel = argv[++i];
		else if (strcmp(argv[i], "--cmdline") == 0 && i + 1 < argc &&
			 strspn(argv[i + 1], "abcdefghijklmnopqrstuvwxyz0123456789=, ") ==
			     strlen(argv[i + 1]))
			cmdline = argv[++i];
		else {
			fprintf(stderr, "usage: ucreate --socket PATH [-n N] [--prefix NAME] "
					"[--kernel IMAGE] [--cmdline ARGS]\n");
			return 2;
		}
	}
	if (!sock) {
		fprintf(stderr, "ucreate: --socket is needed\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, "http://localhost/v1/vms");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		char body[512];
		long code = 0;
		CURLcode rc;

		snprintf(body, sizeof(body),
			 "{\"name\":\"%s%d\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"%"
			 "s\",\"cmdline\":\"%s\"}}",
			 prefix, i, kernel, cmdline);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (rc != CURLE_OK || code != 201) {
			fprintf(stderr, "ucreate: request %d: %s, status %ld\n", i,
				curl_easy_strerror(rc), code);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		double s =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%d creates in %.3f s: %.2f ms each, %.0f per second\n", n, s, s * 1000 / n,
		       n / s);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return 0;
}
