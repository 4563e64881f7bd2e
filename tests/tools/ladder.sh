#!/usr/bin/env bash
# tools/pcap2mermaid --svg/--png, the ladder diagram, on the capture library:
# the SVG parses as XML, has one arrow per packet (counted by tcpdump, not by
# the tool), each from the sender's line down to the receiver's, labelled
# with the relative numbers of the Mermaid arrow and its notes, a time tick
# per arrow; it is the same bytes every time; the PNG is a PNG. Bad input
# gets one line and exit 1, bad usage exit 2.
set -u
tool=$1 captures=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME ARROWS [pcap2mermaid args...]: the ladder of the capture against
# its Mermaid diagram, with ARROWS arrows.
check() {
	local name=$1 want=$2
	shift 2
	"$tool" "$captures/$name.pcap" "$@" >"$tmp/$name.mmd" || fail "$name: Mermaid: exit $?"
	"$tool" "$captures/$name.pcap" "$@" --svg "$tmp/$name.svg" || fail "$name: --svg: exit $?"
	/usr/bin/python3 - "$tmp/$name.svg" "$tmp/$name.mmd" "$want" <<'PY' || fail "$name: the ladder is not its capture"
import re, sys
import xml.etree.ElementTree as ET
svg, mmd, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(svg).getroot()  # raises on anything but well-formed XML
assert root.tag == NS + "svg", root.tag

# The Mermaid diagram: its sides, then each arrow with the notes after it.
sides, arrows, skips = [], [], []
for line in open(mmd).read().split("\n")[1:]:
    line = line.strip()
    if m := re.fullmatch(r"participant (\w) as .*", line):
        sides.append(m[1])
    elif m := re.fullmatch(r"(\w)->>(\w): (.*)", line):
        arrows.append({"frm": m[1], "label": m[3], "notes": []})
    elif m := re.fullmatch(r"Note over \w,\w: (.*)", line):
        skips.append(m[1])
    elif m := re.fullmatch(r"Note over \w: (.*)", line):
        arrows[-1]["notes"].append(m[1])
assert len(arrows) == want, f"Mermaid has {len(arrows)} arrows, not {want}"

def text(e):
    return " ".join(" ".join(t.split()) for t in e.itertext() if t.strip())

packets = [g for g in root.iter(NS + "g") if g.get("class") == "packet"]
assert len(packets) == want, f"{len(packets)} arrows in the SVG, the capture has {want} packets"
hosts = sorted(float(l.get("x1")) for l in root.iter(NS + "line") if l.get("class") == "life")
assert len(hosts) == 2 and hosts[0] < hosts[1], hosts
ys = []
for n, (g, a) in enumerate(zip(packets, arrows), 1):
    line = g.find(NS + "line")
    x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
    # From the sender's line to the receiver's, and down: time flows down.
    left_to_right = a["frm"] == sides[0]
    assert (x1, x2) == (tuple(hosts) if left_to_right else tuple(hosts[::-1])), (n, x1, x2, a)
    assert y2 > y1 and (not ys or y1 > ys[-1]), (n, y1, y2)
    ys.append(y1)
    label = text(next(t for t in g.iter(NS + "text") if t.get("class") == "label"))
    notes = [text(t) for t in g.iter(NS + "text") if t.get("class") == "note"]
    assert notes == a["notes"], (n, notes, a["notes"])
    m = re.fullmatch(r"(\S+) seq=(\d+)(?: ack=(\d+))?(?: len=(\d+))? win=(\d+)(?: sack=(\S+))?", a["label"])
    if not m:  # ICMP and UDP: the same label
        assert label == a["label"], (n, label, a["label"])
        continue
    flags, seq, ack, length, win, sack = m.groups()
    l = re.fullmatch(r"(\S+) (\d+):(\d+)\((\d+)\)(?: ack (\d+))? win (\d+)(?: sack (\S+))?", label)
    assert l, (n, label)
    assert (l[1], l[2], l[5], l[6], l[7]) == (flags, seq, ack, win, sack), (n, label, a["label"])
    assert int(l[4]) == int(length or 0) and int(l[3]) == (int(seq) + int(l[4])) % 2**32, (n, label)
# A time tick and label per arrow, at its row, never going back.
times = [t for t in root.iter(NS + "text") if t.get("class") == "time" and t.text != "time (ms)"]
assert len(times) == want, f"{len(times)} times for {want} arrows"
ms = [float(t.text) for t in times]
assert ms == sorted(ms) and ms[0] >= 0, ms
assert [float(t.get("y")) - 4 for t in times] == ys
shown = [text(t) for t in root.iter(NS + "text") if t.get("class") == "skip"]
assert shown == skips, (shown, skips)
print(f"ok: {svg.rsplit('/', 1)[-1]}: {want} arrows down from sender to receiver, "
      f"{sum(len(a['notes']) for a in arrows)} notes, times {ms[0]:.2f}..{ms[-1]:.2f} ms")
PY
}

