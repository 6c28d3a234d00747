#!/usr/bin/env python3
"""vipd benchmark: failover time, graceful handover, CPU and memory, next to
keepalived, measured in network namespaces on this machine.

    make bench                      # 10 trials per point, ~8 minutes
    make bench BENCH_ARGS=--quick   # 3 trials, 10 s CPU windows, ~3 minutes
    python3 tests/bench/bench.py --help

Topology, built fresh for each daemon under test and removed at the end:

    ns A (master, prio 150)        ns SW (switch)          ns B (backup, prio 100)
    eth0 192.0.2.11/24 ------ pa -- br0 -- pb ------ eth0 192.0.2.12/24
                                                    (monitor runs here)

Nothing lives in the root namespace and there is no route out of 192.0.2.0/24.

What is measured (all on the backup, all CLOCK_REALTIME):
  * t(advert): kernel receive timestamp (SO_TIMESTAMPNS) of each VRRP packet
    from the master, read from an AF_PACKET socket on B's eth0;
  * t(VIP added): CLOCK_REALTIME read in the monitor process the moment its
    poll() returns with the RTM_NEWADDR for the VIP (netlink group
    RTMGRP_IPV4_IFADDR in B's namespace).  Netlink carries no kernel
    timestamp, so this one is a user-space wake-up time: the monitor is a
    dedicated process (SCHED_FIFO when allowed) blocked in poll(), so its
    lateness is its wake-up latency, typically 10-100 us, worst case about a
    millisecond on a busy 2-core machine.
  failover = t(VIP added on B) - t(last advert from A seen on B), A's link cut
             by setting its switch-side veth (pa) down;
  graceful = t(VIP added on B) - t(first priority-0 advert from A seen on B),
             after SIGTERM to A.
  CPU      = delta of utime+stime (/proc/PID/stat, whole thread group, summed
             over the daemon's process tree) over the window, 10 ms adverts;
  PSS      = sum of Pss from /proc/PID/smaps_rollup over the process tree.
  haproxy  = t(VIP added on B) - t(kill -9 of A's HAProxy), A and B each
             running HAProxy and a daemon with a HAProxy check (weight 2,
             priorities 101/100); each node has its own PID namespace.
  checks-cpu = CPU (incl. reaped children) and PSS of one daemon running 10
             checks at 1 s (keepalived: vrrp_scripts; vipd: built-in).
  scale    = N instances (100 ms adverts) between two hosts: CPU, PSS, flips,
             time until all VIPs are up, largest per-VRID advert gap, and
             whether the daemons lived (--scale, --scale-n, --scale-window).
See tests/bench/README.md.

The monitor is this same file run as `bench.py --monitor IFACE VIP` inside
the backup namespace (ip netns exec).
"""

import argparse
import atexit
import ipaddress
import json
import math
import os
import queue
import random
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(TESTS, "lib"), os.path.join(TESTS, "net")]

from lab import (AdvertSniffer, check_section, keepalived_instance, scale_vip,  # noqa: E402
                 vipd_global, vipd_instance)
from netns import (NO_DAD, NO_IPV6, PACKET_OUTGOING, SO_RCVBUFFORCE, bridge_add,  # noqa: E402
                   delete_ns, mdi_ms, netns_add, packet_drops, packet_ts, plug, proc_children,
                   proc_comm, proc_cpu_ticks, proc_mem_kib, proc_runtime_ns, proc_stat_fields,
                   proc_tree, release_prefix, run_prefix, sh, skew_ms, sweep_stale,
                   vrrp_packet_socket)

VIP = "192.0.2.100"
VIP_CIDR = VIP + "/24"
IP_A, IP_B = "192.0.2.11", "192.0.2.12"
PRIO_A, PRIO_B = 150, 100
VRID = 51

RTMGRP_IPV4_IFADDR = 0x10
RTM_NEWADDR, RTM_DELADDR = 20, 21
IFA_ADDRESS, IFA_LOCAL = 1, 2


# ===================================================================
# Monitor: runs inside the backup's namespace, prints JSON lines.
# ===================================================================

def monitor_main(argv):
    ifname, vip = argv[0], argv[1]
    try:  # wake up promptly even when the 2 cores are busy
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (OSError, AttributeError):
        pass
    ps = vrrp_packet_socket(ifname)

    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    nl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    nl.bind((0, RTMGRP_IPV4_IFADDR))
    nl.setblocking(False)

    peers = {}   # src -> dict(t, prio, n, tnz, p0, adv)
    sent = []    # last 16 adverts sent by this host: (t, prio)
    out = sys.stdout

    def emit(obj):
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        out.flush()

    def drain_packets():
        while True:
            try:
                data, anc, _fl, addr = ps.recvmsg(2048, socket.CMSG_SPACE(16))
            except BlockingIOError:
                return
            if addr[1] != 0x0800 or len(data) < 28:
                continue
            ts = packet_ts(anc) or time.time_ns()
            ihl = (data[0] & 0x0F) * 4
            if data[9] != 112 or len(data) < ihl + 8:
                continue
            v = data[ihl:]
            if v[0] != 0x31 or v[1] != VRID:
                continue
            src = socket.inet_ntoa(data[12:16])
            prio = v[2]
            adv = struct.unpack(">H", v[4:6])[0] & 0x0FFF
            if addr[2] == PACKET_OUTGOING:      # our own (the backup's) adverts
                sent.append((ts, prio))
                del sent[:-16]
                continue
            p = peers.setdefault(src, {"t": 0, "prio": -1, "n": 0, "tnz": 0, "p0": 0, "adv": 0,
                                       "tchg": 0, "pprev": -1})
            if prio != p["prio"]:   # first advert at a new priority
                p["tchg"], p["pprev"] = ts, p["prio"]
            p["t"], p["prio"], p["adv"] = ts, prio, adv
            p["n"] += 1
            if prio:
                p["tnz"], p["p0"] = ts, 0
            elif not p["p0"]:
                p["p0"] = ts

    def handle_netlink(t_wake):
        while True:
            try:
                buf = nl.recv(65536)
            except BlockingIOError:
                return
            off = 0
            while off + 16 <= len(buf):
                mlen, mtype = struct.unpack_from("IH", buf, off)
                if mlen < 16:
                    break
                if mtype in (RTM_NEWADDR, RTM_DELADDR) and mlen >= 24:
                    fam, plen, _f, _s, idx = struct.unpack_from("BBBBI", buf, off + 16)
                    addrs = {}
                    a = off + 24
                    while a + 4 <= off + mlen:
                        rlen, rtype = struct.unpack_from("HH", buf, a)
                        if rlen < 4:
                            break
                        if rtype in (IFA_ADDRESS, IFA_LOCAL) and rlen >= 8 and fam == socket.AF_INET:
                            addrs[rtype] = socket.inet_ntoa(buf[a + 4:a + 8])
                        a += (rlen + 3) & ~3
                    ip = addrs.get(IFA_LOCAL) or addrs.get(IFA_ADDRESS)
                    if ip == vip:
                        drain_packets()   # adverts queued before the wake-up
                        emit({"ev": "add" if mtype == RTM_NEWADDR else "del",
                              "t": t_wake, "addr": ip, "plen": plen, "ifindex": idx,
                              "peers": peers})
                off += (mlen + 3) & ~3

    poller = select.poll()
    poller.register(ps.fileno(), select.POLLIN)
    poller.register(nl.fileno(), select.POLLIN)
    poller.register(sys.stdin.fileno(), select.POLLIN)
    emit({"ev": "ready", "t": time.time_ns()})
    while True:
        evs = poller.poll()
        t_wake = time.time_ns()
        fds = {fd for fd, _ in evs}
        if ps.fileno() in fds:
            drain_packets()
        if nl.fileno() in fds:
            handle_netlink(t_wake)
        if sys.stdin.fileno() in fds:
            line = sys.stdin.readline()
            if not line or line.startswith("x"):
                return 0
            drain_packets()
            emit({"ev": "snap", "t": time.time_ns(), "peers": peers, "sent": sent})


# ===================================================================
# Init: PID 1 of a "host" (its own PID and mount namespace, /proc of its
# own), so that each host's `killall -0 haproxy` or process check sees that
# host's HAProxy only.  It reaps every orphan at once: a killed daemonized
# HAProxy must not linger as a zombie that killall would still find.
# ===================================================================

def init_main(_argv):
    sigs = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    while True:
        while True:
            try:
                pid, _st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        si = signal.sigwaitinfo(sigs)
        if si.si_signo != signal.SIGCHLD:
            return 0    # PID 1 exits: the kernel kills the rest of the namespace


# ===================================================================
# Orchestration
# ===================================================================

def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def bound_ms(interval_ms, prio=PRIO_B):
    """Master_Down_Interval: the failover bound."""
    return mdi_ms(prio, interval_ms)


class Registry:
    """Everything to undo at exit: processes (by pid), and the namespaces
    (all named after this run's prefix, see ns_name)."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()
        self.done = False

    def add_proc(self, p):
        with self.lock:
            self.procs.append(p)
            late = self.done
        if late:        # started by a worker thread after the clean-up
            try:
                p.kill()
            except OSError:
                pass

    def cleanup(self):
        with self.lock:
            if self.done:
                return
            self.done = True
            procs = list(self.procs)
        for p in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.time() + 3
        for p in procs:
            try:
                p.wait(max(0.05, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    p.kill()
                    p.wait(2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        release_prefix(run_prefix())


REG = Registry()


def ns_name(tag):
    """A namespace of this run: `<prefix>-<tag>`; the prefix (vt<pid % 10000>)
    is registered to this process, so a later run (bench or tests/net) sweeps
    what a killed run left."""
    return "%s-%s" % (run_prefix(), tag)


def spawn_self(ns, args, errpath, timeout, wrap=(), stdin=subprocess.PIPE):
    """This file run with ARGS (--monitor, --init...) in namespace NS, behind
    WRAP (e.g. unshare); stderr to ERRPATH. Returns the Popen and the first
    line it printed ("" if none within TIMEOUT s)."""
    with open(errpath, "w") as errf:
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(wrap)
                             + [sys.executable, os.path.abspath(__file__)] + list(args),
                             stdin=stdin, stdout=subprocess.PIPE, stderr=errf, text=True,
                             start_new_session=True)
    REG.add_proc(p)
    r, _, _ = select.select([p.stdout], [], [], timeout)
    return p, p.stdout.readline() if r else ""


def json_event(line):
    try:
        return json.loads(line)
    except ValueError:
        return {}


class JsonHelper:
    """spawn_self, for a helper that prints JSON lines: {"ev": "ready"...}
    first, then events; each goes to self.event(), the ready one before and
    the others from a reader thread ({"ev": "eof"} last). A line "x" on its
    stdin ends it."""

    what = "helper"

    def __init__(self, ns, args, errpath, timeout):
        self.p, line = spawn_self(ns, args, errpath, timeout)
        self.ready = json_event(line)
        if self.ready.get("ev") != "ready":
            self.close()
            raise RuntimeError("%s did not start in %s: %r" % (self.what, ns, line[:200]))
        self.event(self.ready)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        for line in self.p.stdout:
            ev = json_event(line)
            if ev:
                self.event(ev)
        self.event({"ev": "eof"})

    def close(self, timeout=3):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("x\n")
                self.p.stdin.flush()
                self.p.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait(3)


class Monitor(JsonHelper):
    what = "monitor"

    def __init__(self, ns, workdir):
        self.q = queue.Queue()
        self.snaps = queue.Queue()
        super().__init__(ns, ["--monitor", "eth0", VIP],
                         os.path.join(workdir, "monitor.%s.err" % ns), 10)

    def event(self, ev):
        if ev["ev"] != "ready":
            (self.snaps if ev["ev"] == "snap" else self.q).put(ev)

    def snap(self):
        self.p.stdin.write("q\n")
        self.p.stdin.flush()
        return self.snaps.get(timeout=5)

    def drain(self):
        evs = []
        while True:
            try:
                evs.append(self.q.get_nowait())
            except queue.Empty:
                return evs

    def wait_event(self, kind, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if ev["ev"] == "eof":
                raise RuntimeError("monitor died")
            if ev["ev"] == kind:
                return ev

    def close(self):
        super().close(2)


def ka_global(role, extra=""):
    return "global_defs {\n    router_id bench_%s\n    vrrp_version 3\n%s}\n" % (role, extra)


def ka_instance(name, iface, vrid, role, prio, interval_ms, vip, extra=""):
    """A vrrp_instance, state MASTER on A, BACKUP on B."""
    return keepalived_instance(name, iface, vrid, prio, "%g" % (interval_ms / 1000.0), (vip,),
                               "MASTER" if role == "a" else "BACKUP", extra=extra)


def daemon_argv(kind, binpath, conf, d):
    """vipd or keepalived (VRRP only, pid files in d) in the foreground."""
    if kind == "vipd":
        return [binpath, "-n", "-f", conf]
    return [binpath, "-n", "-l", "-D", "--vrrp", "-f", conf,
            "-p", os.path.join(d, "keepalived.pid"), "-r", os.path.join(d, "vrrp.pid")]


class Daemon:
    """One vipd or keepalived in one namespace."""

    def __init__(self, kind, binpath, ns, role, workdir, d=None, prio=None):
        self.kind, self.bin, self.ns, self.role = kind, binpath, ns, role
        self.dir = d or os.path.join(workdir, "%s-%s" % (kind, role))
        os.makedirs(self.dir, exist_ok=True)
        self.prio = prio or (PRIO_A if role == "a" else PRIO_B)
        self.p = None
        self.logf = None
        self.starts = 0

    def write_conf(self, interval_ms):
        d = self.dir
        if self.kind == "vipd":
            conf = "[global]\n%s\n%s" % (
                vipd_global(d + "/vipd.pid", d + "/vipd.sock"),
                vipd_instance("VI_1", vrid=VRID, priority=self.prio, interval="%dms" % interval_ms,
                              vips=(VIP_CIDR,), preempt=True))
            path = os.path.join(d, "vipd.conf")
        else:
            conf = ka_global(self.role) + "\n" + ka_instance(
                "VI_1", "eth0", VRID, self.role, self.prio, interval_ms, VIP_CIDR)
            path = os.path.join(d, "keepalived.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self, interval_ms):
        assert self.p is None or self.p.poll() is not None
        argv = daemon_argv(self.kind, self.bin, self.write_conf(interval_ms), self.dir)
        self.starts += 1
        if self.logf:
            self.logf.close()
        self.logf = open(os.path.join(self.dir, "log"), "a")
        self.logf.write("==== start %d, interval %d ms: %s\n" % (self.starts, interval_ms, " ".join(argv)))
        self.logf.flush()
        self.spawn(argv)

    def spawn(self, argv):
        # ip netns exec execs the daemon: the Popen pid is the daemon's pid.
        self.p = subprocess.Popen(["ip", "netns", "exec", self.ns] + argv,
                                  stdin=subprocess.DEVNULL, stdout=self.logf,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        REG.add_proc(self.p)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def signal(self, sig):
        self.p.send_signal(sig)

    def stop(self, timeout=5):
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.p.wait(timeout)       # (HcDaemon: nsenter exits when the daemon does)
        except subprocess.TimeoutExpired:
            log("%s %s did not stop in %ss: SIGKILL" % (self.kind, self.role, timeout))
            self.signal(signal.SIGKILL)
            self.p.wait(2)

    def sender_pid(self):
        """The process that sends the adverts: vipd itself, keepalived's
        VRRP child (from its -r pid file)."""
        if self.kind == "vipd":
            return self.p.pid
        with open(os.path.join(self.dir, "vrrp.pid")) as f:
            return int(f.read().split()[0])

    def main_pid(self):
        return self.p.pid

    def tree(self):
        """The daemon's pid and all its descendants (keepalived forks)."""
        return proc_tree(self.main_pid())


