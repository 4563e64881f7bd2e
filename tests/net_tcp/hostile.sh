#!/usr/bin/env bash
# Hostile packets on a real link: UDP from a service port gets neither an
# echo nor an ICMP error, a broadcast ping gets no answer, a LAND SYN (from
# tcplab's own address) gets no SYN-ACK, a ping from the subnet's broadcast
# address is dropped; an ordinary datagram still gets its echo. Then
# hostile fragments and IP options (hostile_ip.py): source routes,
# malformed and unknown options, overlaps, duplicates, holes, malformed
# pieces, too many pieces, a storm of datagrams and one of bytes past the
# reassembly bounds, a hole left open until it times out; tcplab stays up,
# answers ping and reassembles afterwards, and its peak memory grows by
# less than 8 MiB (the storm sends 11.8 MB; reassembly holds 4 MiB). Each
# drop shows in tcplab's counters.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
tl_net_start "$TCPLAB"

tl_in timeout 20 /usr/bin/python3 - <<'PY' || tl_fail "the hostile packets got answers"
import select, socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def quiet(sock, secs, what):
    if select.select([sock], [], [], secs)[0]:
        sys.exit("answered: %s: %r" % (what, sock.recv(200)[:40]))

icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for sport in (7, 19, 17, 9):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("0.0.0.0", sport))
    for dport in (7, 65432, 4444):
        u.sendto(b"loop?", ("10.10.0.2", dport))
        quiet(u, 0.3, "UDP from port %d to %d" % (sport, dport))
        quiet(icmp, 0.01, "ICMP error for UDP from port %d to %d" % (sport, dport))
    u.close()
print("ok: no answer and no ICMP error to UDP from service ports")

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"plain", ("10.10.0.2", 7))
if u.recv(100) != b"plain":
    sys.exit("an ordinary UDP echo failed")
print("ok: UDP from an ordinary port is still echoed")

# LAND: a SYN from 10.10.0.2:7 to 10.10.0.2:7, written raw onto tl0.
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src = dst = socket.inet_aton("10.10.0.2")
tcp = struct.pack("!HHIIBBHHH", 7, 7, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
tcp = tcp[:16] + struct.pack("!H", csum(src + dst + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
tcp_rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for _ in range(3):
    raw.sendto(ip + tcp, ("10.10.0.2", 0))
quiet(tcp_rx, 0.5, "LAND SYN")
print("ok: LAND SYNs get no answer")

# A ping from the subnet's broadcast address (tcplab knows the /24).
src = socket.inet_aton("10.10.0.255")
echo = struct.pack("!BBHHH", 8, 0, 0, 77, 1) + b"bcast-src"
echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(echo), 2, 0, 64, 1, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
for _ in range(2):
    raw.sendto(ip + echo, ("10.10.0.2", 0))
print("ok: 2 pings sent from 10.10.0.255")
PY
tl_in ping -b -c 2 -i 0.2 -W 1 10.10.0.255 >"$TL_TMP/ping" 2>&1
grep -q " 0 received" "$TL_TMP/ping" || tl_fail "a broadcast ping was answered: $(cat "$TL_TMP/ping")"
tl_ok "a broadcast ping gets no answer"

# Peak resident memory (KiB), before and after the fragments and options:
# reassembly holds 4 MiB at most, so 8 MiB of growth; under AddressSanitizer
# (its redzones, and the quarantine that keeps freed memory) 64 MiB.
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$TL_PID/status"; }
bound=8192
grep -q __asan_init "$TCPLAB" && bound=65536
before=$(hwm)
tl_in timeout 90 /usr/bin/python3 "$(dirname "$0")/hostile_ip.py" || tl_fail "hostile fragments and options"
after=$(hwm)
[ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -lt $bound ] ||
	tl_fail "tcplab's peak memory grew from ${before:-?} to ${after:-?} KiB under the fragment storm (bound $bound KiB)"
tl_ok "tcplab's peak memory: $before KiB before the fragments, $after KiB after (reassembly holds 4 MiB at most)"
tl_net_stop

for want in "udp_drop_loop_port=12" \
	"ip_drop_land=3" \
	"ip_drop_bad_source=2" \
	"icmp_out_port_unreach=0" \
	"ip_drop_source_route=2" \
	"ip_drop_bad_options=1" \
	"icmp_out_param_problem=1" \
	"ip_frag_drop_overlap=2" \
	"ip_frag_drop_dup=2" \
	"ip_frag_drop_bad=2" \
	"ip_frag_drop_frags=1" \
	"icmp_out_time_exceeded=1"; do
	v=$(tl_counter "${want%=*}")
	[ "${v:-none}" = "${want##*=}" ] || tl_fail "'${want%=*}' is ${v:-none}, want ${want##*=}"
done
drops=$(tl_counter "ip_drop_broadcast_dst")
[ "${drops:-0}" -ge 2 ] || tl_fail "the broadcast pings were not counted as broadcast ($drops)"
tl_ok "every drop counted: 12 loop-guard datagrams, 3 LAND packets, 2 from 10.10.0.255, $drops broadcast"
# The storm: 1000 datagrams past the bound of 256, 11.8 MB past the 4 MiB.
dgrams=$(tl_counter ip_frag_drop_dgrams)
mem=$(tl_counter ip_frag_drop_mem)
timedout=$(tl_counter ip_frag_timeout)
reasm=$(tl_counter ip_frag_reassembled)
[ "${dgrams:-0}" -ge 700 ] && [ "${mem:-0}" -ge 10 ] && [ "${timedout:-0}" -ge 1 ] &&
	[ "${reasm:-0}" -eq 4 ] ||
	tl_fail "reassembly counters: ${dgrams:-none} given up for the datagram bound (700+), ${mem:-none} for memory (10+), ${timedout:-none} timed out (1+), ${reasm:-none} reassembled (4)"
tl_ok "fragments counted: 2 overlaps, 2 duplicates, 2 malformed, 1 with too many pieces, $dgrams past the datagram bound, $mem past the memory bound, $timedout timed out; 4 reassembled"
