"""Notify hooks: keepalived-compatible arguments (seed 002's script reading $3),
strict FIFO order under flapping, the timeout killing a hung hook while adverts
stay on time, exactly one notify at start, insecure hooks refused at start.

Hook scripts live in a root-owned 0755 directory under /var/lib (vipd refuses
programs under a world-writable /tmp).
"""
import os
import stat
import subprocess
import tempfile
import time

import pytest

from lab import (PYTHON, VIPD, HERE, hooks_json, judge_advert_gaps, read_lines, stays, vipd_sanitized,
                 vipd_instance, wait_converged, wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


# Largest advert gap allowed beyond the interval: 2 ms, more under ASan (slower everything).
GAP_SLACK = 0.006 if vipd_sanitized() else 0.002


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def seed002_script(d, name):
    """The logic of seed 002's keepalived_control_failover.sh: act on $3."""
    log = os.path.join(d, name + ".log")
    return script(os.path.join(d, name + ".sh"), """
STATE=$3
if ip -o addr show dev eth0 | grep -q ' %(vip)s/'; then vip=vip; else vip=novip; fi
case "$STATE" in
    MASTER) echo "MASTER $1 $2 $4 $vip $VIPD_REASON" >> %(log)s ;;   # promote the standby here
    BACKUP) echo "BACKUP $1 $2 $4 $vip $VIPD_REASON" >> %(log)s ;;   # re-clone, restart as standby
    *)      echo "$STATE $1 $2 $4 $vip $VIPD_REASON" >> %(log)s ;;
esac
""" % {"vip": VIP, "log": log}), log


def test_seed002_notify_argument_3(hookdir, lab):
    h1, h2 = lab.add_hosts(2)
    s1, log1 = seed002_script(hookdir, "h1")
    s2, log2 = seed002_script(hookdir, "h2")
    h1.start_vipd(vipd_instance(priority=150, notify=s1))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, notify=s2))
    wait_converged(h1, [h2], VIP)
    wait_until(lambda: len(read_lines(log1)) == 2 and len(read_lines(log2)) == 1, 3,
               what="start-up notifies")
    assert read_lines(log1) == ["BACKUP INSTANCE VI_1 150 novip startup",
                           "MASTER INSTANCE VI_1 150 vip master_down"]
    assert read_lines(log2) == ["BACKUP INSTANCE VI_1 100 novip startup"]

    # the master stops: h2 takes over and its script sees MASTER, VIP already there
    assert h1.stop_vipd() == 0
    assert read_lines(log1)[-1] == "STOP INSTANCE VI_1 150 novip stop"
    wait_until(lambda: len(read_lines(log2)) == 2, 3, what="h2 MASTER notify")
    assert read_lines(log2)[1] == "MASTER INSTANCE VI_1 100 vip priority_zero"

    # h1 comes back and preempts: h2's script sees BACKUP, the VIP already gone
    h1.start_vipd(vipd_instance(priority=150, notify=s1))
    wait_converged(h1, [h2], VIP)
    wait_until(lambda: len(read_lines(log2)) == 3, 3, what="h2 BACKUP notify")
    assert read_lines(log2)[2] == "BACKUP INSTANCE VI_1 100 novip higher_priority_seen"
    assert [ln.split()[0] for ln in read_lines(log1)] == ["BACKUP", "MASTER", "STOP", "BACKUP",
                                                     "MASTER"]
    runs = hooks_json(h2)
    assert [r["transition"] for r in runs] == ["INIT->BACKUP", "BACKUP->MASTER",
                                               "MASTER->BACKUP"]
    assert all(r["hook"] == "notify" and r["status"] == "exit 0" for r in runs), runs
    assert runs[0]["command"] == s2 and runs[0]["instance"] == "VI_1"
    assert runs[1]["reason"] == "priority_zero"
    text = h2.vipctl("hooks").stdout
    assert "BACKUP->MASTER" in text and "notify" in text
    assert "hook notify (BACKUP->MASTER) exited 0 after" in h2.log_text()


