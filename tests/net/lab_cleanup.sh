#!/usr/bin/env bash
# tools/lab leaves nothing behind: what the command started in the background
# (nc &, sleep &) ends with it, tcplab too, and the namespace is deleted.
set -u
tcplab=$1 root=$2
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TL_TCPLAB=$tcplab TMPDIR=$tmp
# A listener and a sleeper left running in the background; the lab's
# namespace and tcplab's PID written down before the command returns.
TL_LAB_USER= "$root/tools/lab" -- sh -c '
	nc -l 10.10.0.1 7777 </dev/null >/dev/null 2>&1 &
	echo $! >"$TMPDIR/nc"
	sleep 300 &
	echo $! >"$TMPDIR/sleep"
	echo "$TL_LAB_PID" >"$TMPDIR/tcplab"
	ip netns identify $$ >"$TMPDIR/ns"' >"$tmp/out" 2>&1 || fail "tools/lab: $(cat "$tmp/out")"
ns=$(cat "$tmp/ns")
[ -n "$ns" ] || fail "the command did not run in a named namespace"
# Ended: gone, or a zombie its new parent has not reaped yet.
alive() { [ -n "$(ps -o stat= -p "$1" 2>/dev/null | grep -v '^Z')" ]; }
for what in nc sleep tcplab; do
	p=$(cat "$tmp/$what")
	[ -n "$p" ] || fail "no PID for $what"
	for _ in $(seq 20); do alive "$p" || break; sleep 0.1; done
	if alive "$p"; then
		kill -KILL "$p" 2>/dev/null # ours: the command above started it
		fail "$what (PID $p) still runs after tools/lab exited"
	fi
done
ip netns list | grep -qw "$ns" && fail "namespace $ns is still there"
echo "ok: tools/lab ended nc &, sleep & and tcplab and deleted $ns"
