"""
netns.py - what vipd's two labs share: the network tests (tests/net/lab.py)
and the benchmark (tests/bench/bench.py).

  * commands and polling: sh, wait_until, tail;
  * namespaces: a per-run name prefix `vt<pid % 10000>` registered with its
    owner in REGISTRY (run_prefix), removed at exit and swept by later runs
    once the owner is gone (sweep_stale); netns_add, delete_ns, and the
    "switch" topology (a bridge in one namespace, a veth per host);
  * processes, from /proc: comm, parent, process tree, CPU and memory;
  * VRRP on the wire: an AF_PACKET socket that sees every VRRP packet in and
    out of an interface with its kernel timestamp, and the RFC 5798 timers.

Only the standard library; imported with tests/lib on sys.path.
"""

import atexit
import contextlib
import ctypes
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

REGISTRY = "/run/vipd-nettest"  # <prefix>.pid files: who owns a prefix
TMPROOT = os.path.join(tempfile.gettempdir(), "vipd-nettest")
NS_RE = re.compile(r"^(vt\d+)-")


# --------------------------------------------------------------------------
# commands

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


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return "(no %s)\n" % path
    return "".join(lines[-n:])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------
# namespaces

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
    """Delete `vt*` namespaces of runs whose owning process is gone."""
    os.makedirs(REGISTRY, exist_ok=True)
    stale = set()
    for ns in ns_list():
        m = NS_RE.match(ns)
        if not m:
            continue
        prefix = m.group(1)
        owner = registry_owner(prefix)
        if owner is None or not pid_alive(owner):
            stale.add(prefix)
            delete_ns(ns)
    for f in os.listdir(REGISTRY):
        if f.endswith(".pid"):
            prefix = f[:-4]
            owner = registry_owner(prefix)
            if owner is None or not pid_alive(owner):
                stale.add(prefix)
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(REGISTRY, f))
    for prefix in stale:
        shutil.rmtree(os.path.join(TMPROOT, prefix), ignore_errors=True)
    # files of finished runs (kept for failed tests) go at the next run
    if os.path.isdir(TMPROOT):
        for prefix in os.listdir(TMPROOT):
            owner = registry_owner(prefix)
            if owner is None or not pid_alive(owner):
                shutil.rmtree(os.path.join(TMPROOT, prefix), ignore_errors=True)
    return sorted(stale)


def registry_owner(prefix):
    try:
        with open(os.path.join(REGISTRY, prefix + ".pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


_PREFIX = None


def run_prefix():
    """This process's namespace prefix, `vt<pid % 10000>`, registered to us.
    Every namespace of the run is named `<prefix>-...`; at exit they go."""
    global _PREFIX
    if _PREFIX:
        return _PREFIX
    os.makedirs(REGISTRY, exist_ok=True)
    pid = os.getpid()
    for k in range(10000):
        prefix = "vt%d" % ((pid + k) % 10000)
        owner = registry_owner(prefix)
        if owner is not None and owner != pid and pid_alive(owner):
            continue  # a concurrent run owns this prefix
        with open(os.path.join(REGISTRY, prefix + ".pid"), "w") as f:
            f.write("%d\n" % pid)
        _PREFIX = prefix
        atexit.register(release_prefix, prefix)
        return prefix
    raise RuntimeError("no free namespace prefix")


def release_prefix(prefix):
    """Delete the namespaces named `<prefix>-...` and give the prefix up."""
    for ns in ns_list():
        if ns.startswith(prefix + "-"):
            delete_ns(ns)
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(REGISTRY, prefix + ".pid"))
    with contextlib.suppress(OSError):
        os.rmdir(os.path.join(TMPROOT, prefix))  # only if no failed test kept files


NO_IPV6 = ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
NO_DAD = ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
          "net.ipv6.conf.all.dad_transmits=0", "net.ipv6.conf.default.dad_transmits=0")


def netns_add(ns, sysctls=()):
    """A new namespace with lo up and the given sysctl assignments."""
    sh(["ip", "netns", "add", ns])
    if sysctls:
        sh(["ip", "netns", "exec", ns, "sysctl", "-q", "-w"] + list(sysctls))
    sh(["ip", "-n", ns, "link", "set", "lo", "up"])


def bridge_add(ns, name="br0"):
    """The switch: a bridge with STP, forward delay and multicast snooping off."""
    sh(["ip", "-n", ns, "link", "add", name, "type", "bridge", "stp_state", "0",
        "mcast_snooping", "0", "forward_delay", "0"])
    sh(["ip", "-n", ns, "link", "set", name, "up"])


def plug(sw_ns, port, host_ns, ifname="eth0", bridge="br0"):
    """A veth pair made in the switch namespace: `port` a port of the bridge
    there, up; `ifname` placed directly in host_ns (left down)."""
    sh(["ip", "-n", sw_ns, "link", "add", port, "type", "veth", "peer", "name", ifname,
        "netns", host_ns])
    sh(["ip", "-n", sw_ns, "link", "set", port, "master", bridge])
    sh(["ip", "-n", sw_ns, "link", "set", port, "up"])