FLAP = r"""
import sys, time
sys.path.insert(0, %(here)r)
import craft
from scapy.sendrecv import sendp
for prio, pause in ((200, 0.01), (0, 0.03), (200, 0.0)):
    spec = {"src": %(src)r, "prio": prio, "interval_cs": 1}
    sendp(craft.build(spec), iface="eth0", verbose=False)
    time.sleep(pause)
"""


def test_flapping_hooks_in_order_never_overlapping(hookdir, lab):
    h1, x = lab.add_hosts(2)
    log = os.path.join(hookdir, "flap.log")
    s = script(os.path.join(hookdir, "slow.sh"), """
echo "start $3 $(date +%%s.%%N)" >> %(log)s
sleep 1
echo "end $3 $(date +%%s.%%N)" >> %(log)s
""" % {"log": log})
    h1.start_vipd(vipd_instance(priority=100, interval="10ms", notify=s))
    wait_converged(h1, [], VIP)
    wait_until(lambda: len(read_lines(log)) == 4, 5, what="start-up hooks (BACKUP, MASTER) done")

    # MASTER -> BACKUP -> MASTER -> BACKUP within ~100 ms, then MASTER again
    x.run([PYTHON, "-c", FLAP % {"here": HERE, "src": x.ip4}], timeout=30)
    wait_until(lambda: h1.state() == "MASTER", 2)
    wait_until(lambda: len(read_lines(log)) >= 12, 8, what="six hook runs done")
    time.sleep(0.2)
    recs = [ln.split() for ln in read_lines(log)]
    assert len(recs) == 12, recs
    states = [r[1] for r in recs[0::2]]
    assert states == ["BACKUP", "MASTER", "BACKUP", "MASTER", "BACKUP", "MASTER"], recs
    prev_end = 0.0
    for st, en in zip(recs[0::2], recs[1::2]):
        assert st[0] == "start" and en[0] == "end" and st[1] == en[1], recs
        t0, t1 = float(st[2]), float(en[2])
        assert t0 >= prev_end, "hook runs overlap: %s" % recs
        assert t1 - t0 >= 0.95
        prev_end = t1
    # the flap itself was fast: its three transitions logged within ~100 ms
    runs = hooks_json(h1)
    assert [r["transition"] for r in runs] == ["INIT->BACKUP", "BACKUP->MASTER",
                                               "MASTER->BACKUP", "BACKUP->MASTER",
                                               "MASTER->BACKUP", "BACKUP->MASTER"], runs
    # (sendp is slow enough that the takeover may come from Master_Down_Interval)
    assert runs[2]["reason"] == runs[4]["reason"] == "higher_priority_seen", runs
    assert runs[3]["reason"] in ("priority_zero", "master_down"), runs
    assert all(r["duration_ms"] >= 950 for r in runs), runs


def test_hung_hook_killed_while_adverts_stay_on_time(hookdir, clab):
    h1, = clab.add_hosts(1)
    log = os.path.join(hookdir, "after.log")
    hang = script(os.path.join(hookdir, "hang.sh"),
                  "trap '' TERM\necho hanging\nwhile :; do sleep 0.05; done\n")
    after = script(os.path.join(hookdir, "after.sh"), 'echo "$3" >> %s\n' % log)
    stalls = clab.stall_watch(h1)  # machine stalls seen by a reference sleeper
    with clab.switch.capture("ip proto 112") as cap:
        h1.start_vipd(vipd_instance(priority=100, interval="10ms", notify_master=hang,
                                    notify=after, notify_timeout="500ms"))
        wait_converged(h1, [], VIP)
        # notify (BACKUP) ran; notify_master hangs, SIGTERM at 0.5 s is ignored, SIGKILL at 2.5 s
        wait_until(lambda: read_lines(log) == ["BACKUP", "MASTER"], 5,
                   what="the notify queued behind the hung hook to run")
    machine = stalls.stop()
    runs = hooks_json(h1)
    hung = [r for r in runs if r["hook"] == "notify_master"]
    assert len(hung) == 1 and hung[0]["status"].startswith("timed out after 500 ms"), runs
    assert 2400 <= hung[0]["duration_ms"] <= 3500, hung
    assert hung[0]["output"] == ["hanging"], hung
    assert runs[-1]["hook"] == "notify" and runs[-1]["transition"] == "BACKUP->MASTER"
    adv = [a["t"] for a in cap.vrrp() if a["src"] == h1.ip4 and a["prio"] == 100]
    # ~260 in the 2.6 s; a loop blocked by the hook would send none meanwhile
    assert len(adv) > 200, len(adv)
    print(judge_advert_gaps(adv, 0.010, 0.010 + GAP_SLACK, machine, "adverts while a hook hung"))


