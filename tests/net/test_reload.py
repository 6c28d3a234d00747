"""Configuration reload (SIGHUP and `vipctl reload`).

A reload parses the file anew and applies only a valid whole: identical
instances and checks keep running untouched (no hook, no transition, no VIP
moved, check counters going on), changed instances are updated in place (a
new priority goes through the protocol like a check's would; VIPs added or
removed on a Master without a transition), removed instances stop as at
shutdown and added ones start as at start-up. A bad file changes nothing.
"""
import json
import os
import queue
import re
import signal
import subprocess
import time

import pytest

from lab import (check_of, check_section, checks_conf, hooks_json, make_script, read_lines,
                 stays, vipd_instance, wait_converged, wait_until)
from test_events import Stream

VIP = "192.0.2.100"
VIP2 = "192.0.2.101"
pytestmark = pytest.mark.root


class AddrMonitor:
    """`ip monitor address` in a host's namespace, kept to a file."""

    def __init__(self, host):
        self.path = os.path.join(host.dir, "ipmon-%d.txt" % time.monotonic_ns())
        self.f = open(self.path, "w")
        self.p = subprocess.Popen(["ip", "-n", host.ns, "monitor", "address"], stdout=self.f,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(0.1)

    def stop(self):
        time.sleep(0.1)
        self.p.terminate()
        self.p.wait(5)
        self.f.close()
        with open(self.path) as f:
            return f.read()

    def deleted(self, addr):
        text = self.stop()
        return [ln for ln in text.splitlines() if ln.startswith("Deleted") and
                (" %s/" % addr) in ln]


def hook_script(lab, host):
    """A notify hook recording each call; returns (path, log)."""
    log = os.path.join(lab.hostdir(host), "hooks.log")
    path = make_script(lab, host, "hook.sh",
                       'echo "$VIPD_INSTANCE $VIPD_PREV_STATE->$VIPD_STATE $VIPD_REASON" >> %s\n'
                       % log)
    return path, log

# Timeout of the /bin/true checks run every 50 ms: the default (the interval)
# fails them when the machine stalls for 50 ms (seen on CI), and the check's
# down-up would look like something the reload did.
SURE = "2s"


def shifted(text):
    """The same configuration with comments and blank lines moving every line."""
    out = ["; reloaded with comments", ""]
    for ln in text.splitlines():
        out.append(ln)
        if ln.startswith("["):
            out += ["; section %s" % ln, ""]
    return "\n".join(out) + "\n"


def reload_ok(h):
    """`vipctl reload`: must succeed; returns its one-line summary."""
    p = h.vipctl("reload")
    assert p.stderr == "", p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("reloaded %s: " % h.conf_path), p.stdout
    return lines[0]


def summary(inst, chk):
    return ("%d instance%s kept, %d changed, %d added, %d removed; "
            "%d check%s kept, %d changed, %d added, %d removed" % (
                inst[0], "" if inst[0] == 1 else "s", inst[1], inst[2], inst[3],
                chk[0], "" if chk[0] == 1 else "s", chk[1], chk[2], chk[3]))


def check_runs(h, name):
    for c in h.status()["checks"]:
        if c["name"] == name:
            return c["runs"]
    raise KeyError(name)


def types(events):
    return [e["type"] for e in events]


def drain(stream, quiet=0.3):
    """Read every event still coming (into stream.all) until none for `quiet` s."""
    while True:
        try:
            if stream.next(quiet) is None:
                return
        except queue.Empty:
            return


def test_identical_reload_changes_nothing(clab):
    lab = clab
    h1, h2 = lab.add_hosts(2)
    confs = {}
    for h, prio in ((h1, 150), (h2, 100)):
        hook, _ = hook_script(lab, h)
        confs[h.name] = checks_conf(
            check_section("ok", "script", command="/bin/true", timeout=SURE, interval="50ms"),
            vipd_instance(priority=prio, track=["ok weight 10"], notify=hook,
                          notify_master=hook))
    h1.start_vipd(confs["h1"])
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(confs["h2"])
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    wait_until(lambda: len(hooks_json(h1)) == 3 and len(hooks_json(h2)) == 1, 5,
               what="start-up hooks done")
    before = {h.name: (h.inst(), hooks_json(h)) for h in (h1, h2)}
    runs_before = check_runs(h1, "ok")
    assert runs_before >= 3

    s1, s2 = Stream(h1), Stream(h2)
    try:
        s1.until(lambda e: e["type"] == "hello")
        s2.until(lambda e: e["type"] == "hello")
        mon = AddrMonitor(h1)
        for h in (h1, h2):
            h.write_conf(shifted(confs[h.name]))
        # h1 through vipctl, polling the VIP meanwhile; h2 through SIGHUP
        line = reload_ok(h1)
        assert line.endswith(": " + summary((1, 0, 0, 0), (1, 0, 0, 0))), line
        h2.vipd.send_signal(signal.SIGHUP)
        ev1 = s1.until(lambda e: e["type"] == "reload", what="h1 reload event")
        ev2 = s2.until(lambda e: e["type"] == "reload", what="h2 reload event")
        for ev in (ev1[-1], ev2[-1]):
            assert ev["ok"] is True and ev["instances_kept"] == 1 and ev["checks_kept"] == 1, ev
            assert ev["instances_changed"] == ev["instances_added"] == 0, ev
            assert ev["instances_removed"] == ev["checks_changed"] == 0, ev
        for _ in range(10):
            assert h1.has_addr(VIP) and not h2.has_addr(VIP)
            time.sleep(0.05)
        time.sleep(0.5)
        assert mon.deleted(VIP) == [], "the VIP left h1 during the reload"
        drain(s1)
        drain(s2)
    finally:
        s1.close()
        s2.close()
    # nothing but the reload on either stream: no transition, priority, check or hook
    for s in (s1, s2):
        assert [t for t in types(s.all) if t not in ("hello", "reload")] == [], s.all
    for h in (h1, h2):
        inst, hooks = before[h.name]
        now = h.inst()
        for k in ("state", "transitions", "last_reason", "effective_priority", "vips"):
            assert now[k] == inst[k], (h.name, k, inst[k], now[k])
        assert now["adverts_sent"] >= inst["adverts_sent"]
        assert hooks_json(h) == hooks, "hook runs added on %s" % h.name
    # the check was kept: its counter goes on from where it was
    runs_after = check_runs(h1, "ok")
    assert runs_after > runs_before + 5, (runs_before, runs_after)
    assert "reloaded %s: " % h2.conf_path in h2.log_text()


def test_bad_config_changes_nothing(lab):
    h1, = lab.add_hosts(1)
    good = vipd_instance(priority=150)
    h1.start_vipd(good)
    wait_until(lambda: h1.state() == "MASTER", 3)
    before = h1.inst()
    text = h1.write_conf(good.replace("priority = 150", "priority = 300"))
    lineno = text.splitlines().index("priority = 300") + 1
    err = "%s:%d: priority: " % (h1.conf_path, lineno)

    s = Stream(h1)
    try:
        s.until(lambda e: e["type"] == "hello")
        p = h1.vipctl("reload", check=False)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert p.stdout == ""
        assert ("error: " + err) in p.stderr, p.stderr
        assert "the running configuration is kept" in p.stderr
        ev = s.until(lambda e: e["type"] == "reload")[-1]
        assert ev["ok"] is False and ev["errors"] == 1, ev
        log = h1.log_text()
        assert re.search(r"warning: %s" % re.escape(err), log), log[-2000:]
        assert "keeping the running configuration" in log

        # the same through SIGHUP: logged, still running
        h1.vipd.send_signal(signal.SIGHUP)
        ev = s.until(lambda e: e["type"] == "reload")[-1]
        assert ev["ok"] is False
        drain(s)
    finally:
        s.close()
    wait_until(lambda: h1.log_text().count("keeping the running configuration") == 2, 2)
    assert h1.vipd_running()
    now = h1.inst()
    assert now["state"] == "MASTER" and h1.has_addr(VIP)
    for k in ("priority", "effective_priority", "transitions", "vips"):
        assert now[k] == before[k], (k, before[k], now[k])
    assert [t for t in types(s.all) if t not in ("hello", "reload")] == [], s.all


def test_priority_change_preempts(clab):
    lab = clab
    h1, h2 = lab.add_hosts(2)
    hook1, log1 = hook_script(lab, h1)
    hook2, log2 = hook_script(lab, h2)
    h1.start_vipd(vipd_instance(priority=150, notify_master=hook1, notify_backup=hook1))
    wait_converged(h1, [], VIP, timeout=3)
    conf2 = vipd_instance(priority=100, notify_master=hook2, notify_backup=hook2)
    h2.start_vipd(conf2)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    wait_until(lambda: len(read_lines(log2)) == 1, 3, what="h2's startup hook")

    h2.write_conf(conf2.replace("priority = 100", "priority = 200"))
    assert reload_ok(h2).endswith(summary((0, 1, 0, 0), (0, 0, 0, 0)))
    wait_converged(h2, [h1], VIP, timeout=2)
    assert h2.inst()["last_reason"] == "preempt"
    assert h2.inst()["priority"] == 200 and h2.inst()["effective_priority"] == 200
    assert h1.inst()["last_reason"] == "higher_priority_seen"
    wait_until(lambda: len(read_lines(log2)) == 2, 3, what="h2's MASTER hook")
    time.sleep(0.3)
    assert read_lines(log2) == ["VI_1 INIT->BACKUP startup", "VI_1 BACKUP->MASTER preempt"]
    assert "priority 100 -> 200 (reload)" in h2.log_text()

    # and back: h1 preempts on hearing 100
    h2.write_conf(conf2)
    assert reload_ok(h2).endswith(summary((0, 1, 0, 0), (0, 0, 0, 0)))
    wait_converged(h1, [h2], VIP, timeout=2)
    assert h1.inst()["last_reason"] == "preempt"
    wait_until(lambda: len(read_lines(log2)) == 3, 3, what="h2's BACKUP hook")
    assert read_lines(log2)[2] == "VI_1 MASTER->BACKUP higher_priority_seen"


def arp_announcements(cap, vip):
    return cap.records(["frame.time_epoch", "arp.opcode", "arp.src.proto_ipv4",
                        "arp.dst.proto_ipv4"],
                       "arp && arp.src.proto_ipv4 == %s && arp.dst.proto_ipv4 == %s"
                       % (vip, vip))


def test_vip_added_and_removed_without_transition(lab):
    h1, h2 = lab.add_hosts(2)
    one = vipd_instance(priority=150, vips=("%s/24" % VIP,))
    two = vipd_instance(priority=150, vips=("%s/24" % VIP, "%s/24" % VIP2))
    h1.start_vipd(one)
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(vipd_instance(priority=100, vips=("%s/24" % VIP, "%s/24" % VIP2)))
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    t0 = h1.inst()["transitions"]

    s = Stream(h1)
    try:
        s.until(lambda e: e["type"] == "hello")
        mon = AddrMonitor(h1)
        with lab.switch.capture("arp") as cap:
            h1.write_conf(two)
            assert reload_ok(h1).endswith(summary((0, 1, 0, 0), (0, 0, 0, 0)))
            wait_until(lambda: h1.has_addr(VIP2), 1, what="the new VIP on h1")
            time.sleep(0.3)
        assert len(arp_announcements(cap, VIP2)) >= 1, "no gratuitous ARP for the new VIP"
        assert h1.inst()["vips"] == ["%s/24" % VIP, "%s/24" % VIP2]
        assert not h2.has_addr(VIP2)

        h1.write_conf(one)
        assert reload_ok(h1).endswith(summary((0, 1, 0, 0), (0, 0, 0, 0)))
        wait_until(lambda: not h1.has_addr(VIP2), 1, what="the VIP removed from h1")
        assert mon.deleted(VIP) == [], "the kept VIP left h1"
        assert h1.has_addr(VIP) and h1.inst()["vips"] == ["%s/24" % VIP]
        s.until(lambda e: e["type"] == "reload")
        s.until(lambda e: e["type"] == "reload")
        drain(s)
    finally:
        s.close()
    assert [t for t in types(s.all) if t not in ("hello", "reload")] == [], s.all
    assert h1.inst()["transitions"] == t0 and h1.state() == "MASTER"
    assert h2.state() == "BACKUP"
    log = h1.log_text()
    assert "added %s/24" % VIP2 in log and "removed %s/24" % VIP2 in log


def test_instances_added_and_removed(clab):
    lab = clab
    h1, h2 = lab.add_hosts(2)
    stop_log = os.path.join(lab.hostdir(h1), "stop.log")
    stop = make_script(lab, h1, "stop.sh", 'echo "start $VIPD_INSTANCE $VIPD_STATE" >> %s\n'
                       'sleep 0.5\necho done >> %s\n' % (stop_log, stop_log))
    vi1 = vipd_instance(priority=150, notify_stop=stop)
    vi2 = vipd_instance(name="VI_2", vrid=52, priority=150, vips=("192.0.2.102/24",))
    h1.start_vipd(vi1)
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)

    s = Stream(h1)
    try:
        s.until(lambda e: e["type"] == "hello")
        h1.write_conf(vi2)
        t = time.monotonic()
        assert reload_ok(h1).endswith(summary((0, 0, 1, 1), (0, 0, 0, 0)))
        # the removed Master said goodbye: h2 takes over after Skew_Time, not Master_Down
        wait_converged(h2, [], VIP, timeout=1)
        assert time.monotonic() - t < 0.5
        assert h2.inst()["last_reason"] == "priority_zero"
        assert not h1.has_addr(VIP)
        # the added instance starts as at start-up: BACKUP, then MASTER alone
        evs = s.until(lambda e: e["type"] == "transition" and e["instance"] == "VI_2"
                      and e["to"] == "MASTER", timeout=3)
        drain(s)
    finally:
        s.close()
    kinds = [e["type"] for e in evs]
    assert "reload" in kinds and kinds.index("reload") < kinds.index("transition"), \
        "the reload event must come before the transitions it caused: %s" % kinds
    tr = [(e["instance"], e["from"], e["to"], e["reason"]) for e in evs
          if e["type"] == "transition"]
    assert tr == [("VI_1", "MASTER", "STOP", "stop"), ("VI_2", "INIT", "BACKUP", "startup"),
                  ("VI_2", "BACKUP", "MASTER", "master_down")], tr
    assert [i["name"] for i in h1.status()["instances"]] == ["VI_2"]
    assert h1.has_addr("192.0.2.102")
    # the STOP hook ran to completion, not killed by the removal
    wait_until(lambda: read_lines(stop_log) == ["start VI_1 STOP", "done"], 3,
               what="notify_stop to finish")
    assert "still running" not in h1.log_text()


