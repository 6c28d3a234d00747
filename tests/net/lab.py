"""
lab.py - hosts in network namespaces for vipd's network tests.

Topology: one "switch" namespace holding a Linux bridge; every host is a
namespace with a veth `eth0` whose peer sits in the switch namespace and is
a port of the bridge. Nothing is created in the root namespace: the veth
pair is made inside the switch namespace with its host end placed directly
in the host namespace. Addresses come only from 192.0.2.0/24 and
2001:db8::/64 and there is no default route, so no test traffic can leave.

Every namespace name starts with a per-run prefix `vt<pid % 10000>` that is
registered with the owning pid in REGISTRY; sweep_stale() removes the
namespaces (and the processes inside them) of runs whose owner is gone.
A Lab always cleans up: Lab.cleanup() from the pytest fixture, and an
atexit handler for anything still alive when the interpreter exits.
"""

import atexit
import contextlib
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

from netns import (NO_DAD, NO_IPV6, NS_RE, TMPROOT, bridge_add, delete_ns,  # noqa: E402
                   mdi_ms, netns_add, ns_list, ns_pids, packet_drops, packet_ts, pid_alive,
                   plug, proc_comm, registry_owner, run_prefix, sh, skew_ms, tail,
                   vrrp_packet_socket, wait_until)
from netns import sweep_stale  # noqa: E402,F401 - conftest.py calls lab.sweep_stale
BUILD = os.environ.get("VIPD_BUILD") or os.path.join(REPO, "build")
VIPD = os.path.join(BUILD, "vipd")
VIPCTL = os.path.join(BUILD, "vipctl")
PYTHON = "/usr/bin/python3"
CRAFT = os.path.join(HERE, "craft.py")

def vipd_sanitized():
    """Whether VIPD is an ASan build (slower, and its memory is not vipd's)."""
    p = subprocess.run(["ldd", VIPD], capture_output=True, text=True)
    return "libasan" in p.stdout


SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                      "ERROR: UndefinedBehaviorSanitizer")

V4_NET = ipaddress.ip_network("192.0.2.0/24")
V6_NET = ipaddress.ip_network("2001:db8::/64")


# --------------------------------------------------------------------------
# small helpers

def stays(pred, duration, interval=0.05, what=None):
    """Assert pred() stays true for `duration` seconds."""
    end = time.monotonic() + duration
    while time.monotonic() < end:
        assert pred(), "condition no longer holds: %s" % (what or pred)
        time.sleep(interval)


def skew_s(prio, interval_ms):
    """RFC 5798 Skew_Time in seconds (interval in centiseconds on the wire)."""
    return skew_ms(prio, interval_ms) / 1000.0


def mdi_s(prio, interval_ms):
    """Master_Down_Interval in seconds."""
    return mdi_ms(prio, interval_ms) / 1000.0


# --------------------------------------------------------------------------
# packet capture

class Capture:
    """tcpdump in a namespace writing a pcap; analyse with tshark afterwards."""

    def __init__(self, ns, iface, bpf, path):
        self.ns, self.iface, self.bpf, self.path = ns, iface, bpf, path
        self.proc = None
        self._err = path + ".err"

    def start(self):
        cmd = ["ip", "netns", "exec", self.ns, "tcpdump", "-i", self.iface, "-n", "-U",
               "--immediate-mode", "-s", "0", "-Z", "root", "-w", self.path]
        if self.bpf:
            cmd += shlex.split(self.bpf)
        with open(self._err, "w") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        wait_until(self._listening, 10, what="tcpdump to start on %s:%s" % (self.ns, self.iface))
        time.sleep(0.05)
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError("tcpdump exited: %s" % tail(self._err))
        with open(self._err) as f:
            return "listening on" in f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            time.sleep(0.05)
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def fields(self, fields, dfilter=None, prefs=()):
        """Rows (lists of strings, one per field) from tshark -T fields."""
        cmd = ["tshark", "-n", "-r", self.path, "-T", "fields", "-E", "separator=|",
               "-E", "occurrence=a", "-E", "aggregator=,"]
        for p in prefs:
            cmd += ["-o", p]
        if dfilter:
            cmd += ["-Y", dfilter]
        for f in fields:
            cmd += ["-e", f]
        p = sh(cmd, timeout=60)
        rows = []
        for line in p.stdout.splitlines():
            rows.append(line.split("|"))
        return rows

    def records(self, fields, dfilter=None, prefs=()):
        """Like fields() but each row as a dict keyed by field name."""
        return [dict(zip(fields, r)) for r in self.fields(fields, dfilter, prefs)]

    VRRP_FIELDS = ("frame.time_epoch", "eth.src", "eth.dst", "ip.src", "ip.dst", "ip.ttl",
                   "ipv6.src", "ipv6.dst", "ipv6.hlim", "vrrp.version", "vrrp.type",
                   "vrrp.virt_rtr_id", "vrrp.prio", "vrrp.addr_count", "vrrp.short_adver_int",
                   "vrrp.checksum.status", "vrrp.ip_addr", "vrrp.ipv6_addr")

    def vrrp(self, prefs=()):
        """Every VRRP packet as a dict: t (float), src, dst, ttl, prio (int)..."""
        out = []
        for r in self.records(self.VRRP_FIELDS, "vrrp", prefs):
            v6 = bool(r["ipv6.src"])
            out.append({
                "t": float(r["frame.time_epoch"]),
                "eth_src": r["eth.src"], "eth_dst": r["eth.dst"],
                "src": r["ipv6.src"] if v6 else r["ip.src"],
                "dst": r["ipv6.dst"] if v6 else r["ip.dst"],
                "ttl": int(r["ipv6.hlim"] if v6 else r["ip.ttl"]),
                "version": int(r["vrrp.version"]), "type": int(r["vrrp.type"]),
                "vrid": int(r["vrrp.virt_rtr_id"]), "prio": int(r["vrrp.prio"]),
                "count": int(r["vrrp.addr_count"]),
                "interval_cs": int(r["vrrp.short_adver_int"] or -1),
                "cksum": {"0": "bad", "1": "good"}.get(r["vrrp.checksum.status"],
                                                       r["vrrp.checksum.status"]),
                "addrs": [a for a in (r["vrrp.ipv6_addr"] if v6 else r["vrrp.ip_addr"])
                          .split(",") if a],
            })
        return out


# --------------------------------------------------------------------------
# namespaces

