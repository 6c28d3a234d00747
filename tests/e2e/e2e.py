#!/usr/bin/python3
"""
e2e.py - `make e2e`: the seeds' HA PostgreSQL clusters in network
namespaces (seed 001: Patroni behind two HAProxy load balancers; seed 000:
all-in-one database nodes; seed 002: a pair without Patroni; seed 004:
Patroni with ZooKeeper behind HAProxy), failures injected while a client writes through
the VIP, vipd next to keepalived. See tests/e2e/README.md.

    /usr/bin/python3 tests/e2e/e2e.py                       # every scenario, every column
    /usr/bin/python3 tests/e2e/e2e.py seed001-haproxy-kill  # one (or several, comma-separated)
    /usr/bin/python3 tests/e2e/e2e.py seed000,seed002       # every scenario of these seeds
    /usr/bin/python3 tests/e2e/e2e.py --columns vipd,keepalived seed001-lb-link-cut
    /usr/bin/python3 tests/e2e/e2e.py --list
"""
import argparse
import json
import os
import platform
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import client as CL  # noqa: E402
import cluster as C  # noqa: E402
import vipwatch as VW  # noqa: E402

L = C.L
COLUMNS = ("vipd", "vipd-1s", "keepalived")
COLUMN_TITLE = {"vipd": "vipd (recommended)", "vipd-1s": "vipd (seed: 1 s)",
                "keepalived": "keepalived 2.2.7 (seed)"}


class Scenario:
    """fault() breaks something, heal() repairs it; `cap`: the fault is lifted
    after that many seconds if writes have not resumed by then."""
    name = ""
    what = ""
    cap = 60.0
    observe = 0.0    # seconds the client goes on writing once writes are back
    cluster = C.Seed001
    default = True   # in a run that names no scenario
    # Both load balancers and their VIP daemons stay up and the VIP stays
    # where it is (seed 001's database-side faults): the outage is
    # Patroni's and HAProxy's, whatever the VIP daemon's timing. A run that
    # does not name the scenario itself leaves it out of the "vipd-1s"
    # column, which would repeat the "vipd" one (README, "End to end").
    vip_daemon_idle = False

    def __init__(self, c):
        self.c = c
        self.lb1 = c.vip_hosts[0]

    def prepare(self):
        """What the fault needs to know, looked up before the clock starts."""

    def fault(self):
        raise NotImplementedError

    def heal(self):
        pass


class LbLinkCut(Scenario):
    name = "seed001-lb-link-cut"
    what = "LB Master's link cut"

    def fault(self):
        self.c.lab.cut_link(self.lb1)

    def heal(self):
        self.c.lab.restore_link(self.lb1)


class HaproxyKill(Scenario):
    name = "seed001-haproxy-kill"
    what = "HAProxy killed on the LB Master"

    def fault(self):
        svc = self.c.haproxy["lb1"]
        svc.signal(signal.SIGKILL)
        svc.proc.wait(5)

    def heal(self):
        self.c.start_haproxy(self.lb1)


class HaproxyHang(Scenario):
    name = "seed001-haproxy-hang"
    what = "HAProxy hung (SIGSTOP) on the LB Master"
    cap = 20.0

    def fault(self):
        self.c.haproxy["lb1"].signal(signal.SIGSTOP)

    def heal(self):
        self.c.haproxy["lb1"].signal(signal.SIGCONT)


class DbLinkCut(Scenario):
    name = "seed001-db-link-cut"
    what = "primary db node's link cut"
    cap = 120.0
    vip_daemon_idle = True

    def prepare(self):
        self.db = self.c.leader()

    def fault(self):
        self.c.lab.cut_link(self.db)

    def heal(self):
        # The cable goes back only once the old primary has finished
        # demoting itself (its Patroni, asked inside its own namespace, no
        # longer says "primary, running"). PostgreSQL's shutdown waits for
        # its walsenders, which cannot reach anyone: that takes up to
        # wal_sender_timeout. A link back earlier than that was seen once to
        # let Patroni 3.0.2 rewrite the leader lock for the old primary
        # ("updated leader lock during demoting self because DCS is not
        # accessible"), which then promoted itself to a second timeline 2
        # (README, "End to end").
        def demoted():
            st = self.c.patroni_state(self.db)
            return st is not None and st.get("role") == "replica" and \
                st.get("state") == "running"
        try:
            L.wait_until(demoted, 120, interval=0.5, what="%s demoted" % self.db.name)
            time.sleep(10)  # one more Patroni loop (loop_wait) while still cut off
        finally:
            self.c.lab.restore_link(self.db)


