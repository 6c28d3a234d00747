"""Health checks against a real HAProxy on two load balancers (seed 001).

Each LB host runs Debian's haproxy (stats socket, a monitor-uri HTTP
frontend on 127.0.0.1:8404, a TCP frontend :5000 whose backend points at a
local listener on :5433). vipd tracks it with weight 2 over priorities
101 / 100, so 103 vs 102 while both are healthy: killing HAProxy on the
Master drops it to 101 and the Backup (102) takes over at once (fast
preemption on the lower-priority advert), well before the Master_Down_Interval
a dead Master would need (3 x 1 s + Skew_Time). Restarting HAProxy gives the
VIP back by preemption.
"""
import re
import time

import pytest

from lab import (check_of, check_section, checks_conf, mdi_s, stays, track_of, vipd_instance,
                 wait_converged, wait_until)

VIP = "192.0.2.100"
ADVERT = "1s"
pytestmark = pytest.mark.root

# check type -> (options given the host's HAProxy, check interval in s, unicast?)
VARIANTS = {
    # seed 001's `killall -0 haproxy` every 2 s, without a fork: the pidfile's
    # process (and its name); a death is seen at once (pidfd), not at the next run.
    "process": (lambda hp: {"name": "haproxy", "pidfile": hp.pidfile, "interval": "2s"}, 2.0,
                True),
    "haproxy": (lambda hp: {"socket": hp.sock, "interval": "200ms", "timeout": "500ms"}, 0.2,
                True),
    "http": (lambda hp: {"url": "http://127.0.0.1:8404/health", "interval": "200ms",
                         "timeout": "500ms"}, 0.2, False),
    "tcp": (lambda hp: {"address": "127.0.0.1:5000", "interval": "200ms", "timeout": "500ms"},
            0.2, False),
}


def lb_conf(host, peer, kind, hp, prio, track_weight_in_check):
    opts, _, unicast = VARIANTS[kind]
    opts = dict(opts(hp))
    if track_weight_in_check:
        opts["weight"] = 2
        track = "hp"
    else:
        track = "hp weight 2"
    inst = {"track": [track]}
    if unicast:
        inst.update(unicast_src=host.ip4, unicast_peer=peer.ip4)
    return checks_conf(check_section("hp", kind, **opts),
                       vipd_instance(priority=prio, interval=ADVERT, **inst))


def lb_pair(clab, kind):
    h1, h2 = clab.add_hosts(2)
    hps = []
    for h in (h1, h2):
        clab.helper(h, "backend", "listen", "127.0.0.1:5433")
        hps.append(clab.haproxy(h))
    # the check's own weight on one host, the track line's on the other
    h1.start_vipd(lb_conf(h1, h2, kind, hps[0], 101, True))
    wait_converged(h1, [], VIP, timeout=mdi_s(101, 1000) + 2)
    h2.start_vipd(lb_conf(h2, h1, kind, hps[1], 100, False))
    wait_until(lambda: h2.inst()["effective_priority"] == 102, 5,
               what="h2's check up (102)")
    wait_converged(h1, [h2], VIP, timeout=3)
    return h1, h2, hps[0], hps[1]


