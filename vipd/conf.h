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
#include "argv.h"
#include "log.h"
#include "pkt.h"

#define CONF_DEFAULT_PATH        "/etc/vipd/vipd.conf"
#define CONF_DEFAULT_PIDFILE     "/run/vipd.pid"
#define CONF_DEFAULT_SOCKET      "/run/vipd/vipd.sock"
#define CONF_DEFAULT_STATE_DIR   "/var/lib/vipd"
#define CONF_DEFAULT_RT_PRIORITY 10
#define CONF_NAME_MAX            64
#define CONF_MAX_VIPS            VRRP_MAX_ADDRS /* one advert's address count is 8 bits */
#define CONF_MAX_PEERS           32
#define CONF_MAX_ARGS            ARGV_MAX
#define CONF_MAX_STATUS          8
#define CONF_MAX_TRACKS          32
#define CONF_STR                 1024
#define CONF_MAX_GROUP           16 /* instances in one [group] */

/* Notify hooks of an instance, indexes of conf_instance.notify[]. */
enum conf_hook {
	CONF_HOOK_MASTER = 0, /* notify_master */
	CONF_HOOK_BACKUP,     /* notify_backup */
	CONF_HOOK_FAULT,      /* notify_fault */
	CONF_HOOK_STOP,       /* notify_stop */
	CONF_HOOK_NOTIFY,     /* notify: every change, keepalived's 4 arguments appended */
	CONF_HOOK_MAX
};

/* "notify_master", ..., "notify" (conf_names.c) */
extern const char *const conf_hook_names[CONF_HOOK_MAX];

/* "track = NAME [weight N]" in an instance. */
struct conf_track {
	char check[CONF_NAME_MAX];
	int weight; /* the track's weight, or the check's default */
	int line;
};

/* "track_interface = IFNAME [weight N]" (default weight 0 = FAULT while down). */
struct conf_track_if {
	char ifname[IF_NAMESIZE];
	int weight;
	int line;
};

struct conf_instance {
	char name[CONF_NAME_MAX]; /* after "instance " */
	int line;                 /* line of the [instance ...] header */

	char ifname[IF_NAMESIZE];
	uint8_t vrid;                /* 1..255 */
	uint8_t priority;            /* 1..255, 255 = address owner */
	uint32_t advert_interval_ms; /* 10..40950, multiple of 10 (default 1000) */
	int family;                  /* AF_INET / AF_INET6, from the VIPs */
	struct vip vips[CONF_MAX_VIPS];
	size_t nvips;

	bool preempt;              /* default yes */
	bool preempt_fast;         /* default yes */
	uint32_t preempt_delay_ms; /* default 0 */
	uint32_t startup_delay_ms; /* [global] startup_delay, default 0 */

	bool has_unicast_src;
	bool unicast_ttl_check; /* unicast: drop adverts whose TTL is not 255 */
	union inaddr unicast_src;
	union inaddr peers[CONF_MAX_PEERS]; /* any peer => unicast mode */
	size_t npeers;

	struct conf_track tracks[CONF_MAX_TRACKS];
	size_t ntracks;
	struct conf_track_if track_ifs[CONF_MAX_TRACKS];
	size_t ntrack_ifs;

	enum vrrp_cksum checksum; /* default CKSUM_RFC5798; not with version 2 */
	uint8_t version;          /* 3 (default) or 2: VRRPv2, RFC 3768, IPv4 only */
	struct pkt_auth auth;     /* version 2: auth_type / auth_pass (AUTH_NONE default) */
	unsigned garp_repeat;     /* default 5 */
	uint32_t garp_delay_ms;   /* default 5000; 0 = no second burst */
	uint32_t garp_refresh_ms; /* default 0 = off */

	/* Notify hooks (hook.h): command lines as written, "" = none. */
	char notify[CONF_HOOK_MAX][CONF_STR];
	int notify_line[CONF_HOOK_MAX];
	uint32_t notify_timeout_ms; /* default 30000 */
	bool notify_shell;          /* default no: execve, no shell */
	char hook_user[64];         /* [global] script_user */

	/* promote_pgsql: libpq conninfo of the local server to promote on
	 * becoming Master (promote.h), "" = none. */
	char promote_pgsql[CONF_STR];

	char group[CONF_NAME_MAX]; /* its [group NAME], "" = none (filled after parsing) */
	size_t group_idx;          /* and its index in conf.groups[] when group[0] */

	/* use_vmac: the VIPs on a macvlan link with the virtual MAC (netlink.h vmac_*). */
	bool use_vmac;
	char vmac_name[IF_NAMESIZE]; /* "" until the section ends: then the default */
};

