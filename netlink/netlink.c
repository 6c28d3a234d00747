/*
 * netlink.c - the two NETLINK_ROUTE sockets: one for requests (lookups,
 * address changes; each waits for the kernel's answer) and one monitor
 * socket in the event loop, subscribed to link and address changes.
 *
 * libnl parses every monitor message into an rtnl_link / rtnl_addr object,
 * which cache.c applies to the in-memory link and address caches before
 * calling the netlink_events callbacks. An overrun (ENOBUFS) is followed by
 * a resynchronisation: fresh dumps replace the caches and the differences
 * are replayed as events.
 */
#include "nlpriv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/route/rtnl.h>
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
/*
 * And at most this long: an event costs a search of the address cache
 * and whatever the instances do with it, so 255 VIPs deleted at once would
 * otherwise hold the loop for several milliseconds.
 */
#define MON_BUDGET_NS (1 * NS_PER_MS)

/* Discarded reads after an overrun, at most (a bound, should events never stop). */
#define MON_DRAIN_MAX 100000

/*
 * A dump that changes under the kernel's feet comes back marked
 * interrupted (NLM_F_DUMP_INTR). libnl's own refill would dump again at
 * once, as often as it takes, inside one loop pass: under a flood of
 * address changes that held the loop for seconds. vipd dumps once per
 * attempt and tries again from a timer, backing off.
 */
#define RESYNC_RETRY_MIN_NS (10 * NS_PER_MS)
#define RESYNC_RETRY_MAX_NS (500 * NS_PER_MS)
/* Bytes per receive for dumps: fewer parts, a shorter window to be interrupted. */
#define DUMP_BUFSIZE (32 * 1024)

static struct nl_sock *req_sk;
static struct netlink_stats stats;
static struct nl_sock *mon_sk;
static struct netlink_events mon_ev;
static struct timer *resync_timer; /* armed while a resync is owed */
static uint64_t lost_logged;       /* log_ratelimit() of the overrun warning */
static uint64_t resync_backoff_ns;

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
	nl_socket_set_msg_buf_size(sk, DUMP_BUFSIZE);
	return sk;
}

struct nl_sock *
netlink_req_sock(void)
{
	if (!req_sk)
		req_sk = sock_new();
	return req_sk;
}

/* nl_msg_parse() callback: the object parsed from one monitor message. */
static void
mon_object(struct nl_object *obj, void *arg)
{
	stats.events++;
	nlcache_event(obj, *(const int *)arg, mono_now_ns(), &mon_ev);
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
 * Read and throw away what is queued on the monitor socket. After an
 * overrun the queue holds events older than the ones dropped: applied
 * after the dump that follows, they would bring back a state the dump
 * has already replaced (an address added, then deleted in a lost event).
 */
static void
mon_drain(void)
{
	int fd = nl_socket_get_fd(mon_sk);
	char buf[256];

	for (int i = 0; i < MON_DRAIN_MAX; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) < 0 && errno != ENOBUFS &&
		    errno != EINTR)
			return; /* EAGAIN: empty */
}

/*
 * One dump of a libnl cache type ("route/link", "route/addr") into a new
 * cache, never repeated here: -NLE_DUMP_INTR if it changed meanwhile.
 */
static int
dump_once(struct nl_sock *sk, const char *type, int msgtype, struct nl_cache **out)
{
	struct nl_cache *c;
	int err;

	*out = NULL;
	if ((err = nl_cache_alloc_name(type, &c)) < 0)
		return err;
	if ((err = nl_rtgen_request(sk, msgtype, AF_UNSPEC, NLM_F_DUMP)) < 0 ||
	    (err = nl_cache_pickup(sk, c)) < 0) {
		nl_cache_free(c);
		return err;
	}
	*out = c;
	return 0;
}

/* Both dumps, or neither (the error of the first that failed). */
static int
dump_both(struct nl_sock *sk, struct nl_cache **links, struct nl_cache **addrs)
{
	int err;

	if ((err = dump_once(sk, "route/link", RTM_GETLINK, links)) < 0)
		return err;
	if ((err = dump_once(sk, "route/addr", RTM_GETADDR, addrs)) < 0) {
		nl_cache_free(*links);
		*links = NULL;
	}
	return err;
}

/*
 * Where nothing else waits (start-up, a lookup before the caches exist),
 * a few attempts at once; a flood of changes that outlasts them is an
 * error, not a loop without end as libnl's own refill would make it.
 */
#define DUMP_TRIES 10

int
netlink_addr_dump(struct nl_cache **out)
{
	struct nl_sock *sk = netlink_req_sock();
	int err = -NLE_NOMEM, tries = 0;

	if (sk)
		while ((err = dump_once(sk, "route/addr", RTM_GETADDR, out)) == -NLE_DUMP_INTR &&
		       ++tries < DUMP_TRIES)
			;
	if (err < 0) {
		log_warnx("netlink: address dump: %s", nl_geterror(err));
		return -1;
	}
	return 0;
}

