"""promote_pgsql against real PostgreSQL 15 servers: the VIP on the database nodes
and vipd promoting the standby when its node becomes Master.

Host A (h1) runs the primary and vipd at priority 100; host B (h2) a streaming
standby cloned from it (`pg_basebackup -R`) and vipd at priority 90 with
`promote_pgsql` on its socket directory and a notify_master that records
whether its server was still in recovery when it ran; host C (h3) is a client
that only ever talks to the VIP. Both servers listen on every address, so
whichever holds 192.0.2.100 answers there.
"""
import os
import time

import pytest

from lab import (PGBIN, hooks_json, make_script, read_lines, vipd_instance, wait_converged,
                 wait_until)

VIP = "192.0.2.100"
pytestmark = pytest.mark.root

PSQL = PGBIN + "/psql"


def marker_hook(clab, h, pg):
    """A notify_master that appends "recovery=t|f" (its server, when it ran) to a file."""
    marker = os.path.join(clab.hostdir(h), "notify_master.log")
    path = make_script(clab, h, "notify_master.sh", """
r=$(%s -X -h %s -p %d -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>&1)
echo "recovery=$r" >> %s
""" % (PSQL, pg.sockdir, pg.port, marker))
    return path, marker


def promote_conninfo(pg, extra=""):
    return "host=%s port=%d dbname=postgres user=postgres%s" % (pg.sockdir, pg.port, extra)


def test_failover_promotes_standby_before_notify_master(clab):
    h1, h2, h3 = clab.add_hosts(3)
    pa = clab.postgres(h1).initdb().start(listen="*")
    pb = clab.postgres(h2).basebackup(pa).start(listen="*")
    wait_until(lambda: pb.sql("SELECT status FROM pg_stat_wal_receiver") == "streaming", 15,
               interval=0.1, what="the standby to stream from the primary")
    assert not pa.in_recovery() and pb.in_recovery()

    hook, marker = marker_hook(clab, h2, pb)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP, timeout=3)
    h2.start_vipd(vipd_instance(priority=90, promote_pgsql=promote_conninfo(pb),
                                notify_master=hook))
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    assert hooks_json(h2) == []  # INIT -> BACKUP: nothing to promote

    # A fails: its database first, then its vipd (priority 0: B takes over at once)
    pa.stop("fast")
    t0 = time.monotonic()
    assert h1.stop_vipd() == 0
    wait_until(lambda: h2.state() == "MASTER" and h2.has_addr(VIP), 3,
               what="h2 to take the VIP")
    wait_until(lambda: len(hooks_json(h2)) == 2, 30,
               what="promote_pgsql and notify_master to run on h2")
    runs = hooks_json(h2)
    assert [r["hook"] for r in runs] == ["promote_pgsql", "notify_master"], runs
    pr = runs[0]
    assert pr["status"] == "promoted", runs
    assert pr["transition"] == "BACKUP->MASTER" and pr["reason"] == "priority_zero", pr
    assert pr["command"] == promote_conninfo(pb), pr
    assert runs[1]["status"] == "exit 0", runs
    assert runs[1]["started"] >= pr["started"]
    # notify_master ran after the promotion had completed
    assert read_lines(marker) == ["recovery=f"], read_lines(marker)
    assert not pb.in_recovery()
    assert "hook promote_pgsql (BACKUP->MASTER) promoted" in h2.log_text()

    # C writes through the VIP: it lands on B, now the primary
    c = h3.run([PSQL, "-X", "-h", VIP, "-p", "5432", "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1",
                "-c", "CREATE TABLE t(x int); INSERT INTO t VALUES (1)"], check=False)
    assert c.returncode == 0, c.stdout + c.stderr
    took = time.monotonic() - t0
    assert pb.sql("SELECT x FROM t") == "1"
    print("# promote_pgsql: promoted in %d ms; vipd on A stopped -> write through the VIP "
          "done in %.0f ms" % (pr["duration_ms"], took * 1000))


def test_already_primary_is_left_alone(clab):
    h1, = clab.add_hosts(1)
    pa = clab.postgres(h1).initdb().start()
    pid = pa.postmaster_pid()
    tli = pa.sql("SELECT timeline_id FROM pg_control_checkpoint()")
    hook, marker = marker_hook(clab, h1, pa)
    # the password (never asked for: trust) must not show in vipctl or the log
    h1.start_vipd(vipd_instance(priority=100, notify_master=hook,
                                promote_pgsql=promote_conninfo(pa, " password=s3cret")))
    wait_converged(h1, [], VIP, timeout=3)
    wait_until(lambda: len(hooks_json(h1)) == 2, 10,
               what="promote_pgsql and notify_master to run")
    runs = hooks_json(h1)
    assert [r["hook"] for r in runs] == ["promote_pgsql", "notify_master"], runs
    pr = runs[0]
    assert pr["status"] == "already primary", pr
    assert pr["transition"] == "BACKUP->MASTER", pr
    assert pr["command"] == promote_conninfo(pa, " password=***"), pr
    assert pr["duration_ms"] < 2000, pr
    assert runs[1]["status"] == "exit 0", runs
    assert read_lines(marker) == ["recovery=f"]
    # undisturbed: same postmaster, same timeline, still a primary that takes writes
    assert pa.postmaster_pid() == pid
    assert pa.sql("SELECT timeline_id FROM pg_control_checkpoint()") == tli
    assert not pa.in_recovery()
    pa.sql("CREATE TABLE u(x int); INSERT INTO u VALUES (2)")
    assert pa.sql("SELECT x FROM u") == "2"
    assert "s3cret" not in h1.vipctl("hooks").stdout + h1.vipctl("hooks", "--json").stdout
    assert "s3cret" not in h1.log_text()
    assert "hook promote_pgsql (BACKUP->MASTER) already primary" in h1.log_text()
