#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes fuzz_virtq's seeds into virtq_seeds/ (run from tests/fuzz/):
well-formed chains (direct, indirect, wrapping rings) and the lies the
unit tests plant (loops, nested indirect tables, indices and addresses
out of range), in the harness's input format (fuzz_virtq.c)."""
import os
import struct

BASE = 0x10000
DESC, AVAIL, USED = 0x0, 0x800, 0xC00
BUF_IN, BUF_OUT, TABLE, TABLE2 = 0x1800, 0x1A00, 0x1400, 0x1600
INDIRECT, EVENT_IDX, SMALL_DEV, ADDRS = 0x08, 0x10, 0x20, 0x40
NEXT, WRITE, IND = 1, 2, 4


def seed(log2, flags, descs=(), table=(), table2=(), heads=(), idx=None, addrs=None):
    ram = bytearray(0x2000)  # within smoke.sh's -max_len of 16 KiB
    for at, i, addr, length, fl, nxt in (
        [(DESC, *d) for d in descs] + [(TABLE, *d) for d in table] +
        [(TABLE2, *d) for d in table2]
    ):
        struct.pack_into("<QIHH", ram, at + 16 * i, addr, length, fl, nxt)
    for n, h in enumerate(heads):
        struct.pack_into("<H", ram, AVAIL + 4 + 2 * n, h)
    struct.pack_into("<H", ram, AVAIL + 2, len(heads) if idx is None else idx)
    ram[BUF_IN:BUF_IN + 12] = b"hello virtio"
    head = bytes([log2 | flags | (ADDRS if addrs else 0)])
    if addrs:
        head += struct.pack("<QQQ", *addrs)
    return head + bytes(ram)


def main():
    ok = [(0, BASE + BUF_IN, 12, NEXT, 1), (1, BASE + BUF_OUT, 64, WRITE, 0)]
    seeds = {
        "direct": seed(3, INDIRECT | EVENT_IDX, ok, heads=[0]),
        "direct-twice": seed(3, 0, ok + [(2, BASE + BUF_IN, 4, 0, 0)], heads=[0, 2]),
        "indirect": seed(3, INDIRECT, [(0, BASE + TABLE, 32, IND, 0)],
                         table=[(0, BASE + BUF_IN, 12, NEXT, 1),
                                (1, BASE + BUF_OUT, 64, WRITE, 0)], heads=[0]),
        "indirect-nested": seed(3, INDIRECT, [(0, BASE + TABLE, 16, IND, 0)],
                                table=[(0, BASE + TABLE2, 16, IND, 0)],
                                table2=[(0, BASE + BUF_IN, 12, 0, 0)], heads=[0]),
        "indirect-unoffered": seed(3, 0, [(0, BASE + TABLE, 16, IND, 0)],
                                   table=[(0, BASE + BUF_IN, 12, 0, 0)], heads=[0]),
        "loop": seed(3, 0, [(0, BASE + BUF_IN, 12, NEXT, 1), (1, BASE + BUF_IN, 12, NEXT, 0)],
                     heads=[0]),
        "head-past-size": seed(3, 0, ok, heads=[8]),
        "next-past-size": seed(3, 0, [(0, BASE + BUF_IN, 12, NEXT, 9)], heads=[0]),
        "outside-ram": seed(3, 0, [(0, 0xC0000000, 16, 0, 0)], heads=[0]),
        "past-ram-end": seed(3, 0, [(0, BASE + 0xFFF0, 64, WRITE, 0)], heads=[0]),
        "address-wraps": seed(3, 0, [(0, 2**64 - 8, 16, 0, 0)], heads=[0]),
        "avail-ahead": seed(3, 0, ok, heads=[0], idx=9),
        "small-device": seed(7, SMALL_DEV, [(i, BASE + BUF_IN, 1, NEXT, i + 1) for i in range(5)]
                             + [(5, BASE + BUF_OUT, 8, WRITE, 0)], heads=[0]),
        "own-rings": seed(4, EVENT_IDX, ok, heads=[0],
                          addrs=(BASE + DESC, BASE + AVAIL, BASE + USED)),
        "rings-outside": seed(4, 0, ok, heads=[0], addrs=(0x100, BASE + AVAIL, BASE + USED)),
    }
    os.makedirs("virtq_seeds", exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join("virtq_seeds", name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
