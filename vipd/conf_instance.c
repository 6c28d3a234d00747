/*
 * conf_instance.c - the [instance NAME] sections of vipd.conf: one VRRP
 * router each, keyed by (interface, VRID, family), with its VIPs, unicast
 * peers, tracked checks and interfaces, and notify hooks.
 *
 * Keys are judged as they come; what needs the whole section (required
 * keys, unicast peers of the VIPs' family, a unique key, the hooks'
 * programs) is judged when it ends, each message at the line it is about.
 */
#include "conf_priv.h"
#include "conf_value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "argv.h"
#include "../netlink/netlink.h"

/* Keys of [instance NAME], indexes of instance_keys[] and parser.iseen[]. */
enum {
	IK_INTERFACE,
	IK_VRID,
	IK_PRIORITY,
	IK_ADVERT,
	IK_VIP,
	IK_PREEMPT,
	IK_PREEMPT_FAST,
	IK_PREEMPT_DELAY,
	IK_SRC,
	IK_PEER,
	IK_UNICAST_TTL,
	IK_CHECKSUM,
	IK_VERSION,
	IK_AUTH_TYPE,
	IK_AUTH_PASS,
	IK_GARP_REPEAT,
	IK_GARP_DELAY,
	IK_GARP_REFRESH,
	IK_TRACK,
	IK_TRACK_IF,
	IK_NOTIFY_MASTER, /* in conf_hook order */
	IK_NOTIFY_BACKUP,
	IK_NOTIFY_FAULT,
	IK_NOTIFY_STOP,
	IK_NOTIFY,
	IK_NOTIFY_TIMEOUT,
	IK_NOTIFY_SHELL,
	IK_PROMOTE_PGSQL,
	IK_USE_VMAC,
	IK_MAX
};

_Static_assert(IK_MAX <= CONF_INSTANCE_KEYS, "parser.iseen too small");

static struct conf_instance *
cur(struct parser *p)
{
	return &p->conf->instances[p->conf->ninstances - 1];
}

static const char *
family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "?";
}

/* ---- keys ---- */

/* What the kernel accepts (dev_valid_name()), and short enough for IFNAMSIZ. */
static bool
ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static void
set_interface(struct parser *p, const char *key, const char *val)
{
	if (!ifname_ok(val)) {
		conf_perr(p, p->lineno, key,
		          "must be an interface name of 1..%d characters, got \"%s\"",
		          IF_NAMESIZE - 1, val);
		return;
	}
	strcpy(cur(p)->ifname, val);
}

/* use_vmac = yes | no | NAME (the link's name; yes: vipd.VRID / vipd6.VRID). */
static void
set_use_vmac(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);
	bool b;

	/* Every spelling of a boolean key (on / off too) is one, never a link name. */
	if (conf_bool_word(val, &b)) {
		ci->use_vmac = b;
		return;
	}
	if (!ifname_ok(val)) {
		conf_perr(p, p->lineno, key,
		          "must be yes, no, or the link's name (1..%d characters), got \"%s\"",
		          IF_NAMESIZE - 1, val);
		return;
	}
	ci->use_vmac = true;
	snprintf(ci->vmac_name, sizeof(ci->vmac_name), "%s", val);
}

static void
set_vrid(struct parser *p, const char *key, const char *val)
{
	unsigned u;

	if (conf_get_uint(p, key, val, 1, 255, &u) == 0)
		cur(p)->vrid = (uint8_t)u;
}

static void
set_priority(struct parser *p, const char *key, const char *val)
{
	unsigned u;

	if (conf_get_uint(p, key, val, 1, 255, &u) == 0)
		cur(p)->priority = (uint8_t)u;
}

static void
set_garp_repeat(struct parser *p, const char *key, const char *val)
{
	conf_get_uint(p, key, val, 0, 100, &cur(p)->garp_repeat);
}

/* RFC 5798 §5.2.7: Max Adver Int is 12 bits of centiseconds. */
static void
set_advert(struct parser *p, const char *key, const char *val)
{
	static const struct dur_range r = {10, 40950, 10, "10ms..40950ms in steps of 10ms"};

	conf_get_duration(p, key, val, &r, &cur(p)->advert_interval_ms);
}

static void
set_preempt_delay(struct parser *p, const char *key, const char *val)
{
	static const struct dur_range r = {0, 3600 * 1000, 1, "0s..3600s"};

	conf_get_duration(p, key, val, &r, &cur(p)->preempt_delay_ms);
}

