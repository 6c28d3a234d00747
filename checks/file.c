/*
 * file.c - "file" checks, keepalived's track_file: the file holds an
 * integer that weights the priority (value x weight, track.h). The check
 * is up while the file reads as a number, down (value 0) when it is
 * missing or holds no number.
 *
 * Changes are noticed at once through inotify, not at the next interval.
 * The watch is on the file's directory, not the file: an atomic update
 * (write a temporary file, rename it over) replaces the inode, which a
 * watch on the file itself would lose, and a file that does not exist yet
 * can only be seen appearing from its directory. The interval runs remain
 * as a safety net, and re-establish the watch if the directory was gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "checks/check.h"
#include "vipd/log.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

#define FILE_EVENTS                                                                                \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* The directory itself went away or moved: the watch no longer means anything. */
#define FILE_DIR_GONE (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

struct file_priv {
	int ifd; /* inotify fd, -1 when not watching */
	/*
	 * Copies: a reload that keeps the check frees the conf it came from
	 * (check_set_conf), so nothing here may point into it (issue 9).
	 */
	char path[PATH_MAX];
	char dir[PATH_MAX];
	const char *base; /* the file's name in dir: points into path */
	bool warned;      /* "cannot watch" said once, not at every run */
	bool have_last;   /* last_ok / last_value hold the last reported result */
	bool last_ok;
	long last_value;
};

/* What reading the file gave: 0 and *value, or -1 and a reason. */
struct file_read {
	long value;
	char why[96];
};

int
file_parse_value(const char *text, long *value, char *why, size_t size)
{
	char *end;

	/* keepalived reads with strtol: leading space and a sign, anything after. */
	*value = strtol(text, &end, 10);
	if (end == text) {
		snprintf(why, size, "not a number");
		return -1;
	}
	return 0;
}

/*
 * Symbolic links are followed (the file may be a link an admin put there),
 * but nothing but a regular file is ever opened, and never blocking: a
 * FIFO there must not freeze the daemon (check_open_file).
 */
static int
file_read_value(const char *path, struct file_read *r)
{
	char text[64];
	ssize_t n;
	int fd;

	*r = (struct file_read){0};
	fd = check_open_file(path, false, r->why, sizeof(r->why));
	if (fd == -1) {
		if (errno == ENOENT)
			snprintf(r->why, sizeof(r->why), "no such file");
		return -1;
	}
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		return -1;
	}
	text[n] = '\0';
	return file_parse_value(text, &r->value, r->why, sizeof(r->why));
}

/* ---- the inotify watch ---- */

static void file_io_cb(struct loop *l, int fd, uint32_t events, void *arg);

static void
file_unwatch(struct check *c)
{
	struct file_priv *p = check_priv(c);

	if (p->ifd < 0)
		return;
	loop_del_fd(check_loop(c), p->ifd);
	close(p->ifd);
	p->ifd = -1;
}

static int
file_watch(struct check *c)
{
	struct file_priv *p = check_priv(c);

	p->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->ifd == -1)
		goto fail;
	if (inotify_add_watch(p->ifd, p->dir, FILE_EVENTS) == -1 ||
	    loop_add_fd(check_loop(c), p->ifd, EPOLLIN, file_io_cb, c) == -1) {
		int err = errno;

		close(p->ifd);
		p->ifd = -1;
		errno = err;
		goto fail;
	}
	if (p->warned)
		log_info("check %s: watching %s again", check_name(c), p->dir);
	p->warned = false;
	return 0;
fail:
	if (!p->warned)
		log_warn("check %s: cannot watch %s, reading it every interval", check_name(c),
		         p->dir);
	p->warned = true;
	return -1;
}

/*
 * Report a result, from a run or an event. One write makes several
 * events (create, attributes, close); counted each as a result, they
 * would make rise / fall count writes instead of time, so an event only
 * reports what differs from the last report. (This also hides the empty
 * file an IN_CREATE shows before its IN_CLOSE_WRITE: it reads like the
 * missing file it replaces.)
 */
static void
file_report(struct check *c, bool from_event)
{
	struct file_priv *p = check_priv(c);
	struct file_read r;
	bool ok = file_read_value(p->path, &r) == 0;

	if (from_event && p->have_last && ok == p->last_ok && r.value == p->last_value)
		return;
	p->have_last = true;
	p->last_ok = ok;
	p->last_value = r.value;
	check_set_value(c, r.value);
	if (from_event && ok)
		check_event(c, true, "value %ld", r.value);
	else if (from_event)
		check_event(c, false, "%s", r.why);
	else if (ok)
		check_done(c, true, "value %ld", r.value);
	else
		check_done(c, false, "%s", r.why);
}

static void
file_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct check *c = arg;
	struct file_priv *p = check_priv(c);
	char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false, dir_gone = false;
	ssize_t n;

	(void)l;
	(void)events;
	while ((n = read(fd, evbuf, sizeof(evbuf))) > 0) {
		for (char *ptr = evbuf; ptr < evbuf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)ptr;

			ptr += sizeof(*ev) + ev->len;
			if (ev->mask & FILE_DIR_GONE)
				dir_gone = true;
			if ((ev->mask & (IN_Q_OVERFLOW | FILE_DIR_GONE)) ||
			    (ev->len && strcmp(ev->name, p->base) == 0))
				relevant = true;
		}
	}
	if (dir_gone) {
		file_unwatch(c);
		file_watch(c); /* it may be back already (a rename of the directory) */
	}
	if (relevant)
		file_report(c, true);
}

/* ---- ops ---- */

static int
file_open(struct check *c)
{
	struct file_priv *p = xcalloc(1, sizeof(*p));
	const char *slash;

	p->ifd = -1;
	snprintf(p->path, sizeof(p->path), "%s", check_conf(c)->path);
	slash = strrchr(p->path, '/');
	if (!slash) {
		strcpy(p->dir, ".");
		p->base = p->path;
	} else {
		size_t len = slash == p->path ? 1 : (size_t)(slash - p->path);

		memcpy(p->dir, p->path, len);
		p->base = slash + 1;
	}
	check_set_priv(c, p);
	/* Without a watch the check still works, at the interval: not fatal. */
	file_watch(c);
	return 0;
}

static void
file_close(struct check *c)
{
	file_unwatch(c);
	free(check_priv(c));
	check_set_priv(c, NULL);
}

static void
file_run(struct check *c)
{
	struct file_priv *p = check_priv(c);

	if (p->ifd < 0)
		file_watch(c);
	file_report(c, false);
}

/* Runs end before run() returns: there is never anything to abort. */
static void
file_abort(struct check *c)
{
	(void)c;
}

const struct check_ops check_file_ops = {
    .open = file_open,
    .run = file_run,
    .abort = file_abort,
    .close = file_close,
};
