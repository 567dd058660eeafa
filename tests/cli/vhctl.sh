#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vhctl against a real vhagent on a real vh-hosted (/dev/kvm): every
# command, in tables and with -o json, each error exit (usage, not
# found, conflict, auth, cannot connect, server error), the settings
# layers (config file, environment, flags), HTTPS with tokens of each
# role, the man page and the bash completion.  The daemons are started
# by the agent's own test helpers (tests/agent/lib.sh).
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"
. "$top_srcdir/tests/cli/lib.sh"

COMPLETION=$top_srcdir/cli/vhctl.bash-completion
MANPAGE=$top_srcdir/cli/vhctl.1

agent_require
for tool in "$VHCTL" groff man sha256sum timeout script; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "Bail out! $tool is missing (vhctl not built, or groff-base, man-db, coreutils or util-linux not installed)"
		exit 1
	fi
done
cli_setup cli-vhctl VISUAL EDITOR
CACERT=$STATE/tls/cert.pem
HTTPS=https://localhost:$PORT
SPIN="iters=0 report=100 work=1000"

hv_start
agent_start_ready

# ---- helpers ---------------------------------------------------------------------

# complete WORDS...: bash completion of the last word; prints COMPREPLY.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vhctl; echo "${COMPREPLY[*]}"' \
		sh "$COMPLETION" "$@"
}

# ---- man page and completion --------------------------------------------------------

if w=$(groff -man -Tutf8 -ww -z "$MANPAGE" 2>&1) && [ -z "$w" ]; then
	tap_ok "the man page renders without groff warnings"
else
	tap_not_ok "the man page renders without groff warnings" "$w"
fi
if MANWIDTH=80 man -l "$MANPAGE" 2>"$RUN/man.err" >"$RUN/man.out" && [ ! -s "$RUN/man.err" ] &&
	grep -q 'EXIT STATUS' "$RUN/man.out" && grep -q 'percent' "$RUN/man.out"; then
	tap_ok "man -l shows the page (exit status, top's percentages)"
else
	tap_not_ok "man -l shows the page" "$RUN/man.err"
fi
tap_check "the bash completion parses (bash -n)" bash -n "$COMPLETION"
got=$(complete_words "$VHCTL" co)
if [ "$got" = "console" ]; then tap_ok "completion: vhctl co -> console"; else tap_not_ok "completion: vhctl co" "got: $got"; fi
got=$(complete_words "$VHCTL" events --)
case " $got " in *" --follow --since "*) tap_ok "completion: events options" ;; *) tap_not_ok "completion: events options" "got: $got" ;; esac
if grep -q 'vhctl console' "$RUN/man.out" && grep -q 'vhctl events' "$RUN/man.out"; then
	tap_ok "the man page has console and events"
else
	tap_not_ok "the man page has console and events" "$RUN/man.out"
fi
got=$(complete_words vhctl vm st)
if [ "$got" = "start stop stats" ]; then tap_ok "completion: vhctl vm st -> start stop stats"; else tap_not_ok "completion: vhctl vm st" "got: $got"; fi
got=$(complete_words vhctl token create ci --role op)
if [ "$got" = "operator" ]; then tap_ok "completion: --role values"; else tap_not_ok "completion: --role values" "got: $got"; fi

# ---- usage errors (exit 2) ----------------------------------------------------------

vc 0 "--version" --version
out "--version prints the version" '^vhctl [0-9]'
vc 0 "help" help
out "help lists the commands" 'vhctl top'
vc 0 "vm --help lists the vm commands" vm --help
out "vm --help names vm cpu" 'vhctl vm cpu NAME'
vc 2 "no command: usage error"
vc 2 "an unknown command" frob
err "an unknown command is named" 'unknown command "frob"'
vc 2 "an unknown vm command" vm frob
vc 2 "an unknown option" vm list --frob
err "the unknown option is named" 'unknown option --frob'
vc 2 "-o yaml is refused" -o yaml host
vc 2 "a missing VM name" vm show
vc 2 "too many arguments" vm show a b
vc 2 "a malformed rate" vm cpu web1 --reservation 5Q
err "a malformed rate names the flag" '--reservation: "5Q" is not a whole number of MHz'
vc 2 "a size that is not whole MiB" vm create x --mem 1.5M
vc 2 "a malformed balloon size" vm balloon web1 lots
vc 2 "top -n 0" top -n 0
vc 2 "a url with another scheme" --url ftp://x host
vc 2 "a token with a line break" --token $'abc\nX-Evil: 1' host

