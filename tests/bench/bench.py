#!/usr/bin/env python3
"""vipd benchmark: failover time, graceful handover, CPU and memory, next to
keepalived, measured in network namespaces on this machine.

    make bench                      # 10 trials per point, ~5 minutes
    make bench BENCH_ARGS=--quick   # 3 trials, 10 s CPU window, <2 minutes
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

The monitor is this same file run as `bench.py --monitor IFACE VIP` inside
the backup namespace (ip netns exec).
"""

import argparse
import atexit
import ctypes
import json
import math
import os
import queue
import random
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

PREFIX = "vbn"          # namespace prefix: vbn<pid><tag><role>
VIP = "192.0.2.100"
VIP_CIDR = VIP + "/24"
IP_A, IP_B = "192.0.2.11", "192.0.2.12"
PRIO_A, PRIO_B = 150, 100
VRID = 51

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SOL_PACKET, PACKET_STATISTICS = 263, 6
PACKET_OUTGOING = 4
RTMGRP_IPV4_IFADDR = 0x10
RTM_NEWADDR, RTM_DELADDR = 20, 21
IFA_ADDRESS, IFA_LOCAL = 1, 2


# ===================================================================
# Monitor: runs inside the backup's namespace, prints JSON lines.
# ===================================================================

def vrrp_packet_socket(ifname, rcvbuf=1 << 20):
    """AF_PACKET socket on IFNAME that sees every IPv4 protocol-112 packet,
    incoming and outgoing (addr[2] == PACKET_OUTGOING), each with its kernel
    timestamp (SO_TIMESTAMPNS: on receive, when the packet reaches the stack;
    on send, when dev_queue_xmit hands it to the packet taps, i.e. as it
    leaves through IFNAME)."""
    eth_p_all = 0x0003     # ETH_P_ALL: also our own outgoing packets
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(eth_p_all))
    # classic BPF: skb->protocol == IPv4 && ip[9] == 112 (VRRP)
    filt = [(0x28, 0, 0, 0xFFFFF000),       # ldh [SKF_AD_OFF + SKF_AD_PROTOCOL]
            (0x15, 0, 3, 0x0800),           # jeq #ETH_P_IP
            (0x30, 0, 0, 9),                # ldb [9]
            (0x15, 0, 1, 112),              # jeq #112
            (0x06, 0, 0, 0xFFFF),           # ret #65535
            (0x06, 0, 0, 0)]                # ret #0
    prog = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *f) for f in filt))
    ps.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                  struct.pack("HL", len(filt), ctypes.addressof(prog)))
    ps.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:    # root may exceed net.core.rmem_max
        ps.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    except OSError:
        ps.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ps.bind((ifname, eth_p_all))
    ps.setblocking(False)
    return ps


def packet_ts(anc):
    for lvl, typ, cd in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", cd[:16])
            return sec * 1_000_000_000 + nsec
    return time.time_ns()


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
            ts = packet_ts(anc)
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
            p = peers.setdefault(src, {"t": 0, "prio": -1, "n": 0, "tnz": 0, "p0": 0, "adv": 0})
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
# Sniffer: runs inside the master's namespace during the CPU window and
# records the kernel egress timestamp of every advert the master sends.
# ===================================================================

