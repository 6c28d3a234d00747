#!/usr/bin/env python3
"""Write fuzz_pkt's seed corpus (tests/fuzz/corpus/pkt/): valid adverts.

Each seed is fuzz_pkt's input: a flags byte (bit 0 IPv6), the source and
destination addresses, then a VRRPv3 advert with a correct checksum, as
keepalived (RFC 5798 form, with the pseudo-header) or Cisco (RFC 9568
form, IPv4 only) sends it. Flag bit 1 is left clear: the checksum is the
one in the message.
"""
import ipaddress
import os
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def advert(src, dst, vrid, prio, cs, vips, pseudo):
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    body = b"".join(ipaddress.ip_address(v).packed for v in vips)
    hdr = struct.pack("!BBBBHH", 0x31, vrid, prio, len(vips), cs, 0)
    msg = hdr + body
    if src.version == 6:
        ph = src.packed + dst.packed + struct.pack("!I3xB", len(msg), 112)
    else:
        ph = src.packed + dst.packed + struct.pack("!xBH", 112, len(msg))
    s = csum((ph if pseudo else b"") + msg)
    msg = msg[:6] + struct.pack("!H", s) + msg[8:]
    flags = 1 if src.version == 6 else 0
    return bytes([flags]) + src.packed + dst.packed + msg


SEEDS = {
    "v4-rfc5798-1vip": advert("192.0.2.1", "224.0.0.18", 51, 100, 100, ["192.0.2.100"], True),
    "v4-rfc9568-1vip": advert("192.0.2.2", "224.0.0.18", 51, 150, 100, ["192.0.2.100"], False),
    "v4-rfc5798-3vips": advert("10.0.0.1", "224.0.0.18", 7, 255, 10,
                               ["10.0.0.100", "10.0.0.101", "10.0.0.102"], True),
    "v4-unicast-prio0": advert("10.1.1.1", "10.1.1.2", 200, 0, 4095, ["10.1.1.100"], True),
    "v6-1vip": advert("fe80::1", "ff02::12", 51, 100, 100, ["2001:db8::100"], True),
    "v6-2vips": advert("fe80::2", "ff02::12", 52, 200, 1, ["fe80::100", "2001:db8::101"], True),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "pkt")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
