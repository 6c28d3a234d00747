"""Unicast mode (keepalived's unicast_src / unicast_peer extension)."""
import time

import pytest

from lab import mdi_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def unicast_lab(lab, n):
    """n vipd hosts peering with each other, plus one outsider (no vipd)."""
    hosts = lab.add_hosts(n)
    outsider = lab.add_host("x", ip4="192.0.2.50", ip6="2001:db8::50")
    prios = [150, 100, 50][:n]
    for h, p in zip(hosts, prios):
        peers = [o.ip4 for o in hosts if o is not h]
        h.start_vipd(vipd_instance(priority=p, unicast_src=h.ip4, unicast_peer=peers))
        if h is hosts[0]:
            wait_converged(h, [], VIP)
    wait_converged(hosts[0], hosts[1:], VIP)
    return hosts, outsider


@pytest.mark.parametrize("n", [2, 3])
def test_unicast_adverts_election_failover(lab, n):
    hosts, outsider = unicast_lab(lab, n)
    h1, backups = hosts[0], hosts[1:]
    for h in hosts:
        assert h.inst()["mode"] == "unicast", h.inst()

    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(1.0)
    adv = cap.vrrp()
    assert not [a for a in adv if a["dst"] == "224.0.0.18"], "multicast advert in unicast mode"
    from_m = [a for a in adv if a["src"] == h1.ip4]
    dsts = {a["dst"] for a in from_m}
    assert dsts == {b.ip4 for b in backups}, dsts
    for b in backups:
        k = len([a for a in from_m if a["dst"] == b.ip4])
        assert 7 <= k <= 13, "%d adverts to %s in 1 s at 100 ms" % (k, b.ip4)
        mac = [a["eth_dst"] for a in from_m if a["dst"] == b.ip4]
        assert set(mac) == {b.mac}, "unicast advert to the wrong MAC: %s" % mac
    for a in from_m:
        assert a["prio"] == 150 and a["cksum"] == "good" and a["addrs"] == [VIP], a
    assert not [a for a in adv if a["src"] != h1.ip4], "a Backup advertised"
    for b in backups:
        s = b.inst()
        assert s["master_ip"] == h1.ip4 and s["adverts_received"] >= 7, s

    # failover: the next priority takes over, and back
    lab.cut_link(h1)
    wait_converged(hosts[1], hosts[2:], VIP, timeout=mdi_s(100, 100) + 1)
    wait_until(lambda: h1.state() == "FAULT" and not h1.has_addr(VIP), 2)
    lab.restore_link(h1)
    wait_converged(h1, backups, VIP, timeout=3, hold=0.5)


@pytest.mark.parametrize("n", [2, 3])
def test_unicast_non_peer_dropped(lab, n):
    hosts, outsider = unicast_lab(lab, n)
    h1, backups = hosts[0], hosts[1:]
    before = {h.name: h.inst() for h in hosts}
    # A priority-254 advert from a host that is not a configured peer,
    # unicast to every vipd host: if it were accepted the Master would yield.
    for h in hosts:
        outsider.craft(src=outsider.ip4, dst=h.ip4, dst_mac=h.mac, prio=254, repeat=5)
    wait_until(lambda: all(h.inst()["dropped"]["peer"] >= before[h.name]["dropped"]["peer"] + 5
                           for h in hosts), 2, what="dropped.peer to count 5 on every host")
    stays(lambda: h1.state() == "MASTER", 0.5)
    wait_converged(h1, backups, VIP)
    for h in hosts:
        s = h.inst()
        assert s["transitions"] == before[h.name]["transitions"], s
    for b in backups:
        assert b.inst()["master_ip"] == h1.ip4
    # the same advert from a configured peer's address is accepted (control)
    peer = backups[-1]
    t0 = h1.inst()["transitions"]
    peer.craft(src=peer.ip4, dst=h1.ip4, dst_mac=h1.mac, prio=254, repeat=3)
    # h1 is Backup only until Master_Down passes after the last crafted advert
    # (about 0.4 s), and craft() may return later than that on a slow host:
    # look for the transition, not the state.
    wait_until(lambda: h1.inst()["transitions"] > t0, 1,
               what="h1 to yield to a priority-254 advert from a peer")
    assert "MASTER -> BACKUP (higher_priority_seen)" in h1.log_text()
