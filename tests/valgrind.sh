#!/bin/sh
# Run the unit tests, and a short vipd life cycle in a network namespace,
# under valgrind's leak checker. Any leak or error fails.
set -u
VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99"
fail=0
for t in "$@"; do
	if ! $VG "$t" >/dev/null 2>"$t.vg.log"; then
		echo "valgrind: $t FAILED"
		cat "$t.vg.log"
		fail=$((fail + 1))
	else
		echo "valgrind: $t clean"
	fi
done

# vipd itself: start in a namespace with one instance, let it become
# Master, query it, reload it three times, stop it with SIGTERM.
if [ "$(id -u)" = 0 ]; then
	ns="vg$$"
	dir=$(mktemp -d)
	cleanup() {
		[ -f "$dir/vg.pid" ] && kill "$(cat "$dir/vg.pid")" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "$dir"
	}
	trap cleanup EXIT INT TERM
	ip netns add "$ns"
	# A veth pair inside the namespace (the dummy driver may be missing).
	ip -n "$ns" link add eth0 type veth peer name eth1
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth1 up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add 192.0.2.11/24 dev eth0
	cat >"$dir/vipd.conf" <<EOC
[global]
pidfile = $dir/vipd.pid
state_dir = $dir
control_socket = $dir/vipd.sock
[instance VG]
interface = eth0
vrid = 7
priority = 150
advert_interval = 100ms
virtual_ip = 192.0.2.100/24
EOC
	ip netns exec "$ns" $VG "$VIPD_BUILD/vipd" -n -f "$dir/vipd.conf" 2>"$dir/vipd.log" &
	echo $! >"$dir/vg.pid"
	i=0
	while [ $i -lt 100 ] && ! ip -n "$ns" addr show dev eth0 | grep -q 192.0.2.100; do
		sleep 0.1
		i=$((i + 1))
	done
	became_master=0
	ip -n "$ns" addr show dev eth0 | grep -q 192.0.2.100 && became_master=1
	ip netns exec "$ns" "$VIPD_BUILD/vipctl" -S "$dir/vipd.sock" status >/dev/null 2>&1 || true

	# Reloads: an instance (on a virtual MAC link) with a sync group and a
	# check added, a VIP added, a priority changed; then the check changed
	# and the instance and group removed (its notify_stop runs from the
	# retiring list); then a bad file refused;
	# then a drain and an undrain.
	reload_failed=0
	vgctl() { ip netns exec "$ns" "$VIPD_BUILD/vipctl" -S "$dir/vipd.sock" "$@"; }
	cat >"$dir/vipd.conf" <<EOC
[global]
pidfile = $dir/vipd.pid
state_dir = $dir
control_socket = $dir/vipd.sock
[check ok]
type = script
command = /bin/true
interval = 100ms
[instance VG]
interface = eth0
vrid = 7
priority = 200
advert_interval = 100ms
virtual_ip = 192.0.2.100/24
virtual_ip = 192.0.2.101/24
track = ok weight 10
[instance VG2]
interface = eth0
vrid = 8
priority = 100
advert_interval = 100ms
virtual_ip = 192.0.2.102/24
track = ok weight 10
notify_stop = /bin/true
use_vmac = yes
[group G]
instances = VG VG2
EOC
	vgctl reload >/dev/null || reload_failed=1
	sleep 1
	sed -i -e 's/^interval = 100ms/interval = 200ms/' -e '/^\[instance VG2\]/,$d' \
	    -e 's/^priority = 200/priority = 150/' "$dir/vipd.conf"
	vgctl reload >/dev/null || reload_failed=1
	sleep 1
	echo "priority = 300" >>"$dir/vipd.conf"
	vgctl reload >/dev/null 2>&1 && reload_failed=1
	# Drain with a wait nobody answers (exit 1), then back in service.
	vgctl drain --wait --timeout 300ms VG >/dev/null 2>&1 && reload_failed=1
	vgctl undrain --all >/dev/null || reload_failed=1
	sleep 0.5
	kill -HUP "$(cat "$dir/vg.pid")"
	sleep 0.5
	kill -TERM "$(cat "$dir/vg.pid")"
	wait "$(cat "$dir/vg.pid")"
	rc=$?
	rm -f "$dir/vg.pid"
	if [ $rc -ne 0 ] || [ $became_master -ne 1 ] || [ $reload_failed -ne 0 ] ||
		ip -n "$ns" addr show dev eth0 | grep -q "192.0.2.10[012]" ||
		ip -n "$ns" link show vipd.8 >/dev/null 2>&1; then
		echo "valgrind: vipd life cycle FAILED (exit $rc, became master: $became_master," \
		    "reloads failed: $reload_failed)"
		cat "$dir/vipd.log"
		fail=$((fail + 1))
	else
		echo "valgrind: vipd life cycle clean"
	fi
fi
echo "valgrind: $fail failed"
[ $fail -eq 0 ]
