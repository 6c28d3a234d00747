"""A partition between two groups of hosts, then heal (issue 14).

Two switches joined by an uplink: br0 (group A: h1 priority 150, h2 100)
and br1 (group B: h3 120, h4 80, and n, a neighbour without vipd), the
uplink a veth pair between the bridges; each vipd runs an IPv4 and an
IPv6 instance. The partition is the uplink down,
the heal the uplink up (one command each, so the partition starts and
ends at one instant). During the partition each side elects one Master;
after the heal exactly one Master is left within one advert interval of
the first advert crossing the uplink (from captures on both bridges), and
n's ARP and neighbour caches, which pointed at B's Master, point at the
winner.
"""
import json
import time

import pytest

from lab import PYTHON, bridge_add, stays, vipd_instance, wait_until

VIP = "192.0.2.100"
VIP6 = "2001:db8::100"
INSTS = ("VI_4", "VI_6")
INT_MS = 100
pytestmark = pytest.mark.root


def two_switches(lab, group_b):
    """br1 beside br0, joined by the uplink up0 (br0) -- up1 (br1); the
    switch-side ports of group_b's hosts moved to br1."""
    sw = lab.switch
    bridge_add(sw.ns, "br1")
    sw.ip("link", "add", "up0", "type", "veth", "peer", "name", "up1")
    sw.ip("link", "set", "up0", "master", "br0")
    sw.ip("link", "set", "up1", "master", "br1")
    sw.ip("link", "set", "up0", "up")
    sw.ip("link", "set", "up1", "up")
    for h in group_b:
        sw.ip("link", "set", h.port, "master", "br1")


def uplink(lab, up):
    lab.switch.ip("link", "set", "up0", "up" if up else "down")


def masters(hosts, inst):
    return [h for h in hosts if h.state(inst) == "MASTER"]


def one_master_each(hosts, m):
    """m the only MASTER of both instances among hosts."""
    return all(masters(hosts, i) == [m] for i in INSTS)


def neigh_mac(host, addr):
    """The link-layer address host's neighbour cache has for addr, or None."""
    out = json.loads(host.ip("-j", "neigh", "show", addr, "dev", "eth0").stdout or "[]")
    return out[0].get("lladdr") if out else None


def poke(host, addr):
    """A UDP datagram from host to addr (discard port): resolves addr by ARP / ND."""
    fam = "AF_INET6" if ":" in addr else "AF_INET"
    host.run([PYTHON, "-c", "import socket; socket.socket(socket.%s, socket.SOCK_DGRAM)"
              ".sendto(b'x', (%r, 9))" % (fam, addr)])


def test_partition_each_side_elects_then_heal_leaves_one(lab):
    h1, h2, h3, h4, n = lab.add_hosts(5)
    a, b = [h1, h2], [h3, h4]
    two_switches(lab, [h3, h4, n])
    prio = {h1: 150, h2: 100, h3: 120, h4: 80}
    for h in a + b:
        h.start_vipd(vipd_instance("VI_4", vrid=51, priority=prio[h], interval="%dms" % INT_MS,
                                   vips=(VIP + "/24",))
                     + vipd_instance("VI_6", vrid=52, priority=prio[h],
                                     interval="%dms" % INT_MS, vips=(VIP6 + "/64",)))
    wait_until(lambda: one_master_each(a + b, h1), 5, what="h1 the one Master")
    stays(lambda: one_master_each(a + b, h1), 0.5)

    uplink(lab, False)
    # each side elects one Master: h1 keeps A, h3 takes B
    wait_until(lambda: one_master_each(b, h3), 3, what="h3 Master of the B side")
    stays(lambda: one_master_each(a, h1) and one_master_each(b, h3), 1.0,
          what="one Master on each side")
    for vip in (VIP, VIP6):
        assert {h.name for h in lab.holders(vip)} == {"h1", "h3"}
        # n learns where the VIP is on its side
        poke(n, vip)
        wait_until(lambda: neigh_mac(n, vip) == h3.mac, 2,
                   what="n's neighbour entry for %s: h3" % vip)
    # past the ARP entry's locktime (1 s), so that a GARP may update it
    time.sleep(1.2)

    bpf = "ip proto 112 or ip6 proto 112"
    with lab.switch.capture(bpf, iface="br0", name="br0") as cap0, \
            lab.switch.capture(bpf, iface="br1", name="br1") as cap1:
        t_heal = time.time()
        uplink(lab, True)
        wait_until(lambda: one_master_each(a + b, h1), 3,
                   what="h1 the one Master after the heal")
        time.sleep(0.5)
    on0, on1 = cap0.vrrp(), cap1.vrrp()
    for fam, src in (("v4", lambda h: h.ip4), ("v6", lambda h: h.lladdr)):
        srcs_a, srcs_b = {src(h) for h in a}, {src(h) for h in b}
        crossed = [x["t"] for x in on0 if x["src"] in srcs_b and x["t"] >= t_heal - 0.01] + \
                  [x["t"] for x in on1 if x["src"] in srcs_a and x["t"] >= t_heal - 0.01]
        assert crossed, "no %s advert crossed the healed uplink" % fam
        t_cross = min(crossed)
        # the last advert of a Master other than the winner
        others = [x["t"] for x in on0 + on1 if x["src"] in (srcs_a | srcs_b) - {src(h1)}
                  and x["prio"] > 0]
        t_one = max([t_cross] + [t for t in others if t >= t_cross - 0.2])
        print("heal, %s: first advert across %.1f ms after the uplink came up; the last "
              "advert of another Master %.1f ms after that (bound: one interval, %d ms)"
              % (fam, (t_cross - t_heal) * 1000, (t_one - t_cross) * 1000, INT_MS))
        assert t_one - t_cross <= INT_MS / 1000.0, \
            "%s: two Masters still advertising %.0f ms after the first advert crossed" % (
                fam, (t_one - t_cross) * 1000)
    stays(lambda: one_master_each(a + b, h1), 1.0, what="h1 the one Master")
    for vip in (VIP, VIP6):
        assert [h.name for h in lab.holders(vip)] == ["h1"]
        # the neighbour on the loser's side learnt the winner from its GARPs / NAs
        wait_until(lambda: neigh_mac(n, vip) == h1.mac, 2,
                   what="n's neighbour entry for %s to point at h1 (%s)" % (vip, h1.mac))
        poke(n, vip)
        time.sleep(0.2)
        assert neigh_mac(n, vip) == h1.mac
