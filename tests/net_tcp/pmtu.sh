#!/usr/bin/env bash
# ICMP errors reaching tcplab's connections (issue 16): a router between the
# lab and a second kernel host whose next hop has MTU 1280; tcplab sends
# full 1500-byte segments with DF, the router answers "fragmentation
# needed", and tcplab's segments shrink to fit (RFC 1191), as a server
# (chargen read by the far host) and as a client (--connect). And a
# port unreachable from the kernel's iptables REJECT ends a connect with
# ECONNREFUSED (RFC 1122 4.2.3.9). tcplab runs its default, TUN offload: its
# capture holds super-segments, which the kernel splits at the size
# tl_stack_out_gso_size gives (the lowered MSS, not the link's), so the
# segments are counted where they arrive, on the far host's link, with the
# router's segmentation offload off (it splits them there, in software).
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
command -v tshark >/dev/null || tl_net_skip "tshark is not installed (tools/test installs it)"
FAR="$TL_NS-far" # the second kernel host, 10.20.0.2
cleanup() {
	[ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null
	[ -n "${DUMP:-}" ] && kill "$DUMP" 2>/dev/null
	ip netns del "$FAR" 2>/dev/null
	tl_net_cleanup
}
trap cleanup EXIT

# The lab namespace routes: tl0 (10.10.0.0/24, tcplab) and rt0 (10.20.0.0/24, MTU 1280).
ip netns add "$FAR" || tl_fail "cannot create the far host's namespace"
ip -n "$TL_NS" link add rt0 mtu 1280 type veth peer name far0 netns "$FAR"
ip -n "$TL_NS" addr add 10.20.0.1/24 dev rt0
ip -n "$TL_NS" link set rt0 up
ip -n "$FAR" addr add 10.20.0.2/24 dev far0
ip -n "$FAR" link set lo up
ip -n "$FAR" link set far0 up
ip -n "$FAR" route add default via 10.20.0.1
tl_in sysctl -qw net.ipv4.ip_forward=1
# The far host's end stays at 1500: its SYN offers MSS 1460, so only the
# router's ICMP tells tcplab that the path is narrower.
ip -n "$FAR" link set far0 mtu 1500
ip netns exec "$TL_NS" ethtool -K rt0 tso off gso off >/dev/null 2>&1 ||
	tl_net_skip "ethtool cannot turn the router's segmentation offload off"

# check_capture PCAP: how many ICMP fragmentation needed tcplab received and
# its largest segment before the first (a super-segment, with offload).
check_capture() {
	tshark -r "$1" -T fields -E separator='|' -E occurrence=f -e frame.number -e icmp.type \
		-e icmp.code -e ip.src -e tcp.len 2>/dev/null | awk -F'|' '
		$2 == 3 && $3 == 4 { if (!seen) seen = NR; icmps++ }
		$4 == "10.10.0.2" && $5 > 0 && !seen && $5 > big { big = $5 }
		END { printf "%d %d\n", icmps, big }'
}
# far_start NAME / far_stop NAME: a capture of what reaches the far host from
# tcplab; far_stop prints how many data segments came and the largest (1280 -
# 40 - 12 bytes of timestamps = 1228 at most).
far_start() {
	ip netns exec "$FAR" tcpdump -i far0 -U -s 128 -w "$TL_TMP/$1.pcap" src 10.10.0.2 \
		>/dev/null 2>"$TL_TMP/$1.err" &
	DUMP=$!
	for _ in $(seq 50); do grep -q listening "$TL_TMP/$1.err" 2>/dev/null && break; sleep 0.1; done
	grep -q listening "$TL_TMP/$1.err" || tl_fail "tcpdump on the far host: $(cat "$TL_TMP/$1.err")"
}
far_stop() {
	sleep 0.2
	kill "$DUMP"
	wait "$DUMP" 2>/dev/null
	DUMP=""
	tshark -r "$TL_TMP/$1.pcap" -T fields -e tcp.len 2>/dev/null |
		awk '$1 > 0 { n++; if ($1 > max) max = $1 } END { printf "%d %d\n", n, max }'
}

far_start far_server
tl_net_start "$TCPLAB" --services chargen --pcap "$TL_TMP/server.pcap" --trace --seed 11
out=$(ip netns exec "$FAR" timeout 30 /usr/bin/python3 -c '
import socket
s = socket.create_connection(("10.10.0.2", 19), timeout=20)
got = 0
while got < 2_000_000:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
print(got)') || tl_fail "the far host reading chargen through the router: $out"
[ "$out" -ge 2000000 ] || tl_fail "the far host read $out bytes of chargen"
tl_net_stop
read -r icmps big < <(check_capture "$TL_TMP/server.pcap")
read -r after max < <(far_stop far_server)
grep -q "tcplab: offload on" "$TL_TMP/stderr" || tl_fail "not offload on: $(head -1 "$TL_TMP/stderr")"
[ "$icmps" -ge 1 ] && [ "$big" -gt 1228 ] && [ "$after" -gt 100 ] && [ "$max" -le 1228 ] ||
	tl_fail "server: $icmps fragmentation needed, $big before, $after segments at the far host of at most $max bytes"
grep -q "path MTU 1280: segments of 1228 bytes from now on" "$TL_TMP/stdout" ||
	tl_fail "no path MTU line in the trace: $(grep -m3 -i mtu "$TL_TMP/stdout")"
lowered=$(tl_counter "tcp_pmtu_lowered")
tl_ok "tcplab as a server: $big-byte segments, then $icmps ICMP fragmentation needed (MTU 1280); $after segments of at most $max bytes reached the far host, 2 MB read; lowered $lowered time(s)"

# As a client: --connect sends 2 MB to the far host through the router.
head -c 2000000 /dev/zero >"$TL_TMP/2mb"
ip netns exec "$FAR" timeout 60 /usr/bin/python3 -c '
import socket
ls = socket.socket()
ls.bind(("10.20.0.2", 5000))
ls.listen()
print("listening", flush=True)
c, _ = ls.accept()
got = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
print("got", got, flush=True)' >"$TL_TMP/sink" 2>&1 &
SINK=$!
for _ in $(seq 50); do grep -q listening "$TL_TMP/sink" && break; sleep 0.1; done
far_start far_client
tl_in timeout 60 "$TCPLAB" --services none --pcap "$TL_TMP/client.pcap" --trace \
	--connect 10.20.0.2:5000 <"$TL_TMP/2mb" >"$TL_TMP/client.out" 2>"$TL_TMP/client.err" ||
	tl_fail "tcplab --connect through the router: $(tail -5 "$TL_TMP/client.err")"
wait "$SINK"
SINK=""
grep -q "got 2000000" "$TL_TMP/sink" || tl_fail "the far host got: $(cat "$TL_TMP/sink")"
read -r icmps big < <(check_capture "$TL_TMP/client.pcap")
read -r after max < <(far_stop far_client)
[ "$icmps" -ge 1 ] && [ "$big" -gt 1228 ] && [ "$after" -gt 100 ] && [ "$max" -le 1228 ] ||
	tl_fail "client: $icmps fragmentation needed, $big before, $after segments at the far host of at most $max bytes"
grep -q "path MTU 1280" "$TL_TMP/client.err" || tl_fail "no path MTU line in the client's trace"
tl_ok "tcplab --connect as a client: $icmps fragmentation needed, then $after segments of at most $max bytes at the far host; 2 MB arrived"

# Port unreachable from the kernel: iptables REJECT in the lab namespace.
tl_net_start "$TCPLAB" --services none --seed 12
tl_in iptables -A INPUT -p tcp --dport 6997 -j REJECT --reject-with icmp-port-unreachable
out=$(tl_in timeout 10 "$TCPLAB" run -- /usr/bin/python3 -c '
import errno, socket, time
t = time.time()
try:
    socket.create_connection(("10.10.0.1", 6997), timeout=8)
    print("connected")
except OSError as e:
    print(errno.errorcode[e.errno], round(time.time() - t, 2))')
[ "${out%% *}" = ECONNREFUSED ] && awk -v t="${out#* }" 'BEGIN { exit !(t < 2) }' ||
	tl_fail "connect to a port the kernel rejects with ICMP: $out"
hard=$(tl_in "$TCPLAB" stats | tl_counter_of tcp_icmp_hard)
[ "$hard" = 1 ] || tl_fail "tcp_icmp_hard is '$hard'"
tl_ok "an ICMP port unreachable (iptables REJECT) ends a connect: ${out%% *} after ${out#* } s"
