/*
 * vrrp_priv.h - the instance struct, shared by vrrp.c (protocol and
 * interface), vrrp_track.c (checks and tracked interfaces) and
 * vrrp_status.c (vipctl status). Not for anything else.
 */
#ifndef VIPD_VRRP_PRIV_H
#define VIPD_VRRP_PRIV_H

#include "pace.h"
#include "vrrp.h"

struct check;
struct hookq;
struct vgroup;
struct hookq_cfg;

/* A tracked check: "track = NAME [weight N]". */
struct vrrp_track {
	struct check *check;
	int weight;
	int applied; /* what it adds to the priority now */
};

/* A tracked interface: "track_interface = IFNAME [weight N]". */
struct vrrp_track_if {
	char ifname[IF_NAMESIZE];
	int weight;
	bool up; /* present, admin up and running */
	int applied;
};

/* Why an instance is in FAULT (vrrp.c has their names). */
enum vrrp_fault {
	VF_NONE = 0,
	VF_DRAINED,    /* an operator drained it (vipctl drain) */
	VF_IF_MISSING, /* the interface does not exist */
	VF_IF_DOWN,    /* down or without carrier */
	VF_NO_SRC,     /* no address to advertise from */
	VF_SOCKET,     /* the port's socket could not be opened */
	VF_VIP_ADD,    /* the kernel refused a VIP (fault_why names it) */
	VF_VMAC,       /* use_vmac: the virtual MAC link could not be made */
	VF_TRACK,      /* a weight-0 tracked item is down (fault_why names it) */
	VF_GROUP,      /* another instance of its sync group is in FAULT (vgroup.h) */
	VF_MAX
};

/* What the tracked items make of the instance (vrrp_tracks_eval). */
struct vrrp_verdict {
	uint8_t priority;   /* effective, 1..255 */
	bool fault;         /* a weight-0 item is down */
	char fault_why[80]; /* "check:NAME" or "interface eth1 down" */
};

/*
 * Everything that happens to an instance, for vrrp_event(). Startup and
 * shutdown come from vrrp_start() / vrrp_stop(), adverts from the port,
 * the timer from the loop; VE_INPUTS says the effective priority or the
 * fault condition may have changed (a check, a link, the source
 * address); VE_RECONF that v->cfg was replaced (a reload).
 */
enum vrrp_ev_type { VE_STARTUP, VE_SHUTDOWN, VE_ADVERT, VE_TIMER, VE_INPUTS, VE_RECONF };

struct vrrp_ev {
	enum vrrp_ev_type type;
	const struct fsm_adv *adv; /* VE_ADVERT: decoded and checked */
	const char *why;           /* VE_INPUTS: names a priority change in the log, or NULL */
};

struct vrrp {
	struct conf_instance cfg;
	const struct vrrp_io *io;                   /* clock, socket, addresses (vrrp_io.h) */
	char tag[CONF_NAME_MAX + IF_NAMESIZE + 32]; /* "[VI_1 eth0 vrid 51 v4]" */
	struct loop *loop;
	struct fsm fsm;

	/* Interface, as last seen through netlink. */
	struct iface ifc; /* ifc.ifindex 0 = absent */
	struct iface vmac; /* use_vmac: its link (ifindex 0 until made), the VIPs' home */
	bool vmac_hears;   /* use_vmac: adverts heard on the link, and sent from it */
	bool vmac_sends;   /* the last advert left from the link */
	uint64_t vmac_err_logged_ns; /* the last "cannot send from the link" */
	bool have_src;
	union inaddr src;      /* source of our adverts (unicast_src or primary) */
	union inaddr group;    /* 224.0.0.18 or ff02::12 */
	struct vport *port;    /* the interface's shared socket (vport.h) */
	bool drained;          /* vipctl drain: FAULT until undrained */
	uint64_t peer_seen_ns; /* last advert (priority > 0) from another router */
	union inaddr peer_ip;  /* ...and its source */
	enum vrrp_fault fault; /* why in FAULT */
	bool own_fault;        /* ...for a cause of its own, not its group's */
	struct vgroup *sync;   /* its sync group ([group NAME]), or NULL */
	size_t sync_idx;       /* its index there */
	char fault_why[96];    /* ...in words ("interface down", "check:haproxy"...) */

	/* Tracked checks and interfaces (vrrp_track.c). */
	struct vrrp_track tracks[CONF_MAX_TRACKS];
	size_t ntracks;
	struct vrrp_track_if track_ifs[CONF_MAX_TRACKS];
	size_t ntrack_ifs;
	void (*track_changed)(struct check *c, void *arg); /* watches the checks */

	struct timer *fsm_timer;
	struct timer *garp_timer;
	bool garp_second_pending;      /* the garp_delay burst is still to come */
	struct pace_job garp_job;      /* announcement rounds waiting for the pacer */
	struct pace_job guard_job;     /* rounds for VIPs re-added by guard_vip */
	bool vip_guard[CONF_MAX_VIPS]; /* announced by guard_job */

	bool vip_ours[CONF_MAX_VIPS]; /* we added it, so we remove it */
	int vips_ifindex;             /* where we added them; 0: gone with their link */
	/*
	 * The kernel refused a VIP: FAULT (a Master without its address
	 * would blackhole it and keep a healthy peer Backup) until the
	 * retry timer clears it, after 1 s, doubling up to VIP_RETRY_MAX_MS.
	 */
	bool vip_add_failed;
	char vip_add_why[64];     /* "cannot add 192.0.2.100/24" */
	struct timer *vip_retry_timer;
	uint64_t vip_retry_ms;    /* the next wait; 0 after an add succeeded */
	uint64_t vip_add_errors;  /* adds the kernel refused (status, metrics) */

