"""vipctl import-keepalived on the seeds' own keepalived.conf files.

Each file (tests/kaimport/seeds/, see SOURCES there) imports with only
the reports expected of it (router_id), VRRPv2 and its PASS authentication
translated (version = 2, auth_type, auth_pass), and the
result passes `vipd -t`. The lab only changes what it must: interface
names, addresses to 192.0.2.0/24, /etc/keepalived/ to a root-owned
directory holding the scripts, script_user to root. Then a pair started
from two imported files of seed 000 behaves like the keepalived pair
started from the same two files: the same Master, and the same failover
when the Master's tracked check fails. (node2 and node3: seed 000's node1
has another auth_pass, so it makes a split brain with the others, with
keepalived as with the imported files.) startup_delay is checked on a
silent network.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from lab import VIPCTL, VIPD, make_script, stays, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "kaimport", "seeds")
FILES = sorted(f for f in os.listdir(SEEDS) if f.endswith(".conf"))
EXPECTED_REPORTS = {"router_id"}

pytestmark = pytest.mark.root


def localise(text, scriptdir, addrs=()):
    """The lab's changes to a seed's keepalived.conf, nothing else."""
    text = text.replace("/etc/keepalived/", scriptdir + "/")
    if not os.path.exists("/usr/bin/nc"):  # seed 002's check; netcat is not a test dependency
        text = text.replace("/usr/bin/nc ", scriptdir + "/nc ")
    text = re.sub(r"\bens33\b", "eth0", text)
    text = re.sub(r"script_user \S+", "script_user root", text)
    for a, b in addrs:
        text = re.sub(a, b, text)
    return text


def import_text(kadir, text):
    path = os.path.join(kadir, "keepalived.conf")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([VIPCTL, "import-keepalived", path], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def scripts_for(clab, host, text, body="exit 0\n"):
    d = clab.hostdir(host)
    for path in set(re.findall(r'"(%s/[^" ]+)' % re.escape(d), text)):
        make_script(clab, host, os.path.basename(path), body)
    return d


@pytest.mark.parametrize("name", FILES)
def test_seed_imports_and_passes_vipd_t(clab, name):
    h = clab.add_host()
    d = clab.hostdir(h)
    with open(os.path.join(SEEDS, name)) as f:
        text = localise(f.read(), d)
    scripts_for(clab, h, text)
    rc, out, err = import_text(d, text)
    assert rc == (1 if err else 0), err
    assert "version = 2" in out and "auth_type = PASS" in out, out
    keywords = {ln.split(": ")[1] for ln in err.splitlines()}
    assert keywords <= EXPECTED_REPORTS, err
    for ln in err.splitlines():
        assert re.match(r"^\S+:\d+: \S+: not translated: .+", ln), ln
        assert "; " + ln in out  # the same report, where it was in the output
    conf = os.path.join(d, "imported.conf")
    with open(conf, "w") as f:
        f.write(out)
    t = subprocess.run([VIPD, "-t", "-f", conf], capture_output=True, text=True)
    assert t.returncode == 0, t.stderr + "\n" + out


def test_import_of_the_unchanged_seeds_exit_status():
    """Without the lab's changes: 0, or 1 with reports, never a parse error."""
    for name in FILES:
        p = subprocess.run([VIPCTL, "import-keepalived", os.path.join(SEEDS, name)],
                           capture_output=True, text=True)
        assert p.returncode == (1 if p.stderr else 0), name + p.stderr
        assert "[instance " in p.stdout


def seed000_pair(clab):
    """Seed 000's node2 (priority 101) and node3 (99), each with a check
    script that passes while its host's flag file exists."""
    hosts = clab.add_hosts(2)
    texts = []
    for h, node in zip(hosts, ("node3", "node2")):
        d = clab.hostdir(h)
        flag = os.path.join(d, "up")
        open(flag, "w").close()
        with open(os.path.join(SEEDS, "000-%s.conf" % node)) as f:
            # advert_int stays 1: VRRPv2 carries whole seconds
            text = localise(f.read(), d, [(r"192\.168\.10\.13(/24)?", "192.0.2.100/24"),
                                          (r"interval 2\b", "interval 0.2")])
        scripts_for(clab, h, text, "test -e %s\n" % flag)
        texts.append(text)
    return hosts, texts


def failover(hosts, holds):
    """node2 (101) holds the VIP; its check fails (FAULT, weight 0): node3 takes it."""
    n1, n2 = hosts
    wait_until(lambda: holds(n2) and not holds(n1), 15, what="node2 Master")
    os.unlink(os.path.join(n2._import_dir, "up"))
    wait_until(lambda: holds(n1) and not holds(n2), 15, what="node3 Master after node2's check fails")


@pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived not installed")
def test_seed000_pair_like_keepalived(clab):
    hosts, texts = seed000_pair(clab)
    for h in hosts:
        h._import_dir = clab.hostdir(h)
    holds = lambda h: h.has_addr("192.0.2.100")
    # keepalived, with the seed's files as they are (VRRPv2, PASS)
    for h, t in zip(hosts, texts):
        h.start_keepalived(t)
    failover(hosts, holds)
    for h in hosts:
        h.stop_keepalived()
        open(os.path.join(h._import_dir, "up"), "w").close()
    wait_until(lambda: not any(holds(h) for h in hosts), 10, what="keepalived's VIP gone")
    # vipd, from the imported files
    for h, t in zip(hosts, texts):
        rc, out, err = import_text(h._import_dir, t)
        assert rc == 0 and "version = 2" in out and "auth_pass = QAZxsw12" in out, err
        h.start_vipd(out)
    failover(hosts, holds)
    assert hosts[0].state() == "MASTER" and hosts[1].state() == "FAULT"


def test_startup_delay_on_a_silent_network(clab):
    """vrrp_startup_delay 3: alone on the link, the host stays BACKUP 3 s."""
    h = clab.add_host()
    d = clab.hostdir(h)
    rc, out, err = import_text(d, """global_defs {
    vrrp_version 3
    vrrp_startup_delay 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
""")
    assert rc == 0, err
    assert "startup_delay = 3s" in out
    t0 = time.monotonic()
    h.start_vipd(out)
    stays(lambda: h.state() == "BACKUP", 2.5, what="BACKUP during startup_delay")
    wait_until(lambda: h.state() == "MASTER", 3, what="Master after the delay")
    assert time.monotonic() - t0 >= 3.0


def test_tricky_corpus(tmp_path):
    """tests/kaimport/tricky: includes, comments, quoting, unknown blocks;
    the output and the reports as reviewed (expected.*), and vipd -t."""
    repo = os.path.join(HERE, "..", "..")
    d = "tests/kaimport/tricky/"
    p = subprocess.run([VIPCTL, "import-keepalived", d + "keepalived.conf"], cwd=repo,
                       capture_output=True, text=True)
    assert p.returncode == 1
    with open(os.path.join(repo, d, "expected.vipd.conf")) as f:
        assert p.stdout == f.read()
    with open(os.path.join(repo, d, "expected.stderr")) as f:
        assert p.stderr == f.read()
    conf = os.path.join(tmp_path, "imported.conf")
    with open(conf, "w") as f:
        f.write(p.stdout)
    t = subprocess.run([VIPD, "-t", "-f", conf], capture_output=True, text=True)
    assert t.returncode == 0, t.stderr