# ---- cannot connect (exit 6) --------------------------------------------------------

vc 6 "no agent on the socket: exit 6" --url "unix://$RUN/nothing.sock" host
err "the message says which socket" 'cannot connect to unix://.*nothing.sock'
closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vc 6 "nothing listens on the port: exit 6" --url "https://127.0.0.1:$closed" host
vc 6 "HTTPS without the agent's CA: exit 6 (certificate refused)" --url "$HTTPS" host
err "the TLS failure is explained" 'certificate'

# ---- host ---------------------------------------------------------------------------

vc 0 "host" host
out "host: pCPUs line" '^pCPUs: +2 x '
out "host: reservations line" '^CPU reserved: '
vc 0 "host -o json" host -o json
js "host json: 2 pCPUs, 256 MiB" 'd["cpu"]["pcpus"] == 2 and d["memory"]["total_mib"] == 256'

# ---- images ---------------------------------------------------------------------------

vc 0 "image list" image list
out "image list shows the test guests" '^spinner\.elf +[0-9]+ +[0-9a-f]{64}'
cp "$GUESTS/spinner.elf" "$RUN/myspin.elf"
vc 0 "image upload" image upload "$RUN/myspin.elf"
out "upload reports the image" '^uploaded image myspin\.elf'
want=$(sha256sum "$RUN/myspin.elf" | cut -d' ' -f1)
vc 0 "image upload again under another name, -o json" -o json image upload "$RUN/myspin.elf" spin2.elf
js "upload json: name, size and the file's sha256" "d['name'] == 'spin2.elf' and d['sha256'] == '$want' and d['size'] == $(stat -c %s "$RUN/myspin.elf")"
vc 2 "upload with a wrong --sha256: refused" image upload "$RUN/myspin.elf" bad.elf --sha256 "$(printf '0%.0s' $(seq 64))"
err "the checksum error has its code and field" '\(code checksum_mismatch, field sha256\)'
vc 0 "image list -o json" image list -o json
js "the uploads are listed, the refused one is not" '{"myspin.elf","spin2.elf"} <= {i["name"] for i in d["items"]} and "bad.elf" not in {i["name"] for i in d["items"]}'
vc 2 "upload of a missing file" image upload "$RUN/no-such-file"
vc 3 "image rm of a missing image: exit 3" image rm nosuch.elf
err "not found has its code" '\(code not_found, field name\)'
vc 0 "image rm" image rm spin2.elf
out "image rm says so" '^removed image spin2\.elf'

# ---- disks ----------------------------------------------------------------------------

vc 0 "disk create" disk create data1 1G
out "create reports the size" '^created disk data1 \(1G, 1073741824 bytes; 0(\.[0-9])?M? allocated\)'
vc 0 "disk show" disk show data1
out "show: the size" '^Size: +1G \(1073741824 bytes\)$'
out "show: attached to nobody" '^Attached to: +-$'
vc 4 "disk create of a taken name: exit 4" disk create data1 1M
vc 2 "disk create with a slash in the name: exit 2, the API names it" disk create a/b 1M
err "name refused" 'field name\)'
vc 2 "disk create with a bad size" disk create d2 lots
vc 1 "disk create beyond the free space: exit 1, insufficient_storage" disk create huge 4000000G
err "the 507 has its code" 'code insufficient_storage'
head -c 2097152 /dev/urandom >"$RUN/root.img"
vc 0 "disk import into a file: no progress bar" disk import "$RUN/root.img" root
out "import reports the digest" "^imported disk root \\(2M, 2097152 bytes; .*\\), sha256 $(sha256sum <"$RUN/root.img" | cut -d' ' -f1)$"
if ! grep -q '%' "$RUN/err"; then tap_ok "no bar on stderr into a file"; else tap_not_ok "no bar on stderr into a file" "$RUN/err"; fi
script -qec "$VHCTL disk import $RUN/root.img root-tty" /dev/null >"$RUN/tty.out" 2>&1
tap_grep "disk import on a terminal draws a progress bar to 100%" 'importing root-tty \[#+\] 100%' "$RUN/tty.out"
vc 2 "disk import with a wrong --sha256: refused" disk import "$RUN/root.img" bad --sha256 "$(printf '0%.0s' $(seq 64))"
err "the checksum problem" 'code checksum_mismatch'
vc 0 "disk grow" disk grow data1 2G
out "grow reports it" '^grew disk data1 \(2G'
vc 2 "disk grow smaller: exit 2" disk grow data1 1G
err "never shrinks" 'never shrink'
vc 0 "disk list -o json" -o json disk list
js "list: the disks, sizes and allocations" '[i["name"] for i in d["items"]] == ["data1", "root", "root-tty"] and d["items"][0]["size"] == 2147483648 and d["items"][0]["allocated"] < 1048576'
vc 0 "vm create --disk" -o json vm create dvm --mem 8M --kernel spinner.elf --disk root,data1:ro
js "--disk reached the definition" 'd["disks"] == [{"disk": "root", "readonly": False}, {"disk": "data1", "readonly": True}]'
vc 0 "vm show lists the disks" vm show dvm
out "vm show: Disk 1 read-only" '^Disk 1: +data1 \(read-only\)$'
vc 4 "vm create with a disk another VM writes: exit 4" vm create dvm2 --mem 8M --kernel spinner.elf --disk root:ro
err "the conflict names the VM" '"dvm"'
vc 2 "vm create with a missing disk: exit 2" vm create dvm2 --mem 8M --kernel spinner.elf --disk nosuch
err "the API names disks[0].disk" 'field disks\[0\]\.disk\)'
vc 0 "disk list" disk list
out "list: root attached to dvm" '^root +2M +[0-9.]+[KM]? +dvm +'
vc 4 "disk rm of an attached disk: exit 4" disk rm root
err "rm names the VM" 'attached to VM "dvm"'
vc 0 "vm delete dvm" vm delete dvm
vc 0 "disk rm once detached" disk rm root root-tty
out "rm says so" '^removed disk root-tty$'

