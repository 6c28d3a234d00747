"""VRRPv2 (RFC 3768) with keepalived 2.2.7 as the peer, for rolling upgrades.

keepalived runs as the seeds' keepalived.conf files configure it:
`vrrp_version 2` and `authentication { auth_type PASS auth_pass ... }`;
vipd runs `version = 2` with the same password. In both roles, multicast
and unicast: the higher priority holds the VIP, the other side accepts
its adverts (no drops, no complaints), and a graceful stop moves the VIP
after Skew_Time. A wrong password is dropped and counted on both sides,
so both become Master.
"""
import re
import shutil

import pytest

from lab import stays, vipd_instance, wait_until

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("keepalived") is None,
                                 reason="keepalived not installed")]

VIP, CIDR = "192.0.2.100", "192.0.2.100/24"
PASS = "tDHjh7by"  # seed 000's password
KA_COMPLAINTS = re.compile(r"invalid|bad |checksum|mismatch|not present|wrong|"
                           r"ttl|error|auth", re.I)


def skew2(prio):
    """RFC 3768 Skew_Time in seconds: (256 - Priority) / 256."""
    return (256 - prio) / 256.0


def mdi2(prio, interval_s=1):
    return 3 * interval_s + skew2(prio)


def ka_conf(prio, password=PASS, unicast_src=None, peer=None):
    """A keepalived.conf as the seeds write it: v2, PASS, advert_int 1."""
    peers = ""
    if peer:
        peers = "    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }\n" % (
            unicast_src, peer)
    return """global_defs {
    router_id ka
    vrrp_version 2
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 1
    enable_script_security
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority %d
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass %s
    }
%s    virtual_ipaddress {
        %s
    }
}
""" % (prio, password, peers, CIDR)


def vipd_conf(prio, password=PASS, unicast_src=None, peer=None):
    opts = dict(version=2, auth_type="PASS", auth_pass=password)
    if peer:
        opts.update(unicast_src=unicast_src, unicast_peer=[peer])
    return vipd_instance(priority=prio, interval="1s", vips=[CIDR], **opts)


class Peer:
    def __init__(self, host, kind, prio, other, unicast, password=PASS):
        self.host, self.kind, self.prio, self.other = host, kind, prio, other
        self.unicast, self.password = unicast, password

    def start(self):
        h = self.host
        kw = dict(unicast_src=h.ip4, peer=self.other.ip4) if self.unicast else {}
        if self.kind == "vipd":
            h.start_vipd(vipd_conf(self.prio, self.password, **kw))
        else:
            h.start_keepalived(ka_conf(self.prio, self.password, **kw))

    def stop(self):
        if self.kind == "vipd":
            assert self.host.stop_vipd() == 0
        else:
            self.host.stop_keepalived()

    def holds(self):
        return self.host.has_addr(VIP)


def check_state(master, backup):
    if not master.holds() or backup.holds():
        return False
    for p, want in ((master, "MASTER"), (backup, "BACKUP")):
        if p.kind == "vipd" and p.host.state() != want:
            return False
    return True


def ka_complaints(host):
    with open(host.ka_log, errors="replace") as f:
        return [line for line in f if KA_COMPLAINTS.search(line)
                and "Registering" not in line and "ipset" not in line]


@pytest.mark.parametrize("unicast", [False, True], ids=["multicast", "unicast"])
@pytest.mark.parametrize("ka_role", ["ka-master", "ka-backup"])
def test_vrrpv2_interop(lab, unicast, ka_role):
    h1, h2 = lab.add_hosts(2)  # h1: keepalived, h2: vipd
    ka_prio, vd_prio = (150, 100) if ka_role == "ka-master" else (100, 150)
    ka = Peer(h1, "keepalived", ka_prio, h2, unicast)
    vd = Peer(h2, "vipd", vd_prio, h1, unicast)
    master, backup = (ka, vd) if ka_role == "ka-master" else (vd, ka)
    what = "%s MASTER, %s BACKUP" % (master.kind, backup.kind)

    master.start()
    wait_until(master.holds, mdi2(master.prio) + 3, what="first host to take the VIP")
    backup.start()
    wait_until(lambda: check_state(master, backup), 3, what=what)
    # a whole Master_Down_Interval and more: the backup hears every advert
    stays(lambda: check_state(master, backup), mdi2(backup.prio) + 1, what=what)
    s = vd.host.inst()
    assert not any(s["dropped"].values()), "vipd dropped keepalived's adverts: %s" % s
    if vd is backup:
        assert s["master_ip"] == ka.host.ip4, s
        assert s["adverts_received"] >= 3, s
    else:
        assert s["adverts_sent"] >= 3, s

    # graceful stop: priority 0, the backup takes over after Skew_Time
    master.stop()
    took = wait_until(backup.holds, mdi2(backup.prio) + 1.5,
                      what="backup to take over after a stop")
    assert took < mdi2(backup.prio), "priority 0 not honoured: took %.2f s" % took
    if backup.kind == "vipd":
        assert backup.host.inst()["last_reason"] == "priority_zero"
    master.start()
    wait_until(lambda: check_state(master, backup), mdi2(master.prio) + 3, what=what)

    s = vd.host.inst()
    assert not any(s["dropped"].values()), "vipd dropped keepalived's adverts: %s" % s
    bad = ka_complaints(ka.host)
    assert not bad, "keepalived complained:\n" + "".join(bad)


