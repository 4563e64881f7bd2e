"""Programs for tests/net_tcp/run.sh: ordinary socket code, run under
`tcplab run` or on the kernel side. Each mode bounds its own time."""
import errno
import socket
import sys
import threading
import time

HOST, PORT = "127.0.0.1", 65432


def accept_one(port):
    """A kernel-side listener on 10.10.0.1:port: says "listening", then
    returns the first connection (within 20 s) and its peer's address."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.10.0.1", int(port)))
    ls.listen()
    ls.settimeout(20)
    print("listening", flush=True)
    return ls.accept()


def bulk(addr, port, conns, size):
    """conns threads each echo size bytes through addr:port, checked byte for byte."""
    conns, size, bad = int(conns), int(size), []

    def one(i):
        try:
            echo_one(i)
        except Exception as e:  # noqa: BLE001 - any failure is this connection's
            bad.append(f"{i}: {e!r}")

    def echo_one(i):
        payload = bytes((i * 7 + k) % 251 for k in range(size))
        with socket.create_connection((addr, int(port)), timeout=60) as c:
            t = threading.Thread(target=c.sendall, args=(payload,))
            t.start()
            got = bytearray()
            while len(got) < size:
                d = c.recv(65536)
                if not d:
                    break
                got += d
            t.join()
        if bytes(got) != payload:
            bad.append(f"{i}: {len(got)} bytes came back, not the {size} sent")
    ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if bad:
        sys.exit(f"FAIL: {len(bad)} of {conns} connections came back wrong: {bad[:3]}")
    print(f"ok: {conns} connections of {size} bytes echoed byte for byte")


def connect_out(addr, port):
    """A client of a kernel-side server: send a line, print the answer."""
    with socket.create_connection((addr, int(port)), timeout=10) as s:
        print("local", s.getsockname()[0], "peer", s.getpeername())
        s.sendall(b"hello from tcplab run\n")
        s.shutdown(socket.SHUT_WR)
        print("answer", s.recv(100))


def bind_port(port):
    """Binds a port: prints the errno name it gets."""
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", int(port)))
        print("bound")
    except OSError as e:
        print(errno.errorcode[e.errno])


def raw():
    """A raw socket: tcplab has none to give."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        print("created")
    except OSError as e:
        print(errno.errorcode[e.errno])


def tcp_info():
    """TCP_INFO after an echo: the numbers tcplab keeps, in Linux's layout."""
    import struct
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"x" * 10000)
    got = 0
    while got < 10000:
        got += len(s.recv(65536))
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    state, = struct.unpack_from("B", raw, 0)
    mss, = struct.unpack_from("I", raw, 16)
    rtt, rttvar, ssthresh, cwnd = struct.unpack_from("4I", raw, 68)
    assert state == 1 and 500 < mss <= 65495 and rtt > 0 and cwnd >= 1, (state, mss, rtt, cwnd)
    cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
    assert cc in ("reno", "cubic"), cc
    print(f"state ESTABLISHED mss {mss} cwnd {cwnd} segments rtt {rtt} us, {cc}")


def rst_peer(port):
    """A kernel-side server: prints where a connection came from, reads one
    line, then resets it (SO_LINGER 0)."""
    import struct
    c, addr = accept_one(port)
    print("peer: from", addr[1], flush=True)
    c.settimeout(20)
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def reset_seen(addr, port, lport):
    """Binds lport, connects (connect after bind), sends a line; the peer
    resets: prints what recv, recv again and send give."""
    s = socket.socket()
    s.bind(("0.0.0.0", int(lport)))
    s.connect((addr, int(port)))
    print("bound and connected from", s.getsockname()[1])
    s.sendall(b"hi\n")
    s.settimeout(10)
    for call in (lambda: s.recv(100), lambda: s.recv(100), lambda: s.send(b"x")):
        try:
            print("got", call())
        except OSError as e:
            print(errno.errorcode[e.errno])


def loop_server(addr, port, secs):
    """A selector accept loop, as socketserver's, for secs seconds: echoes a
    line per connection; prints how many accepts failed (after tcplab stops,
    a loop that is woken again and again would count thousands)."""
    import selectors
    ls = socket.socket()
    ls.bind((addr, int(port)))
    ls.listen()
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    print("listening", flush=True)
    errors, end = 0, time.time() + float(secs)
    while time.time() < end:
        if not sel.select(timeout=0.2):
            continue
        try:
            c, _ = ls.accept()
        except BlockingIOError:
            continue
        except OSError:
            errors += 1
            continue
        with c:
            c.settimeout(5)
            c.sendall(c.recv(100))
    print("accept errors", errors, flush=True)


