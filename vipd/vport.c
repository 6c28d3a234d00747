/*
 * vport.c - the shared VRRP socket of one (interface, family), its VRID
 * table and its source address.
 */
#include "vport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "demux.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "../netlink/netlink.h"

/* Packets read per wake-up, so one busy interface cannot starve the loop. */
#define RX_BUDGET 64
/*
 * Receive coalescing. A socket that had adverts again within this long
 * of the previous wake-up is not watched for this long: what arrives
 * meanwhile is read in one go. Hundreds of Masters advertising together
 * (they align their schedules, fsm.h) then cost their Backups a few
 * wake-ups per interval instead of one per advert. One instance's adverts
 * are never this close together, so it is never delayed.
 */
#define RX_HOLDOFF_NS (1 * NS_PER_MS)
/* The socket's receive buffer: a burst of 255 adverts must fit. */
#define RX_RCVBUF (1 << 20)

struct member {
	void *arg;
	const struct vport_ops *ops;
	const struct vip *vips;
	size_t nvips;
	int link;      /* use_vmac: its link's ifindex (vport_hear_link), or 0 */
	uint8_t vrid;  /* and the VRID it hears there */
};

struct vport {
	char ifname[IF_NAMESIZE];
	int family;
	struct loop *loop;

	struct member *members;
	size_t nmembers, capmembers;

	/* Every member's VIPs: never a source address. */
	struct vip *excl;
	size_t nexcl;
	bool excl_dirty;

	/* The source address, as computed for src_ifindex (0: not computed). */
	int src_ifindex;
	bool have_src;
	union inaddr src;

	int fd; /* -1 while nobody listens */
	int fd_ifindex;
	uint64_t last_rx_ns;   /* the last wake-up that read adverts */
	struct timer *holdoff; /* while armed, the socket is not watched */
	uint64_t rx_wakeups;   /* wake-ups that read adverts, for status */
	size_t nmcast;         /* multicast listeners: the group is joined while > 0 */
	size_t nlinks;         /* members hearing on a virtual MAC link */
	int xfd;               /* sends through those links (vport_send_link), or -1 */
	int lfd;               /* their frames, read on the interface (link_readable), or -1 */
	int lfd_ifindex;
	bool hears[256];       /* VRIDs whose listener has a link */
	struct demux dm;

	struct vport *next;
};

static struct vport *ports;

static void rx_coalesce(struct vport *p);
static void holdoff_done(struct loop *l, struct timer *t, void *arg);

static struct member *
member_find(struct vport *p, const void *arg)
{
	for (size_t i = 0; i < p->nmembers; i++)
		if (p->members[i].arg == arg)
			return &p->members[i];
	return NULL;
}

/* --- the source address ------------------------------------------------- */

static void
excl_rebuild(struct vport *p)
{
	size_t n = 0, k = 0;
	struct vip *e;

	for (size_t i = 0; i < p->nmembers; i++)
		n += p->members[i].nvips;
	e = xcalloc(n, sizeof(*e));
	for (size_t i = 0; i < p->nmembers; i++)
		for (size_t j = 0; j < p->members[i].nvips; j++)
			e[k++] = p->members[i].vips[j];
	free(p->excl);
	p->excl = e;
	p->nexcl = n;
	p->excl_dirty = false;
}

/* Recompute the source for ifindex; true if it changed. */
static bool
src_compute(struct vport *p, int ifindex)
{
	union inaddr a;
	bool have;

	if (p->excl_dirty)
		excl_rebuild(p);
	have = ifindex > 0 && iface_primary_addr(ifindex, p->family, p->excl, p->nexcl, &a) == 0;
	bool changed = p->src_ifindex != ifindex || have != p->have_src ||
	               (have && addr_cmp(p->family, &a, &p->src) != 0);
	p->src_ifindex = ifindex;
	p->have_src = have;
	if (have)
		p->src = a;
	return changed;
}

/* Recompute, and tell every member if the source changed. */
static void
src_refresh(struct vport *p)
{
	if (p->src_ifindex == 0 || !src_compute(p, p->src_ifindex))
		return;
	for (size_t i = 0; i < p->nmembers; i++) {
		struct member *m = &p->members[i];

		m->ops->src_changed(m->arg);
	}
}

bool
vport_src(struct vport *p, int ifindex, union inaddr *out)
{
	if (!p || ifindex <= 0)
		return false;
	if (p->src_ifindex != ifindex || p->excl_dirty)
		src_compute(p, ifindex);
	if (p->have_src)
		*out = p->src;
	return p->have_src;
}

/* --- membership ----------------------------------------------------------- */

static struct vport *
port_find(const char *ifname, int family)
{
	for (struct vport *p = ports; p; p = p->next)
		if (p->family == family && strcmp(p->ifname, ifname) == 0)
			return p;
	return NULL;
}

