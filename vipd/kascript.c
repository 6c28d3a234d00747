/*
 * kascript.c - which keepalived vrrp_script commands a built-in vipd check
 * does exactly (ka_recognise, kaimport.h): `killall -0 NAME` and `pidof
 * NAME` (process), `nc -z HOST PORT` (tcp), `curl -f URL` on a Patroni
 * endpoint (http). Anything else, or a near miss whose meaning differs,
 * stays a script.
 */
#include "kaimport.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "argv.h"

bool
ka_int_in(const char *s, long min, long max, long *v)
{
	char *end;

	if (!s || !*s)
		return false;
	*v = strtol(s, &end, 10);
	return *end == '\0' && *v >= min && *v <= max;
}

/* argv[0] is `name`, bare (keepalived searches PATH) or in a system bin directory. */
static bool
is_prog(const char *arg0, const char *name)
{
	static const char *const dirs[] = {"", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"};
	char buf[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", dirs[i], name);
		if (strcmp(arg0, buf) == 0)
			return true;
	}
	return false;
}

/* A process name as /proc/PID/comm holds it whole: 1..15 characters, no '/'. */
bool
ka_comm_ok(const char *s)
{
	return *s && strlen(s) <= 15 && !strchr(s, '/') && s[0] != '-';
}

/*
 * Patroni's REST endpoints answer 200 or 503 and nothing else, so `curl
 * -f` (up below 400) and an http check expecting 200 agree exactly. Any
 * other URL might answer 204 or a redirect, which curl -f counts as up.
 */
static bool
patroni_path(const char *url)
{
	static const char *const paths[] = {
	    "/primary",   "/master",         "/leader", "/read-write",  "/replica",
	    "/read-only", "/standby-leader", "/health", "/liveness",    "/readiness",
	    "/sync",      "/synchronous",    "/async",  "/asynchronous"};
	const char *p = url + strcspn(url + 8, "/") + 8;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(p, paths[i]) == 0)
			return true;
	return false;
}

static enum ka_probe
rec_curl(char **av, int ac, char *lines, size_t lsize, char *why, size_t wsize)
{
	bool fail = false, head = false;
	const char *url = NULL;

	for (int i = 1; i < ac; i++) {
		const char *a = av[i];

		if (strcmp(a, "--fail") == 0)
			fail = true;
		else if (strcmp(a, "--silent") == 0 || strcmp(a, "--show-error") == 0)
			;
		else if (strcmp(a, "--head") == 0)
			head = true;
		else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < ac &&
		         strcmp(av[i + 1], "/dev/null") == 0)
			i++;
		else if (a[0] == '-' && a[1] && a[1] != '-' &&
		         strspn(a + 1, "fsSI") == strlen(a + 1)) {
			fail |= strchr(a, 'f') != NULL;
			head |= strchr(a, 'I') != NULL;
		} else if (a[0] != '-' && !url)
			url = a;
		else
			return KA_SCRIPT;
	}
	if (!fail || !url || !patroni_path(url) || strlen(url) > 160)
		return KA_SCRIPT;
	snprintf(lines, lsize, "type = http\nurl = %s\n%s", url, head ? "method = HEAD\n" : "");
	snprintf(why, wsize,
	         "recognised `curl -f %s` on a Patroni endpoint (200 or 503 only): an http "
	         "check, up on 200, without a fork",
	         url);
	return KA_HTTP;
}

/* nc -z [-v] ADDR PORT: a TCP connect to one address (a name may have several). */
static enum ka_probe
rec_nc(char **av, int ac, char *lines, size_t lsize, char *why, size_t wsize)
{
	const char *host = NULL, *port = NULL;
	bool zero = false;
	union inaddr a;
	int fam;
	long p;

	for (int i = 1; i < ac; i++) {
		const char *s = av[i];

		if (s[0] == '-' && s[1] && strspn(s + 1, "zv") == strlen(s + 1))
			zero |= strchr(s, 'z') != NULL;
		else if (s[0] != '-' && !host)
			host = s;
		else if (s[0] != '-' && !port)
			port = s;
		else
			return KA_SCRIPT;
	}
	if (!zero || !host || !port || !ka_int_in(port, 1, 65535, &p))
		return KA_SCRIPT;
	if (addr_pton(host, &fam, &a) < 0) {
		snprintf(why, wsize,
		         "kept as a script: nc tries every address of %s, a tcp check one; "
		         "with one address (127.0.0.1) a tcp check would do it without a fork",
		         host);
		return KA_SCRIPT;
	}
	snprintf(lines, lsize,
	         fam == AF_INET6 ? "type = tcp\naddress = [%s]:%ld\n"
	                         : "type = tcp\naddress = %s:%ld\n",
	         host, p);
	snprintf(why, wsize, "recognised `nc -z %s %ld`: a tcp check, without a fork", host, p);
	return KA_TCP;
}

enum ka_probe
ka_recognise(const char *command, int as_root, char *lines, size_t lsize, char *why, size_t wsize)
{
	char *av[ARGV_MAX + 1];
	const char *err;
	enum ka_probe r = KA_SCRIPT;
	int ac = 0;

	lines[0] = why[0] = '\0';
	if (argv_split(command, av, &err) < 0)
		return KA_SCRIPT;
	while (av[ac])
		ac++;
	if (ac == 3 && is_prog(av[0], "killall") && strcmp(av[1], "-0") == 0 && ka_comm_ok(av[2])) {
		/* As another user, killall -0 fails on root's processes: not the same. */
		if (as_root) {
			snprintf(lines, lsize, "type = process\nname = %s\n", av[2]);
			snprintf(why, wsize,
			         "recognised `killall -0 %s`: a process check on the name, "
			         "without a fork",
			         av[2]);
			r = KA_PROCESS;
		}
	} else if (ac == 2 && is_prog(av[0], "pidof") && ka_comm_ok(av[1])) {
		snprintf(lines, lsize, "type = process\nname = %s\n", av[1]);
		snprintf(why, wsize,
		         "recognised `pidof %s`: a process check on the name, without a fork",
		         av[1]);
		r = KA_PROCESS;
	} else if (ac >= 2 && (is_prog(av[0], "nc") || is_prog(av[0], "netcat"))) {
		r = rec_nc(av, ac, lines, lsize, why, wsize);
	} else if (ac >= 2 && is_prog(av[0], "curl")) {
		r = rec_curl(av, ac, lines, lsize, why, wsize);
	}
	for (int i = 0; i < ac; i++)
		free(av[i]);
	return r;
}
