/*
 * vsock.c - raw IP protocol-112 sockets for VRRP adverts.
 *
 * One socket per (interface, family), shared by every instance there
 * (vport.c), bound to its interface with SO_BINDTODEVICE and with the "all
 * multicast groups" default turned off, so it only sees adverts for the
 * group it joined (or unicast ones) on that interface.
 */
#include "vsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/ip6.h>

#include "log.h"
#include "pkt.h"

/* Receive attempts per vsock_recv() before yielding to the loop. */
#define RECV_TRIES 64

static int
sopt(int fd, int level, int name, const void *val, socklen_t len, const char *what,
     const char *ifname)
{
	if (setsockopt(fd, level, name, val, len) == 0)
		return 0;
	log_warn("vsock %s: setsockopt %s", ifname, what);
	return -1;
}

static int
sopt_int(int fd, int level, int name, int val, const char *what, const char *ifname)
{
	return sopt(fd, level, name, &val, sizeof(val), what, ifname);
}

#define SOPT_INT(fd, level, name, val, ifname) sopt_int(fd, level, name, val, #name, ifname)

static int
setup_v4(int fd, int ifindex, const char *ifname, bool multicast)
{
	struct ip_mreqn mr = {.imr_ifindex = ifindex};

	if (SOPT_INT(fd, IPPROTO_IP, IP_TTL, VRRP_TTL, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IP, IP_MULTICAST_TTL, VRRP_TTL, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, ifname) < 0 ||
	    /* Only the groups this socket joined, not every group of the host. */
	    SOPT_INT(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IP, IP_PKTINFO, 1, ifname) < 0 ||
	    sopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr), "IP_MULTICAST_IF", ifname) < 0)
		return -1;
	if (!multicast)
		return 0;
	inet_pton(AF_INET, VRRP_MCAST4, &mr.imr_multiaddr);
	return sopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr),
	            "IP_ADD_MEMBERSHIP " VRRP_MCAST4, ifname);
}

static int
setup_v6(int fd, int ifindex, const char *ifname, bool multicast)
{
	struct ipv6_mreq mr = {.ipv6mr_interface = (unsigned int)ifindex};

	/* IPV6_CHECKSUM stays off: the codec computes the VRRP checksum. */
	if (SOPT_INT(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, VRRP_TTL, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_TTL, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, ifname) < 0 ||
	    SOPT_INT(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, ifname) < 0)
		return -1;
	if (!multicast)
		return 0;
	inet_pton(AF_INET6, VRRP_MCAST6, &mr.ipv6mr_multiaddr);
	return sopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr),
	            "IPV6_JOIN_GROUP " VRRP_MCAST6, ifname);
}

int
vsock_open(int family, int ifindex, const char *ifname, bool multicast)
{
	int fd, r;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if ((fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, VRRP_PROTO)) < 0) {
		log_warn("vsock %s: socket", ifname);
		return -1;
	}
	if (sopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1,
	         "SO_BINDTODEVICE", ifname) < 0)
		goto fail;
	r = family == AF_INET ? setup_v4(fd, ifindex, ifname, multicast)
	                      : setup_v6(fd, ifindex, ifname, multicast);
	if (r < 0)
		goto fail;
	return fd;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

int
vsock_open_link_xmit(void)
{
	/* Protocol 0: it sends, and receives nothing. */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		log_warn("vsock: packet socket");
	return fd;
}