def test_changed_check_restarts_unchanged_kept(clab):
    lab = clab
    h1, = lab.add_hosts(1)
    conf = checks_conf(
        check_section("a", "script", command="/bin/true", interval="50ms", timeout=SURE),
        check_section("b", "script", command="/bin/true", interval="50ms", timeout=SURE),
        vipd_instance(priority=150, track=["a weight 10", "b weight 20"]))
    h1.start_vipd(conf)
    wait_until(lambda: h1.state() == "MASTER", 3)
    wait_until(lambda: check_runs(h1, "b") >= 10, 3, what="b to run 10 times")
    assert h1.inst()["effective_priority"] == 180

    s = Stream(h1)
    try:
        s.until(lambda e: e["type"] == "hello")
        a0, b0 = check_runs(h1, "a"), check_runs(h1, "b")
        # b's new interval is long enough that "restarted" (2 runs at most when
        # asked) holds even if vipctl takes a while under a sanitizer build.
        h1.write_conf(conf.replace("interval = 50ms\ntimeout = %s\n\n[instance" % SURE,
                                   "interval = 300ms\ntimeout = %s\n\n[instance" % SURE))
        assert "interval = 300ms" in open(h1.conf_path).read()
        assert reload_ok(h1).endswith(summary((0, 1, 0, 0), (1, 1, 0, 0)))
        a1, b1 = check_runs(h1, "a"), check_runs(h1, "b")
        assert a1 >= a0, (a0, a1)
        assert b1 < b0 and b1 <= 2, (b0, b1)
        wait_until(lambda: check_runs(h1, "b") >= 3, 2, what="b running again")
        time.sleep(0.3)
        drain(s)
    finally:
        s.close()
    # the new b inherited b's state: no priority dip, no transition
    assert [t for t in types(s.all) if t not in ("hello", "reload")] == [], s.all
    inst = h1.inst()
    assert inst["state"] == "MASTER" and inst["effective_priority"] == 180
    assert {t["check"]: t["state"] for t in inst["tracks"]} == {"a": "up", "b": "up"}
    assert "check b: definition changed, restarting it" in h1.log_text()


