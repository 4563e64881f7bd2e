#!/usr/bin/env python3
"""queues_client.py N BYTES: N echo connections to 10.10.0.2:7 at once, each
sending its own BYTES random bytes and reading them back; then 32 UDP echo
datagrams. Prints "echoed: K of N" and "udp: K of 32"; exit 0 if all came back.
Every socket has a 20 s timeout, so the run is bounded."""
import os
import socket
import sys
import threading

N, SIZE = int(sys.argv[1]), int(sys.argv[2])
ok = []
lock = threading.Lock()


def one(i):
    data = os.urandom(SIZE)
    try:
        s = socket.create_connection(("10.10.0.2", 7), timeout=20)
        got = bytearray()
        sent = 0
        while sent < SIZE or len(got) < SIZE:
            if sent < SIZE:
                sent += s.send(data[sent:sent + 16384])
            if len(got) < sent:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        s.close()
        if bytes(got) == data:
            with lock:
                ok.append(i)
    except OSError as e:
        print(f"connection {i}: {e}", file=sys.stderr)


threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
print(f"echoed: {len(ok)} of {N}")

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
udp_ok = 0
for i in range(32):
    u.bind(("10.10.0.1", 0)) if i == 0 else None
    msg = b"udp %d " % i + os.urandom(64)
    u.sendto(msg, ("10.10.0.2", 7))
    try:
        if u.recv(2048) == msg:
            udp_ok += 1
    except OSError:
        pass
print(f"udp: {udp_ok} of 32")
sys.exit(0 if len(ok) == N and udp_ok == 32 else 1)
