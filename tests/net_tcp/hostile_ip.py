#!/usr/bin/python3
"""Hostile fragments and IP options, written raw onto tl0 from 10.10.0.1
inside the test's namespace (hostile.sh counts what tcplab did with them).

Options: source routes (LSRR, SSRR) get no answer (RFC 7126 4.3, 4.4); a
malformed option gets ICMP parameter problem pointing at the bad octet (RFC
1122 3.2.2.5); an unknown option is ignored and a full Record Route left as
it is (RFC 1122 3.2.1.8, RFC 791 3.1); Record Route in the first piece of a
fragmented echo request comes back with 10.10.0.2 in it.

Fragments: two overlaps (RFC 5722: the datagram dropped, no echo),
duplicates (dropped alone, the echo intact), a hole (nothing until it is
filled, then the echo), malformed pieces (past 65535 bytes, not a multiple
of 8), 65 pieces of one datagram, then a storm of 1000 datagrams of one
piece and one of 8000 full-size pieces (11.8 MB against a 4 MiB bound,
none at offset 0, so that none is answered when it times out); afterwards
a ping and a fragmented echo are still answered; last a hole left open
gets ICMP time exceeded, code 1, after tcplab's 30 s (RFC 1122 3.3.2).

Every wait is bounded; one ok line per check; exits non-zero on failure."""
import select
import socket
import struct
import sys
import time

SRC, DST = socket.inet_aton("10.10.0.1"), socket.inet_aton("10.10.0.2")
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sent = 0


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip(proto, ipid, payload, off=0, mf=False, opts=b""):
    """One IPv4 packet from 10.10.0.1 to 10.10.0.2: payload at byte offset off."""
    hl = 20 + len(opts)
    frag = off // 8 | (0x2000 if mf else 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ipid, frag, 64,
                    proto, 0, SRC, DST) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def send(pkt):
    """Written onto tl0, paced so that the TUN device's queue never overflows."""
    global sent
    raw.sendto(pkt, ("10.10.0.2", 0))
    sent += 1
    if sent % 64 == 0:
        time.sleep(0.002)


def udp_dgram(sport, data):
    """A UDP datagram to port 7 (echo), checksum over the pseudo-header."""
    u = struct.pack("!HHHH", sport, 7, 8 + len(data), 0) + data
    c = csum(SRC + DST + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]


def echo_req(ident, data=b"hostile"):
    e = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + data
    return e[:2] + struct.pack("!H", csum(e)) + e[4:]


def pieces(dgram, cuts):
    """(offset, bytes, more fragments) for each (start, end) in cuts."""
    return [(a, dgram[a:b], b < len(dgram)) for a, b in cuts]


