#!/bin/sh
# demo.sh - watch vipd move a floating IP between three hosts.
#
# Run as root, from the top of the source tree:
#     make demo                                  (builds first)
#     VIPD_BUILD=build sh examples/demo.sh       (uses an existing build)
#
# It builds a small network out of Linux network namespaces:
#
#                      +------------ vipd-demo-sw -------------+
#                      |                 br0                   |
#                      +----sw-a-----------sw-b-----------sw-c-+
#                            |              |              |
#              vipd-demo-a eth0   vipd-demo-b eth0   vipd-demo-c eth0
#               192.0.2.11/24      192.0.2.12/24      192.0.2.13/24
#               priority 150       priority 100       priority 50
#
# and runs one vipd per host with the VIP 192.0.2.100/24 (vrid 51, adverts
# every 100 ms). Then it cuts the Master's cable, plugs it back in, and stops
# the Master gracefully, timing each handover. Nothing is created outside
# those namespaces and a temporary directory, and everything is removed at
# the end, also on Ctrl-C or on error. It takes under 10 seconds.

set -u

VIP=192.0.2.100
PFX=vipd-demo
HOSTS="a b c"

here=$(cd "$(dirname "$0")" && pwd)
build=${VIPD_BUILD:-$here/../build}
VIPD=$build/vipd
VIPCTL=$build/vipctl

if [ -t 1 ]; then
	B=$(printf '\033[1m')
	N=$(printf '\033[0m')
else
	B=
	N=
fi

say() { printf '%s\n' "$*"; }
# A step heading, after a pause to read the last one when someone is watching.
step() {
	[ -t 1 ] && sleep 1
	printf '\n%s==> %s%s\n' "$B" "$*" "$N"
}

# --- preconditions ----------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	say "demo: this demo creates network namespaces, which needs root."
	say "      Run it as root: sudo make demo"
	exit 1
fi
for f in "$VIPD" "$VIPCTL"; do
	if [ ! -x "$f" ]; then
		say "demo: $f not found; build first with 'make' (or run 'make demo')."
		exit 1
	fi
done
if ! command -v ip >/dev/null 2>&1; then
	say "demo: the 'ip' command is missing (Debian: apt-get install iproute2)."
	exit 1
fi

# --- helpers ----------------------------------------------------------------

prio() {
	case $1 in a) echo 150 ;; b) echo 100 ;; c) echo 50 ;; esac
}

addr() {
	case $1 in a) echo 192.0.2.11 ;; b) echo 192.0.2.12 ;; c) echo 192.0.2.13 ;; esac
}

# Does host $1 have the VIP on its eth0?
has_vip() {
	[ -n "$(ip -n "$PFX-$1" -o -4 addr show dev eth0 to "$VIP/32" 2>/dev/null)" ]
}

# The hosts holding the VIP right now, e.g. "a" (or "a b" during a split).
holders() {
	h_out=
	for h in $HOSTS; do
		has_vip "$h" && h_out="$h_out $h"
	done
	echo "${h_out# }"
}

now_ns() { date +%s%N; }

# Wait until the holders are exactly "$1", polling every ~5 ms, for at most
# $3 ms since $2 (a now_ns value). Prints the milliseconds elapsed since $2.
wait_holders() {
	while :; do
		if [ "$(holders)" = "$1" ]; then
			echo $((($(now_ns) - $2) / 1000000))
			return 0
		fi
		[ $((($(now_ns) - $2) / 1000000)) -gt "$3" ] && return 1
		sleep 0.005
	done
}

show_addrs() {
	for h in $HOSTS; do
		printf '    %s: %s\n' "$h" "$(ip -n "$PFX-$h" -br -4 addr show dev eth0)"
	done
}

show_status() {
	"$VIPCTL" -S "$dir/$1.sock" status | sed 's/^/    /'
}

# Print every daemon's log, for a step that did not go as expected.
fail() {
	say ""
	say "demo: $*"
	say "demo: the vipd logs follow; the VIP holders now are: '$(holders)'"
	for h in $HOSTS; do
		[ -f "$dir/$h.log" ] && sed "s/^/    $h | /" "$dir/$h.log"
	done
	exit 1
}

# --- clean-up, whatever happens ---------------------------------------------

