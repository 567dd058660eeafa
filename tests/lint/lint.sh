#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/lint on the repository: every source file starts with an SPDX
# line, no C line is wider than .clang-format's ColumnLimit, no include
# cycle between folders, no document points at a path outside the
# repository.  Then each check against a small tree made here
# with one planted fault, so that a check that could not fail would show:
# it must name the fault, and pass once the fault is gone (spdx --fix
# adds the line in each file's own comment syntax, after a shebang).
. "$top_srcdir/tests/harness/tap.sh"
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

LINT=$top_srcdir/scripts/lint
RUN=$top_builddir/tests/lint/runs
rm -rf "$RUN"
mkdir -p "$RUN"

tap_plan 11

# ---- the repository -----------------------------------------------------------------
tap_check "every source file starts with an SPDX-License-Identifier line (scripts/spdx --fix adds it)" \
	"$LINT" spdx
tap_check "no line of a C file is wider than .clang-format's ColumnLimit (tabs at TabWidth)" \
	"$LINT" width
tap_check "no include cycle between folders" "$LINT" includes
tap_check "no document points outside the repository (links, \`paths\` to documents)" "$LINT" docs

# ---- each check finds a planted fault -------------------------------------------------
# fixture NAME: an empty tree with a .clang-format of ColumnLimit 40.
fixture() {
	local d=$RUN/$1
	mkdir -p "$d"
	printf 'UseTab: ForContinuationAndIndentation\nTabWidth: 4\nColumnLimit: 40\n' >"$d/.clang-format"
	echo "$d"
}
lint_in() { "$LINT" --root "$1" "${@:2}" 2>&1; }

T=$(fixture spdx)
mkdir -p "$T/src" "$T/build-aux"
printf '/* SPDX-License-Identifier: Apache-2.0 */\nint a;\n' >"$T/src/ok.c"
printf 'int b;\n' >"$T/src/no.c"
printf '#!/bin/sh\necho hi\n' >"$T/src/run"
chmod 755 "$T/src/run"
printf 'bin_PROGRAMS += x\n' >"$T/src/Makefile.inc"
printf '{"not": "source"}\n' >"$T/src/data.json"
printf '#!/bin/sh\n# not ours: GPL\n' >"$T/build-aux/tap-driver.sh"
out=$(lint_in "$T" spdx)
if [ $? = 1 ] && [ "$(grep -c 'no SPDX' <<<"$out")" = 3 ] && grep -q '^src/no.c:1: ' <<<"$out" &&
	grep -q '^src/run:2: ' <<<"$out" && grep -q '^src/Makefile.inc:1: ' <<<"$out"; then
	tap_ok "spdx: a C file, a script (line 2, after its shebang) and a Makefile fragment without it fail"
else
	tap_not_ok "spdx: the three files without the line fail, named" "$out"
fi
lint_in "$T" spdx --fix >"$RUN/spdx.fix"
if lint_in "$T" spdx >/dev/null && [ "$(head -1 "$T/src/no.c")" = "/* SPDX-License-Identifier: Apache-2.0 */" ] &&
	[ "$(sed -n 2p "$T/src/run")" = "# SPDX-License-Identifier: Apache-2.0" ] &&
	[ "$(head -1 "$T/src/run")" = "#!/bin/sh" ] && [ -x "$T/src/run" ] &&
	[ "$(head -1 "$T/src/Makefile.inc")" = "# SPDX-License-Identifier: Apache-2.0" ] &&
	[ "$(grep -c SPDX "$T/src/ok.c")" = 1 ] && ! grep -q SPDX "$T/src/data.json" "$T/build-aux/tap-driver.sh" &&
	[ "$(lint_in "$T" spdx --fix)" = "lint: spdx: ok" ]; then
	tap_ok "spdx --fix: each file's comment syntax, the shebang first, the mode kept, data left alone; a second run changes nothing"
else
	tap_not_ok "spdx --fix adds the line in each file's syntax" "$RUN/spdx.fix" "$(head -2 "$T"/src/* 2>&1)"
