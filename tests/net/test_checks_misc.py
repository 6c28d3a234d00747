"""Tracking: interfaces, file checks (inotify), script rise/fall, init_fail,
weight-0 FAULT with its priority-0 advert, owner and clamping, the text
status, and `vipd -t` on check sections (script security).
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from lab import (VARROOT, VIPD, check_of, check_section, checks_conf, first, make_script,
                 mdi_s, run_prefix, skew_s, stays, track_if_of, track_of, vipd_instance, wait_converged,
                 wait_until, write_file)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


# --------------------------------------------------------------------------
# track_interface

def test_track_interface_weight(clab):
    h1, h2 = clab.add_hosts(2)
    clab.add_iface(h1, "eth1")
    h1.start_vipd(vipd_instance(priority=150, track_interface=["eth1 weight -60"]))
    wait_converged(h1, [], VIP, timeout=2)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP, timeout=3)
    t = track_if_of(h1.inst(), "eth1")
    assert (t["weight"], t["state"], t["applied"]) == (-60, "up", 0), t

    h1.ip("link", "set", "eth1", "down")
    wait_until(lambda: h2.has_addr(VIP), 1.0, what="h2 to take over when h1's eth1 went down")
    wait_converged(h2, [h1], VIP, timeout=2)
    i1 = h1.inst()
    t = track_if_of(i1, "eth1")
    assert (t["state"], t["applied"]) == ("down", -60), t
    assert i1["effective_priority"] == 90 and i1["state"] == "BACKUP", i1
    assert i1["fault_reason"] is None, i1
    assert h2.inst()["last_reason"] == "preempt"

    h1.ip("link", "set", "eth1", "up")
    wait_converged(h1, [h2], VIP, timeout=2, hold=0.3)
    assert h1.inst()["effective_priority"] == 150
    assert track_if_of(h1.inst(), "eth1")["state"] == "up"


def test_track_interface_fault_on_carrier_loss(clab):
    """Default weight 0: FAULT while down (here: carrier lost on eth1)."""
    h1, h2 = clab.add_hosts(2)
    peer = clab.add_iface(h1, "eth1")
    h1.start_vipd(vipd_instance(priority=150, track_interface=["eth1"]))
    wait_converged(h1, [], VIP, timeout=2)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP, timeout=3)
    assert track_if_of(h1.inst(), "eth1")["weight"] == 0

    with clab.switch.capture("ip proto 112") as cap:
        time.sleep(0.25)
        clab.switch.ip("link", "set", peer, "down")
        wait_until(lambda: h1.state() == "FAULT", 1, what="h1 FAULT when eth1 lost carrier")
        wait_until(lambda: h2.has_addr(VIP), 1)
        time.sleep(0.2)
    assert not h1.has_addr(VIP)
    i1 = h1.inst()
    assert i1["fault_reason"] == "interface eth1 down", i1
    assert track_if_of(i1, "eth1")["state"] == "down"
    assert re.search(r"\[VI_1 eth0 vrid 51 v4\] MASTER -> FAULT \(fault: interface eth1 down\)",
                     h1.log_text())
    assert_prio0_handover(cap, h1, h2)
    assert h2.inst()["last_reason"] == "priority_zero"

    clab.switch.ip("link", "set", peer, "up")
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    assert h1.inst()["fault_reason"] is None
    assert "FAULT -> BACKUP (fault_cleared)" in h1.log_text()


def test_track_interface_missing_at_start_then_created(clab):
    """Tracked interfaces that do not exist yet count as down until they appear."""
    h1, = clab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100, track_interface=["eth1 weight 20", "eth2"]))
    wait_until(lambda: h1.state() == "FAULT", 2, what="FAULT while eth2 (weight 0) is missing")
    i = h1.inst()
    assert i["fault_reason"] and "eth2" in i["fault_reason"], i
    assert (track_if_of(i, "eth1")["state"], track_if_of(i, "eth1")["applied"]) == ("down", 0)
    assert not h1.has_addr(VIP)

    clab.add_iface(h1, "eth2")
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 2,
               what="MASTER once eth2 exists and is up")
    assert h1.inst()["fault_reason"] is None
    assert h1.inst()["effective_priority"] == 100
    clab.add_iface(h1, "eth1")
    wait_until(lambda: h1.inst()["effective_priority"] == 120, 1,
               what="+20 once eth1 exists and is up")
    t = track_if_of(h1.inst(), "eth1")
    assert (t["weight"], t["state"], t["applied"]) == (20, "up", 20), t


def assert_prio0_handover(cap, h1, h2, interval_ms=100):
    adv = cap.vrrp()
    zero = [a for a in adv if a["src"] == h1.ip4 and a["prio"] == 0]
    assert zero, "no priority-0 advert from h1 entering FAULT: %s" % adv[-6:]
    assert zero[0]["addrs"] == [VIP] and zero[0]["cksum"] == "good"
    after = [a for a in adv if a["src"] == h1.ip4 and a["t"] > zero[-1]["t"]]
    assert not after, "h1 advertised after its priority-0 advert: %s" % after
    first2 = first(adv, lambda a: a["src"] == h2.ip4)
    assert first2 is not None, adv[-6:]
    gap = first2["t"] - zero[0]["t"]
    skew = skew_s(100, interval_ms)
    assert skew - 0.02 <= gap <= skew + 0.15, (
        "h2 took over %.0f ms after the priority-0 advert, Skew_Time %.0f ms" % (
            gap * 1000, skew * 1000))


# --------------------------------------------------------------------------
# file checks

def test_file_check_weight_at_once_and_fault(clab):
    """`file`: value x weight, applied at once (inotify, the interval is 60 s);
    a weight-0 file with a non-zero value means FAULT."""
    h1, h2 = clab.add_hosts(2)
    d = clab.hostdir(h1)
    wf, wf0 = os.path.join(d, "weight"), os.path.join(d, "fault")
    write_file(wf, "0\n")
    write_file(wf0, "0\n")
    conf = checks_conf(check_section("wf", "file", path=wf, interval="60s"),
                       check_section("wf0", "file", path=wf0, interval="60s"),
                       vipd_instance(priority=150, interval="1s",
                                     track=["wf weight 10", "wf0 weight 0"]))
    h1.start_vipd(conf)
    wait_converged(h1, [], VIP, timeout=mdi_s(150, 1000) + 1.5)
    h2.start_vipd(vipd_instance(priority=100, interval="1s"))
    wait_converged(h1, [h2], VIP, timeout=3)
    assert check_of(h1, "wf")["value"] == 0 and h1.inst()["effective_priority"] == 150

    def just_after_an_advert():
        n = h1.inst()["adverts_sent"]
        wait_until(lambda: h1.inst()["adverts_sent"] > n, 2, interval=0.005)

    with clab.switch.capture("ip proto 112") as cap:
        # in place, like `echo 3 > file`: +30
        just_after_an_advert()
        t_write = time.time()
        with open(wf, "w") as f:
            f.write("3\n")
        wait_until(lambda: h1.inst()["effective_priority"] == 180, 1)
        time.sleep(0.3)
    c = check_of(h1, "wf")
    assert c["value"] == 3, c
    assert track_of(h1.inst(), "wf")["applied"] == 30
    adv = [a for a in cap.vrrp() if a["src"] == h1.ip4]
    new = first(adv, lambda a: a["prio"] == 180)
    assert new is not None, adv
    assert new["t"] - t_write < 0.15, (
        "the new priority was advertised %.0f ms after the write (adverts every 1 s)"
        % ((new["t"] - t_write) * 1000))
    assert re.search(r"priority 150 -> 180", h1.log_text())

    # renamed over (atomic writers): -6 x 10 = -60 -> 90, h2 preempts at once
    t0 = time.monotonic()
    write_file(wf, "-6\n")
    wait_until(lambda: h2.has_addr(VIP), 1.0, what="h2 to take over when h1 went to 90")
    assert time.monotonic() - t0 < 0.5
    wait_converged(h2, [h1], VIP, timeout=2)
    assert h1.inst()["effective_priority"] == 90
    assert track_of(h1.inst(), "wf")["applied"] == -60

    write_file(wf, "0\n")
    wait_converged(h1, [h2], VIP, timeout=2.5)  # at h2's next advert (1 s)

    # weight 0 and a non-zero value: FAULT at once
    with open(wf0, "w") as f:
        f.write("1\n")
    wait_until(lambda: h1.state() == "FAULT", 0.5, what="h1 FAULT on a non-zero weight-0 file")
    assert h1.inst()["fault_reason"] == "check:wf0", h1.inst()
    assert check_of(h1, "wf0")["value"] == 1
    wait_until(lambda: h2.has_addr(VIP), 2)
    with open(wf0, "w") as f:
        f.write("0\n")
    wait_until(lambda: h1.state() != "FAULT", 0.5)
    wait_converged(h1, [h2], VIP, timeout=2.5)


def test_file_check_deleted_and_recreated(clab):
    """An unreadable (deleted) file counts 0; a new file at the path is picked up
    at once (the interval is 60 s: only a watch on the directory can see it)."""
    h1, = clab.add_hosts(1)
    wf = os.path.join(clab.hostdir(h1), "weight")
    write_file(wf, "5\n")
    h1.start_vipd(checks_conf(check_section("wf", "file", path=wf, interval="60s"),
                              vipd_instance(priority=100, track=["wf weight 10"])))
    wait_until(lambda: h1.inst()["effective_priority"] == 150, 2)
    os.unlink(wf)
    wait_until(lambda: h1.inst()["effective_priority"] == 100, 1,
               what="the deleted file to count 0")
    assert check_of(h1, "wf")["value"] == 0
    with open(wf, "w") as f:
        f.write("2\n")
    wait_until(lambda: h1.inst()["effective_priority"] == 120, 1,
               what="the re-created file to be read")
    assert check_of(h1, "wf")["value"] == 2
    write_file(wf, "3\n")  # and the watch survives both
    wait_until(lambda: h1.inst()["effective_priority"] == 130, 1)


# --------------------------------------------------------------------------
# scripts

def rc_script(clab, host, name="check.sh"):
    """A root-owned script whose exit code is the number in a file (start: 0)."""
    rc = os.path.join(clab.hostdir(host), name + ".rc")
    write_file(rc, "0\n")
    path = make_script(clab, host, name, "exit $(cat %s)\n" % rc)
    return path, rc


def test_script_rise_and_fall(clab):
    h1, = clab.add_hosts(1)
    script, rc = rc_script(clab, h1)
    conf = checks_conf(check_section("s", "script", command=script, interval="300ms",
                                     rise=3, fall=2, weight=-60),
                       vipd_instance(priority=150, track=["s"]))
    h1.start_vipd(conf)
    wait_until(lambda: check_of(h1, "s")["state"] == "up", 2,
               what="the first success to decide at once")
    assert check_of(h1, "s")["runs"] <= 2
    wait_until(lambda: h1.state() == "MASTER", 2)

    def watch(until_state, seconds):
        seen = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            st = h1.status()  # one snapshot: the check and the instance agree
            c = next(x for x in st["checks"] if x["name"] == "s")
            seen.append((c["state"], c["successes"], c["failures"],
                         st["instances"][0]["effective_priority"]))
            if c["state"] == until_state:
                return seen
            time.sleep(0.02)
        raise AssertionError("no %s in %.1f s: %s" % (until_state, seconds, seen[-5:]))

    write_file(rc, "1\n")
    seen = watch("down", 3)
    # fall = 2: one failure is not enough
    assert any(f == 1 and st == "up" for st, s, f, p in seen), seen
    assert all(st == "up" and p == 150 for st, s, f, p in seen if f <= 1), seen
    c = check_of(h1, "s")
    assert c["failures"] >= 2 and c["successes"] == 0, c
    assert c["last"]["reason"] == "exit 1", c
    wait_until(lambda: h1.inst()["effective_priority"] == 90, 1)

    write_file(rc, "0\n")
    seen = watch("up", 4)
    # rise = 3: two successes are not enough
    assert any(s == 2 and st == "down" for st, s, f, p in seen), seen
    assert all(st == "down" for st, s, f, p in seen if s in (1, 2)), seen
    assert check_of(h1, "s")["successes"] >= 3
    wait_until(lambda: h1.inst()["effective_priority"] == 150, 1)
    log = h1.log_text()
    assert re.search(r"check s: up -> down \(exit 1\)", log), log[-1500:]
    assert re.search(r"check s: down -> up \(", log)


@pytest.mark.parametrize("init_fail", [True, False], ids=["init_fail", "init_ok"])
def test_init_fail(clab, init_fail):
    """init_fail = yes: the check starts down and needs `rise` successes first."""
    h1, h2 = clab.add_hosts(2)
    script, rc = rc_script(clab, h1)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h2, [], VIP, timeout=2)
    conf = checks_conf(check_section("s", "script", command=script, interval="400ms", rise=3,
                                     fall=1, init_fail=init_fail),
                       vipd_instance(priority=150, track=["s weight -60"]))
    t0 = time.monotonic()
    h1.start_vipd(conf)
    if init_fail:
        c = check_of(h1, "s")
        assert c["state"] == "down", c
        assert h1.inst()["effective_priority"] == 90
        stays(lambda: h1.state() == "BACKUP", 0.5, what="h1 BACKUP while its check rises")
        wait_until(lambda: h1.has_addr(VIP), 3, what="h1 to preempt once the check rose")
        took = time.monotonic() - t0
        assert 0.75 <= took <= 2.0, "preempted %.2f s after start (3 successes, 400 ms)" % took
        assert check_of(h1, "s")["successes"] >= 3
    else:
        assert check_of(h1, "s")["state"] in ("init", "up")
        wait_until(lambda: h1.has_addr(VIP), 1.0, what="h1 to preempt at once")
    wait_converged(h1, [h2], VIP, timeout=2)
    assert h1.inst()["effective_priority"] == 150
    if not init_fail:
        assert "check s: up -> down" not in h1.log_text()


def test_script_user(clab):
    """Scripts run as `user` (default [global] script_user)."""
    h1, = clab.add_hosts(1)
    as_root = make_script(clab, h1, "root.sh", 'test "$(id -u)" = 0\n')
    as_nobody = make_script(clab, h1, "nobody.sh", 'test "$(id -un)" = nobody\n')
    conf = checks_conf(check_section("r", "script", command=as_root, interval="200ms"),
                       check_section("n", "script", command=as_nobody, interval="200ms",
                                     user="nobody"),
                       vipd_instance(priority=100, track=["r weight 1", "n weight 2"]))
    h1.start_vipd(conf)
    wait_until(lambda: h1.inst()["effective_priority"] == 103, 2,
               what="both scripts succeeding as their users: %s"
               % [(c["name"], c["state"], c["last"]) for c in h1.status()["checks"]])


def test_script_output_and_background_child(clab):
    """The result is the script's exit status: a megabyte of output is drained,
    and a background child still holding stdout open does not hold the run."""
    h1, = clab.add_hosts(1)
    chatty = make_script(clab, h1, "chatty.sh",
                         "head -c 1000000 /dev/zero | tr '\\0' x\necho\necho all good\n"
                         "exit 0\n")
    failing = make_script(clab, h1, "failing.sh", "echo first line\necho the reason\nexit 2\n")
    forking = make_script(clab, h1, "forking.sh", "/bin/sleep 30 &\nexit 0\n")
    h1.start_vipd(checks_conf(
        check_section("chatty", "script", command=chatty, interval="300ms", timeout="2s"),
        check_section("failing", "script", command=failing, interval="300ms"),
        check_section("forking", "script", command=forking, interval="300ms", timeout="2s"),
        vipd_instance(priority=100, track=["chatty weight 1", "failing weight 2",
                                           "forking weight 4"])))
    wait_until(lambda: all(c["runs"] >= 3 for c in h1.status()["checks"]), 5)
    c = check_of(h1, "chatty")
    assert c["state"] == "up" and c["last"]["reason"] == "exit 0", c
    c = check_of(h1, "failing")
    assert c["state"] == "down" and c["last"]["reason"].startswith("exit 2"), c
    c = check_of(h1, "forking")
    assert c["state"] == "up" and c["failures"] == 0, c
    assert c["last"]["duration_ms"] < 1000, c
    assert h1.inst()["effective_priority"] == 105


def test_weight0_check_fault_sends_priority_zero(clab):
    """A weight-0 check failing on the Master: FAULT, a priority-0 advert, and the
    Backup takes over after Skew_Time; the check recovering clears the FAULT."""
    h1, h2 = clab.add_hosts(2)
    script, rc = rc_script(clab, h1)
    # no weight on the track line nor in the check: 0
    h1.start_vipd(checks_conf(check_section("s", "script", command=script, interval="100ms"),
                              vipd_instance(priority=150, track=["s"])))
    wait_converged(h1, [], VIP, timeout=2)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP, timeout=3)
    t = track_of(h1.inst(), "s")
    assert (t["weight"], t["state"], t["applied"]) == (0, "up", 0), t
    assert h1.inst()["fault_reason"] is None

    with clab.switch.capture("ip proto 112") as cap:
        time.sleep(0.25)
        write_file(rc, "1\n")
        wait_until(lambda: h1.state() == "FAULT", 1, what="h1 FAULT when its check failed")
        wait_until(lambda: h2.has_addr(VIP), 1)
        time.sleep(0.2)
    assert not h1.has_addr(VIP)
    i1 = h1.inst()
    assert i1["fault_reason"] == "check:s" and i1["last_reason"] == "fault", i1
    assert re.search(r"\[VI_1 eth0 vrid 51 v4\] MASTER -> FAULT \(fault: check:s\)",
                     h1.log_text())
    assert_prio0_handover(cap, h1, h2)
    assert h2.inst()["last_reason"] == "priority_zero"
    stays(lambda: h1.state() == "FAULT", 0.3)

    write_file(rc, "0\n")
    wait_converged(h1, [h2], VIP, timeout=2, hold=0.3)
    assert h1.inst()["fault_reason"] is None
    assert re.search(r"FAULT -> BACKUP \(fault_cleared\)", h1.log_text())
    assert h1.inst()["last_reason"] == "preempt"


# --------------------------------------------------------------------------
# owner, clamping

def test_owner_priority_unchanged_but_fault_applies(clab):
    h1, = clab.add_hosts(1)
    d = clab.hostdir(h1)
    wf, wf0 = os.path.join(d, "weight"), os.path.join(d, "fault")
    write_file(wf, "0\n")
    write_file(wf0, "0\n")
    h1.start_vipd(checks_conf(check_section("wf", "file", path=wf),
                              check_section("wf0", "file", path=wf0),
                              vipd_instance(priority=255, track=["wf weight 10",
                                                                 "wf0 weight 0"])))
    wait_converged(h1, [], VIP, timeout=1)
    with clab.switch.capture("ip proto 112") as cap:
        for v in ("-20", "5"):
            write_file(wf, v + "\n")
            wait_until(lambda: check_of(h1, "wf")["value"] == int(v), 1)
            stays(lambda: h1.inst()["effective_priority"] == 255 and h1.state() == "MASTER",
                  0.3)
    assert {a["prio"] for a in cap.vrrp() if a["src"] == h1.ip4} == {255}
    write_file(wf0, "1\n")
    wait_until(lambda: h1.state() == "FAULT", 1, what="owner FAULT on a weight-0 item")
    assert not h1.has_addr(VIP)
    write_file(wf0, "0\n")
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 1)
    assert h1.inst()["effective_priority"] == 255


def test_priority_clamped_to_1_254(clab):
    h1, = clab.add_hosts(1)
    wf = os.path.join(clab.hostdir(h1), "weight")
    write_file(wf, "10\n")
    h1.start_vipd(checks_conf(
        check_section("wf", "file", path=wf),
        vipd_instance(name="HIGH", vrid=51, priority=250, track=["wf weight 1"]),
        vipd_instance(name="LOW", vrid=52, priority=10, vips=("192.0.2.101/24",),
                      track=["wf weight -1"])))
    wait_until(lambda: check_of(h1, "wf")["value"] == 10, 2)
    hi, lo = h1.inst("HIGH"), h1.inst("LOW")
    assert hi["effective_priority"] == 254 and track_of(hi, "wf")["applied"] == 10, hi
    assert lo["effective_priority"] == 1 and track_of(lo, "wf")["applied"] == -10, lo
    wait_until(lambda: h1.state("LOW") == "MASTER", 2)
    with clab.switch.capture("ip proto 112") as cap:
        time.sleep(0.35)
    prios = {(a["vrid"], a["prio"]) for a in cap.vrrp()}
    assert prios == {(51, 254), (52, 1)}, prios


# --------------------------------------------------------------------------
# text status, config check

def test_status_text_shows_checks(clab):
    h1, = clab.add_hosts(1)
    web = clab.http_standin(h1)
    web.set("/primary", 200)
    ok = make_script(clab, h1, "ok.sh", "exit 0\n")
    bad = make_script(clab, h1, "bad.sh", "exit 3\n")
    h1.start_vipd(checks_conf(
        check_section("patroni", "http", url="http://127.0.0.1:8008/primary",
                      interval="100ms"),
        check_section("ok", "script", command=ok, interval="100ms"),
        check_section("bad", "script", command=bad, interval="100ms"),
        vipd_instance(priority=100, track=["patroni weight 50", "ok weight 1",
                                           "bad weight -2"])))
    wait_until(lambda: check_of(h1, "patroni")["runs"] >= 3 and check_of(h1, "ok")["runs"] >= 3
               and check_of(h1, "bad")["runs"] >= 3, 3)
    text = h1.vipctl("status").stdout
    assert re.search(r"^VI_1: (MASTER|BACKUP)\s+vrid 51 on eth0", text, re.M), text
    assert re.search(r"priority 100, effective 149,", text), text
    num = r"\d+(\.\d+)?"
    assert re.search(r"^\s*check patroni \(http\): up  \[\d+ ok in a row, \d+ runs\]  "
                     r"last: HTTP 200 in %s ms, \d+ ms ago$" % num, text, re.M), text
    assert re.search(r"^\s*check ok \(script\): up  \[\d+ ok in a row, \d+ runs\]  "
                     r"last: exit 0 in %s ms, \d+ ms ago$" % num, text, re.M), text
    assert re.search(r"^\s*check bad \(script\): down\b.*exit 3", text, re.M), text
    # the checks come after the instances
    assert text.index("VI_1:") < text.index("check patroni")


def vipd_t(path):
    return subprocess.run([VIPD, "-t", "-f", path], capture_output=True, text=True, timeout=10)


@pytest.fixture
def secure_dir():
    """A root-owned 0755 dir under VARROOT (a secure place for scripts)."""
    os.makedirs(VARROOT, exist_ok=True)
    d = tempfile.mkdtemp(prefix=run_prefix() + "-cli-", dir=VARROOT)  # swept if we die
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def script_conf(d, command):
    text = checks_conf(check_section("s", "script", command=command, interval="1s"),
                       vipd_instance(priority=100, track=["s weight 2"]))
    conf = os.path.join(d, "vipd.conf")
    with open(conf, "w") as f:
        f.write(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("command ="))
    return conf, line


def put_script(path, mode=0o755, uid=0, gid=0):
    write_file(path, "#!/bin/sh\nexit 0\n", mode)
    os.chown(path, uid, gid)
    return path


INSECURE = {
    # where the script lives -> how it is made insecure
    "world-writable-dir": lambda d: put_script(os.path.join(_subdir(d, 0o777), "c.sh")),
    "group-writable-file": lambda d: put_script(os.path.join(d, "c.sh"), mode=0o775),
    "other-writable-file": lambda d: put_script(os.path.join(d, "c.sh"), mode=0o757),
    "file-not-root": lambda d: put_script(os.path.join(d, "c.sh"), uid=65534),
    "dir-not-root": lambda d: put_script(os.path.join(_subdir(d, 0o755, uid=65534), "c.sh")),
    "under-tmp": lambda d: put_script(os.path.join(_tmpdir(), "c.sh")),
}


def _subdir(d, mode, uid=0):
    sub = os.path.join(d, "sub")
    os.makedirs(sub, exist_ok=True)
    os.chown(sub, uid, 0)
    os.chmod(sub, mode)
    return sub


_TMPDIRS = []


def _tmpdir():
    d = tempfile.mkdtemp(prefix="vipd-insecure-", dir="/tmp")
    os.chmod(d, 0o755)  # root-owned 0755, but /tmp itself is world-writable
    _TMPDIRS.append(d)
    return d


@pytest.mark.parametrize("how", list(INSECURE))
def test_config_check_refuses_insecure_script(secure_dir, how):
    try:
        script = INSECURE[how](secure_dir)
        conf, line = script_conf(secure_dir, script)
        p = vipd_t(conf)
    finally:
        while _TMPDIRS:
            shutil.rmtree(_TMPDIRS.pop(), ignore_errors=True)
    assert p.returncode == 1, (how, p.returncode, p.stdout, p.stderr)
    want = "%s:%d: command: " % (conf, line)
    assert want in p.stderr, "expected %r in:\n%s" % (want, p.stderr)
    assert "configuration OK" not in p.stdout


def test_config_check_accepts_secure_script_and_every_type(secure_dir):
    script = put_script(os.path.join(secure_dir, "c.sh"))
    text = checks_conf(
        check_section("s", "script", command="%s --flag value" % script, interval="2s",
                      timeout="1s", rise=2, fall=3, init_fail=False, weight=0),
        check_section("sh", "script", command="%s && exit 0" % script, shell=True,
                      user="nobody"),
        check_section("p", "process", name="haproxy", pidfile="/run/haproxy.pid"),
        check_section("t", "tcp", address="127.0.0.1:5000"),
        check_section("t6", "tcp", address="[::1]:5000"),
        check_section("h", "http", url="http://127.0.0.1:8008/primary", expect_status=200,
                      expect_body="running", method="OPTIONS"),
        check_section("g", "pgsql", conninfo="host=127.0.0.1 port=5432 dbname=postgres "
                      "user=postgres connect_timeout=2", expect="standby"),
        check_section("x", "haproxy", socket="/run/haproxy/admin.sock", backend="pg"),
        check_section("f", "file", path="/run/vipd-weight"),
        vipd_instance(priority=100, track=["s", "sh weight 5", "p weight -5", "t weight 1",
                                           "t6 weight 1", "h weight 50", "g weight 50",
                                           "x weight 2", "f weight 1"],
                      track_interface=["eth1 weight -20", "eth2"]))
    conf = os.path.join(secure_dir, "all.conf")
    with open(conf, "w") as f:
        f.write(text)
    p = vipd_t(conf)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "%s: configuration OK" % conf, p.stdout


BAD_CHECKS = [
    # (id, sections, the line holding the error, key)
    ("unknown-type", check_section("c", "ping", address="127.0.0.1:1"), "type = ping", "type"),
    ("track-undefined", check_section("c", "tcp", address="127.0.0.1:1"),
     "track = nosuch weight 2", "track"),
    ("weight-range", check_section("c", "tcp", address="127.0.0.1:1", weight=300),
     "weight = 300", "weight"),
    ("interval-junk", check_section("c", "tcp", address="127.0.0.1:1", interval="soon"),
     "interval = soon", "interval"),
    ("pg-expect", check_section("c", "pgsql", conninfo="host=127.0.0.1", expect="leader"),
     "expect = leader", "expect"),
    ("http-method", check_section("c", "http", url="http://127.0.0.1:8008/", method="POST"),
     "method = POST", "method"),
    ("tcp-address", check_section("c", "tcp", address="localhost"), "address = localhost",
     "address"),
    ("relative-command", check_section("c", "script", command="sleep 1"), "command = sleep 1",
     "command"),
]


@pytest.mark.parametrize("section,needle,key", [b[1:] for b in BAD_CHECKS],
                         ids=[b[0] for b in BAD_CHECKS])
def test_config_check_bad_check_sections(secure_dir, section, needle, key):
    track = "nosuch weight 2" if key == "track" else "c weight 2"
    text = checks_conf(section, vipd_instance(priority=100, track=[track]))
    conf = os.path.join(secure_dir, "bad.conf")
    with open(conf, "w") as f:
        f.write(text)
    p = vipd_t(conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln == needle)
    want = "%s:%d: %s: " % (conf, line, key)
    assert want in p.stderr, "expected %r in:\n%s" % (want, p.stderr)
