"""Failover: link cut, graceful stop, preemption on return, preempt options.

Timings are measured on the wire (tcpdump on the switch's bridge) where
possible, so they do not depend on how fast the test polls.
"""
import re
import time

import pytest

from lab import (first, mdi_s, skew_s, stays, vipd_instance, wait_converged, wait_until)

VIP = "192.0.2.100"
INT = 100  # ms
# How late a takeover may be beyond the RFC bound (timer slack, ASan).
SLACK = 0.15
pytestmark = pytest.mark.root


def pair(lab, conf1=None, conf2=None, interval="100ms"):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, interval=interval, **(conf1 or {})))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, interval=interval, **(conf2 or {})))
    wait_converged(h1, [h2], VIP)
    return h1, h2


def test_hard_failover_link_cut(lab):
    h1, h2 = pair(lab)
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.35)
        lab.cut_link(h1)
        t_cut = time.time()
        took = wait_until(lambda: h2.has_addr(VIP), mdi_s(100, INT) + 1.0,
                          what="h2 to take the VIP after h1's link was cut")
        wait_until(lambda: h2.state() == "MASTER", 1)
        time.sleep(0.3)
    # the cut master lost carrier: FAULT, VIP removed
    wait_until(lambda: h1.state() == "FAULT", 2, what="h1 FAULT after losing carrier")
    wait_until(lambda: not h1.has_addr(VIP), 1, what="h1 to remove the VIP in FAULT")
    s1 = h1.inst()
    assert s1["last_reason"] == "fault", s1
    s2 = h2.inst()
    assert s2["last_reason"] == "master_down", s2
    assert s2["master_ip"] == h2.ip4, s2

    adv = cap.vrrp()
    last1 = [a for a in adv if a["src"] == h1.ip4 and a["t"] <= t_cut]
    first2 = first(adv, lambda a: a["src"] == h2.ip4)
    assert last1 and first2, adv
    assert first2["prio"] == 100
    gap = first2["t"] - last1[-1]["t"]
    bound = mdi_s(100, INT)
    assert bound - 0.03 <= gap <= bound + SLACK, (
        "takeover %.0f ms after the master's last advert, RFC Master_Down_Interval %.0f ms"
        % (gap * 1000, bound * 1000))
    assert took <= bound + 0.5


def test_graceful_stop_sends_priority_zero(lab):
    h1, h2 = pair(lab)
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.25)
        rc = h1.stop_vipd()
        took = wait_until(lambda: h2.has_addr(VIP), 2, what="h2 to take the VIP after h1 stopped")
        wait_until(lambda: h2.state() == "MASTER", 1)
        time.sleep(0.2)
    assert rc == 0, "vipd exit code on SIGTERM"
    assert not h1.has_addr(VIP), "stopped vipd left the VIP behind"
    assert "MASTER -> INIT (stop)" in h1.log_text()
    assert h2.inst()["last_reason"] == "priority_zero", h2.inst()

    adv = cap.vrrp()
    zero = [a for a in adv if a["src"] == h1.ip4 and a["prio"] == 0]
    assert len(zero) >= 1, "no priority-0 advert from the stopping master: %s" % adv[-5:]
    assert zero[0]["addrs"] == [VIP] and zero[0]["cksum"] == "good"
    after = [a for a in adv if a["src"] == h1.ip4 and a["t"] > zero[-1]["t"]]
    assert not after, "adverts after the priority-0 advert: %s" % after
    first2 = first(adv, lambda a: a["src"] == h2.ip4)
    assert first2 is not None
    gap = first2["t"] - zero[0]["t"]
    skew = skew_s(100, INT)
    assert skew - 0.02 <= gap <= skew + SLACK, (
        "takeover %.0f ms after priority 0, RFC Skew_Time %.0f ms" % (gap * 1000, skew * 1000))
    assert gap < mdi_s(100, INT) / 2
    assert took < mdi_s(100, INT)


def test_preempt_on_return(lab):
    h1, h2 = pair(lab)
    lab.cut_link(h1)
    wait_converged(h2, [], VIP, timeout=3)
    wait_until(lambda: h1.state() == "FAULT", 2)
    lab.restore_link(h1)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    s1 = h1.inst()
    assert s1["last_reason"] == "preempt", s1
    assert h2.inst()["last_reason"] == "higher_priority_seen", h2.inst()
    assert h2.inst()["master_ip"] == h1.ip4
    # the contract's "(reason)", optionally with a detail: "(fault: interface down)"
    log = h1.log_text()
    for line in ("MASTER -> FAULT (fault", "FAULT -> BACKUP (fault_cleared",
                 "BACKUP -> MASTER (preempt"):
        assert re.search(r"\[VI_1 eth0 vrid 51 v4\] " + re.escape(line) + r"(\)|: )", log), line


