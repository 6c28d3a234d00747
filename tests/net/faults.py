"""
faults.py - helpers for the fault tests (test_lossy.py, test_partition.py,
test_crash_loop.py, test_soak.py): packet loss with nftables, a sniffer that
sees what vipd's raw socket sees, VIP holding intervals from `ip monitor`,
transitions from vipd's log, and a process census of a vipd.

Run as `python3 faults.py rawsniff SRC OUT` inside a namespace for the
sniffer (it prints READY, and on a line on stdin writes OUT and exits).
"""
import datetime
import json
import os
import re
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lab import PYTHON, Service, make_script, tail, wait_until  # noqa: E402

VRRP_PROTO = 112
SO_TIMESTAMPNS = 35

# "[VI_1 eth0 vrid 51 v4] BACKUP -> MASTER (master_down)"
TRANSITION_RE = re.compile(r"\[(\S+) [^\]]*\] (INIT|BACKUP|MASTER|FAULT) -> "
                           r"(INIT|BACKUP|MASTER|FAULT) \(([^)]*)\)")


def transitions(text, instance=None):
    """[(instance, from, to, reason), ...] in the order vipd logged them."""
    out = [m.groups() for m in TRANSITION_RE.finditer(text)]
    return [t for t in out if instance is None or t[0] == instance]


def log_since(host, offset):
    """host's vipd log from byte offset on (offset: len of an earlier read)."""
    return host.log_text()[offset:]


# --------------------------------------------------------------------------
# loss

def nft_drop(host, percent, table="vipdloss"):
    """Drop percent % of the IPv4 VRRP packets host receives, at random, in
    its namespace's input hook, before any socket (vipd's raw socket
    included) sees them. Returns a function reading the rule's counter."""
    host.run(["nft", "-f", "-"], input="""
table ip %(t)s {
    chain input {
        type filter hook input priority raw; policy accept;
        ip protocol vrrp numgen random mod 100 < %(p)d counter drop
    }
}
""" % {"t": table, "p": percent})

    def dropped():
        rules = json.loads(host.run(["nft", "-j", "list", "table", "ip", table]).stdout)
        for item in rules["nftables"]:
            for e in item.get("rule", {}).get("expr", []):
                if "counter" in e:
                    return e["counter"]["packets"]
        return None
    return dropped


