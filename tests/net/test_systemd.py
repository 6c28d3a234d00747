"""systemd: Type=notify and the watchdog, as systemd sees them.

The test owns the datagram socket that $NOTIFY_SOCKET names, the way
systemd does, and reads what vipd sends: READY=1 once every instance has
started, a STATUS= line following transitions and checks (coalesced),
RELOADING=1 then READY=1 around a reload (SIGHUP and `vipctl reload`),
WATCHDOG=1 at half of $WATCHDOG_USEC while the loop turns (none while vipd
is SIGSTOPped), and STOPPING=1 at SIGTERM. The unit file is checked with
systemd-analyze verify.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from lab import REPO, VIPD, VIPCTL, check_section, checks_conf, vipd_instance, wait_until

WATCHDOG_USEC = 200000  # WATCHDOG=1 expected every 100 ms


class NotifySocket:
    """A datagram socket standing in for systemd's: every message, timed."""

    def __init__(self, path):
        self.path = path
        unlink_quietly(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []  # (monotonic time, {key: value}, raw text)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode()
            fields = dict(ln.split("=", 1) for ln in text.split("\n") if "=" in ln)
            with self.lock:
                self.msgs.append((time.monotonic(), fields, text))

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()
        unlink_quietly(self.path)

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def mark(self):
        """An index: the messages after it are those sent from now on."""
        return len(self.snapshot())

    def since(self, mark, key=None):
        return [m for m in self.snapshot()[mark:] if key is None or key in m[1]]

    def wait_for(self, pred, timeout, mark=0, what=None):
        """The first message after mark with pred(fields) true."""
        found = []

        def seen():
            found[:] = [m for m in self.snapshot()[mark:] if pred(m[1])]
            return bool(found)
        wait_until(seen, timeout, what=what or "a notification")
        return found[0]

    def events(self, mark=0):
        """Everything but WATCHDOG=1, as raw texts, in order."""
        return [m[2] for m in self.snapshot()[mark:] if "WATCHDOG" not in m[1]]


def unlink_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@pytest.fixture
def notify(lab):
    ns = NotifySocket(os.path.join(lab.dir, "notify.sock"))
    yield ns
    ns.close()


def two_instances():
    return checks_conf(
        check_section("ok", "script", command="/bin/true", interval="1s", timeout="2s"),
        check_section("bad", "script", command="/bin/false", interval="1s", timeout="2s"),
        vipd_instance("VI_1", vrid=51, vips=("192.0.2.100/24",), track="ok"),
        vipd_instance("VI_2", vrid=52, vips=("192.0.2.101/24",)))


def gaps(msgs):
    return [b[0] - a[0] for a, b in zip(msgs, msgs[1:])]


@pytest.mark.root
def test_notify_sequence(lab, notify):
    """READY, STATUS, RELOADING/READY (SIGHUP and vipctl), WATCHDOG, STOPPING, in order."""
    h = lab.add_host()
    h.start_vipd(two_instances(), env={"NOTIFY_SOCKET": notify.path,
                                       "WATCHDOG_USEC": WATCHDOG_USEC, "WATCHDOG_PID": None})
    # READY=1 comes with the first STATUS=, both instances started.
    ready = notify.wait_for(lambda f: "READY" in f, 10, what="READY=1")
    assert ready[1]["READY"] == "1"
    assert re.match(r"^2 instances: VI_1 \w+, VI_2 \w+", ready[1]["STATUS"]), ready[2]
    # Alone on the link, both become Master; one check up, one down.
    want = "2 instances: VI_1 MASTER, VI_2 MASTER; 1 of 2 checks up"
    notify.wait_for(lambda f: f.get("STATUS") == want, 10, what="STATUS=" + want)
    assert h.state("VI_1") == "MASTER" and h.state("VI_2") == "MASTER"
    status = notify.since(0, "STATUS")
    # Coalesced: never two updates within 100 ms (READY=1 starts the clock).
    assert all(g >= 0.095 for g in gaps(status)), gaps(status)
    # ...and each one says something new.
    texts = [m[1]["STATUS"] for m in status]
    assert all(a != b for a, b in zip(texts, texts[1:])), texts

    # A reload by SIGHUP: RELOADING=1, then READY=1.
    mark = notify.mark()
    os.kill(h.vipd.pid, signal.SIGHUP)
    notify.wait_for(lambda f: "READY" in f, 5, mark=mark, what="READY=1 after SIGHUP")
    ev = notify.events(mark)
    assert ev[0].startswith("RELOADING=1\nMONOTONIC_USEC="), ev
    assert ev[1] == "READY=1\nSTATUS=" + want, ev
    # And by vipctl, which returns once the reload is done.
    mark = notify.mark()
    h.vipctl("reload")
    notify.wait_for(lambda f: "READY" in f, 5, mark=mark, what="READY=1 after vipctl reload")
    ev = notify.events(mark)
    assert ev[0].startswith("RELOADING=1") and ev[1].startswith("READY=1"), ev

    # A reload that changes what STATUS= shows: an instance removed.
    mark = notify.mark()
    h.write_conf(checks_conf(
        check_section("ok", "script", command="/bin/true", interval="1s", timeout="2s"),
        vipd_instance("VI_1", vrid=51, vips=("192.0.2.100/24",), track="ok")))
    h.vipctl("reload")
    notify.wait_for(lambda f: "READY" in f, 5, mark=mark)
    assert notify.events(mark)[1] == "READY=1\nSTATUS=1 instance: VI_1 MASTER; 1 check up"

    # WATCHDOG=1 at half of WATCHDOG_USEC: about every 100 ms.
    mark = notify.mark()
    time.sleep(2)
    wd = notify.since(mark, "WATCHDOG")
    assert all(m[1]["WATCHDOG"] == "1" for m in wd)
    assert 15 <= len(wd) <= 22, "%d WATCHDOG=1 in 2 s" % len(wd)
    g = sorted(gaps(wd))
    assert 0.08 <= g[len(g) // 2] <= 0.12, g

    # SIGTERM: STOPPING=1, the last word but for keep-alives during the stop.
    mark = notify.mark()
    assert h.stop_vipd() == 0
    time.sleep(0.2)
    ev = notify.events(mark)
    assert ev == ["STOPPING=1\nSTATUS=stopping"], ev

    # The whole story, in order.
    kinds = []
    for text in notify.events():
        k = text.split("=", 1)[0]
        if not kinds or kinds[-1] != k:
            kinds.append(k)
    assert kinds[0] == "READY" and kinds[-1] == "STOPPING", kinds
    assert kinds.count("RELOADING") == 3, kinds


@pytest.mark.root
def test_watchdog_stops_when_stopped(lab, notify):
    """A SIGSTOPped vipd sends no WATCHDOG=1 (systemd would restart it); SIGCONT resumes."""
    h = lab.add_host()
    h.start_vipd(vipd_instance(), env={"NOTIFY_SOCKET": notify.path,
                                       "WATCHDOG_USEC": WATCHDOG_USEC})
    notify.wait_for(lambda f: "READY" in f, 10, what="READY=1")
    notify.wait_for(lambda f: "WATCHDOG" in f, 2, what="WATCHDOG=1")
    os.kill(h.vipd.pid, signal.SIGSTOP)
    try:
        time.sleep(0.15)  # one already on its way is fine
        mark = notify.mark()
        time.sleep(1)
        assert notify.since(mark, "WATCHDOG") == [], "WATCHDOG=1 from a stopped vipd"
    finally:
        os.kill(h.vipd.pid, signal.SIGCONT)
    t0 = time.monotonic()
    first = notify.wait_for(lambda f: "WATCHDOG" in f, 2, mark=mark, what="WATCHDOG=1 again")
    assert first[0] - t0 < 0.3
    time.sleep(0.5)
    assert len(notify.since(mark, "WATCHDOG")) >= 4


@pytest.mark.root
def test_watchdog_for_another_pid(lab, notify):
    """WATCHDOG_PID naming another process: READY=1 yes, WATCHDOG=1 no."""
    h = lab.add_host()
    h.start_vipd(vipd_instance(), env={"NOTIFY_SOCKET": notify.path,
                                       "WATCHDOG_USEC": WATCHDOG_USEC, "WATCHDOG_PID": "1"})
    notify.wait_for(lambda f: "READY" in f, 10, what="READY=1")
    time.sleep(0.5)
    assert notify.since(0, "WATCHDOG") == []


@pytest.mark.root
def test_no_notify_socket(lab):
    """Without NOTIFY_SOCKET nothing changes (and a bad one is only a warning)."""
    h = lab.add_host()
    h.start_vipd(vipd_instance(), env={"NOTIFY_SOCKET": None})
    h.stop_vipd()
    h.start_vipd(vipd_instance(), env={"NOTIFY_SOCKET": "relative.sock"})
    assert "not a socket address" in h.log_text()
    assert h.stop_vipd() == 0


def test_unit_file_verifies(tmp_path):
    """examples/vipd.service passes systemd-analyze verify without a word."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    with open(os.path.join(REPO, "examples", "vipd.service")) as f:
        text = f.read()
    # The paths it names must exist for verify: point them at this build.
    text = text.replace("/usr/local/sbin/vipd", VIPD).replace("/usr/local/sbin/vipctl", VIPCTL)
    unit = tmp_path / "vipd.service"
    unit.write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True, timeout=60)
    out = (p.stdout + p.stderr).strip()
    assert p.returncode == 0 and out == "", out
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET",
                 "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW\n"):
        assert "\n" + line in text, line