# ---- vm create ------------------------------------------------------------------------

vc 0 "vm create with every flag" vm create web1 --vcpus 2 --mem 16M --kernel myspin.elf \
	--cmdline "$SPIN" --shares high --reservation 500MHz --limit 2GHz --mem-shares low \
	--mem-reservation 8M --mem-limit 1G --cosched relaxed
out "create reports the VM" '^created VM web1 \([0-9a-f-]{36}\), defined'
vc 0 "vm show -o json" -o json vm show web1
js "the flags reached the definition" 'd["vcpus"] == 2 and d["memory_mib"] == 16 and d["cpu"] == {"shares": "high", "reservation_mhz": 500, "limit_mhz": 2000} and d["memory"] == {"shares": "low", "reservation_mib": 8, "limit_mib": 1024} and d["boot"]["kernel"] == "myspin.elf" and d["boot"]["cmdline"] == "'"$SPIN"'"'
WEB1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$RUN/out")
cat >"$RUN/web2.json" <<EOF
{"name": "ignored", "vcpus": 1, "memory_mib": 8,
 "cpu": {"shares": 1500, "reservation_mhz": 0, "limit_mhz": null},
 "boot": {"kernel": "spinner.elf", "cmdline": "$SPIN"}}
EOF
vc 0 "vm create --file, the name from the command line" -o json vm create web2 --file "$RUN/web2.json"
js "the file and the name were both used" 'd["name"] == "web2" and d["cpu"]["shares"] == 1500 and d["cpu"]["limit_mhz"] is None and d["state"] == "defined"'
vc 0 "vm create --start" -o json vm create web3 --mem 8M --kernel spinner.elf --cmdline "$SPIN" --start
js "--start leaves it running" 'd["state"] == "running"'
vc 0 "vm create --initrd --boot-kind" -o json vm create lx1 --mem 8M --kernel myspin.elf \
	--initrd myspin.elf --boot-kind auto
js "boot.initrd and boot.kind reached the definition" 'd["boot"]["initrd"] == "myspin.elf" and d["boot"]["kind"] == "auto"'
vc 0 "vm show lists the initrd" vm show lx1
out "vm show: Initrd" '^Initrd: +myspin.elf$'
vc 0 "vm delete lx1" vm delete lx1
vc 4 "vm create of a taken name: exit 4" vm create web1 --mem 8M --kernel spinner.elf
err "the conflict has its code and field" '\(code conflict, field name\)'
vc 2 "vm create with 999 vCPUs: exit 2" vm create big --vcpus 999 --mem 8M --kernel spinner.elf
err "the API names the field" '\(code invalid_field, field vcpus\)'
vc 2 "vm create with a missing image" vm create x --mem 8M --kernel nosuch.elf
err "the API names boot.kernel" 'field boot\.kernel\)'
vc 2 "vm create with a bad shares level" vm create x --mem 8M --kernel spinner.elf --shares huge
err "the API names cpu.shares" 'field cpu\.shares\)'
printf '{"name":"x","memory_mib":8,"bogus":1}' >"$RUN/bogus.json"
vc 2 "vm create --file with an unknown field" vm create --file "$RUN/bogus.json"
err "the API names the unknown field" 'field bogus\)'
printf '{"name":"x",' >"$RUN/broken.json"
vc 2 "vm create --file that is not JSON" vm create --file "$RUN/broken.json"
err "the JSON error names the file" 'broken\.json: '
vc 2 "vm create without a name" vm create --mem 8M

