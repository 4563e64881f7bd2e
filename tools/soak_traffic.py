#!/usr/bin/env python3
"""The traffic and the reports of tools/soak; runs inside its namespace.

Every thread stops at the deadline; every socket operation has a timeout and
every bulk stream a rate cap, so the load is bounded in time and in size.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HOST = "10.10.0.2"
BULK_RATE = 4 << 20  # bytes per second per long stream
SHORT_THREADS = 4


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}

    def add(self, key, v=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + v

    def snap(self):
        with self.lock:
            return dict(self.n)


S = Stats()
ERRORS = []


def note(kind, e):
    S.add(kind + "_fail")
    if len(ERRORS) < 20:
        ERRORS.append("%s: %s" % (kind, e))


def chargen_pattern():
    lines = []
    for line in range(95):
        lines.append(bytes(32 + (line + i) % 95 for i in range(72)) + b"\r\n")
    return b"".join(lines)


def ping(deadline):
    secs = max(1, int(deadline - time.time()))
    p = subprocess.Popen(["ping", "-n", "-O", "-i", "0.2", "-W", "1", "-w", str(secs), HOST],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if "bytes from" in line:
            S.add("ping_dup" if "DUP" in line else "ping_ok")
        elif "no answer yet" in line:
            S.add("ping_lost")
    p.wait()


def udp(deadline):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    seq = 0
    while time.time() < deadline:
        seq += 1
        data = b"%08d" % seq + os.urandom(16 + seq % 500)
        s.sendto(data, (HOST, 7 if seq % 2 else 65432))
        end = time.time() + 0.5
        got = False
        while time.time() < end and not got:
            try:
                b = s.recv(2048)
            except socket.timeout:
                break
            if b == data:
                got = True
            elif b[:8] == data[:8]:
                S.add("udp_bad")
        S.add("udp_ok" if got else "udp_lost")
        time.sleep(0.02)


def short_tcp(deadline, idx):
    i = 0
    while time.time() < deadline:
        i += 1
        port = (7, 65432, 17)[(i + idx) % 3]
        stage, data, got = "connect", b"", bytearray()
        try:
            with socket.create_connection((HOST, port), timeout=10) as c:
                c.settimeout(10)
                data = os.urandom(1 + (i * 977) % 8000) if port != 17 else b""
                stage = "send"
                if data:
                    c.sendall(data)
                c.shutdown(socket.SHUT_WR)
                stage = "read"
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    got += b
            ok = bytes(got) == data if port != 17 else got.startswith(b'"Be conservative')
            S.add("short_ok" if ok else "short_bad")
        except OSError as e:
            note("short", "port %d, %s (%d of %d bytes back): %s" % (
                port, stage, len(got), len(data), e))
        time.sleep(0.005)


def paced(sent, t0):
    ahead = sent / BULK_RATE - (time.time() - t0)
    if ahead > 0:
        time.sleep(min(ahead, 1.0))


def long_discard(deadline):
    chunk = os.urandom(65536)
    while time.time() < deadline:
        try:
            with socket.create_connection((HOST, 9), timeout=10) as c:
                c.settimeout(10)
                t0, sent = time.time(), 0
                while time.time() < deadline:
                    c.sendall(chunk)
                    sent += len(chunk)
                    S.add("bulk_bytes", len(chunk))
                    paced(sent, t0)
        except OSError as e:
            note("long", e)
            time.sleep(1)


def long_chargen(deadline):
    pat = chargen_pattern()
    while time.time() < deadline:
        try:
            with socket.create_connection((HOST, 19), timeout=10) as c:
                c.settimeout(10)
                t0, pos, got = time.time(), 0, 0
                while time.time() < deadline:
                    b = c.recv(65536)
                    if not b:
                        raise OSError("chargen closed")
                    want = (pat * (2 + len(b) // len(pat)))[pos:pos + len(b)]
                    if b != want:
                        S.add("long_bad")
                        raise OSError("chargen stream out of pattern")
                    pos = (pos + len(b)) % len(pat)
                    got += len(b)
                    S.add("bulk_bytes", len(b))
                    paced(got, t0)
        except OSError as e:
            note("long", e)
            time.sleep(1)


def long_echo(deadline):
    block = os.urandom(1 << 20)
    while time.time() < deadline:
        try:
            c = socket.create_connection((HOST, 7), timeout=10)
        except OSError as e:
            note("long", e)
            time.sleep(1)
            continue
        c.settimeout(10)
        state = {"sent": 0, "err": None}

        def writer():
            t0 = time.time()
            try:
                while time.time() < deadline:
                    off = state["sent"] % len(block)
                    n = c.send(block[off:off + 16384])
                    state["sent"] += n
                    paced(state["sent"], t0)
                c.shutdown(socket.SHUT_WR)
            except OSError as e:
                state["err"] = e

        w = threading.Thread(target=writer, daemon=True)
        w.start()
        pos = 0
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                off = pos % len(block)
                want = (block[off:] + block)[:len(b)]
                if b != want:
                    S.add("long_bad")
                    raise OSError("echo stream corrupted at byte %d" % pos)
                pos += len(b)
                S.add("bulk_bytes", len(b))
            if pos != state["sent"]:
                raise OSError("echo returned %d of %d bytes" % (pos, state["sent"]))
        except OSError as e:
            note("long", e)
        w.join(12)
        c.close()
        if state["err"]:
            note("long", state["err"])


def counter_names(path):
    """The stack's counter names, from counters.h."""
    return set(re.findall(r'X\(([a-z0-9_]+), ".*"\)', open(path).read()))


