"""Netlink events lost to a receive-buffer overrun: vipd resynchronises its
link and address cache and replays what changed, so a VIP deleted while
events were being dropped is still put back on the Master."""
import os
import signal
import threading
import time

import pytest

from lab import vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def flood_batch(h, n, verb="add"):
    """`ip -batch` lines adding (or deleting) n IPv6 /128s on eth0, no DAD."""
    path = os.path.join(h.dir, "flood-%s.batch" % verb)
    with open(path, "w") as f:
        for i in range(n):
            f.write("address %s 2001:db8::f:%x/128 dev eth0%s\n"
                    % (verb, i + 1, " nodad" if verb == "add" else ""))
    return path


@pytest.fixture
def tiny_rcvbuf(monkeypatch):
    # Test-only knob read by netlink_open(): the monitor socket's receive
    # buffer in bytes, so that a few hundred events overrun it.
    monkeypatch.setenv("VIPD_TEST_NL_RCVBUF", "4096")


def test_vip_deleted_while_events_lost_is_readded(lab, tiny_rcvbuf):
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)

    # Freeze vipd so that nothing is read while the kernel queues events:
    # the flood overruns the monitor socket (with the knob, and also with
    # the default 2 MiB buffer: 3000 events do not fit), and the VIP's
    # deletion, coming last, is certainly among the events dropped.
    os.kill(h1.vipd.pid, signal.SIGSTOP)
    try:
        h1.run(["ip", "-batch", flood_batch(h1, 3000)])
        h1.ip("addr", "del", VIP + "/24", "dev", "eth0")
    finally:
        os.kill(h1.vipd.pid, signal.SIGCONT)
    t0 = time.monotonic()
    wait_until(lambda: h1.has_addr(VIP), 3, interval=0.01,
               what="vipd to re-add the VIP deleted while events were lost")
    took = time.monotonic() - t0
    log = h1.log_text()
    assert "events lost" in log and "resynchronis" in log, log
    assert "192.0.2.100/24 was deleted by someone else, re-adding" in log
    assert took <= 1.0, "VIP re-added %.0f ms after vipd resumed" % (took * 1000)
    assert h1.state() == "MASTER"

    # Later deletions are still seen: the cache is live after the resync.
    h1.run(["ip", "-batch", flood_batch(h1, 3000, "del")])
    h1.ip("addr", "del", VIP + "/24", "dev", "eth0")
    wait_until(lambda: h1.has_addr(VIP), 3, interval=0.01, what="the VIP re-added again")


def test_thousand_addresses_while_running(lab):
    """1000 address adds at full speed with the default buffer: no event is
    lost, and a VIP deleted right after the burst is re-added at once."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h1.run(["ip", "-batch", flood_batch(h1, 1000)])
    h1.ip("addr", "del", VIP + "/24", "dev", "eth0")
    wait_until(lambda: h1.has_addr(VIP), 2, interval=0.01, what="the VIP re-added")
    assert "events lost" not in h1.log_text()
    assert h1.state() == "MASTER"


def test_churn_while_resyncing_keeps_the_master(lab):
    """Overruns while thousands of addresses keep changing: every dump for
    a resynchronisation can come back interrupted. vipd must not dump again
    and again inside one loop pass (libnl's refill does, and held the loop
    for seconds): the Master keeps advertising, the Backup never takes
    over, and once the churn stops the cache is right again."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, interval="200ms"),
                  env={"VIPD_TEST_NL_RCVBUF": "4096"})
    h2.start_vipd(vipd_instance(priority=100, interval="200ms"))
    wait_converged(h1, [h2], VIP)
    flips = 0
    for batch in (flood_batch(h1, 3000), flood_batch(h1, 3000, "del")):
        errors = []

        def churn(batch=batch, errors=errors):
            try:
                h1.run(["ip", "-batch", batch], timeout=120)
            except Exception as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)

        # A short freeze (well inside Master_Down_Interval, 720 ms) makes
        # sure the 4 KiB buffer overruns; the resync then dumps while the
        # batch still runs.
        os.kill(h1.vipd.pid, signal.SIGSTOP)
        t = threading.Thread(target=churn)
        t.start()
        time.sleep(0.2)
        os.kill(h1.vipd.pid, signal.SIGCONT)
        while t.is_alive():
            if h2.state() != "BACKUP":
                flips += 1
            time.sleep(0.05)
        t.join()
        assert not errors, errors
    d = h1.status()["daemon"]
    assert d["netlink_overruns"] >= 1, d
    assert flips == 0, "the Backup took over %d time(s) during the churn; h1: %s" % (flips, d)
    assert h1.state() == "MASTER"
    # However many overruns the flood caused, it is said once (a minute).
    log = h1.log_text()
    assert log.count("events lost") == 1 and log.count("resynchronised:") == 1, log
    # The cache is live and right: a deletion now is seen and undone.
    h1.ip("addr", "del", VIP + "/24", "dev", "eth0")
    wait_until(lambda: h1.has_addr(VIP), 3, interval=0.01, what="the VIP re-added after the churn")