# ---- vm list and show --------------------------------------------------------------------

vc 0 "vm list" vm list
out "vm list has a header" '^NAME +STATE +VCPUS +MEMORY +CPU-SHARES'
out "vm list shows web1's controls" '^web1 +defined +2 +16M +high +500MHz +2GHz +low +8M +1G +[0-9a-f-]{36}$'
vc 0 "vm list -o json" -o json vm list
js "vm list json: three VMs" 'd["count"] == 3 and sorted(v["name"] for v in d["items"]) == ["web1", "web2", "web3"]'
vc 0 "vm list --page-size 1 follows the pages" -o json vm list --page-size 1
js "three pages of one VM make the whole list" 'd["count"] == 3 and sorted(v["name"] for v in d["items"]) == ["web1", "web2", "web3"]'
vc 2 "vm list --page-size 0: the API refuses it" vm list --page-size 0
vc 0 "vm list --state running" -o json vm list --state running
js "the state filter" '[v["name"] for v in d["items"]] == ["web3"]'
vc 0 "vm list --prefix web1" -o json vm list --prefix web1
js "the prefix filter" '[v["name"] for v in d["items"]] == ["web1"]'
vc 2 "vm list --state bogus" vm list --state bogus
vc 0 "vm show by uuid" vm show "$WEB1"
out "vm show lists the controls" '^CPU: +shares high, reservation 500MHz, limit 2GHz$'
vc 3 "vm show of a missing VM: exit 3" vm show nosuch
err "not found: code and field" '\(code not_found'

# ---- power -------------------------------------------------------------------------------

vc 0 "vm start" vm start web1
out "start says running" '^web1: running$'
vc 0 "vm start again (declarative: nothing to do)" vm start web1
vc 0 "vm pause" vm pause web1
out "pause says paused" '^web1: paused$'
vc 0 "vm resume" vm resume web1
out "resume says running" '^web1: running$'
vc 0 "vm reset -o json" -o json vm reset web1
js "reset boots again" 'd["state"] == "running" and d["boot_generation"] == 2'
vc 4 "vm stop of a running VM without --force: exit 4" vm stop web1
err "the API names the force field" '\(code conflict, field force\)'
err "vhctl suggests --force" 'vm stop web1 --force'
vc 0 "vm stop --force" vm stop web1 --force
out "stop says stopped" '^web1: stopped$'
vc 4 "vm pause of a stopped VM: exit 4" vm pause web1
vc 3 "vm start of a missing VM: exit 3" vm start nosuch

# ---- run-time controls ---------------------------------------------------------------------

vc 0 "vm start web1 for the controls" vm start web1
vc 0 "vm cpu without flags shows them" vm cpu web1
out "the current cpu controls" '^web1: cpu shares high, reservation 500MHz, limit 2GHz$'
vc 0 "vm cpu --shares 1500 --limit unlimited (reservation kept)" -o json vm cpu web1 --shares 1500 --limit unlimited
js "cpu: shares changed, reservation kept, no limit" 'd["cpu"] == {"shares": 1500, "reservation_mhz": 500, "limit_mhz": None}'
vc 0 "vm cpu --reservation 1.5GHz" vm cpu web1 --reservation 1.5GHz
out "the table prints 1.5GHz" 'reservation 1\.5GHz, limit unlimited$'
vc 4 "a reservation the host cannot admit: exit 4" vm cpu web1 --reservation 99GHz
err "admission control: code and field" '\(code admission, field cpu\.reservation_mhz\)'
vc 0 "the refused reservation changed nothing" -o json vm cpu web1
js "still 1500 MHz reserved" 'd["reservation_mhz"] == 1500'
vc 0 "vm mem --reservation 12M --limit 2G" -o json vm mem web1 --reservation 12M --limit 2G
js "memory: reservation and limit changed, shares kept" 'd["memory"] == {"shares": "low", "reservation_mib": 12, "limit_mib": 2048}'
vc 0 "vm mem --limit unlimited" vm mem web1 --limit unlimited
out "mem prints unlimited" 'limit unlimited$'
vc 2 "vm mem reservation over the limit" vm mem web1 --reservation 64M --limit 32M
vc 0 "vm balloon 4M" vm balloon web1 4M
out "balloon says the target" '^web1: balloon target 4M$'
vc 2 "vm balloon over the VM's memory" vm balloon web1 1G
err "the API names target_mib" 'field target_mib\)'
vc 3 "vm cpu of a missing VM" vm cpu nosuch --shares low