class Switchover(Scenario):
    name = "seed001-switchover"
    what = "patronictl switchover"
    vip_daemon_idle = True

    def fault(self):
        self.c.switchover()


class VipdStop(Scenario):
    name = "seed001-vipd-stop"
    what = "graceful stop of vipd / keepalived on the LB Master"

    def fault(self):
        self.c.stop_lb(self.lb1)

    def heal(self):
        self.c.start_lb(self.lb1, self.c.lb_daemon)


class Seed000DbLinkCut(DbLinkCut):
    name = "seed000-db-link-cut"
    what = "primary node's link cut"
    cluster = C.Seed000
    vip_daemon_idle = False  # the VIP follows the primary here


class Seed000Switchover(Switchover):
    name = "seed000-switchover"
    what = "patronictl switchover"
    cluster = C.Seed000
    vip_daemon_idle = False  # the VIP follows the primary here


# Seed 003 only on request (E2E=seed003): it is seed 000's shape on two
# nodes, teaches the same, and would add some 8 minutes to a plain run.
class Seed003DbLinkCut(DbLinkCut):
    name = "seed003-db-link-cut"
    what = "primary node's link cut"
    cluster = C.Seed003
    vip_daemon_idle = False  # the VIP follows the primary here
    default = False


class Seed003Switchover(Switchover):
    name = "seed003-switchover"
    what = "patronictl switchover"
    cluster = C.Seed003
    vip_daemon_idle = False  # the VIP follows the primary here
    default = False


class Seed002DbLinkCut(Scenario):
    name = "seed002-db-link-cut"
    what = "primary host's link cut"
    cluster = C.Seed002

    def prepare(self):
        self.db = self.c.leader()

    def fault(self):
        self.c.lab.cut_link(self.db)

    def heal(self):
        self.c.lab.restore_link(self.db)


class Seed002OldPrimaryBack(Seed002DbLinkCut):
    """The primary's cable is pulled, the standby takes the VIP and is
    promoted; then the cable goes back: the old primary (still a primary,
    of the old timeline) must not take the VIP back. The client writes
    through all of it and 10 s beyond."""
    name = "seed002-old-primary-back"
    what = "old primary's link back after the failover"
    observe = 10.0

    def fault(self):
        super().fault()
        other = next(h for h in self.c.dbs if h is not self.db)
        L.wait_until(lambda: self.c.is_primary(other) and
                     self.c.vip_holders() == [other.name], 60, interval=0.2,
                     what="%s promoted, with the VIP" % other.name)
        time.sleep(1.0)
        self.c.lab.restore_link(self.db)

    def heal(self):
        pass


class Seed004LbLinkCut(LbLinkCut):
    """Seed 004 (Patroni + ZooKeeper, HAProxy in front): the cable of the
    load balancer holding the VIP (lb1) pulled; the VIP moves to lb2."""
    name = "seed004-lb-link-cut"
    what = "HAProxy node's link cut (the VIP's)"
    cluster = C.Seed004


SCENARIOS = (LbLinkCut, HaproxyKill, HaproxyHang, DbLinkCut, Switchover, VipdStop,
             Seed000DbLinkCut, Seed000Switchover, Seed003DbLinkCut, Seed003Switchover,
             Seed002DbLinkCut, Seed002OldPrimaryBack, Seed004LbLinkCut)
BY_NAME = {s.name: s for s in SCENARIOS}