static struct vport *
port_new(struct loop *l, const char *ifname, int family)
{
	struct vport *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->family = family;
	p->loop = l;
	p->fd = -1;
	p->xfd = -1;
	p->lfd = -1;
	p->holdoff = timer_new(l, holdoff_done, p);
	demux_init(&p->dm, family);
	p->next = ports;
	ports = p;
	return p;
}

static void
port_free(struct vport *p)
{
	for (struct vport **pp = &ports; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->fd >= 0) {
		loop_del_fd(p->loop, p->fd);
		close(p->fd);
	}
	if (p->xfd >= 0)
		close(p->xfd);
	if (p->lfd >= 0) {
		loop_del_fd(p->loop, p->lfd);
		close(p->lfd);
	}
	timer_free(p->holdoff);
	free(p->members);
	free(p->excl);
	free(p);
}

struct vport *
vport_ref(struct loop *l, const char *ifname, int family, void *arg, const struct vport_ops *ops,
          const struct vip *vips, size_t nvips)
{
	struct vport *p = port_find(ifname, family);
	bool created = false;

	if (!p) {
		if (!(p = port_new(l, ifname, family)))
			return NULL;
		created = true;
	}
	if (p->nmembers == p->capmembers) {
		size_t cap = p->capmembers ? p->capmembers * 2 : 4;
		struct member *m = realloc(p->members, cap * sizeof(*m));

		if (!m) {
			if (created)
				port_free(p);
			return NULL;
		}
		p->members = m;
		p->capmembers = cap;
	}
	p->members[p->nmembers++] = (struct member){arg, ops, vips, nvips, 0, 0};
	p->excl_dirty = true;
	return p;
}

void
vport_unref(struct vport *p, void *arg)
{
	struct member *m;

	if (!p || !(m = member_find(p, arg)))
		return;
	for (unsigned vrid = 0; vrid < 256; vrid++)
		if (demux_get(&p->dm, (uint8_t)vrid) == arg)
			vport_unlisten(p, arg, (uint8_t)vrid);
	vport_unhear_link(p, arg);
	*m = p->members[--p->nmembers];
	p->excl_dirty = true;
	if (p->nmembers == 0)
		port_free(p);
}

void
vport_set_vips(struct vport *p, void *arg, const struct vip *vips, size_t nvips)
{
	struct member *m = member_find(p, arg);

	if (!m)
		return;
	m->vips = vips;
	m->nvips = nvips;
	p->excl_dirty = true;
	src_refresh(p);
}

/* --- the socket ------------------------------------------------------------- */

static void
port_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct vport *p = arg;
	uint8_t buf[VRRP_PKT_MAX + 128] __attribute__((aligned(8))); /* IP headers are read in place */
	struct vsock_rx rx;

	(void)l;
	(void)events;
	int n = 0;

	for (; n < RX_BUDGET && p->fd == fd; n++) {
		enum vrrp_drop why;
		int rc = vsock_recv(fd, p->family, buf, sizeof(buf), &rx);
		const struct demux_ent *e;

		if (rc <= 0) {
			if (rc < 0 && errno != EAGAIN && errno != EINTR)
				log_debug("vport %s: receive: %s", p->ifname, strerror(errno));
			break;
		}
		if (!(e = demux_route(&p->dm, &rx, &why)))
			continue;
		((const struct vport_ops *)e->ctx)->rx(e->arg, &rx, why);
	}
	if (n > 0 && p->fd == fd)
		rx_coalesce(p);
}

/* Busy: stop watching the socket for RX_HOLDOFF_NS (see above). */
static void
rx_coalesce(struct vport *p)
{
	uint64_t now = mono_now_ns();
	bool busy = p->last_rx_ns && now - p->last_rx_ns < RX_HOLDOFF_NS;

	p->last_rx_ns = now;
	p->rx_wakeups++;
	if (!busy)
		return;
	if (p->fd >= 0)
		loop_mod_fd(p->loop, p->fd, 0);
	if (p->lfd >= 0)
		loop_mod_fd(p->loop, p->lfd, 0);
	timer_arm_in(p->holdoff, RX_HOLDOFF_NS);
}

static void
holdoff_done(struct loop *l, struct timer *t, void *arg)
{
	struct vport *p = arg;

	(void)t;
	/* Level-triggered: what arrived meanwhile wakes us at once. */
	if ((p->fd >= 0 && loop_mod_fd(l, p->fd, EPOLLIN) < 0) ||
	    (p->lfd >= 0 && loop_mod_fd(l, p->lfd, EPOLLIN) < 0))
		log_warn("vport %s: cannot watch the socket again", p->ifname);
}

