/*
 * kaimport.c - keepalived.conf to vipd.conf, see kaimport.h.
 *
 * Two passes over the top level: global_defs first (its garp defaults
 * and script_user apply to what follows), then the checks and the other
 * blocks in file order, then the instances, which need to know which
 * checks were translated. The output is [global], the checks, the
 * instances; reports go to the section where their keyword was, and to
 * errs in file order.
 */
#include "kaimport.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "argv.h"
#include "log.h"
#include "mem.h"

#define LINE_MAX_VIPD 190 /* vipd.conf lines are limited to about 200 characters */
#define MAX_CHECKS    256

struct report {
	unsigned seq;
	char *text;
};

struct ka {
	FILE *errs;
	struct report *rep;
	size_t nrep;
	/* [global] */
	char script_user[64];
	const char *garp_delay, *garp_repeat, *garp_refresh; /* vrrp_garp_master_* */
	int vrrp_version; /* global_defs vrrp_version, 0 = unset (keepalived: 2) */
	/* checks translated, by name, for track_* */
	const char *checks[MAX_CHECKS];
	size_t nchecks;
};

static const char NOT_V23[] = "vipd speaks VRRP version 2 or 3";

/* Report a keyword: into `out` as a comment where it was, and for errs. */
static void
report(struct ka *k, FILE *out, const struct ka_node *n, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	k->rep = xreallocarray(k->rep, k->nrep + 1, sizeof(*k->rep));
	k->rep[k->nrep].seq = n->seq;
	k->rep[k->nrep++].text =
	    xasprintf("%s:%d: %s: not translated: %s", n->file, n->line, n->kw, reason);
	fprintf(out, "; %s\n", k->rep[k->nrep - 1].text);
}

/* A name vipd takes for a section: 1..63 of A-Z a-z 0-9 _ . - */
static bool
name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

	return n > 0 && n < 64 && s[n] == '\0';
}

/* A value vipd.conf can carry: no "; " or " #" comment, not too long. */
static bool
value_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((*p == ';' || *p == '#') && (p == s || p[-1] == ' ' || p[-1] == '\t'))
			return false;
	return strlen(s) < LINE_MAX_VIPD && !strpbrk(s, "\n\r");
}

/* keepalived's seconds ("2", "0.1") to milliseconds, up to 3 decimals. */
static bool
secs_ms(const char *s, unsigned long *ms)
{
	unsigned long whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p) && whole < 10000000)
		whole = whole * 10 + (unsigned long)(*p++ - '0');
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale == 1 && *p != '0')
				return false; /* finer than a millisecond */
			scale /= 10;
			frac += (unsigned long)(*p - '0') * scale;
		}
	}
	if (*p)
		return false;
	*ms = whole * 1000 + frac;
	return true;
}

/* Milliseconds as a vipd duration: "2s", "100ms". */
static const char *
dur(unsigned long ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%lus", ms / 1000);
	else
		snprintf(buf, size, "%lums", ms);
	return buf;
}

/* ---- translation ---- */

static const struct ka_node *
find(const struct ka_node *blk, const char *kw)
{
	for (size_t i = 0; i < blk->nchild; i++)
		if (strcmp(blk->child[i].kw, kw) == 0)
			return &blk->child[i];
	return NULL;
}

static const char *
arg(const struct ka_node *n, size_t i)
{
	return i < n->nargs ? n->args[i] : NULL;
}

/* key = seconds as a duration in lo..hi ms, or a report. */
static void
put_secs(struct ka *k, FILE *out, const struct ka_node *n, const char *key, unsigned long lo,
         unsigned long hi)
{
	unsigned long ms;
	char b[32];

	if (n->nargs != 1 || !secs_ms(n->args[0], &ms) || ms < lo || ms > hi)
		report(k, out, n, "%s must be %lums..%lums, got \"%s\"", key, lo, hi,
		       n->nargs ? n->args[0] : "");
	else
		fprintf(out, "%s = %s\n", key, dur(ms, b, sizeof(b)));
}

