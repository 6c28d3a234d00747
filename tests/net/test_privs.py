"""Least privilege: vipd as a non-root user with CAP_NET_ADMIN and CAP_NET_RAW.

Two ways in. systemd's `User=` + `AmbientCapabilities=`, reproduced with
setpriv: vipd is started as `nobody` holding only the two capabilities
(ambient, inheritable, bounding), so it never changes user. And `[global]
user = nobody` started as root: vipd drops to nobody after start-up.

The files vipd touches as nobody live in the host's directories, which are
root's and private (mode 0700) in the lab: allow_nobody() opens the way
(mode 0711 on the directories above, the host's temp dir and its control
socket directory given to nobody) so that vipd can read its configuration,
write its pidfile and the drained-state file, and remove the pidfile and
the socket when it stops.
"""
import os
import pwd
import signal

import pytest

from lab import (VIPD, Service, check_of, check_section, checks_conf, vipd_instance,
                 wait_converged, wait_until)

pytestmark = pytest.mark.root

VIP = "192.0.2.100"
NOBODY = pwd.getpwnam("nobody")
CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_ADMIN, CAP_NET_RAW = 5, 6, 7, 12, 13
NET_CAPS = (1 << CAP_NET_ADMIN) | (1 << CAP_NET_RAW)


def setpriv_nobody(caps="+net_admin,+net_raw"):
    """setpriv as systemd would run User=nobody with AmbientCapabilities=caps."""
    return ["setpriv", "--reuid", str(NOBODY.pw_uid), "--regid", str(NOBODY.pw_gid),
            "--clear-groups", "--inh-caps", "-all," + caps, "--ambient-caps", caps,
            "--bounding-set", "-all," + caps]


def allow_nobody(lab, h):
    """Let nobody reach h's files: the lab's directories traversable, h's own
    directories nobody's (it writes the pidfile and drained state there and
    removes the pidfile and socket at stop)."""
    top = os.path.dirname(os.path.dirname(lab.dir))  # TMPROOT
    for d in (top, os.path.dirname(lab.dir), lab.dir):
        os.chmod(d, os.stat(d).st_mode | 0o711)
    for path in (h.dir, os.path.dirname(h.sock)):
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    for name in os.listdir(h.dir):
        os.chmod(os.path.join(h.dir, name), 0o644)


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def vipd_pid(h):
    """vipd's own pid (setpriv and `ip netns exec` exec it: the Popen's pid)."""
    return h.vipd.pid