/*
 * [group NAME]: instances that move together (keepalived's
 * vrrp_sync_group, vgroup.h), with notify hooks of their own.
 */
struct conf_group {
	char name[CONF_NAME_MAX];
	int line;
	char members[CONF_MAX_GROUP][CONF_NAME_MAX];
	size_t nmembers;
	int members_line;
	char notify[CONF_HOOK_MAX][CONF_STR];
	int notify_line[CONF_HOOK_MAX];
	uint32_t notify_timeout_ms; /* default 30000 */
	bool notify_shell;          /* default no */
	char hook_user[64];         /* [global] script_user */
};

/* Health checks ([check NAME] sections), see checks/check.h. */
enum check_type {
	CT_SCRIPT = 0,
	CT_PROCESS,
	CT_TCP,
	CT_HTTP,
	CT_PGSQL,
	CT_HAPROXY,
	CT_FILE,
	CT_MAX
};

/* "script", "process", "tcp", "http", "pgsql", "haproxy", "file" (conf_names.c) */
extern const char *const check_type_names[CT_MAX];

enum pg_expect {
	PG_EXPECT_PRIMARY = 0, /* pg_is_in_recovery() is false */
	PG_EXPECT_STANDBY,     /* pg_is_in_recovery() is true */
	PG_EXPECT_UP,          /* the query answers at all */
};

struct conf_check {
	char name[CONF_NAME_MAX];
	int line;
	enum check_type type;
	uint32_t interval_ms; /* default 1000 */
	uint32_t timeout_ms;  /* default = interval */
	unsigned rise;        /* default 1 */
	unsigned fall;        /* default 1 */
	bool init_fail;       /* start DOWN */
	int weight;           /* default weight for track lines without one; -254..254 */

	/* script: argv[0] is an absolute path; with shell, argv = sh -c "command". */
	char command[CONF_STR];        /* as written */
	char *argv[CONF_MAX_ARGS + 1]; /* NULL-terminated, strings owned by the conf */
	bool shell;
	char user[64]; /* default [global] script_user */
	int user_line; /* of `user`, 0 = from script_user */

	/* process */
	char proc_name[64]; /* "name": matched against /proc/PID/comm */
	char pidfile[4096];

	/* tcp: "address" = 127.0.0.1:5000 or [::1]:5000 */
	int tcp_family;
	union inaddr tcp_addr;
	uint16_t tcp_port;

	/* http */
	char url[CONF_STR];
	int expect_status[CONF_MAX_STATUS]; /* default {200} */
	size_t nexpect_status;
	char expect_body[256]; /* substring; "" = any */
	char method[8];        /* GET (default), HEAD, OPTIONS */

	/* pgsql */
	char conninfo[CONF_STR];
	enum pg_expect pg_expect; /* default primary */

	/* haproxy: stats socket path, optional backend that needs an UP server */
	char socket[108];
	char backend[64];

	/* file: keepalived's track_file */
	char path[4096];
};

struct conf {
	char path[4096];
	char pidfile[4096];
	char control_socket[108];   /* sun_path */
	char state_dir[4096];       /* drained instances survive restarts here */
	enum log_level log_level;   /* default info */
	char user[64];              /* run as this user after start-up, "" = stay */
	char script_user[64];       /* default: the user vipd runs as */
	unsigned realtime_priority; /* SCHED_RR priority 1..99, 0 = off (default 10) */
	char metrics_listen[64];    /* "ADDR:PORT" serving GET /metrics; "" = off (default) */
	uint32_t startup_delay_ms;  /* no takeover this long after start (default 0) */
	struct conf_instance *instances;
	size_t ninstances;
	struct conf_check *checks;
	size_t nchecks;
	struct conf_group *groups;
	size_t ngroups;
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

/* Find a group by name; NULL if none. */
const struct conf_group *conf_find_group(const struct conf *c, const char *name);

/* Find a check by name; NULL if none. */
const struct conf_check *conf_find_check(const struct conf *c, const char *name);

/*
 * Parse a duration: "1s", "100ms", "0.01s", "2" (seconds, keepalived's
 * unit). 0 and *ms set, or -1.
 */
int conf_parse_duration_ms(const char *s, uint32_t *ms);
/*
 * An http check's URL against libcurl's features (curl_version_info()):
 * the host name libcurl would resolve synchronously, blocking vipd (in
 * buf), or NULL if there is none (an IP literal, or an asynchronous
 * resolver).
 */
const char *conf_url_blocking_host(const char *url, long curl_features, char *buf,
                                   size_t size);

#endif
