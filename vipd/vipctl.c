/*
 * vipctl - talk to a running vipd over its control socket.
 *
 * The request is the command line's words joined by blanks, one line; the
 * reply is copied to stdout as it arrives (so streamed output such as
 * events shows up at once) until the daemon closes. Commands are not
 * checked here: the daemon knows which exist and answers "error: ..." to
 * the rest, so vipctl does not have to change when commands are added.
 *
 * Exit status: 0 ok, 1 the daemon answered "error: ..." (or a usage or I/O
 * error), 2 the daemon could not be reached.
 *
 * import-keepalived is the one local command: it needs no daemon and runs
 * kaimport.c (exit 0 all translated, 1 something reported, 2 parse error).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vipd/conf.h"    /* CONF_DEFAULT_SOCKET only */
#include "vipd/control.h" /* CTL_MAX_LINE, CTL_MAX_ARGS */
#include "vipd/kaimport.h"

#ifndef VIPD_VERSION
#define VIPD_VERSION "unknown"
#endif

#define ERROR_PREFIX "error:"
#define PREFIX_LEN   (sizeof(ERROR_PREFIX) - 1)

static void
usage(FILE *f)
{
	fprintf(f, "usage: vipctl [-S socket] command [args]\n"
	           "commands:\n"
	           "  status [--json]   show every instance's state\n"
	           "  hooks [--json]    show the last notify hook runs\n"
	           "  reload            reload the configuration file (errors: exit 1)\n"
	           "  events            follow events as JSON lines until vipd stops\n"
	           "  metrics           print the Prometheus metrics (as GET /metrics)\n"
	           "  drain [--wait [--timeout T]] --all | INSTANCE...\n"
	           "                    hand the VIPs over, stay out of service (kept across "
	           "restarts)\n"
	           "  undrain --all | INSTANCE...\n"
	           "                    put drained instances back in service\n"
	           "  import-keepalived [FILE]\n"
	           "                    print FILE (default " KA_DEFAULT_PATH ")\n"
	           "                    as vipd.conf; report what does not translate\n");
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* argv joined by single blanks, plus "\n"; NULL (message printed) if unfit. */
static char *
build_request(int argc, char **argv, size_t *lenp)
{
	size_t len = 1;
	char *req;

	if (argc > CTL_MAX_ARGS) {
		fprintf(stderr, "vipctl: too many arguments\n");
		return NULL;
	}
	for (int i = 0; i < argc; i++) {
		/* A newline would start a second request, which vipd ignores. */
		if (strpbrk(argv[i], "\r\n")) {
			fprintf(stderr, "vipctl: newline in argument\n");
			return NULL;
		}
		len += strlen(argv[i]) + 1;
	}
	if (len > CTL_MAX_LINE) {
		fprintf(stderr, "vipctl: request too long\n");
		return NULL;
	}
	req = malloc(len + 1);
	if (!req) {
		perror("vipctl");
		return NULL;
	}
	req[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(req, " ");
		strcat(req, argv[i]);
	}
	strcat(req, "\n");
	*lenp = strlen(req);
	return req;
}

/*
 * Write all of p. To the daemon's socket with MSG_NOSIGNAL (a daemon that
 * goes away is an error to report); to stdout with write(), so that
 * "vipctl events | head" ends on SIGPIPE like any filter.
 */
static int
write_all(int fd, const char *p, size_t len, bool to_socket)
{
	while (len > 0) {
		ssize_t n = to_socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Copy the reply to stdout, or to stderr if it starts with "error:"; the
 * choice is made once enough bytes have arrived to tell. 0, 1 on an error
 * reply, -1 on I/O failure.
 */
static int
relay(int fd)
{
	char buf[8192];
	size_t have = 0;
	int out = -1;

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ECONNRESET)
			n = 0; /* vipd closed with our input unread: still the end */
		if (n == -1) {
			perror("vipctl: read");
			return -1;
		}
		have += (size_t)n;
		if (out == -1) {
			size_t cmp = have < PREFIX_LEN ? have : PREFIX_LEN;
			bool maybe = memcmp(buf, ERROR_PREFIX, cmp) == 0;

			if (maybe && have < PREFIX_LEN && n > 0)
				continue; /* too short to tell yet */
			out = maybe && have >= PREFIX_LEN ? STDERR_FILENO : STDOUT_FILENO;
		}
		if (write_all(out, buf, have, false) == -1) {
			perror("vipctl: write");
			return -1;
		}
		have = 0;
		if (n == 0)
			return out == STDERR_FILENO ? 1 : 0;
	}
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_SOCKET;
	char *req;
	size_t len;
	int ch, fd, rc;

	/* "+": stop at the command, so its own options (--json) are not ours. */
	while ((ch = getopt(argc, argv, "+S:hV")) != -1) {
		switch (ch) {
		case 'S':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vipctl %s\n", VIPD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[0], "import-keepalived") == 0) {
		if (argc > 2) {
			usage(stderr);
			return KA_PARSE_ERROR;
		}
		return ka_import(argc == 2 ? argv[1] : KA_DEFAULT_PATH, stdout, stderr);
	}
	req = build_request(argc, argv, &len);
	if (!req)
		return 1;
	fd = connect_to(path);
	if (fd == -1) {
		fprintf(stderr, "vipctl: cannot connect to %s: %s (is vipd running?)\n", path,
		        strerror(errno));
		free(req);
		return 2;
	}
	if (write_all(fd, req, len, true) == -1) {
		int err = errno;

		/* vipd may have refused us with a reason before closing: show it. */
		if (relay(fd) != 1)
			fprintf(stderr, "vipctl: send: %s\n", strerror(err));
		rc = 1;
	} else {
		rc = relay(fd) == 0 ? 0 : 1;
	}
	free(req);
	close(fd);
	return rc;
}