static void
set_garp_delay(struct parser *p, const char *key, const char *val)
{
	static const struct dur_range r = {0, 3600 * 1000, 1, "0s..3600s"};

	conf_get_duration(p, key, val, &r, &cur(p)->garp_delay_ms);
}

static void
set_garp_refresh(struct parser *p, const char *key, const char *val)
{
	static const struct dur_range r = {0, 86400 * 1000, 1, "0s..86400s"};

	conf_get_duration(p, key, val, &r, &cur(p)->garp_refresh_ms);
}

static void
set_notify(struct parser *p, const char *key, const char *val)
{
	conf_set_hook(p, key, val, cur(p)->notify, cur(p)->notify_line);
}

static void
set_notify_timeout(struct parser *p, const char *key, const char *val)
{
	conf_get_duration(p, key, val, &conf_notify_timeout_range, &cur(p)->notify_timeout_ms);
}

static void
set_notify_shell(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &cur(p)->notify_shell);
}

static void
set_promote_pgsql(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);

	if (!*val) {
		conf_perr(p, p->lineno, key, "empty conninfo");
		return;
	}
	conf_get_conninfo(p, key, val, ci->promote_pgsql, sizeof(ci->promote_pgsql));
}

static void
set_preempt(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &cur(p)->preempt);
}

static void
set_preempt_fast(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &cur(p)->preempt_fast);
}

static void
set_checksum(struct parser *p, const char *key, const char *val)
{
	if (strcmp(val, "rfc5798") == 0)
		cur(p)->checksum = CKSUM_RFC5798;
	else if (strcmp(val, "rfc9568") == 0)
		cur(p)->checksum = CKSUM_RFC9568;
	else
		conf_perr(p, p->lineno, key, "must be rfc5798 or rfc9568, got \"%s\"", val);
}

static void
set_version(struct parser *p, const char *key, const char *val)
{
	unsigned u;

	if (conf_get_uint(p, key, val, 2, 3, &u) == 0)
		cur(p)->version = (uint8_t)u;
}

/*
 * RFC 3768 §5.3.6: 0 = none, 1 = a clear-text password. AH (2) was in
 * RFC 2338 only; keepalived's implementation of it is not interoperable
 * with anything else, and RFC 3768 removed it.
 */
static void
set_auth_type(struct parser *p, const char *key, const char *val)
{
	if (strcasecmp(val, "PASS") == 0)
		cur(p)->auth.type = AUTH_PASS;
	else if (strcasecmp(val, "none") == 0)
		cur(p)->auth.type = AUTH_NONE;
	else if (strcasecmp(val, "AH") == 0)
		conf_perr(p, p->lineno, key,
		          "AH is not supported (RFC 3768 removed it); use PASS or none");
	else
		conf_perr(p, p->lineno, key, "must be PASS or none, got \"%s\"", val);
}

/* RFC 3768 §5.3.10: up to 8 bytes, zero-padded on the wire. */
static void
set_auth_pass(struct parser *p, const char *key, const char *val)
{
	size_t n = strlen(val);

	if (n == 0 || n > VRRP_AUTH_LEN) {
		conf_perr(p, p->lineno, key, "must be 1..%d characters, got %zu", VRRP_AUTH_LEN, n);
		return;
	}
	memset(cur(p)->auth.data, 0, sizeof(cur(p)->auth.data));
	memcpy(cur(p)->auth.data, val, n);
}

/* The first VIP fixes the instance's family: one VRRP router per family. */
static void
set_vip(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);
	const char *why;
	struct vip v;

	if (vip_parse(val, &v, &why) < 0) {
		conf_perr(p, p->lineno, key, "%s, got \"%s\"", why, val);
		return;
	}
	if (ci->nvips > 0 && v.family != ci->family) {
		conf_perr(p, p->lineno, key,
		          "%s is %s but this instance's first VIP is %s (line %d)", val,
		          family_name(v.family), family_name(ci->family), p->vip_line[0]);
		return;
	}
	for (size_t i = 0; i < ci->nvips; i++) {
		if (addr_cmp(v.family, &v.addr, &ci->vips[i].addr) == 0) {
			conf_perr(p, p->lineno, key, "%s given twice, first on line %d", val,
			          p->vip_line[i]);
			return;
		}
	}
	if (ci->nvips == CONF_MAX_VIPS) {
		conf_perr(p, p->lineno, key,
		          "too many, at most %d per instance (the count of addresses in an "
		          "advert is one byte, RFC 5798 section 5.2.5)",
		          CONF_MAX_VIPS);
		return;
	}
	p->vip_line[ci->nvips] = p->lineno;
	ci->vips[ci->nvips++] = v;
	ci->family = v.family;
}

