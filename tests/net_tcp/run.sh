#!/usr/bin/env bash
# tcplab run (issue 15): unmodified socket programs on tcplab. The classic
# echo pair on 127.0.0.1 with both ends under tcplab run; that server from
# nc and from Python threads on the kernel side; a program connecting out;
# http.server on :: fetched with curl; EADDRINUSE for a service's port; a
# raw socket and TCP_INFO refused clearly; the UDP echo pair, nc -u; a
# nonblocking connect; SIGKILL ending connections as the
# kernel would (RST with unread data, else FIN) and freeing the port;
# tcplab ss showing a program's connection; POSIX behaviour (epoll, fork,
# sendfile, MSG_PEEK, shutdown...); garbage on the channel; tcplab stopping.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
PROG="/usr/bin/python3 $(dirname "$0")/run_progs.py"
tl_net_require
. "$(dirname "$0")/runlib.sh"
# wait_for FILE PATTERN: within 5 s.
wait_for() {
	for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	tl_fail "waited 5 s for '$2' in $(basename "$1"): $(cat "$1")"
}

out=$(tl_in "$TCPLAB" run -- true 2>&1); rc=$?
[ "$rc" -eq 1 ] && [ "$out" = "tcplab: no tcplab is running in this network namespace" ] ||
	tl_fail "run with no tcplab: exit $rc: $out"