def udp_sock(port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.10.0.1", port))
    return u


def fail(msg):
    sys.exit("FAIL: " + msg)


def no_echo(u, secs, what):
    if select.select([u], [], [], secs)[0]:
        fail("%s was echoed (%d bytes)" % (what, len(u.recv(65535))))


def echo_of(u, data, secs, what):
    if not select.select([u], [], [], secs)[0]:
        fail("%s: no echo within %s s" % (what, secs))
    got = u.recv(65535)
    if got != data:
        fail("%s: the echo differs (%d bytes, sent %d)" % (what, len(got), len(data)))


def icmp_wait(secs, match):
    """The first ICMP message (IP header included) match() takes, or None."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if not select.select([icmp], [], [], max(0.0, end - time.monotonic()))[0]:
            return None
        pkt = icmp.recv(65535)
        if match(pkt, pkt[(pkt[0] & 15) * 4:]):
            return pkt
    return None


def reply_to(ident):
    return lambda p, m: m[0] == 0 and struct.unpack("!H", m[4:6])[0] == ident


def send_frags(proto, ipid, dgram, cuts, opts=b""):
    for off, part, more in pieces(dgram, cuts):
        send(ip(proto, ipid, part, off, more, opts if off == 0 else b""))


def options():
    for kind, ident in ((131, 601), (137, 602)):  # LSRR, SSRR through 10.10.0.9
        send(ip(1, ident, echo_req(ident), opts=bytes([1, kind, 7, 4]) + socket.inet_aton("10.10.0.9")))
        if icmp_wait(0.5, reply_to(ident)):
            fail("a ping with source route option %d was answered" % kind)
    print("ok: pings with LSRR and SSRR get no answer")
    send(ip(1, 603, echo_req(603), opts=b"\x1e\x00\x00\x00"))  # an option of length 0
    pp = icmp_wait(2, lambda p, m: m[0] == 12 and m[8 + 4:8 + 6] == struct.pack("!H", 603))
    if not pp or pp[(pp[0] & 15) * 4 + 4] != 21:
        fail("no parameter problem pointing at octet 21 for a malformed option: %r" % pp)
    if icmp_wait(0.3, reply_to(603)):
        fail("a ping with a malformed option was answered")
    print("ok: a malformed option gets ICMP parameter problem, pointer 21, and no echo reply")
    send(ip(1, 604, echo_req(604), opts=b"\x1e\x04\x00\x00"))  # unknown, well formed
    if not icmp_wait(2, reply_to(604)):
        fail("a ping with an unknown option was not answered")
    full = bytes([7, 7, 8]) + socket.inet_aton("10.10.0.7") + b"\0"  # Record Route, no room
    send(ip(1, 605, echo_req(605), opts=full))
    r = icmp_wait(2, reply_to(605))
    if not r or r[20:28] != full:
        fail("a ping with a full Record Route: %r" % (r[:28] if r else None))
    print("ok: an unknown option is ignored, a full Record Route comes back as it was")
    rr = bytes([1, 7, 39, 4]) + bytes(36)  # NOP, Record Route with 9 free slots
    send_frags(1, 606, echo_req(606, bytes(range(256)) * 8), [(0, 1000), (1000, 2056)], rr)
    r = icmp_wait(2, reply_to(606))
    if not r or len(r) != 20 + 40 + 2056 or socket.inet_aton("10.10.0.2") not in r[20:60]:
        fail("Record Route in a fragmented ping: %r" % (r[:60] if r else None))
    print("ok: Record Route in the first piece of a fragmented ping: the reply has 10.10.0.2 in its route")


def overlaps_dups_holes():
    data = bytes(i * 13 % 256 for i in range(3000))
    d = udp_dgram(40001, data)  # 3008 bytes
    u = udp_sock(40001)
    send_frags(17, 701, d, [(0, 1480), (1472, 2952), (2952, 3008)])
    no_echo(u, 0.5, "a datagram whose pieces overlap by 8 bytes")
    send(ip(17, 702, d[1480:2008], 1480, False))
    send(ip(17, 702, d[2000:2100], 2000, False))  # another end
    print("ok: overlapping pieces, and two last pieces that disagree on the end, dropped")
    send_frags(17, 703, d, [(0, 1480), (0, 1480), (1480, 2960), (1480, 2960), (2960, 3008)])
    echo_of(u, data, 2, "a datagram with two pieces sent twice")
    print("ok: duplicate pieces dropped alone: the datagram is echoed intact")
    send_frags(17, 704, d, [(0, 1480), (2960, 3008)])
    no_echo(u, 0.5, "a datagram with a hole")
    send_frags(17, 704, d, [(1480, 2960)])
    echo_of(u, data, 2, "the datagram whose hole was filled")
    print("ok: a datagram with a hole waits; the missing piece completes it")
    send(ip(17, 705, bytes(16), 65528, True))  # ends at 65544: the ping of death
    send(ip(17, 706, bytes(13), 1480, True))  # not a multiple of 8 before the last
    for k in range(65):  # one piece past the 64 a datagram may have
        send(ip(17, 707, bytes(8), 8 + 8 * k, True))
    print("ok: sent a piece past 65535 bytes, one of 13 bytes with MF, and 65 pieces of one datagram")


def storm():
    for k in range(1000):  # datagrams never completed: past the bound of 256
        send(ip(17, 10000 + k, bytes(8), 1480, True))
    blob = bytes(1480)
    for k in range(200):  # 200 x 40 pieces of 1480 bytes: 11.8 MB against 4 MiB
        for j in range(40):
            send(ip(17, 20000 + k, blob, 1480 * (j + 1), True))
    print("ok: storm sent: 1000 datagrams of one 8-byte piece, 200 of 40 pieces of 1480 bytes")
    send(ip(1, 801, echo_req(801)))
    if not icmp_wait(2, reply_to(801)):
        fail("no ping reply after the storm")
    data = bytes(i * 5 % 256 for i in range(3000))
    u = udp_sock(40002)
    send_frags(17, 802, udp_dgram(40002, data), [(0, 1480), (1480, 2960), (2960, 3008)])
    echo_of(u, data, 2, "a fragmented datagram after the storm")
    print("ok: after the storm tcplab answers a ping and echoes a datagram in 3 pieces")


def timeout():
    d = udp_dgram(40003, bytes(3000))
    t0 = time.monotonic()
    send_frags(17, 901, d, [(0, 1480), (2960, 3008)])
    te = icmp_wait(40, lambda p, m: m[0] == 11 and m[8 + 4:8 + 6] == struct.pack("!H", 901))
    if not te or te[(te[0] & 15) * 4 + 1] != 1:
        fail("no ICMP time exceeded (code 1) for a hole left open: %r" % te)
    print("ok: a hole left open: ICMP time exceeded, reassembly time exceeded, after %.1f s"
          % (time.monotonic() - t0))


options()
overlaps_dups_holes()
storm()
timeout()
