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
# Every number relative to its side's ISN, as the trace and the diagrams show them.
grep -Eq "recorded: TCP 10.10.0.2:7 > 10.10.0.1:[0-9]+ flags P. seq 1 ack 7 .*\(relative to each side's ISN\)$" "$tmp/out" ||
	fail "the recorded answer's numbers are not relative: $(cat "$tmp/out")"
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
		grep -Eq "tcplab:   RCV.NXT [0-9]{1,7}, .*\(relative to the peer's ISN\)$" "$tmp/out" &&
		grep -Eq "recorded: .* ack [0-9]{1,7} .*\(relative to each side's ISN\)$" "$tmp/out" ||
		fail "--ack-state, altered $what: exit $rc: $(cat "$tmp/out")"
	echo "ok: --ack-state finds an altered $what at packet $frame"
done
"$tcplab" --replay "$captures/linux_sender_loss.pcap" "${lsl[@]}" >"$tmp/out" 2>&1 &&
	grep -q "recorded ACKs matched tcplab's receive state" "$tmp/out" || fail "--ack-state: $(cat "$tmp/out")"
echo "ok: $(tail -1 "$tmp/out")"