static void
set_src(struct parser *p, const char *key, const char *val)
{
	if (conf_get_addr(p, key, val, &p->src_family, &cur(p)->unicast_src) == 0)
		cur(p)->has_unicast_src = true;
}

static void
set_peer(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);
	union inaddr a;
	int family;

	if (conf_get_addr(p, key, val, &family, &a) < 0)
		return;
	for (size_t i = 0; i < ci->npeers; i++) {
		if (p->peer_family[i] == family && addr_cmp(family, &a, &ci->peers[i]) == 0) {
			conf_perr(p, p->lineno, key, "%s given twice, first on line %d", val,
			          p->peer_line[i]);
			return;
		}
	}
	if (ci->npeers == CONF_MAX_PEERS) {
		conf_perr(p, p->lineno, key, "too many, at most %d per instance", CONF_MAX_PEERS);
		return;
	}
	p->peer_line[ci->npeers] = p->lineno;
	p->peer_family[ci->npeers] = family;
	ci->peers[ci->npeers++] = a;
}

/*
 * "WHAT [weight N]" (track, track_interface): *name points into buf
 * (CONF_STR bytes, the name is the caller's to check), *weight is N or
 * CONF_WEIGHT_UNSET. 0 or -1.
 */
static int
get_tracked(struct parser *p, const char *key, const char *what, const char *val, char *buf,
            char **name, int *weight)
{
	char *w[4], *save = NULL;
	size_t n = 0;

	snprintf(buf, CONF_STR, "%s", val);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n < 4)
			w[n++] = t;
	if ((n != 1 && n != 3) || (n == 3 && strcmp(w[1], "weight") != 0)) {
		conf_perr(p, p->lineno, key, "expected \"%s [weight N]\", got \"%s\"", what, val);
		return -1;
	}
	*weight = CONF_WEIGHT_UNSET;
	if (n == 3 && conf_parse_int(w[2], -254, 254, weight) < 0) {
		conf_perr(p, p->lineno, key, "weight must be -254..254, got \"%s\"", w[2]);
		return -1;
	}
	*name = w[0];
	return 0;
}

/* The weight stays CONF_WEIGHT_UNSET until the check is known (conf_checks_resolve). */
static void
set_track(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);
	struct conf_track t = {.line = p->lineno};
	char buf[CONF_STR], *name;

	if (get_tracked(p, key, "CHECK", val, buf, &name, &t.weight) < 0)
		return;
	if (!conf_name_ok(name)) {
		conf_perr(p, p->lineno, key,
		          "check name must be 1..%d characters of A-Z a-z 0-9 _ . -, got \"%s\"",
		          CONF_NAME_MAX - 1, name);
		return;
	}
	strcpy(t.check, name);
	for (size_t i = 0; i < ci->ntracks; i++) {
		if (strcmp(ci->tracks[i].check, t.check) == 0) {
			conf_perr(p, p->lineno, key, "%s given twice, first on line %d", t.check,
			          ci->tracks[i].line);
			return;
		}
	}
	if (ci->ntracks == CONF_MAX_TRACKS) {
		conf_perr(p, p->lineno, key, "too many, at most %d per instance", CONF_MAX_TRACKS);
		return;
	}
	ci->tracks[ci->ntracks++] = t;
}

/* Weight 0 (the default): the instance goes to FAULT while the link is down. */
static void
set_track_if(struct parser *p, const char *key, const char *val)
{
	struct conf_instance *ci = cur(p);
	struct conf_track_if t = {.line = p->lineno};
	char buf[CONF_STR], *name;

	if (get_tracked(p, key, "IFNAME", val, buf, &name, &t.weight) < 0)
		return;
	if (t.weight == CONF_WEIGHT_UNSET)
		t.weight = 0;
	if (!ifname_ok(name)) {
		conf_perr(p, p->lineno, key,
		          "must be an interface name of 1..%d characters, got \"%s\"",
		          IF_NAMESIZE - 1, name);
		return;
	}
	strcpy(t.ifname, name);
	for (size_t i = 0; i < ci->ntrack_ifs; i++) {
		if (strcmp(ci->track_ifs[i].ifname, t.ifname) == 0) {
			conf_perr(p, p->lineno, key, "%s given twice, first on line %d", t.ifname,
			          ci->track_ifs[i].line);
			return;
		}
	}
	if (ci->ntrack_ifs == CONF_MAX_TRACKS) {
		conf_perr(p, p->lineno, key, "too many, at most %d per instance", CONF_MAX_TRACKS);
		return;
	}
	ci->track_ifs[ci->ntrack_ifs++] = t;
}

