/*
 * vsock.h - raw IP protocol-112 sockets for VRRP adverts, one per interface
 * and family (shared by its instances, vport.h), bound to the interface.
 * Sends with TTL / hop limit 255 (RFC 5798 §5.1.1.3) and reports the received TTL / hop limit so
 * the caller can drop others.
 */
#ifndef VIPD_VSOCK_H
#define VIPD_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct vsock_rx {
	int family;
	int ifindex;
	int ttl; /* IPv4 TTL or IPv6 hop limit, -1 if unknown */
	union inaddr src;
	union inaddr dst;
	const uint8_t *payload; /* the VRRP message (IPv4 header stripped) */
	size_t len;
};

/*
 * Open a non-blocking raw socket for `family` on the interface, joined to
 * 224.0.0.18 / ff02::12 when `multicast`. Returns the fd, or -1.
 */
int vsock_open(int family, int ifindex, const char *ifname, bool multicast);
/*
 * use_vmac: a packet socket that only sends, and one multicast advert
 * through it: the IP header built here (TTL / hop limit 255), the frame
 * through the virtual MAC link ifindex, which puts its MAC as the source.
 * No route lookup: the kernel's is linear in the links that have IPv6 on
 * them. The fd, or -1; 0 or -1.
 */
int vsock_open_link_xmit(void);
int vsock_send_frame(int fd, int family, int ifindex, const union inaddr *src,
                     const union inaddr *dst, const uint8_t *buf, size_t len);
/*
 * use_vmac: a packet socket on the interface that reads the VRRP frames
 * sent from the family's virtual MACs, before the macvlan driver hands
 * them to a link of the same MAC (vsock.c says why), and reads one into
 * buf as vsock_recv() does. The fd, or -1.
 */
int vsock_open_frames(int family, int ifindex);
int vsock_recv_frame(int fd, int family, uint8_t *buf, size_t cap, struct vsock_rx *rx);
/* Join (or leave) 224.0.0.18 / ff02::12 on ifindex. 0 or -1. */
int vsock_group(int fd, int family, int ifindex, bool join);
/* Send one VRRP message from src to dst via ifindex. 0 or -1. */
int vsock_send(int fd, int family, int ifindex, const union inaddr *src, const union inaddr *dst,
               const uint8_t *buf, size_t len);
/*
 * Receive one packet into buf. 1 and *rx filled (payload points into buf),
 * 0 if nothing is pending, -1 on error.
 */
int vsock_recv(int fd, int family, uint8_t *buf, size_t cap, struct vsock_rx *rx);

#endif