class Namespace:
    def __init__(self, lab, name, sysctls=()):
        self.lab = lab
        self.name = name  # short name (h1, sw)
        self.ns = "%s-%s" % (lab.prefix, name)
        netns_add(self.ns, sysctls)
        self.dir = os.path.join(lab.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self._captures = []

    def run(self, cmd, check=True, timeout=20, input=None):
        """Run cmd (list, or string via sh -c) inside the namespace."""
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        return sh(["ip", "netns", "exec", self.ns] + list(cmd), check=check, timeout=timeout,
                  input=input)

    def ip(self, *args, check=True):
        return sh(["ip", "-n", self.ns] + list(args), check=check)

    def sysctl(self, *assignments):
        self.run(["sysctl", "-q", "-w"] + list(assignments))

    @contextlib.contextmanager
    def capture(self, bpf="", iface=None, name=None):
        """Capture on iface (eth0 / br0) while the with-block runs."""
        iface = iface or self.default_iface
        self.lab._ncap += 1
        path = os.path.join(self.dir, "%s-%d.pcap" % (name or "cap", self.lab._ncap))
        cap = Capture(self.ns, iface, bpf, path).start()
        self._captures.append(cap)
        try:
            yield cap
        finally:
            cap.stop()

    def stop_captures(self):
        for c in self._captures:
            c.stop()


class Switch(Namespace):
    default_iface = "br0"

    def __init__(self, lab):
        super().__init__(lab, "sw", NO_IPV6)
        bridge_add(self.ns)


class Host(Namespace):
    default_iface = "eth0"

    def __init__(self, lab, name, ip4, ip6):
        super().__init__(lab, name, NO_DAD)
        self.ip4, self.ip6 = ip4, ip6
        self.port = name  # the switch-side end of our veth
        self.vipd = None
        self.vipd_starts = 0
        self.vipd_rc = None
        self.keepalived = None
        self.ka_starts = 0
        self.conf_path = os.path.join(self.dir, "vipd.conf")
        self.pidfile = os.path.join(self.dir, "vipd.pid")
        self.sock = os.path.join(self.dir, "vipd.sock")
        self.log = os.path.join(self.dir, "vipd.log")
        self.ka_conf = os.path.join(self.dir, "keepalived.conf")
        self.ka_log = os.path.join(self.dir, "keepalived.log")
        self.expected_exit = set()  # pids we killed on purpose
        self.sanitizer_reported = False  # already failed a test with it

        plug(lab.switch.ns, self.port, self.ns)
        self.ip("link", "set", "eth0", "up")
        self.ip("addr", "add", "%s/24" % ip4, "dev", "eth0")
        self.ip("-6", "addr", "add", "%s/64" % ip6, "dev", "eth0", "nodad")
        self.mac = json.loads(self.ip("-j", "link", "show", "eth0").stdout)[0]["address"]
        self.lladdr = None
        wait_until(self._ll_ready, 10, what="%s link-local address" % name)

    def __repr__(self):
        return "<Host %s %s>" % (self.name, self.ip4)

    def _ll_ready(self):
        for a in self.addrs(family="inet6", raw=True):
            if a.get("scope") == "link" and not a.get("tentative"):
                self.lladdr = a["local"]
                return True
        return False

    # ---------------------------------------------------------------- addresses
    def addrs(self, dev="eth0", family=None, raw=False):
        args = ["-j"]
        if family == "inet":
            args.append("-4")
        elif family == "inet6":
            args.append("-6")
        p = self.ip(*args, "addr", "show", "dev", dev, check=False)
        if p.returncode != 0 or not p.stdout.strip():
            return []
        out = []
        for link in json.loads(p.stdout):
            for a in link.get("addr_info", []):
                out.append(a if raw else "%s/%s" % (a["local"], a["prefixlen"]))
        return out

    def has_addr(self, addr, dev="eth0"):
        want = ipaddress.ip_address(addr.split("/")[0])
        for a in self.addrs(dev=dev):
            if ipaddress.ip_address(a.split("/")[0]) == want:
                return True
        return False

    def link_down(self):
        self.ip("link", "set", "eth0", "down")

    def link_up(self):
        self.ip("link", "set", "eth0", "up")

    # ---------------------------------------------------------------- vipd
    def write_conf(self, conf_text, log_level="info"):
        """Write h.conf_path: conf_text with our pidfile, socket and log level in
        [global]. Returns the text written (for line numbers)."""
        glob = vipd_global(self.pidfile, self.sock, log_level)
        if re.search(r"^\s*\[global\]", conf_text, re.M):
            text = re.sub(r"^(\s*\[global\][^\n]*\n)", lambda m: m.group(1) + glob, conf_text,
                          count=1, flags=re.M)
        else:
            text = "[global]\n" + glob + "\n" + conf_text
        with open(self.conf_path, "w") as f:
            f.write(text)
        return text

    def start_vipd(self, conf_text, log_level="info", wait=True, extra_args=(), env=None,
                   wrap=()):
        """Write the config (pidfile / socket in our tmp dir) and start vipd -n;
        env: variables added to (or, with None values, removed from) ours;
        wrap: a command vipd runs under, inside the namespace (setpriv ...)."""
        assert self.vipd is None or self.vipd.poll() is not None, "vipd already running"
        self.write_conf(conf_text, log_level)
        self.vipd_starts += 1
        with open(self.log, "a") as log:
            log.write("=== test: vipd start #%d at %s\n" % (self.vipd_starts, time.strftime("%T")))
            log.flush()
            self.vipd = subprocess.Popen(
                ["ip", "netns", "exec", self.ns] + list(wrap) + [VIPD, "-n", "-f", self.conf_path]
                + list(extra_args), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True, env=child_env(env))
        self.vipd_rc = None
        if wait:
            wait_until(self._vipd_ready, 15, what="vipd on %s to answer on its control socket"
                       % self.name)
        return self.vipd

    def _vipd_ready(self):
        if self.vipd.poll() is not None:
            raise AssertionError("vipd on %s exited with %s at start:\n%s" % (
                self.name, self.vipd.returncode, tail(self.log, 20)))
        return self.vipctl("status", "--json", check=False).returncode == 0

    def vipd_running(self):
        return self.vipd is not None and self.vipd.poll() is None

    def vipctl(self, *args, check=True, sock=None):
        return self.run([VIPCTL, "-S", sock or self.sock] + list(args), check=check)

    def status(self):
        """`vipctl status --json` parsed."""
        p = self.vipctl("status", "--json")
        return json.loads(p.stdout)

    def inst(self, name=None):
        """One instance's status object (the only one, or by name)."""
        insts = self.status()["instances"]
        if name is None:
            assert len(insts) == 1, "expected one instance, got %r" % insts
            return insts[0]
        for i in insts:
            if i["name"] == name:
                return i
        raise KeyError(name)

    def state(self, name=None):
        return self.inst(name)["state"]

    def stop_vipd(self, sig=signal.SIGTERM, timeout=10):
        """Signal vipd and return its exit code (negative = killed by signal)."""
        p = self.vipd
        assert p is not None, "vipd was never started on %s" % self.name
        if p.poll() is None:
            if sig == signal.SIGKILL:
                self.expected_exit.add(p.pid)
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.expected_exit.add(p.pid)
                p.kill()
                p.wait(5)
                raise AssertionError("vipd on %s did not exit within %ss of signal %s"
                                     % (self.name, timeout, sig))
        self.vipd_rc = p.returncode
        self.check_sanitizers()
        return p.returncode

    def kill9(self):
        return self.stop_vipd(signal.SIGKILL)

    def sanitizer_report(self):
        try:
            with open(self.log, errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        for pat in SANITIZER_PATTERNS:
            i = text.find(pat)
            if i >= 0:
                return text[max(0, i - 200):i + 3000]
        return None

    def check_sanitizers(self):
        rep = self.sanitizer_report()
        self.sanitizer_reported = rep is not None
        assert rep is None, "sanitizer error in vipd on %s:\n%s" % (self.name, rep)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def log_time(self, needle):
        """Seconds since midnight of the last vipd log line containing needle
        (its HH:MM:SS.mmm stamp): how long something took inside vipd,
        without the process start-up a sanitizer build makes slow."""
        t = None
        for line in self.log_text().splitlines():
            if needle in line and len(line) > 12 and line[2] == ":" and line[8] == ".":
                h, m, s = line[:12].split(":")
                t = int(h) * 3600 + int(m) * 60 + float(s)
        assert t is not None, "no log line with %r in %s" % (needle, self.log)
        return t

    # ---------------------------------------------------------------- keepalived
    def start_keepalived(self, conf_text):
        assert self.keepalived is None or self.keepalived.poll() is not None
        with open(self.ka_conf, "w") as f:
            f.write(conf_text)
        self.ka_starts += 1
        d = self.dir
        with open(self.ka_log, "a") as log:
            log.write("=== test: keepalived start #%d at %s\n" % (self.ka_starts,
                                                               time.strftime("%T")))
            log.flush()
            self.keepalived = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "keepalived", "-n", "-l", "-D", "-G", "-P",
                 "-f", self.ka_conf, "-i", "%s-%s" % (self.lab.prefix, self.name),
                 "-p", os.path.join(d, "keepalived.pid"),
                 "-r", os.path.join(d, "keepalived-vrrp.pid"),
                 "-c", os.path.join(d, "keepalived-check.pid"),
                 "-b", os.path.join(d, "keepalived-bfd.pid")],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.2)
        assert self.keepalived.poll() is None, "keepalived on %s exited at start:\n%s" % (
            self.name, tail(self.ka_log, 30))
        return self.keepalived

    def stop_keepalived(self, timeout=10):
        p = self.keepalived
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        # the VRRP child may outlive the parent for a moment
        wait_until(lambda: not [x for x in ns_pids(self.ns) if _comm(x) == "keepalived"], 10,
                   what="keepalived children on %s to exit" % self.name)
        return p.returncode

    # ---------------------------------------------------------------- crafting
    def craft(self, **spec):
        """Send hand-made VRRP packets from this host (see craft.py)."""
        spec.setdefault("iface", "eth0")
        p = self.run([PYTHON, CRAFT, json.dumps(spec)], timeout=30)
        return p.stdout

    # ---------------------------------------------------------------- cleanup
    def teardown(self):
        """Stop daemons; returns a list of problems (strings)."""
        problems = []
        self.stop_captures()
        if self.vipd is not None:
            p = self.vipd
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                    if p.returncode != 0:
                        problems.append("vipd on %s exited with %s on SIGTERM at teardown"
                                        % (self.name, p.returncode))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
                    problems.append("vipd on %s ignored SIGTERM for 10 s" % self.name)
            elif p.pid not in self.expected_exit and self.vipd_rc is None:
                problems.append("vipd on %s exited by itself with %s" % (self.name, p.returncode))
            rep = self.sanitizer_report()
            if rep and not self.sanitizer_reported:
                problems.append("sanitizer error in vipd on %s:\n%s" % (self.name, rep))
        if self.keepalived is not None:
            with contextlib.suppress(Exception):
                self.stop_keepalived()
        return problems