def test_exactly_one_notify_at_start(hookdir, lab):
    h1, h2 = lab.add_hosts(2)
    log = os.path.join(hookdir, "start.log")
    rec = 'echo "$0 ${3:-none} $VIPD_INSTANCE $VIPD_PREV_STATE $VIPD_REASON" >> %s\n' % log
    nb = script(os.path.join(hookdir, "backup.sh"), rec)
    nf = script(os.path.join(hookdir, "fault.sh"), rec)
    nt = script(os.path.join(hookdir, "notify.sh"), rec)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    hooks = dict(notify_backup=nb, notify_fault=nf, notify=nt)
    h2.start_vipd(vipd_instance(priority=100, **hooks)
                  + vipd_instance(name="VI_2", iface="eth9", vrid=52, priority=100,
                                  vips=("192.0.2.200/24",), **hooks))
    wait_until(lambda: h2.state("VI_1") == "BACKUP" and h2.state("VI_2") == "FAULT", 3)
    stays(lambda: h2.state("VI_1") == "BACKUP", 1.0)
    got = sorted(read_lines(log))
    assert got == sorted([
        "%s none VI_1 INIT startup" % nb,
        "%s BACKUP VI_1 INIT startup" % nt,
        "%s none VI_2 INIT interface_missing" % nf,
        "%s FAULT VI_2 INIT interface_missing" % nt,
    ]), got
    # per instance: notify_<state> first, then notify
    runs = hooks_json(h2)
    assert [(r["instance"], r["hook"]) for r in runs if r["instance"] == "VI_1"] == [
        ("VI_1", "notify_backup"), ("VI_1", "notify")]
    assert [(r["instance"], r["hook"]) for r in runs if r["instance"] == "VI_2"] == [
        ("VI_2", "notify_fault"), ("VI_2", "notify")]
    assert len(runs) == 4


def test_insecure_hook_refused_at_start(hookdir):
    bad = tempfile.mkdtemp(prefix="open-", dir=hookdir)
    os.chmod(bad, 0o777)
    hook = script(os.path.join(bad, "to-master.sh"), "exit 0\n")
    conf = os.path.join(hookdir, "vipd.conf")
    with open(conf, "w") as f:
        f.write("[global]\npidfile = /run/vipd-test-unused.pid\n\n"
                + vipd_instance(notify_master=hook + " --now"))
    p = subprocess.run([VIPD, "-t", "-f", conf], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1, p
    line = 1 + next(i for i, ln in enumerate(open(conf).read().splitlines())
                    if ln.startswith("notify_master"))
    assert ("%s:%d: notify_master: %s is writable by non-root users (%s has mode 0777"
            % (conf, line, hook, bad)) in p.stderr, p.stderr
    # a relative program is refused too, never skipped
    with open(conf, "w") as f:
        f.write(vipd_instance(notify="notify.sh"))
    p = subprocess.run([VIPD, "-t", "-f", conf], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "notify: notify.sh: must be an absolute path" in p.stderr, p
    assert stat.S_IMODE(os.stat(hookdir).st_mode) == 0o755
