"""The kernel refuses a VIP (vipd without CAP_NET_ADMIN, an interface that
will not take the address): the instance must not become a Master
without it. It goes to FAULT with a priority-0 advert, the peer takes
over, nothing ever announces the address it does not hold, and it tries
again with backoff.

This kernel has no way to make one address add fail while vipd keeps
its capabilities, so the refusal comes from a test-only variable
(VIPD_TEST_REFUSE_ADD, netlink/vaddr.c) that fails the add as EPERM."""
import pytest

from lab import stays, vipd_instance, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def test_refused_vip_is_a_fault_and_the_peer_takes_over(lab):
    h1, h2 = lab.add_hosts(2)
    with lab.switch.capture("arp or proto 112") as cap:
        h1.start_vipd(vipd_instance(priority=150), env={"VIPD_TEST_REFUSE_ADD": VIP})
        h2.start_vipd(vipd_instance(priority=100))
        wait_until(lambda: h2.state() == "MASTER" and h2.has_addr(VIP), 5,
                   what="h2 to take over from h1, which cannot add the VIP")
        inst = h1.inst()
        assert inst["state"] == "FAULT", inst
        assert inst["fault_reason"] == "cannot add %s/24" % VIP, inst
        assert inst["vip_add_errors"] >= 1, inst
        # h1 leaves FAULT after 1 s, 2 s, 4 s... and tries again each time
        # it preempts: h2 stays Master with the VIP all along.
        stays(lambda: h2.state() == "MASTER" and h2.has_addr(VIP) and not h1.has_addr(VIP),
              4.5, what="h2 Master with the VIP, h1 without it")
        assert h1.inst()["vip_add_errors"] >= 3, h1.inst()
    log = h1.log_text()
    assert "BACKUP -> FAULT (fault: cannot add %s/24)" % VIP in log, log
    assert "BACKUP -> MASTER" not in log, log
    assert "trying again in 2 s" in log, log
    # Nothing from h1 ever announced the VIP or advertised at priority 150.
    arps = cap.records(["eth.src", "arp.src.proto_ipv4"], "arp && arp.src.proto_ipv4 == %s" % VIP)
    assert arps and all(a["eth.src"] == h2.mac for a in arps), arps
    h1_adverts = [p for p in cap.vrrp() if p["src"] == h1.ip4]
    assert h1_adverts and all(p["prio"] == 0 for p in h1_adverts), h1_adverts
    assert h2.status()["instances"][0]["transitions"] == 2, "h2 was disturbed"
