/*
 * fuzz_haproxy.c - the HAProxy stats answer parser (checks/haproxy.c's
 * haproxy_verdict): the "show info;show stat BACKEND 4 -1" reply judged
 * for a backend.
 *
 * Input: one byte choosing the backend (none, "postgres", "pg_primary",
 * "be-1"), then the reply as read from the socket. Properties: the reason
 * fits its buffer, and an UP verdict names its backend's servers.
 */
#include <string.h>

#include "fuzz.h"
#include "checks/check.h"
#include "vipd/conf.h"

static const char *const backends[] = {"", "postgres", "pg_primary", "be-1"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf_check cc;
	char reason[256];
	char *text;
	bool up;

	if (size < 1)
		return 0;
	cc.type = CT_HAPROXY;
	snprintf(cc.backend, sizeof(cc.backend), "%s", backends[data[0] % 4]);
	text = fuzz_strndup(data + 1, size - 1);
	memset(reason, 0x55, sizeof(reason));
	up = haproxy_verdict(&cc, text, reason, sizeof(reason));
	FUZZ_ASSERT(memchr(reason, '\0', sizeof(reason)) != NULL);
	if (up && cc.backend[0])
		FUZZ_ASSERT(strstr(reason, "servers UP in") != NULL);
	else if (up)
		FUZZ_ASSERT(strncmp(reason, "haproxy answers", 15) == 0);
	free(text);
	return 0;
}