def _comm(pid):
    return proc_comm(pid) or ""


# --------------------------------------------------------------------------
# the lab

_LIVE_LABS = set()
_lab_counter = 0


class Lab:
    def __init__(self, testname="lab"):
        global _lab_counter
        _lab_counter += 1
        self.prefix = "%s-%d" % (run_prefix(), _lab_counter)
        self._ncap = 0
        self.hosts = []
        self.cleaned = False
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", testname)[:60]
        base = os.path.join(TMPROOT, run_prefix())
        os.makedirs(base, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="%d-%s-" % (_lab_counter, safe), dir=base)
        _LIVE_LABS.add(self)
        try:
            self.switch = Switch(self)
        except Exception:
            self.cleanup()
            raise

    def add_host(self, name=None, ip4=None, ip6=None):
        """A host on the switch; hN gets 192.0.2.(10+N) and 2001:db8::(10+N)."""
        n = len(self.hosts) + 1
        name = name or "h%d" % n
        ip4 = ip4 or "192.0.2.%d" % (10 + n)
        ip6 = ip6 or "2001:db8::%d" % (10 + n)
        assert ipaddress.ip_address(ip4) in V4_NET and ipaddress.ip_address(ip6) in V6_NET
        h = Host(self, name, ip4, ip6)
        self.hosts.append(h)
        return h

    def add_hosts(self, n):
        return [self.add_host() for _ in range(n)]

    def host(self, name):
        return next(h for h in self.hosts if h.name == name)

    # The "cable" of a host: its switch-side veth end.
    def cut_link(self, host):
        self.switch.ip("link", "set", host.port, "down")

    def restore_link(self, host):
        self.switch.ip("link", "set", host.port, "up")

    # Partition without carrier loss: the bridge port stops forwarding.
    def partition(self, host):
        sh(["bridge", "-n", self.switch.ns, "link", "set", "dev", host.port, "state", "0"])

    def heal(self, host):
        sh(["bridge", "-n", self.switch.ns, "link", "set", "dev", host.port, "state", "3"])

    def holders(self, addr):
        return [h for h in self.hosts if h.has_addr(addr)]

    def describe(self):
        """Logs and state of every host, for failure reports."""
        out = ["lab %s, files in %s" % (self.prefix, self.dir)]
        for h in self.hosts:
            out.append("----- %s (%s, %s, ll %s, mac %s)" % (h.name, h.ip4, h.ip6, h.lladdr, h.mac))
            if not self.cleaned:
                with contextlib.suppress(Exception):
                    out.append("eth0: " + " ".join(h.addrs()))
                if h.vipd_running():
                    with contextlib.suppress(Exception):
                        out.append("status: " + json.dumps(h.status()))
            if h.vipd_starts:
                out.append("vipd log tail:\n" + tail(h.log, 40))
            if h.ka_starts:
                out.append("keepalived log tail:\n" + tail(h.ka_log, 30))
        return "\n".join(out)

    def cleanup(self):
        """Stop everything and delete our namespaces; returns problems found."""
        if self.cleaned:
            return []
        problems = []
        for h in self.hosts:
            try:
                problems += h.teardown()
            except Exception as e:  # noqa: BLE001 - keep cleaning
                problems.append("teardown of %s: %r" % (h.name, e))
        for ns in ns_list():
            if ns.startswith(self.prefix + "-"):
                delete_ns(ns)
        self.cleaned = True
        _LIVE_LABS.discard(self)
        return problems

    def remove_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@atexit.register
def _cleanup_all():
    for lab in list(_LIVE_LABS):
        with contextlib.suppress(Exception):
            lab.cleanup()


# --------------------------------------------------------------------------
# configs

