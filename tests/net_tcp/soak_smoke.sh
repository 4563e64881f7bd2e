#!/usr/bin/env bash
# tools/soak keeps working: soak_smoke.sh TCPLAB runs it for 20 seconds
# (its own namespace, faults both ways, mixed traffic) and wants its PASS,
# a report line every 2 s and a summary.
set -u
TCPLAB=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network tests need root" >&2; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
out=$(mktemp /tmp/tl-soak-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
TL_TCPLAB=$TCPLAB timeout 100 "$root/tools/soak" --seconds 20 --interval 2 >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || { echo "FAIL: tools/soak exited $rc" >&2; exit 1; }
n=$(grep -c "^t= *[0-9]*s ping " "$out")
[ "$n" -ge 8 ] || { echo "FAIL: $n report lines, want about 10" >&2; exit 1; }
grep -q "^summary after" "$out" && grep -q "^soak: PASS" "$out" ||
	{ echo "FAIL: no summary or no PASS" >&2; exit 1; }
echo "ok: tools/soak ran 20 s with $n reports and passed"