def sniff_main(argv):
    """bench.py --sniff IFACE SRC: collect the egress timestamps of SRC's
    VRRP adverts (priority > 0) on IFACE.  It wakes twice a second, not per
    packet (the socket buffer holds minutes of adverts), so it adds no
    wake-ups to the CPU window.  A line on stdin dumps everything as one
    JSON line and exits."""
    ifname, src = argv[0], argv[1]
    ps = vrrp_packet_socket(ifname, rcvbuf=32 << 20)
    ts, other, drops = [], 0, 0

    def drain():
        nonlocal other
        while True:
            try:
                data, anc, _fl, addr = ps.recvmsg(256, socket.CMSG_SPACE(16))
            except BlockingIOError:
                return
            t = packet_ts(anc)
            ihl = (data[0] & 0x0F) * 4
            if (addr[2] != PACKET_OUTGOING or len(data) < ihl + 8 or data[9] != 112
                    or socket.inet_ntoa(data[12:16]) != src or data[ihl + 2] == 0):
                other += 1
            else:
                ts.append(t)

    def stats():
        nonlocal drops
        st = ps.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)   # read and reset
        drops += struct.unpack("II", st)[1]

    sys.stdout.write(json.dumps({"ev": "ready", "t": time.time_ns()}) + "\n")
    sys.stdout.flush()
    while True:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        drain()
        stats()
        if r:
            sys.stdin.readline()
            drain()
            stats()
            sys.stdout.write(json.dumps({"ev": "dump", "t": time.time_ns(), "ts": ts,
                                         "other": other, "drops": drops},
                                        separators=(",", ":")) + "\n")
            sys.stdout.flush()
            return 0


# ===================================================================
# Orchestration
# ===================================================================