# ---- vm edit -------------------------------------------------------------------------------

export EDITOR="sed -i 's/\"memory_mib\": 8,/\"memory_mib\": 12,/'"
vc 0 "vm edit changes a stopped VM's memory" vm edit web2
out "edit names what changed" '^edited VM web2: memory_mib$'
vc 0 "the edit is in the definition" -o json vm show web2
js "memory_mib is 12" 'd["memory_mib"] == 12'
vc 0 "vm edit without changes" vm edit web2
err "no changes is said" 'no changes'
export EDITOR="sed -i 's/\"vcpus\": 1,/\"vcpus\": 999,/'"
vc 2 "an edit the API refuses: exit 2" vm edit web2
err "the refusal names the field" 'field vcpus\)'
err "the refused edit is kept" 'the edit is kept in /'
kept=$(sed -n 's/^vhctl: the edit is kept in //p' "$RUN/err")
if [ -n "$kept" ] && grep -q '"vcpus": 999' "$kept"; then tap_ok "the kept file holds the edit"; else tap_not_ok "the kept file holds the edit" "$kept"; fi
rm -f "$kept"
# Someone else changes the VM while the editor is open: 412, exit 4.
cat >"$RUN/editor.sh" <<EOF
#!/bin/sh
"$VHCTL" vm cpu web2 --shares low >/dev/null || exit 1
sed -i 's/"shares": 1500/"shares": "high"/' "\$1"
EOF
chmod +x "$RUN/editor.sh"
export EDITOR=$RUN/editor.sh
vc 4 "an edit after a concurrent change: exit 4 (If-Match)" vm edit web2
err "the precondition failure has its code" '\(code precondition_failed'
rm -f "$(sed -n 's/^vhctl: the edit is kept in //p' "$RUN/err")"
vc 0 "the concurrent change stands" -o json vm show web2
js "shares are low, not high" 'd["cpu"]["shares"] == "low"'
export EDITOR="sh -c ': > \"\$0\"'"
vc 0 "an emptied file cancels the edit" vm edit web2
err "cancel is said" 'cancelled'
unset EDITOR

# ---- stats and top ---------------------------------------------------------------------------

vc 0 "stats" stats
out "stats has the host line" '^host: 2 pCPUs'
out "stats has web1's row" '^web1 +running +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ '
vc 0 "stats -o json" -o json stats
js "stats json: host and every VM's counters" 'd["host"]["cpu"]["pcpus"] == 2 and len(d["vms"]) == 3 and all(k in d["vms"][0]["cpu"] for k in ("used_ms","ready_ms","limited_ms","costop_ms","wait_ms"))'
vc 0 "stats NAME" stats web3
out "stats NAME has the vCPU table" '^VCPU +USED-MS +READY-MS'
vc 0 "vm stats NAME -o json" -o json vm stats web3
js "VM stats json: vcpus, memory and exits" 'd["vm"] == "web3" and len(d["vcpus"]) == 1 and "consumed_mib" in d["memory"] and isinstance(d["exits"], dict)'
vc 3 "stats of a missing VM: exit 3" stats nosuch
vc 0 "stats --watch -n 2 --interval 0.2 -o json" -o json stats --watch -n 2 --interval 0.2
jsl "--watch -o json: one document a line" 2 'all(len(x["vms"]) == 3 for x in L)'
vc 0 "stats web3 -n 2 --interval 0.2 (watch implied)" stats web3 -n 2 --interval 0.2
out "each sample has its heading" '^Every 0\.2s: vhctl stats web3'
vc 0 "top -b -n 2 -d 0.5" top -b -n 2 -d 0.5
if [ "$(grep -c '%USED' "$RUN/out")" -ge 4 ]; then tap_ok "top: two tables with the esxtop columns"; else tap_not_ok "top: two tables" "$RUN/out"; fi
out "top rows: id, name, vCPUs, percentages, state" '^ *[0-9]+ +web3 +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +.* running$'
vc 0 "top without a terminal is batch mode" top -n 1 -d 0.3
out "batch mode prints the header" '%RDY +%MLMTD +%CSTP +%WAIT'
vc 0 "top -o json -n 2 -d 0.5" -o json top -n 2 -d 0.5
# A spinner is running or ready all the time; how much of that it runs
# depends on what else the host runs meanwhile (time Linux takes from
# vh-hosted's workers counts as ready, not used).
jsl "top json: the spinning VM runs or waits to run all the time, the stopped one uses nothing" 2 '
all({v["vm"] for v in x["vms"]} == {"web1", "web2", "web3"} for x in L) and
all(v["used_pct"] > 0 and v["used_pct"] + v["ready_pct"] > 90 for x in L for v in x["vms"] if v["vm"] == "web3") and
all(v["used_pct"] <= 100 * v["vcpus"] + 10 for x in L for v in x["vms"]) and
all(v["used_pct"] == 0 for x in L for v in x["vms"] if v["vm"] == "web2") and
all(v["ready_pct"] is not None and v["limited_pct"] is not None and v["costop_pct"] is not None for x in L for v in x["vms"])'

