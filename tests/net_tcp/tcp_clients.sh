#!/usr/bin/env bash
# Real Linux clients against tcplab's TCP services: tcp_clients.sh TCPLAB CHECK...
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
shift
tl_net_require
# TL_TCPLAB_EXTRA: more tcplab flags (the offload tests pass --offload).
tl_net_start "$TCPLAB" --seed 7 ${TL_TCPLAB_EXTRA:-}
tl_in timeout 240 /usr/bin/python3 "$(dirname "$0")/tcp_client.py" "$@" || {
	tail -40 "$TL_TMP/stderr" >&2
	tl_fail "$*"
}
tl_net_stop
