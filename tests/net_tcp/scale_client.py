#!/usr/bin/env python3
"""scale_client.py N PID: N concurrent TCP connections to echo on 10.10.0.2:7.

One process, non-blocking sockets and selectors. Opens all N (at most
CONNECTING handshakes at a time, under the listener's backlog), then, with
all N open, each sends a few bytes of its own and must get exactly them
back; tcplab's RSS (PID) is read while all are open; then all are closed.
Every phase is bounded in time. Prints one line per phase; exit 1 on any
failure.
"""
import errno
import resource
import selectors
import socket
import sys
import time

HOST, PORT = "10.10.0.2", 7
CONNECTING = 100   # handshakes in flight
SENDING = 1000     # connections waiting for their echo
DEADLINE = 100     # seconds for the whole run


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 100
    try:
        if hard != resource.RLIM_INFINITY and hard < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # needs CAP_SYS_RESOURCE
        elif soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError) as e:
        fail("cannot raise RLIMIT_NOFILE from %d/%d to %d: %s" % (soft, hard, want, e))


def connect_all(n, end):
    sel = selectors.DefaultSelector()
    socks, pending, started = [], 0, 0
    while len(socks) < n:
        while pending < CONNECTING and started < n:
            s = socket.socket()
            s.setblocking(False)
            err = s.connect_ex((HOST, PORT))
            if err not in (0, errno.EINPROGRESS):
                fail("connect %d: %s" % (started, errno.errorcode.get(err, err)))
            sel.register(s, selectors.EVENT_WRITE, started)
            started += 1
            pending += 1
        if time.time() > end:
            fail("only %d of %d connections up when time ran out" % (len(socks), n))
        for key, _ in sel.select(1.0):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail("connection %d: %s" % (key.data, errno.errorcode.get(err, err)))
            socks.append((key.data, s))
    sel.close()
    return socks


def echo_all(socks, end):
    """Each connection sends its own bytes and must read exactly them back."""
    sel = selectors.DefaultSelector()
    want = {i: b"conn %05d says hi\n" % i for i, _ in socks}
    got = {i: b"" for i, _ in socks}
    todo, waiting, done = list(socks), 0, 0
    while done < len(socks):
        while waiting < SENDING and todo:
            i, s = todo.pop()
            s.send(want[i])  # 18 bytes always fit an empty send buffer
            sel.register(s, selectors.EVENT_READ, i)
            waiting += 1
        if time.time() > end:
            fail("%d of %d echoes back when time ran out" % (done, len(socks)))
        for key, _ in sel.select(1.0):
            i, s = key.data, key.fileobj
            b = s.recv(4096)
            if not b:
                fail("connection %d closed before its echo" % i)
            got[i] += b
            if len(got[i]) >= len(want[i]):
                if got[i] != want[i]:
                    fail("connection %d got %r, want %r" % (i, got[i], want[i]))
                sel.unregister(s)
                waiting -= 1
                done += 1
    sel.close()
    return done


def main():
    n, pid = int(sys.argv[1]), int(sys.argv[2])
    t0 = time.time()
    end = t0 + DEADLINE
    raise_nofile(n)
    rss0 = rss_kib(pid)
    socks = connect_all(n, end)
    t1 = time.time()
    print("connected: %d connections open in %.1f s" % (len(socks), t1 - t0), flush=True)
    done = echo_all(socks, end)
    t2 = time.time()
    rss = rss_kib(pid)
    print("echoed: %d of %d connections got their bytes back in %.1f s, all still open"
          % (done, n, t2 - t1), flush=True)
    print("rss: tcplab %d KiB before, %d KiB with %d connections open (%.2f KiB each)"
          % (rss0, rss, n, (rss - rss0) / n), flush=True)
    for _, s in socks:
        s.close()
    print("closed: all %d in %.1f s; total %.1f s" % (n, time.time() - t2, time.time() - t0),
          flush=True)


if __name__ == "__main__":
    main()
