/*
 * fuzz_http.c - the HTTP check's verdict on an answer (checks/http.c's
 * http_judge): the status against expect_status, the head of the body
 * against expect_body.
 *
 * Input: a 2-byte status (0..65535, so odd ones too), one byte choosing
 * the configuration (expected statuses, expected body text), then the
 * body. Properties: the reason fits; a pass means an expected status and,
 * when a body is expected, that it holds the text.
 */
#include <string.h>

#include "fuzz.h"
#include "checks/check.h"
#include "vipd/conf.h"

static const char *const bodies[] = {"", "\"role\": \"master\"", "running", "{", "\"state\""};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf_check cc;
	char reason[CONF_STR + 96];
	long status;
	bool ok, status_ok = false;
	char *body;

	if (size < 3)
		return 0;
	status = (long)(data[0] << 8 | data[1]);
	cc = (struct conf_check){.type = CT_HTTP};
	snprintf(cc.expect_body, sizeof(cc.expect_body), "%s", bodies[(data[2] >> 4) % 5]);
	/* 0: the default (200); else 1-3 of 200, 204, 503, the status itself. */
	if (data[2] & 1)
		cc.expect_status[cc.nexpect_status++] = 200;
	if (data[2] & 2)
		cc.expect_status[cc.nexpect_status++] = 503;
	if (data[2] & 4)
		cc.expect_status[cc.nexpect_status++] = (int)status;
	if (data[2] & 8)
		cc.expect_status[cc.nexpect_status++] = 204;
	for (size_t i = 0; i < cc.nexpect_status; i++)
		status_ok |= cc.expect_status[i] == status;
	if (cc.nexpect_status == 0)
		status_ok = status == 200;
	/* Exact-size body (not NUL-terminated, as libcurl hands it over). */
	body = malloc(size - 3 ? size - 3 : 1);
	if (!body)
		return 0;
	memcpy(body, data + 3, size - 3);
	ok = http_judge(&cc, status, size > 3 ? body : NULL, size - 3, reason, sizeof(reason));
	FUZZ_ASSERT(memchr(reason, '\0', sizeof(reason)) != NULL);
	FUZZ_ASSERT(!ok || status_ok);
	if (ok && cc.expect_body[0])
		FUZZ_ASSERT(memmem(body, size - 3, cc.expect_body, strlen(cc.expect_body)));
	if (status_ok && !cc.expect_body[0])
		FUZZ_ASSERT(ok);
	free(body);
	return 0;
}
