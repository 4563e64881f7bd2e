#!/usr/bin/env bash
# tools/plot-cwnd on a trace that cwnd_run produces in virtual time: a bulk
# transfer through a bottleneck with a drop-tail queue and one outage.
set -u
tool=$1 run=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$run" 8000000 reno >"$tmp/trace.jsonl" 2>"$tmp/run.err" || fail "cwnd_run: $(cat "$tmp/run.err")"
cat "$tmp/run.err"
# The trace itself: slow start doubles cwnd per round trip before the first
# loss; a fast retransmit halves it; an RTO drops it to one segment.
python3 - "$tmp/trace.jsonl" <<'PY' || fail "the trace does not show the phases"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
cw = [e for e in ev if e["ev"] == "cwnd"]
first = next(i for i, e in enumerate(cw) if e["why"] != "slow start")
assert first >= 5 and cw[first - 1]["cwnd"] >= 8 * cw[0]["cwnd"], "no slow start"
fr = cw[first]
assert fr["why"].startswith(("fast retransmit", "RACK: loss detected")), fr
assert fr["ssthresh"] <= fr["flight"] // 2 + fr["mss"], fr  # Reno: half the flight
assert any(e["why"] == "congestion avoidance" for e in cw[first:]), "no congestion avoidance"
rto = next(i for i, e in enumerate(ev) if e["ev"] == "rto")
after = next(e for e in ev[rto:] if e["ev"] == "cwnd")
assert after["why"] == "RTO" and after["cwnd"] == after["mss"], after
print("ok: slow start to %d, fast retransmit at %.3f s, ssthresh %d, RTO at %.3f s"
      % (cw[first - 1]["cwnd"], fr["t"], fr["ssthresh"], ev[rto]["t"]))
PY
out=$("$tool" "$tmp/trace.jsonl" -o "$tmp/cwnd.svg" -o "$tmp/cwnd.png") || fail "plot-cwnd: exit $?"
echo "$out"
grep -Eq 'slow start to [0-9]+ KiB until' <<<"$out" || fail "no slow start in the summary"
grep -Eq '[1-9][0-9]* fast retransmits, [1-9][0-9]* RTOs' <<<"$out" || fail "losses not marked"
grep -q 'congestion avoidance up to' <<<"$out" || fail "no congestion avoidance"
[ "$(head -c 8 "$tmp/cwnd.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"
[ "$(stat -c %s "$tmp/cwnd.png")" -gt 10000 ] || fail "PNG too small to hold a plot"
for label in cwnd ssthresh 'bytes in flight' 'fast retransmit' RTO; do
	grep -q "$label" "$tmp/cwnd.svg" || fail "SVG has no '$label'"
done
echo "ok: SVG and PNG with cwnd, ssthresh, flight, loss and RTO marks"
# Bad input gets one clear line and a non-zero exit.
printf '0.1 in  10.10.0.1:1 > 10.10.0.2:7 Flags [S]\n' >"$tmp/text.trace"
err=$("$tool" "$tmp/text.trace" 2>&1) && fail "a text trace was accepted"
grep -q 'no JSON events' <<<"$err" || fail "unclear error: $err"
printf '{"t":0.1,"ev":"seg",\n' >"$tmp/broken.jsonl"
err=$("$tool" "$tmp/broken.jsonl" 2>&1) && fail "broken JSON was accepted"
grep -q 'broken.jsonl:1: not a JSON object' <<<"$err" || fail "unclear error: $err"
err=$("$tool" "$tmp/trace.jsonl" -o "$tmp/x.gif" 2>&1) && fail "a .gif output was accepted"
echo "ok: errors: $err"
