#!/usr/bin/env bash
# Slow start on the wire: over a 50 ms round trip (25 ms each way, the stack's
# own delay injection), chargen's data segments per round trip start at no
# more than 10 (RFC 6928) and roughly double each round (RFC 5681 3.1).
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
tl_net_start "$TCPLAB" --delay 25ms --pcap "$TL_TMP/ss.pcap" --seed 5
tl_in timeout 30 /usr/bin/python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(10)
s.connect(("10.10.0.2", 19))
n = 0
while n < (3 << 20):
    b = s.recv(1 << 16)
    if not b: break
    n += len(b)
s.close()' || tl_fail "chargen client"
tl_net_stop
# Send times of our data segments; a gap of 20 ms or more starts a new round.
tshark -r "$TL_TMP/ss.pcap" -Y 'ip.src == 10.10.0.2 && tcp.len > 0' \
	-T fields -e frame.time_relative 2>/dev/null >"$TL_TMP/times"
rounds=$(awk 'NR == 1 || $1 - prev > 0.020 { if (NR > 1) printf "%d ", n; n = 0 }
	{ n++; prev = $1 } END { printf "%d\n", n }' "$TL_TMP/times")
echo "data segments per round trip: $rounds"
read -r -a r <<<"$rounds"
[ "${#r[@]}" -ge 4 ] || tl_fail "only ${#r[@]} rounds in the capture"
[ "${r[0]}" -le 10 ] || tl_fail "first round sent ${r[0]} segments, more than the initial window of 10"
for i in 1 2 3; do
	prev=${r[$((i - 1))]} cur=${r[$i]}
	# Roughly double: between 1.5x and 2.5x the round before.
	if [ $((cur * 2)) -lt $((prev * 3)) ] || [ $((cur * 2)) -gt $((prev * 5)) ]; then
		tl_fail "round $((i + 1)) sent $cur segments after $prev: not doubling"
	fi
done
tl_ok "slow start: ${r[0]}, ${r[1]}, ${r[2]}, ${r[3]} segments in the first rounds"