def rows_on(c, addr, run_id):
    """{seq: server} of run_id's rows, read on addr's PostgreSQL directly."""
    p = c.client.run([L.PYTHON, "-c", "import psycopg2,sys,json;c=psycopg2.connect(host="
                      "sys.argv[1],port=int(sys.argv[4]),user='postgres',password="
                      "sys.argv[2],dbname='postgres',connect_timeout=3);k=c.cursor();"
                      "k.execute('SELECT seq, host(server) FROM e2e WHERE run=%s',"
                      "(sys.argv[3],));print(json.dumps(dict(k.fetchall())))",
                      addr, C.SUPERPASS, run_id, str(c.PG_PORT)], timeout=30)
    return {int(k): v for k, v in json.loads(p.stdout).items()}


def _resumed(out, fault_t, quiet=2.0):
    """Writes came back after fault_t and have flowed without a gap for `quiet` s."""
    try:
        acks, _ = CL.read(out)
    except OSError:
        return False
    now = time.time()
    recent = [a[2] for a in acks if a[2] > fault_t]
    if not recent or now - recent[-1] > 0.3:
        return False
    recent = [t for t in recent if t >= now - quiet]
    if not recent or recent[0] > now - quiet + 0.3:
        return False
    return all(b - a < 0.3 for a, b in zip(recent, recent[1:]))


def wait_baseline(c, log, timeout=240):
    """The cluster as a scenario starts from (c.baseline(): seed 001: the
    VIP on lb1; seed 000: on the primary's node with vipd; seed 002: db1
    primary with the VIP, db2 streaming)."""
    t0 = time.monotonic()
    c.baseline(timeout)
    return time.monotonic() - t0


def run_scenario(c, cls, column, log=print):
    """One row, one column: returns the judged result (dict)."""
    sc = cls(c)
    wait_baseline(c, log)
    run_id = "%s/%s/%d" % (column, sc.name, time.time())
    out = os.path.join(c.client.dir, "client-%s-%s.txt" % (column, sc.name))
    cl = L.Service(c.client, "client-%s-%s" % (column, sc.name),
                   [L.PYTHON, os.path.join(HERE, "client.py"), C.VIP, str(c.RW_PORT),
                    C.SUPERPASS, run_id, out])
    c.lab.add(cl.start())
    watch = None
    if isinstance(c, C.Seed000):
        # the VIP is on the database nodes: is it on the primary's?
        wout = os.path.join(c.client.dir, "vipwatch-%s-%s.txt" % (column, sc.name))
        watch_t = time.time()
        watch = c.lab.add(L.Service(c.client, "vipwatch-%s-%s" % (column, sc.name),
                                    [L.PYTHON, os.path.join(HERE, "vipwatch.py"), wout, C.VIP]
                                    + [h.ip4 for h in c.dbs]).start())
    L.wait_until(lambda: "READY" in L.tail(cl.log, 5), 20, what="client's first commit")
    time.sleep(2.0)  # a baseline of 100 commits
    holders_before = c.vip_holders()
    sc.prepare()
    fault_t = time.time()
    sc.fault()
    # writes must flow again after the fault is complete: a slow fault()
    # (a loaded machine) must not pass for writes resuming
    done_t = time.time()
    healed = False
    note = ""
    end = time.monotonic() + sc.cap
    while not _resumed(out, done_t):
        if time.monotonic() > end and not healed:
            sc.heal()
            healed = True
            note = "writes resumed only after the fault was lifted at %.0f s" % sc.cap
            end = time.monotonic() + 120
        elif time.monotonic() > end:
            note = "writes never resumed"
            break
        time.sleep(0.1)
    if sc.observe and not note:
        time.sleep(sc.observe)
    holders_after = c.vip_holders()
    cl.proc.stdin.write(b"stop\n")
    cl.proc.stdin.flush()
    cl.proc.wait(10)
    cl.stop()
    if watch is not None:
        watch.stop()
    if not healed:
        sc.heal()
    # rows on the primary of the end, read once the cluster is whole again
    try:
        c.settle(120)
    except AssertionError as e:
        # seen with Patroni 3.0.2 after a primary's link cut: the old
        # primary takes the leader lock back and starts a second timeline;
        # the others cannot follow it. Count against the leader there is,
        # then rebuild the replicas (patronictl reinit) for the next rows.
        note = (note + "; " if note else "") + "cluster did not recover by itself (%s); " \
            "replicas reinitialised" % str(e).split(" (last error")[0]
        L.wait_until(c.leader, 60, interval=1, what="a Patroni leader")
        leader = c.leader()
        rows = rows_on(c, leader.ip4, run_id)
        c.reinit_replicas()
        wait_baseline(c, log)
    else:
        leader = c.leader()
        rows = rows_on(c, leader.ip4, run_id)
    c.after_rows()
    res = CL.judge(out, rows, since=fault_t - 0.5)
    if watch is not None:
        # from the baseline on: a VIP that sits on a replica before the
        # fault counts too (keepalived as seed 000 has it)
        res["vip_on_replica"], res["vip_on_replica_total"], res["vip_on_replica_still"] = \
            VW.on_replica(wout, C.VIP, since=watch_t)
    res.update({"scenario": sc.name, "column": column, "note": note,
                "vip_before": holders_before, "vip_after_fault": holders_after,
                "primary_after": leader.name, "client_log": out})
    return res


