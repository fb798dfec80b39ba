#!/usr/bin/env python3
"""A minimal third-party tablet, written from docs/protocol.md alone (sections 1.3, 2 and 8).

It registers one tablet, then reads one event's score every second for --reads rounds over a
front end's native TCP port: 4-byte big-endian length, then one MessagePack map. It sends the
highest version it has seen as `min_version`, fails over to the next front end on a timeout or a
broken connection, and follows the master's `serving` notices, which come on the same
connections. Each score it reads is printed as one line:

    Curling 3 2 5 fe1          (event, Gauls, Romans, version, front end)

Usage: tablet.py [--tablet ID] [--event NAME] [--reads N] [--interval S] HOST:PORT...
(the front ends' `tcp` addresses, in config order; the `registered` reply replaces them).
Needs python3-msgpack. Exit status: 0 every read answered, 1 otherwise, 2 bad arguments.
The process test TabletTcp.ThePythonExampleFromTheProtocolDocsReads runs it.
"""
import argparse
import itertools
import select
import socket
import struct
import sys
import time

import msgpack

TIMEOUT = 0.3  # seconds: tablets.request_timeout_ms
MAX_FRAME = 65536  # section 8.1


class Connection:
    """One persistent connection to a front end's TCP port."""

    def __init__(self, host_port):
        host, port = host_port.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, body):
        payload = msgpack.packb(body, use_bin_type=True)
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def frames(self, timeout):
        """Yields each frame (decoded) that arrives within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if n == 0 or n > MAX_FRAME:
                    raise ConnectionError(f"a frame of {n} bytes")
                if len(self.buf) < 4 + n:
                    break
                frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                yield msgpack.unpackb(frame, raw=False)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the front end")
            self.buf += data

    def close(self):
        self.sock.close()


def fnv1a64(text):
    """FNV-1a, 64 bit, over the UTF-8 bytes (serving_frontend, section 2.7)."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


class Tablet:
    def __init__(self, tablet, addresses):
        self.tablet = tablet
        self.order = [f"fe{i + 1}" for i in range(len(addresses))]  # until `registered` names them
        self.addresses = dict(zip(self.order, addresses))
        self.current = self.order[0]
        self.home = None
        self.serving = None  # (epoch, seq, [front ends]) of the newest notice accepted
        self.conns = {}
        self.reqs = itertools.count(1)

    def connection(self, fe):
        if fe not in self.conns:
            self.conns[fe] = Connection(self.addresses[fe])
        return self.conns[fe]

    def place(self):
        """Where to read: the home while the latest notice lists it (2.7)."""
        if self.serving is None or not self.home:
            return self.home if self.home in self.addresses else self.current
        listed = self.serving[2]
        return self.home if self.home in listed else listed[fnv1a64(self.tablet) % len(listed)]

    def on_notice(self, n):
        if n.get("op") != "serving":
            return
        key = (n["epoch"], n["seq"])
        listed = [f for f in n["frontends"] if f in self.addresses]
        if not listed or (self.serving is not None and key <= self.serving[:2]):
            return
        self.serving = (*key, listed)
        self.current = self.place()

    def call(self, body):
        """Sends body to the current front end; on a timeout or a broken connection, once more
        to the next one. Returns the reply; raises on an `error` reply or a second failure."""
        for _attempt in range(2):
            req = next(self.reqs)
            fe = self.current
            try:
                c = self.connection(fe)
                c.send({**body, "req": req})
                for reply in c.frames(TIMEOUT):
                    if reply.get("req") == 0:  # a notice (or an error about an unreadable frame)
                        self.on_notice(reply)
                        continue
                    if reply.get("req") != req:
                        continue  # a late answer to an earlier request
                    if reply.get("op") == "error":  # same as reply["ok"] is False
                        raise RuntimeError(f'{reply["code"]}: {reply["error"]}')
                    return fe, reply
            except OSError:  # refused, reset, closed, timed out connecting
                conn = self.conns.pop(fe, None)
                if conn:
                    conn.close()
            # Fail over to the next front end, among those the latest notice lists when it
            # lists another.
            listed = self.serving[2] if self.serving else self.order
            after = self.order[self.order.index(fe) + 1:] + self.order[:self.order.index(fe) + 1]
            self.current = next((f for f in after if f in listed and f != fe), after[0])
        raise TimeoutError(body["op"])

    def register(self):
        _, reg = self.call({"op": "register", "tablet": self.tablet})
        self.order = [f["id"] for f in reg["frontends"]]
        self.addresses = {f["id"]: f["tcp"] for f in reg["frontends"]}
        self.home = reg["home"]
        self.current = self.place()


def main():
    p = argparse.ArgumentParser(description="a minimal tablet over the native TCP protocol")
    p.add_argument("--tablet", default="py-t1")
    p.add_argument("--event", default="Curling")
    p.add_argument("--reads", type=int, default=5)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("frontends", nargs="+", metavar="HOST:PORT")
    a = p.parse_args()

    t = Tablet(a.tablet, a.frontends)
    try:
        t.register()
    except (RuntimeError, TimeoutError) as e:
        print(f"register failed: {e}", file=sys.stderr)
        return 1
    print(f"home {t.home}", flush=True)
    seen = 0  # the highest version seen: reads never go backwards
    failed = 0
    for i in range(a.reads):
        if i:
            time.sleep(a.interval)
        q = {"op": "get_score", "event": a.event, "tablet": a.tablet}
        if seen:
            q["min_version"] = seen
        try:
            fe, r = t.call(q)
        except (RuntimeError, TimeoutError) as e:
            print(f"read failed: {e}", file=sys.stderr)
            failed += 1
            continue
        s = r["score"]
        if s["version"] < seen:
            print(f"went backwards: version {s['version']} after {seen}", file=sys.stderr)
            failed += 1
        seen = max(seen, s["version"])
        print(f'{s["event"]} {s["gauls"]} {s["romans"]} {s["version"]} {fe}', flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
