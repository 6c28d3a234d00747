/*
 * cache.c - the host's links and addresses, kept in memory.
 *
 * Two libnl caches (route/link, route/addr) are filled by one dump when
 * netlink_open() runs, then updated from every monitor event and from
 * vipd's own successful address requests, so that iface_get(),
 * iface_primary_addr() and vaddr_present() never ask the kernel. After
 * events were lost, netlink.c dumps again and nlcache_replace() swaps the
 * fresh dump in, reporting every difference as an event.
 *
 * Nothing here touches a socket: the unit tests feed it objects.
 *
 * Order. The primary-address rule needs the kernel's order of addresses
 * on an interface, which libnl's caches do not keep (an updated object is
 * moved to the tail). It is emulated from what decides the kernel's order:
 *   IPv4 (net/ipv4/devinet.c __inet_insert_ifa): primary addresses first,
 *     narrowest scope first, then in order of arrival; secondaries after
 *     them, in order of arrival. A promoted secondary goes to the end of
 *     the primaries of its scope (__inet_del_ifa).
 *   IPv6 (net/ipv6/addrconf.c ipv6_link_dev_addr): narrowest scope first,
 *     newest first within a scope, i.e. the latest creation time.
 * The cache keeps arrival order: a dump is in the kernel's order, a new
 * address is appended, and an update of a known address keeps its place
 * (only its flags and scope are refreshed, the attributes read here).
 */
#include "nlpriv.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "../vipd/log.h"
#include "../vipd/loop.h"
#include "../vipd/mem.h"

/*
 * An own change (vaddr_add / vaddr_del) is in the cache before its event
 * is read; the events still queued for that address are older than it or
 * are its own echo, and must not undo it. Each own change counts one
 * event to skip; the count expires, so that a change the kernel never
 * reported cannot hide later events for long.
 */
#define PENDING_TTL_NS (1000ull * 1000 * 1000)

struct pending {
	int ifindex;
	int family;
	union inaddr addr;
	uint8_t prefixlen;
	unsigned n;
	uint64_t until_ns;
};

static struct nl_cache *links;
static struct nl_cache *addrs;
static struct pending *pend;
static uint64_t resync_logged; /* log_ratelimit() of the resync line */
static size_t npend, pend_cap;

/* --- conversions ---------------------------------------------------------- */

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

/* --- the caches ----------------------------------------------------------- */

bool
nlcache_ready(void)
{
	return links && addrs;
}

struct nl_cache *
nlcache_links(void)
{
	return links;
}

struct nl_cache *
nlcache_addrs(void)
{
	return addrs;
}

void
nlcache_set(struct nl_cache *l, struct nl_cache *a)
{
	nlcache_free();
	links = l;
	addrs = a;
}

void
nlcache_free(void)
{
	if (links)
		nl_cache_free(links);
	if (addrs)
		nl_cache_free(addrs);
	links = addrs = NULL;
	free(pend);
	pend = NULL;
	npend = pend_cap = 0;
}

size_t
nlcache_naddrs(void)
{
	return addrs ? (size_t)nl_cache_nitems(addrs) : 0;
}

/* --- pending own changes -------------------------------------------------- */

static struct pending *
pending_find(int ifindex, int family, const union inaddr *a, uint8_t prefixlen, uint64_t now_ns)
{
	for (size_t i = 0; i < npend; i++) {
		struct pending *p = &pend[i];

		if (p->until_ns < now_ns) {
			pend[i--] = pend[--npend]; /* expired */
			continue;
		}
		if (p->ifindex == ifindex && p->family == family && p->prefixlen == prefixlen &&
		    addr_cmp(family, &p->addr, a) == 0)
			return p;
	}
	return NULL;
}

static void
pending_add(int ifindex, const struct vip *v, uint64_t now_ns)
{
	struct pending *p = pending_find(ifindex, v->family, &v->addr, v->prefixlen, now_ns);

	if (!p) {
		if (npend == pend_cap) {
			size_t cap = pend_cap ? 2 * pend_cap : 8;

			pend = xreallocarray(pend, cap, sizeof(*pend));
			pend_cap = cap;
		}
		p = &pend[npend++];
		*p = (struct pending){.ifindex = ifindex,
		                      .family = v->family,
		                      .addr = v->addr,
		                      .prefixlen = v->prefixlen};
	}
	p->n++;
	p->until_ns = now_ns + PENDING_TTL_NS;
}