def exec_child(port):
    """inetd's way: accept, then exec a program with the connection as its
    stdin and stdout; that program (run_progs.py exec_peer) names its peer."""
    import os
    ls = socket.socket()
    ls.bind(("0.0.0.0", int(port)))
    ls.listen()
    print("listening", flush=True)
    c, _ = ls.accept()
    os.dup2(c.fileno(), 0)
    os.dup2(c.fileno(), 1)
    os.execv(sys.executable, [sys.executable, __file__, "exec_peer"])


def exec_peer():
    """Run by exec_child: its stdin is an inherited TCP socket."""
    s = socket.socket(fileno=0)
    print(f"exec'd: peer {s.getpeername()[0]} local port {s.getsockname()[1]}", flush=True)
    s.detach()


def flood(port, secs):
    """A kernel-side server: sends to what connects for secs seconds, as fast
    as the window lets it; prints how many bytes the kernel took."""
    c, _ = accept_one(port)
    c.settimeout(0.2)
    sent, end, chunk = 0, time.time() + float(secs), b"z" * 65536
    while time.time() < end:
        try:
            sent += c.send(chunk)
        except socket.timeout:
            pass
    print("flood: sent", sent, flush=True)


def udp_refused(addr, port):
    """A connected UDP socket sends to a closed port: the ICMP port
    unreachable that comes back is ECONNREFUSED on its next call."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.connect((addr, int(port)))
        s.send(b"anyone?")
        try:
            s.recv(100)
            print("answered")
        except OSError as e:
            print(errno.errorcode[e.errno])


def reuseport_server(port, secs):
    """SO_REUSEPORT: one of several processes on one port; answers each
    connection with its pid."""
    import os
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen()
    ls.settimeout(0.5)
    print("listening", flush=True)
    end = time.time() + float(secs)
    while time.time() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        with c:
            c.sendall(f"{os.getpid()}\n".encode())


def pids_of(addr, port, n):
    """n connections one after another: prints the pid each one answered."""
    for _ in range(int(n)):
        with socket.create_connection((addr, int(port)), timeout=10) as s:
            print(s.recv(100).decode().strip())


def udp_server():
    """The classic UDP echo server: three datagrams."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, PORT))
        print("bound", flush=True)
        for _ in range(3):
            data, addr = s.recvfrom(1024)
            print("from", addr, data, flush=True)
            s.sendto(data, addr)


def udp_client(addr=HOST):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"Hello Server!", (addr, PORT))
        data, frm = s.recvfrom(1024)
    print(f"Received {data!r} from {frm}")