def vipd_global(pidfile, sock, log_level="info"):
    """The lines of a [global] section that keep a vipd to its own files
    (the state directory, for drained instances, is the pidfile's)."""
    return "pidfile = %s\ncontrol_socket = %s\nlog_level = %s\nstate_dir = %s\n" % (
        pidfile, sock, log_level, os.path.dirname(pidfile))


def vipd_instance(name="VI_1", iface="eth0", vrid=51, priority=100, interval="100ms",
                  vips=("192.0.2.100/24",), **opts):
    """One [instance] section; extra options as keyword args (lists repeat)."""
    lines = ["[instance %s]" % name, "interface = %s" % iface, "vrid = %d" % vrid,
             "priority = %d" % priority, "advert_interval = %s" % interval]
    for v in vips:
        lines.append("virtual_ip = %s" % v)
    for k, v in opts.items():
        if isinstance(v, bool):
            v = "yes" if v else "no"
        if isinstance(v, (list, tuple)):
            for x in v:
                lines.append("%s = %s" % (k, x))
        else:
            lines.append("%s = %s" % (k, v))
    return "\n".join(lines) + "\n"


def keepalived_instance(name="VI_1", iface="eth0", vrid=51, priority=100, advert_int="0.1",
                        vips=("192.0.2.100/24",), state="BACKUP", before_vips="", extra=""):
    """One vrrp_instance block; before_vips and extra are lines of its own."""
    return """vrrp_instance %s {
    state %s
    interface %s
    virtual_router_id %d
    priority %d
    advert_int %s
%s    virtual_ipaddress {
%s    }
%s}
""" % (name, state, iface, vrid, priority, advert_int, before_vips,
       "".join("        %s\n" % v for v in vips), extra)


def keepalived_conf(name="VI_1", iface="eth0", vrid=51, priority=100, advert_int="0.1",
                    vips=("192.0.2.100/24",), unicast_src=None, unicast_peers=(),
                    state="BACKUP", router_id="ka", extra=""):
    peers = ""
    if unicast_peers:
        peers = "    unicast_src_ip %s\n    unicast_peer {\n%s    }\n" % (
            unicast_src, "".join("        %s\n" % p for p in unicast_peers))
    return """global_defs {
    router_id %s
    vrrp_version 3
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 1
    enable_script_security
}
""" % router_id + keepalived_instance(name, iface, vrid, priority, advert_int, vips, state,
                                      peers, extra)


# --------------------------------------------------------------------------
# steady states

def converged(master, backups, vip, holder_check=True):
    """True when master is MASTER holding vip and every backup is BACKUP without it."""
    if master.state() != "MASTER":
        return False
    if any(b.state() != "BACKUP" for b in backups):
        return False
    if holder_check:
        if not master.has_addr(vip):
            return False
        if any(b.has_addr(vip) for b in backups):
            return False
    return True


def wait_converged(master, backups, vip, timeout=5.0, hold=0.0):
    """Wait until converged(); then (hold > 0) check it stays so."""
    what = "%s MASTER with %s, %s BACKUP" % (master.name, vip, [b.name for b in backups])
    t = wait_until(lambda: converged(master, backups, vip), timeout, what=what)
    if hold:
        stays(lambda: converged(master, backups, vip), hold, what=what)
    return t


def first(seq, pred, default=None):
    return next((x for x in seq if pred(x)), default)


# --------------------------------------------------------------------------
# many instances (test_scale.py)

SCALE_V4_POOL = tuple("198.51.100.%d" % i for i in range(1, 255)) + tuple(
    "203.0.113.%d" % i for i in range(1, 255))


def scale_vip(i, family=4):
    """The i-th (0-based) VIP of a many-instance test, without a prefix (so
    /32 or /128): 198.51.100.1-254 then 203.0.113.1-254 (508 IPv4), or
    2001:db8::1:<i+1 in hex>. Documentation ranges only, never a host's own
    address (those are 192.0.2.11...)."""
    if family == 6:
        return "2001:db8::1:%x" % (i + 1)
    if not 0 <= i < len(SCALE_V4_POOL):
        raise ValueError("no IPv4 scale VIP number %d (0..%d)" % (i, len(SCALE_V4_POOL) - 1))
    return SCALE_V4_POOL[i]


def exit_status_text(rc):
    """A Popen returncode in words; a death by SIGXCPU (RLIMIT_RTTIME, the
    real-time guard) is named as such."""
    if rc is None:
        return "still running"
    if rc >= 0:
        return "exit status %d" % rc
    sig = -rc
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = "unknown signal"
    text = "killed by signal %d (%s)" % (sig, name)
    if sig == signal.SIGXCPU:
        text += ": the kernel's RLIMIT_RTTIME limit (vipd's real-time guard) killed it for " \
                "running SCHED_RR too long without sleeping"
    return text


def vipd_death(host):
    """None while host's vipd runs (or was never started); else what ended
    it, e.g. "vipd on h1 is not running: killed by signal 24 (SIGXCPU)...".
    Marks the exit as reported, so the teardown does not report it again."""
    p = host.vipd
    if p is None or p.poll() is None:
        return None
    if host.vipd_rc is None:
        host.vipd_rc = p.returncode
    return "vipd on %s is not running: %s\nlog tail:\n%s" % (
        host.name, exit_status_text(p.returncode), tail(host.log, 15))


def assert_vipd_alive(hosts):
    dead = [d for d in (vipd_death(h) for h in hosts) if d]
    assert not dead, "\n".join(dead)


def addr_set(host, dev="eth0"):
    """Every address on host's dev as a set of ipaddress objects (one `ip` call)."""
    return {ipaddress.ip_address(a.split("/")[0]) for a in host.addrs(dev=dev)}


def wait_alive_until(pred, timeout, hosts, interval=0.02, what=None):
    """wait_until(pred), but fail at once, with the exit status, as soon as
    vipd is no longer running on one of hosts. Returns seconds waited."""
    start = time.monotonic()
    while True:
        assert_vipd_alive(hosts)
        try:
            if pred():
                return time.monotonic() - start
            last = None
        except Exception as e:  # noqa: BLE001 - not yet
            last = e
        if time.monotonic() - start >= timeout:
            assert_vipd_alive(hosts)
            raise AssertionError("timed out after %.2fs waiting for %s%s" % (
                timeout, what or getattr(pred, "__name__", pred),
                " (last error: %r)" % (last,) if last is not None else ""))
        time.sleep(interval)


# ==========================================================================
# Health-check lab (test_checks*.py): services inside the hosts (HAProxy,
# PostgreSQL, an HTTP stand-in for Patroni, servers that never answer), a
# second interface per host, and an advert sniffer with kernel timestamps.
#
# Files the services need go under VARROOT, not /tmp: vipd refuses scripts in
# writable directories, the `postgres` user cannot enter the lab's 0700 tmp
# dir, and unix socket paths must stay short. Every directory there is root
# owned, mode 0755; a lab's dir is removed with its files (kept on failure
# like the tmp files, swept at the next run once its owner is gone).

VARROOT = "/var/lib/vipd-test"
PGBIN = "/usr/lib/postgresql/15/bin"
HAPROXY = "/usr/sbin/haproxy"


