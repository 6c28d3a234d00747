/*
 * ndisc.c - unsolicited Neighbor Advertisements for IPv6 VIPs
 * (RFC 5798 §6.4.2 via RFC 4861 §7.2.6).
 *
 * Twin of arp.c: a private socket, open/close, a pure builder and a
 * send-one function. The kernel picks the link-local source address and
 * fills in the ICMPv6 checksum (it does so for every ICMPv6 raw socket).
 */
#include "announce.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* RFC 4861 §7.1.2: hop limit 255 proves the NA came from the link. */
#define NDISC_HOPS 255

struct ndisc_na {
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt;
	uint8_t mac[ETH_ALEN];
} __attribute__((packed));

static int ndisc_fd = -1;

static int
ndisc_sopt(int level, int name, const void *val, socklen_t len, const char *what)
{
	if (setsockopt(ndisc_fd, level, name, val, len) == 0)
		return 0;
	log_warn("ndisc: setsockopt %s", what);
	return -1;
}

int
ndisc_open(void)
{
	int hops = NDISC_HOPS, off = 0;
	struct icmp6_filter filter;

	if (ndisc_fd >= 0)
		return 0;
	ndisc_fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (ndisc_fd < 0) {
		log_warn("ndisc: socket");
		return -1;
	}
	/* Send only: receive no ICMPv6 at all, rather than all of it. */
	ICMP6_FILTER_SETBLOCKALL(&filter);
	if (ndisc_sopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops),
	               "IPV6_MULTICAST_HOPS") < 0 ||
	    ndisc_sopt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops), "IPV6_UNICAST_HOPS") <
	        0 ||
	    ndisc_sopt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off),
	               "IPV6_MULTICAST_LOOP") < 0 ||
	    ndisc_sopt(IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter), "ICMP6_FILTER") < 0) {
		ndisc_close();
		return -1;
	}
	return 0;
}

void
ndisc_close(void)
{
	if (ndisc_fd >= 0)
		close(ndisc_fd);
	ndisc_fd = -1;
}

/* The ICMPv6 message with its one option; the checksum is the kernel's. */
static size_t
ndisc_build(struct ndisc_na *p, const uint8_t mac[6], const struct in6_addr *target)
{
	memset(p, 0, sizeof(*p));
	p->na.nd_na_type = ND_NEIGHBOR_ADVERT;
	p->na.nd_na_code = 0;
	/* Override, so caches holding the old master's MAC take ours; not
	 * Solicited (nobody asked), not Router (a VIP is not a router). */
	p->na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	p->na.nd_na_target = *target;
	p->opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
	p->opt.nd_opt_len = 1; /* in units of 8 bytes */
	memcpy(p->mac, mac, ETH_ALEN);
	return sizeof(*p);
}

int
ndisc_send(int ifindex, const uint8_t mac[6], const struct in6_addr *target)
{
	struct sockaddr_in6 to = {
	    .sin6_family = AF_INET6,
	    .sin6_addr = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}}, /* ff02::1 */
	    .sin6_scope_id = (uint32_t)ifindex,
	};
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct in6_pktinfo pi = {.ipi6_ifindex = (unsigned int)ifindex};
	struct ndisc_na p;
	struct iovec iov = {.iov_base = &p, .iov_len = ndisc_build(&p, mac, target)};
	struct msghdr msg = {
	    .msg_name = &to,
	    .msg_namelen = sizeof(to),
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = &cbuf,
	    .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (ndisc_open() < 0)
		return -1;
	memset(&cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(ndisc_fd, &msg, MSG_DONTWAIT) != (ssize_t)iov.iov_len)
		return -1; /* the caller counts it and logs it rate-limited */
	return 0;
}
