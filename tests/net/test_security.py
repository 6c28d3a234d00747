"""Findings of the security review (issue 14), host side: the pidfile lock,
adverts from our own address, the control socket's directory and limits,
and what children inherit."""
import contextlib
import os
import shutil
import subprocess
import socket
import time

import pytest

from lab import (VIPD, check_of, check_section, checks_conf, vipd_instance, wait_converged,
                 wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def test_second_vipd_on_same_pidfile_refused(lab):
    """Same config, another control socket: the pidfile's lock refuses it,
    naming the running vipd's pid, before it touches the VIPs."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 3)
    other = os.path.join(h1.dir, "other.sock")
    p = h1.run([VIPD, "-n", "-f", h1.conf_path, "-S", other], check=False, timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "pid %d" % h1.vipd.pid in p.stderr, p.stderr
    assert h1.pidfile in p.stderr, p.stderr
    assert not os.path.exists(other)
    assert h1.vipd_running() and h1.state() == "MASTER" and h1.has_addr(VIP)
    assert h1.inst()["transitions"] == 2
    with open(h1.pidfile) as f:
        assert int(f.read()) == h1.vipd.pid
    # gone with vipd: a new one starts on the same pidfile
    assert h1.stop_vipd() == 0
    assert not os.path.exists(h1.pidfile)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 3)


def test_stale_pidfile_is_taken_over(lab):
    """A pidfile left by a vipd killed with SIGKILL holds no lock."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    h1.kill9()
    assert os.path.exists(h1.pidfile)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 3)
    with open(h1.pidfile) as f:
        assert int(f.read()) == h1.vipd.pid


@pytest.mark.parametrize("family", [4, 6])
def test_advert_from_our_own_address_is_counted(lab, family):
    """Another router sends with our source address: counted as own_addr and
    logged once, never taken for our own. (IPv4: the kernel drops a packet
    from a local address as a martian unless accept_local is set.)"""
    h1, x = lab.add_hosts(2)
    if family == 4:
        h1.sysctl("net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.eth0.accept_local=1")
        h1.start_vipd(vipd_instance(priority=100))
        src, addrs = h1.ip4, [VIP]
    else:
        h1.start_vipd(vipd_instance(priority=100, vips=["2001:db8::100/64"]))
        src, addrs = h1.lladdr, ["2001:db8::100"]
    wait_until(lambda: h1.state() == "MASTER", 3)
    x.craft(src=src, family=family, addrs=addrs, prio=200, interval_cs=10, repeat=3)
    wait_until(lambda: h1.inst()["dropped"].get("own_addr", 0) >= 1, 3,
               what="own_addr counted")
    text = h1.log_text()
    assert text.count("from our own address %s" % src) == 1, text
    assert h1.state() == "MASTER"