static void
put_int(struct ka *k, FILE *out, const struct ka_node *n, const char *key, long lo, long hi)
{
	long v;

	if (n->nargs != 1 || !ka_int_in(n->args[0], lo, hi, &v))
		report(k, out, n, "%s must be %ld..%ld in vipd, got \"%s\"", key, lo, hi,
		       n->nargs ? n->args[0] : "");
	else
		fprintf(out, "%s = %ld\n", key, v);
}

/* weight N [reverse] in a check block. */
static void
put_weight(struct ka *k, FILE *out, const struct ka_node *n)
{
	if (n->nargs == 2 && strcmp(n->args[1], "reverse") == 0)
		report(k, out, n, "vipd has no reverse weights");
	else
		put_int(k, out, n, "weight", -254, 254);
}

static bool
is_root(const char *user)
{
	return !user[0] || strcmp(user, "root") == 0;
}

static void
add_check(struct ka *k, const char *name)
{
	if (k->nchecks < MAX_CHECKS)
		k->checks[k->nchecks++] = name;
}

static bool
have_check(const struct ka *k, const char *name)
{
	for (size_t i = 0; i < k->nchecks; i++)
		if (strcmp(k->checks[i], name) == 0)
			return true;
	return false;
}

/* A check block's name and header; false (reported) if vipd cannot name it. */
static bool
check_header(struct ka *k, FILE *out, const struct ka_node *n)
{
	if (n->nargs != 1 || !name_ok(n->args[0])) {
		report(k, out, n, "a check name is 1..63 of A-Z a-z 0-9 _ . - in vipd, got \"%s\"",
		       n->nargs ? n->args[0] : "");
		return false;
	}
	fprintf(out, "\n[check %s]\n; %s:%d: %s %s\n", n->args[0], n->file, n->line, n->kw,
	        n->args[0]);
	return true;
}

static void
vrrp_script(struct ka *k, FILE *out, const struct ka_node *n)
{
	const struct ka_node *sc = find(n, "script"), *us = find(n, "user");
	char lines[512], why[512];
	const char *user = us && us->nargs ? us->args[0] : k->script_user;

	if (!check_header(k, out, n))
		return;
	if (!sc || sc->nargs != 1) {
		report(k, out, n, "no script \"COMMAND\" in it");
		return;
	}
	if (ka_recognise(sc->args[0], is_root(user), lines, sizeof(lines), why, sizeof(why)) !=
	    KA_SCRIPT) {
		fprintf(out, "; %s\n%s", why, lines);
	} else if (!value_ok(sc->args[0])) {
		report(k, out, sc,
		       "vipd.conf cannot hold this command (a ';' or '#' after a blank starts a "
		       "comment, lines are at most about 200 characters): put it in a script file");
		return;
	} else {
		if (why[0])
			fprintf(out, "; %s\n", why);
		fprintf(out, "type = script\ncommand = %s\n", sc->args[0]);
	}
	add_check(k, n->args[0]);
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *c = &n->child[i];

		if (c == sc)
			continue;
		if (strcmp(c->kw, "interval") == 0)
			put_secs(k, out, c, "interval", 10, 3600000);
		else if (strcmp(c->kw, "timeout") == 0)
			put_secs(k, out, c, "timeout", 10, 3600000);
		else if (strcmp(c->kw, "rise") == 0)
			put_int(k, out, c, "rise", 1, 100);
		else if (strcmp(c->kw, "fall") == 0)
			put_int(k, out, c, "fall", 1, 100);
		else if (strcmp(c->kw, "weight") == 0)
			put_weight(k, out, c);
		else if (strcmp(c->kw, "init_fail") == 0 && c->nargs == 0)
			fprintf(out, "init_fail = yes\n");
		else if (strcmp(c->kw, "user") == 0 && c->nargs == 1 && strstr(lines, "script"))
			fprintf(out, "user = %s\n", c->args[0]);
		else if (strcmp(c->kw, "user") == 0 && c->nargs == 1)
			fprintf(out, "; user %s: a built-in check runs inside vipd\n", c->args[0]);
		else if (strcmp(c->kw, "user") == 0)
			report(k, out, c, "vipd runs scripts with the user's own groups");
		else
			report(k, out, c, "no vipd equivalent in a check");
	}
}