/*
 * The kernel dropped events: dump links and addresses again and replace
 * the caches, replaying every difference as an event (cache.c). Returns 0,
 * or -1 if a dump failed or was interrupted: the resync timer tries again.
 */
static int
mon_resync(void)
{
	struct nl_sock *sk = netlink_req_sock();
	struct nl_cache *links, *addrs;
	static uint64_t warned;
	int err;

	mon_drain();
	if (!sk)
		err = -NLE_NOMEM;
	else if ((err = dump_both(sk, &links, &addrs)) == 0) {
		stats.resyncs++;
		resync_backoff_ns = 0;
		timer_disarm(resync_timer);
		return nlcache_replace(links, addrs, &mon_ev);
	}
	stats.resync_retries++;
	resync_backoff_ns = resync_backoff_ns ? 2 * resync_backoff_ns : RESYNC_RETRY_MIN_NS;
	if (resync_backoff_ns > RESYNC_RETRY_MAX_NS)
		resync_backoff_ns = RESYNC_RETRY_MAX_NS;
	if (log_ratelimit(&warned, mono_now_ns()))
		log_warnx("netlink: dump for a resynchronisation: %s; trying again in %llu ms",
		          err == -NLE_DUMP_INTR ? "interrupted by changes" : nl_geterror(err),
		          (unsigned long long)(resync_backoff_ns / NS_PER_MS));
	timer_arm_in(resync_timer, resync_backoff_ns);
	return -1;
}

static void
resync_due(struct loop *l, struct timer *t, void *arg)
{
	(void)l, (void)t, (void)arg;
	mon_resync();
}

static void
mon_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	int i, err;

	(void)l, (void)fd, (void)events, (void)arg;
	if (timer_armed(resync_timer)) {
		/* The caches are stale until the resync: its dump covers these. */
		mon_drain();
		return;
	}
	uint64_t until = mono_now_ns() + MON_BUDGET_NS;

	for (i = 0; i < MON_READS && mono_now_ns() < until; i++) {
		err = nl_recvmsgs_default(mon_sk);
		if (err == 0)
			continue; /* a batch parsed; there may be more */
		if (err == -NLE_AGAIN)
			return;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: libnl maps it to NLE_NOMEM. */
			stats.overruns++;
			/* A flood overruns again and again: say it once a minute. */
			if (log_ratelimit(&lost_logged, mono_now_ns()))
				log_warnx("netlink: events lost (receive buffer overrun), "
				          "resynchronising (%llu time(s) so far; logged once a minute)",
				          (unsigned long long)stats.overruns);
			if (mon_resync() < 0)
				return;
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
	const char *knob;

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
	/*
	 * Test only, not documented for users: VIPD_TEST_NL_RCVBUF=BYTES
	 * makes the receive buffer tiny so that the network tests can force
	 * an overrun (tests/net/test_netlink_resync.py).
	 */
	if ((knob = getenv("VIPD_TEST_NL_RCVBUF")) && atoi(knob) > 0)
		size = atoi(knob);
	/* As root, past net.core.rmem_max; otherwise as much as allowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		nl_socket_set_buffer_size(mon_sk, size, 0);
	return fd;
}

/*
 * One dump of links and one of addresses fill the caches. The monitor
 * socket is subscribed first, so a change racing the dump is also in the
 * queue and applied after it.
 */
static int
cache_fill(void)
{
	struct nl_cache *links, *addrs;
	int err, tries = 0;

	while ((err = dump_both(req_sk, &links, &addrs)) == -NLE_DUMP_INTR && ++tries < DUMP_TRIES)
		;
	if (err < 0) {
		log_warnx("netlink: dump: %s", nl_geterror(err));
		return -1;
	}
	nlcache_set(links, addrs);
	return 0;
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
	if (!netlink_req_sock() || (fd = mon_open()) < 0 || cache_fill() < 0)
		goto fail;
	resync_timer = timer_new(l, resync_due, NULL);
	resync_backoff_ns = 0;
	if (loop_add_fd(l, fd, EPOLLIN, mon_readable, NULL) < 0) {
		log_warn("netlink: cannot watch the monitor socket");
		goto fail;
	}
	return 0;
fail:
	timer_free(resync_timer);
	resync_timer = NULL;
	nlcache_free();
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
	nlcache_free();
	memset(&mon_ev, 0, sizeof(mon_ev));
	if (l) /* without it, the loop is gone and freed its timers */
		timer_free(resync_timer);
	resync_timer = NULL;
}

void
netlink_get_stats(struct netlink_stats *out)
{
	*out = stats;
	out->addresses = nlcache_naddrs();
}
