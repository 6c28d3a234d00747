/*
 * fakeio.h - a fake world for the instances of tests/unit (vrrp_io.h): a
 * simulated clock, one interface eth0 (ifindex 2), a socket that records
 * the adverts sent and lets a test inject received ones, an address table
 * in memory and a count of announcements per VIP. Static: each test
 * program that includes it has its own.
 */
#ifndef VIPD_TEST_FAKEIO_H
#define VIPD_TEST_FAKEIO_H

#include <string.h>

#include "vipd/pkt.h"
#include "vipd/vport.h"
#include "vipd/vrrp_io.h"

#define MS       1000000ULL
#define T0       (1000 * 1000 * MS)
#define IFINDEX  2
#define MAX_ADDR 64

/* ---- the fake world ---- */

static struct {
	uint64_t now;
	struct iface ifc; /* eth0 as netlink would report it */
	bool have_src;
	union inaddr src;
	bool listening;            /* the last instance to ref the port (test_vrrp has one) */
	const void *listeners[32]; /* every instance listening */
	const struct vport_ops *ops;
	void *arg;

	/* addresses on interfaces */
	struct {
		int ifindex;
		struct vip vip;
	} addrs[MAX_ADDR];
	size_t naddrs;
	unsigned adds, dels;
	bool add_fails; /* the kernel refuses every address (EPERM, say) */

	/* adverts sent */
	unsigned sent;
	uint8_t last_prio;
	uint64_t last_sent_ns;
	uint8_t last_pkt[64]; /* the first bytes of the last advert sent */
	size_t last_len;

	/* use_vmac: the link's advert socket */
	unsigned xmit_sent; /* adverts sent through the link */
	bool xmit_fails;
	int hear_ifindex; /* the link heard on, or 0 */

	/* announcements, by the VIP's last byte */
	unsigned announced[256];
	unsigned announced_total;
	bool announce_fails;

	/* the event stream: announcements made before each transition event */
	unsigned announced_at_transition;
	char last_transition[256];
} w;

static uint64_t
fake_now(void)
{
	return w.now;
}

static struct vport *
fake_port_ref(struct loop *l, const char *ifname, int family, void *arg,
              const struct vport_ops *ops, const struct vip *vips, size_t nvips)
{
	(void)l, (void)ifname, (void)family, (void)vips, (void)nvips;
	w.ops = ops;
	w.arg = arg;
	return (struct vport *)&w; /* any non-NULL handle */
}

static void
fake_port_set_vips(struct vport *p, void *arg, const struct vip *vips, size_t nvips)
{
	(void)p, (void)arg, (void)vips, (void)nvips;
}

static int
fake_port_listen(struct vport *p, void *arg, int ifindex, uint8_t vrid, const union inaddr *peers,
                 size_t npeers, bool ttl_check)
{
	(void)p, (void)ifindex, (void)vrid, (void)peers, (void)npeers, (void)ttl_check;
	w.listening = true;
	for (size_t i = 0; i < 32; i++)
		if (!w.listeners[i] || w.listeners[i] == arg) {
			w.listeners[i] = arg;
			break;
		}
	return 0;
}

static void
fake_port_unlisten(struct vport *p, void *arg, uint8_t vrid)
{
	(void)p, (void)vrid;
	w.listening = false;
	for (size_t i = 0; i < 32; i++)
		if (w.listeners[i] == arg)
			w.listeners[i] = NULL;
}

static void
fake_port_unref(struct vport *p, void *arg)
{
	fake_port_unlisten(p, arg, 0);
}

static bool
fake_port_listening(const struct vport *p, const void *arg, uint8_t vrid)
{
	(void)p, (void)vrid;
	for (size_t i = 0; i < 32; i++)
		if (w.listeners[i] == arg)
			return true;
	return false;
}

static int
fake_port_send(struct vport *p, const union inaddr *src, const union inaddr *dst,
               const uint8_t *buf, size_t len)
{
	struct vrrp_adv adv;
	enum vrrp_drop why;

	(void)p;
	if (len >= 1 && buf[0] >> 4 == VRRP_VERSION2) {
		/* VRRPv2: the auth data is the test's to check (w.last_pkt). */
		assert_int_equal(pkt_checksum(buf, len, AF_INET, NULL, NULL, false), 0);
		adv.priority = buf[2];
	} else {
		assert_int_equal(pkt_decode(buf, len, AF_INET, src, dst, &adv, &why), 0);
	}
	w.last_len = len < sizeof(w.last_pkt) ? len : sizeof(w.last_pkt);
	memcpy(w.last_pkt, buf, w.last_len);
	w.sent++;
	w.last_prio = adv.priority;
	w.last_sent_ns = w.now;
	return 0;
}