def sweep_stale_vardirs():
    """Remove VARROOT dirs of runs whose owner is gone (after sweep_stale)."""
    if not os.path.isdir(VARROOT):
        return []
    gone = []
    for d in os.listdir(VARROOT):
        m = NS_RE.match(d)
        if not m:
            continue
        owner = registry_owner(m.group(1))
        if owner is None or not pid_alive(owner):
            _kill_procs_under(os.path.join(VARROOT, d))
            shutil.rmtree(os.path.join(VARROOT, d), ignore_errors=True)
            gone.append(d)
    return gone


def _kill_procs_under(path):
    """SIGKILL processes whose cwd or command line lies under path (leftover postgres)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().decode(errors="replace")
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if path in cmd or cwd.startswith(path):
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGCONT)
                os.kill(int(pid), signal.SIGKILL)


def _mkdir_root(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, 0, 0)
    os.chmod(path, mode)
    return path


def child_env(extra):
    """Our environment with extra's variables set (None: removed), or None for ours as is."""
    if not extra:
        return None
    env = dict(os.environ)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def ns_exec(ns, argv, user=None):
    """argv run inside namespace ns, optionally as user (runuser)."""
    argv = list(argv)
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    return ["ip", "netns", "exec", ns] + argv


def write_file(path, text, mode=None):
    """Write text to path atomically (a temporary file renamed over it)."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(tmp, mode)
    os.rename(tmp, path)


def check_section(name, type, /, **opts):
    """One [check NAME] section; options as keyword args (lists repeat)."""
    lines = ["[check %s]" % name, "type = %s" % type]
    for k, v in opts.items():
        if isinstance(v, bool):
            v = "yes" if v else "no"
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            lines.append("%s = %s" % (k, x))
    return "\n".join(lines) + "\n"


def checks_conf(*sections, script_user="root"):
    """A config: [global] script_user (None: left out), then the given sections."""
    glob = "script_user = %s\n" % script_user if script_user else ""
    return "[global]\n%s\n" % glob + "\n".join(sections)


def check_of(host, name):
    """The `checks[]` object named name from host's status."""
    for c in host.status().get("checks", []):
        if c["name"] == name:
            return c
    raise KeyError("no check %r in %s's status" % (name, host.name))


def track_of(inst, check):
    for t in inst.get("tracks", []):
        if t["check"] == check:
            return t
    raise KeyError("no track of %r in %r" % (check, inst))


def track_if_of(inst, ifname):
    for t in inst.get("track_interfaces", []):
        if t["interface"] == ifname:
            return t
    raise KeyError("no track_interface %r in %r" % (ifname, inst))


class Service:
    """A background process in a host's namespace (own session, own log)."""

    def __init__(self, host, name, argv, user=None, cwd=None):
        self.host, self.name, self.argv, self.user = host, name, list(argv), user
        self.cwd = cwd or "/"
        self.log = os.path.join(host.dir, "%s.log" % name)
        self.proc = None

    def start(self):
        with open(self.log, "a") as log:
            log.write("=== test: start %s at %s\n" % (shlex.join(self.argv), time.strftime("%T")))
            self.log_offset = log.tell()
            log.flush()
            self.proc = subprocess.Popen(ns_exec(self.host.ns, self.argv, self.user),
                                         stdout=log, stderr=log, stdin=subprocess.PIPE,
                                         cwd=self.cwd, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout=5):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def log_text(self):
        return tail(self.log, 10 ** 6)


class Helper(Service):
    """This file run as a helper program (see _helper_main) in a namespace."""

    def __init__(self, host, name, *args):
        super().__init__(host, name, [PYTHON, os.path.abspath(__file__), "helper"]
                         + [str(a) for a in args])

    def start(self, ready_timeout=10):
        super().start()
        wait_until(self._ready, ready_timeout, what="helper %s on %s" % (self.name,
                                                                          self.host.name))
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("helper %s exited: %s" % (self.name, tail(self.log, 20)))
        with open(self.log, errors="replace") as f:
            f.seek(self.log_offset)
            return "READY" in f.read()


class HttpStandIn(Helper):
    """Patroni REST API stand-in on 127.0.0.1:port in a host's namespace.

    set(path, status, body): status is an int, or "hang" (accept, read the
    request, never answer). The server reads the control file on every
    request, so a change applies to the next check run. requests() lists
    (method, path) of every request served."""

    def __init__(self, lab, host, port=8008, addr="127.0.0.1"):
        d = lab.hostdir(host)
        self.control = os.path.join(d, "http-%d.json" % port)
        self.reqlog = os.path.join(d, "http-%d.requests" % port)
        self.routes = {}
        write_file(self.control, "{}")
        super().__init__(host, "http-%d" % port, "http", addr, port, self.control, self.reqlog)
        self.addr, self.port = addr, port

    def set(self, path, status, body=None):
        self.routes[path] = {"status": status, "body": body}
        write_file(self.control, json.dumps(self.routes))

    def requests(self):
        try:
            with open(self.reqlog) as f:
                return [tuple(line.split()[:2]) for line in f if line.strip()]
        except OSError:
            return []


class HAProxy:
    """Debian's haproxy in a host's namespace: stats socket, a monitor-uri
    HTTP frontend on 127.0.0.1:8404 (/health: 200, or 503 while backend `pg`
    has no UP server), and a TCP frontend :5000 whose backend `pg` points at
    127.0.0.1:backend_port (checked every 100 ms).

    It runs in the foreground as our child (so a killed haproxy is reaped at
    once, not seconds later by this container's init) and the test writes
    its pidfile, as systemd would."""

    def __init__(self, lab, host, backend_port=5433):
        self.host = host
        d = lab.hostdir(host)
        self.cfg = os.path.join(d, "haproxy.cfg")
        self.pidfile = os.path.join(d, "haproxy.pid")
        self.sock = os.path.join(d, "admin.sock")
        self.log = os.path.join(host.dir, "haproxy.log")
        self.backend_port = backend_port
        self.svc = None

    def config(self):
        return """global
    nbthread 1
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend health
    bind 127.0.0.1:8404
    mode http
    monitor-uri /health
    monitor fail if { nbsrv(pg) lt 1 }
frontend pg_rw
    bind 127.0.0.1:5000
    default_backend pg
backend pg
    server local 127.0.0.1:%d check inter 100ms fall 1 rise 1
""" % (self.sock, self.backend_port)

    def start(self):
        assert not self.alive(), "haproxy already running on %s" % self.host.name
        with open(self.cfg, "w") as f:
            f.write(self.config())
        self.svc = Service(self.host, "haproxy", [HAPROXY, "-db", "-f", self.cfg]).start()
        write_file(self.pidfile, "%d\n" % self.svc.pid)
        wait_until(self.answers, 10, what="haproxy on %s to answer" % self.host.name)
        return self

    def pid(self):
        return self.svc.pid if self.svc else None

    def alive(self):
        return self.svc is not None and self.svc.alive()

    def answers(self):
        """True when /health on the monitor-uri frontend answers 200."""
        if not self.alive():
            raise RuntimeError("haproxy on %s exited:\n%s" % (self.host.name, tail(self.log, 20)))
        p = self.host.run([PYTHON, "-c", "import urllib.request,sys;"
                           "sys.exit(urllib.request.urlopen('http://127.0.0.1:8404/health',"
                           "timeout=1).status!=200)"], check=False)
        return p.returncode == 0

    def stats(self, cmd="show info"):
        p = self.host.run([PYTHON, "-c", "import socket,sys;s=socket.socket(socket.AF_UNIX);"
                           "s.connect(sys.argv[1]);s.sendall(sys.argv[2].encode()+b'\\n');"
                           "print(b''.join(iter(lambda:s.recv(4096),b'')).decode())",
                           self.sock, cmd])
        return p.stdout

    def kill(self, sig=signal.SIGKILL):
        """Signal haproxy; SIGKILL / SIGTERM also reap it (the pidfile stays, stale)."""
        if self.alive():
            self.svc.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.svc.proc.wait(5)

    def stop(self):
        if self.svc:
            self.svc.stop()


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


