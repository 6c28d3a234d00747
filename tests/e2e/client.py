"""
client.py - the end-to-end client: one committed row every 20 ms through
the VIP, and what it saw.

Run (inside the client namespace):
    python3 client.py HOST PORT PASSWORD RUN OUTFILE
It commits `INSERT INTO e2e (run, seq, server, rec) VALUES (RUN, seq,
inet_server_addr(), pg_is_in_recovery())` every 20 ms in autocommit mode,
with psycopg2's asynchronous API so that every step (connect, query) has a
hard 0.5 s deadline whatever the network does; on any error or timeout it
drops the connection and reconnects at once. Each line of OUTFILE is one
attempt: `A seq t_sent t_ack server` for an acknowledged commit,
`E seq t_sent t_err message` for a failure. "stop" on stdin ends it.

Judged afterwards (judge()):
  * outage: the longest gap between two acknowledged commits;
  * lost: acknowledged rows not on the primary at the end (counted there);
  * non-primary: acknowledged commits that came from a server other than the
    primary of that moment. A standby refuses writes (and `rec` is recorded
    to prove it: it must be false in every acknowledged row), so the danger
    is an old primary still taking writes once a new one has; that shows
    as an interleaving of servers in acknowledgement order (A, B, A): every
    ack from a server after another one has taken over counts, as does
    every ack whose row is not on the final primary with the same server.
"""
import os
import select
import sys
import time

STEP = 0.020
TIMEOUT = 0.5


def _wait(conn, deadline):
    import psycopg2.extensions as ext
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        if state == ext.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        elif state == ext.POLL_WRITE:
            select.select([], [conn.fileno()], [], left)
        else:
            raise RuntimeError("poll state %r" % state)


def run(host, port, password, run_id, out_path):
    import psycopg2
    dsn = "host=%s port=%s user=postgres password=%s dbname=postgres connect_timeout=2" % (
        host, port, password)
    out = open(out_path, "w", buffering=1)
    conn, seq, nxt, ready = None, 0, time.monotonic(), False
    stdin_open = True
    while True:
        if stdin_open and select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line or line.strip() == "stop":
                break
        seq += 1
        t0 = time.time()
        try:
            if conn is None:
                conn = psycopg2.connect(dsn, async_=1)
                _wait(conn, time.monotonic() + TIMEOUT)
            cur = conn.cursor()
            cur.execute("INSERT INTO e2e (run, seq, server, rec) VALUES (%s, %s, "
                        "inet_server_addr(), pg_is_in_recovery()) RETURNING host(server), rec",
                        (run_id, seq))
            _wait(conn, time.monotonic() + TIMEOUT)
            server, rec = cur.fetchone()
            t1 = time.time()
            out.write("A %d %.6f %.6f %s %s\n" % (seq, t0, t1, server, "t" if rec else "f"))
            if not ready:
                print("READY", flush=True)
                ready = True
            nxt += STEP
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()
        except Exception as e:  # noqa: BLE001 - any failure: reconnect at once
            out.write("E %d %.6f %.6f %s\n" % (seq, t0, time.time(),
                                                str(e).strip().replace("\n", " ")[:120]))
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
            conn = None
            time.sleep(0.002)  # no busy loop on an instant refusal
            nxt = time.monotonic()
    out.close()
    return 0


def read(out_path):
    acks, errors = [], []
    with open(out_path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "A" and len(p) >= 6:
                acks.append((int(p[1]), float(p[2]), float(p[3]), p[4], p[5] == "t"))
            elif p[0] == "E":
                errors.append((int(p[1]), float(p[2]), float(p[3]), " ".join(p[4:])))
    return acks, errors


def judge(out_path, rows_on_primary, since=None):
    """rows_on_primary: {seq: server} read on the final primary for this run.
    since: only gaps ending after this time count (the fault; None = all)."""
    acks, errors = read(out_path)
    acks.sort(key=lambda a: a[2])
    gap, gap_at = 0.0, None
    for a, b in zip(acks, acks[1:]):
        if since is not None and b[2] < since:
            continue
        if b[2] - a[2] > gap:
            gap, gap_at = b[2] - a[2], a[2]
    lost = [a[0] for a in acks if a[0] not in rows_on_primary]
    wrong = set()
    order = []
    for a in acks:
        if not order or order[-1] != a[3]:
            order.append(a[3])
    # an ack from a server that had already been replaced (A .. B .. A)
    current, retired = None, set()
    for a in acks:
        if a[3] != current:
            if current is not None:
                retired.add(current)
            current = a[3]
        if a[3] in retired:
            wrong.add(a[0])
        if a[4]:
            wrong.add(a[0])  # committed while in recovery: impossible, but checked
        got = rows_on_primary.get(a[0])
        if got is not None and got != a[3]:
            wrong.add(a[0])
    return {"acks": len(acks), "errors": len(errors), "outage": gap, "outage_at": gap_at,
            "lost": len(lost), "lost_seqs": lost[:10], "non_primary": len(wrong),
            "servers": order}


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:6]))
