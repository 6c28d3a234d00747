"""vipd / vipctl command line: config check, single instance, exit codes.

The config checks need no root and no namespace: `vipd -t` only parses.
"""
import os
import re
import signal
import subprocess
import tempfile

import pytest

from lab import HERE, VIPCTL, VIPD, sh, vipd_instance, wait_until

GOOD = """[global]
pidfile = /run/vipd-test-unused.pid
control_socket = /run/vipd-test-unused/vipd.sock
log_level = debug

[instance VI_1]
interface = eth0
vrid = 51
priority = 150
advert_interval = 1s
virtual_ip = 192.0.2.100/24
virtual_ip = 192.0.2.101/24
preempt = yes
preempt_fast = no
preempt_delay = 0s
unicast_src = 192.0.2.11
unicast_peer = 192.0.2.12
unicast_peer = 192.0.2.13
checksum = rfc9568
garp_repeat = 5
garp_delay = 5s
garp_refresh = 0s

[instance VI_6]
interface = eth0
vrid = 51
priority = 255
advert_interval = 10ms
virtual_ip = 2001:db8::100/64
"""


@pytest.fixture
def tmp(binaries):
    d = tempfile.mkdtemp(prefix="vipd-cli-")
    yield d
    sh(["rm", "-rf", d])


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def check(path):
    return subprocess.run([VIPD, "-t", "-f", path], capture_output=True, text=True, timeout=10)


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError(needle)


