"""The VIP guard: a deleted VIP comes back; leftovers are removed at start."""
import time

import pytest

from lab import stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def test_vip_readded_after_external_delete(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    before = h1.inst()

    for _ in range(3):
        h1.ip("addr", "del", VIP + "/24", "dev", "eth0")
        t0 = time.monotonic()
        wait_until(lambda: h1.has_addr(VIP), 2, interval=0.005,
                   what="vipd to re-add the deleted VIP")
        took = time.monotonic() - t0
        assert took <= 0.25, "VIP re-added after %.0f ms" % (took * 1000)
        time.sleep(0.2)

    assert "192.0.2.100/24 was deleted by someone else, re-adding" in h1.log_text()
    after = h1.inst()
    assert after["state"] == "MASTER"
    assert after["transitions"] == before["transitions"], "the re-add must not be a transition"
    # the Backup never noticed anything
    assert h2.inst()["transitions"] == 1
    assert not h2.has_addr(VIP)


def test_vip_deleted_on_backup_side_is_not_added(lab):
    """Deleting some other address on a Backup does not make it add the VIP."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    h2.ip("addr", "add", "192.0.2.99/24", "dev", "eth0")
    h2.ip("addr", "del", "192.0.2.99/24", "dev", "eth0")
    stays(lambda: not h2.has_addr(VIP) and h2.state() == "BACKUP", 0.5)


def test_leftover_vip_removed_at_start(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    # e.g. a previous vipd on h2 was killed with SIGKILL while Master
    h2.ip("addr", "add", VIP + "/24", "dev", "eth0")
    assert h2.has_addr(VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: not h2.has_addr(VIP), 2, what="leftover VIP to be removed from h2")
    wait_converged(h1, [h2], VIP, hold=0.5)
    assert "removed leftover 192.0.2.100/24 at start" in h2.log_text()


def test_kill9_then_restart_cleans_up(lab):
    """kill -9 leaves the VIP (nothing can prevent that); the next start removes it."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    assert h1.kill9() == -9
    assert h1.has_addr(VIP)  # the kernel keeps it
    wait_until(lambda: h2.state() == "MASTER", 2)
    # restart h1 with a priority that loses: it must clean up and stay BACKUP
    h1.start_vipd(vipd_instance(priority=50))
    wait_until(lambda: not h1.has_addr(VIP), 2, what="leftover VIP removed after kill -9")
    wait_converged(h2, [h1], VIP, hold=0.5)
