#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/debian against the rest of the tree, so there stays one list
# and one version: Build-Depends are the [build] entries of
# packaging/debian-packages.txt (less build-essential, which policy
# implies) plus debhelper-compat; the changelog's version is configure.ac's;
# every file the .install lists take from the source tree exists; the
# sysusers files are the one in packaging/systemd; the maintainer scripts
# and 42_vh parse (sh -n); and the GRUB script prints nothing when the
# kernel is absent (a removed, not purged, package) or the entry is turned
# off.  TAP.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/packaging/tests/grub-standins.sh"
set -u

D=$top_srcdir/packaging/debian
LIST=$top_srcdir/packaging/debian-packages.txt
tap_plan 11

# Build-Depends, one name a line, without versions or alternatives.
control_deps=$(awk '
	/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
	on && /^[A-Za-z-]+:/ && !/^Build-Depends:/ { on = 0 }
	on { print }' "$D/control" | tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' |
	grep -v '^$' | grep -vx 'debhelper-compat' | sort)
list_deps=$(sed -e 's/#.*//' "$LIST" | awk '/\[build\]/ { print $1 }' | grep -vx build-essential | sort)
if [ -n "$control_deps" ] && [ "$control_deps" = "$list_deps" ]; then
	tap_ok "Build-Depends = the [build] entries of debian-packages.txt ($(echo $list_deps | wc -w) packages)"
else
	tap_not_ok "Build-Depends = the [build] entries of debian-packages.txt" \
		"$(diff <(echo "$control_deps") <(echo "$list_deps") | sed 's/^</control:/; s/^>/list:   /' | grep -E '^(control|list)')"
fi
if grep -q '^Build-Depends:.*debhelper-compat (= 13)' "$D/control"; then
	tap_ok "debhelper-compat 13"
else
	tap_not_ok "debhelper-compat 13" "$(grep -n debhelper "$D/control")"
fi

ac_version=$(sed -n 's/^AC_INIT(\[vh\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
deb_version=$(sed -n '1s/^vh (\([^)]*\)).*/\1/p' "$D/changelog")
if [ -n "$ac_version" ] && [ "$deb_version" = "$ac_version" ]; then
	tap_ok "the changelog's version is configure.ac's ($ac_version)"
else
	tap_not_ok "the changelog's version is configure.ac's" "changelog: $deb_version, configure.ac: $ac_version"
fi

# Sources of .install/.manpages/.docs lines that name the source tree
# (debian/... becomes packaging/debian/...; the others come from
# `make install` into debian/tmp and are checked by the package build).
missing=
for f in "$D"/*.install "$D"/*.manpages "$D"/*.docs; do
	while read -r src _; do
		case "$src" in
		''|'#'*) continue ;;
		debian/*) path=$top_srcdir/packaging/$src ;;
		packaging/*|docs/*|api/*|cli/*|agent/*) path=$top_srcdir/$src ;;
		*) continue ;;
		esac
		[ -e "$path" ] || missing="$missing ${f##*/}:$src"
	done <"$f"
done
[ -z "$missing" ] && tap_ok "every source-tree file the .install, .manpages and .docs lists name exists" ||
	tap_not_ok "every source-tree file the .install, .manpages and .docs lists name exists" "missing:$missing"

ok=1
for p in vh-hosted vhagent; do
	cmp -s "$D/$p.sysusers" "$top_srcdir/packaging/systemd/vh.sysusers" || ok=0
done
[ $ok = 1 ] && tap_ok "vh-hosted and vhagent declare the vh group from packaging/systemd/vh.sysusers" ||
	tap_not_ok "vh-hosted and vhagent declare the vh group from packaging/systemd/vh.sysusers"

bad=
for s in "$D"/*.postinst "$D"/*.postrm "$D"/grub/42_vh "$D"/*.default; do
	out=$(sh -n "$s" 2>&1) || bad="$bad ${s##*/}: $out"
done
[ -z "$bad" ] && tap_ok "maintainer scripts, /etc/default files and 42_vh parse (sh -n)" ||
	tap_not_ok "maintainer scripts, /etc/default files and 42_vh parse (sh -n)" "$bad"

# 42_vh with GRUB's library but no kernel, and with the entry turned off.
RUN=$top_builddir/packaging/tests/runs/debian-control
rm -rf "$RUN"
mkdir -p "$RUN"
if [ ! -f /usr/share/grub/grub-mkconfig_lib ]; then
	tap_not_ok "42_vh prints nothing without /boot/vh.elf" "grub-common is missing (packaging/debian-packages.txt [boot])"
	tap_not_ok "42_vh prints nothing with VH_GRUB_ENTRY=false"
	tap_not_ok "42_vh: an entry with this build's kernel and a module"
	tap_not_ok "42_vh refuses a command line GRUB would read otherwise"
	tap_not_ok "42_vh: no entry for a file that is not a Multiboot kernel"
