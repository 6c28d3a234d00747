/*
 * daemon.c - the running daemon's life: start-up, the instances and
 * checks started and run, signals, the graceful stop, and shutdown.
 *
 * Start-up goes in the order that keeps every error visible: what vipd
 * cannot run without is checked while stderr is still there, before
 * daemon() detaches. The stop lets the hooks of the stop run before
 * anything is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "announce.h"
#include "buf.h"
#include "child.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "event.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "metrics_http.h"
#include "pace.h"
#include "pkt.h"
#include "privs.h"
#include "realtime.h"
#include "reload_apply.h"
#include "sdnotify.h"
#include "spawn.h"
#include "runas.h"
#include "vrrp.h"
#include "checks/check.h"
#include "../netlink/netlink.h"

/* --- netlink events fan out to every instance ---------------------------- */

static void
on_link(void *arg, const struct iface *ifc)
{
	struct vipd *d = arg;

	if (d->stopped)
		return;
	vrrp_netlink_link(d->vrrps, d->nvrrps, ifc);
}

static void
on_addr(void *arg, int ifindex, int family, const union inaddr *a, uint8_t prefixlen, bool added)
{
	struct vipd *d = arg;

	(void)prefixlen;
	if (d->stopped)
		return;
	vrrp_netlink_addr(ifindex, family, a, added);
}

/* --- signals -------------------------------------------------------------- */

static void
on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	struct vipd *d = arg;
	struct buf b;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("received %s, stopping", strsignal((int)si.ssi_signo));
			loop_stop(l);
			break;
		case SIGHUP:
			if (d->stopped) {
				log_info("received SIGHUP while stopping; not reloading");
				break;
			}
			/* reload_apply() logs everything; the reply is for vipctl only. */
			buf_init(&b);
			reload_apply(d, &b);
			buf_free(&b);
			break;
		default:
			break;
		}
	}
}

static int
signals_open(struct vipd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	return loop_add_fd(d->loop, d->sigfd, EPOLLIN, on_signal, d);
}

/* --- systemd: READY=1, STATUS=, WATCHDOG=1 (sdnotify.h) --------------------- */

/* "2 instances: VI_1 MASTER, VI_2 BACKUP; 3 checks up" (or counts per state). */
static void
sd_status(char *s, size_t size, void *arg)
{
	const struct vipd *d = arg;
	struct sdn_inst *in = calloc(d->nvrrps ? d->nvrrps : 1, sizeof(*in));
	size_t up = 0;

	if (!in) {
		snprintf(s, size, "%zu instances", d->nvrrps);
		return;
	}
	for (size_t i = 0; i < d->nvrrps; i++)
		in[i] = (struct sdn_inst){vrrp_name(d->vrrps[i]),
		                          fsm_state_names[vrrp_state(d->vrrps[i])]};
	for (size_t i = 0; i < d->nchecks; i++)
		up += check_get_state(d->checks[i]) == CHK_UP;
	sdnotify_status_format(s, size, in, d->nvrrps, up, d->nchecks);
	free(in);
}

/* What STATUS= shows changes with a transition or a check going up or down. */
static void
sd_event(const char *line, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	if (strstr(line, "\"type\":\"transition\"") || strstr(line, "\"type\":\"check\""))
		sdnotify_status_changed();
}

static void
sd_open(struct vipd *d, bool foreground)
{
	sdnotify_open(d->loop, sd_status, d);
	if (!sdnotify_enabled())
		return;
	if (!foreground)
		log_warnx("NOTIFY_SOCKET is set but vipd runs without -n: systemd ignores "
		          "notifications from the detached process (use Type=notify with -n)");
	d->sd_sink = ev_subscribe(sd_event, NULL);
	if (!d->sd_sink)
		log_warn("cannot follow state changes; systemd's STATUS= will lag");
}

/* --- start-up and shutdown ------------------------------------------------- */

/*
 * The pidfile is also the lock that keeps a second vipd off the same
 * configuration: two daemons on one host would each remove the other's
 * VIPs as leftovers and both be Master, ignoring each other's adverts
 * (same source address). The flock is taken before anything touches the
 * network and held on an fd kept open for the daemon's life (daemon()'s
 * child inherits the open file description, and the lock with it).
 *
 * Opened without following a symbolic link and never blocking (a FIFO
 * put there has no reader: ENXIO); anything but a regular file is refused
 * before it is truncated. Returns the fd, -1 with errno if it cannot be
 * opened (vipd then runs without one, as before), or -2 if another process
 * holds the lock: *holder is its pid from the file (0 if not yet written).
 */
