"""
vipwatch.py - where the VIP is compared with where the primary is, as a
client sees it (seeds 000 / 003: the VIP on the database nodes).

Run (inside the client namespace):
    python3 vipwatch.py OUTFILE VIP NODE_ADDR...
Every 100 ms, for the VIP and for each node address, one thread asks
Patroni's REST API on port 8008 (GET /patroni, 0.3 s deadline) for the
role and state of the node that answers there. Patroni listens on every
address of its node, so the VIP's answer is the role of the node holding
the VIP (the one the client's ARP cache points to). Each line of OUTFILE:
`t target role state` (`- -` when nothing answered). SIGTERM ends it.

Judged afterwards (on_replica()): how long the VIP answered as a replica
while another node was a running primary - the time clients of the VIP
would have been sent to the wrong node, had HAProxy not been there.
Between leaders (no node primary) nothing counts: there is nowhere better
for the VIP to be.
"""
import json
import sys
import threading
import time
import urllib.request

STEP = 0.1
TIMEOUT = 0.3
PRIMARY = ("master", "primary")


def poll(target, out, lock):
    url = "http://%s:8008/patroni" % target
    nxt = time.monotonic()
    while True:
        t = time.time()
        try:
            st = json.loads(urllib.request.urlopen(url, timeout=TIMEOUT).read())
            role, state = st.get("role", "-"), st.get("state", "-")
        except Exception:  # noqa: BLE001 - nothing answered in time
            role, state = "-", "-"
        with lock:
            out.write("%.6f %s %s %s\n" % (t, target, role, state))
        nxt += STEP
        time.sleep(max(0.0, nxt - time.monotonic()))
        nxt = max(nxt, time.monotonic() - STEP)


def run(out_path, vip, *nodes):
    out = open(out_path, "w", buffering=1)
    lock = threading.Lock()
    for target in (vip,) + nodes:
        threading.Thread(target=poll, args=(target, out, lock), daemon=True).start()
    while True:
        time.sleep(3600)


def on_replica(path, vip, since=None):
    """(longest, total, still) : seconds the VIP answered as a non-primary
    while some node answered as a running primary, from `since` on; still:
    it was so at the end (the figure is then a lower bound)."""
    samples = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                samples.append((float(p[0]), p[1], p[2], p[3]))
    samples.sort()
    last = {}        # node -> (t, is_primary)
    longest = total = 0.0
    stretch_start, prev_t = None, None
    for t, target, role, state in samples:
        if target != vip:
            last[target] = (t, role in PRIMARY and state == "running")
            continue
        if since is not None and t < since:
            continue
        primary_elsewhere = any(ok and t - tt < 1.0 for tt, ok in last.values())
        wrong = role not in PRIMARY and role != "-" and primary_elsewhere
        if prev_t is not None and stretch_start is not None:
            total += t - prev_t
        if wrong and stretch_start is None:
            stretch_start = t
        elif not wrong and stretch_start is not None:
            longest = max(longest, t - stretch_start)
            stretch_start = None
        prev_t = t if wrong else None
    still = stretch_start is not None and prev_t is not None
    if still:
        longest = max(longest, prev_t - stretch_start)
    return longest, total, still


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:]))
