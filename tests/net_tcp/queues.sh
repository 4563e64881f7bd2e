#!/usr/bin/env bash
# --queues 2 (issue 18 item 4): two stacks on two TUN queues and threads.
# 64 echo connections at once, each with its own 64 KiB, all echoed whole;
# ping and UDP echo; tcplab stats sums both stacks, and at exit both queues
# served connections. Then --pcap and --trace with two queues: the capture
# reads back, every trace line is whole. And the refusals: --connect and
# tcplab run get one line and a non-zero exit.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
CLIENT="/usr/bin/python3 $(dirname "$0")/queues_client.py"
tl_net_require

tl_net_start "$TCPLAB" --queues 2
tl_in ping -c 3 -i 0.2 -W 1 10.10.0.2 >/dev/null || tl_fail "no answer to ping"
tl_in timeout 90 $CLIENT 64 65536 >"$TL_TMP/client" 2>&1
rc=$?
cat "$TL_TMP/client"
[ $rc -eq 0 ] || tl_fail "the client failed (exit $rc)"
stats=$(tl_in timeout 10 "$TCPLAB" stats) || tl_fail "tcplab stats failed"
est=$(tl_counter_of tcp_established <<<"$stats")
[ "${est:-0}" -ge 64 ] || tl_fail "tcplab stats: tcp_established ${est:-none}, want >= 64"
listeners=$(tl_in timeout 10 "$TCPLAB" ss | grep -c "LISTEN .*10.10.0.2:7 ")
[ "$listeners" -eq 2 ] || tl_fail "tcplab ss lists $listeners echo listeners, want 2 (one a stack)"
tl_ok "tcplab stats: $est established over both stacks; ss lists both stacks' listeners"

# tcplab run is refused with one line from the library, and a failing program.
out=$(tl_in timeout 10 "$TCPLAB" run -- /usr/bin/python3 -c \
	'import socket; socket.create_connection(("10.10.0.2", 7), timeout=5)' 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "tcplab run: the tcplab says: EOPNOTSUPP: tcplab run needs a tcplab with --queues 1" <<<"$out" ||
	tl_fail "tcplab run on --queues 2: exit $rc: $out"
tl_ok "tcplab run refused: $(head -1 <<<"$out")"
kill -USR1 "$TL_PID"
for _ in $(seq 50); do grep -q "^tcplab counters (all queues):" "$TL_TMP/stderr" && break; sleep 0.1; done
grep -q "^tcplab counters (all queues):" "$TL_TMP/stderr" || tl_fail "no counters after SIGUSR1"
tl_net_stop
for q in 0 1; do
	n=$(awk -v q="queue $q:" 'index($0, q) == 1 {print $NF}' "$TL_TMP/stderr")
	[ "${n:-0}" -gt 0 ] || tl_fail "queue $q established ${n:-no} connections, want some"
	tl_ok "queue $q: $n connections established"
done

# One capture of both queues, readable; trace lines whole (no mid-line mix).
tl_net_start "$TCPLAB" --queues 2 --pcap "$TL_TMP/q.pcap" --trace
tl_in timeout 60 $CLIENT 16 8192 >"$TL_TMP/client" 2>&1 || tl_fail "client with --pcap: $(cat "$TL_TMP/client")"
tl_net_stop
pkts=$(tcpdump -nr "$TL_TMP/q.pcap" 2>/dev/null | wc -l)
tcpdump -nr "$TL_TMP/q.pcap" >/dev/null 2>"$TL_TMP/tcpdump" || tl_fail "tcpdump: $(cat "$TL_TMP/tcpdump")"
[ "$pkts" -gt 100 ] || tl_fail "the capture holds $pkts packets"
bad=$(grep -cvE '^[0-9]+\.[0-9]{6} ' "$TL_TMP/stdout")
[ "$bad" -eq 0 ] || tl_fail "$bad trace lines do not start with a time: $(grep -vE '^[0-9]+\.[0-9]{6} ' "$TL_TMP/stdout" | head -3)"
tl_ok "--pcap: $pkts packets of both queues read back; $(wc -l <"$TL_TMP/stdout") trace lines, all whole"

# --user: all queues open, then nobody with no capabilities; still serving.
tl_net_start "$TCPLAB" --queues 2 --user nobody --services echo
uid=$(awk '/^Uid:/ {print $3}' "/proc/$TL_PID/status")
[ "$uid" = "$(id -u nobody)" ] || tl_fail "--user nobody: effective uid $uid"
tl_in timeout 60 $CLIENT 8 4096 >"$TL_TMP/client" 2>&1 || tl_fail "client with --user: $(cat "$TL_TMP/client")"
tl_net_stop
tl_ok "--queues 2 --user nobody: uid $uid, 8 connections echoed"

# Refusals: one line on stderr, a non-zero exit.
tl_in ip tuntap add dev tl5 mode tun || tl_fail "cannot make a single-queue device"
tl_in timeout 10 "$TCPLAB" --queues 2 --tun tl5 >/dev/null 2>"$TL_TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TL_TMP/err")" -eq 1 ] &&
	grep -q "^tcplab: --queues: the kernel refuses a multi-queue TUN device tl5" "$TL_TMP/err" ||
	tl_fail "--queues 2 on a single-queue device: exit $rc: $(cat "$TL_TMP/err")"
tl_ok "single-queue device refused: $(cat "$TL_TMP/err")"
tl_in timeout 10 "$TCPLAB" --queues 2 --connect 10.10.0.1:7 </dev/null >/dev/null 2>"$TL_TMP/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$TL_TMP/err")" -eq 1 ] && grep -q "^tcplab: --connect needs --queues 1" "$TL_TMP/err" ||
	tl_fail "--queues 2 --connect: exit $rc: $(cat "$TL_TMP/err")"
tl_ok "--connect refused: $(cat "$TL_TMP/err")"
