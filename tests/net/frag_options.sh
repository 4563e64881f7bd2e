#!/usr/bin/env bash
# Fragments and IP options on a real TUN device: ping -s 2000 (the kernel
# fragments the request, tcplab reassembles it and fragments its reply),
# ping -s 65000 and -s 65507 (44 and 45 pieces, the second a datagram of
# 65535 bytes, the IPv4 limit), ping -R (Record Route comes back with
# 10.10.0.2 in it), UDP datagrams of 5000, 8000 and 65507 bytes echoed
# intact, a SYN to port 7 in fragments built with scapy answered and a tiny
# first fragment dropped; the counters in tcplab stats and the trace show
# each.
set -u
. "$(dirname "$0")/netlib.sh"
TCPLAB=$1
tl_net_require
tl_net_start "$TCPLAB" --trace --seed 1

tl_in ping -s 2000 -c 3 -i 0.2 -W 2 10.10.0.2 >"$TL_TMP/ping_big" ||
	tl_fail "ping -s 2000: $(tail -2 "$TL_TMP/ping_big")"
grep -q "3 received" "$TL_TMP/ping_big" || tl_fail "ping -s 2000 lost replies"
grep -q "2008 bytes from 10.10.0.2" "$TL_TMP/ping_big" || tl_fail "ping -s 2000: wrong reply size"
tl_ok "ping -s 2000: 3 replies of 2008 bytes"

# RFC 791 3.1: a total length of 65535 bytes at most; 65507 of data fills it.
tl_in ping -s 65000 -c 2 -i 0.3 -W 3 10.10.0.2 >"$TL_TMP/ping_65000" ||
	tl_fail "ping -s 65000: $(tail -2 "$TL_TMP/ping_65000")"
grep -q "2 received" "$TL_TMP/ping_65000" && grep -q "^65008 bytes from 10.10.0.2" "$TL_TMP/ping_65000" ||
	tl_fail "ping -s 65000: $(cat "$TL_TMP/ping_65000")"
tl_in ping -s 65507 -c 1 -W 3 10.10.0.2 >"$TL_TMP/ping_65507" ||
	tl_fail "ping -s 65507: $(tail -2 "$TL_TMP/ping_65507")"
grep -q "^65515 bytes from 10.10.0.2" "$TL_TMP/ping_65507" || tl_fail "ping -s 65507: $(cat "$TL_TMP/ping_65507")"
tl_ok "ping -s 65000: 2 replies of 65008 bytes; ping -s 65507 (a 65535-byte datagram): its reply"

tl_in ping -R -c 2 -i 0.2 -W 2 10.10.0.2 >"$TL_TMP/ping_rr" ||
	tl_fail "ping -R: $(tail -2 "$TL_TMP/ping_rr")"
grep -q "2 received" "$TL_TMP/ping_rr" || tl_fail "ping -R lost replies"
grep -A4 '^RR:' "$TL_TMP/ping_rr" | grep -q '10\.10\.0\.2' ||
	tl_fail "ping -R: no 10.10.0.2 in the recorded route: $(cat "$TL_TMP/ping_rr")"
tl_ok "ping -R: the route came back with 10.10.0.2: $(grep -A4 '^RR:' "$TL_TMP/ping_rr" | head -4 | tr -s ' \t\n' ' ')"

tl_in timeout 20 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
for n in (5000, 8000, 65507):
    data = bytes((i * 7 + n) % 251 for i in range(n))
    s.sendto(data, ("10.10.0.2", 7))
    got, _ = s.recvfrom(65535)
    if got != data:
        sys.exit("FAIL: the %d-byte echo came back as %d bytes, %s" % (n, len(got),
                 "the same length" if len(got) == n else "another length"))' ||
	tl_fail "UDP 5000, 8000 and 65507 bytes to echo"
tl_ok "UDP: 5000, 8000 and 65507 bytes echoed intact (fragmented both ways)"

tl_in timeout 20 /usr/bin/python3 "$(dirname "$0")/frag_syn.py" || tl_fail "SYN in fragments"

stat() { tl_in "$TCPLAB" stats | awk -v d="$1" '{v=$1; $1=""; sub(/^ /,""); if ($0 == d) print v}'; }
reasm=$(stat "IP datagrams reassembled from fragments")
out=$(stat "IP datagrams sent in fragments: larger than the MTU")
tiny=$(stat "IP fragments dropped: TCP header split (RFC 1858)")
opts=$(stat "ICMP echo replies with the request's Record Route or Timestamp, updated")
# 6 pings, 3 UDP datagrams, 1 SYN in; 6 replies and 3 UDP echoes out.
[ "${reasm:-0}" -ge 10 ] || tl_fail "tcplab stats: $reasm datagrams reassembled, expected 10 or more"
[ "${out:-0}" -ge 9 ] || tl_fail "tcplab stats: $out datagrams sent in fragments, expected 9 or more"
[ "${tiny:-0}" -eq 2 ] || tl_fail "tcplab stats: $tiny tiny TCP fragments dropped, expected 2"
[ "${opts:-0}" -ge 2 ] || tl_fail "tcplab stats: $opts echo replies with options, expected 2 or more"
tl_ok "tcplab stats: $reasm reassembled, $out sent in fragments, $tiny tiny dropped, $opts with RR"

tl_net_stop
t=$TL_TMP/stdout
grep -q 'in  IP 10.10.0.1 > ICMP fragment id [0-9]* off 1480 len 528$' "$t" ||
	tl_fail "trace: no second fragment of the ping: $(grep fragment "$t" | head -3)"
grep -q 'reassembled: ICMP 2008 bytes from 2 fragments' "$t" || tl_fail "trace: no reassembly line"
grep -q 'reassembled: ICMP 65008 bytes from 44 fragments' "$t" || tl_fail "trace: ping -s 65000 not in 44 pieces"
grep -q 'reassembled: ICMP 65515 bytes from 45 fragments' "$t" || tl_fail "trace: ping -s 65507 not in 45 pieces"
grep -q 'reassembled: UDP 8008 bytes from 6 fragments' "$t" || tl_fail "trace: the 8000-byte datagram not in 6 pieces"
grep -q 'out IP 10.10.0.1 < fragment id [0-9]* off 65120 len 395$' "$t" ||
	tl_fail "trace: the last piece of the 65535-byte reply: $(grep 'out IP .* off 6[0-9]* ' "$t" | tail -2)"
grep -q 'out IP 10.10.0.1 < fragment id [0-9]* off 0 len 1480 MF$' "$t" ||
	tl_fail "trace: the reply's first fragment is not there"
grep -q 'in  IP 10.10.0.1 > options NOP,RR 1/9' "$t" || tl_fail "trace: no RR option in: $(grep options "$t" | head -2)"
grep -q 'out IP 10.10.0.1 < options RR 2/9' "$t" || tl_fail "trace: no RR option out"
grep -q 'fragment dropped: tiny first TCP fragment' "$t" || tl_fail "trace: the tiny fragment's drop"
tl_ok "trace: fragments in and out, the reassemblies (2, 44, 45 and 6 pieces), RR in and out, the tiny fragment"