dir=
pids=
cleanup() {
	trap - EXIT INT TERM HUP
	step "Cleaning up"
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		# Give each vipd a second to step down, then insist.
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ns in $PFX-a $PFX-b $PFX-c $PFX-sw; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$dir" ] && rm -rf "$dir"
	say "    stopped the daemons, removed the namespaces and $dir."
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- 1. the network -----------------------------------------------------------

step "1. Building a switch and three hosts in network namespaces"
for ns in $PFX-a $PFX-b $PFX-c $PFX-sw; do
	if ip netns list | grep -q "^$ns\\b"; then
		say "    (removing $ns, left over from an earlier run)"
		for p in $(ip netns pids "$ns"); do
			kill -TERM "$p"
		done
		sleep 0.5
		ip netns del "$ns"
	fi
done
dir=$(mktemp -d /tmp/vipd-demo.XXXXXX) || exit 1

set -e
ip netns add $PFX-sw
ip -n $PFX-sw link add br0 type bridge
ip -n $PFX-sw link set br0 up
for h in $HOSTS; do
	ip netns add "$PFX-$h"
	# Both ends are created inside the switch; one moves to the host.
	ip -n $PFX-sw link add "sw-$h" type veth peer name eth0 netns "$PFX-$h"
	ip -n $PFX-sw link set "sw-$h" master br0 up
	ip -n "$PFX-$h" link set lo up
	ip -n "$PFX-$h" addr add "$(addr "$h")/24" dev eth0
	ip -n "$PFX-$h" link set eth0 up
done
set +e
say "    switch $PFX-sw with bridge br0; hosts $PFX-a, -b, -c on 192.0.2.0/24"
say "    (no routes out: these addresses only exist inside the demo)"

# --- 2. the daemons -----------------------------------------------------------

step "2. Starting vipd on each host"
for h in $HOSTS; do
	cat >"$dir/$h.conf" <<EOF
[global]
pidfile = $dir/$h.pid
state_dir = $dir/$h.state
control_socket = $dir/$h.sock

[instance VI_1]
interface = eth0
vrid = 51
priority = $(prio "$h")
advert_interval = 100ms
virtual_ip = $VIP/24
EOF
	ip netns exec "$PFX-$h" "$VIPD" -n -f "$dir/$h.conf" 2>"$dir/$h.log" &
	pids="$pids $!"
	[ "$h" = a ] && pid_a=$!
	say "    $h: vipd -n -f $dir/$h.conf   (priority $(prio "$h"), log in $h.log)"
done
say ""
say "    Every instance starts as BACKUP and listens. With nobody advertising,"
say "    each waits Master_Down_Interval = 3 x 100 ms + Skew_Time, where"
say "    Skew_Time = (256 - priority) x 100 ms / 256, so the best host fires first:"
say "    a after 341 ms, b after 361 ms, c after 380 ms."

t0=$(now_ns)
ms=$(wait_holders a "$t0" 3000) || fail "no host took the VIP within 3 s"
t_start=$ms
say ""
say "    ${B}a holds $VIP${N} (${ms} ms after start). From vipctl on a:"
show_status a
say "    and the addresses on each host (ip -br addr):"
show_addrs

# --- 3. hard failure ----------------------------------------------------------

step "3. Cutting a's cable (its switch port goes down)"
say "    a's adverts stop. b, now the best Backup, waits Master_Down_Interval"
say "    = 3 x 100 + (256 - 100) x 100 / 256 = 361 ms after the last advert it got,"
say "    which left 0-100 ms before the cut: expect 261-361 ms after the cut."
t0=$(now_ns)
ip -n $PFX-sw link set sw-a down
ms=$(wait_holders b "$t0" 3000) || fail "the VIP did not move to b within 3 s"
say ""
t_cut=$ms
say "    ${B}b holds $VIP, ${ms} ms after the cut${N} (polled every ~5 ms)."
say "    a lost its carrier, went to FAULT and removed the VIP itself:"
show_addrs

# --- 4. recovery and preemption --------------------------------------------------

step "4. Plugging a back in"
say "    a comes back as BACKUP and hears b advertise priority 100 < 150. It"
say "    preempts on b's next advert (preempt_fast), within 100 ms, instead of"
say "    waiting out its 341 ms timer as the RFC would; b steps down."
t0=$(now_ns)
ip -n $PFX-sw link set sw-a up
ms=$(wait_holders a "$t0" 3000) || fail "a did not take the VIP back within 3 s"
say ""
t_back=$ms
say "    ${B}a holds $VIP again, ${ms} ms after its link came up.${N}"
sleep 0.3
show_status a

# --- 5. graceful stop -----------------------------------------------------------

step "5. Stopping vipd on a (SIGTERM), as 'systemctl stop' would"
say "    a sends one advert with priority 0 (\"I am leaving\") and removes the"
say "    VIP. b then waits only Skew_Time = (256 - 100) x 100 / 256 = 61 ms."
t0=$(now_ns)
kill -TERM "$pid_a"
ms=$(wait_holders b "$t0" 3000) || fail "the VIP did not move to b within 3 s"
wait "$pid_a"
rc=$?
pids=$(echo "$pids" | sed "s/ $pid_a\\b//")
say ""
t_stop=$ms
say "    ${B}b holds $VIP, ${ms} ms after the signal${N}; vipd on a exited with status $rc."
sleep 0.2
show_status b

# --- 6. what the daemons logged ---------------------------------------------------

step "6. What the daemons logged (state changes)"
for h in $HOSTS; do
	grep -e '->' -e 'added' -e 'removed' "$dir/$h.log" | sed "s/^/    $h | /"
done

step "Summary (advert_interval 100 ms)"
row() { printf '    %-20s %-5s %5s ms  %s\n' "$1" "$2" "$3" "$4"; }
row "first election" "a" "$t_start" "after start      (a's timer: 341 ms)"
row "link cut" "a->b" "$t_cut" "after the cut    (361 ms after a's last advert)"
row "link back, preempt" "b->a" "$t_back" "after link up    (on b's next advert, every 100 ms)"
row "graceful stop" "a->b" "$t_stop" "after SIGTERM    (Skew_Time: 61 ms)"
say ""
say "Times are polled every ~5 ms, so read them +-10 ms. The same set-up on real"
say "hosts: examples/*.conf and vipd.conf(5); check a file with vipd -t -f FILE."