def fmt_row(r):
    vr = ""
    if "vip_on_replica" in r:
        vr = " / %s%.1f s" % ("≥" if r["vip_on_replica_still"] else "", r["vip_on_replica"])
    return "%.2f s / %d / %d%s%s" % (r["outage"], r["lost"], r["non_primary"], vr,
                                    " (*)" if r["note"] else "")


def table(results, columns, scenarios):
    by = {(r["scenario"], r["column"]): r for r in results}
    head = ["scenario"] + [COLUMN_TITLE[c] for c in columns]
    rows = []
    for s in scenarios:
        rows.append(["%s (%s)" % (s.what, s.name)] + [
            fmt_row(by[(s.name, c)]) if (s.name, c) in by else "-" for c in columns])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    notes = ["(*) %s, %s: %s" % (r["scenario"], r["column"], r["note"])
             for r in results if r["note"]]
    idle = [s.name for s in scenarios if s.vip_daemon_idle and "vipd-1s" in columns and
            (s.name, "vipd-1s") not in by]
    if idle:
        notes.append("-: %s not run at the seed's timing: the VIP does not move there, so "
                     "it would repeat vipd (recommended); name the scenario to run it" %
                     ", ".join(idle))
    return "\n".join(lines + [""] + notes)


def run_seed(kind, scen, cols, results, named=()):
    """Build one seed's cluster, run `scen` in every column, remove it
    (the "vipd-1s" column without the scenarios where the VIP daemon plays
    no part, unless `named` names them). Appends to results; returns 0, 1
    (a write lost or taken by a non-primary) or 130 (interrupted)."""
    rc = 0
    t_seed = time.monotonic()
    print("e2e: %s in network namespaces" % kind.TITLE)
    c = kind()
    try:
        c.start()
        for col in cols:
            if col == "keepalived" and not kind.KEEPALIVED_EXAMPLE:
                continue
            if col == "vipd-1s" and getattr(kind, "RECOMMENDED_IS_SEED_INTERVAL", False):
                continue
            c.use_lb_daemon(col)
            print("== %s on %s, VIP %s on %s" % (
                COLUMN_TITLE[col], " / ".join(h.name for h in c.vip_hosts), C.VIP,
                c.vip_home().name), flush=True)
            for s in scen:
                if col == "vipd-1s" and s.vip_daemon_idle and s.name not in named:
                    continue
                t_run = time.monotonic()
                r = run_scenario(c, s, col)
                r["seconds"] = time.monotonic() - t_run
                results.append(r)
                vr = ", VIP on a replica %.2f s (%.2f s in all%s)" % (
                    r["vip_on_replica"], r["vip_on_replica_total"],
                    "; still at the end" if r["vip_on_replica_still"] else "") \
                    if "vip_on_replica" in r else ""
                print("  %-24s outage %6.2f s, lost %d, non-primary %d%s, %d commits, %d "
                      "errors, VIP %s -> %s, primary now %s%s (%.0f s)" % (
                          s.name, r["outage"], r["lost"], r["non_primary"], vr, r["acks"],
                          r["errors"], ",".join(r["vip_before"]) or "-",
                          ",".join(r["vip_after_fault"]) or "-", r["primary_after"],
                          "; " + r["note"] if r["note"] else "", r["seconds"]), flush=True)
                if r["lost"] or r["non_primary"]:
                    rc = 1
    except KeyboardInterrupt:
        print("e2e: interrupted; removing everything", file=sys.stderr)
        rc = 130
    except Exception:
        print(c.lab.describe(), file=sys.stderr)
        raise
    finally:
        problems = c.cleanup()
        for p in problems:
            print("e2e: teardown: %s" % p, file=sys.stderr)
        print("e2e: %s done in %.0f s" % (kind.SEED, time.monotonic() - t_seed), flush=True)
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="?", default="",
                    help="comma-separated scenario or seed names (seed000: all of "
                         "its scenarios; default: all but seed003's)")
    ap.add_argument("--columns", default=",".join(COLUMNS),
                    help="comma-separated: %s" % ",".join(COLUMNS))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)
    if a.list:
        for s in SCENARIOS:
            print("%-26s %s%s" % (s.name, s.what, "" if s.default else
                                  " (only on request: not in a plain run)"))
        return 0
    names = []
    named = [n for n in a.scenarios.split(",") if n and n in BY_NAME]
    for n in [n for n in a.scenarios.split(",") if n] or [s.name for s in SCENARIOS
                                                         if s.default]:
        # a seed's name ("seed000") stands for all of its scenarios
        whole = [s.name for s in SCENARIOS if s.cluster.SEED == n]
        names += whole or [n]
    bad = [n for n in names if n not in BY_NAME]
    cols = [x for x in a.columns.split(",") if x]
    bad += [x for x in cols if x not in COLUMNS]
    if bad:
        print("e2e: unknown %s (see --list)" % ", ".join(bad), file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("e2e: needs root (network namespaces)", file=sys.stderr)
        return 2
    scen = [BY_NAME[n] for n in names]
    missing = C.missing_tools(zookeeper=any(s.cluster.DCS == "zookeeper" for s in scen))
    if missing:
        print("e2e: missing %s (make deps installs them)" % ", ".join(missing), file=sys.stderr)
        return 2

    def _term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, _term)
    swept = L.sweep_stale() + L.sweep_stale_vardirs()
    if swept:
        print("e2e: swept leftovers of killed runs: %s" % ", ".join(swept))
    t0 = time.monotonic()
    results, rc, done = [], 0, []
    # one cluster per seed, built, run through every column, removed
    for kind in (C.Seed001, C.Seed000, C.Seed003, C.Seed002, C.Seed004):
        mine = [s for s in scen if s.cluster is kind]
        if not mine:
            continue
        rc = max(rc, run_seed(kind, mine, cols, results, named))
        done.append((kind, mine))
        if rc == 130:
            break
    for kind, mine in done:
        got = [r for r in results if r["scenario"] in {s.name for s in mine}]
        if not got:
            continue
        vr = " / VIP on a replica (longest)" if issubclass(kind, C.Seed000) else ""
        print()
        print("%s, %s, %s, %d CPUs (outage / lost acknowledged writes / writes to a "
              "non-primary%s):" % (kind.SEED, time.strftime("%Y-%m-%d"), platform.node(),
                                   os.cpu_count(), vr))
        print(table(got, cols, mine))
    if results:
        print("\ne2e: %d runs in %.0f s" % (len(results), time.monotonic() - t0))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return rc


if __name__ == "__main__":
    sys.exit(main())