def strace_count(pid, seconds, path):
    """strace -c -f on PID for SECONDS.  Returns (t_attached, t_detach, calls by
    syscall name incl. "total"), times in CLOCK_REALTIME ns."""
    p = subprocess.Popen(["strace", "-c", "-f", "-o", path, "-p", str(pid)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    REG.add_proc(p)
    # "strace: Process N attached" is printed once the tracee is seized:
    # syscalls are counted from then on
    r, _, _ = select.select([p.stderr], [], [], 5)
    line = p.stderr.readline() if r else ""
    t0 = time.time_ns()
    if "attached" not in line:
        p.kill()
        p.wait(2)
        raise RuntimeError("strace -p %d did not attach: %s" % (pid, line.strip()))
    time.sleep(seconds)
    t1 = time.time_ns()
    p.send_signal(signal.SIGINT)       # detach and write the summary
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(2)
        raise RuntimeError("strace -p %d did not exit" % pid)
    calls = {}
    with open(path) as f:
        for ln in f:
            tok = ln.split()
            # % time  seconds  usecs/call  calls  [errors]  syscall
            if len(tok) in (5, 6) and tok[3].isdigit():
                try:
                    float(tok[0])
                except ValueError:
                    continue
                calls[tok[-1]] = int(tok[3])
    if "total" not in calls:
        raise RuntimeError("strace -c: no summary in %s" % path)
    return t0, t1, calls


DEV_BUCKETS_MS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def advert_timing(ts, iv_ms):
    """Send timing of a train of adverts (sorted kernel timestamps, ns) that
    should leave every IV_MS: gaps, |gap - IV|, drift from the grid
    t0 + n * IV anchored on the first advert."""
    if len(ts) < 3:
        return None
    iv = iv_ms * 1e6
    gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
    dev = [abs(g - iv_ms) for g in gaps]
    drift = [(t - ts[0] - n * iv) / 1e6 for n, t in enumerate(ts)]
    hist, lo = {}, 0.0
    for hi in DEV_BUCKETS_MS + (float("inf"),):
        hist["%g-%g" % (lo, hi) if hi != float("inf") else ">%g" % lo] = \
            sum(1 for d in dev if lo <= d < hi)
        lo = hi
    worst = sorted(range(len(gaps)), key=lambda i: -dev[i])[:10]
    return {"adverts": len(ts), "gaps": len(gaps), "span_s": (ts[-1] - ts[0]) / 1e9,
            "gap_median_ms": statistics.median(gaps),
            "gap_mean_ms": statistics.fmean(gaps),
            "gap_min_ms": min(gaps), "gap_max_ms": max(gaps),
            "gap_stdev_ms": statistics.pstdev(gaps),
            "dev_median_ms": statistics.median(dev), "dev_p99_ms": pct(dev, 0.99),
            "dev_p999_ms": pct(dev, 0.999), "dev_max_ms": max(dev),
            "within_1ms": sum(1 for d in dev if d <= 1.0),
            "within_1ms_pct": 100.0 * sum(1 for d in dev if d <= 1.0) / len(dev),
            # one per late advert for both schedulers (a grid scheduler's
            # catch-up gap after it is short and not counted here)
            "late_1ms": sum(1 for g in gaps if g > iv_ms + 1.0),
            "late_1ms_pct": 100.0 * sum(1 for g in gaps if g > iv_ms + 1.0) / len(gaps),
            "early_1ms": sum(1 for g in gaps if g < iv_ms - 1.0),
            "drift_end_ms": drift[-1], "drift_min_ms": min(drift), "drift_max_ms": max(drift),
            "drift_absmax_ms": max(abs(d) for d in drift),
            "dev_hist_ms": hist,
            "worst": [{"at_s": (ts[i + 1] - ts[0]) / 1e9, "gap_ms": gaps[i]} for i in worst]}


class Pair:
    """Switch + master (A) + backup (B) namespaces, one daemon kind."""

    def __init__(self, kind, binpath, tag, workdir):
        self.kind = kind
        self.ns_sw, self.ns_a, self.ns_b = (ns_name(tag + r) for r in "sab")
        self.workdir = workdir
        self.a = Daemon(kind, binpath, self.ns_a, "a", workdir)
        self.b = Daemon(kind, binpath, self.ns_b, "b", workdir)
        self.mon = None
        self.interval = None

    # ---- topology
    def setup(self):
        self.topology((("pa", self.ns_a, IP_A), ("pb", self.ns_b, IP_B)))
        self.mon = Monitor(self.ns_b, self.workdir)

    def topology(self, hosts):
        """The switch namespace, and per (port, ns, ip) of hosts a namespace
        whose eth0 (ip/24) is plugged into the switch at port; IPv6 off."""
        netns_add(self.ns_sw, NO_IPV6)
        bridge_add(self.ns_sw)
        for port, ns, ip in hosts:
            netns_add(ns, NO_IPV6)
            plug(self.ns_sw, port, ns)
            sh(["ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def link_a(self, up):
        sh(["ip", "-n", self.ns_sw, "link", "set", "pa", "up" if up else "down"])

    def has_vip(self, ns):
        out = sh(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"]).stdout
        return (" %s/" % VIP) in out

    # ---- daemons
    def start(self, interval_ms):
        self.interval = interval_ms
        self.b.start(interval_ms)
        self.a.start(interval_ms)

    def stop(self):
        self.a.stop()
        self.b.stop()

    prio_a = PRIO_A     # what B must hear from A in a stable state

    def wait_stable(self, timeout=None, adverts=2):
        """A holds the VIP, B does not, B keeps hearing A at prio 150 (the
        pair's prio_a), and at least ADVERTS of A's adverts went by in that
        state."""
        iv = self.interval
        if timeout is None:
            timeout = 4 * bound_ms(iv) / 1000.0 + 10
        deadline = time.monotonic() + timeout
        step = min(0.25, max(0.02, iv / 2000.0))
        base = None
        while time.monotonic() < deadline:
            if not (self.a.alive() and self.b.alive()):
                raise RuntimeError("%s exited (see %s)" % (
                    self.kind, self.a.dir if not self.a.alive() else self.b.dir))
            snap = self.mon.snap()
            pa = snap["peers"].get(IP_A)
            ok = (pa is not None and pa["prio"] == self.prio_a
                  and snap["t"] - pa["t"] < (1.5 * iv + 50) * 1e6
                  and self.has_vip(self.ns_a) and not self.has_vip(self.ns_b))
            if self.mon.drain():
                ok = False      # a VIP event on B: start over
            if not ok:
                base = None
            elif base is None:
                base = pa["n"]
            elif pa["n"] - base >= adverts:
                return True
            time.sleep(step)
        raise RuntimeError("%s: no stable master/backup state within %.0fs "
                           "(logs in %s)" % (self.kind, timeout, self.workdir))

    # ---- trials
    def first_sent_after(self, ev):
        """Kernel timestamp of the backup's first own advert after the master
        went quiet (a cross-check of the netlink wake-up time)."""
        if ev is None:
            return None
        pa = ev["peers"].get(IP_A, {})
        time.sleep(0.03)
        snap = self.mon.snap()
        later = [t for t, prio in snap.get("sent", []) if t > pa.get("t", 0) and prio]
        return min(later) if later else None

    def trial_failover(self):
        iv = self.interval
        time.sleep(random.uniform(0, iv / 2000.0))   # random phase vs. the adverts
        self.mon.drain()
        t_cut = time.time_ns()
        self.link_a(False)
        try:
            ev = self.mon.wait_event("add", 3 * bound_ms(iv) / 1000.0 + 2)
            sent = self.first_sent_after(ev)
        finally:
            self.link_a(True)
        if ev is None:
            return {"ok": False, "why": "VIP never added on the backup"}
        pa = ev["peers"].get(IP_A, {})
        res = {"ok": True, "t_add": ev["t"], "t_last": pa.get("t"), "last_prio": pa.get("prio"),
               "t_cut": t_cut, "ms": (ev["t"] - pa.get("t", 0)) / 1e6,
               "cut_after_last_ms": (t_cut - pa.get("t", 0)) / 1e6,
               "t_first_sent": sent,
               "first_sent_ms": (sent - pa.get("t", 0)) / 1e6 if sent else None}
        if pa.get("prio") != PRIO_A or pa.get("t", 0) > ev["t"]:
            res.update(ok=False, why="last advert from A has prio %r" % pa.get("prio"))
        self.wait_stable()
        return res

    def trial_graceful(self):
        iv = self.interval
        time.sleep(random.uniform(0, iv / 2000.0))
        self.mon.drain()
        t_sig = time.time_ns()
        self.a.signal(signal.SIGTERM)
        ev = self.mon.wait_event("add", 3 * bound_ms(iv) / 1000.0 + 2)
        sent = self.first_sent_after(ev)
        try:
            self.a.p.wait(10)
        except subprocess.TimeoutExpired:
            log("%s master did not exit after SIGTERM: SIGKILL" % self.kind)
            self.a.p.kill()
            self.a.p.wait(2)
        self.a.start(iv)
        if ev is None:
            self.wait_stable()
            return {"ok": False, "why": "VIP never added on the backup"}
        pa = ev["peers"].get(IP_A, {})
        res = {"ok": True, "t_add": ev["t"], "t_p0": pa.get("p0"), "t_sig": t_sig,
               "ms": (ev["t"] - (pa.get("p0") or 0)) / 1e6,
               "sig_to_p0_ms": ((pa.get("p0") or 0) - t_sig) / 1e6,
               "t_first_sent": sent,
               "first_sent_ms": (sent - pa["p0"]) / 1e6 if sent and pa.get("p0") else None}
        if not pa.get("p0"):
            res.update(ok=False, why="no priority-0 advert from A seen")
        self.wait_stable()
        return res

    def teardown(self):
        if self.mon:
            self.mon.close()
        self.stop()
        for ns in (self.ns_sw, self.ns_a, self.ns_b):
            delete_ns(ns)


ERRORS = []


def guarded(pair, fn, *args):
    """Run one measurement; a daemon that misbehaves costs its own cells only."""
    try:
        fn(pair, *args)
    except (RuntimeError, OSError, queue.Empty) as e:
        name = args[0].__name__ if fn.__name__ == "hc_section" else fn.__name__
        msg = "%s: %s: %s" % (pair.kind, name, e or type(e).__name__)
        ERRORS.append(msg)
        log("ERROR " + msg)
        try:
            pair.link_a(True)
            pair.stop()
        except (RuntimeError, OSError):
            pass


def run_point(pair, interval_ms, trials, what, out):
    """failover and/or graceful trials for one pair at one interval."""
    pair.stop()
    pair.start(interval_ms)
    pair.wait_stable()
    r = out.setdefault(pair.kind, {}).setdefault(str(interval_ms), {})
    for kind in ("failover", "graceful"):
        if kind not in what:
            continue
        lst = r.setdefault(kind, [])
        for i in range(trials):
            try:
                res = pair.trial_failover() if kind == "failover" else pair.trial_graceful()
            except RuntimeError as e:
                res = {"ok": False, "why": str(e)}
                log("%s %s @%dms trial %d: %s; restarting" % (pair.kind, kind, interval_ms, i + 1, e))
                pair.link_a(True)
                pair.stop()
                pair.start(interval_ms)
                pair.wait_stable()
            lst.append(res)
            log("%-10s %-8s @%5d ms  trial %2d/%d: %s" % (
                pair.kind, kind, interval_ms, i + 1, trials,
                "%.2f ms" % res["ms"] if res["ok"] else "FAILED (%s)" % res.get("why")))
    pair.stop()


STRACE_SECONDS = 3.0


def measure_cpu(pair, seconds, out, workdir):
    """CPU and PSS over the window at 10 ms adverts; in the same window the
    egress timestamps of the master's adverts (a sniffer on its own eth0);
    after it, strace -c on the master for STRACE_SECONDS (syscalls per advert;
    strace slows the tracee, so never inside the CPU window)."""
    iv = 10
    pair.stop()
    pair.start(iv)
    pair.wait_stable()
    if pair.mon:            # its wake-ups would only add noise now
        pair.mon.close()
        pair.mon = None
    res = {}
    try:    # the network tests' sniffer, in the master's namespace
        sniffer = AdvertSniffer(types.SimpleNamespace(ns=pair.ns_a, dir=pair.a.dir, name="a"),
                                "eth0", IP_A).start()
    except (RuntimeError, OSError, AssertionError) as e:
        log("%s: no advert timing: %s" % (pair.kind, e))
        sniffer = None
    time.sleep(1.0)
    hz = os.sysconf("SC_CLK_TCK")
    trees = {r: d.tree() for r, d in (("master", pair.a), ("backup", pair.b))}
    t0 = time.monotonic()
    w0 = time.time_ns()
    c0 = {r: sum(proc_cpu_ticks(p) for p in pids) for r, pids in trees.items()}
    n0 = {r: sum(proc_runtime_ns(p) for p in pids) for r, pids in trees.items()}
    time.sleep(seconds)
    t1 = time.monotonic()
    w1 = time.time_ns()
    c1 = {r: sum(proc_cpu_ticks(p) for p in pids) for r, pids in trees.items()}
    n1 = {r: sum(proc_runtime_ns(p) for p in pids) for r, pids in trees.items()}
    wall = t1 - t0
    for r, pids in trees.items():
        mem = [proc_mem_kib(p) for p in pids]
        res[r] = {"pids": pids, "nproc": len(pids), "wall_s": wall,
                  "cpu_pct": 100.0 * (c1[r] - c0[r]) / hz / wall,
                  "cpu_pct_schedstat": 100.0 * (n1[r] - n0[r]) / 1e9 / wall,
                  "pss_kib": sum(m["pss"] for m in mem),
                  "uss_kib": sum(m["uss"] for m in mem),
                  "rss_kib": sum(m["rss"] for m in mem),
                  "mem_kib_each": mem}
    ok = pair.has_vip(pair.ns_a) and not pair.has_vip(pair.ns_b)
    res["stable_at_end"] = ok
    out.setdefault(pair.kind, {})["cpu"] = res
    log("%-10s CPU @10ms over %.0fs: master %.2f%% backup %.2f%%, PSS %d / %d KiB, "
        "USS %d / %d KiB (%d/%d procs)%s" % (
        pair.kind, wall, res["master"]["cpu_pct"], res["backup"]["cpu_pct"],
        res["master"]["pss_kib"], res["backup"]["pss_kib"],
        res["master"]["uss_kib"], res["backup"]["uss_kib"], res["master"]["nproc"],
        res["backup"]["nproc"], "" if ok else "  [state changed during the window!]"))

    st = None
    if shutil.which("strace"):
        try:
            pid = pair.a.sender_pid()
            st = strace_count(pid, STRACE_SECONDS,
                              os.path.join(workdir, "strace.%s.txt" % pair.kind))
            st = {"pid": pid, "t0": st[0], "t1": st[1], "calls": st[2]}
        except (RuntimeError, OSError, ValueError) as e:
            log("%s: strace: %s" % (pair.kind, e))
            st = None
    else:
        log("strace not found: no syscalls-per-advert row")

    if sniffer:
        try:
            d = sniffer.stop()
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            log("%s: sniffer: %s" % (pair.kind, e))
            d = None
        if d:
            # the master's adverts, not its priority-0 one (counted as other)
            ts = sorted(t for t, prio in sniffer.adverts_ns if prio)
            tm = advert_timing([t for t in ts if w0 <= t <= w1], iv)
            if tm:
                tm.update(drops=d["drops"], other_packets=d["other"] + len(d["adverts"]) - len(ts),
                          where="master eth0 egress")
                res["timing"] = tm
                log("%-10s adverts @10ms: %d, gap median %.3f ms, |gap-10ms| p99 %.3f max %.3f ms, "
                    "%.2f%% within 1 ms, %d gaps > 11 ms, drift from grid %+.2f..%+.2f ms, "
                    "%d dropped" % (
                        pair.kind, tm["adverts"], tm["gap_median_ms"], tm["dev_p99_ms"],
                        tm["dev_max_ms"], tm["within_1ms_pct"], tm["late_1ms"],
                        tm["drift_min_ms"], tm["drift_max_ms"], tm["drops"]))
            if st:
                st["adverts"] = sum(1 for t in ts if st["t0"] <= t <= st["t1"])
    if st:
        if not st.get("adverts"):   # no sniffer: the nominal count
            st["adverts_nominal"] = True
            st["adverts"] = round((st["t1"] - st["t0"]) / 1e6 / iv)
        st["per_advert"] = st["calls"]["total"] / st["adverts"]
        res["syscalls"] = st
        log("%-10s strace %.1fs on pid %d: %d syscalls / %d adverts = %.2f per advert (%s)" % (
            pair.kind, (st["t1"] - st["t0"]) / 1e9, st["pid"], st["calls"]["total"],
            st["adverts"], st["per_advert"], ", ".join(
                "%s %d" % kv for kv in sorted(st["calls"].items(), key=lambda kv: -kv[1])
                if kv[0] != "total")))
    pair.stop()


# ===================================================================
# Health checks: HAProxy killed -> VIP on the other node, and the CPU cost
# of 10 checks.  Each node is a "host": a network namespace and, inside it,
# a PID + mount namespace with its own /proc (PID 1: bench.py --init), so a
# host's checks see that host's HAProxy only, as on separate machines.
# ===================================================================

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
HC_PRIO_A, HC_PRIO_B, HC_WEIGHT = 101, 100, 2     # seed 001
HC_INTERVAL = 1000                                # advert interval, ms
HC_MON_PORT = 8404                                # HAProxy monitor-uri frontend
HC_TCP_PORTS = (5000, 5001, 5002)                 # HAProxy TCP frontends (checks-cpu)
HC_HTTP_PORTS = (8404, 8405, 8406)                # HAProxy monitor-uri frontends (checks-cpu)


def hc_target_ms():
    """Skew_Time of the backup at its effective priority, + 5 ms."""
    return skew_ms(HC_PRIO_B + HC_WEIGHT, HC_INTERVAL) + 5.0


class Host:
    """One machine: network namespace NS, and in it a PID + mount namespace
    whose PID 1 is `bench.py --init` (reaps orphans at once).  Programs are
    started in it with nsenter; their host pids are found through /proc."""

    def __init__(self, ns, workdir, name):
        self.ns, self.name = ns, name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.p = None
        self.init_pid = None
        self.pidns = None
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.sock = os.path.join(self.dir, "haproxy.sock")
        self.haproxy_starts = 0

    def start(self):
        self.p, line = spawn_self(
            self.ns, ["--init"], os.path.join(self.dir, "init.err"), 10,
            wrap=("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"),
            stdin=subprocess.DEVNULL)
        if not line.startswith("ready"):
            raise RuntimeError("host %s: init did not start (%r)" % (self.name, line))
        kids = proc_children(self.p.pid)     # ip netns exec execs unshare, which forks init
        if len(kids) != 1:
            raise RuntimeError("host %s: cannot find init (children of %d: %r)" % (
                self.name, self.p.pid, kids))
        self.init_pid = kids[0]
        self.pidns = os.stat("/proc/%d/ns/pid" % self.init_pid).st_ino

    def popen(self, argv, **kw):
        p = subprocess.Popen(["nsenter", "-t", str(self.init_pid), "-p", "-m", "-n", "--"] + argv,
                             start_new_session=True, **kw)
        REG.add_proc(p)
        return p

    def exec_pid(self, p, comm, timeout=5.0):
        """Host pid of the program nsenter P forked, once it has exec'd COMM."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for c in proc_children(p.pid):
                if proc_comm(c) == comm[:15]:
                    return c
            if p.poll() is not None:
                raise RuntimeError("%s exited with %s at start (host %s)" % (comm, p.returncode, self.name))
            time.sleep(0.005)
        raise RuntimeError("%s did not start in %.0fs (host %s)" % (comm, timeout, self.name))

    def pids(self, comm):
        """Host pids of this host's live (not zombie) processes named COMM."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if (os.stat("/proc/%s/ns/pid" % d).st_ino == self.pidns
                        and proc_comm(int(d)) == comm
                        and proc_stat_fields(int(d))[0] not in "ZX"):
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
        return out

    # ---- HAProxy (Debian's, master-worker, daemon, one thread)
    def write_haproxy_cfg(self, tcp_ports=(), http_ports=(HC_MON_PORT,)):
        fe = []
        for i, port in enumerate(http_ports):
            fe.append("frontend monitor%d\n    bind 127.0.0.1:%d\n    monitor-uri /up\n" % (i, port))
        for i, port in enumerate(tcp_ports):
            # accepted by the kernel and closed by HAProxy at once: a TCP
            # check needs nothing more
            fe.append("frontend tcp%d\n    mode tcp\n    bind 127.0.0.1:%d\n"
                      "    tcp-request connection reject\n" % (i, port))
        with open(self.cfg, "w") as f:
            f.write("global\n    stats socket %s mode 600 level admin\n    nbthread 1\n\n"
                    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
                    "    timeout server 5s\n\n%s" % (self.sock, "\n".join(fe)))

    def start_haproxy(self, timeout=5.0):
        self.haproxy_starts += 1
        with open(os.path.join(self.dir, "haproxy.log"), "a") as logf:
            logf.write("==== start %d\n" % self.haproxy_starts)
            logf.flush()
            p = self.popen([HAPROXY, "-W", "-D", "-f", self.cfg, "-p",
                            os.path.join(self.dir, "haproxy.pid")],
                           stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
            try:
                rc = p.wait(10)      # -D: returns once the master has daemonized
            except subprocess.TimeoutExpired:
                p.kill()
                raise RuntimeError("haproxy did not daemonize (host %s)" % self.name)
        if rc != 0:
            raise RuntimeError("haproxy exited %d (see %s/haproxy.log)" % (rc, self.dir))
        deadline = time.monotonic() + timeout
        while len(self.pids("haproxy")) < 2:      # master + worker
            if time.monotonic() > deadline:
                raise RuntimeError("haproxy: no master + worker after %.0fs (host %s)" % (
                    timeout, self.name))
            time.sleep(0.01)

    def kill_haproxy(self):
        """SIGKILL every haproxy process of this host; returns the
        CLOCK_REALTIME time just before the first kill, and the pids."""
        pids = self.pids("haproxy")
        if not pids:
            raise RuntimeError("no haproxy running on host %s" % self.name)
        t = time.time_ns()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return t, pids


def hc_vipd_check(c, host):
    opts = {}
    if c["type"] == "process":
        opts["name"] = "haproxy"
    elif c["type"] == "haproxy":
        opts["socket"] = host.sock
    elif c["type"] == "tcp":
        opts["address"] = "127.0.0.1:%d" % c["port"]
    elif c["type"] == "http":
        opts["url"] = "http://127.0.0.1:%d/up" % c["port"]
    opts["interval"] = "%dms" % c["interval_ms"]
    if c.get("timeout_ms"):
        opts["timeout"] = "%dms" % c["timeout_ms"]
    opts.update(rise=1, fall=1, weight=c["weight"])
    return check_section(c["name"], c["type"], **opts)


def hc_keepalived_script(c):
    if c["type"] == "process":
        cmd = "/usr/bin/killall -0 haproxy"
    elif c["type"] == "tcp":
        cmd = "/bin/bash -c '</dev/tcp/127.0.0.1/%d'" % c["port"]
    elif c["type"] == "http":
        cmd = "/usr/bin/curl -sf -o /dev/null http://127.0.0.1:%d/up" % c["port"]
    else:
        raise RuntimeError("keepalived has no %s check" % c["type"])
    body = ["    script \"%s\"" % cmd, "    interval %g" % (c["interval_ms"] / 1000.0)]
    if c.get("timeout_ms"):
        body.append("    timeout %g" % (c["timeout_ms"] / 1000.0))
    body += ["    weight %d" % c["weight"], "    fall 1", "    rise 1"]
    return "vrrp_script %s {\n%s\n}\n" % (c["name"], "\n".join(body))


class HcDaemon(Daemon):
    """A vipd or keepalived on a Host, with health checks."""

    def __init__(self, kind, binpath, host, role, prio, checks):
        super().__init__(kind, binpath, host.ns, role, None, os.path.join(host.dir, kind), prio)
        self.host = host
        self.checks = checks
        self.pid = None

    def write_conf(self, interval_ms):
        d = self.dir
        if self.kind == "vipd":
            conf = "[global]\n%s\n" % vipd_global(d + "/vipd.pid", d + "/vipd.sock")
            conf += "\n".join(hc_vipd_check(c, self.host) for c in self.checks)
            conf += "\n" + vipd_instance("VI_1", vrid=VRID, priority=self.prio,
                                         interval="%dms" % interval_ms, vips=(VIP_CIDR,),
                                         preempt=True, track=[c["name"] for c in self.checks])
            path = os.path.join(d, "vipd.conf")
        else:
            conf = ka_global(self.role, "    enable_script_security\n    script_user root\n")
            conf += "\n" + "\n".join(hc_keepalived_script(c) for c in self.checks)
            conf += "\n" + ka_instance(
                "VI_1", "eth0", VRID, self.role, self.prio, interval_ms, VIP_CIDR,
                "    track_script {\n%s    }\n" % "".join(
                    "        %s\n" % c["name"] for c in self.checks))
            path = os.path.join(d, "keepalived.conf")
        with open(path, "w") as f:
            f.write(conf)
        if self.kind == "vipd":
            r = subprocess.run([self.bin, "-t", "-f", path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise RuntimeError("vipd -t -f %s: %s" % (path, r.stdout.strip()))
        return path

    def spawn(self, argv):
        self.p = self.host.popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                 stderr=subprocess.STDOUT)
        self.pid = self.host.exec_pid(self.p, os.path.basename(self.bin))

    def main_pid(self):
        return self.pid

    def signal(self, sig):
        os.kill(self.pid, sig)


def hc_checks_haproxy(variant):
    """The check of the 'HAProxy killed' trials: seed 001's `killall -0
    haproxy`, interval 2, weight 2, fall 1, rise 1 (vipd: a process check);
    the 'socket' variant is vipd's stats-socket check."""
    if variant == "socket":
        return [{"name": "chk_haproxy", "type": "haproxy", "interval_ms": 2000,
                 "timeout_ms": 1000, "weight": HC_WEIGHT}]
    return [{"name": "chk_haproxy", "type": "process", "interval_ms": 2000, "weight": HC_WEIGHT}]


def hc_checks_cpu():
    """10 checks at 1 s: 4 process, 3 TCP, 3 HTTP (monitor-uri), weight 1 each."""
    cs = [{"name": "chk_proc%d" % i, "type": "process"} for i in range(1, 5)]
    cs += [{"name": "chk_tcp%d" % i, "type": "tcp", "port": p} for i, p in enumerate(HC_TCP_PORTS, 1)]
    cs += [{"name": "chk_http%d" % i, "type": "http", "port": p} for i, p in enumerate(HC_HTTP_PORTS, 1)]
    for c in cs:
        c.update(interval_ms=1000, timeout_ms=1000, weight=1)
    return cs


class HcPair(Pair):
    """Pair topology (switch, A = prio 101, B = prio 100), each node a Host
    running its own HAProxy and daemon with checks; monitor on B."""

    prio_a = HC_PRIO_A + HC_WEIGHT

    def __init__(self, kind, binpath, tag, workdir, checks):
        self.kind = kind
        self.ns_sw, self.ns_a, self.ns_b = (ns_name(tag + r) for r in "sab")
        self.workdir = workdir
        self.hosts = {"a": Host(self.ns_a, workdir, "%s-%s-a" % (tag, kind)),
                      "b": Host(self.ns_b, workdir, "%s-%s-b" % (tag, kind))}
        self.a = HcDaemon(kind, binpath, self.hosts["a"], "a", HC_PRIO_A, checks)
        self.b = HcDaemon(kind, binpath, self.hosts["b"], "b", HC_PRIO_B, checks)
        self.mon = None
        self.interval = None

    def setup(self):
        Pair.setup(self)
        for h in self.hosts.values():
            h.start()
            h.write_haproxy_cfg()
            h.start_haproxy()

    def set_checks(self, checks):
        self.a.checks = self.b.checks = checks

    def trial_haproxy(self):
        # random phase in the advert cycle and in the check's cycle (2 s)
        span = max([self.interval] + [c["interval_ms"] for c in self.a.checks])
        time.sleep(random.uniform(0, span / 1000.0))
        self.mon.drain()
        t_kill, pids = self.hosts["a"].kill_haproxy()
        ev = self.mon.wait_event("add", 20)
        if ev is None:
            self.hosts["a"].start_haproxy()
            raise RuntimeError("VIP never added on the backup after HAProxy was killed")
        pa = ev["peers"].get(IP_A, {})
        res = {"ok": True, "t_kill": t_kill, "killed": len(pids), "t_add": ev["t"],
               "ms": (ev["t"] - t_kill) / 1e6, "a_prio_at_add": pa.get("prio"),
               "t_lowered": None, "lowered_ms": None, "lowered_to_add_ms": None}
        if pa.get("prio") == HC_PRIO_A and pa.get("tchg", 0) > t_kill:
            res.update(t_lowered=pa["tchg"], lowered_ms=(pa["tchg"] - t_kill) / 1e6,
                       lowered_to_add_ms=(ev["t"] - pa["tchg"]) / 1e6)
        else:
            res.update(ok=False, why="A's last advert before the takeover had prio %r, not %d" % (
                pa.get("prio"), HC_PRIO_A))
        # HAProxy back on A: A's priority rises again and it preempts
        t_restart = time.time_ns()
        self.hosts["a"].start_haproxy()
        ev = self.mon.wait_event("del", 30)
        if ev is None:
            raise RuntimeError("VIP not back on A within 30 s of the HAProxy restart")
        res["restore_ms"] = (ev["t"] - t_restart) / 1e6
        self.wait_stable(timeout=30, adverts=1)
        return res

    def teardown(self):
        Pair.teardown(self)


def hc_section(pair, fn, *args):
    """Set PAIR up (hosts, HAProxies, monitor), then run FN on it."""
    pair.setup()
    fn(pair, *args)


def run_haproxy(pair, trials, variants, out):
    """HAProxy killed on the master -> VIP on the backup, TRIALS times per
    check variant."""
    r = out.setdefault(pair.kind, {}).setdefault("haproxy", {})
    for variant in variants:
        pair.stop()
        pair.set_checks(hc_checks_haproxy(variant))
        pair.start(HC_INTERVAL)
        pair.wait_stable(timeout=30)
        lst = r.setdefault(variant, [])
        for i in range(trials):
            try:
                res = pair.trial_haproxy()
            except RuntimeError as e:
                res = {"ok": False, "why": str(e)}
                log("%s haproxy/%s trial %d: %s; restarting" % (pair.kind, variant, i + 1, e))
                pair.stop()
                for h in pair.hosts.values():
                    if not h.pids("haproxy"):
                        h.start_haproxy()
                pair.start(HC_INTERVAL)
                pair.wait_stable(timeout=30)
            lst.append(res)
            log("%-10s haproxy/%-7s trial %2d/%d: %s" % (
                pair.kind, variant, i + 1, trials,
                "VIP on B %.1f ms after the kill (A's prio-%d advert at %s ms), back on A %.0f ms "
                "after the restart" % (res["ms"], HC_PRIO_A,
                                       "%.1f" % res["lowered_ms"] if res["lowered_ms"] is not None else "?",
                                       res["restore_ms"])
                if res.get("ms") is not None and res.get("restore_ms") is not None
                else "FAILED (%s)" % res.get("why")))
    pair.stop()


class ChecksCpuLab(HcPair):
    """One host (A) on a switch, its HAProxy with the check targets, and one
    daemon with hc_checks_cpu(); no peer, so it is Master on its own."""

    def setup(self):
        self.topology((("pa", self.ns_a, IP_A),))
        h = self.hosts["a"]
        h.start()
        h.write_haproxy_cfg(tcp_ports=HC_TCP_PORTS, http_ports=HC_HTTP_PORTS)
        h.start_haproxy()

    def start(self, interval_ms):
        self.interval = interval_ms
        self.a.start(interval_ms)

    def stop(self):
        self.a.stop()

    def vipd_status(self):
        vipctl = os.path.join(os.path.dirname(self.a.bin), "vipctl")
        r = subprocess.run([vipctl, "-S", os.path.join(self.a.dir, "vipd.sock"), "status", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=5)
        if r.returncode != 0:
            raise RuntimeError("vipctl status: %s" % r.stderr.strip())
        return json.loads(r.stdout)

    def all_up(self):
        """(every check up and the VIP held, detail) at this moment."""
        want = self.a.prio + sum(c["weight"] for c in self.a.checks)
        if not self.has_vip(self.ns_a):
            return False, "no VIP"
        if self.kind == "vipd":
            st = self.vipd_status()
            down = [c["name"] for c in st.get("checks", []) if c.get("state") != "up"]
            inst = st["instances"][0]
            return (not down and inst["effective_priority"] == want,
                    {"runs": sum(c.get("runs", 0) for c in st.get("checks", [])), "down": down,
                     "effective_priority": inst["effective_priority"]})
        # keepalived: its last "Changing effective priority from X to Y"
        prio = self.a.prio
        with open(os.path.join(self.a.dir, "log")) as f:
            for ln in f:
                if ln.startswith("===="):
                    prio = self.a.prio
                elif "effective priority from" in ln:
                    prio = int(ln.split()[-1])
        return prio == want, {"effective_priority": prio}


def tree_cpu(d):
    """CPU counters of a daemon's process tree: per pid (comm, utime+stime,
    cutime+cstime in ticks, schedstat run time of its live threads in ns)."""
    out = {}
    for pid in d.tree():
        try:
            f = proc_stat_fields(pid)
            out[pid] = (proc_comm(pid), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
                        proc_runtime_ns(pid))
        except (OSError, ValueError, IndexError):
            pass
    return out


def measure_checks_cpu(lab, seconds, out):
    """CPU of the daemon and its children, and its PSS, over SECONDS with
    hc_checks_cpu() running at 1 s, Master alone at 1 s adverts."""
    lab.stop()
    lab.start(HC_INTERVAL)
    deadline = time.monotonic() + 20
    while True:
        ok, det = lab.all_up()
        if ok:
            break
        if not lab.a.alive():
            raise RuntimeError("%s exited (see %s)" % (lab.kind, lab.a.dir))
        if time.monotonic() > deadline:
            raise RuntimeError("%s: checks not all up / no VIP within 20 s: %r" % (lab.kind, det))
        time.sleep(0.25)
    time.sleep(2.0)
    _ok, det0 = lab.all_up()     # (vipctl is outside the window)
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    c0 = tree_cpu(lab.a)
    time.sleep(seconds)
    c1 = tree_cpu(lab.a)
    wall = time.monotonic() - t0
    ok, det1 = lab.all_up()
    ticks = sum(v[1] + v[2] for v in c1.values()) - sum(v[1] + v[2] for v in c0.values())
    # sub-tick resolution: schedstat of the live threads, plus the children
    # reaped in the window (cutime + cstime, ticks)
    # (threads that exited in the window are missing from schedstat but in
    # utime+stime: take the larger of the two for the daemon's own time)
    fine_ns = (max(sum(v[3] for v in c1.values()) - sum(v[3] for v in c0.values()),
                   (sum(v[1] for v in c1.values()) - sum(v[1] for v in c0.values())) * 1e9 / hz)
               + (sum(v[2] for v in c1.values()) - sum(v[2] for v in c0.values())) * 1e9 / hz)
    name = os.path.basename(lab.a.bin)[:15]
    long_lived = [p for p in c1 if c1[p][0] == name and p in c0]
    mem = [proc_mem_kib(p) for p in long_lived]
    res = {"wall_s": wall, "cpu_pct": 100.0 * ticks / hz / wall,
           "cpu_pct_fine": 100.0 * fine_ns / 1e9 / wall,
           "children_ticks": sum(v[2] for v in c1.values()) - sum(v[2] for v in c0.values()),
           "self_ticks": sum(v[1] for v in c1.values()) - sum(v[1] for v in c0.values()),
           "procs": len(long_lived), "pss_kib": sum(m["pss"] for m in mem),
           "uss_kib": sum(m["uss"] for m in mem), "rss_kib": sum(m["rss"] for m in mem),
           "checks": [c["name"] for c in lab.a.checks], "all_up_at_end": ok,
           "status_start": det0, "status_end": det1}
    if lab.kind == "vipd" and isinstance(det0, dict) and "runs" in det0:
        res["check_runs_per_s"] = (det1["runs"] - det0["runs"]) / wall
    out.setdefault(lab.kind, {})["checks_cpu"] = res
    log("%-10s 10 checks @1s over %.0fs: CPU %.3f%% (in ticks %.3f%%: own %d, children %d), "
        "PSS %d KiB USS %d KiB (%d procs)%s%s" % (
            lab.kind, wall, res["cpu_pct_fine"], res["cpu_pct"], res["self_ticks"],
            res["children_ticks"], res["pss_kib"], res["uss_kib"], res["procs"],
            ", %.1f check runs/s" % res["check_runs_per_s"] if "check_runs_per_s" in res else "",
            "" if ok else "  [not all checks up at the end: %r]" % (det1,)))
    lab.stop()


# ===================================================================
# Scale: N instances on one link (or 1000 over 4 links), vipd next to
# keepalived.  Two hosts joined by veth pairs (no switch), the master at
# priority 150, the backup at 100, 100 ms adverts, one VIP per instance.
# ===================================================================

SCALE_IV = 100                  # advert interval, ms
SCALE_DEFAULT = "1,20,100,255,255x2,1000/4"
SCALE_SETTLE = 2.0              # s between convergence and the window
SCALE_IFS_MAX = 4
# VIPs (/32) in this order: 753 IPv4 addresses, then IPv6 2001:db8::1:N (/128)
SCALE_V4_POOL = [("198.51.100.%d" % i) for i in range(1, 255)] + \
    [("203.0.113.%d" % i) for i in range(1, 255)] + [("192.0.2.%d" % i) for i in range(10, 255)]


def scale_host4(role, k):
    """The hosts' own addresses: 192.0.2.1 (A) / .2 (B) on eth0, .3 / .4 on eth1..."""
    return "192.0.2.%d" % (1 + 2 * k + (role == "b"))


class ScaleSpec:
    """One row: `N` (IPv4, one interface), `Nx2` (IPv4 + IPv6 on the same
    VRIDs, one interface), `N/K` (N instances over K interfaces, N/K each;
    the K-th interface carries IPv6 instances when K > 1 and IPv4 would run
    out of documentation addresses)."""

    def __init__(self, token):
        self.token = token
        t = token.strip()
        self.vmac = t.endswith("v")     # use_vmac on every instance
        if self.vmac:
            t = t[:-1]
        self.families, self.nif = (4,), 1
        if t.endswith("x2"):
            self.n_per = int(t[:-2])
            self.families = (4, 6)
        elif "/" in t:
            n, k = t.split("/")
            self.nif = int(k)
            if not 1 <= self.nif <= SCALE_IFS_MAX or int(n) % self.nif:
                raise ValueError("%s: N/K needs K in 1..%d dividing N" % (token, SCALE_IFS_MAX))
            self.n_per = int(n) // self.nif
        else:
            self.n_per = int(t)
        if not 1 <= self.n_per <= 255:
            raise ValueError("%s: at most 255 VRIDs per interface and family" % token)
        # (ifname, family, vrid, vip) of every instance
        self.insts = []
        i4 = i6 = 0
        for k in range(self.nif):
            fams = self.families
            if self.nif > 1 and (k + 1) * self.n_per > len(SCALE_V4_POOL):
                fams = (6,)      # IPv4 documentation ranges used up: IPv6 here
            for fam in fams:
                for vrid in range(1, self.n_per + 1):
                    if fam == 4:
                        if i4 >= len(SCALE_V4_POOL):
                            raise ValueError("%s: more than %d IPv4 VIPs" % (token, len(SCALE_V4_POOL)))
                        vip = SCALE_V4_POOL[i4]
                        i4 += 1
                    else:
                        vip = scale_vip(i6, 6)
                        i6 += 1
                    self.insts.append(("eth%d" % k, fam, vrid, vip))
        self.n = len(self.insts)
        self.v6 = any(f == 6 for _, f, _, _ in self.insts)
        self.ifaces = ["eth%d" % k for k in range(self.nif)]

    def label(self):
        return self._label() + (" vmac" if self.vmac else "")

    def vmac_name(self, ifn, fam, vrid):
        """The instance's link: unique across interfaces, at most 15 characters."""
        return "vm%s%s.%d" % (ifn[3:], "6" if fam == 6 else "", vrid)

    def _label(self):
        fams = sorted({f for _, f, _, _ in self.insts})
        if self.nif > 1:
            per = {}
            for ifn, f, _, _ in self.insts:
                per.setdefault(ifn, set()).add(f)
            n4 = sum(1 for _, f, _, _ in self.insts if f == 4)
            return "%d over %d ifs (%d v4, %d v6)" % (self.n, self.nif, n4, self.n - n4)
        if fams == [4, 6]:
            return "%d x 2 (v4+v6)" % self.n_per
        return "%d IPv%d" % (self.n, fams[0])

    def vips(self):
        return [v for _, _, _, v in self.insts]


def scale_vipd_conf(spec, d, prio):
    return "[global]\n%s\n%s" % (vipd_global(d + "/vipd.pid", d + "/vipd.sock"), "\n".join(
        vipd_instance("%s_v%d_%d" % (ifn, fam, vrid), ifn, vrid, prio, "%dms" % SCALE_IV,
                      (vip,), preempt=True,
                      **({"use_vmac": spec.vmac_name(ifn, fam, vrid)} if spec.vmac else {}))
        for ifn, fam, vrid, vip in spec.insts))


def scale_keepalived_conf(spec, role, prio):
    return ka_global(role) + "\n" + "\n".join(
        ka_instance("%s_v%d_%d" % (ifn, fam, vrid), ifn, vrid, role, prio, SCALE_IV, vip,
                    "    use_vmac %s\n" % spec.vmac_name(ifn, fam, vrid) if spec.vmac else "")
        for ifn, fam, vrid, vip in spec.insts)


def signame(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "?"


def exit_text(rc):
    """'died: signal 24 (SIGXCPU)' / 'exited 1'."""
    if rc is None:
        return "alive"
    if rc < 0:
        return "died: signal %d (%s)" % (-rc, signame(-rc))
    return "exited %d" % rc


# transitions in a daemon's log: vipd "VI BACKUP -> MASTER (reason)",
# keepalived "(VI) Entering MASTER STATE"
SCALE_FLIP_RE = {"vipd": re.compile(r" (?:INIT|BACKUP|MASTER|FAULT) -> (?:BACKUP|MASTER|FAULT|STOP) \("),
                 "keepalived": re.compile(r"Entering (?:BACKUP|MASTER|FAULT) STATE")}


def count_flips(kind, path, start, end):
    """State transitions logged between byte offsets START and END."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(max(0, end - start)).decode(errors="replace")
    return len(SCALE_FLIP_RE[kind].findall(text))


RTMGRP_IPV6_IFADDR = 0x100
NLMSG_DONE, NLMSG_ERROR = 3, 2


def addr_watch_main(argv):
    """bench.py --addr-watch FILE, in a namespace: how many of the addresses
    listed in FILE (one per line) are on any interface.  A NETLINK_ROUTE
    socket on the IPv4 and IPv6 address groups (no `ip` process, no RTNL
    lock: events arrive however busy the machine is); a dump at the start
    and after the kernel reports an overrun.  Prints {"ev": "n", "n": K,
    "t": CLOCK_MONOTONIC} each time K changes (once per wake-up)."""
    with open(argv[0]) as f:
        want = {str(ipaddress.ip_address(x.strip())) for x in f if x.strip()}
    ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    try:
        ev.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        ev.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    ev.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
    have = set()     # (ifindex, address) of the wanted addresses present

    def parse(buf):
        """Apply RTM_NEWADDR / RTM_DELADDR in BUF; True at NLMSG_DONE."""
        off = 0
        while off + 16 <= len(buf):
            mlen, mtype = struct.unpack_from("IH", buf, off)
            if mlen < 16:
                break
            if mtype == NLMSG_DONE:
                return True
            if mtype in (RTM_NEWADDR, RTM_DELADDR) and mlen >= 24:
                fam, _plen, _fl, _sc, idx = struct.unpack_from("BBBBI", buf, off + 16)
                addrs, a = {}, off + 24
                while a + 4 <= off + mlen:
                    rlen, rtype = struct.unpack_from("HH", buf, a)
                    if rlen < 4:
                        break
                    if rtype in (IFA_ADDRESS, IFA_LOCAL) and rlen in (8, 20):
                        addrs[rtype] = str(ipaddress.ip_address(bytes(buf[a + 4:a + rlen])))
                    a += (rlen + 3) & ~3
                ip = addrs.get(IFA_LOCAL) or addrs.get(IFA_ADDRESS)
                if ip in want:
                    (have.add if mtype == RTM_NEWADDR else have.discard)((idx, ip))
            off += (mlen + 3) & ~3
        return False

    def dump():
        have.clear()
        d = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        d.bind((0, 0))
        d.send(struct.pack("IHHII", 24, 22, 0x301, 1, 0) + struct.pack("BBBBI", 0, 0, 0, 0, 0))
        while not parse(d.recv(1 << 20)):       # RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP
            pass
        d.close()

    def emit(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    dump()
    last = len(have)
    emit({"ev": "ready", "n": last, "t": time.monotonic()})
    poller = select.poll()
    poller.register(ev.fileno(), select.POLLIN)
    poller.register(sys.stdin.fileno(), select.POLLIN)
    while True:
        fds = {fd for fd, _ in poller.poll()}
        t = time.monotonic()
        if sys.stdin.fileno() in fds:
            return 0
        while True:
            try:
                parse(ev.recv(1 << 20, socket.MSG_DONTWAIT))
            except BlockingIOError:
                break
            except OSError:         # ENOBUFS: events lost, read the state anew
                emit({"ev": "overrun", "t": t})
                dump()
        if len(have) != last:
            last = len(have)
            emit({"ev": "n", "n": last, "t": t})


class AddrWatch(JsonHelper):
    """bench.py --addr-watch in a namespace; .n and .t_full follow it."""

    what = "address watcher"

    def __init__(self, ns, addrs, path):
        with open(path, "w") as f:
            f.write("\n".join(addrs) + "\n")
        self.want = len(addrs)
        self.n, self.t_full, self.overruns = 0, None, 0
        super().__init__(ns, ["--addr-watch", path], path + ".err", 15)

    def event(self, ev):
        if ev["ev"] == "ready":
            self.n = ev["n"]
        elif ev["ev"] == "overrun":
            self.overruns += 1
        elif ev["ev"] == "n":
            self.n = ev["n"]
            if self.n == self.want and self.t_full is None:
                self.t_full = ev["t"]


def scale_sniff_main(argv):
    """bench.py --scale-sniff IF1,IF2,...: the master's own adverts
    (PACKET_OUTGOING, priority > 0), kernel egress timestamps, per
    (interface, family, VRID).  Wakes twice a second.  A line "W0 W1" (ns)
    on stdin: prints, per VRID, the adverts and the largest gap covering
    the window [W0, W1] (gaps whose later advert is after W0 and earlier
    one before W1), then exits."""
    socks = {n: vrrp_packet_socket(n, 32 << 20, ipv6=True) for n in argv[0].split(",")}
    ts = {}
    other, drops = 0, 0

    def drain():
        nonlocal other
        for ifn, ps in socks.items():
            while True:
                try:
                    data, anc, _fl, addr = ps.recvmsg(128, socket.CMSG_SPACE(16))
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING or not data:
                    other += 1
                    continue
                t = packet_ts(anc) or time.time_ns()
                if addr[1] == 0x0800 and len(data) >= 20:
                    off, fam = (data[0] & 0x0F) * 4, 4
                elif addr[1] == 0x86DD:
                    off, fam = 40, 6
                else:
                    other += 1
                    continue
                if len(data) < off + 3 or data[off] >> 4 != 3 or data[off + 2] == 0:
                    other += 1
                    continue
                ts.setdefault("%s/%d/%d" % (ifn, fam, data[off + 1]), []).append(t)

    def stats():
        nonlocal drops
        for ps in socks.values():
            drops += packet_drops(ps)

    stats()
    sys.stdout.write(json.dumps({"ev": "ready"}) + "\n")
    sys.stdout.flush()
    while True:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        drain()
        stats()
        if r:
            w = sys.stdin.readline().split()
            w0, w1 = int(w[0]), int(w[1])
            per = {}
            for key, lst in ts.items():
                lst.sort()
                gaps = [(b - a, b) for a, b in zip(lst, lst[1:]) if b > w0 and a < w1]
                n = sum(1 for t in lst if w0 <= t <= w1)
                g, at = max(gaps) if gaps else (None, None)
                per[key] = {"n": n, "max_gap_ms": g / 1e6 if g else None,
                            "at_s": (at - w0) / 1e9 if at else None}
            sys.stdout.write(json.dumps({"ev": "dump", "per": per, "other": other,
                                         "drops": drops}) + "\n")
            sys.stdout.flush()
            return 0


class ScaleLab:
    """Master (A) and backup (B) namespaces joined by veth pairs eth0..ethK."""

    def __init__(self, kind, binpath, spec, workdir):
        self.kind, self.bin, self.spec = kind, binpath, spec
        self.ns = {"a": ns_name("qa"), "b": ns_name("qb")}
        self.dir = os.path.join(workdir, "scale-%s-%s" % (kind, spec.token.replace("/", "of")))
        os.makedirs(self.dir, exist_ok=True)
        self.p, self.logs, self.tstart = {}, {}, {}
        self.sniffer = None
        self.watch = {}

    def start_watchers(self):
        for role, ns in self.ns.items():
            self.watch[role] = AddrWatch(ns, self.spec.vips(),
                                         os.path.join(self.dir, "vips-%s.txt" % role))

    def setup(self):
        v6off = "0" if self.spec.v6 else "1"
        for role, ns in self.ns.items():
            netns_add(ns, ("net.ipv6.conf.all.disable_ipv6=" + v6off,
                           "net.ipv6.conf.default.disable_ipv6=" + v6off) + NO_DAD)
        for k, ifn in enumerate(self.spec.ifaces):
            sh(["ip", "-n", self.ns["a"], "link", "add", ifn, "type", "veth", "peer", "name", ifn,
                "netns", self.ns["b"]])
            for role, ns in self.ns.items():
                sh(["ip", "-n", ns, "addr", "add", scale_host4(role, k) + "/24", "dev", ifn])
                sh(["ip", "-n", ns, "link", "set", ifn, "up"])
        if self.spec.v6:        # vipd sends IPv6 adverts from the link-local address
            deadline = time.monotonic() + 10
            while not all(self._ll_ready(ns) for ns in self.ns.values()):
                if time.monotonic() > deadline:
                    raise RuntimeError("scale: no link-local addresses after 10 s")
                time.sleep(0.05)

    def _ll_ready(self, ns):
        out = sh(["ip", "-n", ns, "-6", "-o", "addr", "show", "scope", "link"]).stdout
        return sum(1 for ln in out.splitlines() if "tentative" not in ln) >= len(self.spec.ifaces)

    def start(self, role):
        d = os.path.join(self.dir, role)
        os.makedirs(d, exist_ok=True)
        prio = PRIO_A if role == "a" else PRIO_B
        if self.kind == "vipd":
            conf = os.path.join(d, "vipd.conf")
            text = scale_vipd_conf(self.spec, d, prio)
        else:
            conf = os.path.join(d, "keepalived.conf")
            text = scale_keepalived_conf(self.spec, role, prio)
        argv = daemon_argv(self.kind, self.bin, conf, d)
        with open(conf, "w") as f:
            f.write(text)
        self.logs[role] = os.path.join(d, "log")
        logf = open(self.logs[role], "a")
        self.tstart[role] = time.monotonic()
        self.p[role] = subprocess.Popen(["ip", "netns", "exec", self.ns[role]] + argv,
                                        stdin=subprocess.DEVNULL, stdout=logf,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        REG.add_proc(self.p[role])

    def rc(self, role):
        """None while alive, else the exit status (negative: the signal)."""
        return self.p[role].poll()

    def tree(self, role):
        return proc_tree(self.p[role].pid)

    def vipd_daemon_status(self, role):
        """The "daemon" object of `vipctl status --json` (None if vipctl is
        missing, does not answer, or the daemon predates that object)."""
        vipctl = os.path.join(os.path.dirname(self.bin), "vipctl")
        sock = os.path.join(self.dir, role, "vipd.sock")
        if self.rc(role) is not None or not os.access(vipctl, os.X_OK):
            return None
        try:
            r = subprocess.run(["ip", "netns", "exec", self.ns[role], vipctl, "-S", sock,
                                "status", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, timeout=10)
            return json.loads(r.stdout).get("daemon") if r.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError, AttributeError):
            return None

    def log_size(self, role):
        return os.path.getsize(self.logs[role])

    def start_sniffer(self):
        p, line = spawn_self(self.ns["a"], ["--scale-sniff", ",".join(self.spec.ifaces)],
                             os.path.join(self.dir, "sniff.err"), 30)
        if '"ready"' not in line:
            p.kill()
            raise RuntimeError("scale sniffer did not start: %r" % line[:200])
        self.sniffer = p

    def sniffer_dump(self, w0, w1):
        p, self.sniffer = self.sniffer, None
        p.stdin.write("%d %d\n" % (w0, w1))
        p.stdin.flush()
        r, _, _ = select.select([p.stdout], [], [], 30)
        line = p.stdout.readline() if r else ""
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            # its result is in; closing its packet sockets can wait long for
            # an RCU grace period on a machine the daemons keep busy: the
            # teardown kills what is left of it
            p.kill()
        return json.loads(line)

    def stop(self, role, timeout=20):
        p = self.p.get(role)
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log("scale %s %s did not stop in %ss: SIGKILL" % (self.kind, role, timeout))
            p.kill()
            p.wait(5)

    def teardown(self):
        if self.sniffer and self.sniffer.poll() is None:
            self.sniffer.kill()
            self.sniffer.wait(5)
        for role in ("a", "b"):
            self.stop(role)
        for w in self.watch.values():
            w.close()
        for ns in self.ns.values():
            delete_ns(ns)
        # the next row reuses the names: wait until they are really gone
        deadline = time.monotonic() + 10
        while any(os.path.exists("/var/run/netns/" + ns) for ns in self.ns.values()):
            if time.monotonic() > deadline:
                raise RuntimeError("scale: namespaces %s not removed" % list(self.ns.values()))
            time.sleep(0.05)


def measure_scale(kind, binpath, spec, window, workdir, out):
    """One row: start both, time convergence, then a WINDOW s measurement."""
    lab = ScaleLab(kind, binpath, spec, workdir)
    res = {"kind": kind, "token": spec.token, "label": spec.label(), "n": spec.n,
           "window_s": window}
    out.setdefault("scale", []).append(res)
    want = {ipaddress.ip_address(v) for v in spec.vips()}
    try:
        lab.setup()
        lab.start_watchers()
        try:        # before the daemons: they may keep the machine busy
            lab.start_sniffer()
        except (RuntimeError, OSError) as e:
            log("scale %s: no advert gaps: %s" % (kind, e))
        log("scale %-10s %s: starting (%d instances)" % (kind, spec.label(), spec.n))
        lab.start("b")
        lab.start("a")
        # converge: every VIP on the master, none on the backup; if that does
        # not happen within LIMIT s, the window is still measured (it shows why)
        limit = 20 + spec.n / 50.0
        wa, wb = lab.watch["a"], lab.watch["b"]
        while True:
            if wa.t_full is not None and not wb.n:
                break
            if (lab.rc("a") is not None or lab.rc("b") is not None
                    or time.monotonic() - lab.tstart["a"] > limit):
                break
            time.sleep(0.02)
        t_full, have_a, have_b = wa.t_full, wa.n, wb.n
        res["converge_loop_s"] = time.monotonic() - lab.tstart["a"]
        conv = t_full - lab.tstart["a"] if t_full is not None else None
        res.update(converge_s=conv, vips_on_master=have_a, vips_on_backup=have_b)
        if conv is None or have_b:
            res["why"] = ("%d/%d VIPs on the master, %d on the backup after %.1f s" % (
                have_a, len(want), have_b, time.monotonic() - lab.tstart["a"]))
        if lab.rc("a") is None and lab.rc("b") is None:
            time.sleep(SCALE_SETTLE)
            trees = {r: lab.tree(r) for r in ("a", "b")}
            logs0 = {r: lab.log_size(r) for r in ("a", "b")}
            # run time of each process, re-read every 0.2 s: a process that
            # dies in the window keeps its last reading (and its time span)
            pids = [p for r in ("a", "b") for p in trees[r]]
            first, last = {}, {}
            w0 = time.time_ns()
            t0 = time.monotonic()
            end = t0 + window
            while True:
                now = time.monotonic()
                for pid in pids:
                    try:
                        last[pid] = (proc_runtime_ns(pid), now)
                        first.setdefault(pid, last[pid])
                    except (OSError, ValueError):
                        pass
                if now >= end or lab.rc("a") is not None or lab.rc("b") is not None:
                    break
                time.sleep(min(0.2, max(0.0, end - now)))
            t1 = time.monotonic()
            w1 = time.time_ns()
            res["window_wall_s"] = t1 - t0
            for r, role in (("a", "master"), ("b", "backup")):
                alive = [p for p in trees[r] if os.path.exists("/proc/%d" % p)]
                run = sum(last[p][0] - first[p][0] for p in trees[r] if p in first)
                span = max([last[p][1] - t0 for p in trees[r] if p in last] or [0.0])
                res[role] = {"pids": trees[r], "cpu_ms": run / 1e6, "span_s": span,
                             "gone": [p for p in trees[r] if p not in alive],
                             "flips": count_flips(kind, lab.logs[r], logs0[r], lab.log_size(r))}
                if span > 0.5:
                    res[role]["cpu_ms_per_10s"] = run / 1e6 * 10.0 / span
                try:
                    if not alive:
                        raise OSError("no process left")
                    mem = [proc_mem_kib(p) for p in alive]
                    res[role].update(pss_kib=sum(m["pss"] for m in mem),
                                     rss_kib=sum(m["rss"] for m in mem),
                                     uss_kib=sum(m["uss"] for m in mem), nproc=len(alive))
                except OSError:
                    pass
            if kind == "vipd":      # its own view of its load (real-time guard, loop budget)
                for r, role in (("a", "master"), ("b", "backup")):
                    d = lab.vipd_daemon_status(r)
                    if d is not None:
                        res[role]["daemon"] = d
            res["stable_at_end"] = wa.n == len(want) and not wb.n
            res["vips_at_end"] = {"master": wa.n, "backup": wb.n}
            if lab.sniffer:
                try:
                    d = lab.sniffer_dump(w0, w1)
                    per = d["per"]
                    keys = {"%s/%d/%d" % (i, f, v) for i, f, v, _ in spec.insts}
                    gaps = [(x["max_gap_ms"], k) for k, x in per.items()
                            if k in keys and x["max_gap_ms"] is not None]
                    silent = sorted(k for k in keys if not per.get(k, {}).get("n"))
                    res["adverts"] = {
                        "count": sum(x["n"] for x in per.values()),
                        "max_gap_ms": max(gaps)[0] if gaps else None,
                        "worst": sorted(gaps, reverse=True)[:10],
                        "median_of_max_ms": statistics.median([g for g, _ in gaps]) if gaps else None,
                        "silent_vrids": silent[:20], "n_silent": len(silent),
                        "drops": d["drops"], "other": d["other"]}
                except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
                    log("scale %s: sniffer: %s" % (kind, e))
        res["addr_watch_overruns"] = {"master": wa.overruns, "backup": wb.overruns}
        for r, role in (("a", "master"), ("b", "backup")):
            res.setdefault(role, {})["exit"] = lab.rc(r)
    except (RuntimeError, OSError) as e:
        res["why"] = str(e)
        ERRORS.append("scale %s %s: %s" % (kind, spec.token, e))
        log("ERROR scale %s %s: %s" % (kind, spec.token, e))
    finally:
        try:
            lab.teardown()
        except (RuntimeError, OSError) as e:
            ERRORS.append("scale %s %s: teardown: %s" % (kind, spec.token, e))
    m, b = res.get("master", {}), res.get("backup", {})
    adv = res.get("adverts") or {}
    log("scale %-10s %s: converge %s, CPU %s / %s ms per 10 s, PSS %s KiB, flips %s, "
        "max gap %s ms, master %s, backup %s%s" % (
            kind, spec.label(), "%.2f s" % res["converge_s"] if res.get("converge_s") else "-",
            "%.1f" % m["cpu_ms_per_10s"] if "cpu_ms_per_10s" in m else "-",
            "%.1f" % b["cpu_ms_per_10s"] if "cpu_ms_per_10s" in b else "-",
            m.get("pss_kib", "-"), b.get("flips", "-"),
            "%.1f" % adv["max_gap_ms"] if adv.get("max_gap_ms") else "-",
            exit_text(m.get("exit")), exit_text(b.get("exit")),
            " (%s)" % res["why"] if res.get("why") else ""))
    return res


def scale_report(rows, window):
    head = ["instances", "daemon", "master CPU", "backup CPU", "PSS master", "flips",
            "all VIPs up", "max advert gap", "alive at end"]
    lines = []
    for r in rows:
        m, b = r.get("master", {}), r.get("backup", {})
        adv = r.get("adverts") or {}
        dead = [("master", m.get("exit")), ("backup", b.get("exit"))]
        dead = ["%s %s" % (who, exit_text(rc)) for who, rc in dead if rc is not None]
        for who, x in (("master", m), ("backup", b)):
            if x.get("exit") is None and x.get("gone"):    # keepalived's VRRP child
                dead.append("%s: %d of %d processes gone" % (who, len(x["gone"]), len(x["pids"])))
        # vipd's real-time guard: alive, but demoted for running 200 ms straight
        demoted = ["%s demoted %dx" % (who, x["daemon"]["realtime_demotions"])
                   for who, x in (("master", m), ("backup", b))
                   if (x.get("daemon") or {}).get("realtime_demotions")]
        gap = "no data"
        if adv.get("max_gap_ms") is not None:
            gap = "%.1f ms" % adv["max_gap_ms"]
            if adv.get("n_silent"):
                gap += ", %d silent" % adv["n_silent"]
        elif adv.get("n_silent"):
            gap = "all %d silent" % adv["n_silent"]
        conv = "%.2f s" % r["converge_s"] if r.get("converge_s") is not None else \
            "never (%d/%d)" % (r.get("vips_on_master", 0), r["n"])
        if r.get("vips_on_backup"):
            conv += ", %d on backup" % r["vips_on_backup"]
        def cpu(x):
            if "cpu_ms_per_10s" not in x:
                return "-"
            txt = "%.1f ms" % x["cpu_ms_per_10s"]
            if x["span_s"] < 0.9 * window:      # died in the window: over its lifetime
                txt += " (%.1f s)" % x["span_s"]
            return txt
        lines.append([r["label"], r["kind"], cpu(m), cpu(b),
                      "%d KiB" % m["pss_kib"] + ("*" if m.get("nproc", 1) > 1 else "")
                      if "pss_kib" in m else "-",
                      str(b["flips"]) if "flips" in b else "-", conv, gap,
                      "; ".join(dead + demoted) if dead else
                      "yes" + (" (%s)" % ", ".join(demoted) if demoted else "")])
    widths = [max(len(head[i]), *(len(ln[i]) for ln in lines)) + 2 for i in range(len(head))]
    out = ["scale: advert_interval %d ms, priorities %d / %d, CPU per 10 s over a %.0f s window"
           % (SCALE_IV, PRIO_A, PRIO_B, window),
           "".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    for ln in lines:
        out.append("".join(c.ljust(w) for c, w in zip(ln, widths)).rstrip())
    return "\n".join(out)


# ---------------------------------------------------------------- report

def pct(vals, q):
    """Linear-interpolation percentile (numpy's default)."""
    s = sorted(vals)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def fmt_ms(v):
    return "%.1f" % v


def summarize(trials, bound):
    vals = [t["ms"] for t in trials if t.get("ok")]
    nfail = len(trials) - len(vals)
    if not vals:
        return None, "no data" + (" (%d failed)" % nfail if nfail else "")
    s = {"n": len(vals), "failed": nfail, "median": statistics.median(vals),
         "p95": pct(vals, 0.95), "max": max(vals), "min": min(vals)}
    s["p95_minus_bound"] = s["p95"] - bound
    sent = [t["first_sent_ms"] for t in trials if t.get("ok") and t.get("first_sent_ms")]
    if sent:
        s["first_sent_median"] = statistics.median(sent)
        s["first_sent_max"] = max(sent)
    txt = "med %s p95 %s max %s (%+.1f)" % (fmt_ms(s["median"]), fmt_ms(s["p95"]),
                                           fmt_ms(s["max"]), s["p95_minus_bound"])
    if nfail:
        txt += " %d FAILED" % nfail
    return s, txt


def stats_of(trials, key):
    vals = [t[key] for t in trials if t.get("ok") and t.get(key) is not None]
    if not vals:
        return None
    return {"n": len(vals), "failed": len(trials) - len(vals), "median": statistics.median(vals),
            "p95": pct(vals, 0.95), "max": max(vals), "min": min(vals)}


def stats_txt(s):
    if not s:
        return "no data"
    txt = "med %s p95 %s max %s" % (fmt_ms(s["median"]), fmt_ms(s["p95"]), fmt_ms(s["max"]))
    return txt + (" %d FAILED" % s["failed"] if s["failed"] else "")


def syscall_cell(st):
    """'2.00 = epoll_pwait2 + sendmsg': syscalls per advert, and which."""
    parts, rest = [], 0.0
    for n, v in sorted(st["calls"].items(), key=lambda kv: (-kv[1], kv[0])):
        per = v / st["adverts"]
        if n == "total":
            continue
        if per < 0.05:
            rest += per
        else:
            parts.append(n if abs(per - 1) < 0.05 else "%.2f %s" % (per, n))
    if rest:
        parts.append("%.2f other" % rest)
    return "%.2f = %s" % (st["per_advert"], " + ".join(parts))


def iv_label(iv):
    return "%ds" % (iv // 1000) if iv % 1000 == 0 else "%dms" % iv


def report(results, kinds, labels, intervals, args):
    rows = []
    summary = {}
    for what in ("failover", "graceful"):
        if what not in args.what:
            continue
        for iv in intervals:
            b = bound_ms(iv) if what == "failover" else skew_ms(PRIO_B, iv)
            head = "%s @%s" % (what, iv_label(iv))
            sub = "%s %s ms" % ("bound" if what == "failover" else "skew", fmt_ms(b))
            cells = []
            for k in kinds:
                trials = results.get(k, {}).get(str(iv), {}).get(what, [])
                s, txt = summarize(trials, b)
                summary.setdefault(k, {})["%s@%d" % (what, iv)] = s
                cells.append(txt)
            rows.append(("%-16s%s" % (head, sub), cells))
    if "cpu" in args.what:
        cpu_cells, pss_cells = [], []
        for k in kinds:
            c = results.get(k, {}).get("cpu")
            if not c:
                for cells in (cpu_cells, pss_cells):
                    cells.append("no data")
                continue
            star = "*" if c["master"]["nproc"] > 1 or c["backup"]["nproc"] > 1 else ""
            cpu_cells.append("%.2f%% / %.2f%%%s" % (c["master"]["cpu_pct"], c["backup"]["cpu_pct"], star))
            pss_cells.append("%d / %d KiB%s" % (c["master"]["pss_kib"], c["backup"]["pss_kib"], star))
            summary.setdefault(k, {})["cpu"] = {
                r: {x: c[r][x] for x in ("cpu_pct", "cpu_pct_schedstat", "pss_kib", "uss_kib",
                                         "rss_kib", "nproc")} for r in ("master", "backup")}
        rows.append(("CPU @10ms (%ds) master/backup" % round(args.cpu_seconds), cpu_cells))
        rows.append(("PSS master/backup", pss_cells))
        gap_cells, dev_cells, late_cells, drift_cells, sys_cells = [], [], [], [], []
        for k in kinds:
            c = results.get(k, {}).get("cpu") or {}
            tm, st = c.get("timing"), c.get("syscalls")
            if tm:
                gap_cells.append("n %d, median %.3f ms" % (tm["adverts"], tm["gap_median_ms"]))
                dev_cells.append("p99 %.2f max %.2f ms, %.2f%% <= 1 ms" % (
                    tm["dev_p99_ms"], tm["dev_max_ms"], tm["within_1ms_pct"]))
                late_cells.append("%d (%.2f%%)" % (tm["late_1ms"], tm["late_1ms_pct"]))
                drift_cells.append("%+.2f .. %+.2f ms" % (tm["drift_min_ms"], tm["drift_max_ms"]))
                summary.setdefault(k, {})["advert_timing@10"] = {
                    x: v for x, v in tm.items() if x not in ("worst",)}
            else:
                for cells in (gap_cells, dev_cells, late_cells, drift_cells):
                    cells.append("no data")
            if st:
                sys_cells.append(syscall_cell(st))
                summary.setdefault(k, {})["syscalls_per_advert@10"] = {
                    "per_advert": st["per_advert"], "adverts": st["adverts"],
                    "calls": st["calls"]}
            else:
                sys_cells.append("no data")
        rows.append(("advert gaps @10ms (egress\u2020)", gap_cells))
        rows.append(("  |gap - 10ms|", dev_cells))
        rows.append(("  gaps > 11 ms (late adverts)", late_cells))
        rows.append(("  drift t_n - (t_0 + n*10ms)", drift_cells))
        rows.append(("syscalls/advert (strace %gs)" % STRACE_SECONDS, sys_cells))
    if "haproxy" in args.what:
        tgt = hc_target_ms()
        for variant in ("process", "socket"):
            tr = {k: results.get(k, {}).get("haproxy", {}).get(variant) for k in kinds}
            if variant == "socket" and not any(tr.values()):
                continue
            ind = "  " if variant == "process" else "    "
            sub = [("ms", "HAProxy killed -> VIP on B @1s" if variant == "process" else
                    "  vipd stats-socket check: kill -> VIP on B", tgt),
                   ("lowered_ms", ind + "kill -> A's prio-%d advert" % HC_PRIO_A, None),
                   ("lowered_to_add_ms", "  prio-%d advert -> VIP on B" % HC_PRIO_A, None),
                   ("restore_ms", "  HAProxy restart -> VIP back on A", None)]
            if variant == "socket":
                sub = sub[:2]
            for key, head, bound in sub:
                cells = []
                for k in kinds:
                    trials = tr[k]
                    if trials is None:
                        cells.append("n/a" if variant == "socket" else "no data")
                        continue
                    if key == "ms":
                        sm, txt = summarize(trials, bound)
                        summary.setdefault(k, {})["haproxy_%s" % variant] = sm and dict(
                            sm, target_ms=bound, **{x: stats_of(trials, x)
                                                     for x in ("lowered_ms", "lowered_to_add_ms",
                                                               "restore_ms")})
                    else:
                        txt = stats_txt(stats_of(trials, key))
                    cells.append(txt)
                if bound is not None:
                    head = "%s (target %s)" % (head, fmt_ms(bound))
                rows.append((head, cells))
    if "checks-cpu" in args.what:
        cpu_cells, pss_cells = [], []
        for k in kinds:
            c = results.get(k, {}).get("checks_cpu")
            if not c:
                cpu_cells.append("no data")
                pss_cells.append("no data")
                continue
            star = "*" if c["children_ticks"] else ""
            cpu_cells.append("%.3f%%%s%s" % (c["cpu_pct_fine"], star,
                                              "" if c["all_up_at_end"] else " NOT ALL UP"))
            pss_cells.append("%d KiB (USS %d, %d proc%s)" % (
                c["pss_kib"], c["uss_kib"], c["procs"], "s" if c["procs"] > 1 else ""))
            summary.setdefault(k, {})["checks_cpu"] = {
                x: c[x] for x in ("cpu_pct", "cpu_pct_fine", "self_ticks", "children_ticks",
                                  "pss_kib", "uss_kib", "rss_kib", "procs", "all_up_at_end",
                                  "check_runs_per_s") if x in c}
        rows.append(("10 checks @1s: CPU (%ds)" % round(args.cpu_seconds), cpu_cells))
        rows.append(("10 checks @1s: PSS", pss_cells))
    w0 = max([len(r[0]) for r in rows] + [10]) + 2
    widths = [max([len(labels[i])] + [len(r[1][i]) for r in rows]) + 3 for i in range(len(kinds))]
    lines = [" " * w0 + "".join(labels[i].ljust(widths[i]) for i in range(len(kinds)))]
    for head, cells in rows:
        lines.append(head.ljust(w0) + "".join(cells[i].ljust(widths[i]) for i in range(len(kinds))))
    return "\n".join(l.rstrip() for l in lines), summary


# ---------------------------------------------------------------- main

def keepalived_version(path):
    r = subprocess.run([path, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = (r.stdout.splitlines() or ["?"])[0]
    return first.split()[1].lstrip("v") if len(first.split()) > 1 else "?"


WHAT = ("failover", "graceful", "cpu", "haproxy", "checks-cpu", "scale")


def parse_args():
    ap = argparse.ArgumentParser(description="vipd benchmark: failover, graceful handover, "
                                 "CPU and PSS, next to keepalived (needs root)")
    ap.add_argument("--trials", type=int, default=None, help="trials per point (default 10, 3 with --quick)")
    ap.add_argument("--quick", action="store_true", help="3 trials, 10 s CPU window")
    ap.add_argument("--cpu-seconds", type=float, default=None, help="CPU window (default 30, 10 with --quick)")
    ap.add_argument("--intervals", default="1000,100,10", help="advert intervals in ms (default 1000,100,10)")
    ap.add_argument("--what", default=",".join(WHAT),
                    help="subset of %s (default: all)" % ",".join(WHAT))
    ap.add_argument("--daemons", default="vipd,keepalived", help="subset of vipd,keepalived")
    ap.add_argument("--vipd", default=None, help="vipd binary (default $VIPD_BUILD/vipd)")
    ap.add_argument("--keepalived", default=shutil.which("keepalived") or "/usr/sbin/keepalived")
    ap.add_argument("--serial", action="store_true",
                    help="never run the two daemons' 1 s trials at the same time")
    ap.add_argument("--json", metavar="FILE", help="write raw trials and summaries here")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work directory (daemon logs)")
    ap.add_argument("--scale", action="store_true",
                    help="the scale table alone (same as --what scale)")
    ap.add_argument("--scale-n", default=SCALE_DEFAULT,
                    help="scale rows (default %s): N = N IPv4 instances on one interface "
                    "(vipd and keepalived), Nx2 = N IPv4 + N IPv6 on the same VRIDs, "
                    "N/K = N instances over K interfaces (vipd only); a trailing v (255v) "
                    "gives every instance use_vmac" % SCALE_DEFAULT)
    ap.add_argument("--scale-window", type=float, default=10.0,
                    help="scale: measurement window in seconds (default 10)")
    a = ap.parse_args()
    if a.scale:
        a.what = "scale"
    a.trials = a.trials or (3 if a.quick else 10)
    a.cpu_seconds = a.cpu_seconds or (10.0 if a.quick else 30.0)
    a.intervals = [int(x) for x in a.intervals.split(",") if x]
    a.what = set(x for x in a.what.split(",") if x)
    if a.what - set(WHAT):
        ap.error("--what: unknown %s (choose from %s)" % (
            ",".join(sorted(a.what - set(WHAT))), ",".join(WHAT)))
    a.daemons = [d for d in a.daemons.split(",") if d]
    try:
        a.scale_specs = [ScaleSpec(t) for t in a.scale_n.split(",") if t.strip()]
    except ValueError as e:
        ap.error("--scale-n: %s" % e)
    if a.vipd is None:
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        a.vipd = os.path.join(os.environ.get("VIPD_BUILD") or os.path.join(top, "build"), "vipd")
    return a


def each_kind(kinds, together, fn):
    """fn(kind) for each kind: side by side in threads when together (and
    there are two), else one after the other."""
    if not together or len(kinds) < 2:
        for k in kinds:
            fn(k)
        return
    ths = [threading.Thread(target=fn, args=(k,), daemon=True) for k in kinds]
    for t in ths:
        t.start()
    for t in ths:
        while t.is_alive():     # (join with a timeout: Ctrl-C stays possible)
            t.join(0.5)


def on_signal(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces)")
    for t in ("ip", "sysctl"):
        if not shutil.which(t):
            sys.exit("bench: %s not found" % t)
    kinds, labels = [], []
    for d in args.daemons:
        if d == "vipd":
            if os.access(args.vipd, os.X_OK):
                kinds.append("vipd")
                labels.append("vipd")
            else:
                log("vipd not found at %s: benchmarking keepalived only" % args.vipd)
        elif d == "keepalived":
            if os.access(args.keepalived, os.X_OK):
                kinds.append("keepalived")
                labels.append("keepalived %s" % keepalived_version(args.keepalived))
            else:
                log("keepalived not found at %s: skipped" % args.keepalived)
    if not kinds:
        sys.exit("bench: nothing to benchmark")

    atexit.register(REG.cleanup)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    for prefix in sweep_stale():
        log("removed the stale namespaces of %s" % prefix)
    workdir = tempfile.mkdtemp(prefix="vipd-bench.")
    t_start = time.monotonic()
    results = {}
    pairs = {}
    ok = False
    labs = []
    binpath = {"vipd": args.vipd, "keepalived": args.keepalived}
    try:
        for k in kinds if args.what & {"failover", "graceful", "cpu"} else ():
            pairs[k] = Pair(k, binpath[k], k[0], workdir)
            pairs[k].setup()
        log("work dir %s; %d trials per point; intervals %s ms" % (
            workdir, args.trials, ",".join(map(str, args.intervals))))
        what = args.what & {"failover", "graceful"}
        if what:
            for iv in args.intervals:
                # at 1 s the daemons sleep almost all the time: run the two
                # pairs side by side to halve the longest part of the run
                each_kind(kinds, iv >= 1000 and not args.serial, lambda k: guarded(
                    pairs[k], run_point, iv, args.trials, what, results))
        if "cpu" in args.what:
            for k in kinds:
                guarded(pairs[k], measure_cpu, args.cpu_seconds, results, workdir)
        for p in pairs.values():     # free the namespaces before the next sections
            p.teardown()
        hc = args.what & {"haproxy", "checks-cpu"}
        if hc and not os.access(HAPROXY, os.X_OK):
            log("haproxy not found at %s: no %s" % (HAPROXY, ", ".join(sorted(hc))))
            hc = set()
        if "haproxy" in hc:
            hp = {k: HcPair(k, binpath[k], "h" + k[0], workdir, hc_checks_haproxy("process"))
                  for k in kinds}
            labs.extend(hp.values())
            variants = {"vipd": ["process", "socket"], "keepalived": ["process"]}
            log("HAProxy killed -> VIP on B: %d trials per check, 1 s adverts" % args.trials)
            # both sleep almost all the time, as at 1 s above
            each_kind(kinds, not args.serial, lambda k: guarded(
                hp[k], hc_section, run_haproxy, args.trials, variants[k], results))
            for p in hp.values():
                p.teardown()
        if "checks-cpu" in hc:
            for k in kinds:
                lab = ChecksCpuLab(k, binpath[k], "c" + k[0], workdir, hc_checks_cpu())
                labs.append(lab)
                guarded(lab, hc_section, measure_checks_cpu, args.cpu_seconds, results)
                lab.teardown()
        if "scale" in args.what:
            for spec in args.scale_specs:
                for k in kinds:
                    # keepalived: the one-interface IPv4 rows (the issue's comparison)
                    if k == "keepalived" and (spec.nif > 1 or spec.v6):
                        continue
                    measure_scale(k, binpath[k], spec, args.scale_window, workdir, results)
        ok = True
    except KeyboardInterrupt as e:
        log("interrupted (%s): cleaning up" % (e or "Ctrl-C"))
    finally:
        for p in list(pairs.values()) + labs:
            try:
                p.teardown()
            except Exception as e:  # keep cleaning up
                log("teardown %s: %s" % (p.kind, e))
        REG.cleanup()
        if not args.keep_logs and ok and not ERRORS:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log("logs kept in %s" % workdir)
    runtime = time.monotonic() - t_start
    if not ok:
        return 1
    table, summary = report(results, kinds, labels, args.intervals, args)
    if args.what - {"scale"}:
        print(table)
    if "scale" in args.what:
        if args.what - {"scale"}:
            print()
        print(scale_report(results.get("scale", []), args.scale_window))
    notes = []
    if "keepalived" in kinds and "cpu" in args.what:
        notes.append("* keepalived: sum over its process tree (parent + VRRP child).")
    if "cpu" in args.what:
        notes.append("\u2020 adverts: kernel egress timestamps (AF_PACKET PACKET_OUTGOING, "
                     "SO_TIMESTAMPNS) on the master's own eth0 during the CPU window;\n"
                     "  |gap - 10 ms| <= 1 ms counts both gaps around a late advert of a "
                     "fixed-grid sender, > 11 ms counts each late advert once.\n"
                     "  syscalls: strace -c -f for %gs after the CPU window on the master "
                     "(keepalived: its VRRP child) / adverts sent meanwhile." % STRACE_SECONDS)
    if args.what & {"failover", "graceful"}:
        notes.append("failover: VIP added on backup - master's last advert seen on backup; "
                     "graceful: VIP added - master's priority-0 advert. (+x) = p95 - bound.")
    if "haproxy" in args.what:
        notes.append(
            "haproxy: t(VIP added on B) - t(kill -9 of A's HAProxy master + worker), priorities "
            "%d/%d, check weight %d (%d/%d while up),\n  1 s adverts; check: vipd [check] type = "
            "process, name = haproxy, interval 2s; keepalived vrrp_script \"/usr/bin/killall -0 "
            "haproxy\"\n  interval 2 fall 1 rise 1; vipd stats-socket: type = haproxy, interval "
            "2s, timeout 1s. Target Skew_Time(prio %d) + 5 ms; (+x) = p95 - target.\n  Each node "
            "has its own PID namespace (its checks see its own HAProxy only)." % (
                HC_PRIO_A, HC_PRIO_B, HC_WEIGHT, HC_PRIO_A + HC_WEIGHT, HC_PRIO_B + HC_WEIGHT,
                HC_PRIO_B + HC_WEIGHT))
    if "checks-cpu" in args.what:
        notes.append(
            "10 checks: 4 process (haproxy), 3 TCP (HAProxy frontends), 3 HTTP (HAProxy "
            "monitor-uri), every 1 s, one Master alone at 1 s adverts;\n  keepalived: killall -0, "
            "bash </dev/tcp, curl -sf as vrrp_scripts. CPU = delta of own time + cutime+cstime "
            "over the daemon's process tree / wall\n  (* = mostly its script children, counted once "
            "reaped); PSS of the daemon's own processes.")
    if "scale" in args.what:
        notes.append(
            "scale: master (prio %d) and backup (prio %d) on veth pairs, one VIP (/32, /128) per "
            "instance; CPU = schedstat run time of\n  all threads of the daemon's processes over "
            "the window, per 10 s (* on PSS: several processes summed, keepalived parent + VRRP\n"
            "  child, vipd + its spawn helper); flips = state changes the backup logged in the "
            "window; all VIPs up = daemon start ->\n  every VIP on the master (netlink address "
            "events); max advert gap = the largest gap between two adverts of one VRID, kernel\n"
            "  egress timestamps on the master (silent = VRIDs never heard); demoted = vipd's "
            "real-time guard (vipctl status)." % (PRIO_A, PRIO_B))
    if args.what & {"failover", "graceful", "haproxy"}:
        notes.append("%d trials per point; runtime %.0f s; %s" % (
            args.trials, runtime,
            "1 s trials of both daemons ran concurrently (separate namespaces)"
            if len(kinds) > 1 and not args.serial and (1000 in args.intervals or "haproxy" in args.what)
            else "serial"))
    else:
        notes.append("runtime %.0f s" % runtime)
    for n in notes:
        print(n)
    for e in ERRORS:
        print("ERROR: " + e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": {"trials": args.trials, "intervals_ms": args.intervals,
                                "cpu_seconds": args.cpu_seconds, "runtime_s": runtime,
                                "daemons": dict(zip(kinds, labels)),
                                "kernel": os.uname().release,
                                "clock": "CLOCK_REALTIME; adverts: SO_TIMESTAMPNS kernel rx "
                                         "timestamps; VIP: user-space wake-up on RTM_NEWADDR",
                                "bounds_ms": {str(iv): {"failover": bound_ms(iv), "graceful": skew_ms(PRIO_B, iv)}
                                              for iv in args.intervals}},
                       "summary": summary, "errors": ERRORS, "results": results}, f, indent=1)
        log("raw results in %s" % args.json)
    return 1 if ERRORS else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--monitor":
        sys.exit(monitor_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--addr-watch":
        sys.exit(addr_watch_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--scale-sniff":
        sys.exit(scale_sniff_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--init":
        sys.exit(init_main(sys.argv[2:]))
    sys.exit(main())
