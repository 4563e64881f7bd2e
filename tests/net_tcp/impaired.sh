#!/usr/bin/env bash
# Data over an impaired path: impaired.sh TCPLAB "FAULT FLAGS" [iptables-loss]
# The stack's own fault injector impairs the link (this kernel has no netem);
# with a third argument the kernel side also drops packets at random.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
read -r -a faults <<<"$2"
tl_net_require
tl_net_start "$TCPLAB" --seed 11 "${faults[@]}"
if [ -n "${3:-}" ]; then
	tl_in iptables -A OUTPUT -o tl0 -p tcp -m statistic --mode random \
		--probability "$3" -j DROP || tl_net_skip "iptables statistic match unavailable"
fi
tl_in timeout 1000 /usr/bin/python3 "$(dirname "$0")/tcp_client.py" echo_4m discard_4m chargen_4m || {
	tail -60 "$TL_TMP/stderr" >&2
	tl_fail "over a path with: $2 ${3:+kernel-side loss $3}"
}
tl_net_stop
# The fault injector works per packet: checksum offload only, no TSO.
want="offload on:"
[ -n "$2" ] && want="offload checksums only"
[[ " $2 " == *" --offload off "* ]] && want="offload off (--offload off)"
grep -qF "tcplab: $want" "$TL_TMP/stderr" || tl_fail "no 'tcplab: $want' line: $(head -1 "$TL_TMP/stderr")"
tl_ok "counters: $(tl_counter 'tcp_rexmit') retransmitted, $(tl_counter 'tcp_fast_rexmit') fast recoveries, $(tl_counter 'tcp_rto') RTOs"
