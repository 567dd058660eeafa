/* SPDX-License-Identifier: Apache-2.0 */
/* The route table: matching with path parameters, 404 against 405 with
 * Allow, HEAD as GET, the roles each operation needs, --routes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/resources.h"
#include "agent/router.h"
#include "vh_test.h"

static enum vh_route_match find(enum vh_method m, const char *path, struct vh_req *r,
				const struct vh_route **rt, char *allow)
{
	memset(r, 0, sizeof(*r));
	*rt = NULL;
	return vh_route_find(m, path, r, rt, allow, 64);
}

VH_TEST(router, matches_with_parameters)
{
	const struct vh_route *rt;
	struct vh_req r;
	char allow[64];

	VH_ASSERT_EQ((int)find(VH_M_GET, "/v1/vms", &r, &rt, allow), (int)VH_ROUTE_FOUND);
	VH_EXPECT(rt->handle == vh_res_vms_list);
	VH_ASSERT_EQ((int)find(VH_M_POST, "/v1/vms", &r, &rt, allow), (int)VH_ROUTE_FOUND);
	VH_EXPECT(rt->handle == vh_res_vms_create);
	VH_EXPECT_EQ((int)rt->body, (int)VH_BODY_JSON);
	VH_ASSERT_EQ((int)find(VH_M_GET, "/v1/vms/web1/stats", &r, &rt, allow),
		     (int)VH_ROUTE_FOUND);
	VH_EXPECT(rt->handle == vh_res_vm_stats);
	VH_EXPECT_STREQ(r.params[0], "web1");
	VH_ASSERT_EQ((int)find(VH_M_PUT, "/v1/vms/6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7a1b2c/power", &r,
			       &rt, allow),
		     VH_ROUTE_FOUND);
	VH_EXPECT_STREQ(r.params[0], "6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7a1b2c");
	VH_ASSERT_EQ((int)find(VH_M_PUT, "/v1/images/spinner.elf", &r, &rt, allow),
		     (int)VH_ROUTE_FOUND);
	VH_EXPECT_EQ((int)rt->body, (int)VH_BODY_STREAM);
	VH_EXPECT(rt->stream_begin && rt->stream_data && rt->stream_abort);
	VH_EXPECT_STREQ(r.params[0], "spinner.elf");
	/* HEAD is served by the GET route. */
	VH_ASSERT_EQ((int)find(VH_M_HEAD, "/v1/host", &r, &rt, allow), (int)VH_ROUTE_FOUND);
	VH_EXPECT(rt->handle == vh_res_host_get);
}

VH_TEST(router, not_found_or_not_allowed)
{
	const struct vh_route *rt;
	struct vh_req r;
	char allow[64], longseg[200], path[256];

	VH_EXPECT_EQ((int)find(VH_M_GET, "/v1/nothing", &r, &rt, allow), (int)VH_ROUTE_NO_PATH);
	VH_EXPECT_EQ((int)find(VH_M_GET, "/v1/vms/", &r, &rt, allow),
		     (int)VH_ROUTE_NO_PATH); /* empty segment */
	VH_EXPECT_EQ((int)find(VH_M_GET, "/v1/vms/a/b", &r, &rt, allow), (int)VH_ROUTE_NO_PATH);
	VH_EXPECT_EQ((int)find(VH_M_GET, "/v1/vmsx", &r, &rt, allow), (int)VH_ROUTE_NO_PATH);
	VH_EXPECT_EQ((int)find(VH_M_GET, "", &r, &rt, allow), (int)VH_ROUTE_NO_PATH);
	memset(longseg, 'a', sizeof(longseg) - 1);
	longseg[sizeof(longseg) - 1] = '\0';
	snprintf(path, sizeof(path), "/v1/vms/%s", longseg);
	VH_EXPECT_EQ((int)find(VH_M_GET, path, &r, &rt, allow), (int)VH_ROUTE_NO_PATH);

	VH_EXPECT_EQ((int)find(VH_M_DELETE, "/v1/host", &r, &rt, allow), (int)VH_ROUTE_NO_METHOD);
	VH_EXPECT_STREQ(allow, "GET, HEAD");
	VH_EXPECT_EQ((int)find(VH_M_GET, "/v1/vms/x/reset", &r, &rt, allow),
		     (int)VH_ROUTE_NO_METHOD);
	VH_EXPECT_STREQ(allow, "POST");
	VH_EXPECT_EQ((int)find(VH_M_OTHER, "/v1/vms/x", &r, &rt, allow), (int)VH_ROUTE_NO_METHOD);
	VH_EXPECT_STREQ(allow, "GET, HEAD, PATCH, DELETE");
	VH_EXPECT_EQ((int)find(VH_M_POST, "/v1/images/x", &r, &rt, allow), (int)VH_ROUTE_NO_METHOD);
	VH_EXPECT_STREQ(allow, "GET, HEAD, PUT, DELETE");
}

