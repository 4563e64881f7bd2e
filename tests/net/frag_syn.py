#!/usr/bin/python3
"""A SYN to 10.10.0.2:7 in IP fragments built with scapy, sent through a raw
socket from 10.10.0.1 (inside the test's namespace):

- the whole 20-byte TCP header in a first fragment of 24 bytes, the options
  after it in 8-byte pieces, out of order: tcplab reassembles and answers
  with a SYN-ACK;
- the same SYN in 8-byte pieces, the first splitting the TCP header
  (RFC 1858): dropped, no SYN-ACK.

Each wait is bounded (2 s); prints one ok line per check, exits 1 on failure."""
import socket
import sys
import time

from scapy.all import IP, TCP, Raw, raw

SRC, DST, PORT = "10.10.0.1", "10.10.0.2", 7


def syn_payload(sport):
    """The SYN's TCP bytes (40: header and options), checksum computed."""
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("WScale", 7)]
    seg = raw(IP(src=SRC, dst=DST) / TCP(sport=sport, dport=PORT, flags="S", seq=1000,
                                         options=opts))[20:]
    assert len(seg) == 40, len(seg)
    return seg


def pieces(seg, ipid, cuts):
    """IP fragments of seg, one per (offset, length) in cuts."""
    out = []
    for off, n in cuts:
        more = off + n < len(seg)
        out.append(raw(IP(src=SRC, dst=DST, id=ipid, proto=6, flags="MF" if more else 0,
                          frag=off // 8) / Raw(seg[off:off + n])))
    return out


def synack_from(rx, sport, secs=2.0):
    """Whether a SYN-ACK from DST:PORT to sport arrives within secs."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        rx.settimeout(max(0.01, end - time.monotonic()))
        try:
            pkt = rx.recv(65535)
        except socket.timeout:
            return False
        ihl = (pkt[0] & 15) * 4
        t = pkt[ihl:]
        if len(t) >= 14 and int.from_bytes(t[0:2], "big") == PORT and \
                int.from_bytes(t[2:4], "big") == sport and t[13] & 0x12 == 0x12:
            return True
    return False


def main():
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    sport = 41000
    frags = pieces(syn_payload(sport), 0x4242, [(24, 8), (0, 24), (32, 8)])
    for f in frags:
        tx.sendto(f, (DST, 0))
    if not synack_from(rx, sport):
        sys.exit("FAIL: no SYN-ACK to a SYN in 3 fragments (24, 8, 8 bytes, out of order)")
    print("ok: a SYN in fragments of 24, 8 and 8 bytes, out of order, gets a SYN-ACK")
    sport = 41001
    frags = pieces(syn_payload(sport), 0x4243, [(o, 8) for o in range(0, 40, 8)])
    for f in frags:
        tx.sendto(f, (DST, 0))
    if synack_from(rx, sport):
        sys.exit("FAIL: a SYN whose first fragment splits the TCP header was answered")
    print("ok: a SYN in 8-byte fragments (the TCP header split, RFC 1858) is dropped")


main()
