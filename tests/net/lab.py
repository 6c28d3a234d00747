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
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("VIPD_BUILD") or os.path.join(REPO, "build")
VIPD = os.path.join(BUILD, "vipd")
VIPCTL = os.path.join(BUILD, "vipctl")
PYTHON = "/usr/bin/python3"
CRAFT = os.path.join(HERE, "craft.py")

REGISTRY = "/run/vipd-nettest"  # <prefix>.pid files: who owns a prefix
TMPROOT = os.path.join(tempfile.gettempdir(), "vipd-nettest")
NS_RE = re.compile(r"^(vt\d+)-")

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                      "ERROR: UndefinedBehaviorSanitizer")

V4_NET = ipaddress.ip_network("192.0.2.0/24")
V6_NET = ipaddress.ip_network("2001:db8::/64")


# --------------------------------------------------------------------------
# small helpers

def sh(cmd, check=True, timeout=20, input=None):
    """Run a command (list, or a string for the shell); CompletedProcess."""
    shell = isinstance(cmd, str)
    p = subprocess.run(cmd, shell=shell, capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            p.returncode, cmd if shell else shlex.join(cmd), p.stdout, p.stderr))
    return p


def wait_until(pred, timeout, interval=0.01, what=None):
    """Poll pred() until it returns a true value; return seconds waited.

    Raises AssertionError naming `what` (or pred) on timeout. Exceptions
    raised by pred count as "not yet" until the deadline, then re-raise.
    """
    start = time.monotonic()
    deadline = start + timeout
    last_exc = None
    while True:
        try:
            if pred():
                return time.monotonic() - start
            last_exc = None
        except Exception as e:  # noqa: BLE001 - daemon may not be up yet
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.2fs waiting for %s" % (timeout, what or getattr(
                pred, "__name__", pred))
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise AssertionError(msg)
        time.sleep(interval)


def stays(pred, duration, interval=0.05, what=None):
    """Assert pred() stays true for `duration` seconds."""
    end = time.monotonic() + duration
    while time.monotonic() < end:
        assert pred(), "condition no longer holds: %s" % (what or pred)
        time.sleep(interval)


def skew_s(prio, interval_ms):
    """RFC 5798 Skew_Time in seconds (interval in centiseconds on the wire)."""
    return ((256 - prio) * (interval_ms / 1000.0)) / 256.0


def mdi_s(prio, interval_ms):
    """Master_Down_Interval in seconds."""
    return 3 * interval_ms / 1000.0 + skew_s(prio, interval_ms)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ns_list():
    p = sh(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def ns_pids(ns):
    p = sh(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def kill_ns_processes(ns, grace=3.0):
    """SIGTERM every process in ns, then SIGKILL what is left."""
    pids = ns_pids(ns)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            pids = ns_pids(ns)
            if not pids:
                return
            time.sleep(0.05)


def delete_ns(ns):
    kill_ns_processes(ns)
    sh(["ip", "netns", "del", ns], check=False)


def sweep_stale():
    """Delete `vt*` namespaces of test runs whose owning process is gone."""
    os.makedirs(REGISTRY, exist_ok=True)
    stale = set()
    for ns in ns_list():
        m = NS_RE.match(ns)
        if not m:
            continue
        prefix = m.group(1)
        owner = _registry_owner(prefix)
        if owner is None or not pid_alive(owner):
            stale.add(prefix)
            delete_ns(ns)
    for f in os.listdir(REGISTRY):
        if f.endswith(".pid"):
            prefix = f[:-4]
            owner = _registry_owner(prefix)
            if owner is None or not pid_alive(owner):
                stale.add(prefix)
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(REGISTRY, f))
    for prefix in stale:
        shutil.rmtree(os.path.join(TMPROOT, prefix), ignore_errors=True)
    # files of finished runs (kept for failed tests) go at the next run
    if os.path.isdir(TMPROOT):
        for prefix in os.listdir(TMPROOT):
            owner = _registry_owner(prefix)
            if owner is None or not pid_alive(owner):
                shutil.rmtree(os.path.join(TMPROOT, prefix), ignore_errors=True)
    return sorted(stale)


def _registry_owner(prefix):
    try:
        with open(os.path.join(REGISTRY, prefix + ".pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


_PREFIX = None


def run_prefix():
    """This process's namespace prefix, `vt<pid % 10000>`, registered to us."""
    global _PREFIX
    if _PREFIX:
        return _PREFIX
    os.makedirs(REGISTRY, exist_ok=True)
    pid = os.getpid()
    for k in range(10000):
        prefix = "vt%d" % ((pid + k) % 10000)
        owner = _registry_owner(prefix)
        if owner is not None and owner != pid and pid_alive(owner):
            continue  # a concurrent run owns this prefix
        with open(os.path.join(REGISTRY, prefix + ".pid"), "w") as f:
            f.write("%d\n" % pid)
        _PREFIX = prefix
        atexit.register(_release_prefix, prefix)
        return prefix
    raise RuntimeError("no free namespace prefix")


def _release_prefix(prefix):
    for ns in ns_list():
        if ns.startswith(prefix + "-"):
            delete_ns(ns)
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(REGISTRY, prefix + ".pid"))
    with contextlib.suppress(OSError):
        os.rmdir(os.path.join(TMPROOT, prefix))  # only if no failed test kept files


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return "(no %s)\n" % path
    return "".join(lines[-n:])


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
    def __init__(self, lab, name):
        self.lab = lab
        self.name = name  # short name (h1, sw)
        self.ns = "%s-%s" % (lab.prefix, name)
        sh(["ip", "netns", "add", self.ns])
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
        super().__init__(lab, "sw")
        self.sysctl("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        self.ip("link", "set", "lo", "up")
        self.ip("link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0",
                "forward_delay", "0")
        self.ip("link", "set", "br0", "up")


class Host(Namespace):
    default_iface = "eth0"

    def __init__(self, lab, name, ip4, ip6):
        super().__init__(lab, name)
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

        self.sysctl("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.dad_transmits=0", "net.ipv6.conf.default.dad_transmits=0")
        self.ip("link", "set", "lo", "up")
        sw = lab.switch
        sw.ip("link", "add", self.port, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        sw.ip("link", "set", self.port, "master", "br0")
        sw.ip("link", "set", self.port, "up")
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
    def start_vipd(self, conf_text, log_level="info", wait=True, extra_args=()):
        """Write the config (pidfile / socket in our tmp dir) and start vipd -n."""
        assert self.vipd is None or self.vipd.poll() is not None, "vipd already running"
        glob = ("pidfile = %s\ncontrol_socket = %s\nlog_level = %s\n"
                % (self.pidfile, self.sock, log_level))
        if re.search(r"^\s*\[global\]", conf_text, re.M):
            text = re.sub(r"^(\s*\[global\][^\n]*\n)", lambda m: m.group(1) + glob, conf_text,
                          count=1, flags=re.M)
        else:
            text = "[global]\n" + glob + "\n" + conf_text
        with open(self.conf_path, "w") as f:
            f.write(text)
        self.vipd_starts += 1
        with open(self.log, "a") as log:
            log.write("=== test: vipd start #%d at %s\n" % (self.vipd_starts, time.strftime("%T")))
            log.flush()
            self.vipd = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, VIPD, "-n", "-f", self.conf_path]
                + list(extra_args), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)
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
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


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
vrrp_instance %s {
    state %s
    interface %s
    virtual_router_id %d
    priority %d
    advert_int %s
%s    virtual_ipaddress {
%s    }
%s}
""" % (router_id, name, state, iface, vrid, priority, advert_int, peers,
       "".join("        %s\n" % v for v in vips), extra)


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