@pytest.mark.parametrize("owner,mode", [("nobody", 0o755), ("root", 0o777), ("root", 0o1777)])
def test_control_socket_directory_must_be_safe(lab, hookdir, owner, mode):
    """-S in a directory someone else could write to: vipd refuses to start,
    naming it, before it listens or touches a VIP."""
    h1, = lab.add_hosts(1)
    d = os.path.join(hookdir, "ctl")
    os.mkdir(d)
    os.chmod(d, mode)
    if owner != "root":
        shutil.chown(d, owner)
    sock = os.path.join(d, "vipd.sock")
    h1.write_conf(vipd_instance(priority=100))
    p = h1.run([VIPD, "-n", "-f", h1.conf_path, "-S", sock], check=False, timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "directory %s" % d in p.stderr, p.stderr
    assert not os.path.exists(sock)
    assert not h1.has_addr(VIP)


def test_control_socket_directory_created_0755(lab, hookdir):
    h1, = lab.add_hosts(1)
    d = os.path.join(hookdir, "new", "ctl")
    os.mkdir(os.path.dirname(d))
    sock = os.path.join(d, "vipd.sock")
    old = os.umask(0o077)
    try:
        h1.start_vipd(vipd_instance(priority=100), wait=False, extra_args=["-S", sock])
    finally:
        os.umask(old)
    wait_until(lambda: h1.vipctl("status", sock=sock, check=False).returncode == 0, 10)
    assert os.stat(d).st_mode & 0o7777 == 0o755
    assert os.stat(sock).st_mode & 0o777 == 0o600


def test_idle_control_clients_do_not_lock_vipctl_out(lab):
    """64 idle connections, then 1000 more: vipctl still gets its answer at
    once, and the log has one line about it, not one per connection."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 3)
    before = h1.log_text().count("control:")
    socks = []
    try:
        for _ in range(64):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(h1.sock)
            socks.append(s)
        t0 = time.monotonic()
        assert h1.state() == "MASTER"
        assert time.monotonic() - t0 < 2.0
        for _ in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(h1.sock)
            socks.append(s)
            if len(socks) > 100:
                socks.pop(0).close()
        assert h1.state() == "MASTER"
    finally:
        for s in socks:
            s.close()
    assert h1.log_text().count("control:") - before <= 1, h1.log_text()


# A wrapper for vipd: close_range() fails with ENOSYS (as before Linux 5.9),
# fd 9 is inherited without close-on-exec, and the umask is 077.
NO_CLOSE_RANGE = r"""
import ctypes, os, sys
lib = ctypes.CDLL("libseccomp.so.2")
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ctx = lib.seccomp_init(0x7fff0000)                       # SCMP_ACT_ALLOW
assert lib.seccomp_rule_add(ctx, 0x00050000 | 38, 436, 0) == 0   # close_range: ENOSYS
assert lib.seccomp_load(ctx) == 0
fd = os.open("/dev/null", os.O_RDONLY)
os.dup2(fd, 9, inheritable=True)
os.umask(0o077)
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_hook_gets_a_clean_process(lab, hookdir):
    """A hook: its own session, none of vipd's fds even where close_range()
    is missing, the resource limits vipd started with (not its RLIMIT_RTTIME),
    umask 022."""
    h1, = lab.add_hosts(1)
    out = os.path.join(hookdir, "out")
    hook = os.path.join(hookdir, "hook.sh")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\n"
                "{ echo pid $$; echo sid $(awk '{print $6}' /proc/$$/stat); umask;\n"
                "  grep 'Max realtime timeout' /proc/$$/limits;\n"
                "  if [ -e /proc/$$/fd/9 ]; then echo fd9 open; else echo fd9 closed; fi;\n"
                "  for f in /proc/$$/fd/*; do echo fd $f $(readlink $f); done; } > %s.tmp\n"
                "mv %s.tmp %s\n" % (out, out, out))
    os.chmod(hook, 0o755)
    wrapper = os.path.join(hookdir, "wrap.py")
    with open(wrapper, "w") as f:
        f.write(NO_CLOSE_RANGE)
    h1.start_vipd(vipd_instance(priority=100, notify_master=hook),
                  wrap=["/usr/bin/python3", wrapper])
    wait_until(lambda: os.path.exists(out), 5, what="the hook's report")
    rep = dict(ln.split(" ", 1) if " " in ln else (ln, "") for ln in
               open(out).read().splitlines())
    text = open(out).read()
    assert rep["sid"] == rep["pid"], text
    assert rep["fd9"] == "closed", text
    assert "socket:" not in text and "anon_inode:" not in text, text
    assert "0022" in text, text
    lim = [ln for ln in text.splitlines() if ln.startswith("Max realtime")][0].split()
    assert lim[3:5] == ["unlimited", "unlimited"], text


def test_user_lookup_never_blocks_the_loop(lab, hookdir):
    """script_user / a script check's user is resolved at start (and reload),
    not at each spawn: with /etc/passwd and /etc/group hanging (a FIFO with no
    writer, as a dead LDAP would), the check keeps running as `nobody` and
    the Master keeps advertising."""
    h1, h2 = lab.add_hosts(2)
    script = os.path.join(hookdir, "ok.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    conf = checks_conf(check_section("s", "script", command=script, interval="100ms",
                                     user="nobody"),
                       vipd_instance(priority=150, track=["s weight 10"]))
    h1.start_vipd(conf)
    wait_until(lambda: h1.state() == "MASTER", 3)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    fifos = []
    for name in ("passwd", "group"):
        p = os.path.join(hookdir, name + ".fifo")
        os.mkfifo(p)
        fifos.append((p, "/etc/" + name))
    try:
        # only in vipd's mount namespace (ip netns exec made it one of its own)
        for fifo, target in fifos:
            subprocess.run(["nsenter", "-t", str(h1.vipd.pid), "-m", "mount", "--bind",
                            fifo, target], check=True, timeout=10)
        runs = check_of(h1, "s")["runs"]
        time.sleep(2.0)
        assert h2.state() == "BACKUP", "h1 stopped advertising: %s" % h2.inst()
        assert h1.state() == "MASTER"
        assert check_of(h1, "s")["runs"] >= runs + 10, check_of(h1, "s")
        assert check_of(h1, "s")["state"] == "up"
    finally:
        for fifo, target in fifos:
            # a reader stuck on the FIFO gets EOF, then the mounts go
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            subprocess.run(["nsenter", "-t", str(h1.vipd.pid), "-m", "umount", target],
                           timeout=10)
