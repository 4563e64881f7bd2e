#!/usr/bin/env bash
# The control channel: tcplab ss [-i] [--json] and tcplab stats find the
# tcplab of their network namespace without configuration and show its
# sockets and counters; the errors (none running, --tun of no tcplab,
# several running, bad flags, garbage on the socket, another user) get one
# line and a non-zero exit, and tcplab keeps running.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
PEER="/usr/bin/python3 $(dirname "$0")/control_peer.py"
tl_net_require
HOLDER="" SECOND=""
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	[ -n "$SECOND" ] && kill "$SECOND" 2>/dev/null
	tl_net_cleanup
}
trap cleanup EXIT

# expect STATUS PATTERN tcplab-ARGS...: one line on stderr, that status.
expect() {
	local want=$1 pat=$2
	shift 2
	tl_in "$TCPLAB" "$@" >"$TL_TMP/out" 2>"$TL_TMP/err"
	local rc=$?
	[ "$rc" -eq "$want" ] || tl_fail "tcplab $*: exit $rc, want $want: $(cat "$TL_TMP/err")"
	[ "$(wc -l <"$TL_TMP/err")" -eq 1 ] && grep -q -- "$pat" "$TL_TMP/err" ||
		tl_fail "tcplab $*: want one line with '$pat', got: $(cat "$TL_TMP/err")"
	tl_ok "tcplab $* -> $rc: $(cat "$TL_TMP/err")"
}

expect 1 "no tcplab is running in this network namespace" ss
expect 1 "no tcplab is running in this network namespace" stats --json
expect 2 "unknown option '-x'" ss -x
expect 2 "unknown option '-i'" stats -i
expect 2 "--tun needs a value" ss --tun
expect 2 "bad device name 'a/b' for --tun" ss --tun a/b
tl_in "$TCPLAB" ss --help | grep -q "usage: tcplab ss \[-i\] \[--json\] \[--tun NAME\]" ||
	tl_fail "tcplab ss --help"
tl_in "$TCPLAB" stats --help | grep -q "usage: tcplab stats" || tl_fail "tcplab stats --help"

tl_net_start "$TCPLAB" --seed 7
expect 1 "no tcplab is running on nosuch in this network namespace" ss --tun nosuch

# Connections from the kernel's side: idle echo, unread chargen, qotd closed.
coproc HOLD { tl_in timeout 120 $PEER hold "$TL_TMP/ports"; }
HOLDER=$HOLD_PID
for _ in $(seq 100); do [ -s "$TL_TMP/ports" ] && break; sleep 0.1; done
read -r echo_port chargen_port <"$TL_TMP/ports" || tl_fail "the client opened no connections"

# Until chargen has filled the client's window (bounded).
for _ in $(seq 50); do
	tl_in "$TCPLAB" ss >"$TL_TMP/ss" || tl_fail "tcplab ss: $(cat "$TL_TMP/ss")"
	awk -v p="10.10.0.1:$chargen_port" '$1 == "tcp" && $6 == p && $4 > 0 { f = 1 } END { exit !f }' \
		"$TL_TMP/ss" && break
	sleep 0.1
done
cat "$TL_TMP/ss"
head -1 "$TL_TMP/ss" | grep -q "^Netid *State *Recv-Q *Send-Q *Local Address:Port *Peer Address:Port" ||
	tl_fail "no ss header"
row() { awk -v n="$1" -v s="$2" -v l="$3" -v p="$4" \
	'$1 == n && $2 == s && $5 == l && $6 == p { f = 1 } END { exit !f }' "$TL_TMP/ss"; }
for port in 7 9 17 19 65432; do
	row tcp LISTEN "10.10.0.2:$port" "0.0.0.0:*" || tl_fail "no listener on $port"
done
row udp UNCONN 10.10.0.2:7 "0.0.0.0:*" || tl_fail "no UDP socket on 7"
row tcp ESTABLISHED 10.10.0.2:7 "10.10.0.1:$echo_port" || tl_fail "no echo connection"
row tcp ESTABLISHED 10.10.0.2:19 "10.10.0.1:$chargen_port" || tl_fail "no chargen connection"
grep -q "^tcp  *TIME_WAIT .* 10.10.0.2:17 " "$TL_TMP/ss" || tl_fail "no TIME_WAIT from qotd"
awk -v p="10.10.0.1:$chargen_port" '$6 == p && $4 > 0 { f = 1 } END { exit !f }' "$TL_TMP/ss" ||
	tl_fail "chargen's unread lines are not in Send-Q"
# The kernel sees the same connections from the other end.
for port in "$echo_port" "$chargen_port"; do
	tl_in ss -tnH state established "( sport = :$port )" | grep -q "10.10.0.2:" ||
		tl_fail "the kernel has no connection from port $port"
done
tl_ok "tcplab ss: listeners, UDP, ESTABLISHED echo and chargen (Send-Q > 0), TIME_WAIT"

tl_in "$TCPLAB" ss -i >"$TL_TMP/ssi" || tl_fail "tcplab ss -i"
echo "--- tcplab ss -i"
cat "$TL_TMP/ssi"
n=$(grep -cE '^	 mss:[0-9]+B cwnd:[0-9]+B ssthresh:(inf|[0-9]+B) rtt:[0-9.]+/[0-9.]+ms rto:[0-9.]+ms bytes_in_flight:[0-9]+B retrans:[0-9]+ snd_wnd:[0-9]+B$' "$TL_TMP/ssi")
conns=$(grep -cE '^tcp +(ESTABLISHED|TIME_WAIT)' "$TL_TMP/ssi")
[ "$n" -ge 3 ] && [ "$n" -eq "$conns" ] || tl_fail "ss -i: $n info lines for $conns connections"
tl_ok "tcplab ss -i: one info line per connection"

