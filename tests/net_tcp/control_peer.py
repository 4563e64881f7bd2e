#!/usr/bin/python3
"""The kernel's side for control.sh, inside the test's namespace.

control_peer.py hold PORTFILE
    opens an echo connection (7) that stays idle, a chargen connection (19)
    that never reads, and a quote-of-the-day connection (17) that tcplab
    closes first (TIME_WAIT on tcplab's side); writes the three local ports
    to PORTFILE and holds them until standard input closes (90 s at most).
control_peer.py garbage TUN
    sends malformed requests to the control socket of the tcplab on TUN;
    each must get a one-line "error: ..." answer (or none, for an empty
    connection), and tcplab must still answer a good request after them.
"""
import json
import select
import socket
import sys
import time

SERVER = "10.10.0.2"


def hold(portfile):
    echo = socket.create_connection((SERVER, 7), timeout=5)
    echo.sendall(b"hello\n")
    assert echo.recv(100) == b"hello\n"
    chargen = socket.socket()
    chargen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    chargen.settimeout(5)
    chargen.connect((SERVER, 19))
    qotd = socket.create_connection((SERVER, 17), timeout=5)
    quote = b""
    while True:
        b = qotd.recv(4096)
        if not b:
            break
        quote += b
    qotd.close()  # after tcplab's FIN: tcplab goes to TIME_WAIT
    assert quote, "no quote"
    ports = [s.getsockname()[1] for s in (echo, chargen)] + [0]
    with open(portfile, "w") as f:
        f.write("%d %d\n" % tuple(ports[:2]))
    select.select([sys.stdin], [], [], 90)


def ask(tun, data, shut=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect("\0tcplab/" + tun)
    try:
        if data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except BrokenPipeError:
        pass  # tcplab answered and closed before reading it all
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break  # closed with our excess bytes unread, after its answer
        if not b:
            break
        out += b
    s.close()
    return out


def expect_error(tun, data, words):
    out = ask(tun, data)
    line = out.decode("ascii", "replace")
    assert out.startswith(b"error: ") and out.count(b"\n") == 1 and out.endswith(b"\n"), \
        "request %r: answer %r" % (data[:40], out[:200])
    assert words in line, "request %r: answer %r lacks %r" % (data[:40], line, words)
    print("ok: %r -> %s" % (data[:24], line.strip()))


def garbage(tun):
    expect_error(tun, b"bogus\n", "unknown request 'bogus'")
    expect_error(tun, b"ss frobnicate\n", "unknown flag 'frobnicate'")
    expect_error(tun, b"stats info\n", "unknown flag 'info'")
    expect_error(tun, b"\n", "empty request")
    expect_error(tun, b"ss\x00\xff\n", "not printable")
    expect_error(tun, b"ss json", "without a newline")
    expect_error(tun, b"A" * 5000, "longer than 255 bytes")
    expect_error(tun, bytes(range(256)) * 4, "not printable")
    assert ask(tun, b"") == b"", "an empty connection gets no answer"
    # More connections than request slots, all silent: the ones past the
    # slots are told so; the stack is not held up meanwhile.
    idle = []
    for _ in range(12):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("\0tcplab/" + tun)
        idle.append(s)
    time.sleep(0.3)
    busy = 0
    for s in idle:
        s.setblocking(False)
        try:
            busy += s.recv(200).startswith(b"error: busy")
        except BlockingIOError:
            pass
    ping = socket.create_connection((SERVER, 7), timeout=5)
    ping.sendall(b"x")
    assert ping.recv(1) == b"x", "echo while the control slots are full"
    ping.close()
    for s in idle:
        s.close()
    assert busy >= 4, "only %d of 12 idle connections were told busy" % busy
    print("ok: %d of 12 idle connections told busy; echo served meanwhile" % busy)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.settimeout(20)
    silent.connect("\0tcplab/" + tun)
    t = time.monotonic()
    out = silent.recv(200)
    assert out == b"error: no request line within 10 s\n" and 9 < time.monotonic() - t < 15, out
    silent.close()
    print("ok: a silent client is told so and closed after 10 s")
    out = ask(tun, b"ss json\n")
    head, _, body = out.partition(b"\n")
    assert head == b"ok %d" % len(body), "after the garbage: %r" % out[:80]
    json.loads(body)
    print("ok: a good request after the garbage gets its answer")


if __name__ == "__main__":
    {"hold": hold, "garbage": garbage}[sys.argv[1]](sys.argv[2])
