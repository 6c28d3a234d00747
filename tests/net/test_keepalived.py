"""Interoperability with keepalived 2.2.7 as the peer, in both roles.

For IPv4 multicast, IPv4 unicast and IPv6: the higher priority holds the
VIP (and the other does not, for longer than a Master_Down_Interval, which
shows each side accepts the other's adverts); a cut link and a graceful
stop both move the VIP to the other side, and it comes back on return.
"""
import re
import shutil

import pytest

from lab import keepalived_conf, mdi_s, stays, vipd_instance, wait_until

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("keepalived") is None,
                                 reason="keepalived not installed")]

MODES = {
    "ipv4": dict(vip="192.0.2.100", cidr="192.0.2.100/24", unicast=False),
    "ipv4-unicast": dict(vip="192.0.2.100", cidr="192.0.2.100/24", unicast=True),
    "ipv6": dict(vip="2001:db8::100", cidr="2001:db8::100/64", unicast=False),
}
INT = 100
# keepalived complaints that mean it did not like vipd's adverts
KA_COMPLAINTS = re.compile(r"invalid|bad |checksum|mismatch|not present|wrong|"
                           r"ttl|error", re.I)


class Peer:
    """One side of the pair: vipd or keepalived on a host."""

    def __init__(self, host, kind, prio, mode, other):
        self.host, self.kind, self.prio, self.mode, self.other = host, kind, prio, mode, other

    def start(self):
        m = MODES[self.mode]
        h = self.host
        if self.kind == "vipd":
            opts = {}
            if m["unicast"]:
                opts = dict(unicast_src=h.ip4, unicast_peer=[self.other.ip4])
            h.start_vipd(vipd_instance(priority=self.prio, vips=[m["cidr"]], **opts))
        else:
            kw = {}
            if m["unicast"]:
                kw = dict(unicast_src=h.ip4, unicast_peers=[self.other.ip4])
            h.start_keepalived(keepalived_conf(priority=self.prio, vips=[m["cidr"]],
                                               advert_int="%g" % (INT / 1000.0),
                                               router_id=h.name, **kw))

    def stop(self):
        if self.kind == "vipd":
            assert self.host.stop_vipd() == 0
        else:
            self.host.stop_keepalived()

    def holds(self):
        return self.host.has_addr(MODES[self.mode]["vip"])

    def master_addr(self):
        return self.host.lladdr if self.mode == "ipv6" else self.host.ip4


def check_state(master, backup):
    """master holds the VIP, backup does not; vipd's view agrees."""
    if not master.holds() or backup.holds():
        return False
    for p, want in ((master, "MASTER"), (backup, "BACKUP")):
        if p.kind == "vipd" and p.host.state() != want:
            return False
    return True


def wait_state(master, backup, timeout, hold=0.0):
    what = "%s (%s) MASTER, %s (%s) BACKUP" % (master.host.name, master.kind, backup.host.name,
                                              backup.kind)
    t = wait_until(lambda: check_state(master, backup), timeout, what=what)
    if hold:
        stays(lambda: check_state(master, backup), hold, what=what)
    return t


def ka_complaints(host):
    with open(host.ka_log, errors="replace") as f:
        return [line for line in f if KA_COMPLAINTS.search(line)
                and "Registering" not in line and "ipset" not in line]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("ka_role", ["ka-master", "ka-backup"])
def test_keepalived_interop(lab, mode, ka_role):
    h1, h2 = lab.add_hosts(2)  # h1: keepalived, h2: vipd
    if ka_role == "ka-master":
        ka = Peer(h1, "keepalived", 150, mode, h2)
        vd = Peer(h2, "vipd", 100, mode, h1)
        master, backup = ka, vd
    else:
        ka = Peer(h1, "keepalived", 100, mode, h2)
        vd = Peer(h2, "vipd", 150, mode, h1)
        master, backup = vd, ka
    mdi_b = mdi_s(backup.prio, INT)

    # election (the future Master first, so the outcome is not a race)
    master.start()
    wait_until(master.holds, mdi_s(master.prio, INT) + 3, what="first host to take the VIP")
    backup.start()
    wait_state(master, backup, 3, hold=3 * mdi_b)
    s = vd.host.inst()
    assert not any(s["dropped"].values()), "vipd dropped keepalived's adverts: %s" % s
    if vd is backup:
        assert s["master_ip"].split("%")[0] == ka.master_addr(), s
        assert s["adverts_received"] >= 10, s
        assert s["master_adver_interval_ms"] == INT, s

    # hard failover: the Master's link is cut, then restored (preempt back)
    lab.cut_link(master.host)
    took = wait_until(backup.holds, mdi_b + 1.5, what="backup to take the VIP after a link cut")
    assert took <= mdi_b + 1.0
    wait_until(lambda: not master.holds(), 3, what="cut master (FAULT) to drop the VIP")
    if master.kind == "vipd":
        assert master.host.state() == "FAULT"
    else:
        assert backup.host.state() == "MASTER"
    lab.restore_link(master.host)
    wait_state(master, backup, 5, hold=0.5)

    # graceful stop: priority 0, the backup takes over after Skew_Time
    master.stop()
    took = wait_until(backup.holds, mdi_b + 1.5, what="backup to take over after a stop")
    assert took < mdi_b, "takeover after a graceful stop took %.0f ms (>= MDI %.0f ms): " \
        "priority 0 not honoured" % (took * 1000, mdi_b * 1000)
    assert not master.holds(), "stopped daemon left the VIP"
    if backup.kind == "vipd":
        assert backup.host.inst()["last_reason"] == "priority_zero"
    master.start()
    wait_state(master, backup, mdi_s(master.prio, INT) + 3, hold=0.5)

    s = vd.host.inst()
    assert not any(s["dropped"].values()), "vipd dropped keepalived's adverts: %s" % s
    bad = ka_complaints(ka.host)
    assert not bad, "keepalived complained:\n" + "".join(bad)