static void
vrrp_track_file(struct ka *k, FILE *out, const struct ka_node *n)
{
	const struct ka_node *f = find(n, "file");
	bool weight = false;

	if (!check_header(k, out, n))
		return;
	if (!f || f->nargs != 1 || f->args[0][0] != '/' || !value_ok(f->args[0])) {
		report(k, out, n, "no file \"/ABSOLUTE/PATH\" in it");
		return;
	}
	fprintf(out, "type = file\npath = %s\n", f->args[0]);
	add_check(k, n->args[0]);
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *c = &n->child[i];

		if (c == f)
			continue;
		if (strcmp(c->kw, "weight") == 0) {
			put_weight(k, out, c);
			weight = true;
		} else {
			report(k, out, c, "no vipd equivalent in a file check");
		}
	}
	/* keepalived's track_file weight defaults to 1, vipd's check weight to 0 */
	if (!weight)
		fprintf(out, "weight = 1\n");
}

static void
vrrp_track_process(struct ka *k, FILE *out, const struct ka_node *n)
{
	const struct ka_node *pr = find(n, "process");

	if (!check_header(k, out, n))
		return;
	if (!pr || pr->nargs != 1 || !ka_comm_ok(pr->args[0])) {
		report(k, out, n,
		       "vipd matches a process name of at most 15 characters, without arguments");
		return;
	}
	fprintf(out, "type = process\nname = %s\n", pr->args[0]);
	add_check(k, n->args[0]);
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *c = &n->child[i];

		if (c == pr)
			continue;
		if (strcmp(c->kw, "weight") == 0)
			put_weight(k, out, c);
		else
			report(
			    k, out, c,
			    "vipd's process check has no quorum, delay or command-line matching");
	}
}

