#!/usr/bin/python3
"""Issue 13, part 1: the kernel's receive window shrinks under tcplab's sender.

Each connection to tcplab's echo service (10.10.0.2 port 7) shrinks its
SO_RCVBUF to 64 KiB right after connecting, sends 4 MB from a thread and
starts reading only 1.5 s later. The kernel's window closes, which pulls its
right edge back below tcplab's SND.NXT; RFC 9293 3.8.6 says the sender MUST
cope with that (and RFC 6298 5 keeps its timer running while data is
outstanding). Every connection must get all its bytes back, byte for byte,
within a bound; a connection that does not has stalled. Against a Linux echo
server the same clients never stall; with SO_RCVBUF set before connecting
(--rcvbuf-when before) the kernel never offers the large window and tcplab
never stalls either: it is the shrink after the handshake that matters.

Prints one line per stalled connection and a summary; exits 1 if any
stalled. Every socket operation has a timeout and the whole run a deadline,
so a stall fails the test instead of hanging it."""
import argparse
import hashlib
import random
import select
import socket
import subprocess
import sys
import threading
import time

HOST = "10.10.0.2"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--conns", type=int, default=16, help="connections in all")
    p.add_argument("--parallel", type=int, default=8, help="connections at a time")
    p.add_argument("--size", type=int, default=4_000_000, help="bytes each sends")
    p.add_argument("--rcvbuf", type=int, default=64 * 1024, help="SO_RCVBUF to set")
    p.add_argument("--rcvbuf-when", choices=["after", "before", "never"], default="after",
                   help="set SO_RCVBUF after connect (the issue's pattern) or before")
    p.add_argument("--read-delay", type=float, default=1.5, help="seconds before reading")
    p.add_argument("--bound", type=float, default=30.0, help="seconds each may take")
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--seed", type=int, default=13)
    return p.parse_args()


class Result:
    def __init__(self, i):
        self.i = i
        self.got = 0
        self.ok = False
        self.secs = 0.0
        self.why = "did not run"
        self.ss = ""


def kernel_view(s):
    """The kernel's view of a stalled connection (ss -tin), for the log."""
    try:
        lport = s.getsockname()[1]
        out = subprocess.run(["ss", "-tinmH", "dst", HOST, "sport", "=", f":{lport}"],
                             capture_output=True, text=True, timeout=5).stdout
        return " ".join(out.split())
    except (OSError, subprocess.SubprocessError):
        return ""


def one(args, i, data, res):
    """One client: connect, shrink the buffer, send in a thread, read late."""
    t0 = time.monotonic()
    deadline = t0 + args.bound
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(args.bound)  # bounds connect and the whole sendall (Python >= 3.5)
    try:
        if args.rcvbuf_when == "before":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        s.connect((HOST, args.port))
        if args.rcvbuf_when == "after":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    except OSError as e:
        res.why = f"connect: {e}"
        s.close()
        return
    res.why = ""
    send_err = []

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err.append(e)

    th = threading.Thread(target=sender, daemon=True)
    th.start()
    time.sleep(args.read_delay)
    h = hashlib.sha256()
    eof = False
    while res.got <= len(data):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        try:
            b = s.recv(1 << 16)
        except OSError as e:
            res.why = f"recv: {e}"
            break
        if not b:
            eof = True
            break
        h.update(b)
        res.got += len(b)
    res.secs = time.monotonic() - t0
    if not eof and res.got < len(data):
        res.ss = kernel_view(s)
    send_err_early = list(send_err)  # before our shutdown below breaks the pipe
    try:
        s.shutdown(socket.SHUT_RDWR)  # wakes the sender if it is still blocked
    except OSError:
        pass
    th.join(5)
    s.close()
    if eof and res.got == len(data) and h.digest() == hashlib.sha256(data).digest():
        res.ok = True
        res.why = ""
    elif eof and res.got == len(data):
        res.why = "all bytes back but they differ"
    elif eof:
        res.why = f"EOF after {res.got} of {len(data)} bytes"
    elif res.got > len(data):
        res.why = f"more bytes back than sent ({res.got})"
    elif not res.why:
        res.why = f"stalled: {res.got} of {len(data)} bytes back after {res.secs:.1f} s"
    if send_err_early and not res.ok:
        res.why += f" (sender: {send_err_early[0]})"


def main():
    args = parse_args()
    results = [Result(i) for i in range(args.conns)]
    sem = threading.Semaphore(args.parallel)
    t0 = time.monotonic()

    def run(i):
        with sem:
            data = random.Random(args.seed * 1000 + i).randbytes(args.size)
            one(args, i, data, results[i])

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(args.conns)]
    for t in threads:
        t.start()
    # Overall deadline: every batch at its bound, plus slack.
    rounds = -(-args.conns // args.parallel)
    overall = t0 + rounds * (args.bound + 10) + 10
    for t in threads:
        t.join(max(0.0, overall - time.monotonic()))
    dt = time.monotonic() - t0
    bad = [r for r in results if not r.ok]
    for r in bad:
        print(f"connection #{r.i}: {r.why}")
        if r.ss:
            print(f"  kernel (ss -tinm): {r.ss}")
    ok_secs = sorted(r.secs for r in results if r.ok)
    median = f", median {ok_secs[len(ok_secs) // 2]:.1f} s" if ok_secs else ""
    print(f"{len(bad)} of {args.conns} connections stalled "
          f"(SO_RCVBUF {args.rcvbuf} {args.rcvbuf_when} connect, {args.size} bytes, "
          f"reading after {args.read_delay} s, {args.parallel} at a time, bound {args.bound:.0f} s; "
          f"{dt:.1f} s in all{median})")
    if bad:
        sys.exit(f"FAIL: {len(bad)} of {args.conns} connections did not get all "
                 f"{args.size} bytes back within {args.bound:.0f} s")
    print(f"ok: all {args.conns} shrinking-window echo connections got their bytes back intact")


if __name__ == "__main__":
    main()
