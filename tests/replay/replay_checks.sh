#!/usr/bin/env bash
# The replayer itself: a one-byte change in a recorded tcplab answer is found
# at that packet with both versions printed; broken files give a clear error.
set -u
tcplab=$1 captures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Frame 6 of echo.pcap is tcplab's echo of "hello\n": alter its last byte.
/usr/bin/python3 - "$captures/echo.pcap" "$tmp/altered.pcap" <<'PY' || fail "cannot alter the capture"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, frame = 24, 0
while off < len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    frame += 1
    pkt = off + 16
    if frame == 6:
        assert data[pkt + 12:pkt + 16] == bytes([10, 10, 0, 2]), "frame 6 is not from tcplab"
        data[pkt + incl - 2] ^= 0x20  # "hello\n" -> "helLo\n"
    off = pkt + incl
open(sys.argv[2], "wb").write(data)
PY
"$tcplab" --replay "$tmp/altered.pcap" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "altered capture: exit $rc, expected 1"
grep -q "DIVERGENCE at packet 6 .*payload differs" "$tmp/out" || fail "altered capture: $(cat "$tmp/out")"
grep -q "recorded: TCP 10.10.0.2:7" "$tmp/out" && grep -q "tcplab:   TCP 10.10.0.2:7" "$tmp/out" ||
	fail "both packets are not shown: $(cat "$tmp/out")"
echo "ok: a changed byte is reported at packet 6: $(head -1 "$tmp/out")"

head -c 300 "$captures/transfer_1m.pcap" >"$tmp/truncated.pcap"
"$tcplab" --replay "$tmp/truncated.pcap" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "^tcplab: .*truncated" "$tmp/out" || fail "truncated file: exit $rc: $(cat "$tmp/out")"
echo "ok: truncated capture: $(cat "$tmp/out")"

head -c 5000 /dev/urandom >"$tmp/garbage.pcap"
"$tcplab" --replay "$tmp/garbage.pcap" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "garbage file: exit $rc: $(cat "$tmp/out")"
echo "ok: not a capture: $(cat "$tmp/out")"

"$tcplab" --replay "$tmp/missing.pcap" >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "missing.pcap" "$tmp/out" || fail "missing file: $(cat "$tmp/out")"
echo "ok: missing file: $(cat "$tmp/out")"

# --ack-state: a recorded ACK of linux_sender_loss.pcap whose ACK number or
# SACK block says what tcplab never held is found at that packet.
lsl=(--addr 10.20.0.2 --lenient --window-tolerance 100 --ack-state)
alter_ack() { # $1: "ack" or "sack"; writes $tmp/$1.pcap, prints the frame
	/usr/bin/python3 - "$captures/linux_sender_loss.pcap" "$tmp/$1.pcap" "$1" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, frame = 24, 0
while off < len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    frame += 1
    ip = off + 16 + 14
    tcp = ip + (data[ip] & 15) * 4
    o, end = tcp + 20, tcp + (data[tcp + 12] >> 4) * 4
    if data[ip + 12:ip + 16] == bytes([10, 20, 0, 2]) and frame > 3:
        while o < end and data[o] != 5:
            o += 1 if data[o] < 2 else data[o + 1]
        if sys.argv[3] == "ack":
            a = struct.unpack_from(">I", data, tcp + 8)[0]
            struct.pack_into(">I", data, tcp + 8, a - 1)
            break
        if o < end:
            r = struct.unpack_from(">I", data, o + 6)[0]
            struct.pack_into(">I", data, o + 6, r - 1)
            break
    off += 16 + incl
open(sys.argv[2], "wb").write(data)
print(frame)
PY
}
for what in ack sack; do
	frame=$(alter_ack $what) || fail "cannot alter linux_sender_loss.pcap"
	"$tcplab" --replay "$tmp/$what.pcap" "${lsl[@]}" >"$tmp/out" 2>&1
	rc=$?
	expect=$([ $what = ack ] && echo "acknowledgment number" || echo "SACK block")
	[ $rc -eq 1 ] && grep -q "DIVERGENCE at packet $frame .*$expect differs" "$tmp/out" &&
		grep -q "tcplab:   RCV.NXT" "$tmp/out" || fail "--ack-state, altered $what: exit $rc: $(cat "$tmp/out")"
	echo "ok: --ack-state finds an altered $what at packet $frame"
done
"$tcplab" --replay "$captures/linux_sender_loss.pcap" "${lsl[@]}" >"$tmp/out" 2>&1 &&
	grep -q "recorded ACKs matched tcplab's receive state" "$tmp/out" || fail "--ack-state: $(cat "$tmp/out")"
echo "ok: $(tail -1 "$tmp/out")"

