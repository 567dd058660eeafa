#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# vh.test=platform: what the guest sees of the platform, one fact a line,
# "vhtest: KEY=VALUE" with no spaces in a value unless it is a list.
say() { echo "vhtest: $1=$2"; }

say uname_r "$(uname -r)"
say cpus_online "$(nproc)"
say cpu_online_list "$(cat /sys/devices/system/cpu/online)"
say memtotal_kb "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
say date_epoch "$(date +%s)"
# The CMOS clock as Linux's rtc_cmos driver has it ("none" when no RTC
# device bound), and the time it reads.
say rtc_name "$(cat /sys/class/rtc/rtc0/name 2>/dev/null || echo none)"
say rtc_epoch "$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null || echo 0)"
say clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# Local APIC timer interrupts per CPU: the counts of /proc/interrupts'
# LOC line, one per online CPU in order.
say timer_loc "$(awk '$1 == "LOC:" { s = $2; for (i = 3; i <= NF && $i ~ /^[0-9]+$/; i++) s = s "," $i; print s }' /proc/interrupts)"
say uptime "$(cut -d' ' -f1 /proc/uptime)"
