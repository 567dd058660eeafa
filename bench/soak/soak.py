#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Soak driver for vhagent and vh-hosted (bench/README.md, "Soak").

VMs are created, started, stopped and deleted in a loop through the REST
API over the agent's unix socket by several workers at once, while a
poller reads the host, every VM's counters and the listing.  Every second
the resident memory (VmRSS), open file descriptors (/proc/PID/fd) and
threads of each process named with --pid are sampled.  At the end it
prints the requests by status, the cycles done and, per process and
measure, the first and last samples and the least-squares slope per
minute over the whole run and over its second half.

--check asserts what make check holds (tests/agent/soak.sh): no request
failed, fds and threads back to their values before the load, and the
RSS slope over the second half below --rss-slope-max KiB/min.  The exit
status is 0 when every check holds (or none was asked), 1 otherwise.
"""
import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Client:
    """One keep-alive connection; counts every request by method, route
    and status in the shared tally."""

    def __init__(self, path, tally):
        self.path = path
        self.tally = tally
        self.conn = None

    def request(self, method, url, route, body=None, ctype="application/json"):
        headers = {}
        if method != "GET":
            # Every state-changing request names its media type, a
            # body-less one too (the agent refuses it otherwise: 415).
            headers["Content-Type"] = ctype
        for attempt in range(2):
            if self.conn is None:
                self.conn = UnixHTTPConnection(self.path)
            try:
                self.conn.request(method, url, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                status = resp.status
                break
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self.conn.close()
                self.conn = None
                # The server may close an idle keep-alive connection
                # between two requests: that one retry is not a failure.
                if attempt == 1:
                    self.tally.add(method, route, "error:" + type(e).__name__)
                    return None, None
        self.tally.add(method, route, status)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def close(self):
        if self.conn:
            self.conn.close()


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.by = {}
        self.failures = []

    def add(self, method, route, status):
        with self.lock:
            key = (method, route, status)
            self.by[key] = self.by.get(key, 0) + 1

    def fail(self, what):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(what)

    def total(self):
        with self.lock:
            return sum(self.by.values())

    def failed(self):
        # A request fails when it got no answer or a 5xx, or a 4xx the
        # loop never provokes (every step is valid for the VM's state).
        with self.lock:
            return sum(n for (m, r, s), n in self.by.items()
                       if not isinstance(s, int) or s >= 400)


def worker(args, wid, tally, stop, cycles):
    c = Client(args.socket, tally)
    i = 0
    while not stop.is_set():
        name = "soak-%d-%d" % (wid, i)
        i += 1
        body = json.dumps({"name": name, "vcpus": 1, "memory_mib": 16,
                           "boot": {"kernel": args.image, "cmdline": ""}})
        steps = [
            ("POST", "/v1/vms", "/v1/vms", body, 201),
            ("PUT", "/v1/vms/%s/power" % name, "/v1/vms/{vm}/power",
             json.dumps({"state": "running"}), 200),
            ("GET", "/v1/vms/%s/stats" % name, "/v1/vms/{vm}/stats", None, 200),
            ("PUT", "/v1/vms/%s/power" % name, "/v1/vms/{vm}/power",
             json.dumps({"state": "stopped", "force": True}), 200),
            ("DELETE", "/v1/vms/%s" % name, "/v1/vms/{vm}", None, 204),
        ]
        ok = True
        for method, url, route, b, want in steps:
            status, _ = c.request(method, url, route, b)
            if status != want:
                tally.fail("%s %s -> %s (wanted %d)" % (method, url, status, want))
                ok = False
                break
        if not ok:
            # Leave nothing behind for the next cycle: force the delete.
            c.request("DELETE", "/v1/vms/%s?force=true" % name, "/v1/vms/{vm}?force")
        else:
            with cycles[1]:
                cycles[0] += 1
        if args.pause:
            time.sleep(args.pause)
    c.close()


def poller(args, tally, stop):
    c = Client(args.socket, tally)
    while not stop.is_set():
        for url, route in (("/v1/stats", "/v1/stats"), ("/v1/vms?limit=1000", "/v1/vms"),
                           ("/v1/host", "/v1/host")):
            status, _ = c.request("GET", url, route)
            if status != 200:
                tally.fail("GET %s -> %s" % (url, status))
        stop.wait(args.poll_interval)
    c.close()


def burst(args, tally, conns=32, rounds=5):
    """Many connections at once, a few times: every thread of the agent's
    pool serves some, so each has made its own (lazily opened, per
    thread, kept) connection to the hypervisor before the baseline."""
    for _ in range(rounds):
        clients = [Client(args.socket, tally) for _ in range(conns)]
        ts = [threading.Thread(target=c.request, args=("GET", "/v1/host", "/v1/host"))
              for c in clients]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for c in clients:
            c.close()


def sample(pid):
    """The process's VmRSS (KiB), open fds and threads; None once it is gone."""
    try:
        return sample_of(pid)
    except OSError:
        return None


def sample_of(pid):
    rss = threads = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return {"rss_kib": rss, "fds": fds, "threads": threads}