static void
set_unicast_ttl_check(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &cur(p)->unicast_ttl_check);
}

static const struct conf_key instance_keys[IK_MAX] = {
    [IK_INTERFACE] = {"interface", false, set_interface},
    [IK_VRID] = {"vrid", false, set_vrid},
    [IK_PRIORITY] = {"priority", false, set_priority},
    [IK_ADVERT] = {"advert_interval", false, set_advert},
    [IK_VIP] = {"virtual_ip", true, set_vip},
    [IK_PREEMPT] = {"preempt", false, set_preempt},
    [IK_PREEMPT_FAST] = {"preempt_fast", false, set_preempt_fast},
    [IK_PREEMPT_DELAY] = {"preempt_delay", false, set_preempt_delay},
    [IK_SRC] = {"unicast_src", false, set_src},
    [IK_PEER] = {"unicast_peer", true, set_peer},
    [IK_UNICAST_TTL] = {"unicast_ttl_check", false, set_unicast_ttl_check},
    [IK_CHECKSUM] = {"checksum", false, set_checksum},
    [IK_VERSION] = {"version", false, set_version},
    [IK_AUTH_TYPE] = {"auth_type", false, set_auth_type},
    [IK_AUTH_PASS] = {"auth_pass", false, set_auth_pass},
    [IK_GARP_REPEAT] = {"garp_repeat", false, set_garp_repeat},
    [IK_GARP_DELAY] = {"garp_delay", false, set_garp_delay},
    [IK_GARP_REFRESH] = {"garp_refresh", false, set_garp_refresh},
    [IK_TRACK] = {"track", true, set_track},
    [IK_TRACK_IF] = {"track_interface", true, set_track_if},
    [IK_NOTIFY_MASTER] = {"notify_master", false, set_notify},
    [IK_NOTIFY_BACKUP] = {"notify_backup", false, set_notify},
    [IK_NOTIFY_FAULT] = {"notify_fault", false, set_notify},
    [IK_NOTIFY_STOP] = {"notify_stop", false, set_notify},
    [IK_NOTIFY] = {"notify", false, set_notify},
    [IK_NOTIFY_TIMEOUT] = {"notify_timeout", false, set_notify_timeout},
    [IK_NOTIFY_SHELL] = {"notify_shell", false, set_notify_shell},
    [IK_PROMOTE_PGSQL] = {"promote_pgsql", false, set_promote_pgsql},
    [IK_USE_VMAC] = {"use_vmac", false, set_use_vmac},
};

/* Keys are set at once, in the order given. */
void
conf_instance_key(struct parser *p, const char *name, const char *val)
{
	if (conf_set_key(p, instance_keys, IK_MAX, p->iseen, name, val) < 0)
		conf_perr(p, p->lineno, name, "unknown key in [instance %s]", cur(p)->name);
}

/* ---- the section ---- */

static void
instance_defaults(struct conf_instance *ci, const char *name, int line)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->name, sizeof(ci->name), "%s", name);
	ci->line = line;
	ci->priority = 100;
	ci->advert_interval_ms = 1000;
	ci->preempt = true;
	ci->preempt_fast = true;
	ci->checksum = CKSUM_RFC5798;
	ci->version = VRRP_VERSION;
	ci->garp_repeat = 5;
	ci->garp_delay_ms = 5000;
	ci->notify_timeout_ms = 30000;
}

