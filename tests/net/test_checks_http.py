"""`http` checks against a Patroni REST API stand-in (127.0.0.1:8008 in each host).

The stand-in answers what the test tells it, per path: a status, a body, or
"hang" (reads the request, never answers). Like Patroni, HEAD and OPTIONS
get the status line alone. Base priorities 100 / 100 with weight 50: the
node whose /primary answers 200 holds the VIP.
"""
import re
import time

import pytest

from lab import (check_of, check_section, checks_conf, stays, track_of, vipd_instance,
                 wait_converged, wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def patroni_pair(clab, check_opts, a=200, b=503, path="/primary", bodies=(None, None)):
    h1, h2 = clab.add_hosts(2)
    webs = []
    for h, status, body in ((h1, a, bodies[0]), (h2, b, bodies[1])):
        w = clab.http_standin(h)
        w.set(path, status, body)
        webs.append(w)
    opts = {"url": "http://127.0.0.1:8008%s" % path, "interval": "100ms", "timeout": "300ms"}
    opts.update(check_opts)
    conf = checks_conf(check_section("patroni", "http", **opts),
                       vipd_instance(priority=100, track=["patroni weight 50"]))
    h1.start_vipd(conf)
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(conf)
    wait_until(lambda: check_of(h2, "patroni")["runs"] >= 2, 3)
    wait_converged(h1, [h2], VIP, timeout=2, hold=0.3)
    return h1, h2, webs[0], webs[1]


def flip_to(new, old, web_new, web_old, path="/primary", bodies=None, timeout=2.0):
    """Make `new` the primary in the stand-ins; the VIP must follow."""
    if bodies:
        web_old.set(path, 200, bodies[1])
        web_new.set(path, 200, bodies[0])
    else:
        web_old.set(path, 503)
        web_new.set(path, 200)
    t0 = time.monotonic()
    wait_until(lambda: new.has_addr(VIP), timeout, what="%s to take the VIP" % new.name)
    took = time.monotonic() - t0
    wait_converged(new, [old], VIP, timeout=2, hold=0.3)
    return took


def test_patroni_primary_flip_and_hang(clab):
    h1, h2, w1, w2 = patroni_pair(clab, {})
    c1, c2 = check_of(h1, "patroni"), check_of(h2, "patroni")
    assert c1["type"] == "http" and c1["state"] == "up", c1
    assert c1["last"]["reason"] == "HTTP 200", c1
    assert c2["state"] == "down" and c2["last"]["reason"] == "HTTP 503", c2
    assert h1.inst()["effective_priority"] == 150
    t = track_of(h1.inst(), "patroni")
    assert (t["weight"], t["state"], t["applied"]) == (50, "up", 50), t
    assert track_of(h2.inst(), "patroni")["applied"] == 0

    took = flip_to(h2, h1, w2, w1)
    assert took < 1.0, "switchover took %.0f ms (check every 100 ms)" % (took * 1000)
    assert check_of(h1, "patroni")["last"]["reason"] == "HTTP 503"
    assert re.search(r"check patroni: up -> down \(HTTP 503\)", h1.log_text())
    assert re.search(r"check patroni: down -> up \(HTTP 200\)", h2.log_text())

    flip_to(h1, h2, w1, w2)

    # Patroni hangs on h1 (accepts, never answers): the timeout is a failure.
    w1.set("/primary", "hang")
    w2.set("/primary", 200)
    t0 = time.monotonic()
    wait_until(lambda: h2.has_addr(VIP), 3, what="h2 to take the VIP while h1's API hangs")
    took = time.monotonic() - t0
    wait_converged(h2, [h1], VIP, timeout=2)
    c1 = check_of(h1, "patroni")
    assert c1["state"] == "down" and c1["last"]["ok"] is False, c1
    assert re.search(r"time", c1["last"]["reason"], re.I), c1
    # a timeout takes timeout (300 ms), not a whole connect/read default
    assert 0.2 <= c1["last"]["duration_ms"] / 1000.0 <= 0.6, c1
    assert took < 1.5, took
    # h1 keeps checking, one run at a time: it recovers when the API answers again
    w1.set("/primary", 200)
    w2.set("/primary", 503)
    wait_converged(h1, [h2], VIP, timeout=3)


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD"])
def test_patroni_method(clab, method):
    h1, h2, w1, w2 = patroni_pair(clab, {"method": method})
    flip_to(h2, h1, w2, w1)
    for w in (w1, w2):
        reqs = w.requests()
        assert reqs, "no requests reached the stand-in"
        assert {m for m, _ in reqs} == {method}, reqs[:10]
        assert {p for _, p in reqs} == {"/primary"}
    assert check_of(h2, "patroni")["last"]["reason"] == "HTTP 200"
    assert check_of(h1, "patroni")["last"]["reason"] == "HTTP 503"


def test_patroni_expect_body(clab):
    """Both answer 200 on GET /patroni; only the body says who is primary."""
    bodies = ('{"state": "running", "role": "primary", "timeline": 1}\n',
              '{"state": "running", "role": "replica", "timeline": 1}\n')
    h1, h2, w1, w2 = patroni_pair(clab, {"expect_body": "primary"}, a=200, b=200,
                                  path="/patroni", bodies=bodies)
    c2 = check_of(h2, "patroni")
    assert c2["state"] == "down" and c2["last"]["ok"] is False, c2
    assert check_of(h1, "patroni")["state"] == "up"
    flip_to(h2, h1, w2, w1, path="/patroni", bodies=bodies)
    assert check_of(h1, "patroni")["state"] == "down"
    stays(lambda: h2.state() == "MASTER", 0.3)
