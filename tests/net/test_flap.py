"""A flapping link (issue 14): the Master's link down and up every 200 ms
for 10 s, as a cable (carrier lost at the switch) and as an administrator
(`ip link set eth0 down` on the host). Afterwards: both vipds alive (the
lab's teardown fails on a sanitizer report), the VIP on the right holder
only, and each host's notify hook ran once per logged transition, in the
order of the transitions.

VIPD_FAULT_FLAP_S sets how long the link flaps (default 10 s).
"""
import os
import time

import pytest

from faults import hook_runs, notify_hook, transitions
from lab import assert_vipd_alive, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
FLAP_S = float(os.environ.get("VIPD_FAULT_FLAP_S", "10"))
pytestmark = pytest.mark.root


def assert_hooks_follow_transitions(host, path):
    # (the log's reason for a fault is its text, "fault: interface down";
    # the hook's VIPD_REASON its name, interface_down: states only here)
    logged = [(f, t) for _, f, t, _ in transitions(host.log_text())]
    wait_until(lambda: len(hook_runs(path)) >= len(logged), 20,
               what="%s's hooks to catch up with %d transitions" % (host.name, len(logged)))
    time.sleep(0.3)
    runs = hook_runs(path)
    got = [(p, s) for _, p, s, _ in runs]
    diff = next((i for i, (x, y) in enumerate(zip(got, logged)) if x != y), None)
    assert got == logged, "%s: %d hook runs for %d transitions logged; first difference at " \
        "#%s: %s" % (host.name, len(got), len(logged), diff,
                     (got[diff], logged[diff]) if diff is not None else "(one is longer)")
    for (_, _, s0, _), (_, p1, _, _) in zip(runs, runs[1:]):
        assert p1 == s0, "%s: hook runs out of order: %s then %s" % (host.name, s0, p1)
    return len(runs)


@pytest.mark.parametrize("how", ["cable", "admin"])
def test_flapping_link(clab, how):
    h1, h2 = clab.add_hosts(2)
    logs = {h: os.path.join(clab.hostdir(h), "notify.log") for h in (h1, h2)}
    hooks = {h: notify_hook(clab, h, logs[h]) for h in (h1, h2)}
    h1.start_vipd(vipd_instance(priority=150, notify=hooks[h1]))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, notify=hooks[h2]))
    wait_converged(h1, [h2], VIP)

    down, up = {"cable": (lambda: clab.cut_link(h1), lambda: clab.restore_link(h1)),
                "admin": (h1.link_down, h1.link_up)}[how]
    flips = 0
    end = time.monotonic() + FLAP_S
    nxt = time.monotonic()
    while time.monotonic() < end:
        (down if flips % 2 == 0 else up)()
        flips += 1
        nxt += 0.2
        time.sleep(max(0.0, nxt - time.monotonic()))
        assert_vipd_alive([h1, h2])
    up()
    # the best host, its link back for good, is Master again; nobody else has the VIP
    wait_converged(h1, [h2], VIP, timeout=5, hold=1.0)
    assert_vipd_alive([h1, h2])
    assert [h.name for h in clab.holders(VIP)] == ["h1"]
    n1 = assert_hooks_follow_transitions(h1, logs[h1])
    n2 = assert_hooks_follow_transitions(h2, logs[h2])
    print("%s flapped %d times in %.0f s: h1 %d transitions, h2 %d, each with its hook, "
          "in order" % (how, flips, FLAP_S, n1, n2))
    assert n1 >= 3, "h1 never noticed the flapping"
