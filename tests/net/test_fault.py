"""FAULT: the instance's interface goes down (or is missing) and comes back."""
import pytest

from lab import mdi_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def start_pair(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    return h1, h2


def test_master_interface_down_and_up(lab):
    h1, h2 = start_pair(lab)
    h1.link_down()
    wait_until(lambda: h1.state() == "FAULT", 2, what="h1 FAULT after eth0 down")
    wait_until(lambda: not h1.has_addr(VIP), 1, what="h1 to drop the VIP")
    assert h1.inst()["last_reason"] == "fault"
    wait_converged(h2, [], VIP, timeout=mdi_s(100, 100) + 1)
    stays(lambda: h1.state() == "FAULT", 0.5)

    h1.link_up()
    # back as BACKUP, then the higher priority takes over again
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    log = h1.log_text()
    assert "FAULT -> BACKUP (fault_cleared" in log, log


def test_backup_interface_down_and_up(lab):
    h1, h2 = start_pair(lab)
    h2.link_down()
    wait_until(lambda: h2.state() == "FAULT", 2, what="h2 FAULT after eth0 down")
    stays(lambda: h1.state() == "MASTER" and not h2.has_addr(VIP), 0.5)
    h2.link_up()
    wait_until(lambda: h2.state() == "BACKUP", 2, what="h2 BACKUP after eth0 up")
    wait_converged(h1, [h2], VIP, hold=0.5)
    assert h2.inst()["last_reason"] == "fault_cleared"


def test_lone_host_fault_and_back_to_master(lab):
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP)
    h1.link_down()
    wait_until(lambda: h1.state() == "FAULT" and not h1.has_addr(VIP), 2)
    h1.link_up()
    # highest (only) router: BACKUP, then MASTER after Master_Down_Interval
    wait_converged(h1, [], VIP, timeout=mdi_s(100, 100) + 1.5)


def test_missing_interface_at_start_is_fault(lab):
    """A missing interface is not fatal: FAULT until it appears."""
    h1, = lab.add_hosts(1)
    conf = vipd_instance(name="VI_1", iface="eth0", vrid=51, priority=100) + "\n" + \
        vipd_instance(name="VI_2", iface="eth1", vrid=52, priority=100,
                      vips=["192.0.2.101/24"])
    h1.start_vipd(conf)
    wait_until(lambda: h1.state("VI_1") == "MASTER", 2)
    stays(lambda: h1.state("VI_2") == "FAULT", 0.6, what="VI_2 FAULT while eth1 is missing")
    assert h1.vipd_running()
    # a veth pair inside h1 (no dummy module here): eth1 gets carrier
    h1.ip("link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    h1.ip("addr", "add", "192.0.2.21/24", "dev", "eth1")
    h1.ip("link", "set", "eth1p", "up")
    h1.ip("link", "set", "eth1", "up")
    wait_until(lambda: h1.state("VI_2") == "MASTER", mdi_s(100, 100) + 2,
               what="VI_2 MASTER once eth1 exists")
    assert h1.has_addr("192.0.2.101", dev="eth1")
    assert not h1.has_addr("192.0.2.101", dev="eth0")
    # and the interface going away again is a FAULT, not a crash
    h1.ip("link", "del", "eth1")
    wait_until(lambda: h1.state("VI_2") == "FAULT", 2, what="VI_2 FAULT after eth1 deleted")
    assert h1.state("VI_1") == "MASTER"