def read_counters(pid, path, names):
    """SIGUSR1, then the last complete block of counters in tcplab's stderr."""
    os.kill(pid, signal.SIGUSR1)
    time.sleep(0.3)
    text = open(path, errors="replace").read()
    blocks = text.split("tcplab counters:\n")
    for blk in reversed(blocks[1:]):
        c = {}
        for line in blk.splitlines():
            m = re.match(r"([a-z0-9_]+) +(\d+)  ", line)  # name value  description
            if m and m.group(1) in names:
                c[m.group(1)] = int(m.group(2))
        if "tun_read_errors" in blk:  # printed after the last counter
            return c
    return {}


def proc(pid):
    rss = 0
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


ERROR_COUNTERS = ("tcp_timeouts", "tcp_drop_table_full", "tcp_drop_listen_full",
                  "tcp_drop_ooo_full", "tcp_drop_ooo_global", "udp_drop_loop_port")


def report(t, now, prev, c, rss, fds, dt):
    rate = lambda k: (now.get(k, 0) - prev.get(k, 0)) / dt
    errs = sum(c.get(k, 0) for k in ERROR_COUNTERS)
    print("t=%5ds ping %d/%d udp %d/%d short %d ok %d fail (%.0f/s) bulk %.1f MB/s "
          "long fail %d | rss %d KiB fds %d | est %d rexmit %d rto %d errs %d" % (
              t, now.get("ping_ok", 0), now.get("ping_ok", 0) + now.get("ping_lost", 0),
              now.get("udp_ok", 0), now.get("udp_ok", 0) + now.get("udp_lost", 0),
              now.get("short_ok", 0), now.get("short_fail", 0), rate("short_ok"),
              rate("bulk_bytes") / 1e6, now.get("long_fail", 0), rss, fds,
              c.get("tcp_established", 0), c.get("tcp_rexmit", 0), c.get("tcp_rto", 0), errs),
          flush=True)


def thirds(xs):
    k = len(xs) // 3
    return xs[k:2 * k], xs[2 * k:]


JUDGE_SECS = 180  # TIME_WAIT (2 MSL = 60 s) must fill before anything can level off


