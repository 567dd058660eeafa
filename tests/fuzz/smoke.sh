#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every libFuzzer harness (tests/fuzz/Makefile.inc) over its seed corpus
# plus a few thousand mutations of it: a harness that no longer builds
# (make check builds them first) or that crashes, leaks or trips a
# property on its corpus fails here.  The long runs are `make fuzz`.
. "$top_srcdir/tests/harness/tap.sh"
cd "$top_builddir" || exit 1

# Every harness in the source tree, so a new one is smoke-tested without
# being listed here too.
names=$(cd "$top_srcdir/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
work=$(mktemp -d "${TMPDIR:-/tmp}/vh-fuzz-smoke.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
tap_plan $(echo "$names" | wc -w)
for n in $names; do
	if [ ! -x "tests/fuzz/$n" ]; then
		tap_not_ok "$n: built" "tests/fuzz/$n is missing: make check builds it with clang"
		continue
	fi
	mkdir -p "$work/$n"
	dict=
	[ "$n" = fuzz_api_request ] && dict="-dict=$top_srcdir/tests/fuzz/api.dict"
	# A fresh output corpus first: libFuzzer adds what it finds to the first folder.
	if "tests/fuzz/$n" -runs=3000 -max_total_time=20 -max_len=16384 -timeout=10 \
		-rss_limit_mb=2048 -seed=1 -artifact_prefix="$work/$n/" $dict "$work/$n" \
		$(sh "$top_srcdir/tests/fuzz/seeds.sh" "$top_srcdir" "$n") >"$work/$n.log" 2>&1; then
		tap_ok "$n: its seeds and 3000 mutations ($(grep -o 'Done [0-9]* runs' "$work/$n.log"))"
	else
		tap_not_ok "$n: crashed, leaked or failed a property" "$(tail -30 "$work/$n.log")"
	fi
done
[ "$tap_failed" = 0 ]
