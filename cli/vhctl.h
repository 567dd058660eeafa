/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl: the operator's command line for vhagent's REST API
 * (api/openapi.yaml).  What the command files share: the connection and
 * its settings (client.c), the option parser (opts.c), aligned tables
 * and value formatting (table.c), JSON helpers (jsonutil.c).
 *
 * Exit codes are part of the interface (vhctl.1 documents them): scripts
 * switch on them, so a code never changes meaning. */
#ifndef VHCTL_H
#define VHCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "api/vh_api.h"

enum vhctl_exit {
	VHCTL_OK = 0,
	VHCTL_ERROR = 1,     /* a server error (5xx) or anything else */
	VHCTL_USAGE = 2,     /* a bad command line, or a request the API found invalid */
	VHCTL_NOT_FOUND = 3, /* 404 */
	VHCTL_CONFLICT = 4,  /* 409, 412, 428 */
	VHCTL_AUTH = 5,      /* 401, 403 */
	VHCTL_CONNECT = 6,   /* no connection to the agent (or TLS failed) */
};

enum vhctl_output { VHCTL_OUT_TABLE, VHCTL_OUT_JSON };

#define VHCTL_DEFAULT_URL "unix:///run/vh/agent.sock"

/* The settings as the layers gave them: config file < environment < flags. */
struct vhctl_settings {
	char *url, *token, *cacert, *cert, *key;
};

struct vhctl {
	struct vhctl_settings flags; /* from the command line (not owned) */
	struct vhctl_settings eff;   /* resolved (owned), once connected */
	enum vhctl_output out;
	bool help; /* -h/--help was given */
	bool resolved;
	char *unix_path;     /* the socket for a unix:// URL */
	char *base;          /* "http://localhost", "https://host:8443" */
	void *curl;          /* one handle for all requests: keep-alive */
	const char *cmd;     /* "vm cpu": for messages */
	const char *usage;   /* the current command's synopsis */
	const char *summary; /* and what it does */
	/* The last problem the agent answered (for hints such as --force). */
	enum vh_api_code last_code;
	char last_field[VH_API_FIELD_MAX];
};

/* ---- options (opts.c) ------------------------------------------------------ */

struct vhctl_opt {
	const char *name;   /* long name, without "--" */
	char short_name;    /* 0: none */
	const char **value; /* set for an option with a value ... */
	bool *flag;         /* ... or set true for a flag */
};

/* Parses argv[1..argc) (argv[0] is the command's name): the options in
 * opts (NULL-name terminated) and the global ones anywhere, the rest as
 * positional arguments into pos[0..maxpos).  Returns the number of
 * positional arguments; VHCTL_PARSE_ERROR after printing a usage error
 * (an unknown option, a missing value, fewer than minpos or more than
 * maxpos positionals); VHCTL_PARSE_HELP after printing the usage for
 * -h/--help.  vhctl_parse_exit() turns either into the exit code. */
#define VHCTL_PARSE_HELP  (-1)
#define VHCTL_PARSE_ERROR (-2)
static inline int vhctl_parse_exit(int n)
{
	return n == VHCTL_PARSE_HELP ? VHCTL_OK : VHCTL_USAGE;
}
int vhctl_parse(struct vhctl *c, int argc, char **argv, const struct vhctl_opt *opts,
		const char **pos, int minpos, int maxpos);
