/*
 * conninfo.c - libpq connection strings vipd can use, see conninfo.h.
 */
#include "conninfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "checks/dl.h"

/*
 * libpq resolves a host name with getaddrinfo() inside PQconnectStart(),
 * blocking the loop: only IP literals and socket directories (or an
 * abstract "@name" socket) are accepted; with hostaddr, host is not
 * resolved at all.
 */
static int
hosts_ok(const char *hosts, const char *hostaddr, char *why, size_t whysize)
{
	char buf[1024], *h, *next; /* a config value is shorter */
	union inaddr a;
	int family;

	if (!hosts || (hostaddr && *hostaddr))
		return 0;
	snprintf(buf, sizeof(buf), "%s", hosts);
	for (h = buf; h; h = next) {
		if ((next = strchr(h, ',')))
			*next++ = '\0';
		if (*h && *h != '/' && *h != '@' && addr_pton(h, &family, &a) < 0) {
			snprintf(why, whysize,
			         "host \"%s\" must be an IP address or a socket directory (libpq "
			         "resolves names synchronously, which would block vipd)",
			         h);
			return -1;
		}
	}
	return 0;
}

/*
 * Without host or hostaddr in the string, libpq takes them from a
 * service (service= or PGSERVICE, whose file vipd does not read) or from
 * PGHOSTADDR / PGHOST: a name from either would be resolved
 * synchronously too. A service is refused unless the string names the
 * host; the variables are checked as if they were in the string.
 */
static int
implicit_hosts_ok(const char *service, char *why, size_t whysize)
{
	const char *env_service = getenv("PGSERVICE");

	if ((service && *service) || (env_service && *env_service)) {
		snprintf(why, whysize,
		         "%s \"%s\" may name a host that libpq would resolve synchronously, "
		         "blocking vipd: give host (an IP address or a socket directory) or "
		         "hostaddr in the connection string too",
		         service && *service ? "service" : "PGSERVICE",
		         service && *service ? service : env_service);
		return -1;
	}
	if (hosts_ok(getenv("PGHOST"), getenv("PGHOSTADDR"), why, whysize) < 0) {
		size_t n = strlen(why);

		snprintf(why + n, whysize - n, "; it comes from PGHOST");
		return -1;
	}
	return 0;
}

int
conninfo_check(const char *conninfo, char *why, size_t whysize)
{
	const char *host = NULL, *hostaddr = NULL, *service = NULL;
	const struct dl_pq *pq;
	PQconninfoOption *opts;
	char *err = NULL;
	int rc;

	if (!(pq = dl_pq(why, whysize)))
		return -1;
	if (!(opts = pq->conninfoParse(conninfo, &err))) {
		if (err)
			err[strcspn(err, "\n")] = '\0';
		snprintf(why, whysize, "%s", err ? err : "out of memory");
		pq->freemem(err);
		return -1;
	}
	for (const PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "service") == 0)
			service = o->val;
	}
	if ((host && *host) || (hostaddr && *hostaddr))
		rc = hosts_ok(host, hostaddr, why, whysize);
	else
		rc = implicit_hosts_ok(service, why, whysize);
	pq->conninfoFree(opts);
	return rc;
}
