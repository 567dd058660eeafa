#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The ACPI tables vh builds (hypervisor/devices/acpi_tables.c), checked by
# the real tool: acpi_dump writes them to files, ACPICA's iasl disassembles
# each (a malformed table or AML is an error there), and the disassembly
# must name what a guest looks for; the DSDT's disassembly must compile
# again without a warning (iasl's semantic checks: _HID beside _ADR,
# resource ranges).  The RSDP, which iasl does not read from a file, is
# checked by tests/unit/test_acpi.c.  iasl missing is a failure
# (acpica-tools, packaging/debian-packages.txt).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

dump=$top_builddir/tests/unit/acpi_dump
work=$top_builddir/tests/unit/acpi-tables
IASL=${IASL:-iasl}

tap_plan 12

if ! command -v "$IASL" > /dev/null; then
	tap_not_ok "iasl is installed (Debian package acpica-tools)" "$IASL: not found"
	exit 1
fi

# A VM of 2 vCPUs with COM1 and a 64-bit PCI window; then 64 vCPUs without.
check_vm() {
	local dir=$work/$1 vcpus=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	"$dump" "$dir" "$vcpus" "$@" > "$dir/dump.log" 2>&1 || { cat "$dir/dump.log"; return 1; }
	for t in XSDT FACP APIC MCFG DSDT; do
		# iasl exits 0 on some disassembly complaints: read its output too.
		if ! (cd "$dir" && "$IASL" -d "$t.dat") > "$dir/$t.log" 2>&1 ||
			grep -Eiq '(^|[^a-z])(error|warning)' "$dir/$t.log" || [ ! -s "$dir/$t.dsl" ]; then
			echo "iasl -d $t.dat:"
			cat "$dir/$t.log"
			return 1
		fi
	done
}

tap_check "iasl disassembles every table of a 2-vCPU VM without an error or warning" \
	check_vm two 2 com1 0x1000000000 0x1000000000
tap_check "iasl disassembles every table of a 64-vCPU VM without COM1" check_vm many 64 nocom1

two=$work/two
recompile() {
	# A copy: iasl may remove its input's siblings when it finds a fault.
	mkdir -p "$two/recompile" && cp "$two/DSDT.dsl" "$two/recompile/" &&
		(cd "$two/recompile" && "$IASL" DSDT.dsl) > "$two/recompile.log" 2>&1 &&
		grep -q ' 0 Errors, 0 Warnings' "$two/recompile.log" || { cat "$two/recompile.log"; return 1; }
}
tap_check "the DSDT's disassembly compiles again without an error or warning" recompile
tap_grep "the DSDT declares \\_SB.PCI0 (PNP0A08)" \
	'Device \(PCI0\)' "$two/DSDT.dsl"
tap_grep "the DSDT declares COM1 at 0x3F8, IRQ 4" 'Device \(COM1\)' "$two/DSDT.dsl"
tap_grep "the DSDT declares the CMOS clock (PNP0B00)" 'EisaId \("PNP0B00"\)' "$two/DSDT.dsl"
tap_grep "the DSDT has the _S5_ object" 'Name \(_S5_?, Package' "$two/DSDT.dsl"
tap_grep "the DSDT routes PCI interrupts (_PRT)" 'Name \(_PRT, Package \(0x80\)' "$two/DSDT.dsl"
tap_grep "PCI0's _CRS has the 64-bit window" 'QWordMemory' "$two/DSDT.dsl"
n=$(grep -c 'Processor Local APIC\]' "$two/APIC.dsl")
m=$(grep -c 'Processor Local APIC\]' "$work/many/APIC.dsl")
if [ "$n" = 2 ] && [ "$m" = 64 ]; then
	tap_ok "the MADT has one local APIC per vCPU (2, 64)"
else
	tap_not_ok "the MADT has one local APIC per vCPU (2, 64)" "2 vCPUs: $n, 64 vCPUs: $m"
fi
tap_grep "the FADT is hardware-reduced" 'Hardware Reduced \(V5\) : 1' "$two/FACP.dsl"
if grep -q 'Device (PCI0)' "$work/many/DSDT.dsl" && ! grep -q 'Device (COM1)' "$work/many/DSDT.dsl"; then
	tap_ok "a VM without a UART has no COM1"
else
	tap_not_ok "a VM without a UART has no COM1" "$work/many/DSDT.dsl"
fi
[ "$tap_failed" = 0 ]