/* Prints "vhctl: <cmd>: <message>" and the usage line; returns VHCTL_USAGE. */
int vhctl_usage_error(struct vhctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Global options that may come before the command; returns the index of
 * the command word in argv (argc when there is none), or
 * VHCTL_PARSE_ERROR. */
int vhctl_parse_global(struct vhctl *c, int argc, char **argv);
/* Seconds with an optional fraction ("2", "0.5") in [0.05, 86400], or -1. */
int vhctl_parse_seconds(const char *s, double *out);

/* ---- the connection (client.c) -------------------------------------------- */

struct vhctl_resp {
	long status;
	char *body; /* NUL-terminated */
	size_t len;
	char etag[128];
	char location[256];
	char content_type[128];
};

/* Resolves the settings (config file, environment, flags) and opens the
 * libcurl handle; returns 0 or an exit code (message printed). */
int vhctl_connect(struct vhctl *c);
void vhctl_close(struct vhctl *c);
/* One request.  body (JSON) may be NULL; if_match may be NULL.  Returns 0
 * when the agent answered with any status (resp filled: free it with
 * vhctl_resp_free), or an exit code (VHCTL_CONNECT ...) with the message
 * printed. */
int vhctl_request(struct vhctl *c, const char *method, const char *path, struct json_object *body,
		  const char *if_match, struct vhctl_resp *resp);
/* PUT of a file's bytes as the body (curl -T).  progress: the label of a
 * progress bar drawn on stderr when it is a terminal (NULL: none). */
int vhctl_upload(struct vhctl *c, const char *path, FILE *f, uint64_t size, const char *progress,
		 struct vhctl_resp *resp);
/* PUT of a file under base + name (name NULL: the file's base name) with
 * its SHA-256 (sha NULL: computed here first), as images and disk
 * imports are sent; *out gets the 2xx body, *status the HTTP status.
 * Returns 0 or the exit code, the failure printed. */
int vhctl_put_file(struct vhctl *c, const char *base, const char *what, const char *file,
		   const char *name, const char *sha, const char *progress,
		   struct json_object **out, long *status);
void vhctl_resp_free(struct vhctl_resp *resp);
/* A GET whose 2xx body goes to sink as it arrives (a followed console,
 * events); sink returns non-zero to stop.  header: one more request
 * header line or NULL.  Returns as vhctl_request (a problem answer is in
 * resp, an aborted or cut transfer an exit code with its message). */
typedef int (*vhctl_sink_fn)(void *ctx, const char *data, size_t len);
int vhctl_stream(struct vhctl *c, const char *path, const char *header, vhctl_sink_fn sink,
		 void *ctx, struct vhctl_resp *resp);
/* For a response that is not 2xx: prints "vhctl: <detail> (code <code>,
 * field <field>)" and returns its exit code. */
int vhctl_problem(struct vhctl *c, const struct vhctl_resp *resp);
/* The exit code a problem code (or, for an unknown code, a status) means. */
int vhctl_exit_of(enum vh_api_code code, long status);
/* A request whose answer must be 2xx with a JSON body: *out gets the
 * parsed body (NULL for 204).  Any failure is printed; returns 0 or the
 * exit code.  etag (may be NULL) gets the ETag header. */
int vhctl_call(struct vhctl *c, const char *method, const char *path, struct json_object *body,
	       const char *if_match, struct json_object **out, char *etag, size_t etagcap);
/* Percent-encodes all but RFC 3986's unreserved characters; malloc'd. */
char *vhctl_escape(const char *s);
/* A path with one escaped segment: prefix + escape(seg) + suffix,
 * malloc'd (exits on ENOMEM). */
char *vhctl_path(const char *prefix, const char *seg, const char *suffix);

/* ---- configuration (config.c) --------------------------------------------- */

/* Fills s from the file (a missing file is fine); returns 0, or prints
 * an error naming the file and line and returns VHCTL_USAGE. */
int vhctl_config_load(const char *path, struct vhctl_settings *s);
/* $XDG_CONFIG_HOME/vh/config or ~/.config/vh/config, malloc'd; NULL when
 * neither HOME nor XDG_CONFIG_HOME is set. */
char *vhctl_config_path(void);
void vhctl_settings_free(struct vhctl_settings *s);

/* ---- output (table.c, jsonutil.c) ----------------------------------------- */

struct vhctl_table;

/* Columns whose header starts with '>' are right-aligned (the '>' is not
 * printed).  headers NULL: no header row (a key/value listing). */
struct vhctl_table *vhctl_table_new(size_t ncols, const char *const *headers);
/* Adds a row of ncols cells (copied); a NULL cell prints as "-". */
void vhctl_table_row(struct vhctl_table *t, const char *const *cells);
/* A row from printf-formatted cells: "%s\t%s" style, split on tabs. */
void vhctl_table_rowf(struct vhctl_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Colours a cell of the last row added (the header is row 0): sgr is an
 * SGR parameter string kept by reference ("1;31": bold red), or NULL. */
void vhctl_table_style(struct vhctl_table *t, size_t col, const char *sgr);
void vhctl_table_print(const struct vhctl_table *t, FILE *f);
void vhctl_table_free(struct vhctl_table *t);

/* Pretty (or, for streams of documents, compact one-line) JSON to stdout. */
void vhctl_print_json(struct json_object *o, bool compact);
/* A member by dotted path ("cpu.reservation_mhz"); NULL when absent. */
struct json_object *vhctl_jget(struct json_object *o, const char *path);
const char *vhctl_jstr(struct json_object *o, const char *path); /* "" if not a string */
uint64_t vhctl_ju64(struct json_object *o, const char *path);    /* 0 if not a number */
double vhctl_jdouble(struct json_object *o, const char *path);   /* 0 if not a number */
/* Value formats for tables: "512M", "1.5GHz", "unlimited", "high". */
void vhctl_fmt_mib(struct json_object *v, char *out, size_t cap);    /* integer MiB or null */
void vhctl_fmt_mhz(struct json_object *v, char *out, size_t cap);    /* integer MHz or null */
void vhctl_fmt_shares(struct json_object *v, char *out, size_t cap); /* level or integer */
void vhctl_fmt_mibf(double mib, char *out, size_t cap);              /* 12.5 -> "12.5M" */

/* ---- commands --------------------------------------------------------------- */

typedef int (*vhctl_run_fn)(struct vhctl *c, int argc, char **argv);

struct vhctl_cmd {
	const char *name;
	const char *synopsis; /* after "vhctl <path>" */
	const char *summary;
	vhctl_run_fn run;             /* NULL: has subcommands */
	const struct vhctl_cmd *subs; /* {NULL}-terminated */
};

extern const struct vhctl_cmd vhctl_vm_cmds[];
extern const struct vhctl_cmd vhctl_image_cmds[];
extern const struct vhctl_cmd vhctl_disk_cmds[];
extern const struct vhctl_cmd vhctl_token_cmds[];
int vhctl_cmd_explain(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_whatif(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_host(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_stats(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_top(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_console(struct vhctl *c, int argc, char **argv);
int vhctl_cmd_events(struct vhctl *c, int argc, char **argv);
/* Every VM (GET /v1/vms, all pages) as an array; state and prefix
 * filter when not NULL; page_size VMs a request (NULL: 1000).  0 or the
 * exit code (message printed). */
int vhctl_vm_all(struct vhctl *c, const char *state, const char *prefix, const char *page_size,
		 struct json_object **out);
/* The VM resource as `vm show` lists it. */
void vhctl_vm_print(struct json_object *vm);
/* --shares/--reservation/--limit into a cpu (mem false) or memory
 * controls object: units parsed, "unlimited" as null.  0 or VHCTL_USAGE. */
int vhctl_set_controls(struct vhctl *c, struct json_object *obj, bool mem, const char *shares,
		       const char *res, const char *limit);
int vhctl_vm_cpu(struct vhctl *c, int argc, char **argv);
int vhctl_vm_mem(struct vhctl *c, int argc, char **argv);
int vhctl_vm_balloon(struct vhctl *c, int argc, char **argv);
int vhctl_vm_edit(struct vhctl *c, int argc, char **argv);
/* A VM reference must not be empty; prints a usage error if it is. */
int vhctl_check_vm_arg(struct vhctl *c, const char *name);
/* stats of one VM, as `vhctl vm stats NAME` and `vhctl stats NAME` give them. */
int vhctl_cmd_vm_stats(struct vhctl *c, int argc, char **argv);

/* SIGINT/SIGTERM during --watch and top: set, the loop ends cleanly. */
extern volatile int vhctl_stop;
void vhctl_catch_signals(void);
/* Sleeps up to `seconds`, waking early on a signal or, when the terminal
 * is in key mode, on "q" (sets vhctl_stop). */
void vhctl_sleep(double seconds, bool keys);

#endif
