"""What vipd puts on the wire, and what it refuses to take from it."""
import statistics
import time

import pytest

from lab import mdi_s, stays, vipd_instance, wait_converged, wait_until

VIP = "192.0.2.100"
pytestmark = pytest.mark.root


def test_advert_format_and_interval(lab):
    h1, h2 = lab.add_hosts(2)
    vips = ["192.0.2.100/24", "192.0.2.101/24"]
    h1.start_vipd(vipd_instance(priority=150, vips=vips))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100, vips=vips))
    wait_converged(h1, [h2], VIP)
    with lab.switch.capture("ip proto 112") as cap:
        time.sleep(2.0)
    adv = cap.vrrp()
    assert not [a for a in adv if a["src"] != h1.ip4], "only the Master advertises"
    assert 17 <= len(adv) <= 23, "%d adverts in 2 s at 100 ms" % len(adv)
    for a in adv:
        assert a["version"] == 3 and a["type"] == 1, a
        assert a["ttl"] == 255, a
        assert a["dst"] == "224.0.0.18" and a["eth_dst"] == "01:00:5e:00:00:12", a
        assert a["src"] == h1.ip4, a
        assert a["vrid"] == 51 and a["prio"] == 150, a
        assert a["count"] == 2 and sorted(a["addrs"]) == ["192.0.2.100", "192.0.2.101"], a
        assert a["interval_cs"] == 10, a
        assert a["cksum"] == "good", a
    gaps = [b["t"] - a["t"] for a, b in zip(adv, adv[1:])]
    med = statistics.median(gaps)
    assert 0.090 <= med <= 0.110, "median advert spacing %.1f ms" % (med * 1000)
    assert max(gaps) < 0.25, "an advert came %.0f ms late" % (max(gaps) * 1000)
    assert min(gaps) > 0.05, "adverts %.0f ms apart" % (min(gaps) * 1000)


def test_advert_interval_one_second_field(lab):
    """advert_interval = 1s is 100 centiseconds on the wire (the BRIEF's example)."""
    h1, = lab.add_hosts(1)
    with lab.switch.capture("ip proto 112") as cap:
        h1.start_vipd(vipd_instance(priority=150, interval="1s"))
        wait_until(lambda: h1.state() == "MASTER", mdi_s(150, 1000) + 2)
        time.sleep(1.2)
    adv = cap.vrrp()
    assert len(adv) >= 2, adv
    assert all(a["interval_cs"] == 100 for a in adv), adv
    gaps = [b["t"] - a["t"] for a, b in zip(adv, adv[1:])]
    assert all(0.95 <= g <= 1.1 for g in gaps), gaps


def announcements(cap, vip):
    rows = cap.records(["frame.time_epoch", "eth.src", "eth.dst", "arp.opcode",
                        "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.proto_ipv4"],
                       "arp && arp.src.proto_ipv4 == %s" % vip)
    return [dict(r, t=float(r["frame.time_epoch"])) for r in rows]


def bursts(times, gap=0.1):
    out = []
    for t in sorted(times):
        if out and t - out[-1][-1] <= gap:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def test_gratuitous_arp_bursts(lab):
    h1, = lab.add_hosts(1)
    vips = ["192.0.2.100/24", "192.0.2.101/24"]
    with lab.switch.capture("arp") as cap:
        h1.start_vipd(vipd_instance(priority=150, vips=vips, garp_repeat=3, garp_delay="1s"))
        wait_until(lambda: h1.state() == "MASTER", 2)
        time.sleep(1.5)
    for vip in ("192.0.2.100", "192.0.2.101"):
        garps = announcements(cap, vip)
        for g in garps:
            assert g["arp.dst.proto_ipv4"] == vip, "not gratuitous: %s" % g
            assert g["arp.src.hw_mac"] in (h1.mac, "00:00:5e:00:01:33"), g
            assert g["eth.dst"] == "ff:ff:ff:ff:ff:ff", g
        b = bursts([g["t"] for g in garps])
        assert [len(x) for x in b] == [3, 3], "GARP bursts for %s: %s" % (vip, b)
        assert 0.9 <= b[1][0] - b[0][0] <= 1.2, "second burst %.2f s after the first" % (
            b[1][0] - b[0][0])


