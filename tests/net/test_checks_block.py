"""A hung check never delays an advert: proof on the wire.

vipd on h1 is Master advertising every 10 ms (priority 200) over a Backup
(h2, priority 100). h1 tracks one check whose target hangs: it accepts and
never answers (an HTTP server, a SIGSTOPped PostgreSQL, a stats socket) or
never exits (a script). The check times out every second and fails (weight
-20: 180, still above the Backup, so the VIP must not move). For 30 s the
kernel egress timestamps of h1's adverts (AF_PACKET in h1's namespace) must
never be more than 12 ms apart, and h2 must never become Master.

These take 30 s each (marker `slow`, run by default; -m "not slow" skips).
"""
import os
import statistics
import time

import pytest

from lab import (_comm, advert_gaps, check_of, check_section, checks_conf, ns_pids, track_of,
                 vipd_instance, wait_converged)

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
    stalls = clab.stall_watch(h1)  # diagnostics only: machine stalls seen by a reference
    start = time.monotonic()
    end = start + DURATION
    while time.monotonic() < end:
        s2 = h2.inst()
        assert s2["state"] == "BACKUP", "h2 became %s after %.1f s with h1's check hung" % (
            s2["state"], time.monotonic() - start)
        time.sleep(0.5)
    res = sniff.stop()
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
    assert i2["state"] == "BACKUP" and i2["transitions"] == t2, i2
    assert i2["adverts_sent"] == 0, i2
    assert "-> MASTER" not in h2.log_text()
    if case == "script":
        # timed-out scripts are killed, not left to pile up
        sleeps = [p for p in ns_pids(h1.ns) if _comm(p) == "sleep"]
        assert len(sleeps) <= 1, "%d sleep processes left in h1's namespace" % len(sleeps)

    ts = sorted(t for t, prio in res["adverts"])
    assert res["drops"] == 0, "the sniffer lost %d packets" % res["drops"]
    n_expected = DURATION / 0.010
    assert len(ts) >= 0.97 * n_expected, "%d adverts in %.0f s, expected ~%d" % (
        len(ts), DURATION, n_expected)
    gaps = advert_gaps(ts)
    worst = sorted(zip(gaps, ts), reverse=True)[:5]
    summary = "%d adverts, gap median %.2f ms, p99 %.2f ms, max %.2f ms (5 worst: %s)" % (
        len(ts), statistics.median(gaps) * 1000, sorted(gaps)[int(len(gaps) * 0.99)] * 1000,
        max(gaps) * 1000, ", ".join("%.2f ms after %s.%03d" % (
            g * 1000, time.strftime("%T", time.localtime(t)), int(t * 1000) % 1000)
            for g, t in worst))
    late = [(g, t) for g, t in zip(gaps, ts) if g >= MAX_GAP]
    seen, unexplained = [], []
    for g, t in late:
        near = ["cpu%d %.1f ms late at +%.1f ms" % (cpu, lt * 1000, (ts_ - t) * 1000)
                for cpu, ts_, lt in machine if t - 0.005 <= ts_ <= t + g]
        seen.append("%.2f ms gap after %s.%03d: reference sleepers saw %s" % (
            g * 1000, time.strftime("%T", time.localtime(t)), int(t * 1000) % 1000,
            "; ".join(near) or "no machine stall"))
        if not near:
            unexplained.append(g)
    worst_stall = max((lt for _, _, lt in machine), default=0.0)
    summary += "; reference sleepers: %d stalls > 1 ms, worst %.2f ms" % (
        len(machine), worst_stall * 1000)
    print("hung %s check: %s" % (case, summary))
    # The requirement: no gap of 12 ms or more. A gap is excused only when
    # the reference sleepers (real-time, below vipd's priority, one per
    # CPU) were stalled during that very gap: the whole VM stopped (steal
    # time), not vipd. Any other late gap fails, and so do more than a few
    # excused ones (0.1 % of adverts).
    assert not unexplained, "advert gap over %.0f ms with a hung %s check and no machine " \
        "stall to explain it: %s\n%s" % (MAX_GAP * 1000, case, summary, "\n".join(seen))
    assert len(late) <= max(3, len(ts) // 1000), "%d late adverts with a hung %s check: %s\n%s" \
        % (len(late), case, summary, "\n".join(seen))
    # every advert after the first failure carries 180, and the drop came at once
    prios = [p for t, p in sorted(res["adverts"])]
    assert prios[-1] == 180, prios[-5:]
