"""use_vmac: the VIP on a macvlan link with RFC 5798's virtual MAC
00:00:5e:00:01:VRID, so a neighbour's ARP entry for the VIP does not change
when the VIP moves (and does without use_vmac)."""
import json
import shutil
import time

import pytest

from lab import keepalived_conf, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
VMAC = "00:00:5e:00:01:33"  # VRID 51
pytestmark = pytest.mark.root


def neigh_mac(h, ip):
    """The MAC host h's neighbour table has for ip, after a TCP connect to it
    (answered by a reset: the ARP exchange is what matters)."""
    h.run(["/usr/bin/python3", "-c", "import socket; s = socket.socket(); s.settimeout(1); "
           "s.connect_ex(('%s', 9))" % ip], check=False)
    for n in json.loads(h.ip("-j", "neigh", "show", ip).stdout or "[]"):
        if n.get("lladdr"):
            return n["lladdr"]
    return None


def neigh6_mac(h, ip):
    """As neigh_mac, for an IPv6 address."""
    h.run(["/usr/bin/python3", "-c", "import socket; s = socket.socket(socket.AF_INET6); "
           "s.settimeout(1); s.connect_ex(('%s', 9))" % ip], check=False)
    for n in json.loads(h.ip("-j", "-6", "neigh", "show", ip).stdout or "[]"):
        if n.get("lladdr"):
            return n["lladdr"]
    return None


def vip_on(h, vmac):
    dev = "vipd.51" if vmac else "eth0"
    try:
        return h.has_addr(VIP, dev=dev)
    except Exception:
        return False


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("vmac", [True, False], ids=["vmac", "no-vmac"])
def test_neighbour_entry_across_failover(lab, vmac, family):
    """A third host's ARP (IPv4) or neighbour cache (IPv6) entry for the VIP
    stays the virtual MAC across a failover with use_vmac; without, it goes
    from h1's MAC to h2's."""
    h1, h2, h3 = lab.add_hosts(3)
    v6 = family == "ipv6"
    opts = {"use_vmac": "yes"} if vmac else {}
    if v6:
        opts["vips"] = ("2001:db8::100/64",)
    vip, link = ("2001:db8::100", "vipd6.51") if v6 else (VIP, "vipd.51")
    dev = link if vmac else "eth0"

    def on(h):
        return h.has_addr(vip, dev=dev)

    def neigh():
        return neigh6_mac(h3, vip) if v6 else neigh_mac(h3, vip)

    h1.start_vipd(vipd_instance(priority=150, **opts))
    wait_until(lambda: on(h1), 5, what="VIP on h1")
    h2.start_vipd(vipd_instance(priority=100, **opts))
    time.sleep(0.5)
    before = neigh()
    lab.cut_link(h1)
    wait_until(lambda: on(h2), 5, what="VIP on h2")
    time.sleep(0.3)
    after = neigh()
    if vmac:
        want = "00:00:5e:00:02:33" if v6 else VMAC
        assert before == want and after == want, (before, after)
    else:
        assert before == h1.mac and after == h2.mac, (before, after)
    lab.restore_link(h1)


def link_names(h):
    return [l["ifname"] for l in json.loads(h.ip("-j", "link", "show").stdout)]


def test_vmac_link_adopted_after_kill9_removed_at_stop(lab):
    h1, = lab.add_hosts(1)
    conf = vipd_instance(priority=150, use_vmac="yes")
    h1.start_vipd(conf)
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on vipd.51")
    h1.kill9()
    assert "vipd.51" in link_names(h1)  # a crash leaves it
    h1.start_vipd(conf)
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on vipd.51 again")
    assert link_names(h1).count("vipd.51") == 1
    h1.stop_vipd()
    assert "vipd.51" not in link_names(h1)
    assert not h1.has_addr(VIP)