count() { tcpdump -nr "$captures/$1.pcap" "$2" 2>/dev/null | wc -l; }
check echo "$(count echo tcp)"
check rto "$(count rto tcp)" --max 1000
check zero_window "$(count zero_window tcp)" --max 1000
check ping "$(count ping icmp)"
check udp_echo "$(count udp_echo udp)"
check out_of_order 12 --around out-of-order --max 12
check challenge_ack "$(count challenge_ack tcp)"
grep -q 'sack 1449-2897' "$tmp/out_of_order.svg" || fail "no SACK block on a ladder arrow"
grep -q 'retransmission (timeout:' "$tmp/rto.svg" || fail "no timeout note"
grep -q 'class="gap"' "$tmp/rto.svg" || fail "no dashed axis across the RTO's silence"
grep -q 'class="gap"' "$tmp/echo.svg" && fail "a dashed axis in echo.pcap, which has no silence"
[ "$(count transfer_1m tcp)" -gt 20 ] || fail "transfer_1m.pcap is too short for --max 20"
check transfer_1m 20 --max 20
grep -q '\.\.\. [0-9]* more packets not drawn (--max)' "$tmp/transfer_1m.svg" || fail "--max: no note"

# The same capture draws the same bytes (tools/docs check compares them).
"$tool" "$captures/rto.pcap" --max 1000 --svg "$tmp/again.svg" || fail "again: exit $?"
cmp -s "$tmp/rto.svg" "$tmp/again.svg" || fail "two runs drew two different SVGs"
echo "ok: the same SVG twice"

"$tool" "$captures/echo.pcap" --png "$tmp/echo.png" --svg "$tmp/both.svg" || fail "--png: exit $?"
[ "$(head -c 8 "$tmp/echo.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"
[ "$(stat -c %s "$tmp/echo.png")" -gt 10000 ] || fail "PNG too small to hold the ladder"
cmp -s "$tmp/echo.svg" "$tmp/both.svg" || fail "--png changed the SVG"
echo "ok: PNG of $(stat -c %s "$tmp/echo.png") bytes"

# Bad input: one line and exit 1; bad usage: exit 2.
expect() {
	local rc=$1 what=$2
	shift 2
	err=$("$tool" "$@" 2>&1)
	got=$?
	[ $got -eq "$rc" ] || fail "$what: exit $got, not $rc: $err"
	[ "$rc" -eq 2 ] || [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$what: not one line: $err"
	grep -q "^pcap2mermaid: " <<<"$err" || grep -q "^usage: " <<<"$err" || fail "$what: unclear: $err"
	echo "ok: $what: $(tail -1 <<<"$err")"
}
head -c 500 /dev/urandom >"$tmp/random.pcap"
expect 1 "a missing file" "$tmp/none.pcap" --svg "$tmp/x.svg"
expect 1 "not a capture" "$tmp/random.pcap" --svg "$tmp/x.svg"
expect 1 "no such directory" "$captures/echo.pcap" --svg "$tmp/none/x.svg"
expect 1 "no such directory for the PNG" "$captures/echo.pcap" --png "$tmp/none/x.png"
expect 1 "no such event" "$captures/echo.pcap" --around reset --svg "$tmp/x.svg"
expect 2 "--svg with --summary" --summary "$captures/echo.pcap" --svg "$tmp/x.svg"
expect 2 "--svg without a file name" "$captures/echo.pcap" --svg
[ ! -e "$tmp/x.svg" ] || fail "a failed run left $tmp/x.svg"
