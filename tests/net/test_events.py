"""`vipctl events`: the ordered JSON event stream.

h1 (priority 100) and h2 (priority 90, +20 while a script check finds a flag
file) share a VIP; `vipctl events` follows h2. Raising and dropping h2's
priority through the check moves the VIP there and back; stopping h2 ends the
stream. The lines must come in the order things happened (check, then the
priority it changes, then the transition, then the hooks it starts), with
consecutive sequence numbers, and vipctl must exit 0 when vipd stops.
"""
import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from lab import (VIPCTL, check_section, checks_conf, make_script, read_lines, vipd_instance,
                 wait_converged, wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


class Stream:
    """`vipctl events` in the background, its lines parsed into a queue."""

    def __init__(self, host):
        self.p = subprocess.Popen([VIPCTL, "-S", host.sock, "events"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.q = queue.Queue()
        self.all = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line)
        self.q.put(None)

    def next(self, timeout=5.0):
        line = self.q.get(timeout=timeout)
        if line is None:
            return None
        ev = json.loads(line)
        self.all.append(ev)
        return ev

    def until(self, pred, timeout=5.0, what="an event"):
        """Events up to and including the first that satisfies pred."""
        got, end = [], time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                ev = self.next(max(left, 0.01))
            except queue.Empty:
                ev = False
            if ev is None or ev is False:
                raise AssertionError("no %s within %.1f s; got %s" % (what, timeout, got))
            got.append(ev)
            if pred(ev):
                return got

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(5)


def brief(ev):
    """The fields that identify an event, for order comparisons."""
    t = ev["type"]
    if t == "transition":
        return (t, ev["from"], ev["to"], ev["reason"])
    if t == "priority":
        return (t, ev["from"], ev["to"])
    if t == "check":
        return (t, ev["check"], ev["from"], ev["to"])
    if t in ("hook_start", "hook_end"):
        return (t, ev["hook"], ev["transition"])
    return (t,)


def test_events_follow_transitions_in_order(clab):
    lab = clab
    h1, h2 = lab.add_hosts(2)
    flag = os.path.join(lab.hostdir(h2), "boost")
    marks = os.path.join(lab.hostdir(h2), "marks")
    mark = make_script(lab, h2, "mark.sh", 'echo "$VIPD_STATE" >> %s\n' % marks)

    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(checks_conf(
        check_section("boost", "script", command="/usr/bin/test -e %s" % flag,
                      interval="100ms", rise=1, fall=1),
        vipd_instance(priority=90, track=["boost weight 20"], notify_master=mark,
                      notify=mark)))
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    wait_until(lambda: h2.status()["checks"][0]["state"] == "down", 3, what="boost down")

    s = Stream(h2)
    try:
        hello = s.next()
        assert hello["type"] == "hello", hello
        assert hello["instances"] == [{"instance": "VI_1", "state": "BACKUP", "priority": 90}]
        assert hello["checks"] == [{"check": "boost", "state": "down"}]

        # Up: the check, then the priority, then the preemption, then its hooks.
        open(flag, "w").close()
        got = s.until(lambda e: e["type"] == "hook_end" and e["hook"] == "notify", 5,
                      what="the MASTER hooks to end")
        want = [("check", "boost", "down", "up"), ("priority", 90, 110),
                ("transition", "BACKUP", "MASTER", "preempt"),
                ("hook_start", "notify_master", "BACKUP->MASTER"),
                ("hook_end", "notify_master", "BACKUP->MASTER"),
                ("hook_start", "notify", "BACKUP->MASTER"),
                ("hook_end", "notify", "BACKUP->MASTER")]
        assert [brief(e) for e in got] == want, got
        assert h2.has_addr(VIP)
        tr = got[2]
        assert tr["instance"] == "VI_1" and tr["priority"] == 110, tr
        assert got[1]["reason"] == "check:boost up", got[1]
        assert got[4]["status"] == "exit 0" and got[4]["duration_ms"] >= 0, got[4]
        assert got[3]["command"] == mark, got[3]

        # Down: h1 (100) preempts h2 (90 again).
        os.unlink(flag)
        got = s.until(lambda e: e["type"] == "hook_end" and e["hook"] == "notify", 5,
                      what="the BACKUP hook to end")
        want = [("check", "boost", "up", "down"), ("priority", 110, 90),
                ("transition", "MASTER", "BACKUP", "higher_priority_seen"),
                ("hook_start", "notify", "MASTER->BACKUP"),
                ("hook_end", "notify", "MASTER->BACKUP")]
        assert [brief(e) for e in got] == want, got
        wait_converged(h1, [h2], VIP, timeout=2)

        # Stop: the last transition and its hook, then the stream ends, exit 0.
        h2.stop_vipd()
        got = s.until(lambda e: e["type"] == "hook_end", 5, what="the STOP hook")
        assert [brief(e) for e in got] == [("transition", "BACKUP", "STOP", "stop"),
                                           ("hook_start", "notify", "BACKUP->STOP"),
                                           ("hook_end", "notify", "BACKUP->STOP")], got
        assert s.next(5) is None, "the stream should end when vipd stops"
        assert s.p.wait(5) == 0, s.p.stderr.read()

        seqs = [e["seq"] for e in s.all]
        assert seqs == list(range(hello["seq"], hello["seq"] + len(seqs))), seqs
        assert read_lines(marks) == ["BACKUP", "MASTER", "MASTER", "BACKUP", "STOP"]
    finally:
        s.close()


def test_events_clients_come_and_go(lab):
    """Streams that vanish (killed vipctl, a socket closed at once) cost nothing."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP, timeout=3)
    streams = [Stream(h1) for _ in range(10)]
    for s in streams:
        assert s.next()["type"] == "hello"
    for s in streams[:5]:
        s.p.send_signal(signal.SIGKILL)
        s.close()
    pid = h1.vipd.pid
    # 60 more come and go: with the 64-client limit, leaked ones would be refused.
    for _ in range(60):
        s = Stream(h1)
        assert s.next()["type"] == "hello"
        s.close()
    fds = len(os.listdir("/proc/%d/fd" % pid))
    for s in streams[5:]:
        s.close()
    wait_until(lambda: len(os.listdir("/proc/%d/fd" % pid)) <= fds - 5, 3,
               what="vipd to close the streams of killed clients")
    assert h1.vipctl("events", "x", check=False).stderr.strip() == "error: usage: events"
    assert h1.state() == "MASTER"
