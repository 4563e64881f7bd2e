#!/usr/bin/env bash
# 50,000 idle connections: idle50k.sh TCPLAB CLIENT [N]. Three client
# processes (tl-bench-client idle; one process may hold about 20,000 fds
# here) open N connections to discard between them and hold them; once
# tcplab has released their idle buffers its RSS must be within the budget
# that README and docs/robustness.md state, and no connection may be refused.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1 CLIENT=$2 N=${3:-50000}
BUDGET_MIB=64
tl_net_require
tl_in sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
tl_net_start "$TCPLAB"
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$TL_PID/status"; }
before=$(rss_kib)
PIPES=() PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; tl_net_cleanup' EXIT
share=$(((N + 2) / 3))
for i in 0 1 2; do
	n=$share
	[ $i -eq 2 ] && n=$((N - 2 * share))
	mkfifo "$TL_TMP/hold$i"
	tl_in timeout 240 "$CLIENT" idle 10.10.0.2 9 "$n" <"$TL_TMP/hold$i" >"$TL_TMP/ready$i" 2>&1 &
	PIDS+=($!)
	exec {fd}>"$TL_TMP/hold$i" # keeps the client's standard input open
	PIPES+=("$fd")
done
for i in 0 1 2; do
	for _ in $(seq 2400); do
		grep -q ready "$TL_TMP/ready$i" 2>/dev/null && break
		kill -0 "${PIDS[$i]}" 2>/dev/null ||
			tl_fail "client $i ended before it had opened its connections (its 240 s timeout?): $(cat "$TL_TMP/ready$i")"
		sleep 0.1
	done
	grep -q ready "$TL_TMP/ready$i" || tl_fail "client $i did not open its connections within 240 s"
done
# Idle buffers go after tcp_buf_idle_ms (1 s): wait past it, then measure.
sleep 2.5
after=$(rss_kib)
for fd in "${PIPES[@]}"; do exec {fd}>&-; done
for p in "${PIDS[@]}"; do wait "$p"; done
PIDS=()
tl_net_stop
est=$(tl_counter "TCP connections established")
[ "${est:-0}" -ge "$N" ] || tl_fail "tcp_established is ${est:-none}, want >= $N"
for d in "TCP SYNs dropped: connection table full" "TCP SYNs dropped: accept backlog full"; do
	v=$(tl_counter "$d")
	[ "${v:-0}" -eq 0 ] || tl_fail "'$d' is $v, want 0"
done
echo "tcplab RSS: $((before / 1024)) MiB before, $((after / 1024)) MiB with $N idle connections ($(((after - before) * 1024 / N)) bytes each)"
[ "$after" -le $((BUDGET_MIB * 1024)) ] || tl_fail "RSS $((after / 1024)) MiB is over the $BUDGET_MIB MiB budget"
tl_ok "$N idle connections in $((after / 1024)) MiB, within the $BUDGET_MIB MiB budget"
