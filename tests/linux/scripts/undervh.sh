#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# vh.test=undervh: Linux under vh (tests/linux/linux_vh.sh reads it).  The
# first boot prints the platform facts, keeps every CPU busy for
# vh.loop= seconds (default 6) between "vhtest: loop start" and "vhtest:
# loop end" lines, while the host measures the VM's share of the pCPUs,
# and reboots; the second powers off.  Which boot this is lives in CMOS
# RAM, which outlives a reset: byte 0x7e is 0xa5 after the first.
say() { echo "vhtest: $1=$2"; }

# CMOS RAM through /dev/port: the index to port 0x70, the byte at 0x71.
cmos_read() {
	printf "\\$(printf '%03o' "$1")" | dd of=/dev/port bs=1 seek=112 count=1 conv=notrunc 2>/dev/null
	dd if=/dev/port bs=1 skip=113 count=1 2>/dev/null | od -An -tu1 | tr -d ' '
}
cmos_write() {
	printf "\\$(printf '%03o' "$1")" | dd of=/dev/port bs=1 seek=112 count=1 conv=notrunc 2>/dev/null
	printf "\\$(printf '%03o' "$2")" | dd of=/dev/port bs=1 seek=113 count=1 conv=notrunc 2>/dev/null
}

if [ "$(cmos_read 126)" = 165 ]; then
	cmos_write 126 0
	say boot second
	echo poweroff >/run/vh.then
	exit 0
fi
say boot first
sh /vhtest/platform.sh || exit 1

secs=6
for word in $(cat /proc/cmdline); do
	case $word in vh.loop=*) secs=${word#vh.loop=} ;; esac
done
cpus=$(nproc)
echo "vhtest: loop start cpus=$cpus seconds=$secs uptime=$(cut -d' ' -f1 /proc/uptime)"
pids=
i=0
while [ "$i" -lt "$cpus" ]; do
	sh -c 'while :; do :; done' &
	pids="$pids $!"
	i=$((i + 1))
done
sleep "$secs"
kill $pids
wait 2>/dev/null
echo "vhtest: loop end uptime=$(cut -d' ' -f1 /proc/uptime)"
# Both CPUs took timer interrupts while they were busy.
say timer_loc_after "$(awk '$1 == "LOC:" { s = $2; for (i = 3; i <= NF && $i ~ /^[0-9]+$/; i++) s = s "," $i; print s }' /proc/interrupts)"
cmos_write 126 165
[ "$(cmos_read 126)" = 165 ] || { echo "vhtest: error CMOS byte 0x7e did not keep 0xa5"; exit 1; }
echo reboot >/run/vh.then
