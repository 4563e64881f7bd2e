#!/usr/bin/env bash
# Issue 13, part 1: echo clients that shrink SO_RCVBUF after connecting and
# read late, so the kernel's window closes below tcplab's SND.NXT.
# shrink_window.sh TCPLAB [shrink_window.py options]
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
shift
tl_net_require
tl_net_start "$TCPLAB" ${TL_TCPLAB_EXTRA:-}
tl_in timeout 110 /usr/bin/python3 "$(dirname "$0")/shrink_window.py" "$@" || {
	kill -USR1 "$TL_PID" 2>/dev/null && sleep 0.3  # tcplab prints its counters
	grep -Ev '^[a-z0-9_]+ +0  ' "$TL_TMP/stderr" | tail -60 >&2
	tl_fail "shrinking window: see the stalled connections above"
}
tl_net_stop
tl_ok "counters: $(tl_counter 'tcp_rexmit') retransmitted, $(tl_counter 'tcp_rto') RTOs"