/* global_defs: into [global], and defaults for the instances. */
static void
global_defs(struct ka *k, FILE *out, const struct ka_node *n)
{
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *c = &n->child[i];
		unsigned long ms;
		char b[32];

		if (strcmp(c->kw, "script_user") == 0 && c->nargs >= 1) {
			snprintf(k->script_user, sizeof(k->script_user), "%s", c->args[0]);
			fprintf(out, "script_user = %s\n", c->args[0]);
			if (c->nargs > 1)
				report(k, out, c,
				       "group %s: vipd runs scripts with the user's own groups",
				       c->args[1]);
		} else if (strcmp(c->kw, "enable_script_security") == 0) {
			fprintf(out,
			        "; enable_script_security: always on in vipd (an unsafe script "
			        "is an error at start)\n");
		} else if (strcmp(c->kw, "vrrp_version") == 0 && c->nargs == 1 &&
		           (strcmp(c->args[0], "2") == 0 || strcmp(c->args[0], "3") == 0)) {
			k->vrrp_version = c->args[0][0] - '0';
			fprintf(out, "; vrrp_version %s: version = %s in each IPv4 instance%s\n",
			        c->args[0], c->args[0],
			        k->vrrp_version == 3 ? " (the default)" : "");
		} else if (strcmp(c->kw, "vrrp_version") == 0) {
			report(k, out, c, "%s", NOT_V23);
		} else if (strcmp(c->kw, "vrrp_startup_delay") == 0 && c->nargs == 1 &&
		           secs_ms(c->args[0], &ms) && ms <= 3600000) {
			fprintf(out, "startup_delay = %s\n", dur(ms, b, sizeof(b)));
		} else if (strcmp(c->kw, "vrrp_garp_master_delay") == 0 && c->nargs == 1) {
			k->garp_delay = c->args[0];
			fprintf(out, "; vrrp_garp_master_delay: garp_delay in each instance\n");
		} else if (strcmp(c->kw, "vrrp_garp_master_repeat") == 0 && c->nargs == 1) {
			k->garp_repeat = c->args[0];
			fprintf(out, "; vrrp_garp_master_repeat: garp_repeat in each instance\n");
		} else if (strcmp(c->kw, "vrrp_garp_master_refresh") == 0 && c->nargs == 1) {
			k->garp_refresh = c->args[0];
			fprintf(out, "; vrrp_garp_master_refresh: garp_refresh in each instance\n");
		} else if (strcmp(c->kw, "vrrp_delay_after_boot") == 0) {
			report(k, out, c,
			       "vipd's startup_delay counts from vipd's start, not from boot; "
			       "startup_delay = %s waits that long after every start",
			       arg(c, 0) ? arg(c, 0) : "N");
		} else if (strcmp(c->kw, "router_id") == 0) {
			report(k, out, c,
			       "vipd has no router_id: it names the host only in "
			       "keepalived's mail and SNMP, which vipd does not send");
		} else if (strncmp(c->kw, "notification_email", 18) == 0 ||
		           strncmp(c->kw, "smtp_", 5) == 0) {
			report(k, out, c, "vipd sends no mail; a notify hook can");
		} else if (strcmp(c->kw, "vrrp_strict") == 0) {
			report(k, out, c,
			       "vipd always enforces VRRPv3 on the wire, but allows unicast, "
			       "garp repeats and preempt_delay (see vipd.conf(5))");
		} else {
			report(k, out, c, "no vipd equivalent in [global]");
		}
	}
}

/* One line of virtual_ipaddress: ADDR[/LEN] [dev IF] [label L] [scope S] [brd B]... */
static void
vip_line(struct ka *k, FILE *out, const struct ka_node *v, const char *ifname, int *family)
{
	struct vip vp;
	const char *why;

	if (v->block || vip_parse(v->kw, &vp, &why) < 0) {
		report(k, out, v, "not an address vipd takes as a VIP");
		return;
	}
	if (*family && vp.family != *family) {
		report(k, out, v,
		       "an instance's VIPs are of one family in vipd: add an instance "
		       "(it may have the same VRID) for this one");
		return;
	}
	/* Options lost are reported; the VIP itself is kept unless it goes elsewhere. */
	for (size_t i = 0; i < v->nargs; i += 2) {
		const char *o = v->args[i], *val = arg(v, i + 1);

		if (!val)
			report(k, out, v, "option %s: no vipd equivalent", o);
		else if (strcmp(o, "dev") == 0 && ifname && strcmp(val, ifname) == 0)
			continue;
		else if (strcmp(o, "scope") == 0 && strcmp(val, "global") == 0)
			continue;
		else if (strcmp(o, "dev") == 0) {
			report(k, out, v, "dev %s: vipd puts the VIPs on the instance's interface",
			       val);
			return;
		} else if (strcmp(o, "label") == 0)
			report(k, out, v, "label %s: vipd adds the VIP without a label", val);
		else
			report(k, out, v, "%s %s: no vipd equivalent", o, val);
	}
	*family = vp.family;
	fprintf(out, "virtual_ip = %s\n", v->kw);
}

/* track_script / track_file / track_process { NAME [weight N] } */
static void
track_block(struct ka *k, FILE *out, const struct ka_node *n, const char *key, bool iface)
{
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *t = &n->child[i];
		long w;

		if (!iface && !have_check(k, t->kw)) {
			report(k, out, t, "no translated check of that name");
			continue;
		}
		if (iface && (strlen(t->kw) > 15 || !*t->kw)) {
			report(k, out, t, "not an interface name");
			continue;
		}
		if (t->nargs == 0)
			fprintf(out, "%s = %s\n", key, t->kw);
		else if (t->nargs == 2 && strcmp(t->args[0], "weight") == 0 &&
		         ka_int_in(t->args[1], -254, 254, &w))
			fprintf(out, "%s = %s weight %ld\n", key, t->kw, w);
		else
			report(k, out, t, "vipd takes NAME [weight N] (no reverse)");
	}
}

