/*
 * main.c - vipd: the command line, and the wiring of the daemon
 * (daemon.c) to its control commands (ctlcmd.c).
 *
 * Config first, engine second: the whole file is parsed and validated
 * before anything touches the network, so a bad config never half-starts.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctlcmd.h"
#include "daemon.h"

struct options {
	const char *path;    /* -f */
	const char *pidfile; /* -p, or NULL */
	const char *sock;    /* -S, or NULL */
	bool foreground;     /* -n */
	bool test_only;      /* -t */
};

static void
usage(void)
{
	fprintf(stderr, "usage: vipd [-ntV] [-f file] [-p pidfile] [-S socket]\n");
	exit(1);
}

/* -V prints the version and exits; anything unknown prints the usage and exits 1. */
static void
parse_options(int argc, char *argv[], struct options *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "f:hnp:S:tV")) != -1) {
		switch (ch) {
		case 'f':
			o->path = optarg;
			break;
		case 'n':
			o->foreground = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'S':
			o->sock = optarg;
			break;
		case 't':
			o->test_only = true;
			break;
		case 'V':
			printf("vipd %s\n", VIPD_VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static void
copy_override(char *dst, size_t size, const char *src, const char *what)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "vipd: %s path too long: %s\n", what, src);
		exit(1);
	}
	memcpy(dst, src, strlen(src) + 1);
}

/* -p and -S win over the file (and over it again at every reload). */
static void
apply_options(struct vipd *d, const struct options *o)
{
	char abspath[PATH_MAX];

	if (o->pidfile)
		copy_override(d->conf->pidfile, sizeof(d->conf->pidfile), o->pidfile, "pidfile");
	if (o->sock)
		copy_override(d->conf->control_socket, sizeof(d->conf->control_socket), o->sock,
		              "control socket");
	d->opt_pidfile = o->pidfile;
	d->opt_socket = o->sock;
	/* A reload reads the file again after daemon() moved us to "/". */
	if (d->conf->path[0] != '/' && realpath(o->path, abspath))
		snprintf(d->conf->path, sizeof(d->conf->path), "%s", abspath);
}

int
main(int argc, char *argv[])
{
	struct options o = {.path = CONF_DEFAULT_PATH};
	struct vipd d = {.sigfd = -1, .pidfd = -1};
	int rc;

	parse_options(argc, argv, &o);
	d.conf = conf_load(o.path, stderr);
	if (!d.conf)
		return 1;
	if (o.test_only) {
		printf("%s: configuration OK\n", o.path);
		conf_free(d.conf);
		return 0;
	}
	apply_options(&d, &o);

	daemon_start(&d, o.foreground, ctlcmd_request);
	rc = daemon_run(&d);
	daemon_close(&d);
	return rc;
}
