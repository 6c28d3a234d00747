/*
 * netlink.c - the two NETLINK_ROUTE sockets: one for requests (lookups,
 * address changes; each waits for the kernel's answer) and one monitor
 * socket in the event loop, subscribed to link and address changes.
 *
 * libnl parses every monitor message into an rtnl_link / rtnl_addr object;
 * this file only turns those into struct iface / union inaddr and calls
 * the netlink_events callbacks.
 */
#include "nlpriv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "../vipd/log.h"
#include "../vipd/loop.h"

/*
 * Events arrive in bursts (a link going down removes routes and addresses
 * at once); a kernel that cannot queue one drops it and reports ENOBUFS.
 * A large receive buffer makes that unlikely.
 */
#define MON_RCVBUF (1 << 20)
/* Reads per readiness callback; the loop is level-triggered and calls again. */
#define MON_READS 32

static struct nl_sock *req_sk;
static struct nl_sock *mon_sk;
static struct netlink_events mon_ev;

static struct nl_sock *
sock_new(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		log_warnx("netlink: cannot allocate a socket");
		return NULL;
	}
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		log_warnx("netlink: connect: %s", nl_geterror(err));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct nl_sock *
netlink_req_sock(void)
{
	if (!req_sk)
		req_sk = sock_new();
	return req_sk;
}

void
netlink_iface_from_link(struct rtnl_link *link, struct iface *out)
{
	const char *name = rtnl_link_get_name(link);
	struct nl_addr *mac = rtnl_link_get_addr(link);
	unsigned int flags = rtnl_link_get_flags(link);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	out->present = true;
	out->admin_up = (flags & IFF_UP) != 0;
	out->running = (flags & IFF_RUNNING) != 0;
	if (mac && nl_addr_get_len(mac) == sizeof(out->mac))
		memcpy(out->mac, nl_addr_get_binary_addr(mac), sizeof(out->mac));
}

int
netlink_inaddr_from(const struct nl_addr *na, int family, union inaddr *out)
{
	size_t len = addr_len(family);

	memset(out, 0, sizeof(*out));
	if (!na || len == 0 || nl_addr_get_family(na) != family || nl_addr_get_len(na) != len)
		return -1;
	memcpy(out->b, nl_addr_get_binary_addr(na), len);
	return 0;
}

static void
mon_link(struct rtnl_link *link, int type)
{
	struct iface ifc;

	/*
	 * Bridge port messages (AF_BRIDGE) share the group; an RTM_DELLINK of
	 * that family means "left the bridge", not "deleted".
	 */
	if (rtnl_link_get_family(link) != AF_UNSPEC)
		return;
	netlink_iface_from_link(link, &ifc);
	if (type == RTM_DELLINK) {
		ifc.present = false;
		ifc.admin_up = false;
		ifc.running = false;
	}
	log_debug("netlink: link %s (%d) %s%s%s", ifc.name, ifc.ifindex,
	          ifc.present ? "present" : "deleted", ifc.admin_up ? " up" : "",
	          ifc.running ? " running" : "");
	if (mon_ev.link)
		mon_ev.link(mon_ev.arg, &ifc);
}

static void
mon_addr(struct rtnl_addr *ra, int type)
{
	int family = rtnl_addr_get_family(ra);
	union inaddr a;
	char buf[ADDR_STRLEN];

	if (netlink_inaddr_from(rtnl_addr_get_local(ra), family, &a) < 0)
		return;
	log_debug("netlink: address %s/%d %s on ifindex %d", addr_ntop(family, &a, buf),
	          rtnl_addr_get_prefixlen(ra), type == RTM_NEWADDR ? "added" : "deleted",
	          rtnl_addr_get_ifindex(ra));
	if (mon_ev.addr)
		mon_ev.addr(mon_ev.arg, rtnl_addr_get_ifindex(ra), family, &a,
		            (uint8_t)rtnl_addr_get_prefixlen(ra), type == RTM_NEWADDR);
}