class Postgres:
    """A PostgreSQL 15 server in a host's namespace, run as user postgres.

    Listens on the host's eth0 address (and 127.0.0.1) port 5432 and on a
    unix socket in `sockdir`. Small and unsafe on purpose (fsync off) so it
    starts in well under a second."""

    CONF = """
shared_buffers = 16MB
max_connections = 30
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 5
wal_keep_size = 64MB
hot_standby = on
dynamic_shared_memory_type = mmap
logging_collector = off
log_min_messages = warning
log_connections = off
"""

    def __init__(self, lab, host, name="pg", port=5432):
        self.lab, self.host, self.name, self.port = lab, host, name, port
        self.base = os.path.join(lab.hostdir(host), name)
        os.makedirs(self.base, exist_ok=True)
        pw = _pw("postgres")
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o755)
        self.data = os.path.join(self.base, "data")
        self.sockdir = self.base
        self.log = os.path.join(self.base, "postgres.log")
        self.started = False

    def _pg(self, argv, timeout=60, check=True):
        p = subprocess.run(ns_exec(self.host.ns, argv, "postgres"), capture_output=True,
                           text=True, timeout=timeout, cwd=self.base,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d) on %s:\n%s%s\n%s" % (
                shlex.join(argv), p.returncode, self.host.name, p.stdout, p.stderr,
                tail(self.log, 30)))
        return p

    def initdb(self):
        self._pg([PGBIN + "/initdb", "-N", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "-D", self.data])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(self.CONF)
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            f.write("host all all 192.0.2.0/24 trust\n"
                    "host replication all 192.0.2.0/24 trust\n")
        return self

    def basebackup(self, primary):
        """A streaming standby of primary, cloned over the lab network."""
        self._pg([PGBIN + "/pg_basebackup", "-h", primary.host.ip4, "-p", str(primary.port),
                  "-U", "postgres", "-D", self.data, "-R", "-X", "stream",
                  "--checkpoint=fast", "--no-sync"])
        return self

    def start(self, listen=None):
        """listen: listen_addresses instead of the host's address and 127.0.0.1
        ("*" also answers on a VIP the host holds later)."""
        opts = "-c listen_addresses='%s' -p %d -k %s" % (
            listen or "%s,127.0.0.1" % self.host.ip4, self.port, self.sockdir)
        self._pg([PGBIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                  "-o", opts, "start"], timeout=90)
        self.started = True
        return self

    def stop(self, mode="fast"):
        self.resume()
        self._pg([PGBIN + "/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop"],
                 timeout=60, check=False)
        self.started = False

    def sql(self, query, timeout=20):
        """Run one query through the unix socket; its output (-At)."""
        p = self._pg([PGBIN + "/psql", "-X", "-h", self.sockdir, "-p", str(self.port), "-U",
                      "postgres", "-d", "postgres", "-Atc", query], timeout=timeout)
        return p.stdout.strip()

    def in_recovery(self):
        return self.sql("SELECT pg_is_in_recovery()") == "t"

    def promote(self):
        assert self.sql("SELECT pg_promote(true, 30)") == "t"

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def pids(self):
        """The postmaster and its children."""
        pm = self.postmaster_pid()
        if pm is None:
            return []
        out = [pm]
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == pm:
                    out.append(int(pid))
        return out

    def suspend(self):
        """SIGSTOP the whole server: connections are accepted by the kernel, never answered."""
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self):
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)

    def kill(self):
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
        self.started = False


def _pw(user):
    import pwd
    return pwd.getpwnam(user)


