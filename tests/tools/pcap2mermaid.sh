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
