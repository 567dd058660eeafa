/* SPDX-License-Identifier: Apache-2.0 */
#include "kcmdline.h"
#include "vh/string.h"

bool vh_cmdline_each(const char *cmdline, bool (*fn)(const char *w, size_t n, void *arg),
		     void *arg)
{
	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		if (p > start && !fn(start, (size_t)(p - start), arg))
			return false;
	}
	return true;
}

struct find {
	const char *word;
	size_t n;
	bool found;
};

static bool match(const char *w, size_t n, void *arg)
{
	struct find *f = arg;

	if (n == f->n && vh_strncmp(w, f->word, n) == 0) {
		f->found = true;
		return false;
	}
	return true;
}

bool vh_cmdline_has(const char *cmdline, const char *word)
{
	struct find f = { word, vh_strlen(word), false };

	vh_cmdline_each(cmdline, match, &f);
	return f.found;
}