/* True if this event is one an own change already accounted for. */
static bool
pending_consume(int ifindex, int family, const union inaddr *a, uint8_t prefixlen, uint64_t now_ns)
{
	struct pending *p = pending_find(ifindex, family, a, prefixlen, now_ns);

	if (!p)
		return false;
	if (--p->n == 0)
		*p = pend[--npend];
	return true;
}

size_t
nlcache_npending(void)
{
	return npend;
}

/* --- applying changes ----------------------------------------------------- */

/*
 * The kernel's IPv4 rule: secondary if a primary of the same subnet and mask
 * exists. A prefix over 32 is no IPv4 subnet (and would shift by a negative
 * count): never a secondary.
 */
static bool
v4_would_be_secondary(int ifindex, const union inaddr *a, uint8_t prefixlen)
{
	struct nl_object *obj;
	uint32_t mask;
	union inaddr b;

	if (prefixlen > 32)
		return false;
	mask = prefixlen ? htonl(~0u << (32 - prefixlen)) : 0;
	for (obj = nl_cache_get_first(addrs); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)obj;

		if (rtnl_addr_get_ifindex(ra) != ifindex || rtnl_addr_get_family(ra) != AF_INET ||
		    rtnl_addr_get_prefixlen(ra) != prefixlen ||
		    (rtnl_addr_get_flags(ra) & IFA_F_SECONDARY) ||
		    netlink_inaddr_from(rtnl_addr_get_local(ra), AF_INET, &b) < 0)
			continue;
		if (((b.v4.s_addr ^ a->v4.s_addr) & mask) == 0)
			return true;
	}
	return false;
}

/*
 * Put an address event into the cache. A known address keeps its place and
 * takes the new flags and scope, except a promoted secondary, which the
 * kernel moves to the end of the primaries (appending it does that here).
 */
static void
addr_apply(struct rtnl_addr *ra, bool added)
{
	struct rtnl_addr *old = (struct rtnl_addr *)nl_cache_search(addrs, OBJ_CAST(ra));
	unsigned flags = rtnl_addr_get_flags(ra);

	if (!added || !old) {
		if (old)
			nl_cache_remove(OBJ_CAST(old));
		else if (added && nl_cache_add(addrs, OBJ_CAST(ra)) < 0)
			log_warnx("netlink: cannot cache an address (out of memory)");
	} else if ((rtnl_addr_get_flags(old) & IFA_F_SECONDARY) && !(flags & IFA_F_SECONDARY)) {
		nl_cache_remove(OBJ_CAST(old));
		if (nl_cache_add(addrs, OBJ_CAST(ra)) < 0)
			log_warnx("netlink: cannot cache an address (out of memory)");
	} else {
		rtnl_addr_unset_flags(old, ~0u);
		rtnl_addr_set_flags(old, flags);
		rtnl_addr_set_scope(old, rtnl_addr_get_scope(ra));
	}
	if (old)
		rtnl_addr_put(old);
}

/* Forget the addresses of a deleted link (the kernel deletes them with it). */
static void
addr_purge_ifindex(int ifindex)
{
	struct nl_object *obj, *next;

	for (obj = nl_cache_get_first(addrs); obj; obj = next) {
		next = nl_cache_get_next(obj);
		if (rtnl_addr_get_ifindex((struct rtnl_addr *)obj) == ifindex)
			nl_cache_remove(obj);
	}
}

static void
emit_link(const struct netlink_events *ev, struct rtnl_link *link, bool present)
{
	struct iface ifc;

	netlink_iface_from_link(link, &ifc);
	if (!present) {
		ifc.present = false;
		ifc.admin_up = false;
		ifc.running = false;
	}
	log_debug("netlink: link %s (%d) %s%s%s", ifc.name, ifc.ifindex,
	          ifc.present ? "present" : "deleted", ifc.admin_up ? " up" : "",
	          ifc.running ? " running" : "");
	if (ev && ev->link)
		ev->link(ev->arg, &ifc);
}

static void
emit_addr(const struct netlink_events *ev, struct rtnl_addr *ra, const union inaddr *a, bool added)
{
	int family = rtnl_addr_get_family(ra);
	char buf[ADDR_STRLEN];

	log_debug("netlink: address %s/%d %s on ifindex %d", addr_ntop(family, a, buf),
	          rtnl_addr_get_prefixlen(ra), added ? "added" : "deleted",
	          rtnl_addr_get_ifindex(ra));
	if (ev && ev->addr)
		ev->addr(ev->arg, rtnl_addr_get_ifindex(ra), family, a,
		         (uint8_t)rtnl_addr_get_prefixlen(ra), added);
}

