"""A hung check never delays an advert: proof on the wire.

vipd on h1 is Master advertising every 10 ms (priority 200) over a Backup
(h2, priority 100). h1 tracks one check whose target hangs: it accepts and
never answers (an HTTP server, a SIGSTOPped PostgreSQL, a stats socket) or
never exits (a script). The check times out every second and fails (weight
-20: 180, still above the Backup, so the VIP must not move). For 30 s the
kernel egress timestamps of h1's adverts (AF_PACKET in h1's namespace) must
keep their 10 ms schedule (a gap of 12 ms or more only as the host's own rare
stall, see lab.judge_advert_gaps), and h2 must stay Backup: it may become
Master only when the Master's adverts stopped arriving for three intervals
during a stall of the whole machine (a sniffer on h2 and the reference
sleepers tell, see lab.judge_backup_flips); never with adverts arriving.

These take 30 s each (marker `slow`, run by default; -m "not slow" skips).
"""
import os
import time

import pytest

from lab import (_comm, check_of, check_section, checks_conf, judge_advert_gaps,
                 judge_backup_flips, ns_pids, track_of, vipd_instance, wait_converged)

VIP = "192.0.2.100"
DURATION = float(os.environ.get("VIPD_HUNG_CHECK_SECONDS", "30"))
MAX_GAP = 0.012  # 10 ms adverts: the requirement
pytestmark = [pytest.mark.root, pytest.mark.slow]


def hung_target(clab, h1, case):
    """Start what hangs on h1; the [check] section that runs against it."""
    common = {"interval": "1s", "timeout": "1s", "weight": -20}
    if case == "http":
        web = clab.http_standin(h1)
        web.set("/primary", "hang")
        return check_section("hung", "http", url="http://127.0.0.1:8008/primary", **common)
    if case == "pgsql":
        pg = clab.postgres(h1).initdb().start()
        pg.suspend()
        return check_section("hung", "pgsql", conninfo="host=%s port=5432 dbname=postgres "
                             "user=postgres connect_timeout=2" % h1.ip4, expect="primary",
                             **common)
    if case == "script":
        return check_section("hung", "script", command="/bin/sleep 1000", **common)
    if case == "haproxy":
        sock = os.path.join(clab.hostdir(h1), "mute.sock")
        clab.helper(h1, "mute-stats", "hang-unix", sock)
        return check_section("hung", "haproxy", socket=sock, **common)
    raise ValueError(case)


@pytest.mark.parametrize("case", ["http", "pgsql", "script", "haproxy"])
def test_hung_check_never_delays_adverts(clab, case):
    h1, h2 = clab.add_hosts(2)
    section = hung_target(clab, h1, case)
    h1.start_vipd(checks_conf(section, vipd_instance(priority=200, interval="10ms",
                                                     track=["hung"])))
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(vipd_instance(priority=100, interval="10ms"))
    wait_converged(h1, [h2], VIP, timeout=2)
    t1 = h1.inst()["transitions"]
    t2 = h2.inst()["transitions"]

    sniff = clab.sniffer(h1)
    arrive = clab.sniffer(h2, src=h1.ip4, incoming=True)
    stalls = clab.stall_watch(h1)  # machine stalls seen by a reference sleeper
    start = time.monotonic()
    end = start + DURATION
    while time.monotonic() < end:
        s2 = h2.inst()
        assert s2["state"] == "BACKUP" or s2["transitions"] - t2 <= 6, \
            "h2 became %s after %.1f s with h1's check hung" % (s2["state"],
                                                               time.monotonic() - start)
        time.sleep(0.5)
    res = sniff.stop()
    got = arrive.stop()
    machine = stalls.stop()

    # the check did run, time out and fail all along (one run at a time)
    c = check_of(h1, "hung")
    assert c["state"] == "down", c
    assert c["last"] is not None and c["last"]["ok"] is False, c
    assert c["runs"] >= DURATION / 2.5, "only %d runs in %.0f s" % (c["runs"], DURATION)
    assert 0.9 <= c["last"]["duration_ms"] / 1000.0 <= 1.5, c
    i1 = h1.inst()
    assert i1["state"] == "MASTER" and i1["transitions"] == t1, i1
    assert i1["effective_priority"] == 180 and track_of(i1, "hung")["applied"] == -20, i1
    i2 = h2.inst()
    flips = (i2["transitions"] - t2) // 2
    assert i2["state"] == "BACKUP" and i2["transitions"] == t2 + 2 * flips, i2
    assert i2["adverts_sent"] <= 10 * flips, i2  # each flip over within 100 ms
    if case == "script":
        # timed-out scripts are killed, not left to pile up
        sleeps = [p for p in ns_pids(h1.ns) if _comm(p) == "sleep"]
        assert len(sleeps) <= 1, "%d sleep processes left in h1's namespace" % len(sleeps)

    ts = sorted(t for t, prio in res["adverts"])
    assert res["drops"] == 0, "the sniffer lost %d packets" % res["drops"]
    n_expected = DURATION / 0.010
    # a loop blocked by the check would lose about a second per run; a
    # noisy VM loses a few adverts to its own stalls (2905 of 3000 seen)
    assert len(ts) >= 0.9 * n_expected, "%d adverts in %.0f s, expected ~%d" % (
        len(ts), DURATION, n_expected)
    # The requirement: no gap of 12 ms or more that the check could have
    # caused (judge_advert_gaps says how a host's own stalls are told apart).
    print("hung %s check: %s" % (case, judge_advert_gaps(ts, 0.010, MAX_GAP, machine,
                                                         "adverts with a hung %s check" % case)))
    # h2 stays Backup, but for a machine stall longer than its Master_Down_Interval
    arrivals = sorted(t for t, prio in got["adverts"])
    assert got["drops"] == 0, "the sniffer on h2 lost %d packets" % got["drops"]
    print("hung %s check: %s" % (case, judge_backup_flips(flips, arrivals, 0.010, machine, "h2")))
    # every advert after the first failure carries 180, and the drop came at once
    prios = [p for t, p in sorted(res["adverts"])]
    assert prios[-1] == 180, prios[-5:]


def test_script_runs_never_delay_adverts(clab):
    """A script check every 100 ms (/bin/true) next to 10 ms adverts: vipd
    starts each run through its spawn helper, so the loop never waits for a
    fork() of itself (which delayed adverts by up to 7.8 ms here, p99 gap
    13.0 ms): the gaps must keep the schedule as on an idle host."""
    h1 = clab.add_hosts(1)[0]
    section = check_section("often", "script", command="/bin/true", interval="100ms",
                            timeout="1s", weight=-20)
    h1.start_vipd(checks_conf(section, vipd_instance(priority=200, interval="10ms",
                                                     track=["often"])))
    wait_converged(h1, [], VIP, timeout=3)
    runs0 = check_of(h1, "often")["runs"]
    sniff = clab.sniffer(h1)
    stalls = clab.stall_watch(h1)
    time.sleep(DURATION)
    res = sniff.stop()
    machine = stalls.stop()
    c = check_of(h1, "often")
    assert c["state"] == "up" and c["runs"] - runs0 >= DURATION * 8, c
    ts = sorted(t for t, prio in res["adverts"])
    assert res["drops"] == 0, "the sniffer lost %d packets" % res["drops"]
    assert len(ts) >= 0.9 * DURATION / 0.010, "%d adverts in %.0f s" % (len(ts), DURATION)
    print("script every 100 ms: %s" % judge_advert_gaps(
        ts, 0.010, MAX_GAP, machine, "adverts with a script check every 100 ms"))