def test_multicast_to_unicast_in_place(lab):
    h1, h2 = lab.add_hosts(2)
    mc = {h1: vipd_instance(priority=150), h2: vipd_instance(priority=100)}
    uc = {h1: vipd_instance(priority=150, unicast_src=h1.ip4, unicast_peer=h2.ip4),
          h2: vipd_instance(priority=100, unicast_src=h2.ip4, unicast_peer=h1.ip4)}
    h1.start_vipd(mc[h1])
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(mc[h2])
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    t = {h: h.inst()["transitions"] for h in (h1, h2)}
    for h in (h2, h1):
        h.write_conf(uc[h])
        assert reload_ok(h).endswith(summary((0, 1, 0, 0), (0, 0, 0, 0)))
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(1.0)  # more than Master_Down_Interval (~0.36 s)
    adverts = cap.vrrp()
    assert len(adverts) >= 5, adverts
    assert all(a["src"] == h1.ip4 and a["dst"] == h2.ip4 for a in adverts), adverts
    for h in (h1, h2):
        assert h.inst()["mode"] == "unicast" and h.inst()["transitions"] == t[h]
    assert h1.state() == "MASTER" and h2.state() == "BACKUP" and h1.has_addr(VIP)


def _put_atomic(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def test_kept_file_check_survives_reload(clab):
    """Issue 9: a kept file check pointed into the freed old conf; the next
    change in its directory read freed memory (ASan under SANITIZE=1, a
    crash or a missed change otherwise)."""
    lab = clab
    h1, = lab.add_hosts(1)
    weight = os.path.join(lab.hostdir(h1), "weight")
    _put_atomic(weight, "1\n")
    conf = checks_conf(check_section("w", "file", path=weight),
                       vipd_instance(priority=100, track=["w weight 10"]))
    h1.start_vipd(conf)
    wait_until(lambda: check_of(h1, "w").get("value") == 1, 3, what="first read")
    h1.write_conf(shifted(conf))
    assert reload_ok(h1).endswith(": " + summary((1, 0, 0, 0), (1, 0, 0, 0)))
    for v in (2, 3, 4):
        _put_atomic(weight, "%d\n" % v)
        wait_until(lambda: h1.vipd_running() and check_of(h1, "w").get("value") == v, 3,
                   what="value %d after the reload" % v)
    assert h1.vipd_running()
    h1.check_sanitizers()


def test_reload_to_many_instances_tracking_one_check(clab):
    """Issue 9: more than 32 instances tracking one check made the reload
    call fatalx and kill the running daemon. Now any number may; the
    reload applies, and a check change reaches every instance."""
    lab = clab
    h1, = lab.add_hosts(1)
    n = 40
    weight = os.path.join(lab.hostdir(h1), "weight")
    _put_atomic(weight, "1\n")
    chk = check_section("w", "file", path=weight)
    h1.start_vipd(checks_conf(chk, vipd_instance(priority=100, track=["w weight 10"])))
    wait_until(lambda: h1.inst()["effective_priority"] == 110, 3, what="priority 110")
    many = [vipd_instance(name="VI_%d" % i, vrid=i, priority=100, track=["w weight 10"],
                          vips=("192.0.2.%d/24" % (100 + i),)) for i in range(1, n + 1)]
    h1.write_conf(checks_conf(chk, *many))
    p = h1.vipctl("reload", check=False)
    assert p.returncode == 0, (p.stdout, p.stderr, h1.log_text()[-2000:])
    assert h1.vipd_running()
    insts = h1.status()["instances"]
    assert len(insts) == n
    _put_atomic(weight, "2\n")
    wait_until(lambda: all(i["effective_priority"] == 120 for i in h1.status()["instances"]),
               3, what="every instance at 120")
    assert h1.vipd_running()
    h1.check_sanitizers()


def test_reload_at_scale_touches_only_the_changed_instance(lab):
    """255 instances; a reload that changes one priority reconfigures that one only."""
    h1, h2 = lab.add_hosts(2)
    n = 255

    # 1 s adverts: a sanitizer build takes a while over a reload of 255
    # sections, and what is tested here is what the reload touches.
    def conf(prio, bump=None):
        return "".join(vipd_instance(
            name="V%d" % i, vrid=i, priority=(prio + 60 if i == bump else prio), interval="1s",
            vips=("198.51.100.%d/32" % i if i < 255 else "203.0.113.1/32",))
            for i in range(1, n + 1))

    h1.start_vipd(conf(150))
    h2.start_vipd(conf(100))
    wait_until(lambda: sum(i["state"] == "MASTER" for i in h1.status()["instances"]) == n and
               sum(i["state"] == "BACKUP" for i in h2.status()["instances"]) == n, 15,
               what="h1 Master and h2 Backup of all %d instances" % n)
    before = {i["name"]: i["transitions"] for i in h2.status()["instances"]}
    log0 = len(h2.log_text().splitlines())
    # V7 on h2 goes from 100 to 160: it preempts; nothing else moves.
    h2.write_conf(conf(100, bump=7))
    assert reload_ok(h2).endswith(summary((n - 1, 1, 0, 0), (0, 0, 0, 0)))
    wait_until(lambda: h2.state("V7") == "MASTER" and h1.state("V7") == "BACKUP", 3,
               what="V7 to move to h2")
    stays(lambda: all(i["state"] == ("MASTER" if i["name"] == "V7" else "BACKUP")
                      for i in h2.status()["instances"]), 0.5)
    after = {i["name"]: i["transitions"] for i in h2.status()["instances"]}
    moved = sorted(k for k in after if after[k] != before[k])
    assert moved == ["V7"], moved
    added = h2.log_text().splitlines()[log0:]
    reconf = [l for l in added if "reconfigured" in l]
    assert len(reconf) == 1 and "[V7 " in reconf[0], reconf
    assert h1.vipd_running() and h2.vipd_running()