class AdvertSniffer(Helper):
    """Kernel egress timestamps (AF_PACKET, PACKET_OUTGOING, SO_TIMESTAMPNS)
    of the VRRP adverts src sends out of iface, taken in src's own namespace;
    or, with incoming=True, the arrival timestamps of src's adverts at
    another host. It drains its socket twice a second only, so it adds no
    load per packet. stop() returns [(t_seconds, priority), ...] and the
    kernel drop count; self.adverts_ns keeps the times as the kernel gave
    them, integer ns."""

    def __init__(self, host, iface="eth0", src=None, incoming=False):
        way = "in" if incoming else "out"
        self.out = os.path.join(host.dir, "sniff-%s-%s.json" % (iface, way))
        super().__init__(host, "sniff-%s-%s" % (iface, way), "sniff", iface, src or host.ip4,
                         self.out, way)
        self.result = None

    def stop(self, timeout=20):
        if self.result is None and self.alive():
            self.proc.stdin.write(b"dump\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout)
            with open(self.out) as f:
                self.result = json.load(f)
            self.adverts_ns = self.result["adverts"]
            self.result["adverts"] = [(t // 1_000_000_000 + t % 1_000_000_000 / 1e9, prio)
                                      for t, prio in self.adverts_ns]
        super().stop()
        return self.result


class CheckLab(Lab):
    """A Lab whose hosts can run HAProxy, PostgreSQL and helper servers."""

    def __init__(self, testname="lab"):
        self.services = []  # stopped in reverse order before the namespaces go
        self._vardir = None
        super().__init__(testname)

    @property
    def vardir(self):
        if self._vardir is None:
            _mkdir_root(VARROOT)
            self._vardir = tempfile.mkdtemp(prefix=self.prefix + "-", dir=VARROOT)
            _mkdir_root(self._vardir)
        return self._vardir

    def hostdir(self, host):
        return _mkdir_root(os.path.join(self.vardir, host.name))

    def add_host(self, name=None, ip4=None, ip6=None):
        h = super().add_host(name, ip4, ip6)
        # a short control socket path whatever the test's name (sun_path: 108 bytes)
        h.sock = os.path.join(self.hostdir(h), "vipd.sock")
        return h

    def add(self, svc):
        self.services.append(svc)
        return svc

    def spawn(self, host, name, argv, user=None):
        return self.add(Service(host, name, argv, user=user).start())

    def helper(self, host, name, *args):
        return self.add(Helper(host, name, *args).start())

    def http_standin(self, host, port=8008):
        return self.add(HttpStandIn(self, host, port).start())

    def haproxy(self, host, **kw):
        return self.add(HAProxy(self, host, **kw)).start()

    def postgres(self, host, name="pg"):
        return self.add(Postgres(self, host, name))

    def sniffer(self, host, iface="eth0", src=None, incoming=False):
        return self.add(AdvertSniffer(host, iface, src, incoming).start())

    def stall_watch(self, host):
        return StallWatch(self, host).start()

    def add_iface(self, host, ifname="eth1"):
        """A second veth in host; its peer sits (up, unbridged) in the switch namespace."""
        peer = "%s-%s" % (host.name, ifname)
        self.switch.ip("link", "add", peer, "type", "veth", "peer", "name", ifname,
                       "netns", host.ns)
        self.switch.ip("link", "set", peer, "up")
        host.ip("link", "set", ifname, "up")
        wait_until(lambda: self.oper_up(host, ifname), 5, what="%s %s up" % (host.name, ifname))
        return peer

    @staticmethod
    def oper_up(host, ifname):
        return json.loads(host.ip("-j", "link", "show", ifname).stdout)[0]["operstate"] == "UP"

    def cleanup(self):
        if self.cleaned:
            return []
        for svc in reversed(self.services):
            with contextlib.suppress(Exception):
                if isinstance(svc, Postgres):
                    svc.kill()
                else:
                    svc.stop()
        problems = super().cleanup()
        if self._vardir:
            _kill_procs_under(self._vardir)
        return problems

    def describe(self):
        out = [super().describe()]
        for svc in self.services:
            log = getattr(svc, "log", None)
            if log and os.path.exists(log):
                out.append("----- %s on %s: %s tail:\n%s" % (
                    type(svc).__name__, svc.host.name, log, tail(log, 15)))
        return "\n".join(out)

    def remove_files(self):
        super().remove_files()
        if self._vardir:
            shutil.rmtree(self._vardir, ignore_errors=True)


def make_script(lab, host, name, body, mode=0o755):
    """A root-owned script (0755) in the host's root-owned 0755 var dir."""
    path = os.path.join(lab.hostdir(host), name)
    write_file(path, "#!/bin/sh\n" + body, mode)
    os.chown(path, 0, 0)
    return path


def read_lines(path):
    """The non-blank lines of a file a hook appends to; [] while it does not exist."""
    try:
        with open(path) as f:
            return [ln.rstrip("\n") for ln in f if ln.strip()]
    except FileNotFoundError:
        return []


def hooks_json(host):
    """`vipctl hooks --json` on host: the list of recorded hook runs."""
    return json.loads(host.vipctl("hooks", "--json").stdout)["hooks"]


def advert_gaps(ts):
    """Gaps (seconds) between consecutive timestamps."""
    return [b - a for a, b in zip(ts, ts[1:])]


def _clock(t):
    return "%s.%03d" % (time.strftime("%T", time.localtime(t)), int(t * 1000) % 1000)


def judge_advert_gaps(ts, interval, max_gap, stalls=(), what="adverts"):
    """Assert that adverts sent (or received) at ts (seconds, sorted) kept
    their schedule while something else (a hung check, a hung hook) went on;
    returns a one-line summary.

    A gap of max_gap or more is late. What a daemon that blocks on a hung
    peer shows is a gap as long as the hang (a second and more), or a late
    advert at every run of the hung thing (12 and more in 30 s); a virtual
    machine shows neither, but late adverts at random, on an idle host too,
    when the hypervisor takes its vCPUs away (steal time: one stall in a
    minute on a quiet day, hundreds of 3 to 50 ms on a noisy one). The
    reference sleepers (stalls: StallWatch, one per CPU, SCHED_RR) stop with
    the machine, never because of vipd. So:
      - a late gap is excused when a sleeper was held up during it, in one
        stall or in several (a throttled VM runs in slices), for at least
        half of the gap's excess over one interval: the machine stopped;
      - any other late gap must stay under two intervals (the next advert
        was not lost: a Backup waits three and more);
      - and late gaps that are not excused are rare: at most
        max(3, n / 1000), far below one per run of the hung thing.
    """
    gaps = advert_gaps(ts)
    assert gaps, "no %s to judge" % what
    worst = sorted(zip(gaps, ts), reverse=True)[:5]
    summary = "%d %s, gap median %.2f ms, p99 %.2f ms, max %.2f ms (5 worst: %s)" % (
        len(ts), what, statistics.median(gaps) * 1000,
        sorted(gaps)[int(len(gaps) * 0.99)] * 1000, max(gaps) * 1000,
        ", ".join("%.2f ms after %s" % (g * 1000, _clock(t)) for g, t in worst))
    late = [(g, t) for g, t in zip(gaps, ts) if g >= max_gap]
    seen, lost, unexcused = [], [], []
    for g, t in late:
        lo, hi = t - 0.002, t + g
        near = [(cpu, ts_, lt) for cpu, ts_, lt in stalls if ts_ < hi and ts_ + lt > lo]
        stopped = {}  # per CPU: how long its sleeper was held up inside the gap
        for cpu, ts_, lt in near:
            stopped[cpu] = stopped.get(cpu, 0.0) + min(ts_ + lt, hi) - max(ts_, lo)
        big = max(stopped.values(), default=0.0) >= (g - interval) / 2
        seen.append("%.2f ms gap after %s: %s; reference sleepers saw %s" % (
            g * 1000, _clock(t), "excused" if big else "NOT excused", "; ".join(
                "cpu%d %.1f ms late at +%.1f ms" % (cpu, lt * 1000, (ts_ - t) * 1000)
                for cpu, ts_, lt in near) or "no machine stall"))
        if not big:
            unexcused.append(g)
            if g >= 2 * interval:
                lost.append(g)
    excused = len(late) - len(unexcused)
    summary += "; %d late (%.0f ms or more), %d of them in a machine stall" % (
        len(late), max_gap * 1000, excused)
    if stalls:
        summary += "; reference sleepers: %d stalls > 1 ms, worst %.2f ms" % (
            len(stalls), max(lt for _, _, lt in stalls) * 1000)
    assert not lost, "%s: a gap of two intervals or more (an advert lost) with no machine " \
        "stall to explain it: %s\n%s" % (what, summary, "\n".join(seen))
    assert len(unexcused) <= max(3, len(ts) // 1000), \
        "%s: %d gaps of %.0f ms or more outside machine stalls: %s\n%s" % (
            what, len(unexcused), max_gap * 1000, summary, "\n".join(seen))
    return summary


def judge_backup_flips(flips, arrivals, interval, stalls, what="the Backup"):
    """A Backup that became Master (flips: how many times) while the Master
    was up must have had a reason on the wire: for each flip, a gap of
    three intervals or more in the Master's adverts as they arrived
    (arrivals: sorted times, from a sniffer on the Backup); and each such
    gap must be a machine stall (judge_advert_gaps on the arrivals). A flip
    with the adverts arriving on time is a bug in the Backup."""
    long_gaps = [g for g in advert_gaps(arrivals) if g >= 3 * interval]
    summary = judge_advert_gaps(arrivals, interval, 1.2 * interval, stalls,
                                "adverts arriving at %s" % what)
    assert flips <= len(long_gaps), "%s became Master %d times but only %d gaps of %.0f ms or " \
        "more arrived: %s" % (what, flips, len(long_gaps), 3 * interval * 1000, summary)
    return "%s became Master %d times (%d arrival gaps of 3 intervals or more, all in machine " \
        "stalls)" % (what, flips, len(long_gaps))


# --------------------------------------------------------------------------
# helper programs, run as `python3 lab.py helper KIND ARGS...` in a namespace.
# Each prints READY once it serves.

def _helper_http(addr, port, control, reqlog):
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def _serve(self, with_body):
            with open(reqlog, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))
            try:
                with open(control) as f:
                    routes = json.load(f)
            except (OSError, ValueError):
                routes = {}
            r = routes.get(self.path.split("?")[0])
            if r is None:
                status, body = 404, "not found\n"
            else:
                status, body = r["status"], r.get("body")
            if status == "hang":
                while True:
                    time.sleep(3600)
            if body is None:
                body = json.dumps({"state": "running", "code": status}) + "\n"
            if not with_body:
                # like Patroni's HEAD / OPTIONS: the status line alone
                self.wfile.write(("%s %d %s\r\n\r\n" % (
                    self.protocol_version, int(status),
                    self.responses.get(int(status), ("",))[0])).encode())
                return
            data = body.encode()
            self.send_response(int(status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve(True)

        def do_HEAD(self):
            self._serve(False)

        def do_OPTIONS(self):
            self._serve(False)

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    srv = Server((addr, int(port)), Handler)
    print("READY", flush=True)
    srv.serve_forever()


def _helper_hang(kind, where):
    """Accept connections (unix path, or tcp HOST:PORT) and never answer."""
    import socket as s
    if kind == "unix":
        with contextlib.suppress(OSError):
            os.unlink(where)
        srv = s.socket(s.AF_UNIX, s.SOCK_STREAM)
        srv.bind(where)
    else:
        host, port = where.rsplit(":", 1)
        srv = s.socket(s.AF_INET, s.SOCK_STREAM)
        srv.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1)
        srv.bind((host, int(port)))
    srv.listen(128)
    print("READY", flush=True)
    held = []
    while True:
        c, _ = srv.accept()
        held.append(c)  # never read, never answer, never close


def _helper_listen(where):
    """Accept TCP connections and close them (a backend that is up)."""
    import socket as s
    host, port = where.rsplit(":", 1)
    srv = s.socket(s.AF_INET, s.SOCK_STREAM)
    srv.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(128)
    print("READY", flush=True)
    while True:
        c, _ = srv.accept()
        c.close()


def _helper_sniff(iface, src, out_path, way="out"):
    """Timestamps (ns) and priorities of src's VRRP adverts leaving (way
    "out") or arriving at iface; a line on stdin writes them to out_path."""
    import select
    import socket as s
    import sys
    ps = vrrp_packet_socket(iface, rcvbuf=32 << 20)
    out, other, drops = [], 0, 0

    def drain():
        nonlocal other
        while True:
            try:
                data, anc, _fl, addr = ps.recvmsg(256, s.CMSG_SPACE(16))
            except BlockingIOError:
                return
            t = packet_ts(anc)
            ihl = (data[0] & 0x0F) * 4
            outgoing = addr[2] == 4  # PACKET_OUTGOING
            if (outgoing != (way == "out") or len(data) < ihl + 8 or data[9] != 112
                    or t is None or s.inet_ntoa(data[12:16]) != src):
                other += 1
            else:
                out.append((t, data[ihl + 2]))

    def stats():
        nonlocal drops
        drops += packet_drops(ps)

    stats()
    print("READY", flush=True)
    while True:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        drain()
        stats()
        if r:
            sys.stdin.readline()
            drain()
            stats()
            with open(out_path, "w") as f:
                json.dump({"adverts": out, "other": other, "drops": drops}, f)
            print("DONE %d adverts, %d other, %d drops" % (len(out), other, drops), flush=True)
            return


def _helper_stalls(cpu, out_path, period_ms="2", min_ms="1"):
    """A reference sleeper pinned to one CPU (SCHED_RR 5, below vipd's 10,
    so it never delays an advert): wakes every period_ms on an absolute
    schedule and records each wake-up later than min_ms as (realtime of the
    deadline, lateness in s). Machine stalls (vCPU preemption by a
    hypervisor) show up here too, so a late advert can be told apart from a
    slow daemon. A vipd blocked on a hung peer sleeps and holds no sleeper
    up; one spinning on the sleeper's CPU would (the weak side of this
    reference: it cannot tell a spinning vipd from a stalled machine)."""
    import sys
    os.sched_setaffinity(0, {int(cpu)})
    with contextlib.suppress(OSError):
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(5))
    period, limit = float(period_ms) / 1000.0, float(min_ms) / 1000.0
    stalls = []
    import select
    print("READY", flush=True)
    nxt = time.monotonic() + period
    off = time.time() - time.monotonic()
    while True:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, nxt - time.monotonic()))
        now = time.monotonic()
        if r:
            break
        if now - nxt > limit:
            stalls.append((nxt + off, now - nxt))
        nxt += period
        if nxt < now:
            nxt = now + period
    with open(out_path, "w") as f:
        json.dump({"cpu": int(cpu), "stalls": stalls}, f)
    print("DONE", flush=True)


