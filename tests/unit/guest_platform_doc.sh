#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# docs/guest-platform.md against the code.  Its tables that state code
# facts sit between `<!-- facts: SECTION [ARG] -->` and `<!-- /facts -->`;
# tests/unit/platform_facts prints each from the core itself (the layout,
# a defined VM's device bus, the ACPI tables it builds, the MSR table, the
# CPUID model, a Linux load's plan), and every block must be what it
# prints, so a change to any of them fails here until the page says it.
# The page must hold every section below, no other, each once; every MSR
# the hostile guest prints on both back ends (tests/guests/msr_model.expect)
# must be in its MSR table.
#
#   guest_platform_doc.sh --fix   rewrites the page's blocks from the code
#                                 (with top_srcdir and top_builddir set)
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

doc=$top_srcdir/docs/guest-platform.md
facts=$top_builddir/tests/unit/platform_facts
work=$top_builddir/tests/unit/guest-platform
SECTIONS=("e820 256" "e820 6144" "layout" "ports" "mmio" "pci" "acpi" "fadt" "madt" "mcfg" "prt"
	"msr" "cpuid" "bzimage")

rm -rf "$work" && mkdir -p "$work" || exit 1
# block SECTION: the page's lines between the section's markers.
block() {
	awk -v open="<!-- facts: $1 -->" '
		$0 == open { on = 1; next }
		on && $0 == "<!-- /facts -->" { exit }
		on { print }' "$doc"
}
want() { "$facts" $1 >"$work/${1// /-}.want" 2>&1; }

if [ "${1-}" = --fix ]; then
	for s in "${SECTIONS[@]}"; do
		want "$s" || { cat "$work/${s// /-}.want"; exit 1; }
	done
	awk -v dir="$work" '
		/^<!-- facts: .* -->$/ {
			print; s = $0; sub(/^<!-- facts: /, "", s); sub(/ -->$/, "", s); gsub(/ /, "-", s)
			while ((getline l < (dir "/" s ".want")) > 0) print l
			skip = 1; next
		}
		/^<!-- \/facts -->$/ { skip = 0 }
		!skip { print }' "$doc" >"$work/page.md" && cp "$work/page.md" "$doc"
	exit
fi

tap_plan $((${#SECTIONS[@]} + 2))

got=$(sed -n 's/^<!-- facts: \(.*\) -->$/\1/p' "$doc" | sort)
expected=$(printf '%s\n' "${SECTIONS[@]}" | sort)
if [ -n "$got" ] && [ "$got" = "$expected" ] &&
	[ "$(grep -c '^<!-- /facts -->$' "$doc")" = ${#SECTIONS[@]} ]; then
	tap_ok "the page holds each generated table once (${#SECTIONS[@]} sections), each closed"
else
	tap_not_ok "the page holds each generated table once, each closed" \
		"$(diff <(echo "$expected") <(echo "$got"))"
fi

for s in "${SECTIONS[@]}"; do
	f=$work/${s// /-}
	if ! want "$s"; then
		tap_not_ok "platform_facts $s runs" "$f.want"
		continue
	fi
	block "$s" >"$f.doc"
	if [ -s "$f.want" ] && cmp -s "$f.want" "$f.doc"; then
		tap_ok "the page's '$s' table is what the code gives ($(wc -l <"$f.want") lines)"
	else
		tap_not_ok "the page's '$s' table is what the code gives" \
			"$(diff -u "$f.doc" "$f.want")" \
			"(after a deliberate change: tests/unit/guest_platform_doc.sh --fix, then read the prose)"
	fi
done

missing=
while read -r msr; do
	grep -Eq "^\| $msr \|" "$work/msr.doc" || missing="$missing $msr"
done < <(sed -n 's/^hostile: msr \(0x[0-9a-f]*\) .*/\1/p' "$top_srcdir/tests/guests/msr_model.expect" | sort -u)
if [ -z "$missing" ] && [ -s "$work/msr.doc" ]; then
	tap_ok "every MSR of tests/guests/msr_model.expect is in the page's MSR table"
else
	tap_not_ok "every MSR of tests/guests/msr_model.expect is in the page's MSR table" "missing:$missing"
fi