static void
link_event(struct rtnl_link *link, bool present, const struct netlink_events *ev)
{
	struct nl_object *old;

	/*
	 * Bridge port messages (AF_BRIDGE) share the group; an RTM_DELLINK of
	 * that family means "left the bridge", not "deleted".
	 */
	if (rtnl_link_get_family(link) != AF_UNSPEC)
		return;
	if ((old = nl_cache_search(links, OBJ_CAST(link)))) {
		nl_cache_remove(old);
		nl_object_put(old);
	}
	if (present && nl_cache_add(links, OBJ_CAST(link)) < 0)
		log_warnx("netlink: cannot cache a link (out of memory)");
	if (!present)
		addr_purge_ifindex(rtnl_link_get_ifindex(link));
	emit_link(ev, link, present);
}

static void
addr_event(struct rtnl_addr *ra, bool added, uint64_t now_ns, const struct netlink_events *ev)
{
	int family = rtnl_addr_get_family(ra);
	union inaddr a;

	if (netlink_inaddr_from(rtnl_addr_get_local(ra), family, &a) < 0)
		return;
	if (!pending_consume(rtnl_addr_get_ifindex(ra), family, &a,
	                     (uint8_t)rtnl_addr_get_prefixlen(ra), now_ns))
		addr_apply(ra, added);
	emit_addr(ev, ra, &a, added);
}

void
nlcache_event(struct nl_object *obj, int msgtype, uint64_t now_ns, const struct netlink_events *ev)
{
	if (!nlcache_ready())
		return;
	switch (msgtype) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		link_event((struct rtnl_link *)obj, msgtype == RTM_NEWLINK, ev);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		addr_event((struct rtnl_addr *)obj, msgtype == RTM_NEWADDR, now_ns, ev);
		break;
	}
}

void
nlcache_own_add(struct rtnl_addr *ra, uint64_t now_ns)
{
	int ifindex = rtnl_addr_get_ifindex(ra);
	struct vip v = {.family = rtnl_addr_get_family(ra),
	                .prefixlen = (uint8_t)rtnl_addr_get_prefixlen(ra)};

	if (!nlcache_ready() || netlink_inaddr_from(rtnl_addr_get_local(ra), v.family, &v.addr) < 0)
		return;
	if (v.family == AF_INET && v4_would_be_secondary(ifindex, &v.addr, v.prefixlen))
		rtnl_addr_set_flags(ra, IFA_F_SECONDARY);
	addr_apply(ra, true);
	pending_add(ifindex, &v, now_ns);
}

void
nlcache_own_del(struct rtnl_addr *ra, uint64_t now_ns)
{
	struct vip v = {.family = rtnl_addr_get_family(ra),
	                .prefixlen = (uint8_t)rtnl_addr_get_prefixlen(ra)};

	if (!nlcache_ready() || netlink_inaddr_from(rtnl_addr_get_local(ra), v.family, &v.addr) < 0)
		return;
	addr_apply(ra, false);
	pending_add(rtnl_addr_get_ifindex(ra), &v, now_ns);
}

/* --- resynchronisation ---------------------------------------------------- */

enum change { CH_NEW, CH_CHANGED, CH_GONE };

struct diff {
	struct nl_object *obj; /* a reference */
	enum change ch;
};

struct diffs {
	struct diff *d;
	size_t n, cap;
};

static int
diffs_push(struct diffs *ds, struct nl_object *obj, enum change ch)
{
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? 2 * ds->cap : 64;

		ds->d = xreallocarray(ds->d, cap, sizeof(*ds->d));
		ds->cap = cap;
	}
	nl_object_get(obj);
	ds->d[ds->n++] = (struct diff){obj, ch};
	return 0;
}

static bool
addr_changed(struct rtnl_addr *a, struct rtnl_addr *b)
{
	return rtnl_addr_get_flags(a) != rtnl_addr_get_flags(b) ||
	       rtnl_addr_get_scope(a) != rtnl_addr_get_scope(b);
}

/*
 * An object's identity, as libnl's nl_object_identical() sees it for links
 * (family, ifindex) and addresses (also prefix length, local and, for
 * IPv4, peer address), in a form qsort() and memcmp() can use: libnl 3.7
 * has no hash for route/addr, and nl_cache_search() walks the whole cache,
 * so comparing two caches by searching is quadratic (a few hundred ms at
 * 3000 addresses). Sorting both and walking them side by side is not.
 * The keys come from xcalloc(), so the padding memcmp() sees is zero.
 */
