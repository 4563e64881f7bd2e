#!/usr/bin/env bash
# tools/plot-seq on the capture library: PNG and SVG that are what they say,
# what --dump says it draws (the RTO capture's timeouts and probes, a zero
# window and its probes, window scaling, SACK blocks), the same graph from
# pcapng, Linux cooked and IPv6 copies, the choice of connection, and one
# clear line for each error.
set -u
tool=$1 captures=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The images: PNG by its magic and size, SVG by an XML parser and its legend.
out=$("$tool" "$captures/rto.pcap" -o "$tmp/rto.png" -o "$tmp/rto.svg") || fail "rto.pcap: exit $?"
echo "$out"
grep -q -- "-> $tmp/rto.png, $tmp/rto.svg\$" <<<"$out" || fail "the summary does not name the outputs"
[ "$(head -c 8 "$tmp/rto.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"
[ "$(stat -c %s "$tmp/rto.png")" -gt 20000 ] || fail "PNG too small to hold a graph"
python3 - "$tmp/rto.svg" <<'PY' || fail "the SVG is not a graph"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
text = " ".join(t for t in root.itertext())
for label in ("data segment", "retransmission (R)", "retransmission after a timeout (RTO)",
              "loss probe", "ACK", "receive window", "SACK block", "time (s)",
              "relative sequence number"):
    assert label in text, f"no '{label}' in the SVG"
assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 20, "hardly anything drawn"
PY
echo "ok: rto.pcap as PNG and SVG (the SVG parses and has its legend)"

# What is drawn. rto.pcap (docs/07): seq 37649 is resent, lost again, and
# goes a third time after a 200 ms silence, an RTO, a fourth after 400 ms;
# tcplab's replay of it counts eight timeouts and five loss probes
# (captures/rto.md).
"$tool" --dump "$captures/rto.pcap" >"$tmp/rto.dump" || fail "--dump: exit $?"
grep -Eq '^retransmission 0\.0[0-9]+ 37649 39097$' "$tmp/rto.dump" || fail "37649's fast retransmission is not marked"
grep -Eq '^timeout-retransmission 0\.20[0-9]+ 37649 39097$' "$tmp/rto.dump" ||
	fail "the RTO that resends 37649 is not marked: $(grep -m3 ' 37649 ' "$tmp/rto.dump")"
n=$(grep -c '^timeout-retransmission ' "$tmp/rto.dump")
[ "$n" -eq 8 ] || fail "rto.pcap: $n timeouts marked, not 8"
n=$(grep -c '^loss-probe ' "$tmp/rto.dump")
[ "$n" -eq 5 ] || fail "rto.pcap: $n loss probes marked, not 5"
grep -q '^data .* 1 1449$' "$tmp/rto.dump" || fail "the first data byte is not 1"
echo "ok: rto.pcap: 37649 resent, then resent by the RTO; 8 timeouts, 5 loss probes"

# A duplicate ACK of fast_retransmit.pcap (docs/10): ack=266433 win=447 with
# a window scale of 10, and its SACK block.
d=$("$tool" --dump "$captures/fast_retransmit.pcap") || fail "fast_retransmit.pcap: exit $?"
grep -Eq '^ack 0\.00639[0-9] 266433 724161$' <<<"$d" || fail "ACK + scaled window: not 266433 + 447 << 10"
grep -Eq '^sack 0\.00639[0-9] 267881 270777$' <<<"$d" || fail "the SACK block 267881-270777 is missing"
grep -q '^retransmission .* 266433 267881$' <<<"$d" || fail "the fast retransmission of 266433 is not marked"
grep -q '^timeout-retransmission' <<<"$d" && fail "fast_retransmit.pcap has no timeout, yet one is marked"
# rack_loss.pcap (docs/12): three losses, each repaired without a timeout.
d=$("$tool" --dump "$captures/rack_loss.pcap") || fail "rack_loss.pcap: exit $?"
[ "$(grep -E '^(retransmission|timeout-retransmission|loss-probe) ' <<<"$d" | cut -d' ' -f1,3)" = \
	"retransmission 11681
retransmission 71541
retransmission 191261" ] || fail "rack_loss.pcap: not its three retransmissions"
# zero_window.pcap (docs/08): the window closes at ack 1461, tcplab probes
# with seq 1460 (one below SND.UNA) until it opens.
d=$("$tool" --dump "$captures/zero_window.pcap") || fail "zero_window.pcap: exit $?"
grep -Eq '^ack 0\.248[0-9]+ 1461 1461$' <<<"$d" || fail "the window line does not meet the ACK line at 1461"
grep -Eq '^zero-window 0\.248[0-9]+ 1461 1461$' <<<"$d" || fail "the zero window is not marked"
[ "$(grep -c '^window-probe .* 1460 1460$' <<<"$d")" -eq 2 ] || fail "not two zero-window probes at 1460"
"$tool" "$captures/zero_window.pcap" -o "$tmp/zw.svg" >/dev/null || fail "zero_window.pcap: no SVG"
grep -q 'zero-window probe' "$tmp/zw.svg" || fail "the SVG has no zero-window probe in its legend"
echo "ok: scaled window and SACK (fast_retransmit), RACK's repairs (rack_loss), zero window and probes"

# Other link types and formats give the same points: pcapng, Linux cooked
# v1 and v2, and the same packets over IPv6.
python3 - "$captures/rto.pcap" "$tmp" <<'PY' || fail "could not write the copies"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\xd4\xc3\xb2\xa1" and struct.unpack("<I", data[20:24])[0] == 101
packets, pos = [], 24
while pos < len(data):
    sec, usec, caplen, _ = struct.unpack("<IIII", data[pos:pos + 16])
    packets.append((sec, usec, data[pos + 16:pos + 16 + caplen]))
    pos += 16 + caplen

def pcap(name, linktype, frame):
    with open(f"{sys.argv[2]}/{name}", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for sec, usec, ip in packets:
            b = frame(ip)
            f.write(struct.pack("<IIII", sec, usec, len(b), len(b)) + b)

def v6(ip):  # the TCP segment behind an IPv6 header; addresses fd00::1 and fd00::2
    ihl, total = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
    addr = lambda a: b"\xfd" + bytes(14) + a[3:4]
    return struct.pack("!IHBB", 6 << 28, total - ihl, ip[9], 64) + addr(ip[12:16]) + addr(ip[16:20]) + ip[ihl:total]

pcap("sll.pcap", 113, lambda ip: struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800) + ip)
pcap("sll2.pcap", 276, lambda ip: struct.pack("!HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, bytes(8)) + ip)
pcap("ipv6.pcap", 101, v6)
with open(f"{sys.argv[2]}/rto.pcapng", "wb") as f:  # section, interface (ns clock), packets
    block = lambda t, body: struct.pack("<II", t, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    f.write(block(1, struct.pack("<HHI", 101, 0, 65535) + struct.pack("<HHB3xHH", 9, 1, 9, 0, 0)))
    for sec, usec, ip in packets:
        ns = (sec * 1000000 + usec) * 1000
        pad = ip + bytes(-len(ip) % 4)
        f.write(block(6, struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(ip), len(ip)) + pad))
PY
for copy in rto.pcapng sll.pcap sll2.pcap ipv6.pcap; do
	"$tool" --dump "$tmp/$copy" >"$tmp/copy.dump" 2>"$tmp/copy.err" || fail "$copy: $(cat "$tmp/copy.err")"
	diff <(sed 1d "$tmp/rto.dump") <(sed 1d "$tmp/copy.dump") >/dev/null || fail "$copy: not the points of rto.pcap"
done
grep -q 'ISN of \[fd00::2\]:19$' "$tmp/copy.dump" || fail "IPv6 addresses: $(head -1 "$tmp/copy.dump")"
"$tool" "$tmp/sll2.pcap" -o "$tmp/sll2.png" >/dev/null || fail "sll2.pcap: no PNG"
echo "ok: pcapng, Linux cooked v1 and v2 and IPv6 copies of rto.pcap give the same points"
# Ethernet: Linux's own sender (docs/12), recorded at the receiver.
out=$("$tool" "$captures/linux_sender_loss.pcap" -o "$tmp/linux.png") || fail "linux_sender_loss.pcap: exit $?"
grep -q '10.20.1.1:49116 > 10.20.0.2:9: .* [1-9][0-9]* retransmissions' <<<"$out" || fail "Ethernet: $out"
echo "ok: Ethernet: $out"

# Choosing a connection: two captures in one file, echo (6 bytes) first.
python3 - "$captures/echo.pcap" "$captures/rto.pcap" "$tmp/two.pcap" <<'PY'
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert a[:24] == b[:24]
open(sys.argv[3], "wb").write(a + b[24:])
PY
list=$("$tool" --list "$tmp/two.pcap") || fail "--list: exit $?"
echo "$list"
[ "$(wc -l <<<"$list")" -eq 2 ] || fail "--list: not two connections"
grep -Eq '^ +1 +10\.10\.0\.1:[0-9]+ > 10\.10\.0\.2:7 ' <<<"$list" || fail "--list: echo is not the first"
grep -Eq '^\* +2 +10\.10\.0\.1:[0-9]+ > 10\.10\.0\.2:19 ' <<<"$list" || fail "--list: rto is not the busiest"
(cd "$tmp" && "$tool" two.pcap >default.out 2>default.err) || fail "two.pcap: exit $?"
grep -q 'has 2 TCP connections; drawing 2' "$tmp/default.err" || fail "the choice is not said: $(cat "$tmp/default.err")"
grep -q 'connection 2, 10.10.0.2:19 > 10.10.0.1:[0-9]*: .* -> two-seq.png$' "$tmp/default.out" ||
	fail "default output: $(cat "$tmp/default.out")"
[ "$(head -c 4 "$tmp/two-seq.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ] || fail "two-seq.png is not a PNG"
(cd "$tmp" && "$tool" --conn 1 two.pcap >conn1.out) || fail "--conn 1: exit $?"
grep -q 'connection 1, 10.10.0.1:[0-9]* > 10.10.0.2:7: 1 data segments (6 bytes).* -> two-seq-1.png$' \
	"$tmp/conn1.out" || fail "--conn 1: $(cat "$tmp/conn1.out")"
[ -s "$tmp/two-seq-1.png" ] || fail "--conn 1 wrote no two-seq-1.png"
d=$("$tool" --dump --time 0.2:0.25 "$captures/rto.pcap") || fail "--time: exit $?"
[ "$(sed 1d <<<"$d" | awk '$2 < 0.2 || $2 > 0.25' | wc -l)" -eq 0 ] || fail "--time 0.2:0.25 printed other times"
grep -q '^timeout-retransmission 0.20' <<<"$d" || fail "--time 0.2:0.25 lost the RTO"
d=$("$tool" --dump --seq 1440:1470 "$captures/zero_window.pcap") || fail "--seq: exit $?"
[ "$(grep -c '^zero-window ' <<<"$d")" -eq 2 ] || fail "--seq 1440:1470: not the two zero windows at 1461"
"$tool" --seq 1440:1470 --time :1.01 "$captures/zero_window.pcap" -o "$tmp/zoom.png" >/dev/null ||
	fail "--seq --time: no PNG"
echo "ok: --list, the busiest connection by default (and said), --conn 1, default names, --time, --seq"

# Errors: one line on stderr, nothing on stdout, status 1 (2 for bad usage).
expect() { # STATUS MESSAGE-REGEX ARGS...
	local status=$1 msg=$2 rc
	shift 2
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq "$status" ] || fail "plot-seq $*: exit $rc, not $status"
	[ ! -s "$tmp/out" ] || fail "plot-seq $*: printed $(cat "$tmp/out")"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "plot-seq $*: not one line: $(cat "$tmp/err")"
	grep -Eq "^plot-seq: $msg" "$tmp/err" || fail "plot-seq $*: unclear: $(cat "$tmp/err")"
	echo "ok: exit $rc: $(cat "$tmp/err")"
}
expect 1 "$tmp/none.pcap: No such file or directory$" "$tmp/none.pcap"
expect 1 ".*/rto.md: not a pcap or pcapng capture$" "$captures/rto.md"
head -c 3000 /dev/urandom >"$tmp/noise.pcap"
expect 1 ".*noise.pcap: not a pcap or pcapng capture" "$tmp/noise.pcap"
expect 1 ".*/ping.pcap: no TCP connection in the capture$" "$captures/ping.pcap"
expect 1 ".*/udp_echo.pcap: no TCP connection in the capture$" -o "$tmp/x.png" "$captures/udp_echo.pcap"
expect 1 "--conn 2: .*/rto.pcap has 1 TCP connection$" --conn 2 "$captures/rto.pcap"
expect 1 "--conn 3: .*/two.pcap has 2 TCP connections$" --conn 3 "$tmp/two.pcap"
expect 1 "--conn 0: not a connection number" --conn 0 "$captures/rto.pcap"
expect 1 "--conn two: not a connection number" --conn two "$captures/rto.pcap"
expect 1 ".*/no/such/dir/x.png: No such file or directory$" -o "$tmp/no/such/dir/x.png" "$captures/rto.pcap"
expect 2 ".*/x.gif: the output must end in .png or .svg" -o "$tmp/x.gif" "$captures/rto.pcap"
expect 2 ".*required: capture"
expect 2 "unrecognized arguments: --bogus" --bogus "$captures/rto.pcap"
expect 2 "--time 0.5:0.1: TO must come after FROM" --time 0.5:0.1 "$captures/rto.pcap"
[ ! -e "$tmp/x.png" ] || fail "an error left $tmp/x.png"
help=$("$tool" --help) || fail "--help: exit $?"
for opt in --conn -o --time --seq --title --list --dump CAPTURE pcapng 'zero window' SACK; do
	grep -q -- "$opt" <<<"$help" || fail "--help does not mention $opt"
done
echo "ok: --help documents the options"
