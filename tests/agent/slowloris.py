#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A slowloris attack on vhagent for tests/agent/transport.sh.

Holds --conns connections to the HTTPS port, spread over --sources
(loopback addresses), each dripping one byte every --drip seconds of a
TLS ClientHello (so the handshake never ends), plus --http-conns to the
plain HTTP port dripping request headers; a connection the agent
closes is opened again a second later.  Meanwhile curl asks for
/healthz from 127.0.0.1 every 0.5 s.  Prints one line of JSON:
  probes, probe_worst_s, probe_failed: the /healthz requests
  held_max: the most attacking connections open at once
  cut, cut_min_s, cut_max_s: connections the agent closed after holding
      them at least a second (the deadline), and their lifetimes
  alive_oldest_s: the oldest attacking connection still open at the end
  http_cut, http_cut_min_s, http_cut_max_s: the same for the HTTP drips
"""
import argparse
import json
import selectors
import socket
import ssl
import subprocess
import threading
import time


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Conn:
    def __init__(self, src, port, payload, kind):
        self.src, self.port, self.payload, self.kind = src, port, payload, kind
        self.sock = None
        self.opened = 0.0
        self.sent = 0
        self.retry_at = 0.0


def probe_loop(args, stop, results):
    url = "https://127.0.0.1:%d/healthz" % args.port
    while not stop.is_set():
        t0 = time.monotonic()
        p = subprocess.run([args.curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "--max-time", "5", "--cacert", args.cacert, url],
                           capture_output=True, text=True)
        dt = time.monotonic() - t0
        results.append((p.stdout.strip(), dt))
        stop.wait(max(0.0, 0.5 - dt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--http-port", type=int, default=0)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--curl", default="curl")
    ap.add_argument("--conns", type=int, default=256)
    ap.add_argument("--http-conns", type=int, default=4)
    ap.add_argument("--sources", default="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6")
    ap.add_argument("--http-source", default="127.0.0.7")
    ap.add_argument("--drip", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=15.0)
    args = ap.parse_args()

    hello = client_hello()
    headers = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + b"X-Drip: " + b"a" * 200
    srcs = args.sources.split(",")
    conns = [Conn(srcs[i % len(srcs)], args.port, hello, "tls") for i in range(args.conns)]
    if args.http_port:
        conns += [Conn(args.http_source, args.http_port, headers, "http")
                  for _ in range(args.http_conns)]
    sel = selectors.DefaultSelector()
    stats = {"tls": [], "http": []}
    held_max = 0

    def close(c, now, by_agent):
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = None
        if by_agent and now - c.opened >= 1.0:
            stats[c.kind].append(now - c.opened)
        c.retry_at = now + 1.0

    def open_(c, now):
        s = socket.socket()
        s.bind((c.src, 0))
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", c.port))
        except OSError:
            s.close()
            c.retry_at = now + 1.0
            return
        s.setblocking(False)
        c.sock, c.opened, c.sent = s, time.monotonic(), 0
        sel.register(s, selectors.EVENT_READ, c)

    stop = threading.Event()
    probes = []
    prober = threading.Thread(target=probe_loop, args=(args, stop, probes))
    start = time.monotonic()
    for c in conns:
        open_(c, start)
    prober.start()
    next_drip = time.monotonic()
    while time.monotonic() - start < args.duration:
        now = time.monotonic()
        for key, _ in sel.select(timeout=max(0.0, min(0.1, next_drip - now))):
            c = key.data
            try:
                data = c.sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                close(c, time.monotonic(), True)
        now = time.monotonic()
        if now >= next_drip:
            next_drip = now + args.drip
            for c in conns:
                if c.sock is None:
                    continue
                try:
                    c.sock.send(c.payload[c.sent % len(c.payload):][:1])
                    c.sent += 1
                except OSError:
                    close(c, now, True)
        for c in conns:
            if c.sock is None and now >= c.retry_at:
                open_(c, now)
        held_max = max(held_max, sum(1 for c in conns if c.sock is not None))
    stop.set()
    prober.join()
    end = time.monotonic()
    alive = [end - c.opened for c in conns if c.sock is not None and c.kind == "tls"]
    ok = [dt for code, dt in probes if code == "200"]
    out = {
        "probes": len(probes),
        "probe_failed": len(probes) - len(ok),
        "probe_worst_s": round(max(dt for _, dt in probes), 3) if probes else None,
        "held_max": held_max,
        "cut": len(stats["tls"]),
        "cut_min_s": round(min(stats["tls"]), 2) if stats["tls"] else None,
        "cut_max_s": round(max(stats["tls"]), 2) if stats["tls"] else None,
        "alive_oldest_s": round(max(alive), 2) if alive else 0,
        "http_cut": len(stats["http"]),
        "http_cut_min_s": round(min(stats["http"]), 2) if stats["http"] else None,
        "http_cut_max_s": round(max(stats["http"]), 2) if stats["http"] else None,
    }
    for c in conns:
        if c.sock is not None:
            c.sock.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
