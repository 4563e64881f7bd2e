# Shared by tools/lab, tools/test and the network tests. Source it; do not run it.

TL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages tcplab needs to build, test and run its lab.
TL_PACKAGES="meson ninja-build pkg-config gcc clang check libpcap-dev iproute2 gnuplot-nox
iputils-ping netcat-openbsd socat tshark tcpdump python3 python3-scapy iptables
libclang-rt-14-dev ethtool hping3 iperf3 nginx-light gunicorn wget curl librsvg2-bin"

tl_log() { printf '%s\n' "$*" >&2; }

# A script's --help: its leading comment block, the one place it is written.
tl_usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$1"; }

# Installs the Debian packages that are missing (needs root and apt-get):
# with no arguments TL_PACKAGES, saying what it does; with --optional PKG...
# those, quietly. Non-zero if any could not be installed.
tl_install_packages() {
	local optional=0 missing=() p
	[ "${1:-}" = --optional ] && { optional=1; shift; }
	for p in ${@:-$TL_PACKAGES}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		[ $optional = 1 ] || tl_log "tcplab: missing packages: ${missing[*]} (run as root to install them)"
		return 1
	fi
	[ $optional = 1 ] || tl_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture: answer no, never block.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections 2>/dev/null || true
	echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections 2>/dev/null || true
	local quiet=/dev/stderr
	[ $optional = 0 ] || quiet=/dev/null
	# Installed servers (nginx, iperf3) are not started: tests start their own.
	local policy=/usr/sbin/policy-rc.d made=0
	[ -e $policy ] || { printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && made=1; }
	apt-get update -qq >/dev/null 2>"$quiet"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>"$quiet"
	local rc=$?
	[ $made = 0 ] || rm -f $policy
	return $rc
}

# Configures (once) and builds a build directory: tl_build DIR [meson args...]
tl_build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$TL_ROOT" "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >/dev/null || ninja -C "$dir"
}