static void
sock_close(struct vport *p)
{
	if (p->fd < 0)
		return;
	loop_del_fd(p->loop, p->fd);
	close(p->fd);
	p->fd = -1;
	p->fd_ifindex = 0;
	p->last_rx_ns = 0;
	timer_disarm(p->holdoff);
}

/*
 * Watch a receiving socket, with a buffer a burst of adverts fits in: as
 * root past net.core.rmem_max, otherwise as much as allowed. 0 or -1.
 */
static int
sock_watch(struct vport *p, int fd, loop_io_fn readable)
{
	int size = RX_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return loop_add_fd(p->loop, fd, EPOLLIN, readable, p);
}

/* Open the socket on ifindex (joined to the group if a listener is multicast). */
static int
sock_open(struct vport *p, int ifindex)
{
	int fd = vsock_open(p->family, ifindex, p->ifname, false);

	if (fd < 0)
		return -1;
	if ((p->nmcast > 0 && vsock_group(fd, p->family, ifindex, true) < 0) ||
	    sock_watch(p, fd, port_readable) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	p->fd = fd;
	p->fd_ifindex = ifindex;
	return 0;
}

int
vport_listen(struct vport *p, void *arg, int ifindex, uint8_t vrid, const union inaddr *peers,
             size_t npeers, bool ttl_check)
{
	struct demux_ent e = {.arg = arg, .peers = peers, .npeers = npeers, .ttl_check = ttl_check};
	struct member *m;
	bool was, was_mcast, mcast = npeers == 0;

	if (!p || !(m = member_find(p, arg))) {
		errno = ENODEV;
		return -1;
	}
	e.ctx = m->ops;
	was = demux_get(&p->dm, vrid) == arg;
	was_mcast = was && p->dm.ent[vrid].npeers == 0;

	if (!was && demux_get(&p->dm, vrid)) {
		errno = EEXIST;
		return -1;
	}
	/* The interface came back with another index: follow it. */
	if (p->fd >= 0 && p->fd_ifindex != ifindex)
		sock_close(p);
	if (p->fd < 0 && sock_open(p, ifindex) < 0)
		return -1;
	if (mcast && !was_mcast && p->nmcast++ == 0 &&
	    vsock_group(p->fd, p->family, ifindex, true) < 0) {
		p->nmcast--;
		return -1;
	}
	if (!mcast && was_mcast && --p->nmcast == 0)
		vsock_group(p->fd, p->family, ifindex, false);
	demux_add(&p->dm, vrid, &e);
	return 0;
}

void
vport_unlisten(struct vport *p, void *arg, uint8_t vrid)
{
	if (!p || demux_get(&p->dm, vrid) != arg)
		return;
	if (p->dm.ent[vrid].npeers == 0 && --p->nmcast == 0 && p->fd >= 0)
		vsock_group(p->fd, p->family, p->fd_ifindex, false);
	demux_del(&p->dm, vrid, arg);
	if (p->dm.n == 0)
		sock_close(p);
}

static void
link_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct vport *p = arg;
	uint8_t buf[VRRP_PKT_MAX + 128] __attribute__((aligned(8)));
	struct vsock_rx rx;
	int n = 0;

	(void)l;
	(void)events;
	for (; n < RX_BUDGET && p->lfd == fd; n++) {
		enum vrrp_drop why;
		const struct demux_ent *e;
		int rc = vsock_recv_frame(fd, p->family, buf, sizeof(buf), &rx);

		if (rc <= 0) {
			if (rc < 0 && errno != EAGAIN && errno != EINTR)
				log_debug("vport %s: receive frames: %s", p->ifname, strerror(errno));
			break;
		}
		/*
		 * Only a VRID whose listener has its link: the kernel hands the
		 * others' frames to the interface, and its socket reads them.
		 */
		if (rx.len > VRID_OFF && p->hears[rx.payload[VRID_OFF]] &&
		    (e = demux_route(&p->dm, &rx, &why)))
			((const struct vport_ops *)e->ctx)->rx(e->arg, &rx, why);
	}
	if (n > 0 && p->lfd == fd)
		rx_coalesce(p);
}

static void
frames_close(struct vport *p)
{
	if (p->lfd >= 0) {
		loop_del_fd(p->loop, p->lfd);
		close(p->lfd);
	}
	if (p->xfd >= 0)
		close(p->xfd);
	p->lfd = p->xfd = -1;
	p->lfd_ifindex = 0;
}

