"""`pgsql` checks against real PostgreSQL 15 servers (VIP on the database nodes).

Host A (h1) runs a primary listening on 192.0.2.11:5432; host B (h2) a
streaming standby cloned from it with `pg_basebackup -R` over the lab
network. Each vipd checks its local server (A over TCP to its own address,
B through the unix socket directory) with `expect = primary`, weight 50, on
base priorities 100 / 100: the primary's node holds the VIP; promoting the
standby (after fencing the old primary) moves it.

Each test builds its own pair (initdb + base backup take well under a second).
"""
import re
import time

import pytest

from lab import (check_of, check_section, checks_conf, stays, track_of, vipd_instance,
                 wait_converged, wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def pg_pair(clab):
    h1, h2 = clab.add_hosts(2)
    pa = clab.postgres(h1).initdb().start()
    pb = clab.postgres(h2).basebackup(pa).start()
    wait_until(lambda: pb.sql("SELECT status FROM pg_stat_wal_receiver") == "streaming", 15,
               interval=0.1, what="the standby to stream from the primary")
    assert not pa.in_recovery() and pb.in_recovery()
    return h1, h2, pa, pb


def conninfo(host):
    return "host=%s port=5432 dbname=postgres user=postgres connect_timeout=2" % host


def pg_check(name, host, expect="primary", interval="200ms", **kw):
    return check_section(name, "pgsql", conninfo=conninfo(host), expect=expect,
                         interval=interval, **kw)


def test_primary_holds_vip_and_promotion_moves_it(clab):
    h1, h2, pa, pb = pg_pair(clab)
    h1.start_vipd(checks_conf(pg_check("pg", h1.ip4),
                              vipd_instance(priority=100, track=["pg weight 50"])))
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(checks_conf(pg_check("pg", pb.sockdir),
                              vipd_instance(priority=100, track=["pg weight 50"])))
    wait_until(lambda: check_of(h2, "pg")["state"] == "down", 3, what="h2's check: standby")
    wait_converged(h1, [h2], VIP, timeout=2, hold=0.3)

    ca, cb = check_of(h1, "pg"), check_of(h2, "pg")
    assert ca["type"] == "pgsql" and ca["state"] == "up" and ca["last"]["ok"] is True, ca
    assert re.search(r"primary", ca["last"]["reason"], re.I), ca
    assert cb["state"] == "down" and cb["last"]["ok"] is False, cb
    assert re.search(r"standby|recovery", cb["last"]["reason"], re.I), cb
    ia, ib = h1.inst(), h2.inst()
    assert ia["effective_priority"] == 150 and track_of(ia, "pg")["applied"] == 50, ia
    assert ib["effective_priority"] == 100 and track_of(ib, "pg")["applied"] == 0, ib

    # Fence the old primary: A's check fails (100), B is still a standby (100).
    # Equal priorities: the Master keeps the VIP (a Backup never preempts on
    # equal priority), no flapping.
    pa.stop("fast")
    wait_until(lambda: check_of(h1, "pg")["state"] == "down", 3,
               what="h1's check to fail once PostgreSQL stopped")
    assert h1.inst()["effective_priority"] == 100
    assert not check_of(h1, "pg")["last"]["ok"]
    stays(lambda: h1.state() == "MASTER" and h1.has_addr(VIP) and h2.state() == "BACKUP", 1.0,
          what="h1 keeping the VIP while neither node is primary")

    t0 = time.monotonic()
    pb.promote()
    assert not pb.in_recovery()
    wait_until(lambda: h2.has_addr(VIP), 3, what="h2 to take the VIP after promotion")
    took = time.monotonic() - t0
    wait_converged(h2, [h1], VIP, timeout=2, hold=0.3)
    cb = check_of(h2, "pg")
    assert cb["state"] == "up" and re.search(r"primary", cb["last"]["reason"], re.I), cb
    assert h2.inst()["effective_priority"] == 150
    assert h2.inst()["last_reason"] == "preempt", h2.inst()
    # promotion + one check interval (200 ms) + an immediate preemption
    assert took < 2.0, "VIP moved %.0f ms after pg_promote()" % (took * 1000)
    assert re.search(r"check pg: down -> up", h2.log_text())


def test_expect_primary_standby_up(clab):
    """expect = primary | standby | up on both servers, over TCP and the socket dir."""
    h1, h2, pa, pb = pg_pair(clab)
    for h, where in ((h1, h1.ip4), (h2, pb.sockdir)):
        h.start_vipd(checks_conf(
            pg_check("primary", where, "primary"), pg_check("standby", where, "standby"),
            pg_check("up", where, "up"),
            vipd_instance(priority=100, track=["primary weight 1", "standby weight 2",
                                               "up weight 4"])))
    want = {h1: {"primary": "up", "standby": "down", "up": "up"},
            h2: {"primary": "down", "standby": "up", "up": "up"}}

    def states(h):
        return {c["name"]: c["state"] for c in h.status()["checks"]}

    for h in (h1, h2):
        wait_until(lambda: states(h) == want[h], 3, what="%s's checks %s" % (h.name, want[h]))
    assert h1.inst()["effective_priority"] == 105
    assert h2.inst()["effective_priority"] == 106

    # the standby's server stops: nothing answers there any more
    pb.stop("immediate")
    wait_until(lambda: states(h2) == {"primary": "down", "standby": "down", "up": "down"}, 3)
    assert h2.inst()["effective_priority"] == 100
    reason = check_of(h2, "up")["last"]["reason"]
    assert reason, check_of(h2, "up")
    stays(lambda: states(h1) == want[h1], 0.5)
