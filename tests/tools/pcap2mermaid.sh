#!/usr/bin/env bash
# tools/pcap2mermaid on the capture library: the handshake in order, the
# notes it promises, the arrow cap, and a clear error on a broken file.
set -u
tool=$1 captures=$2
fail() { echo "FAIL: $*"; exit 1; }
out=$("$tool" "$captures/echo.pcap") || fail "echo.pcap: exit $?"
[ "$(sed -n 1p <<<"$out")" = sequenceDiagram ] || fail "no sequenceDiagram header"
first3=$(grep -- '->>' <<<"$out" | head -3 | sed 's/ win=.*//')
expected='    C->>S: SYN seq=0
    S->>C: SYN-ACK seq=0 ack=1
    C->>S: ACK seq=1 ack=1'
[ "$first3" = "$expected" ] || fail "handshake arrows:
$first3"
grep -q 'S->>C: FIN-ACK seq=7 ack=8' <<<"$out" || fail "no FIN from the server"
echo "ok: echo.pcap starts SYN, SYN-ACK, ACK with relative numbers"
"$tool" "$captures/rto.pcap" --max 1000 | grep -q 'Note over S: retransmission' || fail "rto.pcap: no retransmission note"
"$tool" "$captures/zero_window.pcap" --max 1000 | grep -q 'Note over C: zero window' || fail "zero_window.pcap: no zero-window note"
"$tool" "$captures/rst_closed_port.pcap" | grep -q 'connection reset' || fail "rst: no reset note"
echo "ok: retransmission, zero-window and reset notes"
n=$("$tool" "$captures/transfer_1m.pcap" --max 20 | grep -c -- '->>')
[ "$n" -eq 20 ] || fail "--max 20 drew $n arrows"
"$tool" "$captures/ping.pcap" | grep -q 'ICMP echo reply' || fail "ping.pcap: no echo reply"
echo "ok: --max caps the arrows; ICMP captures draw too"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
head -c 500 /dev/urandom >"$tmp"
err=$("$tool" "$tmp" 2>&1) && fail "a broken file was accepted"
grep -q "^pcap2mermaid: .*not a readable pcap" <<<"$err" || fail "unclear error: $err"
echo "ok: broken file: $err"
out=$("$tool" "$captures/rto.pcap" --around timeout --max 10) || fail "--around timeout: exit $?"
grep -q 'Note over C,S: ... [0-9]* earlier packets not drawn' <<<"$out" || fail "--around: no skipped note"
grep -Eq 'Note over S: retransmission \(timeout: [0-9]+ ms of silence\)' <<<"$out" || fail "--around timeout: no timeout note"
"$tool" "$captures/echo.pcap" --around reset >/dev/null 2>&1 && fail "--around reset on a capture without one"
echo "ok: --around starts at the first timeout"
sum=$("$tool" --summary "$captures/udp_echo.pcap" "$captures/echo.pcap") || fail "--summary: exit $?"
grep -q '^| .*udp_echo.pcap | UDP | 2 | [0-9]* | 12 | .* | 1 |$' <<<"$sum" || fail "UDP summary: $sum"
grep -q '^| .*echo.pcap | TCP | [0-9]* | [0-9]* | 12 | .* | 3 |$' <<<"$sum" || fail "TCP summary: $sum"
echo "ok: --summary: UDP echo 1 round trip, TCP echo 3"
out=$("$tool" "$captures/out_of_order.pcap" --around out-of-order --max 8) || fail "out_of_order.pcap: exit $?"
grep -q 'Note over C: out of order: 1448 bytes before it are missing' <<<"$out" || fail "no out-of-order note"
grep -Eq 'S->>C: ACK seq=1 ack=1 win=[0-9]+ sack=1449-2897$' <<<"$out" || fail "no SACK block: $out"
"$tool" "$captures/challenge_ack.pcap" | grep -q 'a SYN with another ISN on the open connection' || fail "no forged-SYN note"
echo "ok: out-of-order arrivals, SACK blocks and a forged SYN"
out=$("$tool" "$captures/linux_frag.pcap") || fail "linux_frag.pcap: exit $?"
grep -Eq 'A->>B: IP id=[0-9]+ off=0 len=1480 MF: ICMP echo request id=[0-9]+ seq=1$' <<<"$out" &&
	grep -Eq 'B->>A: IP id=[0-9]+ off=1480 len=528$' <<<"$out" &&
	grep -Eq 'B->>A: IP id=[0-9]+ off=0 len=1480 MF: UDP 7 to [0-9]+ len=3000$' <<<"$out" &&
	grep -Eq 'B->>A: IP id=[0-9]+ off=2960 len=48$' <<<"$out" || fail "fragments: $out"
"$tool" "$captures/ip_frag.pcap" | grep -Eq 'B->>A: options RR,EOL: ICMP echo reply id=[0-9]+ seq=1$' ||
	fail "no options in ip_frag.pcap"
out=$("$tool" "$captures/pmtu.pcap" --max 20) || fail "pmtu.pcap: exit $?"
grep -q '    participant R1 as Router 10.10.0.1' <<<"$out" &&
	grep -q 'R1->>S: ICMP fragmentation needed mtu=1280 about seq=1 len=1448$' <<<"$out" ||
	fail "no fragmentation needed in pmtu.pcap: $out"
echo "ok: fragments (id, offset, length, MF), options, and a router's fragmentation needed about a segment"
out=$("$tool" --ip-headers "$captures/ip_frag.pcap") || fail "--ip-headers: exit $?"
[ "$(grep -c '^| [0-9]' <<<"$out")" -eq 6 ] || fail "--ip-headers: not one row per IPv4 packet: $out"
grep -Eq '^\| 3 \| 10.10.0.1 > 10.10.0.2 \| 4 \| 20 \| 0x00 \| 548 \| [0-9]+ \| 0 \| 0 \| 1480 \| 64 \| ICMP \| 0x[0-9a-f]{4} ok \| - \|$' <<<"$out" &&
	grep -Eq '^\| 6 \| .* \| 60 \| 0x00 \| 124 \| [0-9]+ \| 1 \| 0 \| 0 \| 64 \| ICMP \| 0x[0-9a-f]{4} ok \| NOP,RR \|$' <<<"$out" ||
	fail "--ip-headers: the second fragment or the RR request: $out"
# The RR request's TTL changed, its checksum left as it was.
/usr/bin/python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
at = d.index(b"\x4f\x00\x00\x7c")
d[at + 8] -= 1
open(sys.argv[2], "wb").write(d)' "$captures/ip_frag.pcap" "$tmp" || fail "cannot alter ip_frag.pcap"
"$tool" --ip-headers "$tmp" 2>/dev/null | grep -q ' wrong | NOP,RR |$' || fail "--ip-headers: a wrong checksum is not told"
echo "ok: --ip-headers: one row per IPv4 packet, fragment fields, options, and checksums checked"
