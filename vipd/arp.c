/*
 * arp.c - gratuitous ARP for IPv4 VIPs (RFC 5798 §6.4.2 via RFC 5227 §3).
 *
 * Twin of ndisc.c: a private socket, open/close, a pure builder and a
 * send-one function. The announcement is an ARP *request* with sender IP =
 * target IP = the VIP (an "ARP Announcement", RFC 5227 §2.3, as keepalived
 * sends), broadcast so every neighbour updates its cache.
 */
#include "announce.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static int arp_fd = -1;

int
arp_open(void)
{
	if (arp_fd >= 0)
		return 0;
	/*
	 * Protocol 0: the socket only sends (the ethertype is given per packet
	 * in sockaddr_ll), so the kernel never queues received ARP to it.
	 */
	arp_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (arp_fd < 0) {
		log_warn("arp: socket");
		return -1;
	}
	return 0;
}

void
arp_close(void)
{
	if (arp_fd >= 0)
		close(arp_fd);
	arp_fd = -1;
}

/* The ARP payload (the link layer header is the kernel's). Returns its length. */
static size_t
arp_build(struct ether_arp *a, const uint8_t mac[6], const struct in_addr *ip)
{
	memset(a, 0, sizeof(*a));
	a->arp_hrd = htons(ARPHRD_ETHER);
	a->arp_pro = htons(ETHERTYPE_IP);
	a->arp_hln = ETH_ALEN;
	a->arp_pln = sizeof(*ip);
	a->arp_op = htons(ARPOP_REQUEST);
	memcpy(a->arp_sha, mac, ETH_ALEN);
	memcpy(a->arp_spa, ip, sizeof(*ip));
	/* arp_tha stays 00:00:00:00:00:00 (RFC 5227 §2.3). */
	memcpy(a->arp_tpa, ip, sizeof(*ip));
	return sizeof(*a);
}

int
arp_send(int ifindex, const uint8_t mac[6], const struct in_addr *ip)
{
	struct sockaddr_ll to = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = ifindex,
	    .sll_halen = ETH_ALEN,
	};
	struct ether_arp a;
	size_t len = arp_build(&a, mac, ip);

	if (arp_open() < 0)
		return -1;
	memset(to.sll_addr, 0xff, ETH_ALEN);
	if (sendto(arp_fd, &a, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)len)
		return -1; /* the caller counts it and logs it rate-limited */
	return 0;
}