/* nl_msg_parse() callback: the object parsed from one monitor message. */
static void
mon_object(struct nl_object *obj, void *arg)
{
	int type = *(const int *)arg;

	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		mon_link((struct rtnl_link *)obj, type);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		mon_addr((struct rtnl_addr *)obj, type);
		break;
	}
}

static int
mon_valid(struct nl_msg *msg, void *arg)
{
	int type = nlmsg_hdr(msg)->nlmsg_type;
	int err;

	(void)arg;
	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if ((err = nl_msg_parse(msg, mon_object, &type)) < 0)
			log_debug("netlink: cannot parse message type %d: %s", type,
			          nl_geterror(err));
		break;
	}
	return NL_OK;
}

/*
 * The kernel dropped events: replay every link as a link event, so that
 * whoever listens re-checks its interface, addresses and VIPs.
 */
static void
mon_resync(void)
{
	struct nl_sock *sk = netlink_req_sock();
	struct nl_cache *links;
	struct nl_object *obj;
	int err;

	if (!sk)
		return;
	if ((err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0) {
		log_warnx("netlink: link dump: %s", nl_geterror(err));
		return;
	}
	for (obj = nl_cache_get_first(links); obj; obj = nl_cache_get_next(obj))
		mon_link((struct rtnl_link *)obj, RTM_NEWLINK);
	nl_cache_free(links);
}

static void
mon_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	int i, err;

	(void)l, (void)fd, (void)events, (void)arg;
	for (i = 0; i < MON_READS; i++) {
		err = nl_recvmsgs_default(mon_sk);
		if (err == 0)
			continue; /* a batch parsed; there may be more */
		if (err == -NLE_AGAIN)
			return;
		if (err == -NLE_NOMEM) {
			log_warnx("netlink: events lost (receive buffer overrun), resynchronising");
			mon_resync();
			continue;
		}
		log_warnx("netlink: monitor: %s", nl_geterror(err));
		return;
	}
}

static int
mon_open(void)
{
	int fd, size = MON_RCVBUF, err;

	if (!(mon_sk = nl_socket_alloc())) {
		log_warnx("netlink: cannot allocate a socket");
		return -1;
	}
	/* Events are not answers to our requests: no sequence numbers. */
	nl_socket_disable_seq_check(mon_sk);
	nl_socket_modify_cb(mon_sk, NL_CB_VALID, NL_CB_CUSTOM, mon_valid, NULL);
	if ((err = nl_connect(mon_sk, NETLINK_ROUTE)) < 0 ||
	    (err = nl_socket_add_memberships(mon_sk, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
	                                     RTNLGRP_IPV6_IFADDR, 0)) < 0 ||
	    (err = nl_socket_set_nonblocking(mon_sk)) < 0) {
		log_warnx("netlink: monitor socket: %s", nl_geterror(err));
		return -1;
	}
	fd = nl_socket_get_fd(mon_sk);
	/* As root, past net.core.rmem_max; otherwise as much as allowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		nl_socket_set_buffer_size(mon_sk, MON_RCVBUF, 0);
	return fd;
}

int
netlink_open(struct loop *l, const struct netlink_events *ev)
{
	int fd;

	if (mon_sk) {
		errno = EALREADY;
		log_warnx("netlink: already open");
		return -1;
	}
	mon_ev = *ev;
	if (!netlink_req_sock() || (fd = mon_open()) < 0)
		goto fail;
	if (loop_add_fd(l, fd, EPOLLIN, mon_readable, NULL) < 0) {
		log_warn("netlink: cannot watch the monitor socket");
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(mon_sk);
	mon_sk = NULL;
	nl_socket_free(req_sk);
	req_sk = NULL;
	return -1;
}

void
netlink_close(struct loop *l)
{
	if (mon_sk) {
		if (l)
			loop_del_fd(l, nl_socket_get_fd(mon_sk));
		nl_socket_free(mon_sk);
		mon_sk = NULL;
	}
	nl_socket_free(req_sk);
	req_sk = NULL;
	memset(&mon_ev, 0, sizeof(mon_ev));
}
