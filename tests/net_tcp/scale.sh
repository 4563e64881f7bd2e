#!/usr/bin/env bash
# Scale: scale.sh TCPLAB [N]: N (default 10,000) concurrent TCP connections
# to echo, each exchanging its own bytes with all of them open, all must
# succeed; then tcplab's counters must show every connection established,
# none refused or dropped for lack of room, none aborted.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
N=${2:-10000}
tl_net_require
# The client side needs N source ports and N sockets.
tl_in sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
tl_net_start "$TCPLAB"
tl_in timeout 120 /usr/bin/python3 "$(dirname "$0")/scale_client.py" "$N" "$TL_PID" \
	>"$TL_TMP/client" 2>&1
rc=$?
cat "$TL_TMP/client"
[ $rc -eq 0 ] || { tail -20 "$TL_TMP/stderr" >&2; tl_fail "the client failed (exit $rc)"; }
grep -q "^echoed: $N of $N " "$TL_TMP/client" || tl_fail "not every connection echoed"
tl_net_stop

est=$(tl_counter "tcp_established")
[ "${est:-0}" -ge "$N" ] || tl_fail "tcp_established is ${est:-none}, want >= $N"
for d in "tcp_drop_table_full" "tcp_drop_listen_full" \
	"tcp_timeouts" "tcp_resets_in"; do
	v=$(tl_counter "$d")
	[ "${v:-0}" -eq 0 ] || tl_fail "'$d' is $v, want 0"
done
tl_ok "$N concurrent connections echoed; tcplab established $est, dropped and aborted none"
