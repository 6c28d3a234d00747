/*
 * vrrp_io.c - the real edges of an instance (vrrp_io.h).
 */
#include "vrrp_io.h"

#include <sys/socket.h>

#include "announce.h"
#include "loop.h"
#include "vport.h"

static int
primary_addr(int ifindex, int family, union inaddr *out)
{
	return iface_primary_addr(ifindex, family, NULL, 0, out);
}

static int
announce(const struct iface *ifc, const struct vip *vip)
{
	if (vip->family == AF_INET)
		return arp_send(ifc->ifindex, ifc->mac, &vip->addr.v4);
	return ndisc_send(ifc->ifindex, ifc->mac, &vip->addr.v6);
}

const struct vrrp_io vrrp_io_real = {
    .now = mono_now_ns,
    .port_ref = vport_ref,
    .port_unref = vport_unref,
    .port_set_vips = vport_set_vips,
    .port_listen = vport_listen,
    .port_unlisten = vport_unlisten,
    .port_listening = vport_listening,
    .port_send = vport_send,
    .port_src = vport_src,
    .port_hear_link = vport_hear_link,
    .port_unhear_link = vport_unhear_link,
    .port_send_link = vport_send_link,
    .iface_get = iface_get,
    .primary_addr = primary_addr,
    .addr_add = vaddr_add,
    .addr_del = vaddr_del,
    .addr_present = vaddr_present,
    .announce = announce,
    .vmac_add = vmac_add,
    .vmac_del = vmac_del,
};

static const struct vrrp_io *current = &vrrp_io_real;

void
vrrp_io_set(const struct vrrp_io *io)
{
	current = io ? io : &vrrp_io_real;
}

const struct vrrp_io *
vrrp_io_get(void)
{
	return current;
}
