"""IPv6 instances: election, failover, adverts and unsolicited NAs on the wire."""
import time

import pytest

from lab import mdi_s, vipd_instance, wait_converged, wait_until

VIP = "2001:db8::100"
VIP_CIDR = VIP + "/64"
VMAC6 = "00:00:5e:00:02:33"  # VRID 51
pytestmark = pytest.mark.root


def v6conf(prio, **kw):
    return vipd_instance(priority=prio, vips=[VIP_CIDR], **kw)


def strip_scope(a):
    return (a or "").split("%")[0]


def true(v):
    return v in ("1", "True", "true")


def na_records(cap):
    fields = ["frame.time_epoch", "eth.src", "ipv6.src", "ipv6.dst", "ipv6.hlim",
              "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
              "icmpv6.nd.na.target_address", "icmpv6.opt.type", "icmpv6.opt.linkaddr"]
    return cap.records(fields, "icmpv6.type == 136 && icmpv6.nd.na.target_address == %s" % VIP)


def check_na(na, sender):
    assert na["ipv6.hlim"] == "255", na
    assert na["ipv6.dst"] == "ff02::1", na
    assert na["ipv6.src"].startswith("fe80:"), na
    assert true(na["icmpv6.nd.na.flag.o"]), "Override flag not set: %s" % na
    assert not true(na["icmpv6.nd.na.flag.s"]), "Solicited flag set: %s" % na
    assert "2" in na["icmpv6.opt.type"].split(","), "no Target Link-Layer option: %s" % na
    assert na["icmpv6.opt.linkaddr"] in (sender.mac, VMAC6), na


def test_ipv6_election_adverts_and_na(lab):
    h1, h2 = lab.add_hosts(2)
    with h2.capture("ip6", name="backup-side") as cap:
        h1.start_vipd(v6conf(150))
        wait_converged(h1, [], VIP)
        h2.start_vipd(v6conf(100))
        wait_converged(h1, [h2], VIP, hold=0.5)
    m, b = h1.inst(), h2.inst()
    assert m["family"] == "ipv6" and m["vips"] == [VIP_CIDR], m
    assert strip_scope(m["master_ip"]) == h1.lladdr, m
    assert b["state"] == "BACKUP" and strip_scope(b["master_ip"]) == h1.lladdr, b
    assert b["adverts_received"] >= 3 and not any(b["dropped"].values()), b

    adv = [a for a in cap.vrrp() if a["src"] == h1.lladdr]
    assert len(adv) >= 5, cap.vrrp()
    for a in adv:
        assert a["dst"] == "ff02::12", a
        assert a["eth_dst"] == "33:33:00:00:00:12", a
        assert a["ttl"] == 255, "hop limit %s" % a
        assert (a["version"], a["type"], a["vrid"], a["prio"]) == (3, 1, 51, 150), a
        assert a["count"] == 1 and a["addrs"] == [VIP], a
        assert a["interval_cs"] == 10, a
        assert a["cksum"] == "good", a
    assert not [a for a in cap.vrrp() if a["src"] in (h2.lladdr, h2.ip6) and a["prio"] != 0], \
        "the Backup advertised"

    nas = [n for n in na_records(cap) if n["eth.src"] in (h1.mac, VMAC6)]
    assert nas, "no unsolicited NA for %s from the new Master" % VIP
    for na in nas:
        check_na(na, h1)


def test_ipv6_failover_and_return(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(v6conf(150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(v6conf(100))
    wait_converged(h1, [h2], VIP)
    with lab.switch.capture("ip6", name="failover") as cap:
        lab.cut_link(h1)
        took = wait_until(lambda: h2.has_addr(VIP), mdi_s(100, 100) + 1,
                          what="h2 to take the IPv6 VIP")
        wait_until(lambda: h1.state() == "FAULT" and not h1.has_addr(VIP), 2)
        time.sleep(0.2)
    assert took <= mdi_s(100, 100) + 0.5
    assert h2.inst()["state"] == "MASTER"
    nas = [n for n in na_records(cap) if n["eth.src"] in (h2.mac, VMAC6)]
    assert nas, "no unsolicited NA from h2 after takeover"
    check_na(nas[0], h2)
    adv2 = [a for a in cap.vrrp() if a["src"] == h2.lladdr]
    assert adv2 and all(a["ttl"] == 255 and a["prio"] == 100 for a in adv2), adv2

    lab.restore_link(h1)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)


def test_ipv6_graceful_stop(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(v6conf(150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(v6conf(100))
    wait_converged(h1, [h2], VIP)
    with lab.switch.capture("ip6 proto 112") as cap:
        assert h1.stop_vipd() == 0
        wait_until(lambda: h2.has_addr(VIP), 1, what="h2 to take over after priority 0")
    assert not h1.has_addr(VIP)
    zero = [a for a in cap.vrrp() if a["src"] == h1.lladdr and a["prio"] == 0]
    assert zero and zero[0]["cksum"] == "good", cap.vrrp()


def test_ipv6_interface_flap_readds_vip(lab):
    """eth0 down flushes every IPv6 address; after up the Master re-adds the VIP."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(v6conf(150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(v6conf(100))
    wait_converged(h1, [h2], VIP)
    h1.link_down()
    wait_until(lambda: h1.state() == "FAULT", 2, what="h1 FAULT after eth0 down")
    wait_converged(h2, [], VIP, timeout=2)
    h1.link_up()
    wait_until(h1._ll_ready, 3)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    assert strip_scope(h2.inst()["master_ip"]) == h1.lladdr


def test_ipv6_with_dad_enabled(lab):
    """Real hosts run DAD: the VIP must be usable at once (nodad), and after a
    flap the link-local is tentative for a while; vipd must get through it."""
    h1, h2 = lab.add_hosts(2)
    for h in (h1, h2):
        h.sysctl("net.ipv6.conf.eth0.accept_dad=1", "net.ipv6.conf.eth0.dad_transmits=1")
    h1.start_vipd(v6conf(150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(v6conf(100))
    wait_converged(h1, [h2], VIP)
    vip = [a for a in h1.addrs(family="inet6", raw=True) if a["local"] == VIP]
    assert vip and not vip[0].get("tentative"), "VIP added without nodad: %s" % vip

    h1.link_down()
    wait_converged(h2, [], VIP, timeout=2)
    vip = [a for a in h2.addrs(family="inet6", raw=True) if a["local"] == VIP]
    assert vip and not vip[0].get("tentative"), vip
    h1.link_up()  # link-local tentative for ~1 s now
    wait_converged(h1, [h2], VIP, timeout=5, hold=0.5)
    assert strip_scope(h2.inst()["master_ip"]) == h1.lladdr
    for h in (h1, h2):
        assert h.vipd_running()