def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def sh(*cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def skew_ms(interval_ms, prio=PRIO_B):
    return (256 - prio) * interval_ms / 256.0


def bound_ms(interval_ms, prio=PRIO_B):
    return 3 * interval_ms + skew_ms(interval_ms, prio)


class Registry:
    """Everything to undo at exit: processes (by pid) and namespaces."""

    def __init__(self):
        self.procs = []
        self.netns = []
        self.lock = threading.Lock()
        self.done = False

    def add_proc(self, p):
        with self.lock:
            self.procs.append(p)

    def add_ns(self, ns):
        with self.lock:
            self.netns.append(ns)

    def cleanup(self):
        with self.lock:
            if self.done:
                return
            self.done = True
            procs, nss = list(self.procs), list(self.netns)
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
        for ns in nss:
            kill_ns_procs(ns)
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


REG = Registry()


def ns_inode(ns):
    try:
        return os.stat("/var/run/netns/" + ns).st_ino
    except OSError:
        return None


def kill_ns_procs(ns):
    """SIGKILL processes (by pid) still living in a namespace this bench made."""
    ino = ns_inode(ns)
    if ino is None:
        return
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.stat("/proc/%s/ns/net" % d).st_ino == ino:
                os.kill(int(d), signal.SIGKILL)
        except OSError:
            pass


def remove_stale_namespaces():
    """Namespaces left by a bench run that was SIGKILLed (its pid is gone)."""
    try:
        names = os.listdir("/var/run/netns")
    except OSError:
        return
    for n in names:
        if not n.startswith(PREFIX):
            continue
        digits = "".join(c for c in n[len(PREFIX):] if c.isdigit())
        if digits and not os.path.exists("/proc/" + digits):
            log("removing stale namespace %s" % n)
            kill_ns_procs(n)
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


class Monitor:
    def __init__(self, ns, workdir):
        self.q = queue.Queue()
        self.snaps = queue.Queue()
        errf = open(os.path.join(workdir, "monitor.%s.err" % ns), "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
             "--monitor", "eth0", VIP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf, text=True,
            bufsize=1, start_new_session=True)
        REG.add_proc(self.p)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()
        ev = self.q.get(timeout=10)
        if ev.get("ev") != "ready":
            raise RuntimeError("monitor did not start: %r" % ev)

    def _reader(self):
        for line in self.p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            (self.snaps if ev["ev"] == "snap" else self.q).put(ev)
        self.q.put({"ev": "eof"})

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
        if self.p.poll() is None:
            try:
                self.p.stdin.write("x\n")
                self.p.stdin.flush()
                self.p.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()


class Daemon:
    """One vipd or keepalived in one namespace."""

    def __init__(self, kind, binpath, ns, role, workdir):
        self.kind, self.bin, self.ns, self.role = kind, binpath, ns, role
        self.dir = os.path.join(workdir, "%s-%s" % (kind, role))
        os.makedirs(self.dir, exist_ok=True)
        self.prio = PRIO_A if role == "a" else PRIO_B
        self.p = None
        self.logf = None
        self.starts = 0

    def write_conf(self, interval_ms):
        d = self.dir
        if self.kind == "vipd":
            conf = ("[global]\npidfile = {d}/vipd.pid\ncontrol_socket = {d}/vipd.sock\n"
                    "log_level = info\n\n[instance VI_1]\ninterface = eth0\nvrid = {vrid}\n"
                    "priority = {prio}\nadvert_interval = {iv}ms\nvirtual_ip = {vip}\n"
                    "preempt = yes\n").format(d=d, vrid=VRID, prio=self.prio,
                                              iv=interval_ms, vip=VIP_CIDR)
            path = os.path.join(d, "vipd.conf")
        else:
            conf = ("global_defs {{\n    router_id bench_{role}\n    vrrp_version 3\n}}\n\n"
                    "vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n"
                    "    virtual_router_id {vrid}\n    priority {prio}\n"
                    "    advert_int {adv}\n    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
                    ).format(role=self.role, state="MASTER" if self.role == "a" else "BACKUP",
                             vrid=VRID, prio=self.prio, adv=("%g" % (interval_ms / 1000.0)),
                             vip=VIP_CIDR)
            path = os.path.join(d, "keepalived.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self, interval_ms):
        assert self.p is None or self.p.poll() is not None
        conf = self.write_conf(interval_ms)
        if self.kind == "vipd":
            argv = [self.bin, "-n", "-f", conf]
        else:
            argv = [self.bin, "-n", "-l", "-D", "--vrrp", "-f", conf,
                    "-p", os.path.join(self.dir, "keepalived.pid"),
                    "-r", os.path.join(self.dir, "vrrp.pid")]
        self.starts += 1
        if self.logf:
            self.logf.close()
        self.logf = open(os.path.join(self.dir, "log"), "a")
        self.logf.write("==== start %d, interval %d ms: %s\n" % (self.starts, interval_ms, " ".join(argv)))
        self.logf.flush()
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
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            log("%s %s did not stop in %ss: SIGKILL" % (self.kind, self.role, timeout))
            self.p.kill()
            self.p.wait(2)

    def sender_pid(self):
        """The process that sends the adverts: vipd itself, keepalived's
        VRRP child (from its -r pid file)."""
        if self.kind == "vipd":
            return self.p.pid
        with open(os.path.join(self.dir, "vrrp.pid")) as f:
            return int(f.read().split()[0])

    def tree(self):
        """The daemon's pid and all its descendants (keepalived forks)."""
        pids = [self.p.pid]
        children = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                    ppid = int(st[st.rindex(")") + 2:].split()[1])
                    children.setdefault(ppid, []).append(int(d))
                except (OSError, ValueError):
                    pass
        i = 0
        while i < len(pids):
            pids.extend(children.get(pids[i], []))
            i += 1
        return pids


class Sniffer:
    """bench.py --sniff in a namespace: egress timestamps of one host's adverts."""

    def __init__(self, ns, src, workdir):
        errf = open(os.path.join(workdir, "sniff.%s.err" % ns), "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
             "--sniff", "eth0", src],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf, text=True,
            start_new_session=True)
        REG.add_proc(self.p)
        ev = self._read(10)
        if ev.get("ev") != "ready":
            raise RuntimeError("sniffer did not start: %r" % ev)

    def _read(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        line = self.p.stdout.readline() if r else ""
        try:
            return json.loads(line)
        except ValueError:
            raise RuntimeError("sniffer: no answer (%r)" % line[:80])

    def dump(self):
        """Every egress timestamp (ns, CLOCK_REALTIME) since the start; exits."""
        self.p.stdin.write("d\n")
        self.p.stdin.flush()
        ev = self._read(10)
        self.p.wait(5)
        return ev


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


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])       # utime + stime


