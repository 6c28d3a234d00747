"""A soak (issue 14): everything that allocates or opens something, at
once, for SOAK_TIME seconds (60 in make check; `make soak` runs 600).

h1 runs two instances with 10 ms adverts: VI_1 (priority 200, the steady
Master whose adverts are judged) and VI_2, whose priority a file check
moves between 150 and 50 (a background loop rewrites the file every 2-3 s),
so that VI_2's Master goes back and forth between h1 and h2. Every
transition runs a notify hook on both hosts; h1 reloads its configuration
every 5 s (alternately `vipctl reload` and SIGHUP, alternately two
versions of the file), and a `vipctl events` client keeps connecting and
leaving.

At the start (after a warm-up) and at the end, with the background loops
stopped, h1's vipd's RSS, open fds and child processes are printed and
must be flat: fds and children the same, RSS within a small tolerance (not
asserted under ASan, whose quarantine grows by design; LeakSanitizer
checks at exit). VI_1's adverts, as they leave h1, are judged by the stall
rule of the other timing tests (judge_advert_gaps): no gap of two
intervals, and few late ones, that a machine stall does not explain.
"""
import os
import signal
import time

import pytest

from faults import census, hook_runs, notify_hook, transitions
from lab import (VIPCTL, check_section, checks_conf, judge_advert_gaps, vipd_instance,
                 vipd_sanitized, wait_until, write_file)

VIP1, VIP2 = "192.0.2.100", "192.0.2.200"
SOAK_S = float(os.environ.get("SOAK_TIME", "60"))
RELOAD_EVERY = 5.0
# Largest advert gap allowed beyond the interval, as in test_hooks.py.
GAP_SLACK = 0.006 if vipd_sanitized() else 0.002
RSS_TOLERANCE_KIB = 512
pytestmark = pytest.mark.root


def h1_conf(weight, hook, version):
    """h1's file; version 0 / 1 differ in VI_2's notify_timeout and the
    check's interval (both changed in place by a reload)."""
    return checks_conf(
        check_section("flap", "file", path=weight, interval="%ds" % (1 + version)),
        vipd_instance("VI_1", vrid=51, priority=200, interval="10ms", vips=(VIP1 + "/24",),
                      notify=hook),
        vipd_instance("VI_2", vrid=52, priority=150, interval="10ms", vips=(VIP2 + "/24",),
                      notify=hook, track="flap weight -100",
                      notify_timeout="%ds" % (30 - version)))


