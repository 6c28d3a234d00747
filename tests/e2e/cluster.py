"""
cluster.py - the seeds' Patroni topologies in network namespaces, from
Debian's packages, on one bridge with a client:
  Seed001: three database nodes (etcd + Patroni + PostgreSQL 15) behind two
           load balancers (HAProxy + vipd or keepalived);
  Seed000: three all-in-one database nodes (etcd + Patroni + PostgreSQL 15
           on :5433 + HAProxy on :5432 + vipd or keepalived), the VIP on
           one of them (seeds 000 and 003);
  Seed004: two database nodes (Patroni + PostgreSQL 15) whose DCS is one
           ZooKeeper on a node of its own, behind two load balancers
           (HAProxy + vipd).
All are a PatroniCluster; what differs is in class attributes and in
examples/ (the configurations, read at run time).

Built on tests/net/lab.py (CheckLab: namespaces, services, clean-up and the
registry that sweeps a killed run's leftovers). Every process runs in the
foreground as a child of this one, with its files under the lab's
directories; nothing is installed as a service, nothing outside the
namespaces is touched.
"""
import json
import os
import re
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "net"))

import lab as L  # noqa: E402

EXAMPLES = os.path.join(REPO, "examples")
VIP = "192.0.2.100"
LBS = (("lb1", "192.0.2.11"), ("lb2", "192.0.2.12"))
DBS = (("db1", "192.0.2.21"), ("db2", "192.0.2.22"), ("db3", "192.0.2.23"))
CLIENT = ("client", "192.0.2.50")
SUPERPASS = "e2e-super"
PGBIN = "/usr/lib/postgresql/15/bin"
NEEDED = ("/usr/bin/patroni", "/usr/bin/patronictl", "/usr/bin/etcd", "/usr/sbin/haproxy",
          "/usr/sbin/keepalived", PGBIN + "/postgres")
# ZooKeeper (seed 004): Debian's zookeeper package, run by hand in the
# foreground (its init script would run the host's service). The jar's
# manifest names the libraries it needs; slf4j-simple makes it log to
# stderr (without a binding it logs nothing).
JAVA = "/usr/bin/java"
ZK_JARS = ("/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar")
ZK_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"


def missing_tools(zookeeper=False):
    """What the end-to-end runs need and this machine lacks (files, modules);
    with zookeeper, also what seed 004 needs."""
    out = [p for p in NEEDED if not os.access(p, os.X_OK)]
    mods = [("psycopg2", "python3-psycopg2")]
    if zookeeper:
        out += [p for p in (JAVA,) if not os.access(p, os.X_OK)]
        out += [p for p in ZK_JARS if not os.access(p, os.R_OK)]
        mods.append(("kazoo", "python3-kazoo"))
    for mod, pkg in mods:
        try:
            __import__(mod)
        except ImportError:
            out.append(pkg)
    return out


# ---------------------------------------------------------------- configs from examples/

