#!/usr/bin/env bash
# Checkpoint 8: the student's tcplab against Linux, over a TUN device, in
# a network namespace of this test's own (deleted at the end, also on
# failure; the host's network is never touched). tcplab must start and
# bring its device up, answer ping, echo over UDP and TCP, send chargen,
# echo a transfer under 5% loss each way (which needs its timers to fire),
# and take a bulk transfer, whose rate is the speed figure. Prints a TAP
# line per step ("ok N - what", or "not ok N - what" and why on lines that
# start "#   "), then "speed 8 RATE Mbit/s". Usage: lab.sh TCPLAB ROOT.
# Needs root, /dev/net/tun, ping and nc (netcat-openbsd); else exits 77.
set -u
tcplab=$1 root=$2
. "$root/tests/net/netlib.sh"
for tool in ping nc timeout; do
	command -v "$tool" >/dev/null || tl_net_skip "needs $tool"
done
tl_net_require

n=0 failed=0
step() { # step WHAT COMMAND...: one TAP line for the command's success
	local what=$1
	shift
	n=$((n + 1))
	# Not in a subshell: start must set TL_PID here, for the cleanup.
	if "$@" >"$TL_TMP/step" 2>&1; then
		echo "ok $n - $what"
	else
		failed=$((failed + 1))
		echo "not ok $n - $what"
		tail -c 300 "$TL_TMP/step" | sed 's/^/#   /'
	fi
}

# Starts tcplab with these options; true once tl0 is up in the namespace.
start() {
	ip netns exec "$TL_NS" "$tcplab" "$@" >"$TL_TMP/stdout" 2>"$TL_TMP/stderr" &
	TL_PID=$!
	for _ in $(seq 100); do
		ip -n "$TL_NS" link show tl0 2>/dev/null | grep -q UP && return 0
		kill -0 "$TL_PID" 2>/dev/null || { echo "tcplab exited: $(head -c 300 "$TL_TMP/stderr")"; return 1; }
		sleep 0.05
	done
	echo "tl0 was not up after 5 s"
	return 1
}

stop() {
	[ -n "$TL_PID" ] || return 0
	kill -TERM "$TL_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$TL_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$TL_PID" 2>/dev/null
	wait "$TL_PID" 2>/dev/null
	TL_PID=""
}

expect() { # expect WANT COMMAND...: the command prints WANT
	local want=$1 got
	shift
	got=$("$@") || { echo "exit $?: $got"; return 1; }
	[ "$got" = "$want" ] || { echo "printed '$(head -c 100 <<<"$got")', not '$want'"; return 1; }
}

in_ns() { ip netns exec "$TL_NS" "$@"; }

head -c 300000 /dev/urandom >"$TL_TMP/sent"
step "tcplab opens its TUN device and brings the link up" start
step "it answers ping" in_ns timeout 10 ping -c 3 -i 0.2 -W 2 10.10.0.2
step "UDP echo" expect hello in_ns timeout 10 sh -c 'echo hello | nc -u -w1 10.10.0.2 7'
step "TCP echo" expect hello in_ns timeout 10 sh -c 'echo hello | nc -N 10.10.0.2 7'
step "chargen, a megabyte from tcplab" expect 1000000 \
	in_ns timeout 15 sh -c 'nc -d 10.10.0.2 19 | head -c 1000000 | wc -c'
stop
step "tcplab starts again, with 5% loss each way" start --loss 0.05 --seed 1
step "TCP echo of 300 KB under that loss (its timers fire)" \
	in_ns timeout 30 sh -c "nc -N 10.10.0.2 7 <'$TL_TMP/sent' >'$TL_TMP/got' && cmp '$TL_TMP/sent' '$TL_TMP/got'"
stop

start >/dev/null
t0=$(date +%s.%N)
if in_ns timeout 30 sh -c 'head -c 100000000 /dev/zero | nc -N 10.10.0.2 9'; then
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "speed 8 %.1f Mbit/s\n", 8e8 / (b - a) / 1e6 }'
else
	echo "# the bulk transfer (100 MB to discard) did not finish within 30 s"
fi
stop
echo "1..$n"
[ "$failed" -eq 0 ]
