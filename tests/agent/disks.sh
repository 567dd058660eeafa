#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The datastore through a real vhagent and vh-hosted, with curl
# (docs/datastore.md): a thin disk (size, small allocation), imports with
# and without a SHA-256 (a wrong one refused, nothing left), list, show,
# grow (never shrink), bad names and a size beyond the file system; a
# VM's disks at create (each must exist, a read-write disk for one VM
# only), in vh-hosted's definition (vh-msg get), kept across a restart
# of the agent and of vh-hosted, PATCH refused while running, delete
# refused while attached; and a full datastore (a 16 MiB ext4 file system
# on a loop device as disks_dir): 507 problems and no partial file.
# Needs root (mount), a loop device, mkfs.ext4 and /dev/kvm: fails loudly
# without them.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
for tool in mkfs.ext4 mount umount sha256sum; do
	command -v "$tool" >/dev/null || {
		echo "Bail out! $tool is missing (e2fsprogs, mount, coreutils)"
		exit 1
	}
done
umount "$top_builddir/tests/agent/runs/disks/small" 2>/dev/null
agent_setup disks
disks_cleanup() {
	agent_cleanup
	mountpoint -q "$RUN/small" && umount "$RUN/small"
}
trap disks_cleanup EXIT
hv_start
agent_start
DS=$STATE/disks
JSON=(-H 'Content-Type: application/json')
GiB=1073741824

# no_leftovers DIR: no temporary upload file in the datastore.
no_leftovers() { ! ls -A "$1" | grep -q '^\.upload-'; }
problem() { [ "$CODE" = "$1" ] && [ "$(json "j['field']")" = "$2" ]; }

# ---- create, show, list, grow ----------------------------------------------------------
api POST /v1/disks "${JSON[@]}" -d "{\"name\":\"web-root\",\"size\":$GiB}"
check "POST /v1/disks makes a thin disk: 201, a file of the size in the datastore" \
	test "$CODE" = 201 -a "$(stat -c %s "$DS/web-root" 2>/dev/null)" = "$GiB"
api GET /v1/disks/web-root
check "GET shows the size and a small allocation (sparse: under 1 MiB of 1 GiB)" \
	test "$CODE" = 200 -a "$(json "j['size']")" = "$GiB" -a "$(json "j['allocated'] < 1048576")" = True
check "... attached to no VM yet" test "$(json "len(j['attached'])")" = 0
api POST /v1/disks "${JSON[@]}" -d "{\"name\":\"web-root\",\"size\":4096}"
check "the same name again: 409" problem 409 name
api PATCH /v1/disks/web-root "${JSON[@]}" -d "{\"size\":$((2 * GiB))}"
check "PATCH grows it: 200, the file is 2 GiB" \
	test "$CODE" = 200 -a "$(json "j['size']")" = $((2 * GiB)) -a "$(stat -c %s "$DS/web-root")" = $((2 * GiB))
api PATCH /v1/disks/web-root "${JSON[@]}" -d "{\"size\":$GiB}"
check "a smaller size: 422 on size, the disk never shrinks" \
	test "$CODE" = 422 -a "$(json "j['field']")" = size -a "$(stat -c %s "$DS/web-root")" = $((2 * GiB))

# ---- imports ------------------------------------------------------------------------------
head -c 3145728 /dev/urandom >"$RUN/raw.img"
SHA=$(sha256sum "$RUN/raw.img" | cut -d' ' -f1)
api PUT "/v1/disks/imported?sha256=$SHA" -T "$RUN/raw.img"
check "PUT with the right SHA-256: 201, byte for byte in the datastore, the digest shown" \
	test "$CODE" = 201 -a "$(json "j['sha256']")" = "$SHA" -a "$(sha256sum <"$DS/imported" | cut -d' ' -f1)" = "$SHA"
api PUT /v1/disks/plain -T "$RUN/raw.img"
check "PUT without a SHA-256: 201" test "$CODE" = 201 -a "$(json "j['size']")" = 3145728
api PUT "/v1/disks/wrong" -T "$RUN/raw.img" -H "X-Checksum-Sha256: $(printf '%064d' 0)"
check "a wrong SHA-256: 422 checksum_mismatch, no disk and no temporary file left" \
	test "$CODE" = 422 -a "$(json "j['code']")" = checksum_mismatch -a ! -e "$DS/wrong"
check "... the datastore holds no upload leftovers" no_leftovers "$DS"
api PUT /v1/disks/plain -T "$RUN/raw.img"
check "an import never replaces a disk: 409" test "$CODE" = 409
api GET /v1/disks
check "GET /v1/disks lists them in name order" \
	test "$(json "' '.join(i['name'] for i in j['items'])")" = "imported plain web-root"

# ---- bad names, too large ------------------------------------------------------------------
api POST /v1/disks "${JSON[@]}" -d '{"name":"a/b","size":4096}'
check "a name with a slash: 422 on name" problem 422 name
api POST /v1/disks "${JSON[@]}" -d '{"name":"..","size":4096}'
check "the name '..': 422 on name" problem 422 name
api PUT /v1/disks/.hidden -T "$RUN/raw.img"
check "an import named .hidden: 422, nothing written" \
	test "$CODE" = 422 -a ! -e "$DS/.hidden"
api POST /v1/disks "${JSON[@]}" -d '{"name":"huge","size":4611686018427387904}'
check "a size beyond the datastore's file system: 507 saying what is free" \
	test "$CODE" = 507 -a ! -e "$DS/huge" -a -n "$(json "'free' in j['detail'] or None")"