struct okey {
	int family, ifindex, prefixlen;
	uint8_t local[16], peer[16];
	struct nl_object *obj;
};

static void
okey_addr_bytes(struct nl_addr *na, uint8_t out[16])
{
	memset(out, 0, 16);
	if (na && nl_addr_get_len(na) <= 16)
		memcpy(out, nl_addr_get_binary_addr(na), nl_addr_get_len(na));
}

static struct okey *
okeys(struct nl_cache *c, bool is_addr, size_t *np)
{
	size_t n = (size_t)nl_cache_nitems(c), i = 0;
	struct okey *k = xcalloc(n ? n : 1, sizeof(*k));
	struct nl_object *obj;

	for (obj = nl_cache_get_first(c); obj && i < n; obj = nl_cache_get_next(obj), i++) {
		k[i].obj = obj;
		if (is_addr) {
			struct rtnl_addr *ra = (struct rtnl_addr *)obj;

			k[i].family = rtnl_addr_get_family(ra);
			k[i].ifindex = rtnl_addr_get_ifindex(ra);
			k[i].prefixlen = rtnl_addr_get_prefixlen(ra);
			okey_addr_bytes(rtnl_addr_get_local(ra), k[i].local);
			if (k[i].family == AF_INET)
				okey_addr_bytes(rtnl_addr_get_peer(ra), k[i].peer);
		} else {
			k[i].family = rtnl_link_get_family((struct rtnl_link *)obj);
			k[i].ifindex = rtnl_link_get_ifindex((struct rtnl_link *)obj);
		}
	}
	*np = i;
	return k;
}

static int
okey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, offsetof(struct okey, obj));
}

/* What differs between the cached objects and a fresh dump of the same type. */
static int
diff_caches(struct nl_cache *cur, struct nl_cache *fresh, bool is_addr, struct diffs *ds)
{
	size_t nc, nf, i = 0, j = 0;
	struct okey *kc = okeys(cur, is_addr, &nc), *kf = okeys(fresh, is_addr, &nf);
	int rc = 0;

	qsort(kc, nc, sizeof(*kc), okey_cmp);
	qsort(kf, nf, sizeof(*kf), okey_cmp);
	while (rc == 0 && (i < nc || j < nf)) {
		int cmp = i == nc ? 1 : j == nf ? -1 : okey_cmp(&kc[i], &kf[j]);

		if (cmp < 0) {
			rc = diffs_push(ds, kc[i++].obj, CH_GONE);
		} else if (cmp > 0) {
			rc = diffs_push(ds, kf[j++].obj, CH_NEW);
		} else {
			struct nl_object *old = kc[i++].obj, *obj = kf[j++].obj;

			if (is_addr ? addr_changed((struct rtnl_addr *)old, (struct rtnl_addr *)obj)
			            : nl_object_diff(old, obj) != 0)
				rc = diffs_push(ds, obj, CH_CHANGED);
		}
	}
	free(kc);
	free(kf);
	return rc;
}

static void
diffs_free(struct diffs *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		nl_object_put(ds->d[i].obj);
	free(ds->d);
}

int
nlcache_replace(struct nl_cache *fresh_links, struct nl_cache *fresh_addrs,
                const struct netlink_events *ev)
{
	struct diffs dl = {0}, da = {0};
	union inaddr a;
	size_t i;

	if (!nlcache_ready()) {
		nlcache_set(fresh_links, fresh_addrs);
		return 0;
	}
	if (diff_caches(links, fresh_links, false, &dl) < 0 ||
	    diff_caches(addrs, fresh_addrs, true, &da) < 0) {
		/* Out of memory: take the dump anyway, and tell of every link. */
		diffs_free(&dl);
		diffs_free(&da);
		dl = da = (struct diffs){0};
		for (struct nl_object *o = nl_cache_get_first(fresh_links); o;
		     o = nl_cache_get_next(o))
			if (diffs_push(&dl, o, CH_CHANGED) < 0)
				break;
	}
	/*
	 * The dump is newer than every own change and every event read, and in
	 * the kernel's order: it replaces the caches whole. Listeners are told
	 * afterwards, so that what they look up is already the new state.
	 */
	nl_cache_free(links);
	nl_cache_free(addrs);
	links = fresh_links;
	addrs = fresh_addrs;
	npend = 0;

	/* A flood resyncs again and again: info once a minute, debug otherwise. */
	if (log_ratelimit(&resync_logged, mono_now_ns()))
		log_info("netlink: resynchronised: %zu link and %zu address change(s) while "
		         "events were lost (logged once a minute)",
		         dl.n, da.n);
	else
		log_debug("netlink: resynchronised: %zu link and %zu address change(s)", dl.n, da.n);
	for (i = 0; i < dl.n; i++)
		if (rtnl_link_get_family((struct rtnl_link *)dl.d[i].obj) == AF_UNSPEC)
			emit_link(ev, (struct rtnl_link *)dl.d[i].obj, dl.d[i].ch != CH_GONE);
	for (int pass = 0; pass < 2; pass++) /* deletions first, then additions */
		for (i = 0; i < da.n; i++) {
			struct rtnl_addr *ra = (struct rtnl_addr *)da.d[i].obj;
			bool added = da.d[i].ch != CH_GONE;

			if (added != (pass == 1) ||
			    netlink_inaddr_from(rtnl_addr_get_local(ra), rtnl_addr_get_family(ra),
			                        &a) < 0)
				continue;
			emit_addr(ev, ra, &a, added);
		}
	diffs_free(&dl);
	diffs_free(&da);
	return 0;
}