def proc_runtime_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total


def proc_mem_kib(pid):
    """Rss, Pss and USS (Private_Clean + Private_Dirty) from smaps_rollup."""
    m = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                m[parts[0][:-1]] = int(parts[1])
    return {"rss": m.get("Rss", 0), "pss": m.get("Pss", 0),
            "uss": m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)}


class Pair:
    """Switch + master (A) + backup (B) namespaces, one daemon kind."""

    def __init__(self, kind, binpath, tag, workdir):
        self.kind = kind
        base = "%s%d%s" % (PREFIX, os.getpid(), tag)
        self.ns_sw, self.ns_a, self.ns_b = base + "s", base + "a", base + "b"
        self.workdir = workdir
        self.a = Daemon(kind, binpath, self.ns_a, "a", workdir)
        self.b = Daemon(kind, binpath, self.ns_b, "b", workdir)
        self.mon = None
        self.interval = None

    # ---- topology
    def setup(self):
        for ns in (self.ns_sw, self.ns_a, self.ns_b):
            sh("ip", "netns", "add", ns)
            REG.add_ns(ns)
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
               "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        s = self.ns_sw
        sh("ip", "-n", s, "link", "add", "br0", "type", "bridge", "stp_state", "0",
           "forward_delay", "0", "mcast_snooping", "0")
        sh("ip", "-n", s, "link", "set", "br0", "up")
        for port, ns, ip in (("pa", self.ns_a, IP_A), ("pb", self.ns_b, IP_B)):
            sh("ip", "-n", s, "link", "add", port, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh("ip", "-n", s, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
        self.mon = Monitor(self.ns_b, self.workdir)

    def link_a(self, up):
        sh("ip", "-n", self.ns_sw, "link", "set", "pa", "up" if up else "down")

    def has_vip(self, ns):
        out = sh("ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eth0")
        return (" %s/" % VIP) in out

    # ---- daemons
    def start(self, interval_ms):
        self.interval = interval_ms
        self.b.start(interval_ms)
        self.a.start(interval_ms)

    def stop(self):
        self.a.stop()
        self.b.stop()

    def wait_stable(self, timeout=None):
        """A holds the VIP, B does not, B keeps hearing A at prio 150, and
        at least 2 of A's adverts went by in that state."""
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
            ok = (pa is not None and pa["prio"] == PRIO_A
                  and snap["t"] - pa["t"] < (1.5 * iv + 50) * 1e6
                  and self.has_vip(self.ns_a) and not self.has_vip(self.ns_b))
            if self.mon.drain():
                ok = False      # a VIP event on B: start over
            if not ok:
                base = None
            elif base is None:
                base = pa["n"]
            elif pa["n"] - base >= 2:
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
            kill_ns_procs(ns)
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


ERRORS = []


def guarded(pair, fn, *args):
    """Run one measurement; a daemon that misbehaves costs its own cells only."""
    try:
        fn(pair, *args)
    except (RuntimeError, OSError, queue.Empty) as e:
        msg = "%s: %s: %s" % (pair.kind, fn.__name__, e or type(e).__name__)
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
    try:
        sniffer = Sniffer(pair.ns_a, IP_A, workdir)
    except (RuntimeError, OSError) as e:
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
            d = sniffer.dump()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            log("%s: sniffer: %s" % (pair.kind, e))
            d = None
        if d:
            ts = sorted(d["ts"])
            tm = advert_timing([t for t in ts if w0 <= t <= w1], iv)
            if tm:
                tm.update(drops=d["drops"], other_packets=d["other"],
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
            b = bound_ms(iv) if what == "failover" else skew_ms(iv)
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


def parse_args():
    ap = argparse.ArgumentParser(description="vipd benchmark: failover, graceful handover, "
                                 "CPU and PSS, next to keepalived (needs root)")
    ap.add_argument("--trials", type=int, default=None, help="trials per point (default 10, 3 with --quick)")
    ap.add_argument("--quick", action="store_true", help="3 trials, 10 s CPU window")
    ap.add_argument("--cpu-seconds", type=float, default=None, help="CPU window (default 30, 10 with --quick)")
    ap.add_argument("--intervals", default="1000,100,10", help="advert intervals in ms (default 1000,100,10)")
    ap.add_argument("--what", default="failover,graceful,cpu", help="subset of failover,graceful,cpu")
    ap.add_argument("--daemons", default="vipd,keepalived", help="subset of vipd,keepalived")
    ap.add_argument("--vipd", default=None, help="vipd binary (default $VIPD_BUILD/vipd)")
    ap.add_argument("--keepalived", default=shutil.which("keepalived") or "/usr/sbin/keepalived")
    ap.add_argument("--serial", action="store_true",
                    help="never run the two daemons' 1 s trials at the same time")
    ap.add_argument("--json", metavar="FILE", help="write raw trials and summaries here")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work directory (daemon logs)")
    a = ap.parse_args()
    a.trials = a.trials or (3 if a.quick else 10)
    a.cpu_seconds = a.cpu_seconds or (10.0 if a.quick else 30.0)
    a.intervals = [int(x) for x in a.intervals.split(",") if x]
    a.what = set(a.what.split(","))
    a.daemons = [d for d in a.daemons.split(",") if d]
    if a.vipd is None:
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        a.vipd = os.path.join(os.environ.get("VIPD_BUILD") or os.path.join(top, "build"), "vipd")
    return a


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
    remove_stale_namespaces()
    workdir = tempfile.mkdtemp(prefix="vipd-bench.")
    t_start = time.monotonic()
    results = {}
    pairs = {}
    ok = False
    try:
        for k in kinds:
            pairs[k] = Pair(k, args.vipd if k == "vipd" else args.keepalived, k[0], workdir)
            pairs[k].setup()
        log("work dir %s; %d trials per point; intervals %s ms" % (
            workdir, args.trials, ",".join(map(str, args.intervals))))
        what = args.what & {"failover", "graceful"}
        if what:
            for iv in args.intervals:
                if iv >= 1000 and not args.serial and len(kinds) > 1:
                    # at 1 s the daemons sleep almost all the time: run the two
                    # pairs side by side to halve the longest part of the run
                    ths = [threading.Thread(target=guarded, daemon=True,
                                            args=(pairs[k], run_point, iv, args.trials, what, results))
                           for k in kinds]
                    for t in ths:
                        t.start()
                    for t in ths:
                        while t.is_alive():
                            t.join(0.5)
                else:
                    for k in kinds:
                        guarded(pairs[k], run_point, iv, args.trials, what, results)
        if "cpu" in args.what:
            for k in kinds:
                guarded(pairs[k], measure_cpu, args.cpu_seconds, results, workdir)
        ok = True
    except KeyboardInterrupt as e:
        log("interrupted (%s): cleaning up" % (e or "Ctrl-C"))
    finally:
        for p in pairs.values():
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
    print(table)
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
    notes.append("failover: VIP added on backup - master's last advert seen on backup; "
                 "graceful: VIP added - master's priority-0 advert. (+x) = p95 - bound.")
    notes.append("%d trials per point; runtime %.0f s; %s" % (
        args.trials, runtime,
        "1 s trials of both daemons ran concurrently (separate namespaces)"
        if len(kinds) > 1 and not args.serial and 1000 in args.intervals else "serial"))
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
                                "bounds_ms": {str(iv): {"failover": bound_ms(iv), "graceful": skew_ms(iv)}
                                              for iv in args.intervals}},
                       "summary": summary, "errors": ERRORS, "results": results}, f, indent=1)
        log("raw results in %s" % args.json)
    return 1 if ERRORS else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--monitor":
        sys.exit(monitor_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--sniff":
        sys.exit(sniff_main(sys.argv[2:]))
    sys.exit(main())