void
conf_instance_begin(struct parser *p, const char *name)
{
	struct conf *c = p->conf;
	struct conf_instance *v = conf_grow(c->instances, c->ninstances, sizeof(*v));

	if (!v) {
		conf_perr(p, p->lineno, NULL, "out of memory");
		return;
	}
	c->instances = v;
	instance_defaults(&v[c->ninstances++], name, p->lineno);
	memset(p->iseen, 0, sizeof(p->iseen));
	p->src_family = 0;
	p->sec = SEC_INSTANCE;
	if (!conf_section_name_ok(p, "instance", name))
		return;
	for (size_t i = 0; i + 1 < c->ninstances; i++) {
		if (strcmp(c->instances[i].name, name) == 0) {
			conf_perr(p, p->lineno, NULL,
			          "[instance %s]: defined twice, first on line %d", name,
			          c->instances[i].line);
			return;
		}
	}
}

/* Unicast mode needs peers of the VIPs' family, none of them our own source. */
static void
instance_check_unicast(struct parser *p, const struct conf_instance *ci)
{
	const char *src = instance_keys[IK_SRC].name, *peer = instance_keys[IK_PEER].name;
	char a[ADDR_STRLEN];

	if (ci->has_unicast_src && !p->iseen[IK_PEER])
		conf_perr(p, p->iseen[IK_SRC], src, "needs at least one unicast_peer");
	if (ci->unicast_ttl_check && !p->iseen[IK_PEER])
		conf_perr(p, p->iseen[IK_UNICAST_TTL], instance_keys[IK_UNICAST_TTL].name,
		          "applies to unicast mode only (no unicast_peer); multicast adverts "
		          "are always checked");
	if (ci->family == 0)
		return; /* no valid VIP, reported already */
	if (ci->has_unicast_src && p->src_family != ci->family)
		conf_perr(p, p->iseen[IK_SRC], src,
		          "%s is %s but this instance's VIPs are %s (line %d)",
		          addr_ntop(p->src_family, &ci->unicast_src, a), family_name(p->src_family),
		          family_name(ci->family), p->vip_line[0]);
	for (size_t i = 0; i < ci->npeers; i++) {
		int fam = p->peer_family[i];

		addr_ntop(fam, &ci->peers[i], a);
		if (fam != ci->family)
			conf_perr(p, p->peer_line[i], peer,
			          "%s is %s but this instance's VIPs are %s (line %d)", a,
			          family_name(fam), family_name(ci->family), p->vip_line[0]);
		else if (ci->has_unicast_src && p->src_family == fam &&
		         addr_cmp(fam, &ci->peers[i], &ci->unicast_src) == 0)
			conf_perr(p, p->peer_line[i], peer, "%s is also the unicast_src (line %d)",
			          a, p->iseen[IK_SRC]);
	}
}

/*
 * version = 2 (RFC 3768): IPv4, an 8-bit Adver Int in whole seconds, no
 * checksum choice, and the only version with authentication. auth_pass
 * alone means auth_type = PASS.
 */
static void
instance_check_version(struct parser *p, struct conf_instance *ci)
{
	const char *at = instance_keys[IK_AUTH_TYPE].name, *ap = instance_keys[IK_AUTH_PASS].name;

	if (ci->version != VRRP_VERSION2) {
		if (p->iseen[IK_AUTH_TYPE])
			conf_perr(p, p->iseen[IK_AUTH_TYPE], at,
			          "needs version = 2 (VRRPv3 has no authentication, RFC 5798 "
			          "section 9)");
		if (p->iseen[IK_AUTH_PASS])
			conf_perr(p, p->iseen[IK_AUTH_PASS], ap,
			          "needs version = 2 (VRRPv3 has no authentication, RFC 5798 "
			          "section 9)");
		return;
	}
	if (ci->family == AF_INET6)
		conf_perr(p, p->iseen[IK_VERSION], instance_keys[IK_VERSION].name,
		          "2 is IPv4 only (RFC 3768) but this instance's VIPs are IPv6 (line %d)",
		          p->vip_line[0]);
	if (ci->advert_interval_ms % 1000 != 0 || ci->advert_interval_ms > 255000)
		conf_perr(p, p->iseen[IK_ADVERT], instance_keys[IK_ADVERT].name,
		          "must be whole seconds, 1s..255s, with version = 2 (RFC 3768 section "
		          "5.3.7; version 2 is on line %d)",
		          p->iseen[IK_VERSION]);
	if (p->iseen[IK_CHECKSUM])
		conf_perr(p, p->iseen[IK_CHECKSUM], instance_keys[IK_CHECKSUM].name,
		          "has no meaning with version = 2: the VRRPv2 checksum covers the "
		          "message alone (RFC 3768 section 5.3.8)");
	if (p->iseen[IK_AUTH_PASS] && !p->iseen[IK_AUTH_TYPE])
		ci->auth.type = AUTH_PASS;
	if (ci->auth.type == AUTH_PASS && !p->iseen[IK_AUTH_PASS])
		conf_perr(p, p->iseen[IK_AUTH_TYPE], at, "PASS needs an auth_pass");
	if (ci->auth.type == AUTH_NONE && p->iseen[IK_AUTH_TYPE] && p->iseen[IK_AUTH_PASS])
		conf_perr(p, p->iseen[IK_AUTH_PASS], ap, "given with auth_type = none (line %d)",
		          p->iseen[IK_AUTH_TYPE]);
}

