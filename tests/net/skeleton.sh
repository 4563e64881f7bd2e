#!/usr/bin/env bash
# The walking skeleton on a real TUN device: ping, UDP echo and discard, port
# unreachable, a clean SIGTERM with counters, and a capture tshark reads.
set -u
. "$(dirname "$0")/netlib.sh"
TCPLAB=$1
tl_net_require
tl_net_start "$TCPLAB" --pcap "$TL_TMP/cap.pcap" --seed 1

tl_in ping -c 5 -i 0.2 -W 2 10.10.0.2 >"$TL_TMP/ping1" || tl_fail "ping -c 5: $(tail -2 "$TL_TMP/ping1")"
grep -q "5 received" "$TL_TMP/ping1" || tl_fail "ping -c 5 lost replies"
tl_ok "ping -c 5"
tl_in ping -s 1400 -c 3 -i 0.2 -W 2 10.10.0.2 >"$TL_TMP/ping2" || tl_fail "ping -s 1400"
grep -q "1408 bytes from 10.10.0.2" "$TL_TMP/ping2" || tl_fail "ping -s 1400: wrong reply size"
tl_ok "ping -s 1400"
tl_in timeout 60 /usr/bin/python3 "$(dirname "$0")/udp_echo.py" || tl_fail "UDP checks"
# Discard: a datagram to port 9 gets no answer and no port unreachable.
tl_in timeout 5 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
s.connect(("10.10.0.2", 9)); s.send(b"into the void")
try:
    s.recv(10); sys.exit("FAIL: discard answered")
except socket.timeout:
    print("ok: UDP discard is silent")
except ConnectionRefusedError:
    sys.exit("FAIL: discard port is closed")' || tl_fail "UDP discard"

tl_net_stop
grep -Eq '^icmp_out_echo_reply +[0-9]+  ICMP echo replies sent$' "$TL_TMP/stderr" ||
	tl_fail "no counters printed at exit (name, value, description)"
replies=$(tl_counter "icmp_out_echo_reply")
[ "$replies" -ge 8 ] || tl_fail "counter says $replies echo replies, expected at least 8"
tl_ok "SIGTERM: exit 0, counters printed ($replies echo replies)"

warnings=$(tshark -r "$TL_TMP/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>"$TL_TMP/tshark.err")
grep -v 'Running as user' "$TL_TMP/tshark.err" | grep -q . && tl_fail "tshark: $(cat "$TL_TMP/tshark.err")"
[ -z "$warnings" ] || tl_fail "tshark warnings in the capture: $warnings"
n=$(tshark -r "$TL_TMP/cap.pcap" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
[ "$n" -eq "$replies" ] || tl_fail "capture has $n echo replies, counters say $replies"
tcpdump -r "$TL_TMP/cap.pcap" -n >/dev/null 2>"$TL_TMP/tcpdump.err" || tl_fail "tcpdump cannot read the capture"
tl_ok "capture: $n echo replies, no tshark warnings"