/*
 * authentication { auth_type PASS auth_pass X } with VRRPv2: the same
 * keys. keepalived puts only the first 8 characters of a longer
 * password on the wire (RFC 3768's 8 bytes), so that is what is written.
 */
static void
authentication(struct ka *k, FILE *out, const struct ka_node *c, int version)
{
	const struct ka_node *t = find(c, "auth_type"), *pw = find(c, "auth_pass");
	const char *type = t && t->nargs == 1 ? t->args[0] : NULL;
	const char *pass = pw && pw->nargs == 1 ? pw->args[0] : NULL;

	if (version != 2) {
		report(k, out, c,
		       "VRRPv3 has no authentication (RFC 5798 section 9; keepalived ignores "
		       "it with version 3)");
		return;
	}
	if (!type || strcmp(type, "PASS") != 0) {
		report(k, out, c, "vipd supports auth_type PASS only (AH is not supported)");
		return;
	}
	if (!pass || !value_ok(pass)) {
		report(k, out, c, "no auth_pass vipd.conf can carry");
		return;
	}
	fprintf(out, "auth_type = PASS\n");
	for (size_t i = 0; i < c->nchild; i++)
		if (&c->child[i] != t && &c->child[i] != pw)
			report(k, out, &c->child[i], "no vipd equivalent in authentication");
	if (strlen(pass) > 8)
		fprintf(out,
		        "; auth_pass: keepalived sends only the first 8 characters of \"%s\"\n",
		        pass);
	fprintf(out, "auth_pass = %.8s\n", pass);
}

