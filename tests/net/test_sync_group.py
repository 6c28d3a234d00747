"""Sync groups ([group NAME], keepalived's vrrp_sync_group): two load
balancers with a front and a back network, a front VIP and a back VIP in one
group. Cutting the Master's back link moves both VIPs; at no moment are the
two VIPs held by different hosts for longer than one advert interval; the
group's hooks run once per change, with keepalived's "GROUP name state 0".

    switch: br0 (front, 192.0.2.0/24)  ── eth0 of h1, h2    VIP 192.0.2.100/24
            br1 (back, 192.0.2.128/25) ── eth1 of h1, h2    VIP 192.0.2.200/25

The timeline of both VIPs on both hosts is read from the vipd logs' own
stamps ("added" / "removed" lines, one clock for every namespace).
"""
import os

import pytest

from lab import read_lines, vipd_instance, wait_until
from netns import bridge_add, plug

FRONT, BACK = "192.0.2.100", "192.0.2.200"
INTERVAL = 0.1
pytestmark = pytest.mark.root


def back_net(lab, hosts):
    """A second bridge, br1, and eth1 on each host (192.0.2.13N/25)."""
    bridge_add(lab.switch.ns, "br1")
    for n, h in enumerate(hosts, 1):
        h.back_port = h.name + "b"
        plug(lab.switch.ns, h.back_port, h.ns, ifname="eth1", bridge="br1")
        h.ip("link", "set", "eth1", "up")
        h.ip("addr", "add", "192.0.2.%d/25" % (130 + n), "dev", "eth1")


def conf(prio, notify):
    return (vipd_instance("front", iface="eth0", vrid=51, priority=prio,
                          vips=(FRONT + "/24",)) +
            vipd_instance("back", iface="eth1", vrid=52, priority=prio,
                          vips=(BACK + "/25",)) +
            "[group lb]\ninstances = front back\nnotify = %s\n" % notify)


def notify_script(d, name):
    log = os.path.join(d, name + ".log")
    path = os.path.join(d, name + ".sh")
    with open(path, "w") as f:
        f.write('#!/bin/sh\necho "$1 $2 $3 $4 $VIPD_GROUP $VIPD_PREV_STATE" >> %s\n' % log)
    os.chmod(path, 0o755)
    return path, log


def vip_events(host):
    """[(t, vip, held)] from host's log: its adds and removals of FRONT / BACK."""
    out = []
    for line in host.log_text().splitlines():
        if len(line) < 12 or line[2] != ":" or line[8] != ".":
            continue
        for vip in (FRONT, BACK):
            for word, held in (("] added %s/" % vip, True), ("] removed %s/" % vip, False)):
                if word in line:
                    h, m, s = line[:12].split(":")
                    out.append((int(h) * 3600 + int(m) * 60 + float(s), vip, held))
    return out


def longest_split(hosts, since):
    """Longest time (s) after `since` with FRONT and BACK held by different hosts."""
    ev = sorted((t, vip, held, h.name) for h in hosts for (t, vip, held) in vip_events(h))
    holders = {FRONT: set(), BACK: set()}
    worst, split_from = 0.0, None
    for t, vip, held, name in ev:
        (holders[vip].add if held else holders[vip].discard)(name)
        split = (holders[FRONT] and holders[BACK] and holders[FRONT] != holders[BACK])
        if split and split_from is None:
            split_from = t
        elif not split and split_from is not None:
            if t >= since:
                worst = max(worst, t - max(split_from, since))
            split_from = None
    assert split_from is None, "the VIPs are still split: %s" % holders
    return worst


def group_of(host):
    st = host.status()
    return {g["name"]: g for g in st["groups"]}["lb"]


def holds_both(h):
    return h.has_addr(FRONT) and h.has_addr(BACK, dev="eth1")


def holds_none(h):
    return not h.has_addr(FRONT) and not h.has_addr(BACK, dev="eth1")


