"""Instances on one interface share one socket (vport.c): what that must not change."""
import time

import pytest

from lab import mdi_s, vipd_instance, wait_until

pytestmark = pytest.mark.root


def two_instances(**kw):
    return (vipd_instance(name="A", vrid=1, priority=200, vips=("192.0.2.100/32",), **kw) +
            vipd_instance(name="B", vrid=2, priority=200, vips=("192.0.2.101/32",), **kw))


def raw_vrrp_sockets(host):
    """Raw protocol-112 sockets open in the host's namespace, per family."""
    out = {}
    for fam, path in (("ipv4", "/proc/net/raw"), ("ipv6", "/proc/net/raw6")):
        lines = host.run(["cat", path]).stdout.splitlines()[1:]
        # local_address is ADDR:PROTO (hex); 112 = 0x70
        out[fam] = sum(1 for l in lines if l.split()[1].endswith(":0070"))
    return out


def test_one_socket_per_interface_and_family(lab):
    h1, = lab.add_hosts(1)
    conf = "".join(vipd_instance(name="V%d" % i, vrid=i, priority=200,
                                 vips=("192.0.2.%d/32" % (100 + i),)) for i in range(1, 21))
    conf += "".join(vipd_instance(name="W%d" % i, vrid=i, priority=200,
                                  vips=("2001:db8::%x/128" % (0x100 + i),)) for i in range(1, 6))
    h1.start_vipd(conf)
    wait_until(lambda: all(i["state"] == "MASTER" for i in h1.status()["instances"]),
               mdi_s(200, 100) + 3, what="all 25 instances to become Master")
    assert raw_vrrp_sockets(h1) == {"ipv4": 1, "ipv6": 1}
    ports = {(p["interface"], p["family"]): p for p in h1.status()["interfaces"]}
    assert ports[("eth0", "ipv4")]["instances"] == 20
    assert ports[("eth0", "ipv6")]["instances"] == 5
    d = h1.status()["daemon"]
    assert d["realtime"] is True and d["realtime_demotions"] == 0, d
    assert d["loop_passes"] > 0 and d["netlink_overruns"] == 0, d
    assert "daemon: real-time priority on" in h1.vipctl("status").stdout


def test_source_is_never_another_instances_vip(lab):
    """
    The host's own address comes after two VIPs in the kernel's order (it was
    deleted and added back while both instances were Master). Each instance
    excluded only its own VIPs, so A advertised from B's VIP and B from A's.
    """
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(two_instances())
    wait_until(lambda: all(i["state"] == "MASTER" for i in h1.status()["instances"]),
               mdi_s(200, 100) + 3, what="A and B to become Master")
    h1.ip("addr", "del", "%s/24" % h1.ip4, "dev", "eth0")
    h1.ip("addr", "add", "%s/24" % h1.ip4, "dev", "eth0")
    wait_until(lambda: all(i["state"] == "MASTER" for i in h1.status()["instances"]) and
               h1.has_addr("192.0.2.100") and h1.has_addr("192.0.2.101"),
               mdi_s(200, 100) + 3, what="A and B Master with their VIPs again")
    with h2.capture("ip proto 112") as cap:
        time.sleep(1.0)
    adv = [a for a in cap.vrrp() if a["vrid"] in (1, 2)]
    assert {a["vrid"] for a in adv} == {1, 2}, adv
    wrong = [a for a in adv if a["src"] != h1.ip4]
    assert not wrong, "adverts from another address than %s: %s" % (h1.ip4, wrong[:4])