VH_TEST(router, roles)
{
	static const struct {
		enum vh_method m;
		const char *path;
		enum vh_role role;
	} cases[] = {
		{ VH_M_GET, "/healthz", VH_ROLE_NONE },
		{ VH_M_GET, "/readyz", VH_ROLE_NONE },
		{ VH_M_GET, "/metrics", VH_ROLE_VIEWER },
		{ VH_M_GET, "/v1/vms/x/stats", VH_ROLE_VIEWER },
		/* Viewers may ask why a VM is slow. */
		{ VH_M_GET, "/v1/vms/x/diagnosis", VH_ROLE_VIEWER },
		{ VH_M_GET, "/v1/host/diagnosis", VH_ROLE_VIEWER },
		/* ... and read its console and the event stream. */
		{ VH_M_GET, "/v1/vms/x/console", VH_ROLE_VIEWER },
		{ VH_M_GET, "/v1/events", VH_ROLE_VIEWER },
		{ VH_M_POST, "/v1/vms", VH_ROLE_OPERATOR },
		{ VH_M_PATCH, "/v1/vms/x", VH_ROLE_OPERATOR },
		{ VH_M_PUT, "/v1/vms/x/memory", VH_ROLE_OPERATOR },
		{ VH_M_DELETE, "/v1/images/x", VH_ROLE_OPERATOR },
		/* The datastore: viewers read, operators change. */
		{ VH_M_GET, "/v1/disks", VH_ROLE_VIEWER },
		{ VH_M_GET, "/v1/disks/x", VH_ROLE_VIEWER },
		{ VH_M_POST, "/v1/disks", VH_ROLE_OPERATOR },
		{ VH_M_PUT, "/v1/disks/x", VH_ROLE_OPERATOR },
		{ VH_M_PATCH, "/v1/disks/x", VH_ROLE_OPERATOR },
		{ VH_M_DELETE, "/v1/disks/x", VH_ROLE_OPERATOR },
		{ VH_M_GET, "/v1/tokens", VH_ROLE_ADMIN },
		{ VH_M_POST, "/v1/simulate", VH_ROLE_OPERATOR },
		{ VH_M_POST, "/v1/tokens", VH_ROLE_ADMIN },
		{ VH_M_DELETE, "/v1/tokens/x", VH_ROLE_ADMIN },
	};
	const struct vh_route *rt;
	struct vh_req r;
	char allow[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VH_ASSERT_EQ((int)find(cases[i].m, cases[i].path, &r, &rt, allow),
			     (int)VH_ROUTE_FOUND);
		if (rt->min_role != cases[i].role)
			VH_FAIL("%s %s needs role %d, not %d", vh_method_name(cases[i].m),
				cases[i].path, (int)rt->min_role, (int)cases[i].role);
	}
}

VH_TEST(router, every_route_is_printed_and_found)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *save = NULL, *line;
	int n = 0;

	VH_ASSERT(f != NULL);
	vh_routes_print(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char method[16], pattern[128], path[160], *p, *q;
		enum vh_method m = VH_M_OTHER;
		const struct vh_route *rt;
		struct vh_req r;
		char allow[64];

		VH_ASSERT_EQ(sscanf(line, "%15s %127s", method, pattern), 2);
		for (int k = 0; k < VH_M_COUNT; k++)
			if (strcmp(vh_method_name((enum vh_method)k), method) == 0)
				m = (enum vh_method)k;
		/* {param} -> a value */
		for (p = pattern, q = path; *p; p++) {
			if (*p == '{') {
				q += sprintf(q, "v%d", n);
				p = strchr(p, '}');
			} else {
				*q++ = *p;
			}
		}
		*q = '\0';
		VH_EXPECT_EQ((int)find(m, path, &r, &rt, allow), (int)VH_ROUTE_FOUND);
		if (rt)
			VH_EXPECT_STREQ(rt->pattern, pattern);
		n++;
	}
	VH_EXPECT_EQ(n, 34); /* 28, and the datastore's six */
	free(buf);
}