# On a terminal (script(1) gives one): top redraws in place and "q"
# quits at once; Ctrl-C ends --watch cleanly.
rc=0
(sleep 1.5; printf q) | timeout 20 script -qfec "$VHCTL top -d 0.3" /dev/null >"$RUN/out" 2>"$RUN/err" || rc=$?
if [ $rc = 0 ] && [ "$(grep -c $'\033\\[H\033\\[2J' "$RUN/out")" -ge 2 ] && grep -q 'web3' "$RUN/out"; then
	tap_ok "top on a terminal redraws the screen and quits on q"
else
	tap_not_ok "top on a terminal redraws the screen and quits on q (exit $rc)" "$(head -c 2000 "$RUN/out" | cat -v)" "$RUN/err"
fi
# One SIGINT to vhctl alone, as Ctrl-C sends it (timeout(1) signals its
# whole process group as well, and a second SIGINT landing while the
# sanitizers' leak check stops the process's threads once hung it there).
# A vhctl that does not end within 20 s is killed and fails the case.
rc=0
"$VHCTL" stats --watch --interval 0.2 >"$RUN/out" 2>"$RUN/err" &
pid=$!
sleep 1.5
kill -INT $pid
for _ in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -KILL $pid 2>/dev/null && echo "vhctl still running 20 s after SIGINT: killed" >>"$RUN/err"
wait $pid || rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^Every 0.2s' "$RUN/out")" -ge 2 ]; then
	tap_ok "SIGINT ends stats --watch with exit 0"
else
	tap_not_ok "SIGINT ends stats --watch with exit 0 (exit $rc)" "$RUN/out" "$RUN/err"
fi

# ---- tokens and HTTPS ---------------------------------------------------------------------------

vc 0 "token create (admin over the unix socket)" token create viewer1 --role viewer
VIEWER=$(tail -1 "$RUN/out")
err "token create says the secret is shown once" 'shown only now'
vc 0 "token create -o json" -o json token create op1 --role operator
js "the json has the secret and the role" 'd["role"] == "operator" and d["token"].startswith("vh_")'
OPERATOR=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$RUN/out")
vc 2 "token create with a bad role" token create x --role god
err "the role field is named" 'field role\)'
vc 2 "token create without --role" token create x
vc 4 "token create with a name taken: exit 4 (conflict)" token create viewer1 --role admin
err "the taken name has its code and field" '\(code conflict, field name\)'
vc 0 "token list" token list
out "token list shows the viewer" '^[0-9a-f]+ +viewer1 +viewer +'
vc 0 "token list -o json" -o json token list
js "token list json never holds secrets" 'len(d["items"]) >= 2 and all("token" not in t for t in d["items"])'
export VH_CACERT=$CACERT
vc 5 "HTTPS without a token: exit 5" --url "$HTTPS" host
err "unauthorized has its code" '\(code unauthorized\)'
vc 0 "HTTPS with the viewer's token" --url "$HTTPS" --token "$VIEWER" host
vc 0 "a viewer lists VMs" --url "$HTTPS" --token "$VIEWER" -o json vm list
vc 5 "a viewer cannot start a VM: exit 5" --url "$HTTPS" --token "$VIEWER" vm start web2
err "forbidden has its code" '\(code forbidden\)'
vc 5 "a viewer cannot list tokens" --url "$HTTPS" --token "$VIEWER" token list
vc 0 "an operator starts a VM over HTTPS" --url "$HTTPS" --token "$OPERATOR" vm start web2
vc 5 "an operator cannot create tokens" --url "$HTTPS" --token "$OPERATOR" token create y --role admin
vc 5 "an unknown token: exit 5" --url "$HTTPS" --token vh_bogus host
# ---- console and events ------------------------------------------------------------------
# A guest that prints escape sequences (its command line, echoed by the
# spinner): a window title (OSC), a screen clear (CSI) and the one-byte
# C1 CSI (U+009B).
HOSTILE_ARGS="$SPIN tag=$(printf '\033]0;owned\007|\033[2J|\302\233|')"
vc 0 "vm create --start of a guest that prints escape sequences" vm create con9 --mem 8M \
	--kernel spinner.elf --cmdline "$HOSTILE_ARGS" --start