/* RFC 5798 §7.1 (and reload's diff) key a router by (interface, VRID, family). */
static void
instance_check_unique(struct parser *p, const struct conf_instance *ci)
{
	const struct conf *c = p->conf;

	if (!ci->ifname[0] || !ci->vrid || !ci->family)
		return; /* incomplete, reported already */
	for (size_t i = 0; i + 1 < c->ninstances; i++) {
		const struct conf_instance *o = &c->instances[i];

		if (o->vrid == ci->vrid && o->family == ci->family &&
		    strcmp(o->ifname, ci->ifname) == 0) {
			conf_perr(p, p->iseen[IK_VRID], instance_keys[IK_VRID].name,
			          "%u on %s (%s) is already used by instance %s (line %d)",
			          ci->vrid, ci->ifname, family_name(ci->family), o->name, o->line);
			return;
		}
	}
}

/*
 * use_vmac: the link's name (default vipd.VRID / vipd6.VRID, as
 * netlink.h's vmac_default_name()), not the instance's interface, and no
 * other instance's.
 */
static void
instance_check_vmac(struct parser *p, struct conf_instance *ci)
{
	const struct conf *c = p->conf;

	if (!ci->use_vmac || !ci->vrid || !ci->family || !ci->ifname[0])
		return;
	if (!ci->vmac_name[0])
		vmac_default_name(ci->family, ci->vrid, ci->vmac_name);
	if (strcmp(ci->vmac_name, ci->ifname) == 0) {
		conf_perr(p, p->iseen[IK_USE_VMAC], "use_vmac",
		          "%s is the instance's interface; the virtual MAC link needs a name of its own",
		          ci->vmac_name);
		return;
	}
	for (size_t i = 0; i + 1 < c->ninstances; i++) {
		const struct conf_instance *o = &c->instances[i];

		if (o->use_vmac && strcmp(o->vmac_name, ci->vmac_name) == 0) {
			conf_perr(p, p->iseen[IK_USE_VMAC], "use_vmac",
			          "the link %s is already instance %s's (line %d); name this one: "
			          "use_vmac = NAME",
			          ci->vmac_name, o->name, o->line);
			return;
		}
	}
}

void
conf_hook_validate(struct parser *p, const char *key, const char *cmd, bool shell)
{
	char *argv[ARGV_MAX + 1];
	char first[CONF_STR];
	const char *why;

	if (shell) {
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(cmd, " \t"), cmd);
		if (first[0] == '/' && conf_get_program(p, key, first) == 0)
			conf_shell_args(p, key, cmd);
		return;
	}
	if (argv_split(cmd, argv, &why) < 0) {
		conf_perr(p, p->lineno, key, "%s", why);
		return;
	}
	if (conf_get_program(p, key, argv[0]) == 0)
		conf_get_program_args(p, key, argv);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
}

void
conf_instance_end(struct parser *p)
{
	static const int required[] = {IK_INTERFACE, IK_VRID, IK_VIP};
	struct conf_instance *ci = cur(p);

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!p->iseen[required[i]])
			conf_perr(p, ci->line, instance_keys[required[i]].name, "missing");
	instance_check_unicast(p, ci);
	instance_check_unique(p, ci);
	instance_check_version(p, ci);
	instance_check_vmac(p, ci);

	/* Hooks: checked like script checks, at their own lines. */
	int saved = p->lineno;
	for (int h = 0; h < CONF_HOOK_MAX; h++) {
		if (!ci->notify[h][0])
			continue;
		p->lineno = ci->notify_line[h];
		conf_hook_validate(p, conf_hook_names[h], ci->notify[h], ci->notify_shell);
	}
	p->lineno = saved;
}