def test_gratuitous_arp_refresh(lab):
    h1, = lab.add_hosts(1)
    with lab.switch.capture("arp") as cap:
        h1.start_vipd(vipd_instance(priority=150, garp_repeat=1, garp_delay="0s",
                                    garp_refresh="400ms"))
        wait_until(lambda: h1.state() == "MASTER", 2)
        time.sleep(1.5)
    b = bursts([g["t"] for g in announcements(cap, VIP)])
    assert 4 <= len(b) <= 5, "expected the takeover GARP plus ~3 refreshes: %s" % b
    gaps = [y[0] - x[0] for x, y in zip(b, b[1:])]
    assert all(0.35 <= g <= 0.5 for g in gaps), gaps


@pytest.mark.parametrize("rfc9568_on", ["master", "backup"])
def test_checksum_rfc9568_interop(lab, rfc9568_on):
    """One side sends the RFC 9568 checksum (no pseudo-header); both still elect."""
    h1, h2 = lab.add_hosts(2)
    ck1 = "rfc9568" if rfc9568_on == "master" else "rfc5798"
    ck2 = "rfc5798" if rfc9568_on == "master" else "rfc9568"
    with lab.switch.capture("ip proto 112") as cap:
        h1.start_vipd(vipd_instance(priority=150, checksum=ck1))
        wait_converged(h1, [], VIP)
        h2.start_vipd(vipd_instance(priority=100, checksum=ck2))
        wait_converged(h1, [h2], VIP, hold=0.5)
        # graceful stop: h2 becomes Master, then h1 returns and receives h2's form
        assert h1.stop_vipd() == 0
        wait_converged(h2, [], VIP, timeout=1)
        h1.start_vipd(vipd_instance(priority=150, checksum=ck1))
        wait_converged(h1, [h2], VIP, timeout=3, hold=0.3)
    for h in (h1, h2):
        s = h.inst()
        assert s["dropped"]["checksum"] == 0, s
        assert s["adverts_received"] > 0, s
    # Wireshark's default is the pseudo-header form; its preference
    # vrrp.v3_checksum_as_in_v2 switches to the message-only form.
    for host, ck in ((h1, ck1), (h2, ck2)):
        plain = {a["cksum"] for a in cap.vrrp() if a["src"] == host.ip4}
        v2 = {a["cksum"] for a in cap.vrrp(prefs=["vrrp.v3_checksum_as_in_v2:TRUE"])
              if a["src"] == host.ip4}
        if ck == "rfc5798":
            assert plain == {"good"} and v2 == {"bad"}, (host.name, plain, v2)
        else:
            assert plain == {"bad"} and v2 == {"good"}, (host.name, plain, v2)


# Each case: (description, craft() arguments, the dropped counter expected)
DROP_CASES = [
    ("TTL 254", dict(ttl=254), "ttl"),
    ("VRRPv2 (CARP-like)", dict(version=2), "version"),
    ("type 2", dict(type=2), "type"),
    ("no addresses", dict(count=0, addrs=[]), "addr_count"),
    ("Max Adver Int 0", dict(interval_cs=0), "interval"),
    ("bad checksum", dict(chksum="bad"), "checksum"),
    ("2-byte message", dict(raw_hex="3133"), "short"),
    ("count 3, one address", dict(count=3), "short"),
]