else
	out=$(VH_KERNEL=$RUN/none.elf VH_DEFAULT=/dev/null sh "$D/grub/42_vh" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && tap_ok "42_vh prints nothing without /boot/vh.elf" ||
		tap_not_ok "42_vh prints nothing without /boot/vh.elf" "exit $rc" "$out"
	printf '\177ELF' >"$RUN/vh.elf"
	echo VH_GRUB_ENTRY=false >"$RUN/default"
	out=$(VH_KERNEL=$RUN/vh.elf VH_DEFAULT=$RUN/default sh "$D/grub/42_vh" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && tap_ok "42_vh prints nothing with VH_GRUB_ENTRY=false" ||
		tap_not_ok "42_vh prints nothing with VH_GRUB_ENTRY=false" "exit $rc" "$out"

	# A whole entry, with the stand-ins for GRUB's device probing.
	grub_standins "$RUN"
	KERNEL=$top_builddir/hypervisor/arch/x86/vh.elf
	GUEST=$top_builddir/tests/guests/spinner.elf
	printf 'VH_CMDLINE="vm=a,kernel=0 vm=b,kernel=0,cpu.shares=2000"\nVH_MODULES="%s=x+y"\n' "$GUEST" >"$RUN/default"
	out=$(grub_probe=$RUN/grub-probe grub_mkrelpath=$RUN/grub-mkrelpath VH_KERNEL=$KERNEL VH_DEFAULT=$RUN/default \
		sh "$D/grub/42_vh" 2>"$RUN/err")
	rc=$?
	if [ $rc = 0 ] && printf '%s\n' "$out" | grep -qxF "$(printf '\tmultiboot\t%s vh.elf vm=a,kernel=0 vm=b,kernel=0,cpu.shares=2000' "$KERNEL")" &&
		printf '%s\n' "$out" | grep -qxF "$(printf '\tmodule\t%s spinner.elf x y' "$GUEST")" &&
		[ "$(printf '%s\n' "$out" | grep -c "set root='hd0,msdos1'")" = 2 ] &&
		printf '%s\n' "$out" | tail -1 | grep -qx '}'; then
		tap_ok "42_vh: an entry with this build's kernel and a module"
	else
		tap_not_ok "42_vh: an entry with this build's kernel and a module" "exit $rc" "$out" "$RUN/err"
	fi
	echo 'VH_CMDLINE="vm=a,kernel=0; reboot"' >"$RUN/default"
	out=$(grub_probe=$RUN/grub-probe grub_mkrelpath=$RUN/grub-mkrelpath VH_KERNEL=$KERNEL VH_DEFAULT=$RUN/default \
		sh "$D/grub/42_vh" 2>"$RUN/err")
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && grep -q 'may not contain' "$RUN/err" &&
		tap_ok "42_vh refuses a command line GRUB would read otherwise" ||
		tap_not_ok "42_vh refuses a command line GRUB would read otherwise" "exit $rc" "$out" "$RUN/err"
	echo 'VH_CMDLINE=' >"$RUN/default"
	out=$(grub_probe=$RUN/grub-probe grub_mkrelpath=$RUN/grub-mkrelpath VH_KERNEL=$GUEST VH_DEFAULT=$RUN/default \
		sh "$D/grub/42_vh" 2>"$RUN/err")
	rc=$?
	# The test guests are Multiboot too; /bin/sh's binary is not.
	out2=$(grub_probe=$RUN/grub-probe grub_mkrelpath=$RUN/grub-mkrelpath VH_KERNEL=/bin/sh VH_DEFAULT=$RUN/default \
		sh "$D/grub/42_vh" 2>"$RUN/err2")
	rc2=$?
	[ $rc = 0 ] && [ -n "$out" ] && [ $rc2 = 0 ] && [ -z "$out2" ] && grep -q 'not a Multiboot kernel' "$RUN/err2" &&
		tap_ok "42_vh: no entry for a file that is not a Multiboot kernel" ||
		tap_not_ok "42_vh: no entry for a file that is not a Multiboot kernel" "exit $rc/$rc2" "$out2" "$RUN/err2"
fi
[ "$tap_failed" -eq 0 ] && rm -rf "$RUN"
[ "$tap_failed" -eq 0 ]