def test_preempt_no_stays_backup(lab):
    h1, h2 = pair(lab, conf1={"preempt": False})
    lab.cut_link(h1)
    wait_converged(h2, [], VIP, timeout=3)
    wait_until(lambda: h1.state() == "FAULT", 2)
    lab.restore_link(h1)
    wait_until(lambda: h1.state() == "BACKUP", 2, what="h1 BACKUP after the link returns")
    # several Master_Down_Intervals: the lower-priority master keeps the VIP
    stays(lambda: h1.state() == "BACKUP" and not h1.has_addr(VIP), 4 * mdi_s(150, INT),
          what="h1 (preempt = no) staying BACKUP")
    wait_converged(h2, [h1], VIP, timeout=1)
    assert h1.inst()["master_ip"] == h2.ip4


@pytest.mark.parametrize("fast", [True, False], ids=["preempt_fast", "rfc_wait"])
def test_preempt_fast(lab, fast):
    """Returning higher-priority Backup: at once (fast) or after Master_Down_Interval."""
    ims = 300
    h1, h2 = pair(lab, conf1={"preempt_fast": fast}, interval="%dms" % ims)
    lab.cut_link(h1)
    wait_converged(h2, [], VIP, timeout=3)
    wait_until(lambda: h1.state() == "FAULT", 2)
    time.sleep(0.3)
    lab.restore_link(h1)
    t0 = time.monotonic()
    wait_until(lambda: h1.has_addr(VIP), 4, what="h1 to take the VIP back")
    took = time.monotonic() - t0
    wait_converged(h1, [h2], VIP, timeout=2)
    mdi = mdi_s(150, ims)
    reason = h1.inst()["last_reason"]
    if fast:
        # one advert interval of h2's at most, plus slack
        assert took <= ims / 1000.0 + 0.2, "fast preempt took %.0f ms (MDI %.0f ms)" % (
            took * 1000, mdi * 1000)
        assert reason == "preempt", reason
    else:
        assert mdi - 0.05 <= took <= mdi + 0.4, "RFC preempt took %.0f ms, MDI %.0f ms" % (
            took * 1000, mdi * 1000)
        assert reason == "master_down", reason


def test_backup_failure_is_harmless(lab):
    h1, h2 = pair(lab)
    t_before = h1.inst()["transitions"]
    lab.cut_link(h2)
    wait_until(lambda: h2.state() == "FAULT", 2)
    stays(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 0.5)
    lab.restore_link(h2)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    assert h1.inst()["transitions"] == t_before


def test_preempt_delay(lab):
    """preempt_delay: a returning higher-priority Backup waits before taking over."""
    h1, h2 = pair(lab, conf1={"preempt_delay": "1s"})
    lab.cut_link(h1)
    wait_converged(h2, [], VIP, timeout=3)
    wait_until(lambda: h1.state() == "FAULT", 2)
    lab.restore_link(h1)
    t0 = time.monotonic()
    wait_until(lambda: h1.state() == "BACKUP", 1)
    wait_until(lambda: h1.has_addr(VIP), 4, what="h1 to take the VIP back after the delay")
    took = time.monotonic() - t0
    assert 0.95 <= took <= 1.0 + INT / 1000.0 + 0.4, "preempted after %.0f ms, delay 1000 ms" % (
        took * 1000)
    wait_converged(h1, [h2], VIP, timeout=2)


def test_backup_learns_master_interval(lab):
    """A Backup times out on the Master's interval, not its own (RFC 5798 §6.4.2)."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, interval="200ms"))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, interval="100ms"))
    wait_converged(h1, [h2], VIP)
    wait_until(lambda: h2.inst()["master_adver_interval_ms"] == 200, 2)
    assert h2.inst()["advert_interval_ms"] == 100
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.45)
        lab.cut_link(h1)
        t_cut = time.time()
        wait_until(lambda: h2.has_addr(VIP), 3)
        time.sleep(0.25)
    adv = cap.vrrp()
    last1 = [a for a in adv if a["src"] == h1.ip4 and a["t"] <= t_cut]
    first2 = first(adv, lambda a: a["src"] == h2.ip4)
    assert last1 and first2
    assert all(a["interval_cs"] == 20 for a in last1)
    gap = first2["t"] - last1[-1]["t"]
    bound = mdi_s(100, 200)  # 3 x 200 ms + Skew_Time(100, 200 ms) = 722 ms
    assert bound - 0.03 <= gap <= bound + SLACK, (
        "takeover %.0f ms after the last advert; with the learned 200 ms interval the "
        "Master_Down_Interval is %.0f ms" % (gap * 1000, bound * 1000))
    # as Master it advertises its own configured interval
    assert first2["interval_cs"] == 10
    assert h2.inst()["master_adver_interval_ms"] == 100