def test_invalid_adverts_dropped(lab):
    """Every malformed advert (priority 254, so taking it would be visible) is dropped."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP)

    def snap():
        s = h1.inst()
        return s["adverts_received"], dict(s["dropped"]), s["transitions"]

    # control: a valid lower-priority advert is accepted and counted
    rx0, drop0, tr0 = snap()
    x.craft(src=x.ip4, prio=50, repeat=2)
    wait_until(lambda: snap()[0] == rx0 + 2, 2, what="the control adverts to be counted")
    assert snap()[1] == drop0

    failures = []
    for desc, spec, counter in DROP_CASES:
        rx0, drop0, tr0 = snap()
        x.craft(src=x.ip4, prio=254, repeat=3, **spec)
        try:
            wait_until(lambda: snap()[1][counter] >= drop0[counter] + 3, 1.5)
        except AssertionError:
            pass
        time.sleep(0.05)
        rx1, drop1, tr1 = snap()
        diff = {k: drop1[k] - drop0[k] for k in drop1 if drop1[k] != drop0[k]}
        if diff != {counter: 3} or rx1 != rx0 or tr1 != tr0:
            failures.append("%s: expected dropped.%s +3, got %s, adverts_received +%d, "
                            "transitions +%d" % (desc, counter, diff, rx1 - rx0, tr1 - tr0))
    assert h1.state() == "MASTER" and h1.has_addr(VIP)
    assert not failures, "\n".join(failures)


def test_unknown_vrid_dropped(lab):
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP)
    x.craft(src=x.ip4, vrid=77, prio=254, repeat=3)
    # Counted once, on the interface's shared socket: no instance has VRID 77.
    wait_until(lambda: sum(p["dropped"]["vrid"] for p in h1.status()["interfaces"]) >= 3, 2,
               what="the interface's dropped.vrid to count the VRID 77 adverts")
    s = h1.inst()
    assert s["adverts_received"] == 0 and s["state"] == "MASTER", s
    assert not any(s["dropped"].values()), s


def test_vip_list_mismatch_is_accepted(lab):
    """RFC 5798 §6.4.3: a differing address list is logged, not a reason to drop."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP)
    x.craft(src=x.ip4, prio=254, addrs=["192.0.2.222"], repeat=3)
    wait_until(lambda: h1.state() == "BACKUP", 1,
               what="h1 to yield to a higher-priority advert with another VIP list")
    s = h1.inst()
    assert s["master_ip"] == x.ip4 and not any(s["dropped"].values()), s
    # and it takes over again once those adverts stop
    wait_until(lambda: h1.state() == "MASTER", mdi_s(100, 100) + 1)


def test_owner_ignores_adverts_and_starts_master(lab):
    """Priority 255 (address owner): Master at once, keeps Master whatever it
    hears, and answers a leaving Master's priority-0 advert at once."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=255, interval="1s"))
    wait_until(lambda: h1.state() == "MASTER" and h1.has_addr(VIP), 2)
    took = h1.log_time("INIT -> MASTER (owner)") - h1.log_time("starting with")
    assert took < mdi_s(255, 100), "the owner waited Master_Down_Interval (%.3f s)" % took
    assert h1.inst()["last_reason"] == "owner"
    x.craft(src=x.ip4, prio=254, repeat=3)
    wait_until(lambda: h1.inst()["adverts_received"] >= 3, 2, what="adverts_received +3")
    stays(lambda: h1.state() == "MASTER", 0.3)
    # right after one of its 1 s adverts, so another within 0.3 s is the answer
    sent = h1.inst()["adverts_sent"]
    wait_until(lambda: h1.inst()["adverts_sent"] > sent, 1.5, interval=0.005)
    sent = h1.inst()["adverts_sent"]
    x.craft(src=x.ip4, prio=0)
    wait_until(lambda: h1.inst()["adverts_sent"] > sent, 0.3, what="an advert answering priority 0")
    assert h1.state() == "MASTER"


def test_remote_junk_does_not_flood_the_log(lab):
    """What a remote host can trigger is counted, and logged rate-limited at most."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [], VIP)
    n0 = len(h1.log_text().splitlines())
    x.craft(src=x.ip4, ttl=254, repeat=100, gap=0.002)
    x.craft(src=x.ip4, version=2, repeat=100, gap=0.002)
    x.craft(src=x.ip4, chksum="bad", repeat=100, gap=0.002)
    # lower priority and another VIP list: accepted, the mismatch is logged
    x.craft(src=x.ip4, prio=50, addrs=["192.0.2.222"], repeat=100, gap=0.002)
    wait_until(lambda: h1.inst()["dropped"]["checksum"] >= 100, 3)
    s = h1.inst()
    assert s["dropped"]["ttl"] == 100 and s["dropped"]["version"] == 100, s
    assert s["adverts_received"] >= 100 and s["state"] == "MASTER", s
    added = h1.log_text().splitlines()[n0:]
    assert len(added) <= 12, "%d log lines for 400 remote packets:\n%s" % (
        len(added), "\n".join(added[:30]))