def test_version(binaries):
    p = subprocess.run([VIPD, "-V"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    assert re.match(r"^vipd \d+\.\d+\.\d+", p.stdout), p.stdout


EXAMPLES_DIR = os.path.join(HERE, "..", "..", "examples")
# keepalived.conf examples (seed001-keepalived.conf) are keepalived's, not vipd's
EXAMPLES = sorted(f for f in os.listdir(EXAMPLES_DIR)
                  if f.endswith(".conf") and "keepalived" not in f)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_configs_are_valid(binaries, name):
    """Every shipped example passes `vipd -t` (they are documentation that must not rot)."""
    path = os.path.join(EXAMPLES_DIR, name)
    p = subprocess.run([VIPD, "-t", "-f", path], capture_output=True, text=True)
    assert p.returncode == 0 and "configuration OK" in p.stdout, p.stdout + p.stderr


def test_good_config_ok(tmp):
    path = write(tmp, "good.conf", GOOD)
    p = check(path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "%s: configuration OK" % path, p.stdout
    assert p.stderr == ""


def bad_instance(key, value, extra=""):
    base = vipd_instance(priority=150, interval="1s")
    text = re.sub(r"^%s = .*$" % re.escape(key), "%s = %s" % (key, value), base, flags=re.M)
    if key not in base:
        text += "%s = %s\n" % (key, value)
    return "[global]\nlog_level = info\n\n" + text + extra


BAD = [
    # (id, key, value, the reason's words)
    ("vrid-300", "vrid", "300", None),
    ("vrid-0", "vrid", "0", None),
    ("priority-0", "priority", "0", None),
    ("priority-256", "priority", "256", None),
    ("interval-15ms", "advert_interval", "15ms", None),
    ("interval-too-long", "advert_interval", "41s", None),
    ("interval-junk", "advert_interval", "fast", None),
    ("preempt-maybe", "preempt", "maybe", None),
    ("checksum-other", "checksum", "rfc1234", None),
    ("unknown-key", "bogus_key", "1", None),
    ("bad-vip", "virtual_ip", "192.0.2.300/24", None),
    ("peer-family", "unicast_peer", "2001:db8::12", None),
]


@pytest.mark.parametrize("key,value", [(b[1], b[2]) for b in BAD], ids=[b[0] for b in BAD])
def test_bad_value_reports_file_line_key(tmp, key, value):
    text = bad_instance(key, value)
    path = write(tmp, "bad.conf", text)
    p = check(path)
    assert p.returncode == 1, (p.stdout, p.stderr)
    line = line_of(text, "%s = %s" % (key, value))
    want = "%s:%d: %s: " % (path, line, key)
    assert want in p.stderr, "expected %r in:\n%s" % (want, p.stderr)
    assert "configuration OK" not in p.stdout


def test_ipv6_vip_in_ipv4_instance(tmp):
    text = "[instance VI_1]\ninterface = eth0\nvrid = 51\npriority = 100\n" \
           "virtual_ip = 192.0.2.100/24\nvirtual_ip = 2001:db8::100/64\n"
    path = write(tmp, "mixed.conf", text)
    p = check(path)
    assert p.returncode == 1
    assert "%s:6: virtual_ip: " % path in p.stderr, p.stderr


def test_all_errors_reported_at_once(tmp):
    text = "[instance VI_1]\ninterface = eth0\nvrid = 300\npriority = 0\n" \
           "virtual_ip = 192.0.2.100/24\nnonsense = 1\n"
    path = write(tmp, "many.conf", text)
    p = check(path)
    assert p.returncode == 1
    for ln, key in ((3, "vrid"), (4, "priority"), (6, "nonsense")):
        assert "%s:%d: %s: " % (path, ln, key) in p.stderr, p.stderr
    for line in p.stderr.strip().splitlines():
        assert re.match(r"^%s:\d+: [a-z_]+: \S" % re.escape(path), line), line


def test_missing_vip_and_duplicate_instance(tmp):
    text = "[instance VI_1]\ninterface = eth0\nvrid = 51\npriority = 100\n"
    p = check(write(tmp, "novip.conf", text))
    assert p.returncode == 1 and p.stderr.strip(), p.stderr
    text = vipd_instance() + vipd_instance()
    p = check(write(tmp, "dup.conf", text))
    assert p.returncode == 1 and p.stderr.strip(), "two instances with the same interface, " \
        "VRID and family must be refused"


def test_missing_config_file(tmp):
    p = check(os.path.join(tmp, "does-not-exist.conf"))
    assert p.returncode == 1 and "does-not-exist.conf" in p.stderr


def test_vipctl_without_daemon_exits_2(tmp):
    p = subprocess.run([VIPCTL, "-S", os.path.join(tmp, "none.sock"), "status"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.strip()


@pytest.mark.root
def test_second_vipd_on_same_socket_refused(lab):
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 2)
    # same control socket, another pidfile: must refuse and leave the first alone
    conf2 = os.path.join(h1.dir, "second.conf")
    with open(h1.conf_path) as f:
        text = f.read().replace(h1.pidfile, os.path.join(h1.dir, "second.pid"))
    with open(conf2, "w") as f:
        f.write(text)
    p = h1.run([VIPD, "-n", "-f", conf2], check=False, timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.strip(), "no message on refusal"
    assert h1.vipd_running()
    assert h1.state() == "MASTER" and os.path.exists(h1.sock)
    # -S on the command line overrides the config: same refusal
    p = h1.run([VIPD, "-n", "-f", conf2, "-S", h1.sock, "-p", os.path.join(h1.dir, "3.pid")],
               check=False, timeout=10)
    assert p.returncode == 1
    assert h1.inst()["transitions"] == 2


@pytest.mark.root
def test_socket_mode_pidfile_and_overrides(lab):
    h1, = lab.add_hosts(1)
    sock = os.path.join(h1.dir, "other.sock")
    pid = os.path.join(h1.dir, "other.pid")
    h1.start_vipd(vipd_instance(priority=100), wait=False, extra_args=["-S", sock, "-p", pid])
    wait_until(lambda: h1.vipctl("status", sock=sock, check=False).returncode == 0, 10,
               what="vipd answering on the -S socket")
    assert not os.path.exists(h1.sock), "config's control_socket used despite -S"
    assert os.stat(sock).st_mode & 0o777 == 0o600
    with open(pid) as f:
        assert int(f.read().strip()) == h1.vipd.pid
    assert h1.stop_vipd() == 0
    assert not os.path.exists(sock), "control socket left behind"
    assert not os.path.exists(pid), "pidfile left behind"


@pytest.mark.root
def test_sighup_keeps_running(lab):
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 2)
    h1.vipd.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload" in h1.log_text().split("MASTER", 1)[-1], 2,
               what="a log line about reload")
    assert h1.vipd_running() and h1.state() == "MASTER" and h1.has_addr("192.0.2.100")


@pytest.mark.root
def test_without_cap_net_raw_exits_1(lab):
    h1, = lab.add_hosts(1)
    conf = os.path.join(h1.dir, "nocap.conf")
    with open(conf, "w") as f:
        f.write("[global]\npidfile = %s/nocap.pid\ncontrol_socket = %s/nocap.sock\n\n%s"
                % (h1.dir, h1.dir, vipd_instance(priority=100)))
    p = h1.run(["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", VIPD,
                "-n", "-f", conf], check=False, timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.strip()
    assert not h1.has_addr("192.0.2.100")


@pytest.mark.root
def test_sigint_is_a_graceful_stop(lab):
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr("192.0.2.100"), 2)
    assert h1.stop_vipd(signal.SIGINT) == 0
    assert not h1.has_addr("192.0.2.100")
    assert "MASTER -> INIT (stop)" in h1.log_text()


def test_pidfile_fifo_never_blocks_start(lab):
    """A FIFO (or a symbolic link) where the pidfile goes: vipd says so and runs."""
    h1, = lab.add_hosts(1)
    for kind in ("fifo", "symlink"):
        path = os.path.join(h1.dir, "pid-" + kind)
        target = os.path.join(h1.dir, "elsewhere")
        if kind == "fifo":
            os.mkfifo(path)
        else:
            with open(target, "w") as f:
                f.write("keep\n")
            os.symlink(target, path)
        h1.start_vipd(vipd_instance(priority=150), extra_args=("-p", path))
        wait_until(lambda: h1.state() == "MASTER", 3)
        assert "cannot write pidfile %s" % path in h1.log_text()
        assert h1.stop_vipd() == 0
        if kind == "symlink":
            assert open(target).read() == "keep\n"
