#!/usr/bin/env bash
# The command line: bad values get one line naming the problem and exit 2;
# the TCP settings and --trace=json reach the core (seen through --replay).
set -u
tcplab=$1 captures=$2
fail() { echo "FAIL: $*"; exit 1; }
bad() {
	local want=$1
	shift
	err=$("$tcplab" "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "$* exited $rc"
	[ "$(wc -l <<<"$err")" -eq 1 ] || fail "$*: more than one line: $err"
	grep -q -- "$want" <<<"$err" || fail "$*: '$err' does not say '$want'"
}
bad "bad size '10' for --rcvbuf" --rcvbuf 10
bad "bad size 'x' for --sndbuf" --sndbuf x
bad "bad value '0' for --init-cwnd" --init-cwnd 0
bad "bad value '501' for --delack" --delack 501
bad "--trace takes text or json, not 'xml'" --trace=xml
bad "bad MTU '100'" --mtu 100
bad "unknown option '--frobnicate'" --frobnicate 1
bad "--mtu needs a value" --mtu
bad "bad value 'maybe' for --syncookies" --syncookies maybe
bad "bad value 'yes' for --tlp" --tlp yes
bad "bad value 'fast' for --recovery" --recovery fast
bad "bad value 'yes' for --timestamps" --timestamps yes
bad "bad value 'vegas' for --cc" --cc vegas
bad "--cc needs a value" --cc
bad "bad value 'x' for --time-wait-max" --time-wait-max x
bad "bad value '-1' for --ooo-max" --ooo-max -1
bad "bad value 'x' for --rst-rate" --rst-rate x
bad "bad value 'y' for --challenge-ack-rate" --challenge-ack-rate y
bad "bad value '5s' for --challenge-ack-interval" --challenge-ack-interval 5s
bad "bad size 'z' for --ack-batch" --ack-batch z
bad "no such user 'nosuchuser_zz'" --user nosuchuser_zz
echo "ok: bad values are refused with one line each"
help=$("$tcplab" --help) || fail "--help exited $?"
for f in --trace --rcvbuf --sndbuf --init-cwnd --delack --replay --pcap --seed --offload \
	--ack-batch --syncookies --time-wait-max --ooo-max --rst-rate --challenge-ack-rate --challenge-ack-interval --tlp --recovery --cc --timestamps --user; do
	grep -q -- "$f" <<<"$help" || fail "--help does not mention $f"
done
echo "ok: --help lists every flag"
"$tcplab" --replay "$captures/slow_start.pcap" >/dev/null || fail "slow_start.pcap diverges with defaults"
"$tcplab" --replay "$captures/slow_start.pcap" --init-cwnd 1 >/dev/null &&
	fail "--init-cwnd 1 did not change what tcplab sent"
"$tcplab" --replay "$captures/echo.pcap" --rcvbuf 4096 >/dev/null &&
	fail "--rcvbuf 4096 did not change the advertised window"
echo "ok: --init-cwnd and --rcvbuf reach the core"
# fast_retransmit.pcap was recorded with Reno: CUBIC's smaller reduction
# (RFC 9438 4.6) sends more, so its replay diverges.
"$tcplab" --replay "$captures/fast_retransmit.pcap" --recovery newreno --cc reno >/dev/null ||
	fail "fast_retransmit.pcap diverges with --cc reno"
"$tcplab" --replay "$captures/fast_retransmit.pcap" --recovery newreno --cc cubic >/dev/null &&
	fail "--cc cubic did not change what tcplab sent after a loss"
echo "ok: --cc reaches the core"
"$tcplab" --replay "$captures/echo.pcap" --trace=json | grep '^{' | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
kinds = {e["ev"] for e in ev}
assert {"seg", "state"} <= kinds, kinds
assert all(isinstance(e["t"], float) for e in ev)
syn = next(e for e in ev if e["ev"] == "seg" and e["flags"] == "S")
assert syn["dport"] == 7 and syn["dir"] == "in", syn
print("ok: --trace=json: %d events, kinds %s" % (len(ev), sorted(kinds)))
' || fail "--trace=json"