out=$(tl_in "$TCPLAB" run 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "no command" <<<"$out" || tl_fail "run without a command: $rc $out"
out=$(tl_in "$TCPLAB" run --tun tl9 -- true 2>&1); rc=$?
[ "$rc" -eq 1 ] && [ "$out" = "tcplab: no tcplab is running on tl9 in this network namespace" ] ||
	tl_fail "run --tun tl9 with no tcplab: exit $rc: $out"
tl_in "$TCPLAB" run --help | grep -q "usage: tcplab run \[--tun NAME\] -- COMMAND" ||
	tl_fail "tcplab run --help"
tl_ok "no tcplab running, no command, --help"

tl_net_start "$TCPLAB" --services discard,chargen,qotd --seed 3
run sh -c 'exit 7'; rc=$?
[ "$rc" -eq 7 ] || tl_fail "tcplab run -- sh -c 'exit 7' exited $rc"
tl_ok "the exit status is the command's"

EXAMPLES="$(dirname "$0")/../../docs/examples" # the programs chapter 13 shows
bg server timeout 60 "$TCPLAB" run -- /usr/bin/python3 "$EXAMPLES/echo_server.py"
SERVER=$LAST
for _ in $(seq 50); do tl_in "$TCPLAB" ss | grep -q "LISTEN.*:65432" && break; sleep 0.1; done
out=$(run /usr/bin/python3 "$EXAMPLES/echo_client.py") || tl_fail "echo client: $out"
[ "$out" = "Received b'Hello Server!'" ] || tl_fail "echo client printed: $out"
wait_for "$TL_TMP/server" "Connected by ('127.0.0.1'"
tl_ok "the classic echo pair on 127.0.0.1:65432, both under tcplab run: $out"

out=$(echo "hello over nc" | tl_in timeout 10 nc -q 1 10.10.0.2 65432)
[ "$out" = "hello over nc" ] || tl_fail "nc 10.10.0.2 65432 got: $out"
tl_ok "nc from the namespace shell to the program's server"
tl_in timeout 120 $PROG bulk 10.10.0.2 65432 200 102400 || tl_fail "200 x 100 KB from the kernel side"
tl_ok "200 concurrent connections from Python threads on the kernel side, 100 KB each echoed byte for byte"

bg peer timeout 30 $PROG peer read 6000
wait_for "$TL_TMP/peer" listening
out=$(run $PROG connect_out 10.10.0.1 6000) || tl_fail "connect_out: $out"
grep -q "local 10.10.0.2 peer ('10.10.0.1', 6000)" <<<"$out" || tl_fail "connect_out: $out"
wait_for "$TL_TMP/peer" "peer: FIN"
tl_ok "a program connecting to a kernel-side server; it closed with FIN"

mkdir -p "$TL_TMP/www" && echo "served by tcplab" >"$TL_TMP/www/index.html"
bg http timeout 60 "$TCPLAB" run -- /usr/bin/python3 -m http.server --bind :: \
	--directory "$TL_TMP/www" 8080
for _ in $(seq 50); do tl_in "$TCPLAB" ss | grep -q "LISTEN.*:8080" && break; sleep 0.1; done
out=$(tl_in curl -s -m 10 http://10.10.0.2:8080/index.html)
[ "$out" = "served by tcplab" ] || tl_fail "curl http.server: $out $(cat "$TL_TMP/http")"
wait_for "$TL_TMP/http" '::ffff:10.10.0.1 .*GET /index.html HTTP/1.1" 200'
tl_ok "python3 -m http.server --bind :: answered curl; the peer was ::ffff:10.10.0.1"

out=$(run $PROG bind_port 9)
[ "$out" = "EADDRINUSE" ] || tl_fail "bind to the discard port: $out"
grep -q "port 9 is held by tcplab's discard service (tcplab --services without discard frees it)" \
	"$TL_TMP/stderr" || tl_fail "tcplab did not say who holds port 9"
tl_ok "bind to port 9: EADDRINUSE; tcplab says the discard service holds it"

out=$(run $PROG posix) || tl_fail "posix: $out"
tl_ok "${out#ok: }"

tl_in timeout 60 $PROG garbage >"$TL_TMP/garbage" || tl_fail "garbage: $(cat "$TL_TMP/garbage")"
tl_in "$TCPLAB" ss >/dev/null && kill -0 "$TL_PID" || tl_fail "tcplab is gone after the garbage"
tl_ok "garbage on the channel: one error line each, tcplab goes on ($(wc -l <"$TL_TMP/garbage") requests)"

# Another user may not attach (SO_PEERCRED): nobody, from copies it can run.
mkdir -m 755 "$TL_TMP/pub" && chmod 711 "$TL_TMP" && install -m 755 "$TCPLAB" \
	"$(dirname "$TCPLAB")/libtcplab-preload.so" "$(dirname "$0")/run_progs.py" "$TL_TMP/pub/"
out=$(tl_in setpriv --reuid=65534 --regid=65534 --clear-groups "$TL_TMP/pub/tcplab" run -- \
	/usr/bin/python3 "$TL_TMP/pub/run_progs.py" bind_port 7100 2>"$TL_TMP/nobody.err")
[ "$out" = EACCES ] && [ "$(wc -l <"$TL_TMP/nobody.err")" -eq 1 ] &&
	grep -q "permission denied: uid 65534" "$TL_TMP/nobody.err" ||
	tl_fail "nobody attaching: $out $(cat "$TL_TMP/nobody.err")"
tl_ok "another user may not attach: EACCES, $(cat "$TL_TMP/nobody.err")"

run $PROG raw >"$TL_TMP/uns" 2>"$TL_TMP/uns.err"
[ "$(cat "$TL_TMP/uns")" = EPROTONOSUPPORT ] && [ "$(wc -l <"$TL_TMP/uns.err")" -eq 1 ] &&
	grep -q "not supported on tcplab" "$TL_TMP/uns.err" || tl_fail "raw: $(cat "$TL_TMP/uns" "$TL_TMP/uns.err")"
tl_ok "a raw socket fails clearly: EPROTONOSUPPORT, $(cat "$TL_TMP/uns.err")"
out=$(run $PROG tcp_info) || tl_fail "TCP_INFO: $out"
tl_ok "TCP_INFO in Linux's layout from tcplab's numbers: $out"

kill "$SERVER"
bg userver timeout 30 "$TCPLAB" run -- $PROG udp_server
wait_for "$TL_TMP/userver" bound
out=$(run $PROG udp_client) || tl_fail "UDP client: $out"
[ "$out" = "Received b'Hello Server!' from ('127.0.0.1', 65432)" ] || tl_fail "UDP client: $out"
wait_for "$TL_TMP/userver" "from ('127.0.0.1', [0-9]*) b'Hello Server!'"
out=$(echo "udp from nc" | tl_in timeout 5 nc -u -w 1 10.10.0.2 65432)
[ "$out" = "udp from nc" ] || tl_fail "nc -u to the program's UDP server: $out"
out=$(tl_in timeout 10 $PROG udp_client 10.10.0.2) || tl_fail "kernel-side UDP client: $out"
grep -q "from ('10.10.0.2', 65432)" <<<"$out" || tl_fail "kernel-side UDP client: $out"
tl_ok "the UDP echo pair on 127.0.0.1:65432, then nc -u and Python from the kernel side"

bg rst timeout 30 $PROG rst_peer 6003
wait_for "$TL_TMP/rst" listening
out=$(run $PROG reset_seen 10.10.0.1 6003 47001 | tr '\n' ' ')
[ "$out" = "bound and connected from 47001 ECONNRESET got b'' EPIPE " ] ||
	tl_fail "a peer's reset: $out"
wait_for "$TL_TMP/rst" "peer: from 47001"
tl_ok "connect after bind came from port 47001; the peer's RST: $out"

bg lo timeout 30 "$TCPLAB" run -- $PROG loop_server 127.0.0.1 7400 20
wait_for "$TL_TMP/lo" listening
out=$(run sh -c 'echo over the loopback | nc -q 1 127.0.0.1 7400')
[ "$out" = "over the loopback" ] || tl_fail "127.0.0.1:7400 from a program under tcplab run: $out"
tl_ok "a selector accept loop on 127.0.0.1 reached over tcplab's loopback by nc under tcplab run"

bg exec_child timeout 30 "$TCPLAB" run -- $PROG exec_child 7402
wait_for "$TL_TMP/exec_child" listening
out=$(tl_in timeout 10 nc -N 10.10.0.2 7402 </dev/null)
[ "$out" = "exec'd: peer 10.10.0.1 local port 7402" ] || tl_fail "a socket inherited across exec: $out"
tl_ok "a connection inherited across exec, inetd's way, is still a TCP socket: $out"

for to in 10.10.0.1 127.0.0.1; do
	out=$(run $PROG udp_refused $to 6998)
	[ "$out" = ECONNREFUSED ] || tl_fail "a connected UDP socket to closed $to:6998: $out"
done
tl_ok "a connected UDP socket to a closed port, kernel-side and on tcplab's loopback: ECONNREFUSED"

out=$(run $PROG nonblocking 10.10.0.1 6999 | tr '\n' ' ')
[ "$out" = "connect EINPROGRESS SO_ERROR ECONNREFUSED " ] || tl_fail "nonblocking connect: $out"
tl_ok "nonblocking connect: $out"

for mode in unread read; do
	bg peer_$mode timeout 30 $PROG peer $mode 6001
	wait_for "$TL_TMP/peer_$mode" listening
	bg hold_$mode "$TCPLAB" run -- $PROG hold 10.10.0.1 6001
	wait_for "$TL_TMP/hold_$mode" connected
	if [ $mode = read ]; then
		port=$(awk '{print $2}' "$TL_TMP/hold_$mode")
		tl_in "$TCPLAB" ss | grep -q "ESTAB.*10.10.0.2:$port *10.10.0.1:6001" ||
			tl_fail "tcplab ss does not show the program's connection: $(tl_in "$TCPLAB" ss)"
		tl_ok "tcplab ss shows the program's connection 10.10.0.2:$port -> 10.10.0.1:6001"
	fi
	sleep 0.3
	kill -KILL "$LAST"
	want=$([ $mode = unread ] && echo RST || echo FIN)
	wait_for "$TL_TMP/peer_$mode" "peer: $want"
	tl_ok "SIGKILL with $mode data: the kernel-side peer saw $want"
done

# A program that never reads: tcplab's window closes on the wire, and what
# it holds for the program is bounded (16 KiB staged) and counted.
bg flood timeout 30 $PROG flood 6004 3
wait_for "$TL_TMP/flood" listening
bg zwin timeout 20 tcpdump -i tl0 -n -c 1 -l "src host 10.10.0.2 and tcp dst port 6004 and tcp[14:2] = 0"
bg lazy "$TCPLAB" run -- $PROG hold 10.10.0.1 6004
LAZY=$LAST
wait_for "$TL_TMP/flood" "flood: sent"
wait_for "$TL_TMP/zwin" "win 0"
stats=$(tl_in "$TCPLAB" stats)
staged=$(awk '$0 ~ /bytes taken from the stack, not yet in a program/ {print $1}' <<<"$stats")
held=$(tl_in "$TCPLAB" ss | awk '$6 ~ /:6004$/ {print $3}')
[ -n "$staged" ] && [ "$staged" -le 16384 ] && [ "${held:-0}" -gt 0 ] ||
	tl_fail "a program that does not read: staged '$staged', Recv-Q '$held': $stats"
tl_ok "a program that never reads: tcplab advertised win 0; $staged bytes staged, $held held in the stack's receive queue"
kill -KILL "$LAZY"

bg rp1 timeout 30 "$TCPLAB" run -- $PROG reuseport_server 7600 25
RP1=$LAST
wait_for "$TL_TMP/rp1" listening
bg rp2 timeout 30 "$TCPLAB" run -- $PROG reuseport_server 7600 25
wait_for "$TL_TMP/rp2" listening
[ "$(run $PROG bind_port 7600)" = EADDRINUSE ] || tl_fail "a socket without SO_REUSEPORT took a shared port"
pids=$(tl_in timeout 20 $PROG pids_of 10.10.0.2 7600 10 | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
[ "$pids" = "5 5 " ] || tl_fail "SO_REUSEPORT: 10 connections went to: $pids"
kill -TERM "$RP1"
for _ in $(seq 50); do kill -0 "$RP1" 2>/dev/null || break; sleep 0.1; done
pids=$(tl_in timeout 20 $PROG pids_of 10.10.0.2 7600 4 | sort -u | wc -l)
[ "$pids" = 1 ] || tl_fail "SO_REUSEPORT after one server left: $pids servers answered"
tl_ok "SO_REUSEPORT: two servers on port 7600 took 5 of 10 connections each; after one left, the other took all"

bg holder "$TCPLAB" run -- $PROG serve_hold 7000
wait_for "$TL_TMP/holder" listening
[ "$(run $PROG bind_port 7000)" = EADDRINUSE ] || tl_fail "port 7000 not held by its program"
kill -KILL "$LAST"
for _ in $(seq 50); do out=$(run $PROG bind_port 7000); [ "$out" = bound ] && break; sleep 0.1; done
[ "$out" = bound ] || tl_fail "port 7000 still held after its program was killed: $out"
tl_ok "a killed program's port is free again"

bg peer_gone timeout 30 $PROG peer read 6002
wait_for "$TL_TMP/peer_gone" listening
bg gone "$TCPLAB" run -- $PROG until_gone 10.10.0.1 6002
wait_for "$TL_TMP/gone" connected
bg idle_server timeout 60 "$TCPLAB" run -- $PROG loop_server 0.0.0.0 7401 4
IDLE=$LAST
wait_for "$TL_TMP/idle_server" listening
tl_net_stop
wait_for "$TL_TMP/gone" "ended E\(PIPE\|CONNABORTED\)"
tl_ok "tcplab stopping: the program's connection $(grep ended "$TL_TMP/gone")"
for _ in $(seq 100); do kill -0 "$IDLE" 2>/dev/null || break; sleep 0.1; done
errs=$(awk '/accept errors/ {print $3}' "$TL_TMP/idle_server")
[ -n "$errs" ] && [ "$errs" -le 2 ] && grep -q "tcplab stopped: listening socket .* accepts no more" \
	"$TL_TMP/idle_server" || tl_fail "a listener after tcplab stopped: $(cat "$TL_TMP/idle_server")"
tl_ok "a server's accept loop after tcplab stopped sleeps: $errs failed accept, not a spin"