def test_back_link_cut_moves_both_vips(lab, hookdir):
    h1, h2 = lab.add_hosts(2)
    back_net(lab, [h1, h2])
    s1, log1 = notify_script(hookdir, "h1")
    s2, log2 = notify_script(hookdir, "h2")
    h1.start_vipd(conf(150, s1))
    wait_until(lambda: holds_both(h1), 5, what="h1 Master of both")
    h2.start_vipd(conf(100, s2))
    wait_until(lambda: group_of(h2)["state"] == "BACKUP" and group_of(h1)["state"] == "MASTER",
               5, what="h1 group MASTER, h2 group BACKUP")
    assert holds_none(h2)
    g = group_of(h1)
    assert g["instances"] == ["front", "back"] and g["held"] is False, g
    assert h1.inst("front")["group"] == "lb" and h1.inst("back")["group"] == "lb"
    wait_until(lambda: len(read_lines(log2)) >= 1, 5, what="h2's group BACKUP hook")
    assert read_lines(log2) == ["GROUP lb BACKUP 0 lb INIT"]

    # The Master's back cable is cut: back FAULT on h1, front follows at once.
    lab.switch.ip("link", "set", h1.back_port, "down")
    t_cut = h1.log_time("[group lb] BACKUP -> MASTER")  # a lower bound for the timeline
    wait_until(lambda: holds_both(h2) and holds_none(h1), 3, what="both VIPs on h2")
    front = h1.inst("front")
    assert front["state"] == "FAULT", front
    assert group_of(h1)["state"] == "FAULT" and group_of(h2)["state"] == "MASTER"
    assert "group lb: back in FAULT" in h1.log_text()
    split = longest_split([h1, h2], t_cut)
    moved = max(t for t, _, held in vip_events(h2) if held) - h1.log_time("removed " + FRONT)
    print("back link cut: both VIPs on h2 %.1f ms after h1 let go; longest split %.1f ms"
          % (moved * 1000, split * 1000))
    assert split <= INTERVAL, "the VIPs were on different hosts for %.3f s" % split
    wait_until(lambda: len(read_lines(log2)) >= 2 and len(read_lines(log1)) >= 2, 5,
               what="group hooks of the failover")
    assert read_lines(log1)[-1] == "GROUP lb FAULT 0 lb MASTER", read_lines(log1)
    assert read_lines(log2)[-1] == "GROUP lb MASTER 0 lb BACKUP", read_lines(log2)

    # The cable returns: h1 (priority 150) takes both back, together.
    lab.switch.ip("link", "set", h1.back_port, "up")
    wait_until(lambda: holds_both(h1) and holds_none(h2), 5, what="both VIPs back on h1")
    assert longest_split([h1, h2], t_cut) <= INTERVAL
    wait_until(lambda: len(read_lines(log2)) >= 3, 5, what="h2's group BACKUP hook")
    assert read_lines(log2)[-1] == "GROUP lb BACKUP 0 lb MASTER", read_lines(log2)
    # One hook per group change, none for the members' passage through BACKUP.
    assert read_lines(log1) == ["GROUP lb BACKUP 0 lb INIT", "GROUP lb MASTER 0 lb BACKUP",
                                "GROUP lb FAULT 0 lb MASTER", "GROUP lb BACKUP 0 lb FAULT",
                                "GROUP lb MASTER 0 lb BACKUP"], read_lines(log1)


def test_group_reload_and_stop(lab, hookdir):
    """A reload that keeps the group keeps the Master; one that removes the
    group lets the members go their own way; a stop runs the group's STOP."""
    h1, = lab.add_hosts(1)
    back_net(lab, [h1])
    s1, log1 = notify_script(hookdir, "h1")
    h1.start_vipd(conf(150, s1))
    wait_until(lambda: holds_both(h1) and group_of(h1)["state"] == "MASTER", 5,
               what="h1 group MASTER")
    t0 = h1.inst("front")["transitions"]
    h1.write_conf(conf(150, s1) + "notify_timeout = 5s\n")
    h1.vipctl("reload")
    assert group_of(h1)["state"] == "MASTER" and h1.inst("front")["transitions"] == t0
    # Without the group: both stay Master, nobody is held.
    h1.write_conf(conf(150, s1).split("[group lb]")[0])
    h1.vipctl("reload")
    st = h1.status()
    assert st["groups"] == [] and h1.inst("front")["group"] is None, st
    assert h1.inst("front")["state"] == "MASTER" and h1.inst("front")["transitions"] == t0
    # And back in a group again, then stopped: the group's hooks say STOP.
    h1.write_conf(conf(150, s1))
    h1.vipctl("reload")
    wait_until(lambda: group_of(h1)["state"] == "MASTER", 3, what="group MASTER again")
    h1.stop_vipd()
    lines = read_lines(log1)
    assert lines[-1] == "GROUP lb STOP 0 lb MASTER", lines
    assert not any(" BACKUP 0 lb MASTER" in ln for ln in lines), lines


def test_group_never_splits_on_one_better_member(lab, hookdir):
    """h2 would win the front (priority 200) but not the back (100 < 150):
    its group holds the front Backup ("wants MASTER"), so both VIPs stay on
    h1; h1's back cable cut then moves both."""
    h1, h2 = lab.add_hosts(2)
    back_net(lab, [h1, h2])
    s1, _ = notify_script(hookdir, "h1")
    s2, _ = notify_script(hookdir, "h2")
    h1.start_vipd(conf(150, s1))
    wait_until(lambda: holds_both(h1), 5, what="h1 Master of both")
    h2.start_vipd(conf(100, s2).replace("vrid = 51\npriority = 100", "vrid = 51\npriority = 200"))
    wait_until(lambda: h2.inst("front")["state"] == "BACKUP", 5, what="h2 running")
    # h2's front wants MASTER (it would preempt h1's 150) but is held.
    wait_until(lambda: "wants MASTER" in h2.vipctl("status").stdout, 3,
               what="h2's front held by its group")
    assert holds_both(h1) and holds_none(h2)
    assert group_of(h2)["held"] is True and group_of(h2)["state"] == "BACKUP"
    lab.switch.ip("link", "set", h1.back_port, "down")
    wait_until(lambda: holds_both(h2) and holds_none(h1), 3, what="both VIPs on h2")
    assert longest_split([h1, h2], h1.log_time("[group lb] BACKUP -> MASTER")) <= INTERVAL