class RawSniffer(Service):
    """Arrival times of src's adverts at a host as vipd sees them: a raw
    IPPROTO 112 socket in the host's namespace, so after the input hook
    (what nftables drops never reaches it). stop() returns the times (s)."""

    def __init__(self, host, src):
        self.out = os.path.join(host.dir, "rawsniff-%s.json" % src)
        super().__init__(host, "rawsniff-%s" % src,
                         [PYTHON, os.path.abspath(__file__), "rawsniff", src, self.out])
        self.result = None

    def start(self):
        super().start()
        wait_until(self._ready, 10, what="raw sniffer on %s" % self.host.name)
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("raw sniffer exited: %s" % tail(self.log, 20))
        with open(self.log, errors="replace") as f:
            f.seek(self.log_offset)
            return "READY" in f.read()

    def stop(self, timeout=20):
        if self.result is None and self.alive():
            self.proc.stdin.write(b"dump\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout)
            with open(self.out) as f:
                self.result = [t / 1e9 for t in json.load(f)]
        super().stop()
        return self.result


def _rawsniff(src, out_path):
    import select
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, VRRP_PROTO)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    # ip_mreqn on eth0 (there is no route to pick an interface with)
    mreq = struct.pack("4s4si", socket.inet_aton("224.0.0.18"), socket.inet_aton("0.0.0.0"),
                       socket.if_nametoindex("eth0"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.setblocking(False)
    times = []
    print("READY", flush=True)
    while True:
        r, _, _ = select.select([sys.stdin, s], [], [], 1.0)
        while True:
            try:
                data, anc, _fl, _addr = s.recvmsg(256, socket.CMSG_SPACE(16))
            except BlockingIOError:
                break
            if len(data) < 20 or socket.inet_ntoa(data[12:16]) != src:
                continue
            for lvl, typ, cd in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", cd[:16])
                    times.append(sec * 1_000_000_000 + nsec)
        if sys.stdin in r:
            sys.stdin.readline()
            with open(out_path, "w") as f:
                json.dump(times, f)
            print("DONE %d" % len(times), flush=True)
            return


def loss_runs(arrivals, limit):
    """Gaps between consecutive arrivals longer than limit (seconds)."""
    return [b - a for a, b in zip(arrivals, arrivals[1:]) if b - a > limit]


# --------------------------------------------------------------------------
# who held the VIP when: `ip -ts monitor address` in a host's namespace

class AddrMonitor(Service):
    """`ip -ts monitor address dev eth0` in a host: every add and delete of
    an address with its time. held(vip) gives the intervals it was there."""

    def __init__(self, host):
        super().__init__(host, "ipmon", ["ip", "-ts", "monitor", "address", "dev", "eth0"])

    def start(self):
        super().start()
        time.sleep(0.1)  # monitor subscribed (it prints nothing until an event)
        return self

    LINE_RE = re.compile(r"^\[([0-9T:.-]+)\] (Deleted )?\d+: \S+\s+inet6? ([0-9a-f.:]+)/")

    def events(self, vip):
        """[(time_s, added), ...] for vip, in order."""
        out = []
        with open(self.log, errors="replace") as f:
            for line in f:
                m = self.LINE_RE.match(line)
                if m and m.group(3) == vip:
                    t = datetime.datetime.fromisoformat(m.group(1)).timestamp()
                    out.append((t, m.group(2) is None))
        return out

    def held(self, vip, now=None):
        """[(start, end), ...] while vip was on the host (end: now if still)."""
        out, since = [], None
        for t, added in self.events(vip):
            if added and since is None:
                since = t
            elif not added and since is not None:
                out.append((since, t))
                since = None
        if since is not None:
            out.append((since, now or time.time()))
        return out


def overlaps(a, b):
    """Intervals where both interval lists a and b hold: [(start, end), ...]."""
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if e > s:
                out.append((s, e))
    return sorted(out)


# --------------------------------------------------------------------------
# hooks and processes

def notify_hook(clab, host, log, name="notify.sh"):
    """A notify hook (root-owned, in the host's var dir) appending one line
    per run to log: its arguments, then VIPD_PREV_STATE and VIPD_REASON."""
    return make_script(clab, host, name, 'echo "$* prev=$VIPD_PREV_STATE reason=$VIPD_REASON"'
                       ' >> %s\n' % log)


def hook_runs(path):
    """[(tag, prev, state, reason), ...]: one per run of notify_hook's script,
    tag being the words the command line put before keepalived's four
    arguments ("" for none)."""
    from lab import read_lines
    out = []
    for line in read_lines(path):
        words = line.split()
        i = words.index("INSTANCE")
        prev = next(w[5:] for w in words if w.startswith("prev="))
        reason = next(w[7:] for w in words if w.startswith("reason="))
        out.append((" ".join(words[:i]), prev, words[i + 2], reason))
    return out


def proc_stat(pid):
    """(state, ppid) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1])
    except (OSError, IndexError, ValueError):
        return None


def children(pid):
    """[(child pid, state, comm), ...] of pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == pid:
                try:
                    with open("/proc/%s/comm" % d) as f:
                        comm = f.read().strip()
                except OSError:
                    comm = "?"
                out.append((int(d), st[0], comm))
    return out


def census(pid):
    """RSS (KiB), open fds (their number, and fd -> target) and children of a process."""
    rss = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            fds[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return {"rss_kib": rss, "fds": len(fds), "fd_targets": fds, "children": children(pid)}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "rawsniff":
        _rawsniff(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: faults.py rawsniff SRC OUT")