static bool
fake_port_src(struct vport *p, int ifindex, union inaddr *out)
{
	(void)p;
	if (!w.have_src || ifindex != w.ifc.ifindex)
		return false;
	*out = w.src;
	return true;
}

static int
fake_iface_get(const char *name, struct iface *out)
{
	if (!w.ifc.present || strcmp(name, w.ifc.name) != 0)
		return -1;
	*out = w.ifc;
	return 0;
}

static int
fake_primary_addr(int ifindex, int family, union inaddr *out)
{
	(void)ifindex, (void)family, (void)out;
	return -1;
}

static long
addr_find(int ifindex, const struct vip *v)
{
	for (size_t i = 0; i < w.naddrs; i++)
		if (w.addrs[i].ifindex == ifindex && vip_equal(&w.addrs[i].vip, v))
			return (long)i;
	return -1;
}

static int
fake_addr_add(int ifindex, const struct vip *v)
{
	w.adds++;
	if (w.add_fails)
		return -1;
	if (addr_find(ifindex, v) < 0) {
		assert_true(w.naddrs < MAX_ADDR);
		w.addrs[w.naddrs].ifindex = ifindex;
		w.addrs[w.naddrs++].vip = *v;
	}
	return 0;
}

static int
fake_addr_del(int ifindex, const struct vip *v)
{
	long i = addr_find(ifindex, v);

	w.dels++;
	if (i < 0)
		return -1;
	w.addrs[i] = w.addrs[--w.naddrs];
	return 0;
}

static int
fake_addr_present(int ifindex, const struct vip *v)
{
	return addr_find(ifindex, v) >= 0;
}

static int
fake_announce(const struct iface *ifc, const struct vip *vip)
{
	/* The interface, or a virtual MAC link (fake_vmac_add's ifindexes). */
	assert_true(ifc->ifindex == w.ifc.ifindex || ifc->ifindex > 1000);
	if (w.announce_fails)
		return -1;
	w.announced[((const uint8_t *)&vip->addr.v4)[3]]++;
	w.announced_total++;
	return 0;
}

static int
fake_vmac_add(int parent, const char *name, const uint8_t mac[6])
{
	(void)parent, (void)name;
	return 1000 + mac[5]; /* an ifindex of its own */
}

static int
fake_vmac_del(const char *name, int parent, const uint8_t mac[6])
{
	(void)name, (void)parent, (void)mac;
	return 0;
}

static int
fake_port_hear_link(struct vport *p, void *arg, int parent, int link, uint8_t vrid)
{
	(void)p, (void)arg, (void)vrid;
	assert_int_equal(parent, w.ifc.ifindex);
	w.hear_ifindex = link;
	return 0;
}

static void
fake_port_unhear_link(struct vport *p, void *arg)
{
	(void)p, (void)arg;
	w.hear_ifindex = 0;
}

static int
fake_port_send_link(struct vport *p, int ifindex, const union inaddr *src,
                    const union inaddr *dst, const uint8_t *buf, size_t len)
{
	assert_int_equal(ifindex, w.hear_ifindex);
	if (w.xmit_fails)
		return -1;
	w.xmit_sent++;
	return fake_port_send(p, src, dst, buf, len);
}

static const struct vrrp_io fake_io = {
    .now = fake_now,
    .port_ref = fake_port_ref,
    .port_unref = fake_port_unref,
    .port_set_vips = fake_port_set_vips,
    .port_listen = fake_port_listen,
    .port_unlisten = fake_port_unlisten,
    .port_listening = fake_port_listening,
    .port_send = fake_port_send,
    .port_src = fake_port_src,
    .port_hear_link = fake_port_hear_link,
    .port_unhear_link = fake_port_unhear_link,
    .port_send_link = fake_port_send_link,
    .iface_get = fake_iface_get,
    .primary_addr = fake_primary_addr,
    .addr_add = fake_addr_add,
    .addr_del = fake_addr_del,
    .addr_present = fake_addr_present,
    .announce = fake_announce,
    .vmac_add = fake_vmac_add,
    .vmac_del = fake_vmac_del,
};

static inline union inaddr
ip(const char *s)
{
	union inaddr a;
	int fam;

	assert_int_equal(addr_pton(s, &fam, &a), 0);
	return a;
}

static inline struct vip
vip4(const char *s)
{
	struct vip v = {.family = AF_INET, .prefixlen = 32};

	v.addr = ip(s);
	return v;
}

static inline void
world_reset(void)
{
	memset(&w, 0, sizeof(w));
	w.now = T0;
	w.ifc =
	    (struct iface){.ifindex = IFINDEX, .present = true, .admin_up = true, .running = true};
	strcpy(w.ifc.name, "eth0");
	w.have_src = true;
	w.src = ip("192.0.2.2");
}

static inline bool
has_vip(const char *a)
{
	struct vip v = vip4(a);

	return addr_find(IFINDEX, &v) >= 0;
}

#endif
