#!/usr/bin/python3
"""Real Linux TCP clients against tcplab (10.10.0.2). One check per
subcommand; each prints ok: lines or exits non-zero with FAIL: and why.
Every socket has a timeout, so no check can hang."""
import hashlib
import os
import random
import socket
import subprocess
import sys
import threading
import time

HOST = "10.10.0.2"
rng = random.Random(int(os.environ.get("TL_SEED", "1")))


def fail(msg):
    sys.exit(f"FAIL: {msg}")


def connect(port, timeout=20.0):
    s = socket.create_connection((HOST, port), timeout=5.0)
    s.settimeout(timeout)
    return s


def recv_all(s, limit=None):
    chunks, n = [], 0
    while limit is None or n < limit:
        b = s.recv(1 << 16)
        if not b:
            break
        chunks.append(b)
        n += len(b)
    return b"".join(chunks)


def round_trip(port, data, timeout=20.0):
    """Sends data while reading the echo; returns what came back before EOF."""
    s = connect(port, timeout)
    got = bytearray()

    def reader():
        try:
            got.extend(recv_all(s))
        except OSError as e:
            got.extend(b"")
            print(f"reader: {e}", file=sys.stderr)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout * 3)
    s.close()
    return bytes(got)


def echo_1m():
    data = rng.randbytes(1 << 20)
    got = round_trip(7, data)
    if got != data:
        fail(f"1 MiB echo: got {len(got)} bytes, identical={got == data}")
    print("ok: 1 MiB random round trip through echo is byte-identical")


def concurrent():
    results = [None] * 50
    blobs = [rng.randbytes(64 * 1024) for _ in range(50)]

    def one(i):
        try:
            results[i] = round_trip(7, blobs[i]) == blobs[i]
        except OSError as e:
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    bad = [i for i, r in enumerate(results) if r is not True]
    if bad:
        fail(f"concurrent: {len(bad)} of 50 connections failed, e.g. #{bad[0]}: {results[bad[0]]}")
    print("ok: 50 concurrent connections of 64 KiB each echoed byte-identical")


def half_close():
    data = rng.randbytes(256 * 1024)
    s = connect(7)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)  # our FIN: we still read everything back
    got = recv_all(s)
    s.close()
    if got != data:
        fail(f"half-close: got {len(got)} of {len(data)} bytes back")
    print("ok: half-close: 256 KiB sent, all of it back, then EOF")


def hello():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((HOST, 65432))
        s.sendall(b"Hello Server!")
        data = s.recv(1024)
    if data != b"Hello Server!":
        fail(f"port 65432 answered {data!r}")
    print(f"ok: the classic client on 65432 got {data!r}")


def time_wait():
    s = connect(7)
    s.sendall(b"ping")
    if s.recv(100) != b"ping":
        fail("time_wait: no echo")
    s.shutdown(socket.SHUT_WR)
    if s.recv(100) != b"":
        fail("time_wait: data after our FIN instead of EOF")
    lport = s.getsockname()[1]
    s.close()
    # Our FIN was sent and acked, theirs received: the kernel socket must be
    # in TIME_WAIT (it sent FIN first). Poll briefly for the last ACK to land.
    deadline = time.time() + 3
    while time.time() < deadline:
        out = subprocess.run(["ss", "-tan", "state", "time-wait"], capture_output=True,
                             text=True).stdout
        if f":{lport} " in out and f"{HOST}:7" in out:
            print(f"ok: the client's socket (port {lport}) is in TIME_WAIT")
            return
        time.sleep(0.05)
    fail(f"time_wait: port {lport} not in TIME_WAIT:\n{out}")


def refused():
    t0 = time.time()
    try:
        socket.create_connection((HOST, 1), timeout=5)
    except ConnectionRefusedError:
        dt = time.time() - t0
        if dt > 1:
            fail(f"refused only after {dt:.2f} s")
        print(f"ok: a closed port refuses at once ({dt * 1000:.1f} ms)")
        return
    fail("connecting to a closed port did not fail with ECONNREFUSED")


