# Shared by the tcplab run tests (run.sh, run_apps.sh): programs started in
# the test's namespace, ended on exit. Source it after netlib.sh, with
# TCPLAB set.
PIDS=""
# Each PID is a `timeout` running a program: SIGTERM, which timeout passes
# on to the program (SIGKILL would leave the program running without it).
tl_run_cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 30); do
		local alive=0
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	tl_net_cleanup
}
trap tl_run_cleanup EXIT

run() { tl_in timeout 30 "$TCPLAB" run -- "$@"; }
# bg NAME COMMAND...: started in the namespace in the background (its PID
# in LAST: ip netns exec and tcplab run exec it), output in $TL_TMP/NAME.
bg() {
	local name=$1
	shift
	ip netns exec "$TL_NS" "$@" >"$TL_TMP/$name" 2>&1 &
	PIDS="$PIDS $!"
	LAST=$!
}
