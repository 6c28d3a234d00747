#!/usr/bin/env python3
"""Write fuzz_netlink's seed corpus (tests/fuzz/corpus/netlink/).

Each seed is fuzz_netlink's input: a mode byte (0 events, 1 with vipd's
own changes, 2 a resync dump), then netlink messages back to back.

  mkseeds_netlink.py            crafted messages (what the kernel sends
                                for eth0 / eth1 and a VIP coming and going)
  mkseeds_netlink.py --capture  also the kernel's own answers to a link and
                                address dump, taken in a network namespace
                                of its own (root; `unshare -n` is run for
                                it) with a veth pair and two VIPs
"""
import ipaddress
import os
import socket
import struct
import subprocess
import sys

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_OPERSTATE = 1, 3, 4, 16
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 6, 8
IFF_UP, IFF_BROADCAST, IFF_RUNNING, IFF_MULTICAST, IFF_LOWER_UP = 1, 2, 0x40, 0x1000, 0x10000
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300


def attr(t, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, t) + data + b"\0" * ((4 - n % 4) % 4)


def nlmsg(t, body, flags=0, seq=1):
    return struct.pack("=IHHII", 16 + len(body), t, flags, seq, 0) + body


def link(t, ifindex, name, flags, mac=b"\x02\x00\x00\x00\x00\x01"):
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, ifindex, flags, 0xFFFFFFFF)
    body += attr(IFLA_IFNAME, name.encode() + b"\0") + attr(IFLA_MTU, struct.pack("=I", 1500))
    body += attr(IFLA_ADDRESS, mac) + attr(IFLA_OPERSTATE, b"\x06")
    return nlmsg(t, body)


def addr(t, ifindex, cidr, flags=0x80, scope=0, label=None):
    ip = ipaddress.ip_interface(cidr)
    fam = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    body = struct.pack("=BBBBi", fam, ip.network.prefixlen, flags & 0xFF, scope, ifindex)
    body += attr(IFA_ADDRESS, ip.ip.packed) + attr(IFA_LOCAL, ip.ip.packed)
    if label:
        body += attr(IFA_LABEL, label.encode() + b"\0")
    body += attr(IFA_FLAGS, struct.pack("=I", flags))
    body += attr(IFA_CACHEINFO, struct.pack("=IIII", 0xFFFFFFFF, 0xFFFFFFFF, 100, 100))
    return nlmsg(t, body)


UP = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP
CRAFTED = {
    "vip-added-deleted": b"\0" + addr(RTM_NEWADDR, 2, "192.0.2.100/24", label="eth0")
    + addr(RTM_DELADDR, 2, "192.0.2.100/24", label="eth0"),
    "vip6-added": b"\0" + addr(RTM_NEWADDR, 2, "2001:db8::100/64", flags=0x80 | 0x40),
    "link-down-up": b"\0" + link(RTM_NEWLINK, 2, "eth0", IFF_UP | IFF_BROADCAST | IFF_MULTICAST)
    + link(RTM_NEWLINK, 2, "eth0", UP),
    "link-deleted": b"\0" + link(RTM_DELLINK, 3, "eth1", 0),
    "own-add-then-event": b"\1" + addr(RTM_NEWADDR, 2, "192.0.2.100/24")
    + addr(RTM_NEWADDR, 2, "192.0.2.100/24", flags=0x81),
    "own-del-then-event": b"\1" + addr(RTM_DELADDR, 2, "192.0.2.11/24")
    + addr(RTM_DELADDR, 2, "192.0.2.11/24"),
    "resync-dump": b"\2" + link(RTM_NEWLINK, 1, "lo", IFF_UP | IFF_RUNNING | 8)
    + link(RTM_NEWLINK, 2, "eth0", UP) + addr(RTM_NEWADDR, 1, "127.0.0.1/8", scope=254)
    + addr(RTM_NEWADDR, 2, "192.0.2.11/24") + addr(RTM_NEWADDR, 2, "192.0.2.100/24", flags=0x81),
}


def dump(kind):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    if kind == RTM_GETLINK:
        body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
    else:
        body = struct.pack("=BBBBi", socket.AF_UNSPEC, 0, 0, 0, 0)
    s.send(nlmsg(kind, body, NLM_F_REQUEST | NLM_F_DUMP))
    out = b""
    while True:
        data = s.recv(65536)
        off = 0
        while off < len(data):
            n, t = struct.unpack_from("=IH", data, off)
            if t == 3:  # NLMSG_DONE
                return out
            out += data[off:off + n]
            off += (n + 3) & ~3


def capture():
    """In a namespace of our own: a veth pair, eth0 with two VIPs, dumped."""
    for cmd in ("ip link set lo up", "ip link add eth0 type veth peer name eth1", "ip link set eth0 up",
                "ip addr add 192.0.2.11/24 dev eth0", "ip addr add 192.0.2.100/24 dev eth0",
                "ip addr add 2001:db8::100/64 dev eth0 nodad"):
        subprocess.run(cmd.split(), check=True)
    links, addrs = dump(RTM_GETLINK), dump(RTM_GETADDR)
    return {"captured-dump-events": b"\0" + links + addrs,
            "captured-dump-resync": b"\2" + links + addrs}


out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "netlink")
if sys.argv[1:] == ["--in-netns"]:
    seeds = capture()
else:
    seeds = dict(CRAFTED)
    if sys.argv[1:] == ["--capture"]:
        subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--in-netns"],
                       check=True)
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