def helper_pid(h):
    """The spawn helper: vipd's child named vipd-spawn."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            st = proc_status(int(pid))
        except OSError:
            continue
        if st.get("PPid") == str(vipd_pid(h)) and st.get("Name") == "vipd-spawn":
            return int(pid)
    return None


def caps(st, which):
    return int(st[which], 16)


def sleeper(clab, h):
    """A process for a `process` check, with a pidfile nobody can read."""
    svc = clab.add(Service(h, "sleeper", ["sleep", "600"]).start())
    pidfile = os.path.join(h.dir, "sleeper.pid")
    with open(pidfile, "w") as f:
        f.write("%d\n" % svc.pid)
    os.chmod(pidfile, 0o644)
    return pidfile


def test_nonroot_with_two_caps_moves_the_vip_and_runs_checks(clab):
    """User=nobody + AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW: the VIP
    moves on an http check, a process and a script check run (as nobody,
    the default script_user now), and vipd holds those two capabilities."""
    h1, h2 = clab.add_hosts(2)
    webs = {}
    for h, status in ((h1, 200), (h2, 503)):
        webs[h.name] = clab.http_standin(h)
        webs[h.name].set("/primary", status)
    for h in (h1, h2):
        pidfile = sleeper(clab, h)
        conf = checks_conf(
            check_section("web", "http", url="http://127.0.0.1:8008/primary",
                          interval="100ms", timeout="300ms"),
            check_section("proc", "process", pidfile=pidfile, interval="100ms"),
            check_section("true", "script", command="/bin/true", interval="100ms"),
            vipd_instance(priority=100, track=["web weight 50", "proc", "true"]),
            script_user=None)
        h.write_conf(conf)
        allow_nobody(clab, h)
        h.start_vipd(conf, wrap=setpriv_nobody())
        if h is h1:
            wait_converged(h1, [], VIP, timeout=3)
    wait_until(lambda: all(check_of(h, c)["state"] == "up"
                           for h in (h1, h2) for c in ("proc", "true")), 3)
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    assert check_of(h1, "web")["state"] == "up"
    assert check_of(h2, "web")["state"] == "down"

    webs["h1"].set("/primary", 503)
    webs["h2"].set("/primary", 200)
    wait_converged(h2, [h1], VIP, timeout=3, hold=0.3)

    for h in (h1, h2):
        st = proc_status(vipd_pid(h))
        assert st["Uid"].split() == [str(NOBODY.pw_uid)] * 4, st["Uid"]
        assert caps(st, "CapEff") == NET_CAPS, st["CapEff"]
        assert caps(st, "CapPrm") == NET_CAPS, st["CapPrm"]
        assert caps(st, "CapAmb") == 0, st["CapAmb"]  # scripts get none
        hp = helper_pid(h)
        assert hp and caps(proc_status(hp), "CapEff") == 0
    for h in (h1, h2):
        assert h.stop_vipd() == 0
        assert not os.path.exists(h.pidfile) and not os.path.exists(h.sock)


def test_user_key_drops_root(clab):
    """[global] user = nobody, started as root: nobody with CAP_NET_ADMIN and
    CAP_NET_RAW only, an empty bounding set; drain state still written."""
    h1, = clab.add_hosts(1)
    allow_nobody(clab, h1)
    conf = "[global]\nuser = nobody\n\n" + vipd_instance(priority=100) + check_section(
        "true", "script", command="/bin/true", interval="100ms")
    h1.start_vipd(conf)
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 3)
    wait_until(lambda: check_of(h1, "true")["state"] == "up", 3)
    st = proc_status(vipd_pid(h1))
    assert st["Uid"].split() == [str(NOBODY.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(NOBODY.pw_gid)] * 4, st["Gid"]
    for k in ("CapEff", "CapPrm"):
        assert caps(st, k) == NET_CAPS, (k, st[k])
    # libcap-ng's CAPNG_CLEAR_BOUNDING empties the bounding set: nothing to gain by execve.
    for k in ("CapBnd", "CapInh", "CapAmb"):
        assert caps(st, k) == 0, (k, st[k])
    hp = helper_pid(h1)
    assert hp, "no spawn helper"
    hst = proc_status(hp)
    assert hst["Uid"].split()[1] == str(NOBODY.pw_uid)
    assert caps(hst, "CapEff") == 0 and caps(hst, "CapBnd") == 0, hst
    assert "running as nobody" in h1.log_text()
    # What vipd writes as nobody: the drained-state file.
    h1.vipctl("drain", "VI_1")
    assert os.path.exists(os.path.join(h1.dir, "drained"))
    h1.vipctl("undrain", "VI_1")
    assert h1.stop_vipd() == 0
    assert not h1.has_addr(VIP)


def test_user_key_scripts_as_another_user(clab):
    """A script check as `daemon` while vipd runs as nobody: the helper keeps
    CAP_SETUID/CAP_SETGID, the daemon CAP_KILL besides its two."""
    h1, = clab.add_hosts(1)
    allow_nobody(clab, h1)
    conf = "[global]\nuser = nobody\n\n" + vipd_instance(priority=100) + check_section(
        "who", "script", command="/bin/true", user="daemon", interval="100ms")
    h1.start_vipd(conf)
    wait_until(lambda: check_of(h1, "who")["state"] == "up", 3)
    st = proc_status(vipd_pid(h1))
    assert caps(st, "CapEff") == NET_CAPS | (1 << CAP_KILL), st["CapEff"]
    hst = proc_status(helper_pid(h1))
    assert caps(hst, "CapEff") == (1 << CAP_SETUID) | (1 << CAP_SETGID), hst["CapEff"]
    assert h1.stop_vipd() == 0


@pytest.mark.parametrize("have,missing", [("+net_raw", "CAP_NET_ADMIN"),
                                          ("+net_admin", "CAP_NET_RAW")])
def test_missing_capability_named_at_start(clab, have, missing):
    h1, = clab.add_hosts(1)
    h1.write_conf(vipd_instance(priority=100))
    allow_nobody(clab, h1)
    p = h1.run(setpriv_nobody(have) + [VIPD, "-n", "-f", h1.conf_path], check=False,
               timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "vipd needs %s" % missing in p.stderr, p.stderr
    assert "AmbientCapabilities=" in p.stderr, p.stderr
    assert not h1.has_addr(VIP)


def test_check_refuses_users_it_cannot_switch_to(clab):
    """vipd -t as nobody with the two capabilities: a hook or script user it
    cannot become is an error naming FILE:LINE and the key; the default
    (script_user follows vipd's user) is fine."""
    h1, = clab.add_hosts(1)
    cases = [
        ("[global]\n\n" + vipd_instance() + "notify_master = /bin/true\n"
         + check_section("c", "script", command="/bin/true"), None),
        ("[global]\nscript_user = daemon\n\n" + vipd_instance() + "notify_master = /bin/true\n",
         "script_user: cannot run scripts and hooks as daemon: vipd runs as nobody without "
         "CAP_SETUID"),
        ("[global]\nscript_user = root\n\n" + vipd_instance(), "script_user: root: vipd runs "
         "as nobody"),
        ("[global]\n\n" + vipd_instance() + check_section("c", "script", command="/bin/true",
                                                          user="daemon"),
         "user: cannot run scripts and hooks as daemon"),
        ("[global]\nuser = daemon\n\n" + vipd_instance(), "user: vipd runs as nobody, not root"),
    ]
    allow_nobody(clab, h1)
    for text, err in cases:
        path = os.path.join(h1.dir, "t.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        p = h1.run(setpriv_nobody() + [VIPD, "-t", "-f", path], check=False, timeout=10)
        if err is None:
            assert p.returncode == 0, (text, p.stderr)
            continue
        assert p.returncode == 1, (text, p.stdout)
        lines = text.split("\n")
        key = err.split(":")[0]
        lineno = next(i + 1 for i, s in enumerate(lines) if s.startswith(key + " ="))
        assert "%s:%d: %s" % (path, lineno, err) in p.stderr, p.stderr


def test_sighup_as_nobody_keeps_running(clab):
    """A reload as nobody: the file is read again, script users still checked."""
    h1, = clab.add_hosts(1)
    allow_nobody(clab, h1)
    h1.start_vipd("[global]\nuser = nobody\n\n" + vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 3)
    # A script as another user cannot come with a reload: start-up kept no CAP_SETUID.
    h1.write_conf("[global]\nuser = nobody\n\n" + vipd_instance(priority=100)
                  + check_section("c", "script", command="/bin/true", user="daemon"))
    os.chmod(h1.conf_path, 0o644)
    p = h1.vipctl("reload", check=False)
    assert p.returncode != 0
    assert "gave up CAP_SETUID at start-up" in p.stdout + p.stderr
    h1.write_conf("[global]\nuser = nobody\n\n" + vipd_instance(priority=120))
    os.chmod(h1.conf_path, 0o644)
    h1.vipd.send_signal(signal.SIGHUP)
    wait_until(lambda: h1.inst()["priority"] == 120, 3)
    assert h1.stop_vipd() == 0


def test_user_key_under_a_bounding_set(clab):
    """The unit's CapabilityBoundingSet= with `user`: CAP_SETUID and CAP_SETGID
    are needed to change user (an error naming them otherwise); without
    CAP_SETPCAP the bounding set is the unit's, and vipd still drops."""
    h1, = clab.add_hosts(1)
    allow_nobody(clab, h1)
    conf = "[global]\nuser = nobody\n\n" + vipd_instance(priority=100)
    h1.write_conf(conf)
    p = h1.run(["setpriv", "--bounding-set", "-all,+net_admin,+net_raw", VIPD, "-n", "-f",
                h1.conf_path], check=False, timeout=10)
    assert p.returncode == 1
    assert ":6: user: vipd runs as root without CAP_SETUID" in p.stderr, p.stderr  # after the lab's 4 lines
    # +dac_override: root must create the socket in a directory allow_nobody()
    # gave to nobody (the unit's /run/vipd is root's); vipd drops it anyway.
    bset = "-all,+net_admin,+net_raw,+setuid,+setgid,+dac_override"
    h1.start_vipd(conf, wrap=["setpriv", "--bounding-set", bset])
    wait_until(lambda: h1.state() == "MASTER", 3)
    st = proc_status(vipd_pid(h1))
    assert st["Uid"].split()[1] == str(NOBODY.pw_uid)
    assert caps(st, "CapEff") == NET_CAPS and caps(st, "CapPrm") == NET_CAPS, st
    assert h1.stop_vipd() == 0