/* --- lookups ---------------------------------------------------------------- */

int
nlcache_addr_walk(struct nl_cache *c, int ifindex, int family, netlink_addr_fn fn, void *arg)
{
	struct nl_object *obj;
	union inaddr a;
	int r = 0;

	for (obj = nl_cache_get_first(c); obj && r == 0; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)obj;

		if (rtnl_addr_get_ifindex(ra) != ifindex || rtnl_addr_get_family(ra) != family ||
		    netlink_inaddr_from(rtnl_addr_get_local(ra), family, &a) < 0)
			continue;
		r = fn(ra, &a, arg);
	}
	return r;
}

struct primary {
	const struct vip *exclude;
	size_t nexclude;
	union inaddr *out;
	bool found;
	bool secondary;  /* IPv4: the best so far is a secondary */
	int scope;       /* IPv4: its scope (larger = narrower) */
	uint32_t cstamp; /* IPv6: its creation time */
};

static bool
is_excluded(const struct primary *p, int family, const union inaddr *a)
{
	for (size_t i = 0; i < p->nexclude; i++)
		if (p->exclude[i].family == family && addr_cmp(family, &p->exclude[i].addr, a) == 0)
			return true;
	return false;
}

/* IPv4: the first in the kernel's order (see the top of this file). */
static int
primary_v4(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	struct primary *p = arg;
	bool secondary = (rtnl_addr_get_flags(ra) & IFA_F_SECONDARY) != 0;
	int scope = rtnl_addr_get_scope(ra);

	if (is_excluded(p, AF_INET, a))
		return 0;
	if (p->found) {
		/* Not before the one we have: */
		if (secondary && !p->secondary)
			return 0;
		if (secondary == p->secondary && (secondary || scope <= p->scope))
			return 0;
	}
	*p->out = *a;
	p->found = true;
	p->secondary = secondary;
	p->scope = scope;
	return 0;
}

/* RFC 5798 §5.1.2.1: IPv6 adverts come from the interface's link-local address. */
static int
primary_v6(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	struct primary *p = arg;
	uint32_t cstamp = rtnl_addr_get_create_time(ra);

	if (!IN6_IS_ADDR_LINKLOCAL(&a->v6) ||
	    (rtnl_addr_get_flags(ra) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ||
	    is_excluded(p, AF_INET6, a))
		return 0;
	if (p->found && cstamp <= p->cstamp)
		return 0; /* the kernel lists the newest link-local first */
	*p->out = *a;
	p->found = true;
	p->cstamp = cstamp;
	return 0;
}

int
nlcache_primary(struct nl_cache *c, int ifindex, int family, const struct vip *exclude,
                size_t nexclude, union inaddr *out)
{
	struct primary p = {.exclude = exclude, .nexclude = nexclude, .out = out};

	if (family != AF_INET && family != AF_INET6)
		return -1;
	nlcache_addr_walk(c, ifindex, family, family == AF_INET ? primary_v4 : primary_v6, &p);
	return p.found ? 0 : -1;
}

static int
present_cb(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	const struct vip *v = arg;

	(void)ra;
	return addr_cmp(v->family, a, &v->addr) == 0;
}

int
nlcache_present(struct nl_cache *c, int ifindex, const struct vip *v)
{
	return nlcache_addr_walk(c, ifindex, v->family, present_cb, (void *)v);
}
