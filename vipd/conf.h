/*
 * conf.h - vipd.conf: INI parsed with inih into one fresh struct conf.
 *
 * conf_load() never half-applies: it returns a complete, validated config
 * or collects every error as "FILE:LINE: key: reason" and returns NULL.
 * Reload parses anew and diffs by (interface, vrid, family).
 */
#ifndef VIPD_CONF_H
#define VIPD_CONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "log.h"
#include "pkt.h"

#define CONF_DEFAULT_PATH    "/etc/vipd/vipd.conf"
#define CONF_DEFAULT_PIDFILE "/run/vipd.pid"
#define CONF_DEFAULT_SOCKET  "/run/vipd/vipd.sock"
#define CONF_NAME_MAX        64
#define CONF_MAX_VIPS        64
#define CONF_MAX_PEERS       32

struct conf_instance {
	char name[CONF_NAME_MAX]; /* after "instance " */
	int line;                 /* line of the [instance ...] header */

	char ifname[IF_NAMESIZE];
	uint8_t vrid;              /* 1..255 */
	uint8_t priority;          /* 1..255, 255 = address owner */
	uint32_t advert_interval_ms; /* 10..40950, multiple of 10 (default 1000) */
	int family;                /* AF_INET / AF_INET6, from the VIPs */
	struct vip vips[CONF_MAX_VIPS];
	size_t nvips;

	bool preempt;               /* default yes */
	bool preempt_fast;          /* default yes */
	uint32_t preempt_delay_ms;  /* default 0 */

	bool has_unicast_src;
	union inaddr unicast_src;
	union inaddr peers[CONF_MAX_PEERS]; /* any peer => unicast mode */
	size_t npeers;

	enum vrrp_cksum checksum; /* default CKSUM_RFC5798 */
	unsigned garp_repeat;     /* default 5 */
	uint32_t garp_delay_ms;   /* default 5000; 0 = no second burst */
	uint32_t garp_refresh_ms; /* default 0 = off */
};

struct conf {
	char path[4096];
	char pidfile[4096];
	char control_socket[108]; /* sun_path */
	enum log_level log_level; /* default info */
	struct conf_instance *instances;
	size_t ninstances;
};

/*
 * Parse and validate `path`. On success returns a new struct conf. On
 * failure writes every problem to `errs` as "FILE:LINE: key: reason\n"
 * and returns NULL. errs may be NULL (errors are then discarded).
 */
struct conf *conf_load(const char *path, FILE *errs);
/* Same, from an in-memory string; `name` is used in error messages. */
struct conf *conf_load_string(const char *name, const char *text, FILE *errs);
void conf_free(struct conf *c);

/* Find an instance by (ifname, vrid, family); NULL if none. */
const struct conf_instance *conf_find(const struct conf *c, const char *ifname, uint8_t vrid,
				      int family);

/*
 * Parse a duration: "1s", "100ms", "0.01s", "2" (seconds, keepalived's
 * unit). 0 and *ms set, or -1.
 */
int conf_parse_duration_ms(const char *s, uint32_t *ms);

#endif
