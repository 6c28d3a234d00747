"""Edge cases: flapping links, lost addresses, many VIPs, fast timers, control junk."""
import os
import socket
import statistics
import time

import pytest

from lab import first, mdi_s, skew_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def pair(lab, **kw):
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, **kw))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, **kw))
    wait_converged(h1, [h2], VIP)
    return h1, h2


def test_link_flapping_settles(lab):
    h1, h2 = pair(lab)
    for i in range(12):
        lab.cut_link(h1)
        time.sleep(0.02 + 0.03 * (i % 4))
        lab.restore_link(h1)
        time.sleep(0.03 * (i % 3))
    wait_converged(h1, [h2], VIP, timeout=4, hold=0.6)
    for h in (h1, h2):
        assert h.vipd_running()
        assert not any(h.inst()["dropped"].values()), h.inst()


def test_master_receiving_priority_zero_answers_at_once(lab):
    """RFC 5798 §6.4.3: a Master that gets a priority-0 advert sends one at once."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, interval="1s"))
    wait_until(lambda: h1.state() == "MASTER", mdi_s(150, 1000) + 2)
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.3)
        x.craft(src=x.ip4, prio=0, interval_cs=100)
        time.sleep(0.4)
    adv = cap.vrrp()
    zero = first(adv, lambda a: a["src"] == x.ip4 and a["prio"] == 0)
    assert zero is not None, adv
    reply = first(adv, lambda a: a["src"] == h1.ip4 and a["t"] > zero["t"])
    assert reply is not None and reply["t"] - zero["t"] < 0.1, (
        "no immediate advert after a priority-0 advert: %s" % adv)
    assert h1.state() == "MASTER"


def test_primary_address_removed_is_fault(lab):
    """The instance's primary IPv4 address disappears: FAULT, VIP dropped, then back."""
    h1, h2 = pair(lab)
    # deleting the primary /24 also deletes its secondaries, the VIP among them
    h1.ip("addr", "del", h1.ip4 + "/24", "dev", "eth0")
    wait_until(lambda: h1.state() == "FAULT", 2, what="h1 FAULT without an IPv4 address")
    wait_converged(h2, [], VIP, timeout=mdi_s(100, 100) + 1)
    stays(lambda: h1.state() == "FAULT" and not h1.has_addr(VIP), 0.5,
          what="h1 staying FAULT, without the VIP")
    h1.ip("addr", "add", h1.ip4 + "/24", "dev", "eth0")
    wait_converged(h1, [h2], VIP, timeout=3, hold=0.5)
    assert h2.inst()["master_ip"] == h1.ip4


@pytest.mark.parametrize("n", [20, 255])
def test_many_vips(lab, n):
    """Up to the protocol's 255 addresses in one advert, all added and moved."""
    vips = ["192.0.2.%d/24" % (100 + i) for i in range(min(n, 155))]
    vips += ["198.51.100.%d/24" % (1 + i) for i in range(n - len(vips))]
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150, vips=vips))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, vips=vips))
    wait_converged(h1, [h2], VIP)
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.3)
    assert set(vips) <= set(h1.addrs())
    a = cap.vrrp()[0]
    assert a["count"] == n and sorted(a["addrs"]) == sorted(v.split("/")[0] for v in vips), a
    assert h2.inst()["adverts_received"] > 0 and not any(h2.inst()["dropped"].values())
    assert h1.stop_vipd() == 0
    wait_until(lambda: set(vips) <= set(h2.addrs()), 2)
    assert not set(vips) & set(h1.addrs())


def test_ten_millisecond_interval(lab):
    """The smallest interval: adverts every 10 ms, takeover within tens of ms."""
    h1, h2 = pair(lab, interval="10ms")
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(0.5)
        assert h1.stop_vipd() == 0
        wait_until(lambda: h2.has_addr(VIP), 1)
        time.sleep(0.1)
    adv = cap.vrrp()
    a1 = [a for a in adv if a["src"] == h1.ip4 and a["prio"] > 0]
    assert all(a["interval_cs"] == 1 for a in adv), adv[:3]
    gaps = [b["t"] - a["t"] for a, b in zip(a1, a1[1:])]
    assert 0.008 <= statistics.median(gaps) <= 0.013, statistics.median(gaps)
    zero = first(adv, lambda a: a["src"] == h1.ip4 and a["prio"] == 0)
    took = first(adv, lambda a: a["src"] == h2.ip4)["t"] - zero["t"]
    assert took <= skew_s(100, 10) + 0.05, "takeover %.1f ms after priority 0" % (took * 1000)
    # and no split brain while both ran: only h1 advertised before the stop
    assert not [a for a in adv if a["src"] == h2.ip4 and a["t"] < zero["t"]]


def test_control_socket_junk(lab):
    """Bad requests on the control socket get an error, never a crash or a hang."""
    h1, = lab.add_hosts(1)
    h1.start_vipd(vipd_instance(priority=100))
    wait_until(lambda: h1.state() == "MASTER", 2)
    for req in (b"bogus\n", b"status --nonsense\n", b"\n", b"x" * 5000 + b"\n",
                b"status" + b" a" * 100 + b"\n", b"\x00\xff\xfe\n", b"stat"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(h1.sock)
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
    # idle clients must not block the daemon either
    idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(20)]
    for s in idle:
        s.connect(h1.sock)
    t0 = time.monotonic()
    assert h1.state() == "MASTER"
    assert time.monotonic() - t0 < 1
    for s in idle:
        s.close()
    p = h1.vipctl("bogus", check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert h1.vipd_running() and h1.state() == "MASTER"
    assert oct(os.stat(h1.sock).st_mode & 0o777) == oct(0o600)
