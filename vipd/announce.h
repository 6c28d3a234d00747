/*
 * announce.h - gratuitous ARP (IPv4, RFC 5227 §3 / RFC 5798 §6.4.2) and
 * unsolicited Neighbor Advertisements (IPv6, RFC 4861 §7.2.6) for VIPs.
 * Twin halves in arp.c and ndisc.c, each with a private socket.
 */
#ifndef VIPD_ANNOUNCE_H
#define VIPD_ANNOUNCE_H

#include <netinet/in.h>
#include <stdint.h>

/* AF_PACKET socket for ARP. 0 or -1. Idempotent. */
int arp_open(void);
void arp_close(void);
/* One gratuitous ARP request for ip, from mac, broadcast on ifindex. 0 or -1. */
int arp_send(int ifindex, const uint8_t mac[6], const struct in_addr *ip);

/* ICMPv6 raw socket for NA (hop limit 255). 0 or -1. Idempotent. */
int ndisc_open(void);
void ndisc_close(void);
/*
 * One unsolicited NA for target to ff02::1 on ifindex: Override set,
 * Solicited clear, Target Link-Layer Address option = mac. 0 or -1.
 */
int ndisc_send(int ifindex, const uint8_t mac[6], const struct in6_addr *target);

#endif
