"""use_vmac: the VIP on a macvlan link with RFC 5798's virtual MAC
00:00:5e:00:01:VRID, so a neighbour's ARP entry for the VIP does not change
when the VIP moves (and does without use_vmac)."""
import json
import time

import pytest

from lab import vipd_instance, wait_converged, wait_until

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


def vip_on(h, vmac):
    dev = "vipd.51" if vmac else "eth0"
    try:
        return h.has_addr(VIP, dev=dev)
    except Exception:
        return False


@pytest.mark.parametrize("vmac", [True, False], ids=["vmac", "no-vmac"])
def test_neighbour_arp_entry_across_failover(lab, vmac):
    h1, h2, h3 = lab.add_hosts(3)
    opts = {"use_vmac": "yes"} if vmac else {}
    h1.start_vipd(vipd_instance(priority=150, **opts))
    wait_until(lambda: vip_on(h1, vmac), 5, what="VIP on h1")
    h2.start_vipd(vipd_instance(priority=100, **opts))
    time.sleep(0.5)
    before = neigh_mac(h3, VIP)
    lab.cut_link(h1)
    wait_until(lambda: vip_on(h2, vmac), 5, what="VIP on h2")
    time.sleep(0.3)
    after = neigh_mac(h3, VIP)
    if vmac:
        assert before == VMAC and after == VMAC, (before, after)
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
    with lab.switch.capture("ether src %s" % VMAC, iface=h2.port) as cap:
        h2.start_vipd(vipd_instance(priority=100, use_vmac="yes"))
        time.sleep(1.5)
        assert h2.inst()["state"] == "BACKUP"
        assert h2.addrs(dev="vipd.51") == [], h2.addrs(dev="vipd.51")
    assert not cap.records(["frame.number"]), "frames from the virtual MAC left h2"


def test_ipv6_vip_on_the_link(lab):
    h1, h2 = lab.add_hosts(2)
    v6 = dict(vrid=51, vips=("2001:db8::100/64",), use_vmac="yes")
    h1.start_vipd(vipd_instance(priority=150, **v6))
    wait_until(lambda: h1.has_addr("2001:db8::100", dev="vipd6.51"), 5, what="IPv6 VIP on h1")
    h2.start_vipd(vipd_instance(priority=100, **v6))
    time.sleep(0.5)
    # the Backup's link: no address at all, not even a link-local one
    assert h2.addrs(dev="vipd6.51") == [], h2.addrs(dev="vipd6.51")
    lab.cut_link(h1)
    wait_until(lambda: h2.has_addr("2001:db8::100", dev="vipd6.51"), 5, what="IPv6 VIP on h2")