static void
instance_key(struct ka *k, FILE *out, const struct ka_node *c, const char *ifname, bool master,
             int version, int *family)
{
	const char *kw = c->kw;

	if (strcmp(kw, "interface") == 0 || strcmp(kw, "state") == 0) {
		/* written first */
	} else if (strcmp(kw, "virtual_router_id") == 0) {
		put_int(k, out, c, "vrid", 1, 255);
	} else if (strcmp(kw, "priority") == 0) {
		put_int(k, out, c, "priority", 1, 255);
	} else if (strcmp(kw, "advert_int") == 0) {
		unsigned long ms;
		char b[32];

		if (version == 2 && c->nargs == 1 && secs_ms(c->args[0], &ms) && ms >= 1000 &&
		    ms <= 255000 && ms % 1000 == 0)
			fprintf(out, "advert_interval = %s\n", dur(ms, b, sizeof(b)));
		else if (version == 2)
			report(k, out, c,
			       "VRRPv2 carries whole seconds: advert_interval must be 1s..255s");
		else if (c->nargs == 1 && secs_ms(c->args[0], &ms) && ms >= 10 && ms <= 40950 &&
		         ms % 10 == 0)
			fprintf(out, "advert_interval = %s\n", dur(ms, b, sizeof(b)));
		else
			report(k, out, c, "advert_interval must be 10ms..40950ms in steps of 10ms");
	} else if (strcmp(kw, "nopreempt") == 0) {
		if (master)
			fprintf(out, "; nopreempt: ignored by keepalived with state MASTER, so "
			             "preempt stays yes\n");
		else
			fprintf(out, "preempt = no\n");
	} else if (strcmp(kw, "preempt") == 0) {
		fprintf(out, "; preempt: the default\n");
	} else if (strcmp(kw, "preempt_delay") == 0) {
		put_secs(k, out, c, "preempt_delay", 0, 3600000);
	} else if (strcmp(kw, "virtual_ipaddress") == 0) {
		for (size_t i = 0; i < c->nchild; i++)
			vip_line(k, out, &c->child[i], ifname, family);
	} else if (strcmp(kw, "unicast_src_ip") == 0 && c->nargs == 1) {
		fprintf(out, "unicast_src = %s\n", c->args[0]);
	} else if (strcmp(kw, "unicast_peer") == 0) {
		for (size_t i = 0; i < c->nchild; i++) {
			if (c->child[i].nargs)
				report(k, out, &c->child[i], "vipd takes a peer's address only");
			else
				fprintf(out, "unicast_peer = %s\n", c->child[i].kw);
		}
	} else if (strcmp(kw, "track_script") == 0 || strcmp(kw, "track_file") == 0 ||
	           strcmp(kw, "track_process") == 0) {
		track_block(k, out, c, "track", false);
	} else if (strcmp(kw, "track_interface") == 0) {
		track_block(k, out, c, "track_interface", true);
	} else if ((strcmp(kw, "notify") == 0 || strcmp(kw, "notify_master") == 0 ||
	            strcmp(kw, "notify_backup") == 0 || strcmp(kw, "notify_fault") == 0 ||
	            strcmp(kw, "notify_stop") == 0) &&
	           c->nargs == 1 && value_ok(c->args[0])) {
		fprintf(out, "%s = %s\n", kw, c->args[0]);
	} else if (strcmp(kw, "garp_master_delay") == 0) {
		put_secs(k, out, c, "garp_delay", 0, 3600000);
	} else if (strcmp(kw, "garp_master_repeat") == 0) {
		put_int(k, out, c, "garp_repeat", 0, 100);
	} else if (strcmp(kw, "garp_master_refresh") == 0) {
		put_secs(k, out, c, "garp_refresh", 0, 86400000);
	} else if (strcmp(kw, "authentication") == 0) {
		authentication(k, out, c, version);
	} else if (strcmp(kw, "version") == 0 && c->nargs == 1 &&
	           (strcmp(c->args[0], "2") == 0 || strcmp(c->args[0], "3") == 0)) {
		fprintf(out, "; version %s: see version above\n", c->args[0]);
	} else if (strcmp(kw, "version") == 0) {
		report(k, out, c, "%s", NOT_V23);
	} else if (strcmp(kw, "use_vmac") == 0 && c->nargs == 0) {
		fprintf(out, "use_vmac = yes\n");
	} else if (strcmp(kw, "use_vmac") == 0 && c->nargs == 1 && value_ok(c->args[0]) &&
	           strlen(c->args[0]) < 16 && !strpbrk(c->args[0], "/: \t")) {
		fprintf(out, "use_vmac = %s\n", c->args[0]);
	} else if (strcmp(kw, "vmac_xmit_base") == 0) {
		report(k, out, c,
		       "vipd's adverts leave from the virtual MAC link (RFC 5798); it hears a "
		       "peer's from the link or the interface, so peers with either interoperate");
	} else if (strcmp(kw, "use_vmac") == 0) {
		report(k, out, c, "use_vmac takes at most a link name of 1 to 15 characters");
	} else if (strncmp(kw, "notify", 6) == 0) {
		report(k, out, c,
		       "vipd has the notify, notify_master, notify_backup, notify_fault "
		       "and notify_stop hooks, of one command vipd.conf can hold");
	} else {
		report(k, out, c, "no vipd equivalent in an instance");
	}
}

