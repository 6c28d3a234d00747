"""Election among three vipd hosts: the highest priority holds the VIP."""

import pytest

from lab import converged, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def test_three_hosts_highest_priority_is_master(lab):
    h1, h2, h3 = lab.add_hosts(3)
    for h, prio in ((h1, 150), (h2, 100), (h3, 50)):
        h.start_vipd(vipd_instance(priority=prio))

    wait_converged(h1, [h2, h3], VIP, timeout=5, hold=1.0)
    assert [h.name for h in lab.holders(VIP)] == ["h1"], "exactly one host holds the VIP"
    assert "192.0.2.100/24" in h1.addrs(), "VIP added with the wrong prefix: %s" % h1.addrs()

    m = h1.inst()
    assert m["state"] == "MASTER"
    assert m["master_ip"] == h1.ip4
    assert m["priority"] == m["effective_priority"] == 150
    assert m["family"] == "ipv4" and m["mode"] == "multicast"
    assert m["vips"] == ["192.0.2.100/24"]
    assert m["advert_interval_ms"] == 100 and m["master_adver_interval_ms"] == 100
    assert m["last_reason"] == "master_down"
    assert m["adverts_sent"] >= 10

    for h, prio in ((h2, 100), (h3, 50)):
        s = h.inst()
        assert s["state"] == "BACKUP", s
        assert s["master_ip"] == h1.ip4, s
        assert s["priority"] == prio
        assert s["master_adver_interval_ms"] == 100
        assert s["adverts_received"] >= 10, s
        # h1 started first and has the shortest Master_Down_Interval, so a
        # backup never had a reason to become Master, nor to advertise.
        assert s["adverts_sent"] == 0, s
        assert s["transitions"] == 1 and s["last_reason"] == "startup", s

    for h in (h1, h2, h3):
        assert not any(h.inst()["dropped"].values()), h.inst()["dropped"]


def test_status_text_form(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    text = h1.vipctl("status").stdout
    assert "VI_1: MASTER  vrid 51 on eth0 (ipv4, multicast)" in text, text
    assert "priority 150, effective 150, advert 100 ms, master 192.0.2.11" in text, text
    assert "vips 192.0.2.100/24" in text, text
    assert "dropped: none" in text, text
    text = h2.vipctl("status").stdout
    assert "VI_1: BACKUP  vrid 51 on eth0 (ipv4, multicast)" in text, text
    assert "master 192.0.2.11" in text, text


def test_late_higher_priority_preempts(lab):
    """A higher-priority host joining later takes the VIP over (preempt = yes)."""
    h1, h2 = lab.add_hosts(2)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h2, [], VIP)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    assert h1.inst()["last_reason"] in ("preempt", "master_down"), h1.inst()
    assert h2.inst()["last_reason"] == "higher_priority_seen", h2.inst()
    assert converged(h1, [h2], VIP)
    stays(lambda: h2.inst()["transitions"] == 3, 0.5)  # INIT->BACKUP->MASTER->BACKUP


def test_transitions_logged_once(lab):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP, hold=0.5)
    log1, log2 = h1.log_text(), h2.log_text()
    assert log1.count("INIT -> BACKUP (startup)") == 1, log1
    assert log1.count("BACKUP -> MASTER (master_down)") == 1, log1
    assert log1.count("added 192.0.2.100/24") == 1, log1
    assert log2.count("INIT -> BACKUP (startup)") == 1, log2
    assert "MASTER" not in log2.replace("master", ""), log2
    assert h1.inst()["transitions"] == 2 and h2.inst()["transitions"] == 1


def test_multiple_instances_active_active(lab):
    """Two VRIDs with opposite priorities plus an IPv6 instance, in one daemon each."""
    h1, h2 = lab.add_hosts(2)

    def conf(p1, p2, p6):
        return (vipd_instance("VI_1", vrid=51, priority=p1, vips=["192.0.2.100/24"])
                + vipd_instance("VI_2", vrid=52, priority=p2, vips=["192.0.2.101/24"])
                + vipd_instance("VI_6", vrid=51, priority=p6, vips=["2001:db8::100/64"]))

    h1.start_vipd(conf(150, 100, 150))
    h2.start_vipd(conf(100, 150, 100))

    def settled():
        s1 = {i["name"]: i["state"] for i in h1.status()["instances"]}
        s2 = {i["name"]: i["state"] for i in h2.status()["instances"]}
        return (s1 == {"VI_1": "MASTER", "VI_2": "BACKUP", "VI_6": "MASTER"}
                and s2 == {"VI_1": "BACKUP", "VI_2": "MASTER", "VI_6": "BACKUP"}
                and [h.name for h in lab.holders("192.0.2.100")] == ["h1"]
                and [h.name for h in lab.holders("192.0.2.101")] == ["h2"]
                and [h.name for h in lab.holders("2001:db8::100")] == ["h1"])

    wait_until(settled, 5, what="VI_1 and VI_6 on h1, VI_2 on h2")
    stays(settled, 0.5)
    # h2 going away moves only VI_2
    assert h2.stop_vipd() == 0
    wait_until(lambda: h1.state("VI_2") == "MASTER" and h1.has_addr("192.0.2.101"), 1)
    for i in h1.status()["instances"]:
        assert i["state"] == "MASTER" and not any(i["dropped"].values()), i


def test_owner_takes_over_at_once(lab):
    """An address owner (255) joining a running group is Master without waiting."""
    h1, h2 = lab.add_hosts(2)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h2, [], VIP)
    h1.start_vipd(vipd_instance(priority=255))
    wait_converged(h1, [h2], VIP, timeout=2)
    # From h1's start to h2's yielding, in vipd's own log stamps (the
    # process start-up, slow under a sanitizer, is not the protocol's).
    took = h2.log_time("MASTER -> BACKUP (higher_priority_seen)") - h1.log_time("starting with")
    assert took < 0.3, "owner took %.0f ms to become the only Master" % (took * 1000)
    assert h1.inst()["last_reason"] == "owner"
    assert h1.inst()["transitions"] == 1  # INIT -> MASTER directly
