#!/usr/bin/env bash
# tcplab as the client: --connect to a Linux listener in the namespace and
# exchange data both ways.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require

# A Linux server on the kernel side: reads until EOF, answers, closes.
tl_in timeout 20 /usr/bin/python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 5000))  # tl0 does not exist until tcplab starts
l.listen(1); l.settimeout(15)
print("listening", flush=True)
c, peer = l.accept(); c.settimeout(10)
got = b""
while True:
    b = c.recv(65536)
    if not b: break
    got += b
open(sys.argv[1], "wb").write(got)
c.sendall(b"hello from linux, you sent %d bytes\n" % len(got))
c.close()' "$TL_TMP/server_got" >"$TL_TMP/server_out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q listening "$TL_TMP/server_out" 2>/dev/null && break; sleep 0.05; done

head -c 300000 /dev/urandom >"$TL_TMP/payload"
tl_in timeout 20 "$TCPLAB" --connect 10.10.0.1:5000 <"$TL_TMP/payload" \
	>"$TL_TMP/client_out" 2>"$TL_TMP/client_err"
rc=$?
wait $server || tl_fail "the Linux server failed: $(cat "$TL_TMP/server_out")"
[ $rc -eq 0 ] || tl_fail "tcplab --connect exited $rc: $(tail -5 "$TL_TMP/client_err")"
cmp -s "$TL_TMP/payload" "$TL_TMP/server_got" || tl_fail "the server did not get the payload intact"
grep -q "hello from linux, you sent 300000 bytes" "$TL_TMP/client_out" ||
	tl_fail "tcplab did not print the answer: $(cat "$TL_TMP/client_out")"
tl_ok "tcplab connected out, sent 300000 bytes intact and printed the answer"
