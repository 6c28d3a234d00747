#!/usr/bin/python3
"""
craft.py - send hand-made VRRP packets with scapy (run inside a namespace).

Usage: craft.py JSON where JSON is an object with (all optional but src):
  family 4|6, iface "eth0", src, dst (default 224.0.0.18 / ff02::12),
  dst_mac (default the multicast MAC of dst; required for unicast dst),
  ttl 255, version 3, type 1, vrid 51, prio 100, addrs [...],
  count (default len(addrs)), interval_cs 10,
  chksum: null = pseudo-header form (scapy's), "rfc9568" = message only,
          "bad" = neither form, or an integer to force,
  raw_hex: VRRP payload bytes instead of a built message,
  repeat 1, gap 0.01 (seconds between repeats).
Prints one line per packet sent (hex of the VRRP part).
"""
import json
import logging
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # "no default route" etc.

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.arch import get_if_hwaddr
from scapy.layers.l2 import Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Raw
from scapy.sendrecv import sendp
from scapy.utils import checksum


def mcast_mac(family, dst):
    if family == 4:
        b = [int(x) for x in dst.split(".")]
        return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])
    import ipaddress
    p = ipaddress.ip_address(dst).packed
    return "33:33:%02x:%02x:%02x:%02x" % tuple(p[-4:])


def build(spec):
    fam = spec.get("family", 4)
    dst = spec.get("dst") or ("224.0.0.18" if fam == 4 else "ff02::12")
    ttl = spec.get("ttl", 255)
    if fam == 4:
        ip = IP(src=spec["src"], dst=dst, ttl=ttl, proto=112)
    else:
        ip = IPv6(src=spec["src"], dst=dst, hlim=ttl, nh=112)
    if "raw_hex" in spec:
        payload = Raw(bytes.fromhex(spec["raw_hex"]))
    else:
        addrs = spec.get("addrs", ["192.0.2.100"] if fam == 4 else ["2001:db8::100"])
        version = spec.get("version", 3)
        if version == 2:
            payload = VRRP(version=2, type=spec.get("type", 1), vrid=spec.get("vrid", 51),
                           priority=spec.get("prio", 100), ipcount=spec.get("count", len(addrs)),
                           adv=1, addrlist=addrs)
        else:
            v = VRRPv3(version=version, type=spec.get("type", 1), vrid=spec.get("vrid", 51),
                       priority=spec.get("prio", 100),
                       ipcount=spec.get("count", len(addrs)),
                       adv=spec.get("interval_cs", 10), addrlist=addrs)
            ck = spec.get("chksum")
            if ck == "rfc9568":
                v.chksum = 0
                v.chksum = checksum(bytes(v))
            elif ck == "bad":
                # differs from both the pseudo-header and the message-only sums
                good = bytes(ip.copy() / v.copy())[20 if fam == 4 else 40:]
                plain = v.copy()
                plain.chksum = 0
                forms = {int.from_bytes(good[6:8], "big"), checksum(bytes(plain))}
                bad = 0x1234
                while bad in forms or (bad ^ 0xFFFF) in forms:
                    bad += 1
                v.chksum = bad
            elif ck is not None:
                v.chksum = int(ck)
            payload = v
    pkt = ip / payload
    dmac = spec.get("dst_mac") or mcast_mac(fam, dst)
    # an explicit source MAC: scapy picks 00:00:.. for multicast, which a bridge drops
    return Ether(src=get_if_hwaddr(spec.get("iface", "eth0")), dst=dmac) / pkt


def main():
    spec = json.loads(sys.argv[1])
    pkt = build(spec)
    for i in range(spec.get("repeat", 1)):
        sendp(pkt, iface=spec.get("iface", "eth0"), verbose=False)
        print(bytes(pkt.payload.payload).hex())
        if i + 1 < spec.get("repeat", 1):
            time.sleep(spec.get("gap", 0.01))


if __name__ == "__main__":
    main()