# ---- a VM's disks --------------------------------------------------------------------------
vm() { # NAME DISKS-JSON
	api POST /v1/vms "${JSON[@]}" -d "{\"name\":\"$1\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"spinner.elf\"},\"disks\":$2}"
}
vm d1 '[{"disk":"web-root"},{"disk":"imported","readonly":true}]'
check "POST /v1/vms with disks: 201, the disks in boot order with their flags" \
	test "$CODE" = 201 -a "$(json "[(d['disk'], d['readonly']) for d in j['disks']]")" = "[('web-root', False), ('imported', True)]"
"$VH_MSG" get d1 >"$RUN/get-d1.txt" 2>&1
check "vh-hosted holds them: vh-msg get shows both disks" \
	grep -qx 'disks\[1\]: imported readonly' "$RUN/get-d1.txt"
vm d2 '[{"disk":"absent"}]'
check "a disk that does not exist: 422 on disks[0].disk" problem 422 'disks[0].disk'
vm d2 '[{"disk":"web-root","readonly":true}]'
check "a disk d1 writes, for another VM: 409 naming d1" \
	test "$CODE" = 409 -a "$(json "'\"d1\"' in j['detail']")" = True
vm d2 '[{"disk":"imported","readonly":true},{"disk":"imported"}]'
check "the same disk twice in one VM: 422" test "$CODE" = 422
vm d2 '[{"disk":"imported","readonly":true}]'
check "read-only beside read-only: 201" test "$CODE" = 201
vm d3 '[{"disk":"imported"}]'
check "read-write beside readers: 409" test "$CODE" = 409
api GET /v1/disks/imported
check "GET shows the VMs a disk is attached to" \
	test "$(json "sorted(a['vm'] for a in j['attached'])")" = "['d1', 'd2']"
api DELETE /v1/disks/web-root
check "DELETE of an attached disk: 409 naming the VM, the file kept" \
	test "$CODE" = 409 -a "$(json "'\"d1\"' in j['detail']")" = True -a -e "$DS/web-root"

# ---- running, restarts -------------------------------------------------------------------
api PUT /v1/vms/d1/power "${JSON[@]}" -d '{"state":"running"}'
api PATCH /v1/vms/d1 "${JSON[@]}" -d '{"disks":[]}'
check "PATCH of disks while running: 409 on disks" problem 409 disks
agent_stop
agent_start
agent_wait_ready
api GET /v1/vms/d1
check "a restarted agent sees d1's disks" \
	test "$(json "[d['disk'] for d in j['disks']]")" = "['web-root', 'imported']"
hv_stop
hv_start
# /readyz may still say 200 from before the restart until the agent's
# next request or pass notices it: wait for the definitions themselves.
for _ in $(seq 1 200); do
	"$VH_MSG" get d1 >/dev/null 2>&1 && "$VH_MSG" get d2 >"$RUN/get-d2.txt" 2>&1 && break
	sleep 0.05
done
agent_wait_ready
check "a restarted vh-hosted gets them back from the agent's record (vh-msg get)" \
	grep -qx 'disks\[0\]: imported readonly' "$RUN/get-d2.txt"
api PATCH /v1/vms/d1 "${JSON[@]}" -d '{"disks":[{"disk":"plain"}]}'
check "PATCH of disks while stopped: 200" \
	test "$CODE" = 200 -a "$(json "[d['disk'] for d in j['disks']]")" = "['plain']"
api DELETE /v1/disks/web-root
check "detached, it deletes: 204 and the file is gone" test "$CODE" = 204 -a ! -e "$DS/web-root"

# ---- a full datastore ------------------------------------------------------------------------
agent_stop
mkdir -p "$RUN/small"
truncate -s 16M "$RUN/small.img"
if ! mkfs.ext4 -q -F -m 0 "$RUN/small.img" >"$RUN/mkfs.log" 2>&1 ||
	! mount -o loop "$RUN/small.img" "$RUN/small" >>"$RUN/mkfs.log" 2>&1; then
	echo "Bail out! cannot mount a loop file system (root and /dev/loop* needed)"
	sed 's/^/# /' "$RUN/mkfs.log"
	exit 1
fi
agent_start --set "disks_dir=$RUN/small/ds"
head -c 33554432 /dev/urandom >"$RUN/big.img"
api PUT /v1/disks/big -T "$RUN/big.img"
check "an import larger than the free space: 507 before a byte, nothing left" \
	test "$CODE" = 507 -a ! -e "$RUN/small/ds/big"
check "... no temporary file" no_leftovers "$RUN/small/ds"
api PUT /v1/disks/big -T - -H 'Transfer-Encoding: chunked' <"$RUN/big.img"
check "the same without a length: 507 when the file system fills, nothing left" \
	test "$CODE" = 507 -a "$(json "j['code']")" = insufficient_storage -a ! -e "$RUN/small/ds/big"
check "... no temporary file, the space given back" \
	sh -c "! ls -A '$RUN/small/ds' | grep -q . && test \$(df -k --output=avail '$RUN/small' | tail -1) -gt 10000"
api POST /v1/disks "${JSON[@]}" -d '{"name":"thin","size":67108864}'
check "a thin disk beyond the free space: 507" test "$CODE" = 507 -a ! -e "$RUN/small/ds/thin"
api POST /v1/disks "${JSON[@]}" -d '{"name":"thin","size":4194304}'
check "one that fits: 201" test "$CODE" = 201
agent_stop
check "the agent exits cleanly (no leaks under the sanitizers)" test $? = 0
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
