#!/usr/bin/env bash
# --user: once the TUN device and the pcap file are open, tcplab runs as an
# unprivileged user with no capabilities, and still answers ping and TCP,
# writes its capture and its trace. An unknown user is a usage error.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
user=nobody
uid=$(id -u "$user" 2>/dev/null) || tl_net_skip "no user $user"

tl_in "$TCPLAB" --user no-such-user-tl >/dev/null 2>"$TL_TMP/bad"
rc=$?
[ $rc -eq 2 ] || tl_fail "unknown user: exit $rc, want 2"
[ "$(wc -l <"$TL_TMP/bad")" -eq 1 ] && grep -q "no such user 'no-such-user-tl'" "$TL_TMP/bad" ||
	tl_fail "unknown user: want one line naming it, got: $(cat "$TL_TMP/bad")"
tl_ok "an unknown user is refused with one line and exit 2"

# Root without the capabilities to switch users: a run-time failure, exit 1.
if command -v setpriv >/dev/null; then
	tl_in setpriv --bounding-set=-setpcap,-setgid,-setuid "$TCPLAB" --tun tlpriv --user "$user" \
		>/dev/null 2>"$TL_TMP/nocap"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$TL_TMP/nocap")" -eq 1 ] &&
		grep -q "^tcplab: --user $user: PR_CAPBSET_DROP: " "$TL_TMP/nocap" ||
		tl_fail "without CAP_SETPCAP: exit $rc, $(cat "$TL_TMP/nocap")"
	tl_ok "without the capabilities to drop them, one line and exit 1"
fi

tl_net_start "$TCPLAB" --user "$user" --trace --pcap "$TL_TMP/cap.pcap"
field() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$TL_PID/status"; }
[ "$(field Uid)" = "$uid $uid $uid $uid" ] || tl_fail "Uid is '$(field Uid)', want $uid x4"
for f in CapEff CapPrm CapInh CapAmb CapBnd; do
	[ "$(field $f)" = 0000000000000000 ] || tl_fail "$f is $(field $f), want 0"
done
[ "$(field NoNewPrivs)" = 1 ] || tl_fail "NoNewPrivs is $(field NoNewPrivs)"
tl_ok "tcplab runs as uid $uid with no capabilities and no_new_privs"

tl_in ping -c 3 -i 0.2 -W 1 10.10.0.2 >"$TL_TMP/ping" 2>&1 ||
	tl_fail "ping after the drop: $(tail -2 "$TL_TMP/ping")"
got=$(echo "still here" | tl_in timeout 10 nc -N 10.10.0.2 7) || tl_fail "TCP echo: nc failed"
[ "$got" = "still here" ] || tl_fail "TCP echo after the drop returned '$got'"
tl_ok "ping and TCP echo work after the drop"

tl_net_stop
grep -q "ESTABLISHED" "$TL_TMP/stdout" || tl_fail "no trace lines after the drop"
n=$(tcpdump -nr "$TL_TMP/cap.pcap" 2>/dev/null | grep -c "10.10.0.2")
[ "$n" -ge 10 ] || tl_fail "the capture holds $n packets, want the ping and the connection"
tl_ok "the trace and the capture ($n packets) were written as $user"

# --connect after the drop: the client side needs no privilege either.
tl_in timeout 15 sh -c 'echo from-linux | nc -l -N 5000' >"$TL_TMP/server_got" 2>&1 &
server=$!
for _ in $(seq 100); do tl_in ss -ltn | grep -q ":5000 " && break; sleep 0.05; done
echo from-tcplab | tl_in timeout 15 "$TCPLAB" --user "$user" --connect 10.10.0.1:5000 \
	>"$TL_TMP/client_out" 2>"$TL_TMP/client_err" || tl_fail "--connect as $user: $(tail -3 "$TL_TMP/client_err")"
wait $server
grep -q from-tcplab "$TL_TMP/server_got" || tl_fail "the Linux server got '$(cat "$TL_TMP/server_got")'"
grep -q from-linux "$TL_TMP/client_out" || tl_fail "tcplab --connect printed '$(cat "$TL_TMP/client_out")'"
tl_ok "--connect works as $user, both ways"