static int
pidfile_lock(const char *path, long *holder)
{
	struct stat st, now;
	char s[32];

	for (int tries = 0; tries < 3; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;
			ssize_t n = err == EWOULDBLOCK ? pread(fd, s, sizeof(s) - 1, 0) : -1;

			close(fd);
			if (err != EWOULDBLOCK) {
				errno = err;
				return -1;
			}
			s[n > 0 ? n : 0] = '\0';
			*holder = strtol(s, NULL, 10);
			return -2;
		}
		/*
		 * A vipd stopping unlinks the file, then unlocks: our lock may be
		 * on a file no longer at path. Lock what is there now instead.
		 */
		if (lstat(path, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* Our pid into the locked pidfile (after daemon(): the pid is final then). */
static int
pidfile_write(int fd)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, s, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* Before anything else: a second vipd on the same pidfile must not start. */
static void
pidfile_open(struct vipd *d)
{
	long holder = 0;

	d->pidfd = pidfile_lock(d->conf->pidfile, &holder);
	if (d->pidfd == -2 && holder > 0)
		fatalx("pidfile %s is locked by a running vipd (pid %ld); not starting a second "
		       "one on the same configuration",
		       d->conf->pidfile, holder);
	if (d->pidfd == -2)
		fatalx("pidfile %s is locked by a vipd still starting; not starting a second one",
		       d->conf->pidfile);
	/* Written now too, so that a second vipd can name us before daemon(). */
	if (d->pidfd < 0 || pidfile_write(d->pidfd) < 0)
		log_warn("cannot write pidfile %s", d->conf->pidfile);
	else
		d->pidfile_written = true;
}

/*
 * CAP_NET_ADMIN and CAP_NET_RAW, effective: find out before detaching,
 * while stderr is visible, and say which one is missing and where it
 * comes from. Then what a raw socket itself says (a user namespace, a
 * seccomp filter).
 */
static void
check_privileges(void)
{
	const char *missing = privs_missing();
	int fd;

	if (missing && geteuid() == 0)
		fatalx("vipd needs %s, which this root process lacks (a bounding set without it? "
		       "CapabilityBoundingSet= must allow CAP_NET_ADMIN and CAP_NET_RAW)",
		       missing);
	if (missing)
		fatalx("vipd needs %s (add it to AmbientCapabilities=, or start vipd as root)",
		       missing);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, VRRP_PROTO);
	if (fd < 0)
		fatal("cannot open a raw socket (vipd needs CAP_NET_RAW)");
	close(fd);
}

/*
 * After start-up, the daemon gives up what it no longer needs (privs.h):
 * the user of `user`, CAP_NET_ADMIN and CAP_NET_RAW (and CAP_KILL when
 * scripts run as others). What it writes from then on must be writable
 * by that user: the drained-state file in state_dir, the pidfile and the
 * control socket's removal at shutdown.
 */
static int
privs_enter(struct vipd *d)
{
	char err[512], *caps;
	struct passwd *pw;

	if (privs_drop(d->conf, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (geteuid() == 0)
		return 0;
	caps = privs_describe();
	pw = getpwuid(geteuid());
	log_info("running as %s (uid %u) with %s", pw ? pw->pw_name : "?", (unsigned)geteuid(),
	         caps ? caps : "capabilities unknown");
	free(caps);
	if (access(d->conf->state_dir, W_OK | X_OK) < 0)
		log_warn("state_dir %s is not writable by this user: vipctl drain cannot be "
		         "remembered across restarts (chown it, or StateDirectory= in the unit)",
		         d->conf->state_dir);
	return 0;
}

/* Checks are created first so instances can watch them, and started last. */
static int
checks_create(struct vipd *d)
{
	d->checks = calloc(d->conf->nchecks ? d->conf->nchecks : 1, sizeof(*d->checks));
	if (!d->checks)
		return -1;
	for (size_t i = 0; i < d->conf->nchecks; i++) {
		struct check *c = check_new(d->loop, &d->conf->checks[i]);

		if (!c)
			return -1;
		d->checks[d->nchecks++] = c;
	}
	return 0;
}

static int
checks_start(struct vipd *d)
{
	for (size_t i = 0; i < d->nchecks; i++)
		if (check_start(d->checks[i]) < 0) {
			log_warnx("check %s cannot start", check_name(d->checks[i]));
			return -1;
		}
	return 0;
}

/*
 * The instances drained before the last stop stay drained (drain.h): a
 * node rebooted during maintenance does not take its VIPs back. A state
 * file that cannot be trusted drains every instance.
 */
static void
drained_load(struct vipd *d)
{
	char why[4200];

	if (drain_load(d->conf->state_dir, &d->drained, why, sizeof(why)) < 0)
		log_error("%s: every instance starts drained, out of service "
		          "(vipctl undrain --all puts them back and rewrites the file)",
		          why);
	for (size_t i = 0; i < d->nvrrps; i++) {
		if (!drain_has(&d->drained, vrrp_name(d->vrrps[i])))
			continue;
		log_info("instance %s starts drained (%s/%s)", vrrp_name(d->vrrps[i]),
		         d->conf->state_dir, DRAIN_FILE);
		vrrp_set_drained(d->vrrps[i], true);
	}
}

/* Virtual MAC links a crash left that no instance will adopt (netlink.h). */
static void
vmac_sweep_leftovers(const struct conf *c)
{
	const char **keep = calloc(c->ninstances ? c->ninstances : 1, sizeof(*keep));
	size_t n = 0;

	if (!keep)
		return;
	for (size_t i = 0; i < c->ninstances; i++)
		if (c->instances[i].use_vmac)
			keep[n++] = c->instances[i].vmac_name;
	vmac_sweep(keep, n);
	free(keep);
}

static int
instances_start(struct vipd *d)
{
	if (checks_create(d) < 0)
		return -1;
	d->vrrps = calloc(d->conf->ninstances ? d->conf->ninstances : 1, sizeof(*d->vrrps));
	if (!d->vrrps)
		return -1;
	for (size_t i = 0; i < d->conf->ninstances; i++) {
		struct vrrp *v = vrrp_new(d->loop, &d->conf->instances[i], d->checks, d->nchecks);

		if (!v)
			return -1;
		d->vrrps[d->nvrrps++] = v;
	}
	drained_load(d);
	if (daemon_groups_build(d, d->conf) < 0)
		return -1;
	vmac_sweep_leftovers(d->conf);
	for (size_t i = 0; i < d->nvrrps; i++)
		if (vrrp_start(d->vrrps[i]) < 0)
			return -1;
	/* Leftover VIPs are gone and the sockets open: the rest runs unprivileged. */
	if (privs_enter(d) < 0)
		return -1;
	return checks_start(d);
}

/* --- graceful stop: let the notify hooks of the stop run ----------------- */

struct drain {
	struct vipd *d;
	uint64_t deadline;
};

static bool
hooks_idle(const struct vipd *d)
{
	for (size_t i = 0; i < daemon_nhooked(d); i++)
		if (!hookq_idle(daemon_hooked(d, i)))
			return false;
	return true;
}

/* The longest hook timeout among the queues still busy. */
static uint32_t
hooks_timeout_ms(const struct vipd *d)
{
	uint32_t tmo = 0;

	for (size_t i = 0; i < daemon_nhooked(d); i++) {
		const struct hookq *q = daemon_hooked(d, i);
		uint32_t t = hookq_timeout_ms(q);

		if (!hookq_idle(q) && t > tmo)
			tmo = t;
	}
	return tmo;
}

static void
drain_tick(struct loop *l, struct timer *t, void *arg)
{
	struct drain *dr = arg;

	if (hooks_idle(dr->d) || mono_now_ns() >= dr->deadline) {
		loop_stop(l);
		return;
	}
	timer_arm_in(t, 5 * NS_PER_MS);
}

/*
 * Stop every instance (Masters send priority 0 and drop their VIPs), then
 * keep the loop running until the hook queues (notify_stop, notify STOP,
 * and anything still queued) drain, for at most the longest notify_timeout
 * + 2 s; whatever is left then is killed. Returns at once without hooks.
 */
static void
stop_instances(struct vipd *d)
{
	uint32_t tmo;

	for (size_t i = 0; i < d->ngroups; i++)
		vgroup_stop(d->groups[i]);
	for (size_t i = 0; i < d->nvrrps; i++)
		vrrp_stop(d->vrrps[i]);
	d->stopped = true;
	if (hooks_idle(d))
		return;
	tmo = hooks_timeout_ms(d);
	struct drain dr = {.d = d, .deadline = mono_now_ns() + (tmo + 2000ULL) * NS_PER_MS};
	struct timer *t = timer_new(d->loop, drain_tick, &dr);

	log_info("waiting up to %u ms for hooks to finish", tmo + 2000);
	if (t) {
		timer_arm_in(t, 0);
		loop_run(d->loop);
		timer_free(t);
	}
	for (size_t i = 0; i < daemon_nhooked(d); i++)
		hookq_abort(daemon_hooked(d, i));
}

static void
shutdown_all(struct vipd *d)
{
	for (size_t i = 0; i < d->ngroups; i++)
		vgroup_stop(d->groups[i]);
	if (!d->stopped)
		for (size_t i = 0; i < d->nvrrps; i++)
			vrrp_stop(d->vrrps[i]);
	for (size_t i = 0; i < d->nvrrps; i++)
		vrrp_free(d->vrrps[i]);
	free(d->vrrps);
	for (size_t i = 0; i < d->ngroups; i++)
		vgroup_free(d->groups[i]);
	free(d->groups);
	reload_reap_retired(d, true);
	for (size_t i = 0; i < d->nchecks; i++)
		check_free(d->checks[i]);
	free(d->checks);
	ev_unsubscribe(d->sd_sink);
	sdnotify_close();
	ev_close();
	metrics_http_close(d->loop);
	control_close(d->loop);
	netlink_close(d->loop);
	arp_close();
	ndisc_close();
	pace_close();
	if (d->sigfd >= 0) {
		loop_del_fd(d->loop, d->sigfd);
		close(d->sigfd);
	}
	realtime_close();
	/* Unlinked while still locked: a vipd starting now locks a new file. */
	if (d->pidfile_written)
		unlink(d->conf->pidfile);
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->pidfd = -1;
	child_reap_killed(d->loop);
	spawn_helper_stop();
	runas_clear();
	loop_free(d->loop);
	conf_free(d->conf);
}

/* --- the daemon's life, as main() drives it ------------------------------- */

/* Netlink for link and address events, ARP and ND for the announcements. */
static void
network_open(struct vipd *d)
{
	struct netlink_events ev = {.link = on_link, .addr = on_addr, .arg = d};

	if (netlink_open(d->loop, &ev) < 0)
		fatalx("cannot open netlink sockets");
	if (arp_open() < 0)
		log_warn("cannot open ARP socket; gratuitous ARP disabled");
	if (ndisc_open() < 0)
		log_warn("cannot open ICMPv6 socket; unsolicited NA disabled");
}

/* metrics_listen: before daemon(), so that a port in use is said on stderr. */
static void
metrics_open(struct vipd *d)
{
	char err[512];

	if (!d->conf->metrics_listen[0])
		return;
	if (metrics_http_open(d->loop, d->conf->metrics_listen, metrics_render_daemon, d, err,
	                      sizeof(err)) < 0)
		fatalx("%s", err);
}

void
daemon_start(struct vipd *d, bool foreground, ctl_handler on_request)
{
	char err[512];

	log_init("vipd", true, d->conf->log_level);
	/* Before realtime.c and privs.c change them: the children get these back. */
	spawn_init();
	check_privileges();
	/* Before the spawn helper's fork: it drops on its own, as planned here. */
	if (privs_plan(d->conf, err, sizeof(err)) < 0)
		fatalx("%s", err);
	/* Once here and at each reload, never at a spawn in the loop (runas.h). */
	runas_load(d->conf, privs_run_uid());
	pidfile_open(d);
	d->loop = loop_new();
	if (!d->loop || pace_open(d->loop) < 0)
		fatal("cannot create the event loop");
	sd_open(d, foreground);
	if (control_open(d->loop, d->conf->control_socket, on_request, d) < 0) {
		if (errno == EADDRINUSE)
			fatalx("control socket %s is in use by a running vipd",
			       d->conf->control_socket);
		if (control_error())
			fatalx("control socket %s: %s", d->conf->control_socket, control_error());
		fatal("cannot listen on %s", d->conf->control_socket);
	}
	d->start_real_ns = ev_real_now_ns();
	metrics_open(d);
	if (!foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("vipd", false, d->conf->log_level);
	}
	realtime_set(d->loop, d->conf->realtime_priority);
	/* Now, while we are small: scripts and hooks are started by it, not by fork(). */
	if (spawn_helper_start() < 0)
		log_warn("cannot start the spawn helper; the first script or hook will");
	if (!foreground && d->pidfile_written && pidfile_write(d->pidfd) < 0)
		log_warn("cannot write pidfile %s", d->conf->pidfile);
	if (signals_open(d) < 0)
		fatal("cannot set up signals");
	network_open(d);
	log_info("vipd %s starting with %zu instance(s) from %s", VIPD_VERSION, d->conf->ninstances,
	         d->conf->path);
}

int
daemon_run(struct vipd *d)
{
	int rc = instances_start(d) < 0 ? 1 : 0;

	/* Every instance has removed its leftover VIPs and opened its socket. */
	if (rc == 0)
		sdnotify_ready();
	if (rc == 0 && loop_run(d->loop) < 0)
		rc = 1;
	sdnotify_stopping();
	if (rc == 0)
		stop_instances(d);
	return rc;
}

void
daemon_close(struct vipd *d)
{
	shutdown_all(d);
	drain_clear(&d->drained);
	log_info("vipd stopped");
}