fi

T=$(fixture width)
# 40 columns exactly, then 41; a tab counts to the next multiple of 4.
printf '%s\n' "$(printf 'x%.0s' {1..40})" >"$T/ok.c"
printf '\tint y;\n%s\n' "$(printf 'z%.0s' {1..41})" >"$T/wide.h"
printf '\t\t%s\n' "$(printf 'w%.0s' {1..33})" >"$T/tabs.c"
out=$(lint_in "$T" width)
if [ $? = 1 ] && [ "$(grep -c 'columns' <<<"$out")" = 2 ] &&
	grep -q "^wide.h:2: 41 columns, over .clang-format's ColumnLimit 40 (TabWidth 4)" <<<"$out" &&
	grep -q '^tabs.c:1: 41 columns' <<<"$out"; then
	tap_ok "width: a line of 41 columns fails at ColumnLimit 40, two tabs count 8 at TabWidth 4; 40 passes"
else
	tap_not_ok "width: the two lines over 40 columns fail, named" "$out"
fi

T=$(fixture includes)
mkdir -p "$T/a" "$T/b" "$T/c" "$T/inc/vh"
printf '#include "vh/x.h"\n#include "../b/b.h"\n#include <stdio.h>\n#include "config.h"\n' >"$T/a/a.c"
printf '#include "c/c.h"\n' >"$T/b/b.h"
printf '#include "vh/x.h"\n' >"$T/c/c.h"
printf 'int x;\n' >"$T/inc/vh/x.h"
printf 'AM_CPPFLAGS = -I$(top_srcdir)/inc -I$(top_srcdir)\n' >"$T/Makefile.am"
if out=$(lint_in "$T" includes); then
	tap_ok "includes: a -> b -> c -> inc/vh is no cycle (paths as the build's -I folders find them)"
else
	tap_not_ok "includes: a chain without a cycle passes" "$out"
fi
printf '#include "../a/a.h"\n' >"$T/c/c.c"
printf 'int a;\n' >"$T/a/a.h"
out=$(lint_in "$T" includes)
if [ $? = 1 ] && grep -qF 'include cycle between folders: a -> b -> c -> a (a/a.c includes "../b/b.h"; b/b.h includes "c/c.h"; c/c.c includes "../a/a.h")' <<<"$out"; then
	tap_ok "includes: a -> b -> c -> a fails, each edge named by a file and its #include"
else
	tap_not_ok "includes: the cycle a -> b -> c -> a fails, named" "$out"
fi
out=$(lint_in "$T" 2>&1)
if [ $? = 1 ] && grep -q 'lint: includes: 1 problems' <<<"$out" && grep -q 'lint: spdx: 7 problems' <<<"$out"; then
	tap_ok "scripts/lint without arguments runs every check and fails if any fails"
else
	tap_not_ok "scripts/lint runs every check" "$out"
fi

T=$(fixture docs)
mkdir -p "$T/docs"
printf '# ok\n' >"$T/README.md"
cat >"$T/docs/guide.md" <<'EOT'
See [the readme](../README.md#ok), `README.md`, `docs/guide.md`, <https://example.org/x.md>
and `../../configure` in a build tree:

```sh
../../configure --enable-sanitizers
```
The facts are in `../shared/design.md`, [this one](/etc/design.md) and `shared/design.md`.
EOT
out=$(lint_in "$T" docs)
if [ $? = 1 ] && [ "$(grep -c '^docs/guide.md:' <<<"$out")" = 3 ] &&
	grep -qx 'docs/guide.md:7: ../shared/design.md: a path outside the repository' <<<"$out" &&
	grep -qx 'docs/guide.md:7: /etc/design.md: an absolute path' <<<"$out" &&
	grep -qx 'docs/guide.md:7: shared/design.md: no such file in the repository' <<<"$out"; then
	tap_ok "docs: a path out of the repository, an absolute link and a missing document fail; links inside pass"
else
	tap_not_ok "docs: the three paths outside the repository fail, named" "$out"
fi
