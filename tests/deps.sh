#!/bin/sh
# Install the Debian packages vipd's build, tests, demo and benchmark need.
# Only missing packages are installed; nothing happens when all are present.
# patroni, etcd and psycopg2 are for the end-to-end runs (make e2e, and the
# one short end-to-end test in make check, tests/net/test_e2e_smoke.py);
# zookeeperd (with a headless JRE) and python3-kazoo, Patroni's ZooKeeper
# client, are for make e2e's seed 004 (Patroni with ZooKeeper as its DCS)
# only: `deps.sh --e2e` (make e2e) adds them, so make check does not
# install a Java runtime.
# clang and libclang-rt-dev (libFuzzer's runtime) are for make fuzz.
set -e
E2E_PKGS=""
[ "${1:-}" = --e2e ] && E2E_PKGS="zookeeperd default-jre-headless python3-kazoo"
PKGS="gcc make pkg-config libinih-dev libnl-3-dev libnl-route-3-dev libcap-ng-dev libcmocka-dev
      libcurl4-openssl-dev libpq-dev libmicrohttpd-dev prometheus
      python3 python3-pytest python3-scapy tshark tcpdump keepalived iproute2
      procps psmisc valgrind strace nftables haproxy postgresql
      patroni etcd-server etcd-client python3-psycopg2
      clang libclang-rt-dev $E2E_PKGS"
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
# keepalived, haproxy, postgresql, etcd, patroni, zookeeperd and prometheus
# ship services that Debian starts on install. The tests start their own copies, in namespaces, and must never stop or touch
# the host's: so nothing is started during this install (policy-rc.d 101,
# the Debian way), and nothing that runs on the host is stopped.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi
rc=0
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; } || rc=$?
[ -n "$own_policy" ] && rm -f "$policy"
exit $rc