for _ in $(seq 1 100); do
	"$VHCTL" console con9 2>/dev/null | grep -q 'spinner: progress' && break
	sleep 0.05
done
vc 0 "console prints the tail" console con9
out "with the guest's lines" '^spinner: progress [0-9]+$'
out "escape sequences shown in caret notation, C1 controls as \\u" 'tag=\^\[\]0;owned\^G\|\^\[\[2J\|\\u009b\|'
if ! grep -q $'\033' "$RUN/out" && ! grep -q $'\302\233' "$RUN/out"; then
	tap_ok "no ESC and no C1 CSI reach the terminal"
else
	tap_not_ok "no ESC and no C1 CSI reach the terminal" "$RUN/out"
fi
vc 0 "console --raw" console con9 --raw
if grep -q $'\033\\]0;owned\007' "$RUN/out"; then tap_ok "--raw writes the guest's bytes untouched"; else tap_not_ok "--raw writes the guest's bytes untouched" "$RUN/out"; fi
vc 0 "a viewer reads the console over HTTPS" --url "$HTTPS" --token "$VIEWER" console con9
vc 3 "console of no such VM: exit 3" console nosuch
rc=0
"$VHCTL" console con9 -f >"$RUN/follow" 2>"$RUN/err" &
fpid=$!
sleep 1
vc 0 "vm delete of the followed VM" vm delete con9 --force
wait "$fpid" || rc=$?
if [ "$rc" = 0 ] && [ "$(grep -c 'spinner: progress' "$RUN/follow")" -gt "$(grep -c 'spinner: progress' "$RUN/out")" ]; then
	tap_ok "console -f follows the guest and ends (exit 0) when the VM is deleted"
else
	tap_not_ok "console -f follows the guest and ends (exit 0) when the VM is deleted (exit $rc)" "$RUN/follow" "$RUN/err"
fi
# The agent's watcher sees the hypervisor's VM list five times a second:
# the deletion is in the ring within 200 ms of it, not at once.
for _ in $(seq 30); do
	"$VHCTL" events 2>/dev/null | grep -Eq '^[0-9]+ +[0-9T:.Z-]+ +vm_deleted +con9 *$' && break
	sleep 0.1
done
vc 0 "events" events
out "events: a table with the VM's life" '^[0-9]+ +[0-9T:.Z-]+ +vm_deleted +con9 *$'
out "events: the agent's start" '^[0-9]+ +[0-9T:.Z-]+ +agent_started +- +\{"version":'
vc 0 "events -o json: one JSON object a line" -o json events
if "$PY" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$RUN/out"; then tap_ok "events -o json parses line by line"; else tap_not_ok "events -o json parses line by line" "$RUN/out"; fi
last=$("$PY" -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["id"])' "$RUN/out")
vc 0 "events --since the last id: nothing new" -o json events --since "$last"
if [ ! -s "$RUN/out" ]; then tap_ok "events --since prints only what came after"; else tap_not_ok "events --since prints only what came after" "$RUN/out"; fi
vc 2 "events --since x: usage error" events --since x
rc=0
timeout 4 "$VHCTL" --url "$HTTPS" --token "$VIEWER" events -f >"$RUN/evf" 2>"$RUN/err" &
fpid=$!
sleep 0.5
vc 0 "vm create while a viewer follows the events" vm create ev9 --mem 8M --kernel spinner.elf
sleep 0.5
vc 0 "vm delete" vm delete ev9
wait "$fpid" || rc=$?
if [ "$rc" = 124 ] && grep -Eq '^[0-9]+ +[^ ]+ +vm_defined +ev9 ' "$RUN/evf" && grep -Eq ' vm_deleted +ev9 *$' "$RUN/evf"; then
	tap_ok "events -f (a viewer, HTTPS) shows the new VM's events as they happen"
else
	tap_not_ok "events -f (a viewer, HTTPS) shows the new VM's events as they happen (exit $rc)" "$RUN/evf" "$RUN/err"
