/*
 * vport.h - one VRRP "port" per (interface, family): the raw socket every
 * instance on that interface shares, the VRID table that hands each
 * received advert to its one instance (demux.h), and the interface's
 * advert source address, computed once for all of them.
 *
 * Why shared: with a socket per instance, every advert on the wire is read,
 * decoded and dropped by every instance on the interface, so receive work
 * grows as N². Here an advert costs one read and one table lookup, and an
 * address event on the link costs one source computation, whatever N is.
 *
 * An instance is a member of its port from creation to removal (its VIPs
 * are never taken as anyone's source address, and it hears about source
 * changes and deletions of its VIPs), and a listener while it wants
 * adverts (its socket "open" in vrrp.c's terms). The socket is opened by
 * the first listener and closed with the last.
 */
#ifndef VIPD_VPORT_H
#define VIPD_VPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "pkt.h"
#include "vsock.h"

struct loop;
struct iface;
struct vport;

/* What a port tells its members. Each is called with the member's arg. */
struct vport_ops {
	/* An advert for the member's VRID; why = DROP_MAX, or why it must drop it. */
	void (*rx)(void *arg, const struct vsock_rx *rx, enum vrrp_drop why);
	/* The port's source address changed (or appeared, or went away). */
	void (*src_changed)(void *arg);
	/* One of the member's VIPs was deleted from the interface. */
	void (*vip_gone)(void *arg, const union inaddr *a);
};

/*
 * Join the port of (ifname, family) as a member, creating it if needed.
 * `vips` stay owned by the member (vport_set_vips() after they change).
 * NULL on allocation failure.
 */
struct vport *vport_ref(struct loop *l, const char *ifname, int family, void *arg,
                        const struct vport_ops *ops, const struct vip *vips, size_t nvips);
/* Leave (and stop listening); the last member frees the port. NULL is a no-op. */
void vport_unref(struct vport *p, void *arg);
/*
 * The member's VIP list changed (a reload): the source is recomputed and
 * members are told if it changed.
 */
void vport_set_vips(struct vport *p, void *arg, const struct vip *vips, size_t nvips);

/*
 * Receive the adverts of vrid (the socket is opened on ifindex if it is
 * not yet, and joined to the VRRP group when peers is empty), or update
 * the peers of a listener; ttl_check: require TTL 255 from unicast peers
 * too (demux.h). 0, or -1 with errno (EEXIST: another member listens on
 * vrid; what socket() or setsockopt() failed with).
 */
int vport_listen(struct vport *p, void *arg, int ifindex, uint8_t vrid, const union inaddr *peers,
                 size_t npeers, bool ttl_check);
void vport_unlisten(struct vport *p, void *arg, uint8_t vrid);
bool vport_listening(const struct vport *p, const void *arg, uint8_t vrid);

/*
 * use_vmac: also hear vrid's adverts sent from its virtual MAC, which the
 * kernel hands to the member's link (ifindex link) only: one packet
 * socket per port reads them on the interface (parent) before that
 * (vsock.h's vsock_open_frames), and they go through the VRID table as
 * the socket's do. A VIP deleted from the link is the member's vip_gone.
 * 0, or -1 with errno. vport_unhear_link() stops (also vport_unref()).
 */
int vport_hear_link(struct vport *p, void *arg, int parent, int link, uint8_t vrid);
void vport_unhear_link(struct vport *p, void *arg);
/*
 * Send one multicast VRRP message through a member's virtual MAC link
 * (ifindex), with its MAC, from src (vsock_send_frame): one send-only
 * socket per port serves all its links, open while one member hears on
 * a link. 0 or -1.
 */
int vport_send_link(struct vport *p, int ifindex, const union inaddr *src, const union inaddr *dst,
                    const uint8_t *buf, size_t len);

/* Send one VRRP message (sock.h's vsock_send on the shared socket). 0 or -1. */
int vport_send(struct vport *p, const union inaddr *src, const union inaddr *dst,
               const uint8_t *buf, size_t len);

/*
 * The interface's advert source address for its members: the first
 * address that is no member's VIP (iface_primary_addr()). Computed when
 * it may have changed, not per call. true and *out, or false if none.
 */
bool vport_src(struct vport *p, int ifindex, union inaddr *out);

/* Netlink events, for every port (each takes what concerns it). */
void vport_link_event(const struct iface *ifc);
void vport_addr_event(int ifindex, int family, const union inaddr *a, bool added);

/* Per-interface counters for `vipctl status`: a JSON array, or text lines. */
void vport_status_json(struct buf *b);
void vport_status_text(struct buf *b);

#endif