int
vport_hear_link(struct vport *p, void *arg, int parent, int link, uint8_t vrid)
{
	struct member *m;

	if (!p || !(m = member_find(p, arg))) {
		errno = ENODEV;
		return -1;
	}
	vport_unhear_link(p, arg);
	/* The interface came back with another index: follow it. */
	if (p->lfd >= 0 && p->lfd_ifindex != parent)
		frames_close(p);
	if (p->lfd < 0) {
		int fd = vsock_open_frames(p->family, parent);

		if (fd < 0)
			return -1;
		if (sock_watch(p, fd, link_readable) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		p->lfd = fd;
		p->lfd_ifindex = parent;
	}
	m->link = link;
	m->vrid = vrid;
	p->hears[vrid] = true;
	p->nlinks++;
	return 0;
}

void
vport_unhear_link(struct vport *p, void *arg)
{
	struct member *m;

	if (!p || !(m = member_find(p, arg)) || !m->link)
		return;
	p->hears[m->vrid] = false;
	m->link = 0;
	if (--p->nlinks == 0)
		frames_close(p);
}

bool
vport_listening(const struct vport *p, const void *arg, uint8_t vrid)
{
	return p && demux_get(&p->dm, vrid) == arg && p->fd >= 0;
}

int
vport_send(struct vport *p, const union inaddr *src, const union inaddr *dst, const uint8_t *buf,
           size_t len)
{
	if (!p || p->fd < 0) {
		errno = EBADF;
		return -1;
	}
	return vsock_send(p->fd, p->family, p->fd_ifindex, src, dst, buf, len);
}

int
vport_send_link(struct vport *p, int ifindex, const union inaddr *src, const union inaddr *dst,
                const uint8_t *buf, size_t len)
{
	if (!p || p->nlinks == 0) {
		errno = EBADF;
		return -1;
	}
	if (p->xfd < 0 && (p->xfd = vsock_open_link_xmit()) < 0)
		return -1;
	return vsock_send_frame(p->xfd, p->family, ifindex, src, dst, buf, len);
}

/* --- netlink events --------------------------------------------------------- */

void
vport_link_event(const struct iface *ifc)
{
	for (struct vport *p = ports; p; p = p->next) {
		if (p->src_ifindex != ifc->ifindex && strcmp(p->ifname, ifc->name) != 0)
			continue;
		/* Renamed, deleted or re-created: computed anew when next asked. */
		if (!ifc->present || p->src_ifindex != ifc->ifindex ||
		    strcmp(p->ifname, ifc->name) != 0)
			p->src_ifindex = 0;
		else
			src_refresh(p);
	}
}

/* The member whose VIP a is, or NULL. */
static struct member *
vip_owner(struct vport *p, const union inaddr *a)
{
	for (size_t i = 0; i < p->nmembers; i++) {
		struct member *m = &p->members[i];

		for (size_t j = 0; j < m->nvips; j++)
			if (m->vips[j].family == p->family &&
			    addr_cmp(p->family, &m->vips[j].addr, a) == 0)
				return m;
	}
	return NULL;
}

void
vport_addr_event(int ifindex, int family, const union inaddr *a, bool added)
{
	for (struct vport *p = ports; p; p = p->next) {
		struct member *m;

		if (p->family != family || ifindex <= 0)
			continue;
		if (p->src_ifindex != ifindex) {
			/* A member's virtual MAC link, where its VIPs live. */
			if (!added && p->nlinks > 0 && (m = vip_owner(p, a)) && m->link == ifindex)
				m->ops->vip_gone(m->arg, a);
			continue;
		}
		src_refresh(p);
		if (!added && (m = vip_owner(p, a)))
			m->ops->vip_gone(m->arg, a);
	}
}

/* --- status ----------------------------------------------------------------- */

void
vport_status_json(struct buf *b)
{
	struct json j;

	json_init(&j, b);
	json_arr_begin(&j);
	for (const struct vport *p = ports; p; p = p->next) {
		json_obj_begin(&j);
		json_key_str(&j, "interface", p->ifname);
		json_key_str(&j, "family", p->family == AF_INET ? "ipv4" : "ipv6");
		json_key_uint(&j, "instances", p->nmembers);
		json_key_uint(&j, "listening", p->dm.n);
		json_key(&j, "dropped");
		json_obj_begin(&j);
		for (int i = 0; i < DROP_MAX; i++)
			json_key_uint(&j, vrrp_drop_names[i], p->dm.dropped[i]);
		json_obj_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
}

void
vport_status_text(struct buf *b)
{
	for (const struct vport *p = ports; p; p = p->next) {
		bool any = false;

		buf_printf(b,
		           "interface %s (%s): %zu instance(s), %zu listening; dropped:", p->ifname,
		           p->family == AF_INET ? "ipv4" : "ipv6", p->nmembers, p->dm.n);
		for (int i = 0; i < DROP_MAX; i++) {
			if (!p->dm.dropped[i])
				continue;
			buf_printf(b, "%s %s %llu", any ? "," : "", vrrp_drop_names[i],
			           (unsigned long long)p->dm.dropped[i]);
			any = true;
		}
		buf_puts(b, any ? "\n" : " none\n");
	}
}
