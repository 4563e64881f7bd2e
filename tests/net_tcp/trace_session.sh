#!/usr/bin/env bash
# One echo session as a student sees it: nc prints hello and exits by itself,
# the trace shows the handshake, data, both FINs and the states, and the
# capture has no TCP analysis warnings.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
tl_net_start "$TCPLAB" --trace --pcap "$TL_TMP/s.pcap" --seed 3
out=$(echo hello | tl_in timeout 5 nc -N 10.10.0.2 7) || tl_fail "nc did not exit by itself"
[ "$out" = hello ] || tl_fail "nc printed '$out'"
tl_ok "echo hello | nc -N 10.10.0.2 7 printed hello and exited"
tl_net_stop

t="$TL_TMP/stdout"
expect() { grep -Eq -- "$1" "$t" || { cat "$t" >&2; tl_fail "trace lacks: $2"; }; }
expect 'in  10\.10\.0\.1:[0-9]+ > 10\.10\.0\.2:7 Flags \[S\]' "the SYN"
expect 'LISTEN -> SYN_RECEIVED' "the passive open, LISTEN -> SYN_RECEIVED (RFC 9293 3.10.7.2)"
expect 'out 10\.10\.0\.2:7 > .* Flags \[S\.\], seq 0, ack 1,' "the SYN-ACK"
expect 'SYN_RECEIVED -> ESTABLISHED' "ESTABLISHED"
expect 'in  .* Flags \[\.\], seq 1, ack 1, win ([0-9]+) \([0-9]+\), options' "the third segment's window, raw and scaled"
expect 'RTT sample [0-9.]+ ms: srtt [0-9.]+ ms, rttvar [0-9.]+ ms, rto [0-9.]+ ms' "an RTT sample"
expect 'in  .* Flags \[P\.\], seq 1, ack 1, .*length 6' "the data"
expect 'out .* Flags \[P\.\], seq 1, ack 7, .*length 6' "the echo"
expect 'in  .* Flags \[F\.\], seq 7,' "the client's FIN"
expect 'ESTABLISHED -> CLOSE_WAIT' "CLOSE_WAIT"
expect 'CLOSE_WAIT -> LAST_ACK' "LAST_ACK"
expect 'out .* Flags \[F\.\], seq 7, ack 8' "our FIN"
expect 'in  .* Flags \[\.\], seq 8, ack 8' "the ACK of our FIN"
expect 'LAST_ACK -> CLOSED' "CLOSED"
# The scaled window is the field shifted by the sender's wscale (RFC 7323 2.3).
awk '/ in  .*Flags \[S\]/ && match($0, /wscale [0-9]+/) { ws = substr($0, RSTART + 7, RLENGTH - 7) + 0 }
	/ in  .*Flags \[\.\], seq 1, ack 1, win [0-9]+ \(/ && !done {
		for (i = 1; i <= NF; i++) if ($i == "win") { raw = $(i + 1) + 0; scaled = substr($(i + 2), 2) + 0 }
		done = 1 }
	END { exit !(done && scaled == raw * 2 ^ ws) }' "$t" || tl_fail "the scaled window is not the field << wscale"
tl_ok "the trace shows SYN, SYN-ACK, ACK, data, FIN, ACK, FIN, ACK, the states, an RTT sample and scaled windows"

flags=$(tshark -r "$TL_TMP/s.pcap" -Y 'tcp.analysis.flags && !tcp.analysis.window_update' 2>/dev/null)
[ -z "$flags" ] || tl_fail "tshark TCP analysis warnings: $flags"
n=$(tshark -r "$TL_TMP/s.pcap" -Y tcp 2>/dev/null | wc -l)
[ "$n" -ge 8 ] || tl_fail "the capture has only $n TCP segments"
tl_ok "the capture ($n segments) has no TCP analysis warnings"
