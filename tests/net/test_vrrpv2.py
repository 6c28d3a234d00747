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
    assert s["version"] == 2, s
    assert "(ipv4, %s, VRRPv2)" % ("unicast" if unicast else "multicast") in \
        vd.host.vipctl("status").stdout
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


# ICMP echo every 20 ms, printing the time of each reply (no ping(8) needed).
PING_PY = r"""
import os, select, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
dst, ident, seq, nxt = sys.argv[1], os.getpid() & 0xffff, 0, time.time()
def ck(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t & 0xffff) + (t >> 16)
    return ~(t + (t >> 16)) & 0xffff
while True:
    now = time.time()
    if now >= nxt:
        seq = (seq + 1) & 0xffff
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"vipd-test-ping!!"
        h = h[:2] + struct.pack("!H", ck(h)) + h[4:]
        s.sendto(h, (dst, 0))
        nxt += 0.02
    r, _, _ = select.select([s], [], [], max(0, nxt - time.time()))
    if r:
        pkt = s.recv(2048)
        ihl = (pkt[0] & 15) * 4
        if pkt[ihl] == 0 and struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident:
            print("%.6f" % time.time(), flush=True)
"""


class Pinger:
    """A client on a third host pinging the VIP every 20 ms; outage(t0, t1)
    is the longest time without a reply within [t0, t1]."""

    def __init__(self, host):
        import subprocess
        import sys
        import threading
        self.replies = []
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", host.ns, sys.executable, "-c", PING_PY, VIP],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.replies.append(float(line))

    def now(self):
        import time
        return time.time()

    def outage(self, t0, t1):
        ts = [t0] + [t for t in list(self.replies) if t0 <= t <= t1] + [t1]
        return max(b - a for a, b in zip(ts, ts[1:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.thread.join(5)


def test_rolling_migration_with_a_client(lab):
    """README's rolling migration, walked with a client pinging the VIP:
    two keepalived nodes (v2, PASS; h1 150 Master, h2 100) become two vipd
    nodes speaking VRRPv3, one step at a time; the outage of each step is
    printed and bounded."""
    h1, h2, client = lab.add_hosts(3)
    h1.start_keepalived(ka_conf(150))
    wait_until(lambda: h1.has_addr(VIP), mdi2(150) + 3, what="h1 (keepalived) Master")
    h2.start_keepalived(ka_conf(100))
    ping = Pinger(client)
    outages = []

    def step(name, action, settle, bound):
        t0 = ping.now()
        action()
        settle()
        import time
        time.sleep(0.5)  # replies after the settling
        out = ping.outage(t0, ping.now())
        outages.append((name, out))
        print("step %-48s outage %6.0f ms" % (name, out * 1000))
        assert out <= bound, "%s: outage %.0f ms > %.0f ms" % (name, out * 1000, bound * 1000)

    v2 = lambda prio: vipd_conf(prio)
    v3 = lambda prio: vipd_instance(priority=prio, interval="1s", vips=[CIDR])
    try:
        wait_until(lambda: len(ping.replies) > 10, 5, what="the client's first replies")

        # 1. replace the Backup: keepalived stops, vipd version = 2 starts
        def replace_backup():
            h2.stop_keepalived()
            h2.start_vipd(v2(100))
        step("1 replace the Backup (h2) with vipd v2", replace_backup,
             lambda: stays(lambda: h2.state() == "BACKUP" and h1.has_addr(VIP)
                           and not h2.has_addr(VIP), mdi2(100) + 0.5, what="h2 BACKUP"),
             0.5)
        assert h2.inst()["master_ip"] == h1.ip4 and not any(h2.inst()["dropped"].values())

        # 2. fail over to it: keepalived on the Master stops (priority 0)
        step("2 stop keepalived on the Master (h1)", h1.stop_keepalived,
             lambda: wait_until(lambda: h2.has_addr(VIP) and h2.state() == "MASTER", 3,
                                what="h2 Master"), 1.5)

        # 3. replace the other node: vipd v2 on h1 (150) preempts
        step("3 start vipd v2 on h1 (preempts)", lambda: h1.start_vipd(v2(150)),
             lambda: wait_until(lambda: h1.state() == "MASTER" and h2.state() == "BACKUP"
                                and h1.has_addr(VIP) and not h2.has_addr(VIP),
                                mdi2(150) + 2, what="h1 Master"), 1.5)

        # 4. to VRRPv3: drain the Master, switch it, switch the other, undrain
        step("4a drain h1 (VIP to h2)", lambda: h1.vipctl("drain", "--wait", "VI_1"),
             lambda: wait_until(lambda: h2.state() == "MASTER" and h2.has_addr(VIP), 3,
                                what="h2 Master"), 1.5)

        def reload(h, text):
            h.write_conf(text)
            h.vipctl("reload")
        step("4b h1 (drained) to version 3", lambda: reload(h1, v3(150)),
             lambda: wait_until(lambda: h2.has_addr(VIP), 1, what="h2 holds"), 0.5)
        step("4c h2 (Master) to version 3", lambda: reload(h2, v3(100)),
             lambda: stays(lambda: h2.state() == "MASTER" and h2.has_addr(VIP), 1.0,
                           what="h2 stays Master"), 0.5)
        step("4d undrain h1 (preempts, VRRPv3)", lambda: h1.vipctl("undrain", "VI_1"),
             lambda: wait_until(lambda: h1.state() == "MASTER" and h2.state() == "BACKUP"
                                and h1.has_addr(VIP) and not h2.has_addr(VIP),
                                mdi2(150) + 2, what="h1 Master on VRRPv3"), 1.5)
        stays(lambda: h1.has_addr(VIP) and not h2.has_addr(VIP), mdi2(100) + 0.5,
              what="h1 Master, h2 Backup, on VRRPv3")
        s = h2.inst()
        assert s["master_ip"] == h1.ip4 and s["version"] == 3, s
        assert h1.inst()["version"] == 3 and not any(s["dropped"].values()), s
    finally:
        ping.stop()
    print("outages: " + ", ".join("%s %.0f ms" % (n.split()[0], o * 1000) for n, o in outages))