def test_leftover_links_swept_at_start(lab):
    """A crash leaves vipd.51; the next start, configured without it, removes
    it. Links that are not vipd's default ones are never touched: a macvlan
    vipd.52 with another MAC, and one of another name with a virtual MAC."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=150, use_vmac="yes"))
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on vipd.51")
    h1.kill9()
    h1.ip("link", "add", "vipd.52", "link", "eth0", "address", "02:00:00:00:00:52", "type",
          "macvlan", "mode", "private")
    h1.ip("link", "add", "mine.53", "link", "eth0", "address", "00:00:5e:00:01:35", "type",
          "macvlan", "mode", "private")
    h1.start_vipd(vipd_instance(priority=150, vrid=54))
    wait_until(lambda: h1.state() == "MASTER", 5, what="h1 MASTER")
    names = link_names(h1)
    assert "vipd.51" not in names and "vipd.52" in names and "mine.53" in names, names
    assert "removed the leftover virtual MAC link vipd.51" in h1.log_text()
    assert h1.stop_vipd() == 0


def test_reload_turns_vmac_on_and_off_under_a_master(lab):
    h1, = lab.add_hosts(1)
    plain = vipd_instance(priority=150)
    h1.start_vipd(plain)
    wait_until(lambda: vip_on(h1, False), 5, what="VIP on eth0")
    t0 = h1.inst()["transitions"]
    h1.write_conf(vipd_instance(priority=150, use_vmac="yes"))
    h1.vipctl("reload")
    assert vip_on(h1, True) and not vip_on(h1, False)
    h1.write_conf(plain)
    h1.vipctl("reload")
    assert vip_on(h1, False) and "vipd.51" not in link_names(h1)
    assert h1.inst()["state"] == "MASTER" and h1.inst()["transitions"] == t0


def test_backup_link_sends_nothing(lab):
    """The Backup's link holds no IPv6 address and sends nothing with the
    shared MAC (no DAD, MLD or router solicitation a switch would learn)."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, use_vmac="yes"))
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on h1")
    # h1's adverts carry the same MAC: only what h2 sends counts
    with h2.capture("-Q out ether src %s" % VMAC, iface="eth0") as cap, \
            lab.switch.capture("ether src %s and ip proto 112" % VMAC) as adverts:
        h2.start_vipd(vipd_instance(priority=100, use_vmac="yes"))
        time.sleep(1.5)
        assert h2.inst()["state"] == "BACKUP"
        assert h2.addrs(dev="vipd.51") == [], h2.addrs(dev="vipd.51")
    assert not cap.records(["frame.number"]), "frames from the virtual MAC left h2"
    # RFC 5798 §7.3: the Master's adverts come from the virtual MAC, whole
    # (the IP header is vipd's own on the link: TTL, checksums, addresses)
    pkts = adverts.vrrp()
    assert len(pkts) >= 10
    for p in pkts:
        assert (p["eth_dst"], p["src"], p["dst"], p["ttl"], p["cksum"], p["prio"]) == \
            ("01:00:5e:00:00:12", h1.ip4, "224.0.0.18", 255, "good", 150), p
    ipck = adverts.records(["ip.checksum.status"], prefs=("ip.check_checksum:TRUE",))
    assert {r["ip.checksum.status"] for r in ipck} == {"1"}, ipck  # 1: good
    # and the capture above does see h2's frames once it is the Master
    with h2.capture("-Q out ether src %s" % VMAC, iface="eth0") as cap:
        lab.cut_link(h1)
        wait_until(lambda: vip_on(h2, True), 5, what="VIP on h2")
        time.sleep(0.3)
    assert cap.records(["frame.number"])
    lab.restore_link(h1)


def test_ipv6_vip_on_the_link(lab):
    h1, h2 = lab.add_hosts(2)
    v6 = dict(vrid=51, vips=("2001:db8::100/64",), use_vmac="yes")
    h1.start_vipd(vipd_instance(priority=150, **v6))
    wait_until(lambda: h1.has_addr("2001:db8::100", dev="vipd6.51"), 5, what="IPv6 VIP on h1")
    with lab.switch.capture("ether src 00:00:5e:00:02:33 and ip6 proto 112") as adverts:
        h2.start_vipd(vipd_instance(priority=100, **v6))
        time.sleep(0.5)
    # the Backup's link: no address at all, not even a link-local one
    assert h2.addrs(dev="vipd6.51") == [], h2.addrs(dev="vipd6.51")
    # the Master's adverts leave from the virtual MAC, from its link-local address
    pkts = adverts.vrrp()
    assert len(pkts) >= 3
    for p in pkts:
        assert (p["eth_dst"], p["src"], p["dst"], p["ttl"], p["cksum"]) == \
            ("33:33:00:00:00:12", h1.lladdr, "ff02::12", 255, "good"), p
    assert h2.state() == "BACKUP" and h2.inst()["adverts_received"] >= 3
    lab.cut_link(h1)
    wait_until(lambda: h2.has_addr("2001:db8::100", dev="vipd6.51"), 5, what="IPv6 VIP on h2")


KA_LINK = {"ipv4": "vrrp.51", "ipv6": "vrrp6.51"}
VD_LINK = {"ipv4": "vipd.51", "ipv6": "vipd6.51"}
VIP6 = "2001:db8::100"


@pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived not installed")
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("ka_role", ["ka-master", "ka-backup"])
def test_keepalived_use_vmac_interop(lab, family, ka_role):
    """keepalived 2.2.7 with its own use_vmac and vipd with use_vmac: each
    hears the other's adverts (both send them from the shared virtual MAC,
    which the macvlan driver hands to the same-MAC link only), one Master,
    a failover each way, and while vipd holds the VIP a third host's
    neighbour entry for it is the virtual MAC. (Not while keepalived holds
    it: keepalived leaves arp_announce 0 on the parent, whose ARP requests
    for traffic from the VIP then give the VIP with the parent's MAC.)"""
    h1, h2, h3 = lab.add_hosts(3)  # h1 keepalived, h2 vipd, h3 a client
    v6 = family == "ipv6"
    vip, cidr = (VIP6, VIP6 + "/64") if v6 else (VIP, VIP + "/24")
    vmac = "00:00:5e:00:02:33" if v6 else VMAC
    ka_prio, vd_prio = (150, 100) if ka_role == "ka-master" else (100, 150)

    def ka_holds():
        return h1.has_addr(vip, dev=KA_LINK[family])

    def vd_holds():
        return h2.has_addr(vip, dev=VD_LINK[family])

    def start_ka():
        h1.start_keepalived(keepalived_conf(priority=ka_prio, vips=[cidr], router_id="h1",
                                            extra="    use_vmac %s\n" % KA_LINK[family]))

    def start_vd():
        h2.start_vipd(vipd_instance(priority=vd_prio, vips=[cidr], use_vmac="yes"))

    def neigh_ok():
        if not vd_holds():
            return True
        return (neigh6_mac(h3, vip) if v6 else neigh_mac(h3, vip)) == vmac

    master, backup = (ka_holds, vd_holds) if ka_role == "ka-master" else (vd_holds, ka_holds)
    starts = (start_ka, start_vd) if ka_role == "ka-master" else (start_vd, start_ka)
    starts[0]()
    wait_until(master, 5, what="the first host to take the VIP")
    starts[1]()
    # both hear each other: one holder for longer than a Master_Down_Interval
    stays(lambda: master() and not backup(), 1.5, what="one Master")
    assert h2.state() == ("BACKUP" if ka_role == "ka-master" else "MASTER")
    s = h2.inst()
    assert s["adverts_received"] >= 5 or s["state"] == "MASTER", s
    assert not any(s["dropped"].values()), s
    assert neigh_ok()
    m_host = h1 if ka_role == "ka-master" else h2
    lab.cut_link(m_host)
    wait_until(backup, 5, what="the Backup to take the VIP")
    time.sleep(0.3)
    assert neigh_ok()
    lab.restore_link(m_host)
    wait_until(lambda: master() and not backup(), 5, what="the VIP back (preempt)")
    stays(lambda: master() and not backup(), 1.0, what="one Master after the return")
    assert neigh_ok()
    h1.stop_keepalived()
    assert h2.stop_vipd() == 0
    assert "vipd.51" not in link_names(h2) and "vipd6.51" not in link_names(h2)


def sysctl(h, dev, key, value=None, family="ipv4"):
    path = "/proc/sys/net/%s/conf/%s/%s" % (family, dev, key)
    if value is not None:
        h.run(["sh", "-c", "echo %s > %s" % (value, path)])
    return h.run(["cat", path]).stdout.strip()


@pytest.mark.parametrize("before", [("0", "1"), ("2", "2")], ids=["raised", "kept"])
def test_parent_sysctls_status_guard(lab, before):
    """The parent's arp_ignore / arp_announce are raised while the link is
    there (a stricter value stays) and put back at stop; status shows the
    link; a VIP deleted from the link is put back."""
    h1, = lab.add_hosts(1)
    sysctl(h1, "eth0", "arp_ignore", before[0])
    sysctl(h1, "eth0", "arp_announce", before[1])
    h1.start_vipd(vipd_instance(priority=150, use_vmac="yes"))
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on h1")
    assert sysctl(h1, "eth0", "arp_ignore") == max(before[0], "1")
    assert sysctl(h1, "eth0", "arp_announce") == "2"
    assert sysctl(h1, "vipd.51", "arp_ignore") == "1"
    assert sysctl(h1, "vipd.51", "addr_gen_mode", family="ipv6") == "1"
    assert h1.inst()["vmac"] == {"link": "vipd.51", "mac": VMAC, "present": True,
                                 "sends": True}
    assert "virtual MAC %s on vipd.51" % VMAC in h1.vipctl("status").stdout
    h1.ip("addr", "del", VIP + "/24", "dev", "vipd.51")
    wait_until(lambda: vip_on(h1, True), 3, what="the VIP put back on vipd.51")
    assert "was deleted by someone else" in h1.log_text()
    assert h1.stop_vipd() == 0
    assert (sysctl(h1, "eth0", "arp_ignore"), sysctl(h1, "eth0", "arp_announce")) == before


def test_unprivileged_vipd_remakes_a_deleted_link(lab):
    """[global] user = nobody: the link deleted under a Master is made again,
    with its settings (set through netlink, as nobody with CAP_NET_ADMIN)."""
    from test_privs import allow_nobody
    h1, = lab.add_hosts(1)
    allow_nobody(lab, h1)
    h1.start_vipd("[global]\nuser = nobody\n\n" + vipd_instance(priority=150, use_vmac="yes"))
    wait_until(lambda: vip_on(h1, True), 5, what="VIP on h1")
    assert "running as nobody" in h1.log_text()
    h1.ip("link", "del", "vipd.51")
    wait_until(lambda: vip_on(h1, True), 5, what="the link and the VIP back")
    assert sysctl(h1, "vipd.51", "arp_ignore") == "1"
    assert sysctl(h1, "vipd.51", "addr_gen_mode", family="ipv6") == "1"
    assert sysctl(h1, "eth0", "arp_announce") == "2"
    assert h1.state() == "MASTER"
    assert h1.stop_vipd() == 0
    assert "vipd.51" not in link_names(h1)
    assert sysctl(h1, "eth0", "arp_announce") == "0"
