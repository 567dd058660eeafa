#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# vhagent and vhctl link only the protocol library (libvhproto.a: codec,
# message table, VM configuration checks, resource presets, errors and
# string helpers), never the rest of the hypervisor (docs/ARCHITECTURE.md,
# "The control-protocol boundary").  The forbidden names are read from the
# build itself, so a new scheduler, memory or device function is covered
# without editing this file:
#   - every global the core (libvhcore.a) defines that libvhproto.a does not;
#   - every global of the scheduler (core/sched*), the memory manager
#     (core/mem/), the devices and the loaders, even if someone moved one
#     into libvhproto.a.
. "${top_srcdir:?top_srcdir is not set}/tests/harness/tap.sh"
cd "${top_builddir:?top_builddir is not set}" || exit 1

NM=${NM:-nm}
work=$(mktemp -d "${TMPDIR:-/tmp}/vh-no-internals.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

# globals FILE...: the names of the global symbols the files define.
globals() {
	"$NM" -g --defined-only "$@" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u
}

tap_plan 5

core=hypervisor/core/libvhcore.a
proto=hypervisor/core/libvhproto.a
globals "$core" >"$work/core"
if [ -f "$proto" ]; then globals "$proto"; fi >"$work/proto"
inner=$(find hypervisor/core/mem hypervisor/devices hypervisor/loader -name '*libvhcore_a-*.o' \
	2>/dev/null; ls hypervisor/core/*libvhcore_a-sched*.o 2>/dev/null)
# shellcheck disable=SC2086
globals $inner >"$work/inner"
comm -23 "$work/core" "$work/proto" | sort -u - "$work/inner" >"$work/forbidden"

# The list must hold what it is about, or every check below would pass.
missing=
for s in vh_sched_next vh_mem_fault vh_devices_io vh_loader_prepare vh_vm_define \
	vh_proto_dispatch; do
	grep -qx "$s" "$work/forbidden" || missing="$missing $s"
done
if [ -z "$missing" ] && [ "$(wc -l <"$work/forbidden")" -ge 100 ]; then
	n=$(wc -l <"$work/forbidden")
	tap_ok "$n hypervisor-internal symbols (scheduler, memory manager, devices, loaders)"
else
	tap_not_ok "the hypervisor-internal symbols are read from the build" \
		"missing:$missing" "found $(wc -l <"$work/forbidden") in $core and its objects"
fi

for bin in agent/vhagent cli/vhctl; do
	if ! "$NM" --defined-only "$bin" >"$work/syms" 2>"$work/err"; then
		tap_not_ok "$bin: nm reads it" "$work/err"
		tap_not_ok "$bin: no hypervisor internals" "not checked"
		continue
	fi
	# It does carry part of the protocol library (both report errors
	# through it): the check looks at the right binary.
	if grep -qE ' vh_error_set$' "$work/syms"; then
		tap_ok "$bin: links the protocol library (vh_error_set)"
	else
		tap_not_ok "$bin: links the protocol library" "vh_error_set missing"
	fi
	awk 'NF >= 3 { print $3 }' "$work/syms" | sort -u |
		comm -12 - "$work/forbidden" >"$work/hits"
	if [ -s "$work/hits" ]; then
		tap_not_ok "$bin: no hypervisor internals ($(wc -l <"$work/hits") found)" \
			"$(head -40 "$work/hits")"
	else
		tap_ok "$bin: no scheduler, memory-manager, device, loader or VM-lifecycle symbol"
	fi
done
[ "$tap_failed" = 0 ]