fi
vc 0 "token revoke" token revoke viewer1
vc 5 "a revoked token is refused" --url "$HTTPS" --token "$VIEWER" host
vc 3 "revoking it again: exit 3" token revoke viewer1
unset VH_CACERT

# ---- settings: config file < environment < flags ---------------------------------------------------

mkdir -p "$HOME/.config/vh"
printf '# vhctl settings\nurl = %s\ncacert = %s\ntoken = %s\n' "$HTTPS" "$CACERT" "$OPERATOR" >"$HOME/.config/vh/config"
chmod 600 "$HOME/.config/vh/config"
(
	unset VH_URL
	vc 0 "the config file gives url, cacert and token" -o json vm list
	VH_TOKEN=vh_bogus vc 5 "VH_TOKEN overrides the file's token" host
	VH_TOKEN=vh_bogus vc 0 "--token overrides VH_TOKEN" --token "$OPERATOR" host
	VH_URL=unix://$ASOCK VH_TOKEN= vc 0 "VH_URL overrides the file's url" host
	VH_CACERT=/nonexistent vc 6 "VH_CACERT overrides the file's cacert" host
	chmod 644 "$HOME/.config/vh/config"
	vc 0 "a token in a readable file still works" host
	err "and vhctl warns about it" 'readable by others'
	printf 'url = %s\ncolour = blue\n' "$HTTPS" >"$HOME/.config/vh/config"
	vc 2 "an unknown key in the config file: exit 2" host
	err "the file and line are named" 'config:2: unknown key "colour"'
	mkdir -p "$RUN/xdg/vh"
	printf 'url = unix://%s/xdg-nothing.sock\n' "$RUN" >"$RUN/xdg/vh/config"
	XDG_CONFIG_HOME=$RUN/xdg vc 6 "XDG_CONFIG_HOME moves the file" host
	err "the url came from \$XDG_CONFIG_HOME/vh/config" 'xdg-nothing\.sock'
) >"$RUN/sub.tap"
cat "$RUN/sub.tap"
# The subshell's cases count here too.
tap_n=$((tap_n + $(grep -c '^ok\|^not ok' "$RUN/sub.tap")))
tap_failed=$((tap_failed + $(grep -c '^not ok' "$RUN/sub.tap")))
rm -f "$HOME/.config/vh/config"

# ---- completion of names from the agent ---------------------------------------------------------

got=$(complete_words "$VHCTL" vm show we | tr ' ' '\n' | sort | xargs)
if [ "$got" = "web1 web2 web3" ]; then tap_ok "completion: VM names from the agent"; else tap_not_ok "completion: VM names" "got: $got"; fi
got=$(complete_words "$VHCTL" image rm mys)
if [ "$got" = "myspin.elf" ]; then tap_ok "completion: image names from the agent"; else tap_not_ok "completion: image names" "got: $got"; fi

got=$(complete_words "$VHCTL" disk show da)
if [ "$got" = "data1" ]; then tap_ok "completion: disk names from the agent"; else tap_not_ok "completion: disk names" "got: $got"; fi

# ---- delete --------------------------------------------------------------------------------------

vc 4 "image rm of an image a VM boots from: exit 4" image rm myspin.elf
err "in use: code and field" '\(code conflict, field name\)'
vc 4 "vm delete of a running VM without --force: exit 4" vm delete web1
err "vhctl suggests --force for delete" 'vm delete web1 --force'
vc 0 "vm delete --force" vm delete web1 --force
out "delete says so" '^deleted VM web1$'
vc 3 "vm delete of a deleted VM: exit 3" vm delete web1
vc 0 "vm delete -o json prints nothing" -o json vm delete web3 --force
if [ ! -s "$RUN/out" ]; then tap_ok "a 204 prints no JSON"; else tap_not_ok "a 204 prints no JSON" "$RUN/out"; fi
printf '{"vcpus": 1, "memory_mib": 8, "boot": {"kernel": "spinner.elf"}}' |
	"$VHCTL" -o json vm create web4 --file - >"$RUN/out" 2>"$RUN/err"
js "vm create --file - reads standard input" 'd["name"] == "web4" and d["memory_mib"] == 8'
vc 0 "vm delete of a defined VM needs no --force" vm delete web4
vc 0 "image rm once no VM uses it" image rm myspin.elf

# ---- server errors (exit 1) ------------------------------------------------------------------------

hv_stop
vc 1 "the hypervisor is gone: a server error, exit 1" host
err "the agent's 503 is shown with its code" '\(code unavailable\)'
agent_stops_cleanly

tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
