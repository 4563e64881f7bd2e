#!/usr/bin/python3
"""UDP checks against tcplab: random datagrams echoed byte-identical on the
echo ports, and a closed port answered with ICMP port unreachable."""
import os
import random
import socket
import sys

HOST = "10.10.0.2"


def echo(port, count, rng):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for i in range(count):
        data = rng.randbytes(rng.randint(1, 1472))
        for attempt in range(3):  # UDP may drop; three tries, then fail
            s.sendto(data, (HOST, port))
            try:
                got, peer = s.recvfrom(2048)
                break
            except socket.timeout:
                continue
        else:
            sys.exit(f"FAIL: datagram {i} ({len(data)} bytes) to port {port}: no echo")
        if got != data or peer != (HOST, port):
            sys.exit(f"FAIL: datagram {i} to port {port}: echo differs")
    print(f"ok: {count} random datagrams echoed on port {port}")


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.connect((HOST, 4444))
    s.send(b"anyone there?")
    try:
        s.recv(100)
    except ConnectionRefusedError:
        print("ok: closed UDP port answered with ICMP port unreachable")
        return
    except socket.timeout:
        sys.exit("FAIL: closed UDP port: no ICMP port unreachable")
    sys.exit("FAIL: closed UDP port answered with data")


rng = random.Random(int(os.environ.get("TL_SEED", "1")))
echo(7, 100, rng)
echo(65432, 100, rng)
closed_port()
