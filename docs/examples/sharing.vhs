# Four VMs over-commit a 256 MiB host.  a and b run the same image
# (content=7): page sharing collapses it.  c is idle: the idle-memory tax
# balloons it first.  At 15 s the operator balloons d to 32 MiB.
host pcpus=2 mhz=2000 memory=256M
mem scan_rate=20000 sample_period=1s reclaim_period=200ms
duration 20s
vm a memory=96M workload=cpu touch_rate=5000 touch=100 content=7
vm b memory=96M workload=cpu touch_rate=5000 touch=100 content=7
vm c memory=96M workload=idle touch_rate=2000 touch=50 content=9
vm d memory=96M mem.shares=high workload=cpu touch_rate=4000 touch=100 content=11
at 15s d balloon target=32M
