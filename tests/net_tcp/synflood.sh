#!/usr/bin/env bash
# A SYN flood (RFC 4987): hping3 sends spoofed SYNs at echo as fast as it can,
# for 10 s, inside the test's own namespace. The backlog fills, tcplab answers
# with SYN cookies, and meanwhile a new connection to echo succeeds within
# 2 s and one opened before the flood keeps exchanging data. synflood.sh TCPLAB
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
command -v hping3 >/dev/null || tl_net_skip "no hping3 (Debian package hping3)"
tl_net_require
tl_net_start "$TCPLAB" --seed 3
FLOOD_S=10
HPING=""
trap '[ -n "$HPING" ] && kill "$HPING" 2>/dev/null; tl_net_cleanup' EXIT

# The counter's latest value: SIGUSR1 makes tcplab print them all again.
counter_now() {
	local before
	before=$(tl_counter "$1" | wc -l)
	kill -USR1 "$TL_PID"
	for _ in $(seq 20); do
		[ "$(tl_counter "$1" | wc -l)" -gt "$before" ] && break
		sleep 0.05
	done
	tl_counter "$1" | tail -1
}

# An established echo connection, exchanging 64 bytes every 50 ms until told
# to stop; each round trip must finish within 8 s (a few kernel RTOs), flood or not.
tl_in timeout 60 /usr/bin/python3 -c '
import os, socket, sys, time
s = socket.create_connection(("10.10.0.2", 7), timeout=8)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
open(sys.argv[1] + "/ready", "w").close()
n, worst = 0, 0.0
while not os.path.exists(sys.argv[1] + "/stop"):
    msg = b"%063d\n" % n
    t = time.monotonic()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(len(msg) - len(got))
        if not chunk:
            sys.exit("FAIL: echo closed the connection after %d round trips" % n)
        got += chunk
    if got != msg:
        sys.exit("FAIL: round trip %d came back wrong" % n)
    worst = max(worst, time.monotonic() - t)
    n += 1
    time.sleep(0.05)
print("%d %.3f" % (n, worst))
' "$TL_TMP" >"$TL_TMP/steady" 2>&1 &
STEADY=$!
for _ in $(seq 100); do [ -e "$TL_TMP/ready" ] && break; sleep 0.05; done
[ -e "$TL_TMP/ready" ] || tl_fail "the established connection did not come up"

# A sanitizer build reads a fifth as fast and the TUN queue drops a fifth of
# a full flood, new SYNs included: there the flood is paced (hping3 -i u40,
# about 11,000 SYNs a second here, still a hundred times the backlog).
RATE=(--flood)
if [ "${TL_SANITIZED:-0}" = 1 ]; then
	RATE=(-i u40)
	echo "note: sanitizer build: the flood is paced at one SYN per 40 us"
fi
tl_in timeout "$FLOOD_S" hping3 -S -p 7 "${RATE[@]}" --rand-source 10.10.0.2 >"$TL_TMP/hping" 2>&1 &
HPING=$!
START=$(date +%s.%N)
# Wait until the flood has filled the backlog: cookies are being sent.
sent=0
for _ in $(seq 50); do
	sent=$(counter_now "tcp_syncookies_sent")
	[ "${sent:-0}" -gt 0 ] && break
	sleep 0.1
done
[ "${sent:-0}" -gt 0 ] || tl_fail "no SYN cookies after 5 s of flood: $(tail -3 "$TL_TMP/hping")"
tl_ok "the flood filled the backlog: $sent SYN cookies sent so far"

# A new connection during the flood: its handshake goes through a cookie.
# Within 5 s: under the flood a reply can meet a full TUN queue and wait
# for its retransmission (one fresh-clone run of 2 took longer than 2 s).
tl_in timeout 10 /usr/bin/python3 -c '
import socket, sys, time
t = time.monotonic()
s = socket.create_connection(("10.10.0.2", 7), timeout=5)
s.sendall(b"still here\n")
s.settimeout(max(0.1, 5 - (time.monotonic() - t)))
got = b""
while len(got) < 11:
    chunk = s.recv(64)
    if not chunk:
        break
    got += chunk
dt = time.monotonic() - t
if got != b"still here\n" or dt > 5:
    sys.exit("FAIL: new connection: %r after %.2f s" % (got, dt))
print("ok: a new connection to echo during the flood: connected and echoed in %.3f s" % dt)
' || tl_fail "a new connection during the flood failed"
kill -0 "$HPING" 2>/dev/null || tl_fail "the flood ended before the new connection was tried"

wait "$HPING"
HPING=""
# The kernel side of tl0 transmits to tcplab: what its queue dropped is what
# tcplab could not read in time.
read -r txp txd < <(tl_in ip -s link show tl0 | awk '/TX:/ { getline; print $2, $4 }')
END=$(date +%s.%N)
touch "$TL_TMP/stop"
wait "$STEADY" || tl_fail "the established connection: $(cat "$TL_TMP/steady")"
read -r trips worst <"$TL_TMP/steady"
[ "$trips" -ge 20 ] || tl_fail "the established connection made only $trips round trips"
tl_ok "the established connection kept flowing: $trips round trips, worst $worst s, over a $(awk "BEGIN { printf \"%.1f\", $END - $START }") s flood"

tl_net_stop
sent=$(tl_counter "tcp_syncookies_sent" | tail -1)
ok=$(tl_counter "tcp_syncookies_ok" | tail -1)
syns=$(tl_counter "tcp_in" | tail -1)
[ "$sent" -gt 1000 ] || tl_fail "only $sent SYN cookies sent"
[ "$ok" -ge 1 ] || tl_fail "no connection was made from a cookie"
tl_ok "counters: $syns TCP segments in, $sent SYN cookies sent, $ok returned valid; the TUN queue passed $txp packets and dropped $txd"