	uint64_t transitions;
	uint64_t transitions_by[R_MAX]; /* ...by reason (metrics) */
	uint64_t master_changes;        /* transitions into or out of MASTER */
	uint64_t adverts_sent;
	uint64_t adverts_received;
	uint64_t announced;              /* gratuitous ARPs / unsolicited NAs sent */
	uint64_t announce_errors;        /* ...and those that failed */
	uint64_t announce_err_logged_ns; /* rate limit of their warning */
	uint64_t last_advert_ns;         /* when our last advert left (0: priority 0, or none) */
	uint64_t adverts_late;           /* left more than interval + 2 ms after the previous one */
	uint64_t advert_late_max_ns;     /* the most past the interval of those */
	uint64_t dropped[DROP_MAX];
	uint64_t drop_logged_ns[DROP_MAX];
	uint64_t own_addr_logged_ns; /* the warning about another router on our address */
	enum fsm_reason last_reason;
	uint64_t mismatch_logged_ns;
	uint64_t send_err_logged_ns;

	struct hookq *hooks; /* notify hooks (hook.h) */
};

bool vrrp_unicast(const struct vrrp *v);
/* "[VI_1 eth0 vrid 51 v4]" from v->cfg into v->tag. */
void vrrp_set_tag(struct vrrp *v);
/* The hook queue's and the state machine's settings from the configuration. */
void vrrp_hookq_cfg(const struct vrrp *v, struct hookq_cfg *hc);
void vrrp_fsm_cfg(const struct conf_instance *ci, struct fsm_cfg *fc);
/* Listen on the port's shared socket (a no-op while listening). 0 or -1. */
int vrrp_sock_open(struct vrrp *v);
void vrrp_sock_close(struct vrrp *v);
/* Re-pick the advert source (unicast_src or the primary address). */
void vrrp_refresh_src(struct vrrp *v);
/* One gratuitous ARP / unsolicited NA for vip. */
void vrrp_announce_vip(struct vrrp *v, const struct vip *vip);
/* vrrp_vip.c */
/*
 * Add cfg.vips[k] and log it (an owner's own address is left alone): true
 * if now ours. A refusal sets vip_add_failed and arms the retry timer; the
 * caller then lets sync_inputs() take the instance to FAULT.
 */
bool vrrp_vip_add(struct vrrp *v, size_t k);
/* Every VIP: false if one was refused (the others stay until FAULT removes them). */
bool vrrp_vips_add(struct vrrp *v);
void vrrp_vip_retry_fired(struct loop *l, struct timer *t, void *arg);
/* Remove the VIPs we added, from the link we added them to. */
void vrrp_vips_del(struct vrrp *v);
/* Before the Startup event: remove VIPs a vipd that died left behind. */
void vrrp_vips_remove_leftovers(struct vrrp *v);
/* Master: a VIP of ours at a was deleted by someone else; re-add and announce it. */
/* False if the kernel refused to put it back: the caller goes to FAULT. */
bool vrrp_vip_guard(struct vrrp *v, const union inaddr *a);
/* Set up the instance's announcement jobs (vrrp_new). */
void vrrp_announce_init(struct vrrp *v);
/* A garp_repeat burst now, another after garp_delay, then every garp_refresh. */
void vrrp_announce_start(struct vrrp *v);
/* use_vmac: make (or adopt) the instance's link; remove the one it has (vrrp.c). */
void vrrp_vmac_ensure(struct vrrp *v);
void vrrp_vmac_remove(struct vrrp *v);
void vrrp_garp_timer_fired(struct loop *l, struct timer *t, void *arg);
/*
 * The one way into an instance's state machine: feed it the event and
 * carry out what it asks for (vrrp.c).
 */
void vrrp_event(struct vrrp *v, const struct vrrp_ev *e);

/* vrrp_track.c: `changed` is called when a tracked check changes state. */
int vrrp_tracks_init(struct vrrp *v, struct check *const *checks, size_t nchecks,
                     void (*changed)(struct check *c, void *arg));
void vrrp_tracks_free(struct vrrp *v);
/*
 * Reload: watch the checks v->cfg tracks now, among `checks`; what each
 * kept item applies and whether a kept interface is up carry over from
 * the previous set. 0, or -1 (a tracked check missing).
 */
int vrrp_tracks_rewire(struct vrrp *v, struct check *const *checks, size_t nchecks);
/*
 * The verdict of the tracked items now. A priority different from the
 * state machine's is logged and published, naming the items that changed
 * (or `why`, e.g. "reload", if not NULL).
 */
void vrrp_tracks_eval(struct vrrp *v, const char *why, struct vrrp_verdict *out);
/* A link changed: true if a tracked interface went up or down. */
bool vrrp_tracks_link_event(struct vrrp *v, const struct iface *ifc);
/* The "tracks" and "track_interfaces" members, into the open status object. */
void vrrp_tracks_json(const struct vrrp *v, struct json *j);
void vrrp_tracks_text(const struct vrrp *v, struct buf *b);

#endif