def nonblocking(addr, port):
    """connect in progress, then SO_ERROR, as event loops do."""
    import select
    s = socket.socket()
    s.setblocking(False)
    print("connect", errno.errorcode.get(s.connect_ex((addr, int(port))), "0"))
    select.select([], [s], [], 10)
    print("SO_ERROR", errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0"))


def hold(addr, port):
    """Connects and waits, reading nothing, until killed (at most 60 s)."""
    s = socket.create_connection((addr, int(port)), timeout=10)
    print("connected", s.getsockname()[1], flush=True)
    time.sleep(60)


def serve_hold(port):
    """Listens on port and holds what it accepts, until killed (at most 60 s)."""
    s = socket.socket()
    s.bind(("0.0.0.0", int(port)))
    s.listen()
    print("listening", flush=True)
    time.sleep(60)


def until_gone(addr, port):
    """Connected, then writes until tcplab goes away: prints how it ended."""
    s = socket.create_connection((addr, int(port)), timeout=10)
    print("connected", flush=True)
    end = time.time() + 30
    try:
        while time.time() < end:
            if not s.recv(100):
                s.sendall(b"x")
                s.sendall(b"x")
    except OSError as e:
        print("ended", errno.errorcode[e.errno], flush=True)


def garbage():
    """Bad requests straight on tcplab's control socket: each gets one
    'error: ...' line (after 'ok' for a good first one), and tcplab goes on."""
    name = next(l.split()[-1] for l in open("/proc/net/unix") if "@tcplab/" in l)
    cases = [b"bind 0.0.0.0 70000\n", b"listen 5\n", b"connect 10.10.0.1\n",
             b"bind 0.0.0.0 7100\nconnect 10.10.0.1 80\n", b"udp 0.0.0.0 0\n",
             b"bind \xff\xfe\x00\x01\n", b"connect " + b"9" * 300 + b"\n"]
    for req in cases:
        t0 = time.time()
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect("\0" + name[1:])
        c.sendall(req)
        got = b""
        try:
            while True:
                d = c.recv(512)
                if not d:
                    break
                got += d
        except (ConnectionResetError, socket.timeout):
            pass
        last = got.decode("ascii", "replace").splitlines()[-1]
        if not last.startswith("error: ") or len(got.splitlines()) > 2:
            sys.exit(f"FAIL: {req[:40]!r} got {got!r}")
        print(f"{req[:30]!r} -> {last} ({time.time() - t0:.1f} s)")


def posix():
    """POSIX behaviour on one process's own sockets over 127.0.0.1: accept4
    flags, epoll mixed with a pipe, MSG_PEEK and MSG_DONTWAIT, sendmsg and
    recvmsg, sendfile, shutdown, fork (both keep the socket), options,
    ECONNREFUSED and EPIPE."""
    import os, select, tempfile
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    port = ls.getsockname()[1]
    assert port != 0 and ls.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    c.connect(("127.0.0.1", port))
    a, peer = ls.accept()
    assert peer == c.getsockname() and a.getpeername() == c.getsockname(), (peer, c.getsockname())
    a.setblocking(False)
    try:
        a.recv(10)
        sys.exit("FAIL: nonblocking recv on an empty socket returned")
    except BlockingIOError:
        pass
    r, w = os.pipe()
    ep = select.epoll()
    ep.register(a.fileno(), select.EPOLLIN)
    ep.register(r, select.EPOLLIN)
    os.write(w, b"p")
    c.sendmsg([b"he", b"llo"])
    seen = set()
    end = time.time() + 5
    while len(seen) < 2 and time.time() < end:
        seen |= {fd for fd, _ in ep.poll(1)}
    assert seen == {a.fileno(), r}, seen
    assert a.recv(5, socket.MSG_PEEK) == b"hello"
    data, _, _, _ = a.recvmsg(5)
    assert data == b"hello", data
    a.setblocking(True)
    with tempfile.TemporaryFile() as f:
        f.write(b"x" * 100000)
        f.seek(0)
        assert c.sendfile(f) == 100000
    got = b""
    while len(got) < 100000:
        got += a.recv(65536)
    assert got == b"x" * 100000
    pid = os.fork()
    if pid == 0:
        c.sendall(b"from the child")
        os._exit(0)
    os.waitpid(pid, 0)
    assert a.recv(100) == b"from the child"
    c.shutdown(socket.SHUT_WR)
    assert a.recv(100) == b""
    a.sendall(b"after half close")
    assert c.recv(100) == b"after half close"
    a.close()
    c.close()
    ls.close()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5)
        sys.exit("FAIL: connect to a closed port succeeded")
    except ConnectionRefusedError:
        pass
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u1.bind(("127.0.0.1", 0))
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u2.connect(u1.getsockname())
    u1.settimeout(5)
    u2.settimeout(5)
    assert os.writev(u2.fileno(), [b"ab", b"cd"]) == 4
    data, frm = u1.recvfrom(100)
    assert data == b"abcd" and frm == u2.getsockname(), (data, frm)
    u1.sendto(b"xyz", frm)
    bufs = [bytearray(2), bytearray(5)]
    assert select.select([u2], [], [], 5)[0], "the reply to readv never came"
    assert os.readv(u2.fileno(), bufs) == 3 and bufs[0] == b"xy" and bufs[1][:1] == b"z", bufs
    print("ok: accept, epoll with a pipe, MSG_PEEK, sendmsg/recvmsg, sendfile, fork, "
          "shutdown, TCP_NODELAY, ECONNREFUSED, readv/writev on UDP")


def peer(mode, port):
    """Kernel side: accepts one connection (sends 1000 bytes it never
    expects read if mode is 'unread'), prints how the connection ended."""
    c, _ = accept_one(port)
    c.settimeout(20)
    if mode == "unread":
        c.sendall(b"x" * 1000)
    try:
        while c.recv(100):
            pass
        print("peer: FIN", flush=True)
    except ConnectionResetError:
        print("peer: RST", flush=True)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