def slope_per_min(points):
    """Least-squares slope of (t seconds, v) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (v - mv) for t, v in points) / den


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--socket", required=True, help="the agent's unix socket")
    ap.add_argument("--pid", action="append", default=[], metavar="NAME=PID",
                    help="a process to sample (repeatable)")
    ap.add_argument("--image", default="spinner.elf", help="the kernel image the VMs boot")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--pause", type=float, default=0.0,
                    help="seconds each worker waits between cycles (bounds the load)")
    ap.add_argument("--poll-interval", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds of load before the baseline sample")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to wait after the load before the last sample")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--rss-slope-max", type=float, default=1024.0,
                    help="KiB/min over the second half (--check)")
    ap.add_argument("--rss-decay", type=float, default=0.5,
                    help="or at most this fraction of the first half's slope (--check)")
    ap.add_argument("--json", help="write the summary there too")
    args = ap.parse_args()

    procs = {}
    for spec in args.pid:
        name, _, pid = spec.partition("=")
        procs[name] = int(pid)
    tally = Tally()
    cycles = [0, threading.Lock()]
    samples = {name: [] for name in procs}

    def load(seconds, tally, cycles, on_second):
        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(args, w, tally, stop, cycles))
                   for w in range(args.workers)]
        threads.append(threading.Thread(target=poller, args=(args, tally, stop)))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        while True:
            now = time.monotonic() - t0
            on_second(now)
            if now >= seconds:
                break
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - now)))
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        time.sleep(args.settle)
        return elapsed

    # A warm-up first, its requests counted too: every agent thread has
    # made its connection to the hypervisor and the allocators their
    # first arenas, so the baseline is the steady state with no load.
    load(args.warmup, tally, cycles, lambda now: None)
    burst(args, tally)
    time.sleep(args.settle)
    baseline = {name: sample(pid) for name, pid in procs.items()}
    for name, b in baseline.items():
        if b is None:
            print("soak: %s (pid %d) is gone before the load" % (name, procs[name]))
            return 1

    gone = set()

    def on_second(now):
        for name, pid in procs.items():
            s = sample(pid)
            if s is None:
                gone.add(name)
            elif name not in gone:
                samples[name].append((now, s))

    elapsed = load(args.seconds, tally, cycles, on_second)
    final = {name: sample(pid) for name, pid in procs.items()}
    for name, f in final.items():
        if f is None:
            gone.add(name)
            # Keep the summary's shape; the check below names it.
            final[name] = {k: -1 for k in ("rss_kib", "fds", "threads")}

    summary = {
        "seconds": round(elapsed, 1),
        "warmup_seconds": args.warmup,
        "workers": args.workers,
        "cycles": cycles[0],
        "requests": tally.total(),
        "failed": tally.failed(),
        "by_status": {},
        "first_failures": tally.failures,
        "processes": {},
    }
    for (m, r, s), n in sorted(tally.by.items(), key=lambda kv: str(kv[0])):
        summary["by_status"]["%s %s %s" % (m, r, s)] = n
    for name in procs:
        pts = samples[name] or [(0.0, baseline[name])]
        half = [p for p in pts if p[0] >= elapsed / 2]
        first = [p for p in pts if p[0] <= elapsed / 2]
        out = {"baseline": baseline[name], "after": final[name]}
        for k in ("rss_kib", "fds", "threads"):
            out[k] = {
                "first": pts[0][1][k], "last": pts[-1][1][k],
                "min": min(p[1][k] for p in pts), "max": max(p[1][k] for p in pts),
                "slope_per_min": round(slope_per_min([(t, s[k]) for t, s in pts]), 1),
                "slope_per_min_1st_half": round(slope_per_min([(t, s[k]) for t, s in first]), 1),
                "slope_per_min_2nd_half": round(slope_per_min([(t, s[k]) for t, s in half]), 1),
            }
        summary["processes"][name] = out

    print("soak: %.0f s, %d workers, %d cycles (create, start, stats, stop, delete), "
          "%d requests, %d failed" % (elapsed, args.workers, summary["cycles"],
                                      summary["requests"], summary["failed"]))
    for key, n in summary["by_status"].items():
        print("  %-40s %8d" % (key, n))
    for f in tally.failures:
        print("  failure: %s" % f)
    print("  %-10s %-8s %10s %10s %10s %10s %14s %14s %14s" % (
        "process", "measure", "baseline", "first", "last", "after", "slope/min", "1st half/min",
        "2nd half/min"))
    for name, out in summary["processes"].items():
        for k, unit in (("rss_kib", "KiB"), ("fds", ""), ("threads", "")):
            v = out[k]
            print("  %-10s %-8s %10s %10s %10s %10s %14s %14s %14s" % (
                name, k, out["baseline"][k], v["first"], v["last"], out["after"][k],
                "%+.1f%s" % (v["slope_per_min"], unit),
                "%+.1f%s" % (v["slope_per_min_1st_half"], unit),
                "%+.1f%s" % (v["slope_per_min_2nd_half"], unit)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)

    if not args.check:
        return 0
    bad = []
    for name in sorted(gone):
        bad.append("%s exited during the soak" % name)
    if summary["failed"]:
        bad.append("%d requests failed" % summary["failed"])
    if summary["cycles"] == 0:
        bad.append("no cycle completed")
    for name, out in summary["processes"].items():
        for k in ("fds", "threads"):
            if out["after"][k] != out["baseline"][k]:
                bad.append("%s: %s %d after the load, %d before" % (
                    name, k, out["after"][k], out["baseline"][k]))
        # A leak grows at the same rate all along; bounded caches and
        # allocator arenas filling up grow ever slower.  So the second
        # half must be under the bound, or well under the first half.
        s1 = out["rss_kib"]["slope_per_min_1st_half"]
        s2 = out["rss_kib"]["slope_per_min_2nd_half"]
        if s2 > args.rss_slope_max and s2 > args.rss_decay * s1:
            bad.append("%s: RSS grows %.1f KiB/min over the second half (bound %.0f, "
                       "first half %.1f)" % (name, s2, args.rss_slope_max, s1))
    for b in bad:
        print("soak: FAILED: %s" % b)
    if not bad:
        print("soak: every check holds")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
