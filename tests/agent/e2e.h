/* SPDX-License-Identifier: Apache-2.0 */
/* End-to-end tests of vhagent: a real vh-hosted on /dev/kvm and a real
 * agent (both from this build tree), driven over HTTP with libcurl.  No
 * mocks: what the tests see is what curl, vhctl and Ansible see.
 *
 * One hypervisor and one agent serve the whole program (started by the
 * first test that asks, stopped at exit), in tests/agent/runs/e2e/;
 * every test uses VM names of its own, so the order does not matter. */
#ifndef VH_E2E_H
#define VH_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct e2e_env {
	char run[512];   /* the run folder */
	char state[600]; /* the agent's state folder */
	char hv_sock[600];
	char agent_sock[600];
	char cacert[700]; /* <state>/tls/cert.pem */
	int https_port;
	int hv_pid, agent_pid;
	char admin_token[128];
	char operator_token[128];
	char viewer_token[128];
};

/* Starts vh-hosted and vhagent once (fails the test when it cannot). */
const struct e2e_env *e2e_env(void);

struct e2e_resp {
	long code;
	char *body;
	size_t len;
	char etag[64];
	char location[160];
	char content_type[96];
	char allow[96];
	char replayed[16];
	struct json_object *json; /* the body parsed, when it is JSON */
};
void e2e_resp_free(struct e2e_resp *r);

/* How to reach the agent. */
enum e2e_via {
	E2E_UNIX,  /* the unix socket as root: admin without a token */
	E2E_HTTPS, /* HTTPS on 127.0.0.1 with --cacert <state>/tls/cert.pem */
};

/* One request.  body may be NULL; headers is a NULL-terminated list of
 * "Name: value" (NULL for none); a JSON body gets Content-Type
 * application/json unless headers name one.  token: a bearer token or
 * NULL.  Returns the status code (0 when the transfer failed).  Each
 * thread keeps its own keep-alive connection. */
long e2e_req(struct e2e_resp *r, enum e2e_via via, const char *token, const char *method,
	     const char *path, const char *body, const char *const *headers);
/* Threads other than main call this before they end (their libcurl
 * handles are thread-local). */
void e2e_thread_done(void);
/* The unix socket as admin, the common case. */
long e2e_call(struct e2e_resp *r, const char *method, const char *path, const char *body);

/* Checks a problem+json reply: this status, stable code and (when not
 * NULL) field; prints the body when the status differs. */
void e2e_expect_problem(struct e2e_resp *r, long status, const char *code, const char *field);
/* e2e_call, then e2e_expect_problem on its reply (freed): a refusal. */
void e2e_call_expect_problem(const char *method, const char *path, const char *body, long status,
			     const char *code, const char *field);

/* Fields of a JSON object by dotted path ("cpu.shares", "items.0.name"). */
struct json_object *e2e_get(struct json_object *o, const char *path);
const char *e2e_str(struct json_object *o, const char *path); /* NULL when absent */
int64_t e2e_int(struct json_object *o, const char *path);     /* INT64_MIN when absent */

/* Defines a VM {"name":name,"vcpus":1,"memory_mib":16,kernel spinner.elf}
 * (extra: more JSON members, "" for none) and asserts 201. */
void e2e_define(const char *name, const char *extra);
/* Deletes a VM whatever its state (test clean-up). */
void e2e_destroy(const char *name);
/* vh-msg ARGS against the test's hypervisor, past the agent: its exit status. */
int e2e_vh_msg(const char *args);
/* The value of an unlabelled /metrics sample (-1 when absent). */
double e2e_metric(const char *name);

#endif
