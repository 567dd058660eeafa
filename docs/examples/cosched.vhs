# A 4-vCPU VM whose threads meet at barriers every 2 ms, next to two
# CPU-bound VMs on 4 pCPUs.  Compare barriers passed and spin time with
# cosched=relaxed, strict and none.
host pcpus=4 mhz=2400 memory=512M
sched quantum=10ms skew=3ms
duration 5s
vm db vcpus=4 cosched=strict workload=smp run=2ms
vm noise1 vcpus=2 workload=cpu
vm noise2 vcpus=2 workload=cpu