def test_backup_stop_is_silent(lab):
    """A Backup that stops sends nothing (priority 0 is for a leaving Master)."""
    h1, h2 = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=150))
    wait_converged(h1, [], VIP)
    h2.start_vipd(vipd_instance(priority=100))
    wait_converged(h1, [h2], VIP)
    with lab.switch.capture("ip proto 112") as cap:
        assert h2.stop_vipd() == 0
        time.sleep(0.3)
    assert not [a for a in cap.vrrp() if a["src"] == h2.ip4], cap.vrrp()
    assert h1.state() == "MASTER" and h1.inst()["transitions"] == 2


def test_multicast_mode_checks_destination_and_source(lab):
    """RFC 5798 §5.1.1.2 / §5.1.2.1-2: in multicast mode an advert sent to
    our own address (not 224.0.0.18 / ff02::12), or an IPv6 advert from a
    global address, is dropped and counted, however high its priority."""
    h1, x = lab.add_hosts(2)
    h1.start_vipd(vipd_instance(priority=100)
                  + vipd_instance(name="VI_6", vrid=52, vips=["2001:db8::100/64"]))
    wait_until(lambda: h1.inst("VI_1")["state"] == h1.inst("VI_6")["state"] == "MASTER", 5,
               what="both instances Master")
    x.craft(src=x.ip4, dst=h1.ip4, dst_mac=h1.mac, prio=254, repeat=3)
    x.craft(family=6, vrid=52, src=x.ip6, prio=254, repeat=3)
    wait_until(lambda: h1.inst("VI_1")["dropped"]["destination"] >= 3
               and h1.inst("VI_6")["dropped"]["source"] >= 3, 3,
               what="the adverts counted as dropped (destination, source)")
    for name in ("VI_1", "VI_6"):
        s = h1.inst(name)
        assert s["state"] == "MASTER" and s["adverts_received"] == 0, s
    assert h1.inst("VI_1")["dropped"]["destination"] == 3 and h1.inst("VI_6")["dropped"]["source"] == 3
    # The same IPv6 advert from the link-local address is taken (and makes
    # VI_6 yield, until Master_Down_Interval brings it back).
    x.craft(family=6, vrid=52, src=x.lladdr, prio=254, repeat=1)
    wait_until(lambda: h1.inst("VI_6")["adverts_received"] == 1, 3,
               what="VI_6 to take a valid advert from a link-local source")


def test_unicast_ttl_check(lab):
    """unicast_ttl_check = yes: a peer's advert must come with TTL 255 (off
    by default, since unicast adverts may be routed)."""
    h1, x = lab.add_hosts(2)
    peer = dict(unicast_src=h1.ip4, unicast_peer=[x.ip4])
    h1.start_vipd(vipd_instance(priority=100, unicast_ttl_check=True, **peer)
                  + vipd_instance(name="VI_2", vrid=52, vips=["192.0.2.101/24"], **peer))
    wait_until(lambda: h1.inst("VI_1")["state"] == h1.inst("VI_2")["state"] == "MASTER", 5,
               what="both instances Master")
    x.craft(src=x.ip4, dst=h1.ip4, dst_mac=h1.mac, ttl=64, prio=254, repeat=3)
    x.craft(src=x.ip4, dst=h1.ip4, dst_mac=h1.mac, vrid=52, addrs=["192.0.2.101"], ttl=64,
            prio=254, repeat=1)
    wait_until(lambda: h1.inst("VI_1")["dropped"]["ttl"] >= 3, 3, what="TTL 64 dropped by VI_1")
    assert h1.inst("VI_1")["state"] == "MASTER" and h1.inst("VI_1")["adverts_received"] == 0
    wait_until(lambda: h1.inst("VI_2")["adverts_received"] == 1, 3,
               what="VI_2 (no unicast_ttl_check) to take the TTL-64 advert")
