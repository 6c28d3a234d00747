"""
The one end-to-end test in `make check`: seed 001's cluster (3 db nodes with
etcd + Patroni + PostgreSQL 15, 2 HAProxy load balancers with vipd, a
client), HAProxy killed on the LB Master while the client commits every
20 ms through the VIP. The VIP must move to the other load balancer and the
writes must resume with no acknowledged write lost and none taken by a
non-primary. The full table is `make e2e` (tests/e2e/).

Skipped when patroni / etcd / psycopg2 are not installed (tests/deps.sh
installs them). About 40 s.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import cluster as C  # noqa: E402

pytestmark = pytest.mark.root


@pytest.fixture
def seed001(binaries):
    if os.geteuid() != 0:
        pytest.skip("network tests need root (namespaces)")
    missing = C.missing_tools()
    if missing:
        pytest.skip("end-to-end test needs %s (tests/deps.sh installs them)" % ", ".join(
            missing))
    c = C.Seed001("e2e-smoke")
    try:
        yield c
    finally:
        problems = c.cleanup()
        assert not problems, problems


def test_haproxy_killed_on_lb_master_moves_vip_and_loses_no_write(seed001):
    import e2e as E
    c = seed001
    c.start()
    c.use_lb_daemon("vipd")
    r = E.run_scenario(c, E.HaproxyKill, "vipd")
    info = "%r\nclient log tail:\n%s" % (r, C.L.tail(r["client_log"], 15))
    assert r["vip_before"] == ["lb1"], info
    assert r["vip_after_fault"] == ["lb2"], info
    assert not r["note"], info
    assert r["acks"] > 100, info
    assert r["lost"] == 0, info
    assert r["non_primary"] == 0, info
    # the VIP moves within milliseconds (pidfd); a generous bound for a loaded CI box
    assert r["outage"] < 2.0, info
