"""Equal priorities: the higher primary address wins (RFC 5798 §6.4.3).

The tie-break only decides when two Masters meet, so the test makes two
Masters on purpose: the lower-address host becomes Master first (the other
one, joining later, stays Backup as the RFC says for an equal-priority
advert), then the bridge port of the Backup stops forwarding (no carrier
loss, so no FAULT) until it becomes Master too, then the partition heals.
"""
import ipaddress

import pytest

from lab import mdi_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


@pytest.mark.parametrize("low_ip,high_ip", [("192.0.2.11", "192.0.2.12"),
                                            ("192.0.2.12", "192.0.2.200")],
                         ids=["11-12", "12-200"])
def test_equal_priority_higher_address_wins(lab, low_ip, high_ip):
    assert ipaddress.ip_address(low_ip) < ipaddress.ip_address(high_ip)
    low = lab.add_host("low", ip4=low_ip)
    high = lab.add_host("high", ip4=high_ip)
    low.start_vipd(vipd_instance(priority=100))
    wait_converged(low, [], VIP)
    high.start_vipd(vipd_instance(priority=100))
    # equal priority from the Master resets a Backup's timer: no takeover
    stays(lambda: high.state() == "BACKUP", 3 * mdi_s(100, 100), what="joining host stays BACKUP")
    wait_converged(low, [high], VIP)

    lab.partition(high)
    wait_until(lambda: high.state() == "MASTER" and high.has_addr(VIP), 2,
               what="partitioned host to become MASTER")
    assert low.state() == "MASTER"  # two Masters now
    lab.heal(high)
    wait_converged(high, [low], VIP, timeout=2, hold=0.6)
    s = low.inst()
    assert s["last_reason"] == "higher_priority_seen", s
    assert s["master_ip"] == high_ip, s


def test_simultaneous_start_higher_address_wins(lab):
    """Started together, both time out at once; the tie-break settles it."""
    h1, h2 = lab.add_hosts(2)
    # Start both, then let them meet: a partition during startup makes the
    # outcome independent of which process happened to start first.
    lab.partition(h1)
    h1.start_vipd(vipd_instance(priority=100))
    h2.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER" and h2.state() == "MASTER", 3)
    lab.heal(h1)
    wait_converged(h2, [h1], VIP, timeout=2, hold=0.5)