/* vrrp_sync_group NAME { group { A B } notify_* ... }: a [group NAME]. */
static void
sync_group(struct ka *k, FILE *out, const struct ka_node *n)
{
	const struct ka_node *members = find(n, "group");
	char line[LINE_MAX_VIPD + 1];
	size_t len;

	if (n->nargs != 1 || !name_ok(n->args[0])) {
		report(k, out, n, "a group name is 1 to 63 of A-Z a-z 0-9 _ . -");
		return;
	}
	if (!members || !members->block || members->nchild == 0) {
		report(k, out, n, "no group { } block naming its instances");
		return;
	}
	fprintf(out, "\n[group %s]\n", n->args[0]);
	len = (size_t)snprintf(line, sizeof(line), "instances =");
	for (size_t i = 0; i < members->nchild; i++) {
		const struct ka_node *m = &members->child[i];

		if (m->nargs || !name_ok(m->kw) || len + 1 + strlen(m->kw) > LINE_MAX_VIPD)
			report(k, out, m, "not an instance name vipd.conf can hold");
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", m->kw);
	}
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < n->nchild; i++) {
		const struct ka_node *c = &n->child[i];
		const char *kw = c->kw;

		if (c == members)
			continue;
		if ((strcmp(kw, "notify") == 0 || strcmp(kw, "notify_master") == 0 ||
		     strcmp(kw, "notify_backup") == 0 || strcmp(kw, "notify_fault") == 0 ||
		     strcmp(kw, "notify_stop") == 0) &&
		    c->nargs == 1 && value_ok(c->args[0]))
			fprintf(out, "%s = %s\n", kw, c->args[0]);
		else if (strncmp(kw, "notify", 6) == 0)
			report(k, out, c,
			       "vipd has the notify, notify_master, notify_backup, notify_fault "
			       "and notify_stop hooks, of one command vipd.conf can hold");
		else if (strncmp(kw, "track_", 6) == 0)
			report(k, out, c,
			       "a group tracks nothing itself in vipd: put the track lines in its "
			       "instances (one in FAULT takes the whole group out)");
		else if (strcmp(kw, "smtp_alert") == 0)
			report(k, out, c, "vipd sends no mail; a notify hook can");
		else
			report(k, out, c, "no vipd equivalent in a sync group");
	}
}

/* A global garp default, unless the instance sets its own. */
static void
garp_default(FILE *out, const struct ka_node *n, const char *kakw, const char *val, const char *key)
{
	unsigned long ms;
	char b[32];
	long v;

	if (!val || find(n, kakw))
		return;
	if (strcmp(key, "garp_repeat") == 0 && ka_int_in(val, 0, 100, &v))
		fprintf(out, "%s = %ld\n", key, v);
	else if (strcmp(key, "garp_repeat") != 0 && secs_ms(val, &ms) && ms <= 86400000)
		fprintf(out, "%s = %s\n", key, dur(ms, b, sizeof(b)));
}

static void
vrrp_instance(struct ka *k, FILE *out, const struct ka_node *n)
{
	const struct ka_node *ifn = find(n, "interface"), *st = find(n, "state");
	bool master = st && st->nargs == 1 && strcmp(st->args[0], "MASTER") == 0;
	const char *ifname = ifn && ifn->nargs == 1 ? ifn->args[0] : NULL;
	const struct ka_node *ver = find(n, "version"), *vips = find(n, "virtual_ipaddress");
	int family = 0, version = k->vrrp_version ? k->vrrp_version : 2;
	const char *why = k->vrrp_version ? "vrrp_version 2" : "keepalived's default for IPv4";

	if (n->nargs != 1 || !name_ok(n->args[0])) {
		report(k, out, n, "an instance name is 1..63 of A-Z a-z 0-9 _ . - in vipd");
		return;
	}
	fprintf(out, "\n[instance %s]\n; %s:%d: vrrp_instance %s\n", n->args[0], n->file, n->line,
	        n->args[0]);
	if (st)
		fprintf(out,
		        "; state %s: vipd has no initial state; every instance starts as BACKUP "
		        "and the election goes by priority (see vipd.conf(5))\n",
		        st->nargs ? st->args[0] : "");
	if (ifname)
		fprintf(out, "interface = %s\n", ifname);
	else if (ifn)
		report(k, out, ifn, "one interface name expected");
	if (ver && ver->nargs == 1 &&
	    (strcmp(ver->args[0], "2") == 0 || strcmp(ver->args[0], "3") == 0)) {
		version = ver->args[0][0] - '0';
		why = version == 2 ? "version 2" : why;
	}
	/* keepalived speaks VRRPv3 for IPv6 whatever it is told. */
	if (vips && vips->nchild && strchr(vips->child[0].kw, ':'))
		version = 3;
	if (version == 2)
		fprintf(out, "; VRRPv2 (%s)\nversion = 2\n", why);
	for (size_t i = 0; i < n->nchild; i++)
		instance_key(k, out, &n->child[i], ifname, master, version, &family);
	garp_default(out, n, "garp_master_delay", k->garp_delay, "garp_delay");
	garp_default(out, n, "garp_master_repeat", k->garp_repeat, "garp_repeat");
	garp_default(out, n, "garp_master_refresh", k->garp_refresh, "garp_refresh");
}