def test_soak(clab):
    h1, h2 = clab.add_hosts(2)
    d = clab.hostdir(h1)
    weight = os.path.join(d, "weight")
    write_file(weight, "0\n")
    logs = {h: os.path.join(clab.hostdir(h), "notify.log") for h in (h1, h2)}
    hooks = {h: notify_hook(clab, h, logs[h]) for h in (h1, h2)}
    h1.start_vipd(h1_conf(weight, hooks[h1], 0))
    wait_until(lambda: h1.state("VI_1") == "MASTER" and h1.has_addr(VIP1), 3)
    h2.start_vipd(vipd_instance("VI_1", vrid=51, priority=100, interval="10ms",
                                vips=(VIP1 + "/24",), notify=hooks[h2])
                  + vipd_instance("VI_2", vrid=52, priority=100, interval="10ms",
                                  vips=(VIP2 + "/24",), notify=hooks[h2]))
    wait_until(lambda: h1.state("VI_1") == "MASTER" and h1.state("VI_2") == "MASTER"
               and h2.state("VI_1") == "BACKUP" and h2.state("VI_2") == "BACKUP", 3)
    pid = h1.vipd.pid

    # warm-up: one reload of each kind, one events client, one VI_2 round trip
    h1.write_conf(h1_conf(weight, hooks[h1], 1))
    assert h1.vipctl("reload").returncode == 0
    h1.write_conf(h1_conf(weight, hooks[h1], 0))
    h1.vipd.send_signal(signal.SIGHUP)
    h1.run(["timeout", "0.5", VIPCTL, "-S", h1.sock, "events"], check=False)
    write_file(weight, "1\n")
    wait_until(lambda: h2.state("VI_2") == "MASTER", 2)
    write_file(weight, "0\n")
    wait_until(lambda: h1.state("VI_2") == "MASTER" and h2.state("VI_2") == "BACKUP", 2)

    def quiet_census():
        # no hook running: the children are the spawn helper alone, as at start
        n = len(hook_runs(logs[h1]))
        wait_until(lambda: len(transitions(h1.log_text())) <= len(hook_runs(logs[h1])), 10,
                   what="h1's hooks to finish")
        time.sleep(0.3)
        assert len(hook_runs(logs[h1])) >= n
        return census(pid)

    start = quiet_census()
    print("start: RSS %d KiB, %d fds, children %s" % (start["rss_kib"], start["fds"],
                                                      start["children"]))

    toggler = clab.spawn(h1, "toggler", ["sh", "-c",
                                         "while :; do echo 1 > %(w)s.new; mv %(w)s.new %(w)s; "
                                         "sleep 2; echo 0 > %(w)s.new; mv %(w)s.new %(w)s; "
                                         "sleep 3; done" % {"w": weight}])
    events = clab.spawn(h1, "events", ["sh", "-c", "while :; do timeout -s %s 0.7 %s -S %s "
                                       "events > /dev/null; sleep 0.3; done"
                                       % ("KILL", VIPCTL, h1.sock)])
    stalls = clab.stall_watch(h1)
    sniff = clab.sniffer(h1)
    off = len(h1.log_text())
    rss = []
    t0 = time.monotonic()
    reloads = 0
    while time.monotonic() - t0 < SOAK_S:
        time.sleep(min(RELOAD_EVERY, max(0.0, SOAK_S - (time.monotonic() - t0))))
        if time.monotonic() - t0 >= SOAK_S:
            break
        reloads += 1
        h1.write_conf(h1_conf(weight, hooks[h1], reloads % 2))
        if reloads % 2:
            p = h1.vipctl("reload", check=False)
            assert p.returncode == 0, (p.stdout, p.stderr)
        else:
            h1.vipd.send_signal(signal.SIGHUP)
        rss.append(census(pid)["rss_kib"])
        assert h1.vipd_running() and h2.vipd_running()
    adverts = [t for t, prio in sniff.stop()["adverts"] if prio == 200]
    machine = stalls.stop()
    toggler.stop()
    events.stop()
    # back to the start's shape: the file at 0, VI_2 on h1
    write_file(weight, "0\n")
    wait_until(lambda: h1.state("VI_2") == "MASTER" and h2.state("VI_2") == "BACKUP", 3)
    # a client that just left may still be in the loop's hands for a moment
    end = quiet_census()
    t_end = time.monotonic()
    while end["fds"] > start["fds"] and time.monotonic() - t_end < 3:
        time.sleep(0.2)
        end = quiet_census()
    st = h1.inst("VI_1")
    moves = [t for t in transitions(h1.log_text()[off:]) if t[0] == "VI_2"]
    print("end:   RSS %d KiB, %d fds, children %s" % (end["rss_kib"], end["fds"],
                                                      end["children"]))
    print("%.0f s: %d reloads, %d VI_2 transitions on h1, %d hook runs on h1, RSS every %.0f s "
          "(KiB): %s; VI_1 adverts_late %d, advert_late_max_us %d"
          % (SOAK_S, reloads, len(moves), len(hook_runs(logs[h1])), RELOAD_EVERY, rss,
             st["adverts_late"], st["advert_late_max_us"]))
    print(judge_advert_gaps(adverts, 0.010, 0.010 + GAP_SLACK, machine,
                            "VI_1 adverts during the soak"))
    assert reloads >= int(SOAK_S / RELOAD_EVERY) - 1
    # the file changes twice every 5 s (and a little more: the loop's own time)
    assert len(moves) >= int(0.8 * 2 * SOAK_S / 5), "VI_2 moved %d times only" % len(moves)
    # nothing went wrong enough to be logged as an error
    errors = [ln for ln in h1.log_text()[off:].splitlines() if " error: " in ln]
    assert not errors, errors[:10]
    new_fds = {fd: t for fd, t in end["fd_targets"].items()
               if start["fd_targets"].get(fd) != t}
    assert end["fds"] <= start["fds"], "fds %d -> %d; new: %s; start: %s" % (
        start["fds"], end["fds"], new_fds, start["fd_targets"])
    assert sorted(c for _, _, c in end["children"]) == sorted(c for _, _, c in start["children"])
    assert not [c for c in end["children"] if c[1] == "Z"], end["children"]
    if not vipd_sanitized():
        assert end["rss_kib"] <= start["rss_kib"] + RSS_TOLERANCE_KIB, \
            "RSS %d -> %d KiB" % (start["rss_kib"], end["rss_kib"])
    assert h1.state("VI_1") == "MASTER" and h2.state("VI_1") == "BACKUP"