@pytest.mark.parametrize("unicast", [False, True], ids=["multicast", "unicast"])
def test_vrrpv2_wrong_password(lab, unicast):
    """Different passwords: each side drops the other's adverts, both are Master."""
    h1, h2 = lab.add_hosts(2)
    ka = Peer(h1, "keepalived", 150, h2, unicast, password="right")
    vd = Peer(h2, "vipd", 100, h1, unicast, password="wrong")
    ka.start()
    wait_until(ka.holds, mdi2(150) + 3, what="keepalived to take the VIP")
    vd.start()
    # every advert of keepalived's is dropped and counted while vipd waits
    wait_until(lambda: vd.host.inst()["dropped"]["auth"] >= 1, 2, what="a first auth drop")
    n = vd.host.inst()["dropped"]["auth"]
    wait_until(lambda: vd.host.inst()["dropped"]["auth"] >= n + 1, 1.5,
               what="the auth drop counter to grow")
    # vipd does not accept them, so it takes over after Master_Down_Interval
    wait_until(lambda: vd.holds() and vd.host.state() == "MASTER", mdi2(100) + 2,
               what="vipd MASTER despite keepalived's adverts")
    s = vd.host.inst()
    assert s["dropped"]["auth"] >= 3 and s["adverts_received"] == 0, s
    assert not any(v for k, v in s["dropped"].items() if k != "auth"), s
    # Split brain, as with two keepalived nodes. (keepalived 2.2.7 as Master
    # then stops advertising: each invalid advert it receives restarts its
    # advert timer, and vipd's come at least once a second.)
    stays(lambda: ka.holds() and vd.holds(), 2.0, what="both hold the VIP (split brain)")
    # keepalived says so too
    with open(ka.host.ka_log, errors="replace") as f:
        assert re.search(r"auth|password", f.read(), re.I), "keepalived did not notice"


def test_vrrpv2_version_mismatch_counted(lab):
    """A vipd still at version 3 does not hear keepalived's v2 adverts: counted."""
    h1, h2 = lab.add_hosts(2)
    h1.start_keepalived(ka_conf(150))
    wait_until(lambda: h1.has_addr(VIP), mdi2(150) + 3, what="keepalived to take the VIP")
    h2.start_vipd(vipd_instance(priority=100, interval="1s", vips=[CIDR]))
    wait_until(lambda: h2.inst()["dropped"].get("version", 0) >= 2, 4,
               what="vipd (version 3) to count keepalived's v2 adverts as version drops")


def test_vrrpv2_long_password_first_8(lab):
    """keepalived puts only the first 8 characters of a longer auth_pass on
    the wire (seed 000's "QAZxsw123EDCvfr"); vipd with those 8 hears it."""
    h1, h2 = lab.add_hosts(2)
    ka = Peer(h1, "keepalived", 150, h2, False, password="QAZxsw123EDCvfr")
    vd = Peer(h2, "vipd", 100, h1, False, password="QAZxsw12")
    ka.start()
    wait_until(ka.holds, mdi2(150) + 3, what="keepalived to take the VIP")
    vd.start()
    stays(lambda: ka.holds() and not vd.holds() and vd.host.state() == "BACKUP",
          mdi2(100) + 1, what="keepalived MASTER, vipd BACKUP")
    s = vd.host.inst()
    assert not any(s["dropped"].values()) and s["adverts_received"] >= 3, s
