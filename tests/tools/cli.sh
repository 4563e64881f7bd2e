#!/usr/bin/env bash
# The command line: bad values get one line naming the problem and exit 2;
# the TCP settings and --trace=json reach the core (seen through --replay).
set -u
tcplab=$1 captures=$2
fail() { echo "FAIL: $*"; exit 1; }
bad() {
	local want=$1
	shift
	err=$("$tcplab" "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "$* exited $rc"
	[ "$(wc -l <<<"$err")" -eq 1 ] || fail "$*: more than one line: $err"
	grep -q -- "$want" <<<"$err" || fail "$*: '$err' does not say '$want'"
}
# Every option's bad values come from the table tcplab parses with
# (--list-options: flag, value, kind, what it accepts, default).
table=$("$tcplab" --list-options) || fail "--list-options exited $?"
n=0
while IFS=$'\t' read -r flag meta kind accepts dflt; do
	case $kind in
	number)
		lo=${accepts%%..*} hi=${accepts#*..}
		hi=${hi%% *}
		bad "bad value 'x' for $flag (want $accepts)" "$flag" x
		bad "bad value '-1' for $flag" "$flag" -1
		[ "$lo" -eq 0 ] || bad "bad value '$((lo - 1))' for $flag" "$flag" $((lo - 1))
		[ ${#hi} -gt 18 ] || bad "bad value '$((hi + 1))' for $flag" "$flag" $((hi + 1))
		;;
	choice)
		# "[on|off]": the value may be left out, so a bad one is known only after '='.
		if [ "${meta:0:1}" = "[" ]; then
			bad "bad value 'bogus' for $flag (want $accepts)" "$flag=bogus"
		else
			bad "bad value 'bogus' for $flag (want $accepts)" "$flag" bogus
		fi
		;;
	address) bad "bad value '1.2.3' for $flag (want A.B.C.D)" "$flag" 1.2.3 ;;
	string)
		bad "bad value '' for $flag" "$flag" ""
		hi=${accepts#*..}
		hi=${hi%% *}
		long=$(head -c $((hi + 1)) /dev/zero | tr '\0' x)
		bad "bad value '$long' for $flag" "$flag" "$long"
		;;
	probability | duration | rate)
		for f in "$flag" "--in-${flag#--}" "--out-${flag#--}"; do
			bad "bad value 'zz' for $f (want $accepts)" "$f" zz
		done
		;;
	switch) bad "$flag takes no value" "$flag=1" ;;
	esac
	[ "$kind" = switch ] || [ "${meta:0:1}" = "[" ] || bad "$flag needs a value" "$flag"
	n=$((n + 1))
done < <(grep -v '^#' <<<"$table")
[ "$n" -gt 30 ] || fail "--list-options lists only $n options"
bad "--trace takes text or json, not 'xml'" --trace=xml
bad "unknown option '--frobnicate'" --frobnicate 1
bad "bad value '1.2.3.4' for --kernel-addr" --kernel-addr 1.2.3.4
bad "bad value '1.2.3.4:0' for --connect" --connect 1.2.3.4:0
bad "--faults-in: unknown fault 'bogus'" --faults-in bogus=1
bad "--faults-out: bad value '2' for loss" --faults-out loss=2
bad "--addr must be another address in the --kernel-addr subnet" --addr 10.10.0.1
bad "no such user 'nosuchuser_zz'" --user nosuchuser_zz
bad "--services: unknown service 'bogus'" --services echo,bogus
bad "--services needs a list" --services ''
echo "ok: bad values of all $n options are refused with one line each"
help=$("$tcplab" --help) || fail "--help exited $?"
for f in $(grep -v '^#' <<<"$table" | cut -f1); do
	grep -q -- "^  $f" <<<"$help" || fail "--help does not mention $f"
done
echo "ok: --help lists every flag of the table"
# What --help, the subcommands' --help, --list-options and the bad-value
# errors print went through printf once: no format left in them ("5%%").
for args in --help --list-options "ss --help" "stats --help" "run --help" "--loss zz"; do
	# shellcheck disable=SC2086 # the words of args
	out=$("$tcplab" $args 2>&1)
	! grep -Eq '%%|%[0-9.-]*[sduxz]' <<<"$out" || fail "tcplab $args prints a printf format: $(grep -E '%%|%[0-9.-]*[sduxz]' <<<"$out")"
done
grep -q '0.05 or 5%)' <<<"$help" || fail "--help does not say '0.05 or 5%)'"
echo "ok: --help and the errors print 5%, not 5%%"
[ "$("$tcplab" --rcvbuf=4096 --replay "$captures/echo.pcap" 2>&1 | head -1)" = \
  "$("$tcplab" --rcvbuf 4096 --replay "$captures/echo.pcap" 2>&1 | head -1)" ] ||
	fail "--flag=value and --flag value differ"
"$tcplab" --replay "$captures/slow_start.pcap" >/dev/null || fail "slow_start.pcap diverges with defaults"
"$tcplab" --replay "$captures/slow_start.pcap" --init-cwnd 1 >/dev/null &&
	fail "--init-cwnd 1 did not change what tcplab sent"
"$tcplab" --replay "$captures/echo.pcap" --rcvbuf 4096 >/dev/null &&
	fail "--rcvbuf 4096 did not change the advertised window"
echo "ok: --init-cwnd and --rcvbuf reach the core"
# --offload [on|off]: alone it means on (old command lines); the replay has no device.
for args in "--offload" "--offload on" "--offload off" "--offload=off" "--offload --seed 1"; do
	# shellcheck disable=SC2086 # the words of args
	"$tcplab" $args --replay "$captures/echo.pcap" >/dev/null || fail "tcplab $args: exit $?"
done
bad "unexpected argument 'bogus'" --offload bogus
echo "ok: --offload, --offload on|off and --offload=off are read; a replay is the same with each"
"$tcplab" --replay "$captures/echo.pcap" --services echo,qotd >/dev/null ||
	fail "echo.pcap diverges with --services echo,qotd"
out=$("$tcplab" --replay "$captures/echo.pcap" --services discard,chargen,qotd) &&
	fail "--services without echo still answered port 7"
grep -q "DIVERGENCE at packet 3 .*flags differs" <<<"$out" || fail "--services: $out"
echo "ok: --services starts only the services it names"
# fast_retransmit.pcap was recorded with Reno: CUBIC's smaller reduction
# (RFC 9438 4.6) sends more, so its replay diverges.
"$tcplab" --replay "$captures/fast_retransmit.pcap" --recovery newreno --cc reno >/dev/null ||
	fail "fast_retransmit.pcap diverges with --cc reno"
"$tcplab" --replay "$captures/fast_retransmit.pcap" --recovery newreno --cc cubic >/dev/null &&
	fail "--cc cubic did not change what tcplab sent after a loss"
echo "ok: --cc reaches the core"
"$tcplab" --replay "$captures/echo.pcap" --trace=json | grep '^{' | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
kinds = {e["ev"] for e in ev}
assert {"seg", "state"} <= kinds, kinds
assert all(isinstance(e["t"], float) for e in ev)
syn = next(e for e in ev if e["ev"] == "seg" and e["flags"] == "S")
assert syn["dport"] == 7 and syn["dir"] == "in", syn
print("ok: --trace=json: %d events, kinds %s" % (len(ev), sorted(kinds)))
' || fail "--trace=json"
