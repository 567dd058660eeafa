# Will a reservation protect a low-share VM from two high-share batch VMs?
# web gets its share (1 of 5 shares: 20% = 400 MHz) unless its
# reservation says more; at 5 s it asks for 1000 MHz, and at 6 s batch1
# asks for more than the host has left: refused, nothing changes.
host pcpus=1 mhz=2000 memory=512M
sched quantum=1ms
duration 10s
sample 1s
vm web cpu.shares=low cpu.reservation=500 workload=cpu
vm batch1 cpu.shares=high workload=cpu
vm batch2 cpu.shares=high workload=cpu
at 5s web set cpu.reservation=1000
at 6s batch1 set cpu.reservation=1500
