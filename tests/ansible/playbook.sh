#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Ansible collection vh.hypervisor (packaging/ansible) against the real
# stack: two vh-hosted + vhagent pairs from this build stand for two hosts
# (host1 reached over the agent's unix socket, host2 over HTTPS with a
# bearer token and the agent's own certificate as CA).  tests/ansible/
# provision.yml provisions ten VMs on each:
#   1. the first run makes the changes, and the VMs are as asked (read
#      back with curl, not through the collection);
#   2. the second run changes nothing (changed=0 on both hosts);
#   3. --check --diff with one VM's CPU limit changed shows that diff and
#      changed=1 for host1 alone, and the agent still has the old limit;
#   4. the same change for real applies to the running VM;
# then removal (refused without force for a running VM), and the token
# never appears in the output (no_log); vh.hypervisor.disk (a thin disk,
# again without change, --check --diff of a grow, the grow, no shrink, an
# import from a raw image, absent refused while attached) and the vm
# module's disks (attached, again without change, in --check).
# ansible-doc renders the four modules' documentation, ansible-galaxy builds the collection, and
# ansible-test's offline sanity tests pass.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/harness/agent-env.sh"
set -u

for tool in ansible-playbook ansible ansible-doc ansible-galaxy ansible-test; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (Debian package ansible-core, see packaging/debian-packages.txt)"
		exit 1
	fi
done
agent_env_require
GUEST=$top_builddir/tests/guests/spinner.elf
if [ ! -f "$GUEST" ]; then
	echo "Bail out! $GUEST is not built"
	exit 1
fi

RUN=$top_builddir/tests/ansible/runs/playbook
rm -rf "$RUN"
mkdir -p "$RUN/ansible-home" "$RUN/tmp"
COLLECTIONS=$top_srcdir/packaging/ansible
PLAYBOOK=$top_srcdir/tests/ansible/provision.yml

tap_plan 43

agent_pair_start host1 "$RUN/host1"
agent_pair_start host2 "$RUN/host2"
ok=1
for h in host1 host2; do
	agent_put_image "$h" "$GUEST"
	case "$API_CODE" in 200|201) ;; *) ok=0; echo "# $h: PUT /v1/images/spinner.elf answered $API_CODE" ;; esac
done
[ $ok = 1 ] && tap_ok "the test guest uploaded to both agents" || tap_not_ok "the test guest uploaded to both agents"

cat >"$RUN/inventory.yml" <<EOF
vh_hosts:
  hosts:
    host1:
      vh_socket: $host1_sock
    host2:
      vh_url: $host2_url
      vh_token: $host2_token
      vh_ca_cert: $host2_cacert
  vars:
    ansible_connection: local
    ansible_python_interpreter: /usr/bin/python3
EOF
cat >"$RUN/ansible.cfg" <<EOF
[defaults]
collections_path = $COLLECTIONS
stdout_callback = default
retry_files_enabled = False
nocows = True
forks = 2
local_tmp = $RUN/tmp
[diff]
context = 1
EOF
export ANSIBLE_CONFIG=$RUN/ansible.cfg ANSIBLE_HOME=$RUN/ansible-home ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS PYTHONDONTWRITEBYTECODE=1
unset VH_AGENT_URL VH_AGENT_SOCKET VH_TOKEN

# play LOG ARGS...: ansible-playbook with the inventory; its exit status.
play() {
	local log=$1
	shift
	ansible-playbook -i "$RUN/inventory.yml" "$PLAYBOOK" "$@" >"$RUN/$log" 2>&1
}

# recap LOG HOST: "ok=N changed=N ... failed=N" of the host's recap line.
recap() {
	sed -n "s/^$2 *: \(ok=.*\)$/\1/p" "$RUN/$1" | tr -s ' '
}

# recap_is DESC LOG HOST KEY VALUE
recap_is() {
	local line
	line=$(recap "$2" "$3")
	if printf '%s\n' "$line" | grep -Eq "(^| )$4=$5( |$)"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "recap of $3: ${line:-none}" "$(tail -30 "$RUN/$2")"
	fi
}