tl_in "$TCPLAB" ss --json >"$TL_TMP/json" || tl_fail "tcplab ss --json"
/usr/bin/python3 - "$TL_TMP/json" "$echo_port" "$chargen_port" <<'EOF' || tl_fail "ss --json"
import json, sys
socks = json.load(open(sys.argv[1]))
echo, chargen = int(sys.argv[2]), int(sys.argv[3])
def one(**kw):
    m = [s for s in socks if all(s.get(k) == v for k, v in kw.items())]
    assert len(m) == 1, "%d sockets match %r" % (len(m), kw)
    return m[0]
for port in (7, 9, 17, 19, 65432):
    one(netid="tcp", state="LISTEN", local_port=port)
one(netid="udp", state="UNCONN", local_port=7)
e = one(netid="tcp", state="ESTABLISHED", remote_port=echo)
c = one(netid="tcp", state="ESTABLISHED", remote_port=chargen)
assert e["local"] == "10.10.0.2:7" and e["remote"] == "10.10.0.1:%d" % echo, e
for k in ("recv_q", "send_q", "mss", "cwnd", "bytes_in_flight", "retrans", "snd_wnd"):
    assert isinstance(e[k], int) and e[k] >= 0, (k, e)
for k in ("srtt", "rttvar", "rto"):
    assert isinstance(e[k], (int, float)), (k, e)
assert e["cwnd"] >= e["mss"] > 0 and e["rto"] >= 200 and e["srtt"] > 0, e
assert e["send_q"] == 0 and e["bytes_in_flight"] == 0, e
assert c["send_q"] > 0, c
assert any(s["state"] == "TIME_WAIT" and s["local_port"] == 17 for s in socks)
print("ok: tcplab ss --json: %d sockets, echo %s" % (len(socks), json.dumps(e)))
EOF

tl_in "$TCPLAB" stats >"$TL_TMP/stats" || tl_fail "tcplab stats"
head -1 "$TL_TMP/stats" | grep -qx "tcplab counters:" || tl_fail "stats: no header"
est=$(tl_counter_of tcp_established <"$TL_TMP/stats")
[ "${est:-0}" -ge 3 ] || tl_fail "stats: $est connections established, want 3 or more"
# The same lines as SIGUSR1 prints (values may have moved since).
kill -USR1 "$TL_PID"
for _ in $(seq 50); do grep -q "TUN queue full" "$TL_TMP/stderr" && break; sleep 0.1; done
# Each line is "name value  description": all but the value must agree.
novalue() { sed -E 's/^([a-z0-9_]+) +[0-9]+  /\1 /'; }
grep -Eq '^tcp_out_rst +[0-9]+  TCP resets sent$' "$TL_TMP/stats" || tl_fail "stats: not name, value, description"
diff <(novalue <"$TL_TMP/stats") <(sed -n '/^tcplab counters:/,$p' "$TL_TMP/stderr" | novalue) ||
	tl_fail "tcplab stats and SIGUSR1 print different counters"
tl_in "$TCPLAB" stats --json | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["tcp_established"] >= 3 and "tun_read_errors" in c and "tcp_rexmit" in c, c
print("ok: tcplab stats --json: %d counters" % len(c))' || tl_fail "stats --json"
tl_ok "tcplab stats: the SIGUSR1 counters, as text and JSON"

tl_in $PEER garbage tl0 || tl_fail "garbage on the control socket"
kill -0 "$TL_PID" || tl_fail "tcplab died after the garbage"
tl_in "$TCPLAB" ss >/dev/null || tl_fail "tcplab ss after the garbage"
tl_ok "garbage on the control socket: one-line errors, tcplab keeps running"

# Another user may not ask (SO_PEERCRED): nobody, from a copy it can run.
mkdir -m 755 "$TL_TMP/pub" && chmod 711 "$TL_TMP" && install -m 755 "$TCPLAB" "$TL_TMP/pub/tcplab"
tl_in setpriv --reuid=65534 --regid=65534 --clear-groups "$TL_TMP/pub/tcplab" ss \
	>"$TL_TMP/out" 2>"$TL_TMP/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$TL_TMP/err")" -eq 1 ] && grep -q "permission denied: uid 65534" "$TL_TMP/err" &&
	[ ! -s "$TL_TMP/out" ] || tl_fail "nobody: exit $rc, $(cat "$TL_TMP/err" "$TL_TMP/out")"
tl_ok "another user is refused: $(cat "$TL_TMP/err")"

# A second tcplab in the namespace: no --tun is now ambiguous.
ip netns exec "$TL_NS" "$TCPLAB" --tun tl1 --addr 10.11.0.2 --kernel-addr 10.11.0.1/24 \
	>"$TL_TMP/second.out" 2>"$TL_TMP/second.err" &
SECOND=$!
for _ in $(seq 100); do tl_in "$TCPLAB" ss --tun tl1 >"$TL_TMP/ss1" 2>/dev/null && break; sleep 0.05; done
grep -q "LISTEN .* 10.11.0.2:7 " "$TL_TMP/ss1" || tl_fail "ss --tun tl1: $(cat "$TL_TMP/ss1")"
expect 2 "2 tcplabs run in this network namespace (tl0, tl1\|tl1, tl0): pick one with --tun NAME" ss
kill -TERM "$SECOND"
wait "$SECOND"
SECOND=""
tl_ok "two tcplabs: --tun picks one, none is an error naming both"

kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=""
tl_net_stop
expect 1 "no tcplab is running in this network namespace" ss
