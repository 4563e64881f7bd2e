#!/usr/bin/env bash
# The receive buffer on TUN holds at least 16 segments: of the MTU's MSS, or
# with TSO (offload on, the default) of the kernel's 64 KiB super-segments.
# So the window tcplab offers a Linux sender grows past 1 MB at MTU 65000
# (256 KiB would be four segments, and RFC 9293 3.8.6.2.2 moves the edge
# only by an MSS) and at MTU 1500 with offload, but stays at 256 KiB at MTU
# 1500 with --offload off; an explicit --rcvbuf still bounds it.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
# max_window TCPLAB_ARGS...: the largest scaled window tcplab sent while 8 MB went into discard.
max_window() {
	rm -f "$TL_TMP/w.pcap"
	tl_net_start "$TCPLAB" --pcap "$TL_TMP/w.pcap" "$@"
	tl_in timeout 60 /usr/bin/python3 -c '
import socket
s = socket.create_connection(("10.10.0.2", 9), timeout=30)
s.sendall(b"d" * (8 << 20))
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()' || tl_fail "discard client ($*)"
	tl_net_stop
	tshark -r "$TL_TMP/w.pcap" -Y 'ip.src == 10.10.0.2 && tcp.flags.syn == 0' \
		-T fields -e tcp.window_size 2>/dev/null | sort -n | tail -1
}
def=$(max_window --mtu 65000)
[ -n "$def" ] && [ "$def" -ge 1000000 ] || tl_fail "at MTU 65000 the window stayed at ${def:-nothing}, below 1 MB"
set_=$(max_window --mtu 65000 --rcvbuf 262144)
[ -n "$set_" ] && [ "$set_" -le 262144 ] || tl_fail "with --rcvbuf 262144 the window reached ${set_:-nothing}"
tso=$(max_window --mtu 1500)
[ -n "$tso" ] && [ "$tso" -ge 1000000 ] || tl_fail "at MTU 1500 with TSO the window stayed at ${tso:-nothing}, below 1 MB"
off=$(max_window --mtu 1500 --offload off)
[ -n "$off" ] && [ "$off" -le 262144 ] || tl_fail "at MTU 1500 with --offload off the window reached ${off:-nothing}"
tl_ok "window up to $def bytes at MTU 65000 ($set_ with --rcvbuf 262144), $tso at 1500 with TSO, $off without"
