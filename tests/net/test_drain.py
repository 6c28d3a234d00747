"""Drain for maintenance (vipctl drain / undrain): hand over at once, stay out
of service whatever the priorities, survive a restart, fail safe on a state
file that cannot be trusted, and say loudly when nobody took over."""
import json
import os
import time

import pytest

from lab import VIPCTL, mdi_s, skew_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def pair(lab, hooks_dir=None):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    return h1, h2


def test_drain_wait_hands_over_and_stays_out(lab):
    """drain --wait returns 0 once the Backup is Master; the drained node stays
    FAULT "drained" although its priority is higher; undrain preempts back."""
    h1, h2 = pair(lab)
    t0 = time.monotonic()
    p = h1.vipctl("drain", "--wait", "VI_1", check=False)
    took = time.monotonic() - t0
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "VI_1: %s is Master" % h2.ip4 in p.stdout, p.stdout
    # priority 0 hand-over: the Backup waits Skew_Time, not Master_Down_Interval
    assert took < skew_s(100, 100) + 0.5, took
    assert h2.state() == "MASTER" and h2.has_addr(VIP)
    s = h1.inst()
    assert s["state"] == "FAULT" and s["fault_reason"] == "drained" and s["drained"], s
    assert not h1.has_addr(VIP)
    assert s["master_ip"] == h2.ip4, s
    stays(lambda: h1.state() == "FAULT" and h2.state() == "MASTER", 0.5)
    # vipctl status says so in text too
    assert "fault: drained" in h1.vipctl("status").stdout
    p = h1.vipctl("undrain", "VI_1")
    assert p.stdout.strip() == "ok: undrained VI_1", p.stdout
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), mdi_s(150, 100) + 1,
               what="h1 back to MASTER after undrain")
    assert not h1.inst()["drained"]


def test_drained_survives_restart(lab):
    """A node restarted during maintenance does not take its VIP back."""
    h1, h2 = pair(lab)
    h1.vipctl("drain", "--all")
    wait_until(lambda: h2.state() == "MASTER", 2)
    with open(os.path.join(h1.dir, "drained")) as f:
        assert "*" in f.read().split()
    h1.stop_vipd()
    h1.start_vipd(vipd_instance(priority=150))
    stays(lambda: h1.state() == "FAULT" and h2.state() == "MASTER" and not h1.has_addr(VIP),
          mdi_s(150, 100) + 0.5)
    assert "starts drained" in h1.log_text()
    h1.vipctl("undrain", "--all")
    wait_until(lambda: h1.state() == "MASTER", mdi_s(150, 100) + 1)
    with open(os.path.join(h1.dir, "drained")) as f:
        assert [l for l in f.read().split("\n") if l and not l.startswith("#")] == []


def test_drain_wait_nobody_takes_over(lab):
    """With no other router, drain --wait exits 1 and says the VIPs are down."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    t0 = time.monotonic()
    p = h1.vipctl("drain", "--wait", "--timeout", "800ms", "VI_1", check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert 0.7 < time.monotonic() - t0 < 3
    assert "VI_1: no other router took over" in p.stderr and "DOWN" in p.stderr, p.stderr
    assert not h1.has_addr(VIP)
    st = h1.vipctl("status").stdout
    assert "no other router is Master: the VIPs are DOWN" in st, st


def test_corrupt_state_file_starts_drained(lab):
    """A state file that cannot be trusted: every instance starts drained, the
    log says why and how to get out; undrain --all recovers."""
    h1, = lab.add_hosts(1)
    with open(os.path.join(h1.dir, "drained"), "w") as f:
        f.write("VI_1\nthis is not a name\n")
    h1.start_vipd(vipd_instance(priority=150) + vipd_instance(name="VI_2", vrid=52,
                                                              vips=("192.0.2.101/24",)))
    stays(lambda: h1.state("VI_1") == "FAULT" and h1.state("VI_2") == "FAULT", 0.6)
    log = h1.log_text()
    assert "drained:2: not an instance name" in log and "vipctl undrain --all" in log, log
    h1.vipctl("undrain", "--all")
    wait_until(lambda: h1.state("VI_1") == "MASTER" and h1.state("VI_2") == "MASTER",
               mdi_s(150, 100) + 1)


def test_drain_errors_and_events(lab):
    """Unknown instance, missing argument: clear errors. A drain is an event,
    and its FAULT transition carries the reason "drained"."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    p = h1.vipctl("drain", "VI_9", check=False)
    assert p.returncode == 1 and 'no instance "VI_9"' in p.stderr, p.stderr
    p = h1.vipctl("drain", check=False)
    assert p.returncode == 1 and "usage: drain" in p.stderr, p.stderr
    ev = h1.run(["sh", "-c", "timeout 2 %s -S %s events > %s/ev.log & sleep 0.3; "
                 "%s -S %s drain VI_1; sleep 0.5" % (
                     VIPCTL, h1.sock, h1.dir, VIPCTL, h1.sock)], check=False, timeout=10)
    assert ev.returncode == 0, ev.stderr
    lines = [json.loads(l) for l in open(os.path.join(h1.dir, "ev.log")) if l.strip()]
    types = [(e["type"], e.get("reason")) for e in lines]
    assert ("drain", None) in types, types
    assert ("transition", "drained") in types, types