def verdict(samples, secs):
    """Did RSS, fds and the counters level off? (lines, ok)"""
    if len(samples) < 6:
        return ["too short to judge levelling off (%d samples)" % len(samples)], True
    if secs < JUDGE_SECS:
        lines, _ = verdict(samples, JUDGE_SECS)
        return lines + ["(not judged: runs shorter than %d s only report)" % JUDGE_SECS], True
    mid, last = thirds(samples)
    lines, ok = [], True
    rm = sum(s["rss"] for s in mid) / len(mid)
    rl = sum(s["rss"] for s in last) / len(last)
    good = rl <= rm * 1.10 + 1024
    ok &= good
    lines.append("RSS: middle third %.0f KiB, last third %.0f KiB (%+.1f%%): %s" % (
        rm, rl, 100 * (rl - rm) / rm, "levelled off" if good else "STILL GROWING"))
    fm, fl = max(s["fds"] for s in mid), max(s["fds"] for s in last)
    good = fl <= fm + 2
    ok &= good
    lines.append("open fds: at most %d in the middle third, %d in the last: %s" % (
        fm, fl, "levelled off" if good else "STILL GROWING"))

    def growth(part, key):
        dt = part[-1]["t"] - part[0]["t"] or 1
        return (part[-1]["c"].get(key, 0) - part[0]["c"].get(key, 0)) / dt

    em, el = growth(mid, "tcp_established"), growth(last, "tcp_established")
    good = el >= 0.5 * em
    ok &= good
    lines.append("connections established: %.1f/s in the middle third, %.1f/s in the last: %s" % (
        em, el, "steady" if good else "SLOWING DOWN"))
    for k in ERROR_COUNTERS:
        gm, gl = growth(mid, k), growth(last, k)
        good = gl <= 2 * gm + 0.1
        ok &= good
        if gm or gl or not good:
            lines.append("%s: %.2f/s middle, %.2f/s last: %s" % (
                k, gm, gl, "not accelerating" if good else "ACCELERATING"))
    return lines, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--stderr", required=True)
    ap.add_argument("--counters", required=True)
    a = ap.parse_args()
    names = counter_names(a.counters)
    start = time.time()
    deadline = start + a.seconds
    jobs = [(ping, ()), (udp, ()), (long_discard, ()), (long_chargen, ()), (long_echo, ())]
    jobs += [(short_tcp, (i,)) for i in range(SHORT_THREADS)]
    threads = [threading.Thread(target=f, args=(deadline,) + x, daemon=True) for f, x in jobs]
    for t in threads:
        t.start()
    samples, prev, tprev = [], {}, start
    while time.time() < deadline:
        time.sleep(max(0.0, min(a.interval - 0.3, deadline - time.time())))
        now, tnow = S.snap(), time.time()
        c = read_counters(a.pid, a.stderr, names)
        rss, fds = proc(a.pid)
        samples.append({"t": tnow - start, "rss": rss, "fds": fds, "c": c})
        report(tnow - start, now, prev, c, rss, fds, max(tnow - tprev, 0.001))
        prev, tprev = now, tnow
    for t in threads:
        t.join(15)
    n = S.snap()
    c = read_counters(a.pid, a.stderr, names)
    rss, fds = proc(a.pid)
    el = time.time() - start
    print("\nsummary after %.0f s:" % el)
    print("  ping: %d answered, %d lost, %d duplicates" % (
        n.get("ping_ok", 0), n.get("ping_lost", 0), n.get("ping_dup", 0)))
    print("  UDP echo: %d answered, %d lost, %d wrong" % (
        n.get("udp_ok", 0), n.get("udp_lost", 0), n.get("udp_bad", 0)))
    print("  short TCP connections: %d ok (%.0f/s), %d failed, %d wrong data" % (
        n.get("short_ok", 0), n.get("short_ok", 0) / el, n.get("short_fail", 0),
        n.get("short_bad", 0)))
    print("  long TCP streams: %.1f MB moved (%.1f MB/s), %d failures, %d corrupted" % (
        n.get("bulk_bytes", 0) / 1e6, n.get("bulk_bytes", 0) / el / 1e6,
        n.get("long_fail", 0), n.get("long_bad", 0)))
    print("  tcplab: RSS %d KiB (max %d), %d fds; %d connections established, "
          "%d retransmissions, %d RTOs, %d aborted" % (
              rss, max([s["rss"] for s in samples] + [rss]), fds, c.get("tcp_established", 0),
              c.get("tcp_rexmit", 0), c.get("tcp_rto", 0), c.get("tcp_timeouts", 0)))
    for e in ERRORS[:5]:
        print("  error: %s" % e)
    lines, ok = verdict(samples, a.seconds)
    for line in lines:
        print("  " + line)
    short = n.get("short_ok", 0) + n.get("short_fail", 0)
    checks = {
        "ping answered": n.get("ping_ok", 0) > 0 and n.get("ping_lost", 0) <= 0.1 * n.get("ping_ok", 0) + 2,
        "UDP echo answered": n.get("udp_ok", 0) > 0 and n.get("udp_lost", 0) <= 0.1 * n.get("udp_ok", 0) + 2,
        "short connections succeeded": short > 0 and n.get("short_fail", 0) <= 0.01 * short + 2,
        "long streams moved data": n.get("bulk_bytes", 0) > 0,
        "no data corrupted": not (n.get("udp_bad", 0) or n.get("short_bad", 0) or n.get("long_bad", 0)),
        "levelled off": ok,
    }
    failed = [k for k, v in checks.items() if not v]
    print("soak: %s" % ("PASS" if not failed else "FAIL: " + ", ".join(failed)))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