# vm_field HOST VM JQ-PATH: a member of GET /v1/vms/VM, read with curl.
vm_field() {
	agent_api "$1" GET "/v1/vms/$2"
	[ "$API_CODE" = 200 ] || { echo "HTTP $API_CODE"; return; }
	printf '%s' "$API_BODY" | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(json.dumps(v))' "$3"
}

# field_is DESC HOST VM PATH JSON-VALUE
field_is() {
	local got
	got=$(vm_field "$2" "$3" "$4")
	if [ "$got" = "$5" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "$3 $4: $got, wanted $5"
	fi
}

# --- 1. the first run makes the changes --------------------------------
start=$(date +%s)
play run1.log -vvv
rc=$?
[ $rc = 0 ] && tap_ok "first run succeeds" || tap_not_ok "first run succeeds" "exit $rc" "$(tail -40 "$RUN/run1.log")"
recap_is "first run: host1 reports changes" run1.log host1 changed 1
recap_is "first run: host2 (HTTPS, token) reports changes" run1.log host2 changed 1
n=$(grep -c '^changed: \[host[12]\] => (item=host[12]-' "$RUN/run1.log")
[ "$n" = 20 ] && tap_ok "first run: 20 VMs changed" || tap_not_ok "first run: 20 VMs changed" "$n changed items"
if grep -qF -- "$host2_token" "$RUN/run1.log"; then
	tap_not_ok "the bearer token never appears in the output (no_log)" "$(grep -nF -- "$host2_token" "$RUN/run1.log" | head -3)"
elif grep -q VALUE_SPECIFIED_IN_NO_LOG_PARAMETER "$RUN/run1.log"; then
	tap_ok "the bearer token never appears in the output (no_log)"
else
	tap_not_ok "the bearer token never appears in the output (no_log)" "no masked token in the -vvv output either"
fi

# The VMs, as the agents (not the collection) see them.
for h in host1 host2; do
	agent_api "$h" GET "/v1/vms?name_prefix=$h-&limit=100"
	states=$(printf '%s' "$API_BODY" | /usr/bin/python3 -c '
import json, sys
print(" ".join(sorted(v["name"].split("-", 1)[1] + "=" + v["state"] for v in json.load(sys.stdin)["items"])))')
	# A VM never powered on is "defined": state stopped asks only that
	# it is off.
	want="batch0=paused batch1=paused db0=running spare0=defined spare1=defined spare2=defined tmpl0=defined web0=running web1=running web2=running"
	if [ "$states" = "$want" ]; then
		tap_ok "$h: ten VMs in the states asked for"
	else
		tap_not_ok "$h: ten VMs in the states asked for" "got:  $states" "want: $want"
	fi
done
field_is "host1-web0: cpu as asked (shares high, 100 MHz reserved, 200 MHz limit)" host1 host1-web0 cpu \
	'{"shares": "high", "reservation_mhz": 100, "limit_mhz": 200}'
field_is "host1-web0: memory limit unlimited (null)" host1 host1-web0 memory.limit_mib null
field_is "host2-web2: custom shares, two vCPUs" host2 host2-web2 cpu.shares 3000
field_is "host2-db0: the balloon device and a 4 MiB target" host2 host2-db0 balloon.target_mib 4
field_is "host2-db0: memory controls" host2 host2-db0 memory \
	'{"shares": "high", "reservation_mib": 16, "limit_mib": 24}'
field_is "host1-spare2: co-scheduling off" host1 host1-spare2 cosched '"none"'
field_is "host1-tmpl0: boots the uploaded guest" host1 host1-tmpl0 boot.kernel '"spinner.elf"'

# --- 2. the second run changes nothing ---------------------------------
play run2.log
rc=$?
[ $rc = 0 ] && tap_ok "second run succeeds" || tap_not_ok "second run succeeds" "exit $rc" "$(tail -40 "$RUN/run2.log")"
recap_is "second run: host1 changed=0" run2.log host1 changed 0
recap_is "second run: host2 changed=0" run2.log host2 changed 0

# --- 3. --check --diff with one variable changed -----------------------
etag_before=$(curl -s -D - -o /dev/null --unix-socket "$host1_sock" http://vh/v1/vms/host1-web0 | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
play run3.log --check --diff -e '{"vm_limit_override": {"host1-web0": 300}}'
rc=$?
[ $rc = 0 ] && tap_ok "--check --diff run succeeds" || tap_not_ok "--check --diff run succeeds" "exit $rc" "$(tail -40 "$RUN/run3.log")"
recap_is "--check --diff: host1 changed=1" run3.log host1 changed 1
recap_is "--check --diff: host2 changed=0" run3.log host2 changed 0
if grep -Eq '^-.*"limit_mhz": 200' "$RUN/run3.log" && grep -Eq '^\+.*"limit_mhz": 300' "$RUN/run3.log"; then
	tap_ok "--check --diff shows the pending change (limit_mhz 200 -> 300)"
else
	tap_not_ok "--check --diff shows the pending change (limit_mhz 200 -> 300)" "$(grep -n -B2 -A12 'host1-web0' "$RUN/run3.log" | head -40)"
fi
etag_after=$(curl -s -D - -o /dev/null --unix-socket "$host1_sock" http://vh/v1/vms/host1-web0 | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
got=$(vm_field host1 host1-web0 cpu.limit_mhz)
if [ "$got" = 200 ] && [ -n "$etag_before" ] && [ "$etag_before" = "$etag_after" ]; then
	tap_ok "--check made no change (limit 200, ETag unchanged)"
else
	tap_not_ok "--check made no change (limit 200, ETag unchanged)" "limit $got, ETag $etag_before -> $etag_after"
fi

# --- 4. the change for real, on the running VM --------------------------
play run4.log -e '{"vm_limit_override": {"host1-web0": 300}}'
rc=$?
if [ $rc = 0 ] && [ "$(recap run4.log host1 | grep -o 'changed=[0-9]*')" = changed=1 ] &&
	[ "$(vm_field host1 host1-web0 cpu.limit_mhz)" = 300 ] && [ "$(vm_field host1 host1-web0 state)" = '"running"' ]; then
	tap_ok "the change applies at run time (limit 300, still running)"
else
	tap_not_ok "the change applies at run time (limit 300, still running)" "exit $rc" "$(tail -30 "$RUN/run4.log")"
fi

# --- removal -------------------------------------------------------------
ansible host1 -i "$RUN/inventory.yml" -m vh.hypervisor.vm \
	-a "name=host1-web1 state=absent socket=$host1_sock" >"$RUN/absent1.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q 'force: true' "$RUN/absent1.log" && [ "$(vm_field host1 host1-web1 state)" = '"running"' ]; then
	tap_ok "removing a running VM without force fails and keeps it"
else
	tap_not_ok "removing a running VM without force fails and keeps it" "exit $rc" "$(cat "$RUN/absent1.log")"
fi
ansible host1 -i "$RUN/inventory.yml" -m vh.hypervisor.vm \
	-a "name=host1-web1 state=absent force=true socket=$host1_sock" >"$RUN/absent2.log" 2>&1
rc=$?
agent_api host1 GET /v1/vms/host1-web1
if [ $rc = 0 ] && grep -q 'CHANGED' "$RUN/absent2.log" && [ "$API_CODE" = 404 ]; then
	tap_ok "state=absent force=true removes a running VM"
else
	tap_not_ok "state=absent force=true removes a running VM" "exit $rc, GET $API_CODE" "$(cat "$RUN/absent2.log")"
fi

# --- power and offline changes, over HTTPS with the token -----------------
H2="url={{ vh_url }} token={{ vh_token }} ca_cert={{ vh_ca_cert }}"
ansible host2 -i "$RUN/inventory.yml" -m vh.hypervisor.vm -a "name=host2-web1 vcpus=2 $H2" >"$RUN/offline1.log" 2>&1
rc1=$?
v1=$(vm_field host2 host2-web1 vcpus)
ansible host2 -i "$RUN/inventory.yml" -m vh.hypervisor.vm -a "name=host2-web1 vcpus=2 force=true $H2" >"$RUN/offline2.log" 2>&1
rc2=$?
if [ $rc1 != 0 ] && grep -q 'change only while it is off' "$RUN/offline1.log" && [ "$v1" = 1 ] &&
	[ $rc2 = 0 ] && [ "$(vm_field host2 host2-web1 vcpus)" = 2 ] && [ "$(vm_field host2 host2-web1 state)" = '"running"' ]; then
	tap_ok "vcpus of a running VM: refused without force; with force off, changed, running again"
else
	tap_not_ok "vcpus of a running VM: refused without force; with force off, changed, running again" \
		"exit $rc1 then $rc2, vcpus $v1" "$(cat "$RUN/offline1.log" "$RUN/offline2.log")"
fi
ansible host2 -i "$RUN/inventory.yml" -m vh.hypervisor.vm -a "name=host2-batch0 state=stopped force=true $H2" >"$RUN/stop.log" 2>&1
rc=$?
got=$(vm_field host2 host2-batch0 state)
[ $rc = 0 ] && [ "$got" = '"stopped"' ] && tap_ok "state=stopped force=true powers a paused VM off" ||
	tap_not_ok "state=stopped force=true powers a paused VM off" "exit $rc, state $got" "$RUN/stop.log"
ansible host2 -i "$RUN/inventory.yml" -m vh.hypervisor.vm -a "name=host2-batch1 state=running $H2" >"$RUN/resume.log" 2>&1
rc=$?
got=$(vm_field host2 host2-batch1 state)
[ $rc = 0 ] && [ "$got" = '"running"' ] && grep -q CHANGED "$RUN/resume.log" &&
	tap_ok "state=running resumes a paused VM" || tap_not_ok "state=running resumes a paused VM" "exit $rc, state $got" "$RUN/resume.log"
echo "# four playbook runs and seven ad-hoc tasks: $(($(date +%s) - start)) s"

# --- the datastore: vh.hypervisor.disk and the vm module's disks ----------
S1="socket=$host1_sock"
# disk_size NAME: the size GET /v1/disks/NAME reports (or the status).
disk_size() {
	agent_api host1 GET "/v1/disks/$1"
	[ "$API_CODE" = 200 ] || { echo "HTTP $API_CODE"; return; }
	printf '%s' "$API_BODY" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'
}
adhoc() { # LOG MODULE ARGS [ansible options...]
	local log=$1 mod=$2 args=$3
	shift 3
	ansible host1 -i "$RUN/inventory.yml" -m "vh.hypervisor.$mod" -a "$args" "$@" >"$RUN/$log" 2>&1
}
adhoc disk1.log disk "name=d-web size=64M $S1"
rc=$?
[ $rc = 0 ] && grep -q CHANGED "$RUN/disk1.log" && [ "$(disk_size d-web)" = 67108864 ] &&
	tap_ok "disk: a thin 64M disk is created (changed)" ||
	tap_not_ok "disk: a thin 64M disk is created (changed)" "exit $rc" "$RUN/disk1.log"
adhoc disk2.log disk "name=d-web size=64M $S1"
rc=$?
[ $rc = 0 ] && grep -q 'SUCCESS' "$RUN/disk2.log" && ! grep -q CHANGED "$RUN/disk2.log" &&
	tap_ok "disk: the same task again changes nothing" ||
	tap_not_ok "disk: the same task again changes nothing" "exit $rc" "$RUN/disk2.log"
adhoc disk3.log disk "name=d-web size=128M $S1" --check --diff
rc=$?
if [ $rc = 0 ] && grep -q CHANGED "$RUN/disk3.log" && grep -Eq '^-.*"size": 67108864' "$RUN/disk3.log" &&
	grep -Eq '^\+.*"size": 134217728' "$RUN/disk3.log" && [ "$(disk_size d-web)" = 67108864 ]; then
	tap_ok "disk: --check --diff shows the grow (64M -> 128M) and leaves the disk"
else
	tap_not_ok "disk: --check --diff shows the grow (64M -> 128M) and leaves the disk" "exit $rc" "$RUN/disk3.log"
fi
adhoc disk4.log disk "name=d-web size=128M $S1"
rc=$?
[ $rc = 0 ] && grep -q CHANGED "$RUN/disk4.log" && [ "$(disk_size d-web)" = 134217728 ] &&
	tap_ok "disk: the grow for real (128M)" || tap_not_ok "disk: the grow for real (128M)" "exit $rc" "$RUN/disk4.log"
adhoc disk5.log disk "name=d-web size=64M $S1"
rc=$?
[ $rc != 0 ] && grep -q 'never shrink' "$RUN/disk5.log" && [ "$(disk_size d-web)" = 134217728 ] &&
	tap_ok "disk: a smaller size fails the task, the disk kept" ||
	tap_not_ok "disk: a smaller size fails the task, the disk kept" "exit $rc" "$RUN/disk5.log"
head -c 1048576 /dev/urandom >"$RUN/raw.img"
adhoc disk6.log disk "name=d-img source=$RUN/raw.img $S1"
rc1=$?
adhoc disk7.log disk "name=d-img source=$RUN/raw.img $S1"
rc2=$?
if [ $rc1 = 0 ] && grep -q CHANGED "$RUN/disk6.log" && cmp -s "$RUN/raw.img" "$host1_state/disks/d-img" &&
	[ $rc2 = 0 ] && ! grep -q CHANGED "$RUN/disk7.log"; then
	tap_ok "disk: imported from a raw image byte for byte, then left alone"
else
	tap_not_ok "disk: imported from a raw image byte for byte, then left alone" "exit $rc1, $rc2" \
		"$RUN/disk6.log" "$RUN/disk7.log"
fi
DISKS='"disks": [{"disk": "d-web"}, {"disk": "d-img", "readonly": true}]'
adhoc vmdisk1.log vm "{\"name\": \"host1-spare0\", $DISKS, \"socket\": \"$host1_sock\"}"
rc=$?
got=$(vm_field host1 host1-spare0 disks)
want='[{"disk": "d-web", "readonly": false}, {"disk": "d-img", "readonly": true}]'
[ $rc = 0 ] && grep -q CHANGED "$RUN/vmdisk1.log" && [ "$got" = "$want" ] &&
	tap_ok "vm: disks attached to a stopped VM, in boot order" ||
	tap_not_ok "vm: disks attached to a stopped VM, in boot order" "exit $rc, disks $got" "$RUN/vmdisk1.log"
adhoc vmdisk2.log vm "{\"name\": \"host1-spare0\", $DISKS, \"socket\": \"$host1_sock\"}"
rc=$?
[ $rc = 0 ] && ! grep -q CHANGED "$RUN/vmdisk2.log" &&
	tap_ok "vm: the same disks again change nothing" ||
	tap_not_ok "vm: the same disks again change nothing" "exit $rc" "$RUN/vmdisk2.log"
adhoc vmdisk3.log vm "{\"name\": \"host1-spare0\", \"disks\": [], \"socket\": \"$host1_sock\"}" --check --diff
rc=$?
[ $rc = 0 ] && grep -q CHANGED "$RUN/vmdisk3.log" && [ "$(vm_field host1 host1-spare0 disks)" = "$want" ] &&
	tap_ok "vm: --check of detaching reports a change and makes none" ||
	tap_not_ok "vm: --check of detaching reports a change and makes none" "exit $rc" "$RUN/vmdisk3.log"
adhoc disk8.log disk "name=d-web state=absent $S1"
rc=$?
[ $rc != 0 ] && grep -q 'host1-spare0' "$RUN/disk8.log" && [ "$(disk_size d-web)" = 134217728 ] &&
	tap_ok "disk: absent refused while a VM names it (409 naming the VM)" ||
	tap_not_ok "disk: absent refused while a VM names it (409 naming the VM)" "exit $rc" "$RUN/disk8.log"
adhoc vmdisk4.log vm "{\"name\": \"host1-spare0\", \"disks\": [], \"socket\": \"$host1_sock\"}"
adhoc disk9.log disk "name=d-web state=absent $S1" --check
rc1=$?
s1=$(disk_size d-web)
adhoc disk10.log disk "name=d-web state=absent $S1"
rc2=$?
adhoc disk11.log disk "name=d-web state=absent $S1"
rc3=$?
if [ $rc1 = 0 ] && grep -q CHANGED "$RUN/disk9.log" && [ "$s1" = 134217728 ] && [ $rc2 = 0 ] &&
	grep -q CHANGED "$RUN/disk10.log" && [ "$(disk_size d-web)" = "HTTP 404" ] && [ $rc3 = 0 ] &&
	! grep -q CHANGED "$RUN/disk11.log"; then
	tap_ok "disk: detached, absent (--check first keeps it), then absent again changes nothing"
else
	tap_not_ok "disk: detached, absent (--check first keeps it), then absent again changes nothing" \
		"exit $rc1 $rc2 $rc3, size in check $s1" "$RUN/disk9.log" "$RUN/disk10.log" "$RUN/disk11.log"
fi
echo "# the datastore's tasks: $(($(date +%s) - start)) s since the first run"

# --- documentation and the collection's build ---------------------------
ok=1
for m in vm vm_info host_info disk; do
	if ! ansible-doc "vh.hypervisor.$m" >"$RUN/doc-$m.txt" 2>&1 || ! grep -q '^EXAMPLES' "$RUN/doc-$m.txt" ||
		! grep -q '^RETURN VALUES' "$RUN/doc-$m.txt"; then
		ok=0
		echo "# ansible-doc vh.hypervisor.$m:"
		sed 's/^/# /' "$RUN/doc-$m.txt" | head -10
	fi
done
[ $ok = 1 ] && tap_ok "ansible-doc renders vm, vm_info, host_info and disk (options, examples, return values)" ||
	tap_not_ok "ansible-doc renders vm, vm_info, host_info and disk (options, examples, return values)"
if ansible-galaxy collection build --output-path "$RUN" "$COLLECTIONS/ansible_collections/vh/hypervisor" >"$RUN/build.log" 2>&1 &&
	[ -f "$RUN/vh-hypervisor-0.1.0.tar.gz" ]; then
	tap_ok "ansible-galaxy builds the collection (vh-hypervisor-0.1.0.tar.gz)"
else
	tap_not_ok "ansible-galaxy builds the collection" "$(cat "$RUN/build.log")"
fi

# ansible-test's sanity tests that need no download (the others install
# linters with pip, which this machine cannot reach), on a copy laid out
# as ansible-test wants it.
S=$RUN/sanity/ansible_collections/vh/hypervisor
mkdir -p "$S"
cp -r "$COLLECTIONS/ansible_collections/vh/hypervisor/." "$S/"
find "$S" -name __pycache__ -prune -exec rm -rf {} +
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
tests=
for t in compile empty-init future-import-boilerplate line-endings metaclass-boilerplate no-assert \
	no-basestring no-dict-iteritems no-dict-iterkeys no-dict-itervalues no-get-exception \
	no-illegal-filenames no-main-display no-smart-quotes no-unicode-literals replace-urlopen \
	shebang symlinks use-argspec-type-path use-compat-six; do
	tests="$tests --test $t"
done
if (cd "$S" && ansible-test sanity --python "$pyver" $tests) >"$RUN/sanity.log" 2>&1; then
	tap_ok "ansible-test sanity: 20 offline tests pass"
else
	tap_not_ok "ansible-test sanity: 20 offline tests pass" "$(grep -v 'locale' "$RUN/sanity.log" | tail -20)"
fi

agent_env_cleanup
if [ "$tap_failed" -eq 0 ]; then
	rm -rf "$RUN"
fi
[ "$tap_failed" -eq 0 ]