def assert_tracked(host, kind, state, prio):
    c = check_of(host, "hp")
    inst = host.inst()
    t = track_of(inst, "hp")
    assert c["type"] == kind, c
    assert c["state"] == state, c
    assert inst["effective_priority"] == prio, inst
    assert t["weight"] == 2 and t["state"] == state, t
    assert t["applied"] == (2 if state == "up" else 0), t
    assert c["last"] is not None and c["last"]["ok"] == (state == "up"), c
    assert c["runs"] >= 1
    if state == "up":
        assert c["successes"] >= 1 and c["failures"] == 0, c
    else:
        assert c["failures"] >= 1 and c["successes"] == 0, c


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_lb_haproxy_dies_and_returns(clab, kind):
    h1, h2, hp1, hp2 = lb_pair(clab, kind)
    interval = VARIANTS[kind][1]
    assert_tracked(h1, kind, "up", 103)
    assert_tracked(h2, kind, "up", 102)
    assert h1.inst()["priority"] == 101

    with clab.switch.capture("ip proto 112") as cap:
        time.sleep(0.2)
        t_kill = time.time()
        t0 = time.monotonic()
        hp1.kill()
        wait_until(lambda: h2.has_addr(VIP), mdi_s(102, 1000) + 1, interval=0.005,
                   what="h2 to take the VIP after HAProxy died on h1")
        took = time.monotonic() - t0
        wait_converged(h2, [h1], VIP, timeout=2)
        time.sleep(0.1)
    # Without the check h2 would wait for nothing (h1 still advertises); the
    # point is it moves at once, far below Master_Down_Interval (3.6 s).
    if kind == "process":
        bound = 1.0  # pidfd: the death itself is the event, not the 2 s schedule
    else:
        bound = interval + 0.8
    print("%s check: VIP moved %.0f ms after HAProxy was killed" % (kind, took * 1000))
    assert took < bound, "VIP moved %.0f ms after HAProxy was killed (bound %.0f ms, " \
        "Master_Down_Interval %.0f ms)" % (took * 1000, bound * 1000, mdi_s(102, 1000) * 1000)
    assert_tracked(h1, kind, "down", 101)
    assert_tracked(h2, kind, "up", 102)
    assert h2.inst()["last_reason"] == "preempt", h2.inst()
    assert h1.inst()["last_reason"] == "higher_priority_seen", h1.inst()

    # on the wire: h1 advertised 101 at once (not at its next 1 s tick), then h2 took over
    adv = cap.vrrp()
    drop = [a for a in adv if a["src"] == h1.ip4 and a["prio"] == 101]
    assert drop, "no priority-101 advert from h1 after HAProxy died: %s" % adv
    assert drop[0]["t"] - t_kill < bound, (drop[0]["t"] - t_kill, adv)
    first2 = [a for a in adv if a["src"] == h2.ip4 and a["t"] >= drop[0]["t"]]
    assert first2 and first2[0]["prio"] == 102
    assert first2[0]["t"] - drop[0]["t"] < 0.2, "h2 took %.0f ms to preempt" % (
        (first2[0]["t"] - drop[0]["t"]) * 1000)

    log = h1.log_text()
    assert re.search(r"check hp: up -> down \(", log), log[-2000:]
    assert re.search(r"\[VI_1 eth0 vrid 51 v4\] priority 103 -> 101 \(check:hp down\)", log), \
        log[-2000:]

    # HAProxy back: h1 is 103 again and preempts h2 (102) at h2's next advert
    t0 = time.monotonic()
    hp1.start()
    wait_until(lambda: h1.has_addr(VIP), interval + 1.0 + 1.5, interval=0.01,
               what="h1 to take the VIP back after HAProxy restarted")
    back = time.monotonic() - t0
    print("%s check: VIP back %.0f ms after HAProxy restarted" % (kind, back * 1000))
    wait_converged(h1, [h2], VIP, timeout=2, hold=0.3)
    assert_tracked(h1, kind, "up", 103)
    assert h1.inst()["last_reason"] == "preempt", h1.inst()
    assert re.search(r"priority 101 -> 103", h1.log_text())
    assert back < interval + 1.0 + 1.5, back


def test_haproxy_backend_needs_an_up_server(clab):
    """`backend = pg`: HAProxy answering is not enough, the backend needs an UP server.
    The monitor-uri frontend says the same with `monitor fail if { nbsrv(pg) lt 1 }`."""
    h1, = clab.add_hosts(1)
    backend = clab.helper(h1, "backend", "listen", "127.0.0.1:5433")
    hp = clab.haproxy(h1)
    conf = checks_conf(
        check_section("hp_alive", "haproxy", socket=hp.sock, interval="100ms"),
        check_section("hp_pg", "haproxy", socket=hp.sock, backend="pg", interval="100ms"),
        check_section("hp_nosuch", "haproxy", socket=hp.sock, backend="nosuch",
                      interval="100ms"),
        check_section("hp_http", "http", url="http://127.0.0.1:8404/health", interval="100ms"),
        vipd_instance(priority=100, track=["hp_alive weight 1", "hp_pg weight 2",
                                           "hp_nosuch weight 4", "hp_http weight 8"]))
    h1.start_vipd(conf)
    wait_until(lambda: h1.state() == "MASTER", 2)
    wait_until(lambda: check_of(h1, "hp_pg")["state"] == "up", 3, what="backend pg up")
    assert check_of(h1, "hp_alive")["state"] == "up"
    wait_until(lambda: check_of(h1, "hp_nosuch")["state"] == "down", 2)
    wait_until(lambda: check_of(h1, "hp_http")["state"] == "up", 2)
    assert h1.inst()["effective_priority"] == 111

    backend.stop()  # HAProxy's own health check marks the server DOWN within ~100 ms
    wait_until(lambda: "DOWN" in hp.stats("show stat"), 3, what="haproxy to see pg DOWN")
    wait_until(lambda: check_of(h1, "hp_pg")["state"] == "down", 2,
               what="the backend check to fail")
    wait_until(lambda: check_of(h1, "hp_http")["state"] == "down", 2,
               what="the monitor-uri check to fail")
    assert "503" in check_of(h1, "hp_http")["last"]["reason"], check_of(h1, "hp_http")
    stays(lambda: check_of(h1, "hp_alive")["state"] == "up", 0.4)
    assert h1.inst()["effective_priority"] == 101
    assert track_of(h1.inst(), "hp_pg")["applied"] == 0

    backend.start()
    wait_until(lambda: check_of(h1, "hp_pg")["state"] == "up", 3)
    wait_until(lambda: check_of(h1, "hp_http")["state"] == "up", 2)
    assert h1.inst()["effective_priority"] == 111