/* The IPv4 header checksum (RFC 791). */
static uint16_t
ip_cksum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int
vsock_send_frame(int fd, int family, int ifindex, const union inaddr *src,
                 const union inaddr *dst, const uint8_t *buf, size_t len)
{
	uint8_t f[40 + VRRP_PKT_MAX];
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
	size_t hlen = family == AF_INET ? 20 : 40;

	if (len > VRRP_PKT_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(f, 0, hlen);
	if (family == AF_INET) {
		uint16_t tot = (uint16_t)(hlen + len), ck;

		f[0] = 0x45;
		f[2] = (uint8_t)(tot >> 8);
		f[3] = (uint8_t)tot;
		f[6] = 0x40; /* DF */
		f[8] = VRRP_TTL;
		f[9] = VRRP_PROTO;
		memcpy(f + 12, &src->v4, 4);
		memcpy(f + 16, &dst->v4, 4);
		ck = ip_cksum(f, hlen);
		f[10] = (uint8_t)(ck >> 8);
		f[11] = (uint8_t)ck;
		to.sll_protocol = htons(ETH_P_IP);
		/* 01:00:5e + the group's low 23 bits */
		memcpy(to.sll_addr, (const uint8_t[]){0x01, 0x00, 0x5e, 0, 0, 0}, 6);
		memcpy(to.sll_addr + 3, (const uint8_t *)&dst->v4 + 1, 3);
		to.sll_addr[3] &= 0x7f;
	} else {
		f[0] = 0x60;
		f[4] = (uint8_t)(len >> 8);
		f[5] = (uint8_t)len;
		f[6] = VRRP_PROTO;
		f[7] = VRRP_TTL;
		memcpy(f + 8, &src->v6, 16);
		memcpy(f + 24, &dst->v6, 16);
		to.sll_protocol = htons(ETH_P_IPV6);
		/* 33:33 + the group's low 32 bits */
		to.sll_addr[0] = to.sll_addr[1] = 0x33;
		memcpy(to.sll_addr + 2, dst->v6.s6_addr + 12, 4);
	}
	memcpy(f + hlen, buf, len);
	if (sendto(fd, f, hlen + len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	return 0;
}

int
vsock_group(int fd, int family, int ifindex, bool join)
{
	char ifname[IF_NAMESIZE] = "?";

	if_indextoname((unsigned int)ifindex, ifname);
	if (family == AF_INET) {
		struct ip_mreqn mr = {.imr_ifindex = ifindex};

		inet_pton(AF_INET, VRRP_MCAST4, &mr.imr_multiaddr);
		return sopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
		            sizeof(mr), join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP", ifname);
	}
	struct ipv6_mreq mr6 = {.ipv6mr_interface = (unsigned int)ifindex};

	inet_pton(AF_INET6, VRRP_MCAST6, &mr6.ipv6mr_multiaddr);
	return sopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr6, sizeof(mr6),
	            join ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP", ifname);
}

int
vsock_send(int fd, int family, int ifindex, const union inaddr *src, const union inaddr *dst,
           const uint8_t *buf, size_t len)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} to;
	union {
		char v4[CMSG_SPACE(sizeof(struct in_pktinfo))];
		char v6[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_name = &to, .msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	memset(&to, 0, sizeof(to));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_control = &cbuf;
	cm = (struct cmsghdr *)&cbuf;
	if (family == AF_INET) {
		/* ipi_spec_dst is the source address of a sent packet. */
		struct in_pktinfo pi = {.ipi_ifindex = ifindex};

		if (src)
			pi.ipi_spec_dst = src->v4;
		to.v4.sin_family = AF_INET;
		to.v4.sin_addr = dst->v4;
		msg.msg_namelen = sizeof(to.v4);
		msg.msg_controllen = sizeof(cbuf.v4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (family == AF_INET6) {
		struct in6_pktinfo pi = {.ipi6_ifindex = (unsigned int)ifindex};

		if (src)
			pi.ipi6_addr = src->v6;
		to.v6.sin6_family = AF_INET6;
		to.v6.sin6_addr = dst->v6;
		if (IN6_IS_ADDR_LINKLOCAL(&dst->v6) || IN6_IS_ADDR_MC_LINKLOCAL(&dst->v6))
			to.v6.sin6_scope_id = (uint32_t)ifindex;
		msg.msg_namelen = sizeof(to.v6);
		msg.msg_controllen = sizeof(cbuf.v6);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	/*
	 * Not logged here: a failure (ENETDOWN, ENOBUFS...) repeats every
	 * advert interval; the caller logs it once, with its instance prefix.
	 */
	n = sendmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* IPv4 raw sockets deliver the IP header: check it, take TTL, src, dst. */
static int
parse_v4(uint8_t *buf, size_t n, struct vsock_rx *rx)
{
	const struct iphdr *ip = (const struct iphdr *)buf;
	size_t hlen, tot;

	if (n < sizeof(*ip) || ip->version != 4)
		return -1;
	hlen = (size_t)ip->ihl * 4;
	tot = ntohs(ip->tot_len);
	if (hlen < sizeof(*ip) || hlen > n || ip->protocol != VRRP_PROTO)
		return -1;
	if (tot >= hlen && tot < n)
		n = tot;
	rx->ttl = ip->ttl;
	memcpy(&rx->src.v4, &ip->saddr, 4);
	memcpy(&rx->dst.v4, &ip->daddr, 4);
	rx->payload = buf + hlen;
	rx->len = n - hlen;
	return 0;
}

static void
parse_cmsgs(struct msghdr *msg, struct vsock_rx *rx)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			rx->ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			rx->ifindex = (int)pi.ipi6_ifindex;
			rx->dst.v6 = pi.ipi6_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT) {
			int hops;

			memcpy(&hops, CMSG_DATA(cm), sizeof(hops));
			rx->ttl = hops;
		}
	}
}

/* After a failed receive: try again (1), nothing pending (0), an error (-1). */
static int
recv_failed(void)
{
	if (errno == EINTR)
		return 1;
	return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

static void
rx_init(struct vsock_rx *rx, int family)
{
	memset(rx, 0, sizeof(*rx));
	rx->family = family;
	rx->ttl = -1;
}

int
vsock_recv(int fd, int family, uint8_t *buf, size_t cap, struct vsock_rx *rx)
{
	int tries;

	for (tries = 0; tries < RECV_TRIES; tries++) {
		struct sockaddr_storage from;
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) +
			       CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = {.iov_base = buf, .iov_len = cap};
		struct msghdr msg = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = &cbuf,
		    .msg_controllen = sizeof(cbuf),
		};
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0) {
			int r = recv_failed();

			if (r > 0)
				continue;
			return r;
		}
		rx_init(rx, family);
		/* What a remote host sends is never logged above debug. */
		if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			log_debug("vsock: dropped a truncated packet (%zd bytes)", n);
			continue;
		}
		parse_cmsgs(&msg, rx);
		if (family == AF_INET) {
			if (parse_v4(buf, (size_t)n, rx) < 0) {
				log_debug("vsock: dropped a malformed IPv4 packet");
				continue;
			}
		} else {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&from;

			if (from.ss_family != AF_INET6)
				continue;
			rx->src.v6 = s6->sin6_addr;
			rx->payload = buf;
			rx->len = (size_t)n;
		}
		return 1;
	}
	/* Still more pending: the level-triggered loop will call again. */
	return 0;
}

/*
 * Frames from a virtual MAC (use_vmac). A router that sends its adverts
 * from its virtual MAC link (keepalived's default, and vipd's) is heard
 * by a router with a link of the same MAC on that link only: the macvlan
 * driver takes a multicast frame whose source is one of its links' MAC
 * for that link's own, looped back, and hands it to that link alone. The
 * link holds no address and joins no group (a report would carry the
 * shared MAC), so the IP layer drops the frame. A packet socket for every
 * protocol on the interface sees the frame before the macvlan driver
 * takes it; the kernel filters it to VRRP from a virtual MAC of the family.
 */
int
vsock_open_frames(int family, int ifindex)
{
	bool v4 = family == AF_INET;
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* ethertype */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v4 ? ETH_P_IP : ETH_P_IPV6, 0, 7),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 6), /* source MAC 00:00:5e:00: */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x00005e00, 0, 5),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 10), /* :01: (IPv4) / :02: (IPv6) */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v4 ? 0x01 : 0x02, 0, 3),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, v4 ? 14 + 9 : 14 + 6), /* protocol */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRRP_PROTO, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
	                          .sll_ifindex = ifindex};
	char ifname[IF_NAMESIZE] = "?";
	int fd, e;

	if_indextoname((unsigned int)ifindex, ifname);
	/* Created with protocol 0 (nothing queued) until the filter is on. */
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("vsock %s: packet socket", ifname);
		return -1;
	}
	if (sopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog), "SO_ATTACH_FILTER",
	         ifname) < 0 ||
	    SOPT_INT(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, ifname) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("vsock %s: bind", ifname);
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The IPv6 header of a frame: no extension header (RFC 5798 has none). */
static int
parse_v6(uint8_t *buf, size_t n, struct vsock_rx *rx)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)buf;
	size_t plen;

	if (n < sizeof(*ip6) || (buf[0] >> 4) != 6 || ip6->ip6_nxt != VRRP_PROTO)
		return -1;
	plen = ntohs(ip6->ip6_plen);
	if (plen > n - sizeof(*ip6))
		return -1;
	rx->ttl = ip6->ip6_hlim;
	rx->src.v6 = ip6->ip6_src;
	rx->dst.v6 = ip6->ip6_dst;
	rx->payload = buf + sizeof(*ip6);
	rx->len = plen;
	return 0;
}

int
vsock_recv_frame(int fd, int family, uint8_t *buf, size_t cap, struct vsock_rx *rx)
{
	for (int tries = 0; tries < RECV_TRIES; tries++) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
		                     &flen);

		if (n < 0) {
			int r = recv_failed();

			if (r > 0)
				continue;
			return r;
		}
		rx_init(rx, family);
		rx->ifindex = from.sll_ifindex;
		if ((size_t)n > cap || n < ETH_HLEN || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		/* The IP header where vsock_recv() puts it: at buf, aligned as buf is. */
		n -= ETH_HLEN;
		memmove(buf, buf + ETH_HLEN, (size_t)n);
		if ((family == AF_INET ? parse_v4(buf, (size_t)n, rx) : parse_v6(buf, (size_t)n, rx)) <
		    0) {
			log_debug("vsock: dropped a malformed frame");
			continue;
		}
		return 1;
	}
	return 0;
}
