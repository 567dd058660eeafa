# SPDX-License-Identifier: Apache-2.0
# Reads `nm -n vh.elf` (text symbols: "ADDRESS NAME"), then the trace the
# Bochs debugger printed between the exitbench guest's magic breakpoints
# (exit_trace.sh), and counts the hypervisor's instructions of each round
# trip by function: from the first instruction after the guest's exiting
# one (CPUID, OUT, VMCALL) to the VMRESUME.  Addresses compare as
# 16-digit hex strings (mawk has no strtonum).  -v kinds="a b ..." names
# the traced exits in order; -v verbose=1 lists every instruction too;
# -v tsv=1 prints tab-separated lines instead (kind, function, count; and
# kind, "=total", total, exiting instruction), for exit_trace.sh --before.
# A compiler's clone of a function (foo.constprop.0, foo.isra.0) counts
# as the function, so that two builds compare by name.
NR == FNR {
	addr[nsym] = $1
	name[nsym] = $2
	sub(/\.(constprop|isra|part)\.[0-9]+$/, "", name[nsym])
	nsym++
	next
}
/Magic breakpoint/ { seg++; next }
/^\([0-9]+\)\.\[/ {
	rip = $3
	sub(/^[0-9a-f]+:/, "", rip)
	ins = $0
	sub(/.*ctxt\): /, "", ins)
	sub(/ *;.*/, "", ins)
	if (!inhost) {
		if (ins ~ /^(cpuid|out |vmcall)/) {
			inhost = 1
			exiting[seg] = ins
		}
		next
	}
	lo = 0
	hi = nsym - 1
	while (lo < hi) {
		mid = int((lo + hi + 1) / 2)
		if (addr[mid] <= rip) lo = mid; else hi = mid - 1
	}
	fn = name[lo]
	key = seg SUBSEP fn
	if (!(key in count)) order[seg, ++nfn[seg]] = fn
	count[key]++
	total[seg]++
	if (verbose) printf "%s  %-28s %s\n", rip, fn, ins
	if (ins ~ /^vmresume/) inhost = 0
}
END {
	nk = split(kinds, kind, " ")
	for (s = 1; s <= seg; s++) {
		if (!total[s]) continue
		k = s <= nk ? kind[s] : "exit " s
		if (tsv) {
			printf "%s\t=total\t%d\t%s\n", k, total[s], exiting[s]
			for (i = 1; i <= nfn[s]; i++)
				printf "%s\t%s\t%d\n", k, order[s, i], count[s, order[s, i]]
			continue
		}
		printf "%s (%s): %d host instructions, exit to VMRESUME\n", s <= nk ? kind[s] : "exit " s,
		       exiting[s], total[s]
		for (i = 1; i <= nfn[s]; i++)
			printf "  %5d  %s\n", count[s, order[s, i]], order[s, i]
	}
}