static int
rep_cmp(const void *a, const void *b)
{
	const struct report *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
top_level(struct ka *k, FILE *out, const struct ka_node *n)
{
	if (strcmp(n->kw, "vrrp_script") == 0)
		vrrp_script(k, out, n);
	else if (strcmp(n->kw, "vrrp_track_file") == 0)
		vrrp_track_file(k, out, n);
	else if (strcmp(n->kw, "vrrp_track_process") == 0)
		vrrp_track_process(k, out, n);
	else if (strcmp(n->kw, "vrrp_sync_group") == 0)
		sync_group(k, out, n);
	else if (strcmp(n->kw, "virtual_server") == 0 || strcmp(n->kw, "virtual_server_group") == 0)
		report(k, out, n, "vipd does VRRP only, no IPVS load balancing");
	else
		report(k, out, n, "no vipd equivalent");
}

int
ka_translate(const struct ka_tree *t, const char *source, FILE *out, FILE *errs)
{
	struct ka k = {.errs = errs};
	char *gbuf = NULL, *cbuf = NULL, *ibuf = NULL;
	size_t glen, clen, ilen;
	FILE *g = open_memstream(&gbuf, &glen), *c = open_memstream(&cbuf, &clen),
	     *in = open_memstream(&ibuf, &ilen);
	const struct ka_node *root = &t->root;
	int rc;

	if (!g || !c || !in)
		fatal("out of memory");
	for (size_t i = 0; i < root->nchild; i++)
		if (strcmp(root->child[i].kw, "global_defs") == 0)
			global_defs(&k, g, &root->child[i]);
	for (size_t i = 0; i < root->nchild; i++)
		if (strcmp(root->child[i].kw, "global_defs") != 0 &&
		    strcmp(root->child[i].kw, "vrrp_instance") != 0)
			top_level(&k, c, &root->child[i]);
	for (size_t i = 0; i < root->nchild; i++)
		if (strcmp(root->child[i].kw, "vrrp_instance") == 0)
			vrrp_instance(&k, in, &root->child[i]);
	fclose(g);
	fclose(c);
	fclose(in);
	fprintf(out, "; vipd.conf imported from %s by vipctl import-keepalived\n\n[global]\n%s%s%s",
	        source, gbuf, cbuf, ibuf);
	if (k.nrep)
		qsort(k.rep, k.nrep, sizeof(*k.rep), rep_cmp);
	for (size_t i = 0; i < k.nrep; i++) {
		if (errs)
			fprintf(errs, "%s\n", k.rep[i].text);
		free(k.rep[i].text);
	}
	rc = k.nrep ? KA_REPORTED : KA_ALL_TRANSLATED;
	free(k.rep);
	free(gbuf);
	free(cbuf);
	free(ibuf);
	return rc;
}

int
ka_import(const char *path, FILE *out, FILE *errs)
{
	struct ka_tree t;
	int rc;

	if (ka_parse_file(path, &t, errs) < 0)
		return KA_PARSE_ERROR;
	rc = ka_translate(&t, path, out, errs);
	ka_tree_free(&t);
	return rc;
}
