# Shared by the network tests: a namespace of our own with tcplab in it.
# Source it, then call tl_net_start TCPLAB [tcplab options]. Every packet stays
# in that namespace; it is deleted on exit, also on failure.

TL_NS="tl-test-$$-$RANDOM"
TL_PID=""
TL_TMP=$(mktemp -d /tmp/tl-test.XXXXXX)

tl_net_skip() { echo "SKIP: $*" >&2; exit 77; }
tl_fail() { echo "FAIL: $*" >&2; exit 1; }
tl_ok() { echo "ok: $*"; }

tl_net_cleanup() {
	if [ -n "$TL_PID" ] && kill -0 "$TL_PID" 2>/dev/null; then
		kill -TERM "$TL_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$TL_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$TL_PID" 2>/dev/null
	fi
	ip netns del "$TL_NS" 2>/dev/null
	rm -rf "$TL_TMP"
}

tl_net_require() {
	[ "$(id -u)" -eq 0 ] || tl_net_skip "network tests need root"
	[ -c /dev/net/tun ] || tl_net_skip "no /dev/net/tun"
	ip netns add "$TL_NS" 2>/dev/null || tl_net_skip "cannot create a network namespace"
	trap tl_net_cleanup EXIT
	ip -n "$TL_NS" link set lo up
}

# Runs a command inside the namespace.
tl_in() { ip netns exec "$TL_NS" "$@"; }

# Starts tcplab in the namespace; stdout (trace) and stderr go to files.
tl_net_start() {
	local exe=$1
	shift
	ip netns exec "$TL_NS" "$exe" "$@" >"$TL_TMP/stdout" 2>"$TL_TMP/stderr" &
	TL_PID=$!
	for _ in $(seq 100); do
		if tl_in ping -c 1 -W 1 10.10.0.2 >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$TL_PID" 2>/dev/null || tl_fail "tcplab exited: $(cat "$TL_TMP/stderr")"
		sleep 0.05
	done
	tl_fail "tcplab did not answer ping within 5 s"
}

# Stops tcplab with SIGTERM and checks it exits 0 within 5 s (it may still
# be answering a crowd of FINs when the signal comes).
tl_net_stop() {
	kill -TERM "$TL_PID"
	for _ in $(seq 100); do kill -0 "$TL_PID" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$TL_PID" 2>/dev/null && tl_fail "tcplab still running 5 s after SIGTERM"
	wait "$TL_PID"
	local rc=$?
	TL_PID=""
	[ "$rc" -eq 0 ] || tl_fail "tcplab exited $rc after SIGTERM"
}

# The value of one counter by its name, from counters as tcplab prints them
# ("name value  description") on standard input, or from its stderr.
tl_counter_of() { awk -v n="$1" '$1 == n {print $2}'; }
tl_counter() { tl_counter_of "$1" <"$TL_TMP/stderr"; }