# Fragments (linux_frag.pcap): answers are compared as the datagrams their
# pieces make up. A changed byte in a later piece of Linux's 3000-byte UDP
# echo is found at the piece that completes it; a missing piece leaves
# tcplab's datagram unmatched; other cuts (--mtu 1000) still match.
lf=(--addr 10.20.0.2 --lenient --window-tolerance 100)
alter_frag() { # $1: "byte" or "drop"; writes $tmp/frag_$1.pcap, prints the frame
	/usr/bin/python3 - "$captures/linux_frag.pcap" "$tmp/frag_$1.pcap" "$1" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, frame, out = 24, 0, data[:24]
while off < len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    frame += 1
    rec = data[off:off + 16 + incl]
    ip = 16 + 14
    frag = struct.unpack_from(">H", rec, ip + 6)[0]
    mine = rec[ip + 12:ip + 16] == bytes([10, 20, 0, 2]) and rec[ip + 9] == 17
    if mine and (frag & 0x1fff) * 8 == 1480:
        if sys.argv[3] == "drop":
            print(frame)
            off += 16 + incl
            continue
        rec[ip + 20 + 100] ^= 0x01
    if mine and sys.argv[3] == "byte" and not frag & 0x2000:
        print(frame)
    out += rec
    off += 16 + incl
open(sys.argv[2], "wb").write(out)
PY
}
frame=$(alter_frag byte) || fail "cannot alter linux_frag.pcap"
"$tcplab" --replay "$tmp/frag_byte.pcap" "${lf[@]}" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "DIVERGENCE at packet $frame .*payload differs" "$tmp/out" &&
	grep -q "recorded: UDP 10.20.0.2:7 > 10.20.0.1:[0-9]* len 3000 (from 3 fragments)" "$tmp/out" &&
	grep -q "tcplab:   UDP 10.20.0.2:7 > 10.20.0.1:[0-9]* len 3000 (from 3 fragments)" "$tmp/out" ||
	fail "a changed byte in a later fragment: exit $rc: $(cat "$tmp/out")"
echo "ok: a byte changed in the second piece of a fragmented echo is found at packet $frame, where its datagram is whole"
frame=$(alter_frag drop) || fail "cannot alter linux_frag.pcap"
"$tcplab" --replay "$tmp/frag_drop.pcap" "${lf[@]}" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "tcplab sent more than the recording has" "$tmp/out" ||
	fail "a recorded piece removed (frame $frame): exit $rc: $(cat "$tmp/out")"
echo "ok: with a recorded piece removed, tcplab's whole datagram is unmatched"
"$tcplab" --replay "$captures/linux_frag.pcap" "${lf[@]}" --mtu 1000 --trace >"$tmp/out" 2>&1 &&
	grep -q "out IP 10.20.0.1 < fragment id [0-9]* off 976 len 976 MF" "$tmp/out" &&
	grep -q "fragments: 3 answers sent in fragments compared as the datagrams" "$tmp/out" ||
	fail "--mtu 1000, other cuts: $(tail -3 "$tmp/out")"
echo "ok: tcplab cutting its answers at MTU 1000 still matches Linux's cut at 1500"

# pmtu.pcap: the router's fragmentation needed quotes a segment tcplab sent;
# the replayer moves the quoted sequence number into this run's space. One
# moved out of the flight is not believed (RFC 5927 4.1): tcplab does not
# resend, and the replay diverges at the first resent piece.
/usr/bin/python3 - "$captures/pmtu.pcap" "$tmp/pmtu.pcap" <<'PY' || fail "cannot alter pmtu.pcap"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off = 24
while off < len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    ip = off + 16
    if data[ip] >> 4 == 4 and data[ip + 9] == 1 and data[ip + 20] == 3 and data[ip + 21] == 4:
        q = ip + 28
        t = q + (data[q] & 15) * 4
        struct.pack_into(">I", data, t + 4, (struct.unpack_from(">I", data, t + 4)[0] + 10**6) % 2**32)
        break
    off = ip + incl
else:
    sys.exit("no fragmentation needed in pmtu.pcap")
open(sys.argv[2], "wb").write(data)
PY
"$tcplab" --replay "$tmp/pmtu.pcap" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "recorded: TCP 10.10.0.2:19 > .* seq 1 (rel) .* len 1228" "$tmp/out" ||
	fail "a fragmentation needed quoting a sequence number not in flight: exit $rc: $(cat "$tmp/out")"
"$tcplab" --replay "$captures/pmtu.pcap" --trace >"$tmp/out" 2>&1 &&
	grep -q "path MTU 1280: segments of 1228 bytes from now on" "$tmp/out" || fail "pmtu.pcap: $(tail -2 "$tmp/out")"
echo "ok: pmtu.pcap: the quoted sequence number is translated; one outside the flight is not believed"

# Recorded pieces that would make a datagram past 65535 bytes (a 60-byte
# header on piece zero, the last piece ending at 65515): refused, not built.
/usr/bin/python3 - "$captures/ip_frag.pcap" "$tmp/big.pcap" <<'PY' || fail "cannot write big.pcap"
import struct, sys
head = open(sys.argv[1], "rb").read()[:24]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def piece(off, data, more, opts=b""):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(data), 7, off // 8 | (0x2000 if more else 0),
                    64, 17, 0, bytes([10, 10, 0, 2]), bytes([10, 10, 0, 1])) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + data
cuts = [(0, 8)] + [(o, min(o + 1480, 65515)) for o in range(8, 65515, 1480)]
out = bytearray(head)
for i, (a, b) in enumerate(cuts):
    p = piece(a, bytes(b - a), b < 65515, bytes([1] * 40) if a == 0 else b"")
    out += struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p
open(sys.argv[2], "wb").write(out)
PY
"$tcplab" --replay "$tmp/big.pcap" --addr 10.10.0.2 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "the recorded fragments differ: the datagram would pass 65535 bytes" "$tmp/out" ||
	fail "pieces past 65535 bytes: exit $rc: $(cat "$tmp/out")"
echo "ok: recorded pieces that would pass 65535 bytes are refused: $(head -1 "$tmp/out")"