class StallWatch:
    """One reference sleeper per CPU in a host's namespace (see _helper_stalls)."""

    def __init__(self, lab, host):
        self.outs, self.helpers = [], []
        for cpu in sorted(os.sched_getaffinity(0)):
            out = os.path.join(host.dir, "stalls-cpu%d.json" % cpu)
            self.outs.append(out)
            self.helpers.append(lab.add(Helper(host, "stalls-cpu%d" % cpu, "stalls", cpu,
                                               out)))

    def start(self):
        for h in self.helpers:
            h.start()
        return self

    def stop(self):
        """[(cpu, realtime, lateness_s), ...] of every stall seen."""
        out = []
        for h, path in zip(self.helpers, self.outs):
            if h.alive():
                h.proc.stdin.write(b"x\n")
                h.proc.stdin.flush()
                h.proc.wait(10)
            h.stop()
            with contextlib.suppress(OSError, ValueError):
                with open(path) as f:
                    d = json.load(f)
                out += [(d["cpu"], t, late) for t, late in d["stalls"]]
        return sorted(out, key=lambda x: x[1])


def _helper_main(argv):
    kind, args = argv[0], argv[1:]
    if kind == "http":
        _helper_http(*args)
    elif kind == "hang-unix":
        _helper_hang("unix", *args)
    elif kind == "hang-tcp":
        _helper_hang("tcp", *args)
    elif kind == "listen":
        _helper_listen(*args)
    elif kind == "sniff":
        _helper_sniff(*args)
    elif kind == "stalls":
        _helper_stalls(*args)
    else:
        raise SystemExit("unknown helper %r" % kind)
    return 0


if __name__ == "__main__":
    import sys as _sys
    if len(_sys.argv) > 2 and _sys.argv[1] == "helper":
        _sys.exit(_helper_main(_sys.argv[2:]))
    raise SystemExit("usage: lab.py helper KIND ARGS...")
