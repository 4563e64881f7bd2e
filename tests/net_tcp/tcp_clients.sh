#!/usr/bin/env bash
# Real Linux clients against tcplab's TCP services: tcp_clients.sh TCPLAB CHECK...
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
shift
tl_net_require
# TL_TCPLAB_EXTRA: more tcplab flags (the offload_off tests pass --offload off).
tl_net_start "$TCPLAB" --seed 7 ${TL_TCPLAB_EXTRA:-}
tl_in timeout 240 /usr/bin/python3 "$(dirname "$0")/tcp_client.py" "$@" || {
	tail -40 "$TL_TMP/stderr" >&2
	tl_fail "$*"
}
tl_net_stop
# One line says what the TUN device took; TCP never goes out in IP fragments.
want="offload on:"
[[ " ${TL_TCPLAB_EXTRA:-} " == *" --offload off "* ]] && want="offload off (--offload off)"
grep -qF "tcplab: $want" "$TL_TMP/stderr" || tl_fail "no 'tcplab: $want' line: $(head -1 "$TL_TMP/stderr")"
[ "$(tl_counter ip_frag_out)" = 0 ] || tl_fail "$(tl_counter ip_frag_out) IP fragments sent"
