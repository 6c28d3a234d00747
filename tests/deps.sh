#!/bin/sh
# Install the Debian packages vipd's build, tests, demo and benchmark need.
# Only missing packages are installed; nothing happens when all are present.
set -e
PKGS="gcc make pkg-config libinih-dev libnl-3-dev libnl-route-3-dev libcmocka-dev
      libcurl4-openssl-dev libpq-dev
      python3 python3-pytest python3-scapy tshark tcpdump keepalived iproute2
      procps psmisc valgrind strace haproxy postgresql"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The keepalived package may start its own service; vipd's tests start
# keepalived themselves, in namespaces, so make sure none runs here.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q keepalived 2>/dev/null; then
	systemctl stop keepalived || true
	systemctl disable keepalived || true
fi
pkill -x keepalived 2>/dev/null || true
# Same for haproxy: the tests start their own, in namespaces.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q haproxy 2>/dev/null; then
	systemctl stop haproxy || true
fi
pkill -x haproxy 2>/dev/null || true
exit 0