# --------------------------------------------------------------------------
# processes

def proc_comm(pid):
    """/proc/PID/comm, or None when there is no such process."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def proc_stat_fields(pid):
    """Fields of /proc/PID/stat after the comm: [0] state, [1] ppid, ..."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    return st[st.rindex(")") + 2:].split()


def _parents():
    """{ppid: [pid, ...]} of every process."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                children.setdefault(int(proc_stat_fields(int(d))[1]), []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return children


def proc_children(pid):
    return _parents().get(pid, [])


def proc_tree(pid):
    """pid and all its descendants, parents first."""
    pids, children = [pid], _parents()
    i = 0
    while i < len(pids):
        pids.extend(children.get(pids[i], []))
        i += 1
    return pids


def proc_cpu_ticks(pid):
    """utime + stime of the whole thread group, in clock ticks."""
    f = proc_stat_fields(pid)
    return int(f[11]) + int(f[12])


def proc_runtime_ns(pid):
    """Run time of every live thread (schedstat), in ns."""
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


# --------------------------------------------------------------------------
# VRRP on the wire

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SOL_PACKET, PACKET_STATISTICS = 263, 6
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003

# classic BPF: skb->protocol == IPv4 && ip[9] == 112 (VRRP)
_BPF_VRRP4 = [(0x28, 0, 0, 0xFFFFF000),     # ldh [SKF_AD_OFF + SKF_AD_PROTOCOL]
              (0x15, 0, 3, 0x0800),         # jeq #ETH_P_IP
              (0x30, 0, 0, 9),              # ldb [9]
              (0x15, 0, 1, 112),            # jeq #112
              (0x06, 0, 0, 0xFFFF),         # ret #65535
              (0x06, 0, 0, 0)]              # ret #0
# the same, and IPv6 with next header 112
_BPF_VRRP46 = [(0x28, 0, 0, 0xFFFFF000),    # ldh [SKF_AD_PROTOCOL]
               (0x15, 0, 2, 0x0800),        # jeq #ETH_P_IP else -> 4
               (0x30, 0, 0, 9),             # ldb [9] (IPv4 protocol)
               (0x05, 0, 0, 2),             # ja 6
               (0x15, 0, 3, 0x86DD),        # 4: jeq #ETH_P_IPV6 else -> 8
               (0x30, 0, 0, 6),             # ldb [6] (IPv6 next header)
               (0x15, 0, 1, 112),           # 6: jeq #112 else -> 8
               (0x06, 0, 0, 0xFFFF),        # ret #65535
               (0x06, 0, 0, 0)]             # 8: ret #0


def vrrp_packet_socket(ifname, rcvbuf=1 << 20, ipv6=False):
    """AF_PACKET socket on IFNAME that sees every IPv4 protocol-112 packet
    (with ipv6: IPv6 next header 112 too), incoming and outgoing (addr[2] ==
    PACKET_OUTGOING), each with its kernel timestamp (SO_TIMESTAMPNS: on
    receive, when the packet reaches the stack; on send, when
    dev_queue_xmit hands it to the packet taps, i.e. as it leaves through
    IFNAME). Non-blocking."""
    # Protocol 0 here, ETH_P_ALL at bind: a socket opened with a protocol
    # receives from every interface at once, and binding it then unhooks it
    # for an RCU grace period (10 ms and more on a busy VM), so the first
    # advert captured would be followed by a gap the daemon never made.
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    filt = _BPF_VRRP46 if ipv6 else _BPF_VRRP4
    prog = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *f) for f in filt))
    ps.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                  struct.pack("HL", len(filt), ctypes.addressof(prog)))
    ps.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:    # root may exceed net.core.rmem_max
        ps.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    except OSError:
        ps.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ps.bind((ifname, ETH_P_ALL))  # Python applies htons to the protocol itself
    ps.setblocking(False)
    return ps


def packet_ts(anc):
    """The kernel timestamp (ns, CLOCK_REALTIME) in recvmsg's ancillary data;
    None when there is none."""
    for lvl, typ, cd in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", cd[:16])
            return sec * 1_000_000_000 + nsec
    return None


def packet_drops(ps):
    """Packets the kernel dropped on ps since the last call (read and reset)."""
    return struct.unpack("II", ps.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]


def skew_ms(prio, interval_ms):
    """RFC 5798 Skew_Time in ms."""
    return (256 - prio) * interval_ms / 256.0


def mdi_ms(prio, interval_ms):
    """Master_Down_Interval in ms: 3 intervals + Skew_Time."""
    return 3 * interval_ms + skew_ms(prio, interval_ms)
