/*
 * vrrp_io.h - the edges of an instance: clock, socket, addresses,
 * announcements.
 *
 * vrrp.c reaches the outside world only through one of these, so the
 * instance can be driven in tests/unit/test_vrrp.c by a fake one: a
 * simulated clock, a socket that records what was sent, an interface
 * table in memory. vrrp_io_real wires them to mono_now_ns(), the
 * interface ports (vport.h), netlink (netlink.h) and arp.c / ndisc.c.
 */
#ifndef VIPD_VRRP_IO_H
#define VIPD_VRRP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "../netlink/netlink.h"

struct loop;
struct vport;
struct vport_ops;

struct vrrp_io {
	/* The monotonic clock, ns. */
	uint64_t (*now)(void);

	/* The interface's shared socket, as in vport.h. */
	struct vport *(*port_ref)(struct loop *l, const char *ifname, int family, void *arg,
	                          const struct vport_ops *ops, const struct vip *vips,
	                          size_t nvips);
	void (*port_unref)(struct vport *p, void *arg);
	void (*port_set_vips)(struct vport *p, void *arg, const struct vip *vips, size_t nvips);
	int (*port_listen)(struct vport *p, void *arg, int ifindex, uint8_t vrid,
	                   const union inaddr *peers, size_t npeers, bool ttl_check);
	void (*port_unlisten)(struct vport *p, void *arg, uint8_t vrid);
	bool (*port_listening)(const struct vport *p, const void *arg, uint8_t vrid);
	int (*port_send)(struct vport *p, const union inaddr *src, const union inaddr *dst,
	                 const uint8_t *buf, size_t len);
	bool (*port_src)(struct vport *p, int ifindex, union inaddr *out);
	int (*port_hear_link)(struct vport *p, void *arg, int parent, int link, uint8_t vrid);
	void (*port_unhear_link)(struct vport *p, void *arg);
	int (*port_send_link)(struct vport *p, int ifindex, const union inaddr *src,
	                      const union inaddr *dst, const uint8_t *buf, size_t len);

	/* Interfaces and addresses, as in netlink.h. */
	int (*iface_get)(const char *name, struct iface *out);
	int (*primary_addr)(int ifindex, int family, union inaddr *out);
	int (*addr_add)(int ifindex, const struct vip *v);
	int (*addr_del)(int ifindex, const struct vip *v);
	int (*addr_present)(int ifindex, const struct vip *v);

	/* One gratuitous ARP / unsolicited NA for vip on ifc. 0 or -1. */
	int (*announce)(const struct iface *ifc, const struct vip *vip);

	/* Virtual MAC links (use_vmac), as netlink.h's vmac_add / vmac_del. */
	int (*vmac_add)(int parent, const char *name, const uint8_t mac[6]);
	int (*vmac_del)(const char *name, int parent, const uint8_t mac[6]);
};

extern const struct vrrp_io vrrp_io_real;

/* The edges vrrp_new() gives new instances (tests set a fake; NULL restores the real one). */
void vrrp_io_set(const struct vrrp_io *io);
const struct vrrp_io *vrrp_io_get(void);

#endif