def discard_100m():
    s = connect(9, timeout=60)
    block = rng.randbytes(1 << 20)
    t0 = time.time()
    for _ in range(100):
        s.sendall(block)
    s.shutdown(socket.SHUT_WR)
    if s.recv(10) != b"":
        fail("discard sent data")
    s.close()
    dt = time.time() - t0
    print(f"ok: 100 MiB into discard, closed cleanly ({100 / dt:.1f} MiB/s)")


def chargen_line(i):
    return bytes(32 + (i + k) % 95 for k in range(72)) + b"\r\n"


def chargen_20m():
    want = 20 << 20
    pattern = b"".join(chargen_line(i) for i in range(95))
    s = connect(19, timeout=60)
    got = bytearray()
    t0 = time.time()
    while len(got) < want:
        b = s.recv(1 << 16)
        if not b:
            fail(f"chargen closed after {len(got)} bytes")
        got.extend(b)
    s.close()
    dt = time.time() - t0
    reps = want // len(pattern) + 1
    if bytes(got[:want]) != (pattern * reps)[:want]:
        fail("chargen stream differs from the RFC 864 pattern")
    print(f"ok: 20 MiB from chargen match the RFC 864 pattern ({20 / dt:.1f} MiB/s)")


CHECKS = {f.__name__: f for f in (echo_1m, concurrent, half_close, hello, time_wait,
                                 refused, discard_100m, chargen_20m)}



# Over a lossy path a retransmission can itself be lost and the sender's
# timer backs off for seconds; a quiet spell that long is not a failure.
IMPAIRED_TIMEOUT = 120.0


def timed(name, limit, fn):
    t0 = time.time()
    fn()
    dt = time.time() - t0
    if dt > limit:
        fail(f"{name} took {dt:.1f} s, the bound is {limit} s")
    print(f"ok: {name} in {dt:.1f} s (bound {limit} s)")


def echo_4m():
    data = rng.randbytes(4 << 20)

    def run():
        got = round_trip(7, data, IMPAIRED_TIMEOUT)
        if got != data:
            fail(f"4 MiB echo over an impaired path: got {len(got)} bytes, identical={got == data}")
    timed("4 MiB echo round trip, byte-identical", 300, run)


def discard_4m():
    def run():
        s = connect(9, IMPAIRED_TIMEOUT)
        s.sendall(rng.randbytes(4 << 20))
        s.shutdown(socket.SHUT_WR)
        if s.recv(10) != b"":
            fail("discard sent data")
        s.close()
    timed("4 MiB into discard, closed cleanly", 300, run)


def chargen_4m():
    def run():
        want = 4 << 20
        pattern = b"".join(chargen_line(i) for i in range(95))
        s = connect(19, IMPAIRED_TIMEOUT)
        got = bytearray()
        while len(got) < want:
            b = s.recv(1 << 16)
            if not b:
                fail(f"chargen closed after {len(got)} bytes")
            got.extend(b)
        s.close()
        if bytes(got[:want]) != (pattern * (want // len(pattern) + 1))[:want]:
            fail("chargen over an impaired path: stream differs from the pattern")
    timed("4 MiB from chargen, pattern intact", 300, run)


def slow_reader():
    """Reads chargen slowly through a small buffer, so tcplab meets a zero
    window, probes, and must resume without losing or repeating a byte."""
    want = 1 << 20
    pattern = b"".join(chargen_line(i) for i in range(95))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((HOST, 19))
    got = bytearray()
    t0 = time.time()
    while len(got) < want:
        b = s.recv(2048)
        if not b:
            fail(f"chargen closed after {len(got)} bytes")
        got.extend(b)
        if len(got) < 64 * 1024:
            time.sleep(0.02)  # slow at first: the window closes
    s.close()
    if bytes(got[:want]) != (pattern * (want // len(pattern) + 1))[:want]:
        fail("slow reader: stream differs from the pattern (lost or repeated bytes)")
    print(f"ok: a slow reader got 1 MiB of chargen intact in {time.time() - t0:.1f} s")


CHECKS.update({f.__name__: f for f in (echo_4m, discard_4m, chargen_4m, slow_reader)})

if __name__ == "__main__":
    for name in sys.argv[1:]:
        CHECKS[name]()