def read_example(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return f.read()


def host_tag(name):
    """The tag an example's per-host lines use: lb2 -> "lb-2", db3 -> "db-3"."""
    return "%s-%s" % (name[:2], name[2:])


def for_host(text, comment, tag):
    """Apply the example's lines for one host: a comment `<comment> TAG: LINE`
    (TAG "lb-2", "db-3"...) replaces the next non-comment line with LINE
    (indentation kept). Lines for other hosts stay comments."""
    out, pending = [], None
    for line in text.splitlines():
        m = re.match(r"^(\s*)%s %s: (.*)$" % (re.escape(comment), re.escape(tag)), line)
        if m:
            pending = m.group(2)
            out.append(line)
            continue
        if pending is not None and line.strip() and not line.lstrip().startswith(comment):
            indent = re.match(r"^\s*", line).group(0)
            line, pending = indent + pending, None
        out.append(line)
    return "\n".join(out) + "\n"


def for_lb2(text, comment):
    return for_host(text, comment, "lb-2")


def ini_override(text, overrides):
    """Set KEY = VALUE in INI sections: overrides maps a section-name regex
    (matched against "check haproxy_running", "instance lb_vip"...) to
    {key: value}; only keys already present are changed."""
    out, sect = [], ""
    for line in text.splitlines():
        m = re.match(r"^\s*\[([^\]]+)\]", line)
        if m:
            sect = m.group(1).strip()
        else:
            m = re.match(r"^(\s*)([A-Za-z_]+)\s*=", line)
            if m:
                for pat, kv in overrides.items():
                    if re.fullmatch(pat, sect) and m.group(2) in kv:
                        line = "%s%s = %s" % (m.group(1), m.group(2), kv[m.group(2)])
        out.append(line)
    return "\n".join(out) + "\n"


# The two vipd columns. "vipd": the seed's vipd example as it is (the
# recommended settings); "vipd-1s": the seed's own timing.
VIPD_VARIANTS = {
    "vipd": {},
    "vipd-1s": {r"instance .*": {"advert_interval": "1s"},
                r"check .*": {"interval": "2s", "timeout": "1s"}},
}


# ---------------------------------------------------------------- the clusters

class PatroniCluster:
    """etcd + Patroni + PostgreSQL 15 on three database nodes, HAProxy on
    `haproxy_hosts`, vipd or keepalived on `vip_hosts`, and a client. A
    subclass says where each runs and which examples/ files configure it."""
    SEED = ""
    TITLE = ""
    PG_PORT = 5432            # PostgreSQL (Patroni's postgresql.listen)
    RW_PORT = 5000            # HAProxy's read-write port, the client's
    RW_PROXY = "production"   # HAProxy's proxy behind RW_PORT (stats socket)
    RESTAPI_ANY = False       # Patroni's REST API on 0.0.0.0 (else the node's address)
    HAPROXY_EXAMPLE = ""
    VIPD_EXAMPLE = ""
    KEEPALIVED_EXAMPLE = ""
    KA_SCRIPT = ""            # the seed's check command, replaced by kill -0 $(cat pidfile)
    VARIANTS = VIPD_VARIANTS
    DCS = "etcd"              # Patroni's DCS: "etcd" (etcd on etcd_hosts) or "zookeeper"
    SCOPE = "postgres"        # Patroni's scope (the cluster's name)
    NAMESPACE = "/db/"        # Patroni's namespace (its keys' prefix in the DCS)
    DCS_SETTINGS = {}         # the seed's bootstrap.dcs settings beyond seed 001's

    def __init__(self, name, log=print):
        self.log = log
        self.lab = L.CheckLab(name)
        self.lbs, self.dbs = [], []
        self.etcd_only = []   # nodes that run etcd and nothing else (seed 003)
        self.zk_hosts = []    # nodes that run ZooKeeper (seed 004)
        self.zookeeper = {}
        self.haproxy = {}
        self.etcd, self.patroni = {}, {}
        self.lb_daemon = None  # "vipd", "vipd-1s", "keepalived"
        try:
            self.add_hosts()
            self.client = self.lab.add_host(*CLIENT)
        except BaseException:
            self.lab.cleanup()
            raise

    def add_hosts(self):
        for n, ip in DBS:
            self.dbs.append(self.lab.add_host(n, ip))

    @property
    def etcd_hosts(self):
        return self.dbs + self.etcd_only if self.DCS == "etcd" else []

    def dcs_conf(self, h):
        """Patroni's DCS section: the seed's "etcd:" (v2 API, python3-etcd)
        with every member; E2E_ETCD=etcd3 for the v3 API. Or "zookeeper:"
        with every ZooKeeper server (python3-kazoo)."""
        if self.DCS == "zookeeper":
            return {"zookeeper": {"hosts": ["%s:2181" % z.ip4 for z in self.zk_hosts]}}
        return {os.environ.get("E2E_ETCD", "etcd"): {
            "hosts": ",".join("%s:2379" % d.ip4 for d in self.etcd_hosts)}}

    def start_dcs(self):
        """etcd or ZooKeeper, healthy; a line for the log."""
        if self.DCS == "zookeeper":
            self.start_zookeeper()
            return "ZooKeeper: %d server(s) serving" % len(self.zk_hosts)
        self.start_etcd()
        return "etcd: %d members healthy" % len(self.etcd_hosts)

    # where HAProxy and the VIP daemons run; the host the VIP belongs on
    @property
    def haproxy_hosts(self):
        raise NotImplementedError

    @property
    def vip_hosts(self):
        raise NotImplementedError

    def vip_home(self):
        raise NotImplementedError

    def host(self, name):
        return self.lab.host(name)

    def cleanup(self):
        problems = self.lab.cleanup()
        if os.environ.get("E2E_KEEP"):
            print("e2e: files kept (E2E_KEEP): %s %s" % (self.lab.dir, self.lab._vardir))
        else:
            self.lab.remove_files()
        return problems

    # ------------------------------------------------------------ etcd
    def start_etcd(self):
        cluster = ",".join("etcd-%s=http://%s:2380" % (h.name, h.ip4)
                           for h in self.etcd_hosts)
        for h in self.etcd_hosts:
            d = os.path.join(self.lab.hostdir(h), "etcd")
            os.makedirs(d, exist_ok=True)
            argv = ["/usr/bin/etcd", "--name", "etcd-" + h.name, "--data-dir", d,
                    "--listen-peer-urls", "http://%s:2380" % h.ip4,
                    "--listen-client-urls", "http://127.0.0.1:2379,http://%s:2379" % h.ip4,
                    "--initial-advertise-peer-urls", "http://%s:2380" % h.ip4,
                    "--advertise-client-urls", "http://%s:2379" % h.ip4,
                    "--initial-cluster", cluster, "--initial-cluster-token", self.lab.prefix,
                    "--initial-cluster-state", "new", "--log-level", "warn",
                    "--enable-v2=true"]
            self.etcd[h.name] = self.lab.spawn(h, "etcd", argv)
        L.wait_until(self._etcd_healthy, 60, interval=0.5, what="etcd cluster healthy")

    def _etcd_healthy(self):
        p = self.dbs[0].run(["etcdctl", "--endpoints", ",".join(
            "http://%s:2379" % h.ip4 for h in self.etcd_hosts), "endpoint", "health"],
            check=False, timeout=10)
        return p.returncode == 0

    # ------------------------------------------------------------ ZooKeeper
    def zookeeper_cfg(self, h, d):
        """zoo.cfg for the server on h: the seed's tickTime 2000 and client
        port 2181, bound to h's address only; no AdminServer (Jetty on
        :8080), the four-letter words "ruok" and "srvr" for the health
        check. More than one server: a quorum (server.N lines, myid)."""
        lines = ["tickTime=2000", "initLimit=10", "syncLimit=5",
                 "dataDir=%s" % os.path.join(d, "data"),
                 "clientPort=2181", "clientPortAddress=%s" % h.ip4,
                 "admin.enableServer=false", "4lw.commands.whitelist=ruok,srvr",
                 "autopurge.purgeInterval=0"]
        if len(self.zk_hosts) > 1:
            lines += ["server.%d=%s:2888:3888" % (i + 1, z.ip4)
                      for i, z in enumerate(self.zk_hosts)]
        return "\n".join(lines) + "\n"

    def start_zookeeper(self):
        """ZooKeeper in the foreground (QuorumPeerMain, as Debian's init
        script and zkServer.sh start-foreground run it), a small JVM: 64 MB
        of heap, serial GC, no perf data file (it would go to
        /tmp/hsperfdata_*), its temporary directory under the lab's."""
        for i, h in enumerate(self.zk_hosts):
            d = os.path.join(self.lab.hostdir(h), "zookeeper")
            os.makedirs(os.path.join(d, "data"), exist_ok=True)
            os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
            L.write_file(os.path.join(d, "data", "myid"), "%d\n" % (i + 1))
            cfg = os.path.join(d, "zoo.cfg")
            L.write_file(cfg, self.zookeeper_cfg(h, d))
            argv = [JAVA, "-Xmx64m", "-Xms16m", "-Xss512k", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                    "-Djava.io.tmpdir=" + os.path.join(d, "tmp"),
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-Dzookeeper.log.dir=" + d,
                    "-cp", ":".join((d,) + ZK_JARS), ZK_MAIN, cfg]
            svc = L.Service(h, "zookeeper", argv, cwd=d)
            self.zookeeper[h.name] = self.lab.add(svc.start())
        for h in self.zk_hosts:
            L.wait_until(lambda h=h: self._zk_serving(h), 90, interval=0.5,
                         what="ZooKeeper on %s serving" % h.name)

    def _zk_serving(self, h):
        """ZooKeeper on h answers "srvr" with a mode (standalone, leader or
        follower): it serves clients."""
        p = h.run([L.PYTHON, "-c", "import socket,sys;s=socket.create_connection((sys.argv[1],"
                   "2181),2);s.sendall(b'srvr');print(b''.join(iter(lambda:s.recv(4096),b''))"
                   ".decode())", h.ip4], check=False, timeout=10)
        return p.returncode == 0 and "Mode:" in p.stdout

    # ------------------------------------------------------------ Patroni
    def patroni_conf(self, h, base):
        """The seed's Patroni configuration (seed 001, section 6-6; seed 000's
        has the same ttl, loop_wait and retry_timeout), with the lab's
        addresses and paths; lab changes: fsync off, small buffers,
        PostgreSQL 15's bin_dir and wal_keep_size (wal_keep_segments is gone
        since 13), the socket directory outside the data dir."""
        hba = ["host replication replicator 127.0.0.1/32 scram-sha-256"]
        hba += ["host replication replicator %s/32 scram-sha-256" % d.ip4 for d in self.dbs]
        hba += ["host all all 0.0.0.0/0 scram-sha-256"]
        rest = "0.0.0.0" if self.RESTAPI_ANY else h.ip4
        conf = {
            "scope": self.SCOPE, "namespace": self.NAMESPACE, "name": h.name,
            "restapi": {"listen": "%s:8008" % rest, "connect_address": "%s:8008" % h.ip4},
            "bootstrap": {
                "dcs": {
                    "ttl": 30, "loop_wait": 10, "retry_timeout": 10,
                    "maximum_lag_on_failover": 1048576,
                    "postgresql": {
                        "use_pg_rewind": True, "use_slots": True,
                        "parameters": {
                            "wal_level": "hot_standby", "hot_standby": "on",
                            "max_connections": 100, "max_worker_processes": 8,
                            "wal_keep_size": "128MB", "max_wal_senders": 10,
                            "max_replication_slots": 10, "max_prepared_transactions": 0,
                            "max_locks_per_transaction": 64, "wal_log_hints": "on",
                            "track_commit_timestamp": "off", "archive_mode": "on",
                            "archive_timeout": "1800s",
                            "archive_command": "mkdir -p ../wal_archive && test ! -f "
                                               "../wal_archive/%f && cp %p ../wal_archive/%f",
                        },
                        "recovery_conf": {"restore_command": "cp ../wal_archive/%f %p"},
                    },
                },
                "initdb": [{"auth": "scram-sha-256"}, {"encoding": "UTF8"}, "data-checksums"],
                "pg_hba": hba,
                "users": {"admin": {"password": "e2e-admin",
                                    "options": ["createrole", "createdb"]}},
            },
            "postgresql": {
                "listen": "%s:%d" % ("0.0.0.0" if self.RESTAPI_ANY else h.ip4, self.PG_PORT),
                "connect_address": "%s:%d" % (h.ip4, self.PG_PORT),
                "data_dir": os.path.join(base, "data"), "bin_dir": PGBIN,
                "pgpass": os.path.join(base, "pgpass"),
                "authentication": {
                    "replication": {"username": "replicator", "password": "e2e-repl"},
                    "superuser": {"username": "postgres", "password": SUPERPASS},
                    "rewind": {"username": "postgres", "password": SUPERPASS},
                },
                # The seed's '.' (the data dir) breaks here: pg_basebackup
                # copies the primary's socket lock file, and in the lab the
                # pid in it is alive (one process table for all hosts).
                "parameters": {"unix_socket_directories": base,
                               "password_encryption": "scram-sha-256",
                               "fsync": "off", "shared_buffers": "32MB"},
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                     "nosync": False},
        }
        conf["bootstrap"]["dcs"].update(self.DCS_SETTINGS)
        conf.update(self.dcs_conf(h))
        self.patroni_adapt(h, base, conf)
        return json.dumps(conf, indent=1)  # JSON is YAML

    def patroni_adapt(self, h, base, conf):
        """A seed's changes to the configuration above (in place)."""

    def patroni_cfg_path(self, h):
        return os.path.join(self.lab.hostdir(h), "pg", "patroni.yml")

    def start_patroni(self):
        pw = L._pw("postgres")
        for h in self.dbs:
            base = os.path.join(self.lab.hostdir(h), "pg")
            os.makedirs(base, exist_ok=True)
            os.chown(base, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o700)
            cfg = self.patroni_cfg_path(h)
            L.write_file(cfg, self.patroni_conf(h, base), 0o600)
            os.chown(cfg, pw.pw_uid, pw.pw_gid)
            svc = L.Service(h, "patroni", ["env", "HOME=" + base, "/usr/bin/patroni", cfg],
                            user="postgres", cwd=base)
            self.patroni[h.name] = self.lab.add(svc.start())

    def patroni_state(self, h):
        """Patroni's GET /patroni on h, or None."""
        p = h.run([L.PYTHON, "-c", "import urllib.request,sys;print(urllib.request.urlopen("
                   "'http://%s:8008/patroni',timeout=2).read().decode())" % h.ip4],
                  check=False, timeout=10)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def leader(self):
        for h in self.dbs:
            st = self.patroni_state(h)
            if st and st.get("role") in ("master", "primary") and st.get("state") == "running":
                return h
        return None

    def healthy(self):
        """One running primary, every other node a streaming replica; the
        leader's name."""
        roles = {}
        for h in self.dbs:
            st = self.patroni_state(h)
            if not st:
                return None
            roles[h.name] = st
        leaders = [n for n, s in roles.items() if s.get("role") in ("master", "primary")
                   and s.get("state") == "running"]
        if len(leaders) != 1:
            return None
        lst = roles[leaders[0]]
        repl = lst.get("replication") or []
        streaming = [r for r in repl if r.get("state") == "streaming"]
        if len(streaming) != len(self.dbs) - 1:
            return None
        return leaders[0]

    def wait_healthy(self, timeout=180):
        got = []
        L.wait_until(lambda: got.append(self.healthy()) or got[-1], timeout, interval=1,
                     what="Patroni: a leader and streaming replicas")
        return got[-1]

    def switchover(self, candidate=None):
        leader = self.leader()
        cand = candidate or next(h.name for h in self.dbs if h is not leader)
        h = self.dbs[0]
        cmd = ["/usr/bin/patronictl", "-c", self.patroni_cfg_path(h), "switchover",
               "--leader", leader.name, "--candidate", cand, "--force"]
        h.run(L.ns_exec(h.ns, cmd, "postgres")[4:], timeout=90)
        return cand

    def reinit_replicas(self):
        """patronictl reinit every member that is not the leader (a fresh
        pg_basebackup from it)."""
        leader = self.leader()
        h = leader
        for d in self.dbs:
            if d is leader:
                continue
            cmd = ["/usr/bin/patronictl", "-c", self.patroni_cfg_path(h), "reinit", self.SCOPE,
                   d.name, "--force"]
            h.run(L.ns_exec(h.ns, cmd, "postgres")[4:], timeout=120, check=False)

    # ------------------------------------------------------------ HAProxy
    def haproxy_cfg(self, h):
        d = self.lab.hostdir(h)
        text = read_example(self.HAPROXY_EXAMPLE).replace(
            "/run/haproxy/admin.sock", os.path.join(d, "haproxy.sock"))
        return text

    def start_haproxy(self, h):
        d = self.lab.hostdir(h)
        cfg = os.path.join(d, "haproxy.cfg")
        L.write_file(cfg, self.haproxy_cfg(h))
        svc = L.Service(h, "haproxy", [L.HAPROXY, "-db", "-f", cfg])
        svc.start()
        self.lab.add(svc)
        L.write_file(os.path.join(d, "haproxy.pid"), "%d\n" % svc.pid)
        self.haproxy[h.name] = svc
        L.wait_until(lambda: svc.alive() and self._haproxy_answers(h), 10,
                     what="haproxy on %s" % h.name)
        return svc

    def _haproxy_answers(self, h):
        sock = os.path.join(self.lab.hostdir(h), "haproxy.sock")
        p = h.run([L.PYTHON, "-c", "import socket,sys;s=socket.socket(socket.AF_UNIX);"
                   "s.settimeout(1);s.connect(sys.argv[1]);s.sendall(b'show info\\n');"
                   "print(s.recv(100))", sock], check=False, timeout=5)
        return p.returncode == 0

    def haproxy_up(self, h, proxy=None):
        """Names of the servers HAProxy on h has UP in `proxy` (stats socket)."""
        proxy = proxy or self.RW_PROXY
        sock = os.path.join(self.lab.hostdir(h), "haproxy.sock")
        p = h.run([L.PYTHON, "-c", "import socket,sys;s=socket.socket(socket.AF_UNIX);"
                   "s.settimeout(2);s.connect(sys.argv[1]);s.sendall(b'show stat\\n');"
                   "print(b''.join(iter(lambda:s.recv(65536),b'')).decode())", sock],
                  check=False, timeout=5)
        up = set()
        for line in p.stdout.splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == proxy and f[1] not in ("FRONTEND", "BACKEND") \
                    and f[17].startswith("UP"):
                up.add(f[1])
        return up

    def haproxy_server(self, db):
        """The name HAProxy's file gives db's server ("db-1")."""
        return host_tag(db.name)

    def routes_to_primary(self, h):
        """HAProxy on h has exactly the Patroni leader UP behind RW_PORT (at
        start HAProxy counts every server UP until its checks say otherwise)
        and a write through it reaches a primary."""
        leader = self.leader()
        if leader is None or self.haproxy_up(h) != {self.haproxy_server(leader)}:
            return False
        return self.sql_via(h.ip4, "SELECT NOT pg_is_in_recovery()") == "True"

    def sql_via(self, addr, query, port=None):
        p = self.client.run([L.PYTHON, "-c", "import psycopg2,sys;c=psycopg2.connect(host="
                             "sys.argv[1],port=int(sys.argv[2]),user='postgres',password="
                             "sys.argv[3],dbname='postgres',connect_timeout=3);"
                             "c.autocommit=True;k=c.cursor();k.execute(sys.argv[4]);"
                             "r=k.fetchone() if k.description else None;"
                             "print(r[0] if r else '')",
                             addr, str(port or self.RW_PORT), SUPERPASS, query], check=False,
                            timeout=15)
        return p.stdout.strip() if p.returncode == 0 else None

    # ------------------------------------------------------------ VIP daemons
    def vipd_conf(self, h, variant):
        text = for_host(read_example(self.VIPD_EXAMPLE), ";", host_tag(h.name))
        text = ini_override(text, self.VARIANTS[variant])
        # lab.py's start_vipd() sets log_level (with pidfile and socket)
        text = re.sub(r"(?m)^log_level\s*=.*\n", "", text)
        d = self.lab.hostdir(h)
        return (text.replace("/run/haproxy/admin.sock", os.path.join(d, "haproxy.sock"))
                .replace("/run/haproxy.pid", os.path.join(d, "haproxy.pid")))

    def keepalived_conf(self, h):
        text = for_host(read_example(self.KEEPALIVED_EXAMPLE), "#", host_tag(h.name))
        script = L.make_script(self.lab, h, "chk_haproxy.sh", 'kill -0 "$(cat %s)"\n' % (
            os.path.join(self.lab.hostdir(h), "haproxy.pid")))
        return text.replace(self.KA_SCRIPT, script)

    def start_lb(self, h, daemon):
        if daemon == "keepalived":
            h.start_keepalived(self.keepalived_conf(h))
        else:
            h.start_vipd(self.vipd_conf(h, daemon))

    def stop_lb(self, h, sig=signal.SIGTERM):
        if h.keepalived is not None and h.keepalived.poll() is None:
            h.keepalived.send_signal(sig)
            h.stop_keepalived()
        if h.vipd_running():
            h.stop_vipd(sig)

    def lb_running(self, h):
        if self.lb_daemon == "keepalived":
            return h.keepalived is not None and h.keepalived.poll() is None
        return h.vipd_running()

    def use_lb_daemon(self, daemon):
        """Run `daemon` on every VIP host (stopping what ran before); wait
        until the VIP is where it belongs (vip_home())."""
        for h in self.vip_hosts:
            self.stop_lb(h)
        self.lb_daemon = daemon
        for h in self.vip_hosts:
            self.start_lb(h, daemon)
        self.wait_vip_on(self.vip_home(), 30)

    def vip_holders(self):
        return [h.name for h in self.vip_hosts if h.has_addr(VIP)]

    def wait_vip_on(self, h, timeout):
        L.wait_until(lambda: self.vip_holders() == [h.name], timeout, interval=0.1,
                     what="VIP on %s only" % h.name)

    # ------------------------------------------------------------ all of it
    def start(self):
        t0 = time.monotonic()
        what = self.start_dcs()
        self.log("  %s (%.1f s)" % (what, time.monotonic() - t0))
        self.start_patroni()
        leader = self.wait_healthy()
        self.log("  Patroni: leader %s, %d replica(s) streaming (%.1f s)" % (
            leader, len(self.dbs) - 1, time.monotonic() - t0))
        for h in self.haproxy_hosts:
            self.start_haproxy(h)
        for h in self.haproxy_hosts:
            L.wait_until(lambda h=h: self.routes_to_primary(h), 30, interval=0.5,
                         what="HAProxy on %s routing to the primary" % h.name)
        self.log("  HAProxy on %s routes :%d to the primary (%.1f s)" % (
            ", ".join(h.name for h in self.haproxy_hosts), self.RW_PORT,
            time.monotonic() - t0))
        created = self.sql_via(self.haproxy_hosts[0].ip4, "CREATE TABLE IF NOT EXISTS e2e ("
                               "run text, seq int, server inet, rec bool, t timestamptz "
                               "DEFAULT clock_timestamp(), PRIMARY KEY (run, seq))")
        assert created is not None, "CREATE TABLE e2e through %s failed" % (
            self.haproxy_hosts[0].name)

    def baseline(self, timeout=240):
        """Patroni healthy, the VIP where it belongs (vip_home()), every
        HAProxy routes to the primary."""
        self.wait_healthy(timeout)
        self.wait_vip_on(self.vip_home(), 60)
        for h in self.haproxy_hosts:
            L.wait_until(lambda h=h: self.routes_to_primary(h), timeout, interval=0.5,
                         what="HAProxy on %s routing to the primary" % h.name)

    def settle(self, timeout=120):
        """After a scenario: back to the baseline."""
        self.baseline(timeout)

    def after_rows(self):
        """After a scenario's rows are counted (nothing with Patroni)."""

    def healthy_everything(self):
        """Patroni healthy, every HAProxy routing to the primary."""
        return self.healthy() and all(self.routes_to_primary(h) for h in self.haproxy_hosts)


class Seed001(PatroniCluster):
    """Seed 001: three database nodes behind two load balancers (HAProxy +
    vipd or keepalived, unicast); the VIP belongs on lb1."""
    SEED = "seed001"
    TITLE = ("seed 001 (3 db nodes: etcd + Patroni + PostgreSQL 15; 2 LBs: HAProxy + "
             "vipd / keepalived; a client)")
    HAPROXY_EXAMPLE = "seed001-haproxy.cfg"
    VIPD_EXAMPLE = "seed001-lb.conf"
    KEEPALIVED_EXAMPLE = "seed001-keepalived.conf"
    KA_SCRIPT = "/usr/bin/killall -0 haproxy"

    def __init__(self, name="e2e-seed001", log=print):
        super().__init__(name, log)

    def add_hosts(self):
        for n, ip in LBS:
            self.lbs.append(self.lab.add_host(n, ip))
        super().add_hosts()

    @property
    def haproxy_hosts(self):
        return self.lbs

    @property
    def vip_hosts(self):
        return self.lbs

    def vip_home(self):
        return self.lbs[0]


class Seed000(PatroniCluster):
    """Seeds 000 and 003: every database node runs etcd, Patroni with
    PostgreSQL on :5433, HAProxy on :5432 (to the primary, asked through
    Patroni's /primary) and vipd or keepalived (multicast). vipd keeps the
    VIP on the primary (a check of Patroni's /primary, weight 50);
    keepalived, as the seed has it, on the node of highest priority whose
    HAProxy runs (db2: 101)."""
    SEED = "seed000"
    TITLE = ("seed 000 (3 all-in-one db nodes: etcd + Patroni + PostgreSQL 15 on :5433 + "
             "HAProxy on :5432 + vipd / keepalived, multicast; a client)")
    PG_PORT = 5433
    RW_PORT = 5432
    RW_PROXY = "postgres_backend"
    RESTAPI_ANY = True
    HAPROXY_EXAMPLE = "seed000-haproxy.cfg"
    VIPD_EXAMPLE = "seed000-db.conf"
    KEEPALIVED_EXAMPLE = "seed000-keepalived.conf"
    KA_SCRIPT = "/etc/keepalived/check_haproxy.sh"
    # the seed's timing: keepalived's advert_int 1, check_haproxy interval
    # 2 fall 3 rise 2
    VARIANTS = {
        "vipd": {},
        "vipd-1s": {r"instance .*": {"advert_interval": "1s"},
                    r"check .*": {"interval": "2s", "timeout": "1s", "fall": "3",
                                  "rise": "2"}},
    }

    def __init__(self, name="e2e-seed000", log=print):
        super().__init__(name, log)

    @property
    def haproxy_hosts(self):
        return self.dbs

    @property
    def vip_hosts(self):
        return self.dbs

    def vip_home(self):
        if self.lb_daemon == "keepalived":
            return self.host("db2")
        got = []
        L.wait_until(lambda: got.append(self.leader()) or got[-1], 60, interval=0.5,
                     what="a Patroni leader")
        return got[-1]


class Seed003(Seed000):
    """Seed 003: seed 000's shape on two Patroni nodes (db1, db2: etcd,
    Patroni, PostgreSQL on :5432, HAProxy on :5000, vipd or keepalived) and
    a third node for etcd only (db3). Each Patroni talks to its own node's
    etcd, as in the seed. vipd runs seed000-db.conf (the lines for db-2);
    keepalived, as seed 003 has it, keeps the VIP on db1 (100 against 50)
    while its HAProxy runs."""
    SEED = "seed003"
    TITLE = ("seed 003 (2 db nodes: etcd + Patroni + PostgreSQL 15 + HAProxy on :5000 + "
             "vipd / keepalived, multicast; 1 etcd-only node; a client)")
    PG_PORT = 5432
    RW_PORT = 5000
    RW_PROXY = "pgsql"
    HAPROXY_EXAMPLE = "seed003-haproxy.cfg"
    KEEPALIVED_EXAMPLE = "seed003-keepalived.conf"
    KA_SCRIPT = "/etc/keepalived/haproxy_chk.sh"
    # the seed's timing: keepalived's advert_int 1, check_haproxy interval
    # 5 (fall 1, rise 1: keepalived's defaults)
    VARIANTS = {
        "vipd": {},
        "vipd-1s": {r"instance .*": {"advert_interval": "1s"},
                    r"check .*": {"interval": "5s", "timeout": "1s", "fall": "1",
                                  "rise": "1"}},
    }

    def __init__(self, name="e2e-seed003", log=print):
        super().__init__(name, log)

    def add_hosts(self):
        for n, ip in DBS[:2]:
            self.dbs.append(self.lab.add_host(n, ip))
        self.etcd_only.append(self.lab.add_host(*DBS[2]))

    def dcs_conf(self, h):
        # the seed's "etcd: host: <this node>:2379"
        return {os.environ.get("E2E_ETCD", "etcd"): {"host": "%s:2379" % h.ip4}}

    def vip_home(self):
        if self.lb_daemon == "keepalived":
            return self.host("db1")
        return super().vip_home()


class Seed004(PatroniCluster):
    """Seed 004: two database nodes (Patroni + PostgreSQL 15, synchronous
    mode) whose DCS is one ZooKeeper on a node of its own (the seed's "zoo"
    container), behind HAProxy (the seed's one, on :5432); vipd adds the
    VIP in front of it, on two load balancers, which the seed does not have
    (it runs one HAProxy, which is then the cluster's single point of
    failure). The VIP belongs on lb1."""
    SEED = "seed004"
    TITLE = ("seed 004 (2 db nodes: Patroni + PostgreSQL 15; 1 ZooKeeper node; 2 LBs: "
             "HAProxy + vipd; a client)")
    RW_PORT = 5432
    RW_PROXY = "postgres"
    HAPROXY_EXAMPLE = "seed004-haproxy.cfg"
    VIPD_EXAMPLE = "seed004-lb.conf"
    KEEPALIVED_EXAMPLE = ""   # the seed has no VIP daemon, so no keepalived file to copy
    DCS = "zookeeper"
    SCOPE = "my_cluster"      # the seed's; its namespace is Patroni's default
    NAMESPACE = "/service/"
    # the seed's bootstrap.dcs beyond what seed 001 has (ttl 30, loop_wait
    # 10, retry_timeout 10 are the same)
    DCS_SETTINGS = {"maximum_lag_on_failover": 10485760, "synchronous_mode": True}
    ZK = ("zoo", "192.0.2.31")
    # the seed's server names in haproxy.cfg (pg-master, pg-slave)
    SERVERS = {"db1": "postgresql_pg_master_5432", "db2": "postgresql_pg_slave_5432"}

    def __init__(self, name="e2e-seed004", log=print):
        super().__init__(name, log)

    def add_hosts(self):
        for n, ip in LBS:
            self.lbs.append(self.lab.add_host(n, ip))
        for n, ip in DBS[:2]:
            self.dbs.append(self.lab.add_host(n, ip))
        self.zk_hosts.append(self.lab.add_host(*self.ZK))

    def patroni_adapt(self, h, base, conf):
        # The seed's WAL archive is one volume that both containers mount:
        # here one directory both nodes' PostgreSQL write to and restore
        # from (seed 001's archive is per node). archive_timeout 60 as in
        # the seed.
        arch = os.path.join(self.lab.vardir, "wal_archive")
        if not os.path.isdir(arch):
            pw = L._pw("postgres")
            os.makedirs(arch, exist_ok=True)
            os.chown(arch, pw.pw_uid, pw.pw_gid)
            os.chmod(arch, 0o700)
        pg = conf["bootstrap"]["dcs"]["postgresql"]
        pg["parameters"].update({
            "archive_timeout": 60,
            "archive_command": "test ! -f %s/%%f && cp %%p %s/%%f" % (arch, arch)})
        pg["recovery_conf"] = {"restore_command": "cp %s/%%f %%p" % arch}

    def haproxy_server(self, db):
        return self.SERVERS[db.name]

    @property
    def haproxy_hosts(self):
        return self.lbs

    @property
    def vip_hosts(self):
        return self.lbs

    def vip_home(self):
        return self.lbs[0]


class Seed002(PatroniCluster):
    """Seed 002: two PostgreSQL 15 nodes without Patroni, db1 the primary,
    db2 a streaming standby cloned with pg_basebackup; vipd on both keeps
    the VIP on db1 and, on taking it over, promotes db2 (promote_pgsql).
    The client writes to PostgreSQL through the VIP directly. Rebuilt from
    scratch after every scenario (a promotion cannot be undone)."""
    SEED = "seed002"
    # examples/seed002-db.conf advertises every second already: a column
    # at the seed's own 1 s interval would repeat the recommended one.
    RECOMMENDED_IS_SEED_INTERVAL = True
    TITLE = ("seed 002 (2 db nodes: PostgreSQL 15 primary + pg_basebackup standby, no "
             "Patroni; vipd promotes; a client)")
    PG_PORT = 5432
    RW_PORT = 5432
    VIPD_EXAMPLE = "seed002-db.conf"
    KEEPALIVED_EXAMPLE = ""   # the issue asks for no keepalived column here
    # the seed's check timing: "nc -zv localhost 5432", interval 2 (fall 1)
    VARIANTS = {
        "vipd": {},
        "vipd-1s": {r"instance .*": {"advert_interval": "1s"},
                    r"check .*": {"interval": "2s", "timeout": "1s", "fall": "1"}},
    }
    DBS2 = DBS[:2]

    def __init__(self, name="e2e-seed002", log=print):
        self.pg = {}
        super().__init__(name, log)

    def add_hosts(self):
        for n, ip in self.DBS2:
            self.dbs.append(self.lab.add_host(n, ip))

    @property
    def haproxy_hosts(self):
        return []

    @property
    def vip_hosts(self):
        return self.dbs

    def vip_home(self):
        return self.dbs[0]

    # ------------------------------------------------------------ PostgreSQL
    def build_pair(self):
        """A fresh primary on db1 and a standby of it on db2."""
        for pg in self.pg.values():
            pg.stop("immediate")
            shutil.rmtree(pg.data, ignore_errors=True)
        db1, db2 = self.dbs
        p1 = self.pg[db1.name] = self.pg.get(db1.name) or self.lab.postgres(db1)
        p2 = self.pg[db2.name] = self.pg.get(db2.name) or self.lab.postgres(db2)
        p1.initdb()
        # lab.py's server is built for speed (synchronous_commit off); the
        # seed's has PostgreSQL's default: a commit is acknowledged once it
        # is on the primary's disk.
        with open(os.path.join(p1.data, "postgresql.conf"), "a") as f:
            f.write("synchronous_commit = on\n")
        p1.start(listen="*")
        p1.sql("CREATE TABLE e2e (run text, seq int, server inet, rec bool, t timestamptz "
               "DEFAULT clock_timestamp(), PRIMARY KEY (run, seq))")
        p2.basebackup(p1).start(listen="*")
        L.wait_until(self.healthy, 30, interval=0.3, what="db2 streaming from db1")

    def healthy(self):
        p1, p2 = (self.pg[h.name] for h in self.dbs)
        return (not p1.in_recovery() and p2.in_recovery() and
                p1.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
                == "1") and self.dbs[0].name

    def wait_healthy(self, timeout=60):
        L.wait_until(self.healthy, timeout, interval=0.3, what="db1 primary, db2 streaming")
        return self.dbs[0].name

    def is_primary(self, h):
        try:
            return not self.pg[h.name].in_recovery()
        except RuntimeError:
            return False

    def leader(self):
        """The primary the VIP is on (else any primary)."""
        holders = [self.host(n) for n in self.vip_holders()]
        for h in holders + self.dbs:
            if self.is_primary(h):
                return h
        return None

    def vipd_conf(self, h, variant):
        return super().vipd_conf(h, variant).replace(
            "host=/var/run/postgresql", "host=%s" % self.pg[h.name].sockdir)

    def use_lb_daemon(self, daemon):
        """vipd on db1 first, then on db2 once db1 holds the VIP: with
        preempt = no, a db2 that became Master first would keep the VIP and
        promote its standby."""
        for h in self.vip_hosts:
            self.stop_lb(h)
        self.lb_daemon = daemon
        self.start_lb(self.dbs[0], daemon)
        self.wait_vip_on(self.dbs[0], 30)
        self.start_lb(self.dbs[1], daemon)
        self.wait_vip_on(self.dbs[0], 30)

    def start(self):
        t0 = time.monotonic()
        self.build_pair()
        self.log("  PostgreSQL: db1 primary, db2 streaming (%.1f s)" % (time.monotonic() - t0))

    def baseline(self, timeout=60):
        """db1 primary with the VIP, db2 streaming."""
        self.wait_healthy(timeout)
        self.wait_vip_on(self.dbs[0], 60)

    def settle(self, timeout=60):
        """After a scenario: the VIP on one node, a primary."""
        L.wait_until(lambda: len(self.vip_holders()) == 1 and self.leader() is not None,
                     timeout, interval=0.3, what="the VIP on one node, a primary")

    def after_rows(self):
        """Back to the start for the next scenario: a fresh pair, vipd
        restarted so that the VIP is on db1."""
        daemon = self.lb_daemon
        for h in self.vip_hosts:
            self.stop_lb(h)
        self.build_pair()
        self.use_lb_daemon(daemon)
