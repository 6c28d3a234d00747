/*
 * test_sdnotify.c - systemd's notification protocol: the socket address
 * (a path, or '@' for the abstract namespace), the watchdog variables,
 * the STATUS= text, and real datagrams to a socket the test owns: what
 * each call sends, STATUS= coalesced, WATCHDOG=1 from the loop, and a
 * full socket queue never blocking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vipd/loop.h"
#include "vipd/sdnotify.h"
#include "testutil.h"

/* --- the address ----------------------------------------------------------- */

static void
test_addr_path(void **state)
{
	(void)state;
	struct sockaddr_un sa;
	socklen_t len = 0;

	assert_int_equal(sdnotify_addr("/run/systemd/notify", &sa, &len), 0);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	/* The terminating NUL counted, as for any path socket. */
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) +
	                          strlen("/run/systemd/notify") + 1);
}

static void
test_addr_abstract(void **state)
{
	(void)state;
	struct sockaddr_un sa;
	socklen_t len = 0;

	assert_int_equal(sdnotify_addr("@vipd/notify", &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "vipd/notify", strlen("vipd/notify"));
	/* The name is exactly the bytes after the NUL: no terminator, no padding. */
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 + strlen("vipd/notify"));
}

static void
test_addr_refused(void **state)
{
	(void)state;
	struct sockaddr_un sa;
	socklen_t len;
	char longp[sizeof(sa.sun_path) + 2];

	assert_int_equal(sdnotify_addr("", &sa, &len), -1);
	assert_int_equal(sdnotify_addr(NULL, &sa, &len), -1);
	assert_int_equal(sdnotify_addr("@", &sa, &len), -1);
	assert_int_equal(sdnotify_addr("/", &sa, &len), -1);
	assert_int_equal(sdnotify_addr("run/notify", &sa, &len), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sdnotify_addr(longp, &sa, &len), -1);
	/* The longest path that fits: 107 bytes and the NUL. */
	longp[sizeof(sa.sun_path) - 1] = '\0';
	assert_int_equal(sdnotify_addr(longp, &sa, &len), 0);
}

/* --- the watchdog variables ------------------------------------------------ */

static void
test_watchdog_usec(void **state)
{
	(void)state;

	assert_int_equal(sdnotify_watchdog_usec("200000", NULL, 42), 200000);
	assert_int_equal(sdnotify_watchdog_usec("10000000", "42", 42), 10000000);
	/* For another process: the one that started us was told, not us. */
	assert_int_equal(sdnotify_watchdog_usec("200000", "43", 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("200000", "x", 42), 0);
	assert_int_equal(sdnotify_watchdog_usec(NULL, NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("0", NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("", NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("-5", NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec(" 5", NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("5s", NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("99999999999999999999999", NULL, 42), 0);
}

/* --- the STATUS= text ------------------------------------------------------ */

static void
test_status_list(void **state)
{
	(void)state;
	const struct sdn_inst two[] = {{"VI_1", "MASTER"}, {"VI_2", "BACKUP"}};
	char s[SDN_STATUS_MAX + 1];

	sdnotify_status_format(s, sizeof(s), two, 2, 3, 3);
	assert_string_equal(s, "2 instances: VI_1 MASTER, VI_2 BACKUP; 3 checks up");
	sdnotify_status_format(s, sizeof(s), two, 1, 1, 1);
	assert_string_equal(s, "1 instance: VI_1 MASTER; 1 check up");
	sdnotify_status_format(s, sizeof(s), two, 2, 2, 3);
	assert_string_equal(s, "2 instances: VI_1 MASTER, VI_2 BACKUP; 2 of 3 checks up");
	sdnotify_status_format(s, sizeof(s), two, 2, 0, 1);
	assert_string_equal(s, "2 instances: VI_1 MASTER, VI_2 BACKUP; 0 of 1 check up");
	sdnotify_status_format(s, sizeof(s), two, 2, 0, 0);
	assert_string_equal(s, "2 instances: VI_1 MASTER, VI_2 BACKUP");
	sdnotify_status_format(s, sizeof(s), NULL, 0, 0, 0);
	assert_string_equal(s, "0 instances");
}

/* Hundreds of instances: the count per state, in alphabetical order, bounded. */
static void
test_status_summary(void **state)
{
	(void)state;
	static struct sdn_inst many[300];
	static char names[300][16];
	char s[SDN_STATUS_MAX + 1];

	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "VI_%d", i);
		many[i].name = names[i];
		many[i].state = i % 10 == 0 ? "FAULT" : i % 2 ? "BACKUP" : "MASTER";
	}
	sdnotify_status_format(s, sizeof(s), many, 300, 12, 14);
	assert_string_equal(s,
	                    "300 instances: 150 BACKUP, 30 FAULT, 120 MASTER; 12 of 14 checks up");
	/* A list just too long for the limit is summarised too, never cut. */
	for (int i = 0; i < 300; i++)
		many[i].state = "BACKUP";
	sdnotify_status_format(s, sizeof(s), many, 20, 0, 0);
	assert_string_equal(s, "20 instances: 20 BACKUP");
	/* A bigger buffer does not lift the limit. */
	char big[4096];
	sdnotify_status_format(big, sizeof(big), many, 300, 0, 0);
	assert_true(strlen(big) <= SDN_STATUS_MAX);
	assert_string_equal(big, "300 instances: 300 BACKUP");
	/* A small one is respected and terminated. */
	char small[8];
	sdnotify_status_format(small, sizeof(small), many, 300, 0, 0);
	assert_true(strlen(small) < sizeof(small));
}

/* --- datagrams to a socket the test owns ---------------------------------- */

struct rx {
	int fd;
	char name[64]; /* "@..." or a path, for NOTIFY_SOCKET */
};

/* A datagram socket the way systemd's is: abstract ("@...") or a path. */
static void
rx_open(struct rx *r, bool abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;

	if (abstract)
		snprintf(r->name, sizeof(r->name), "@vipd-test-sdnotify-%d", (int)getpid());
	else
		snprintf(r->name, sizeof(r->name), "/tmp/vipd-test-sdnotify-%d.sock",
		         (int)getpid());
	assert_int_equal(sdnotify_addr(r->name, &sa, &len), 0);
	if (!abstract)
		unlink(r->name);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, len), 0);
}

static void
rx_close(struct rx *r)
{
	close(r->fd);
	if (r->name[0] == '/')
		unlink(r->name);
}

/* The next datagram as a string, or "" if none is waiting. */
static const char *
rx_next(struct rx *r)
{
	static char msg[1024];
	ssize_t n = recv(r->fd, msg, sizeof(msg) - 1, 0);

	msg[n > 0 ? n : 0] = '\0';
	return msg;
}

static int status_calls;

static void
status_fn(char *s, size_t size, void *arg)
{
	(void)arg;
	status_calls++;
	snprintf(s, size, "%d changes", status_calls);
}

static void
notify_env(const struct rx *r, const char *watchdog_usec)
{
	setenv("NOTIFY_SOCKET", r->name, 1);
	if (watchdog_usec)
		setenv("WATCHDOG_USEC", watchdog_usec, 1);
	else
		unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Every message in order, to the abstract namespace; the environment unset. */
static void
test_messages_abstract(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;

	rx_open(&r, true);
	notify_env(&r, NULL);
	status_calls = 0;
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	assert_true(sdnotify_enabled());
	assert_int_equal(sdnotify_watchdog_interval_us(), 0);
	/* Scripts and hooks do not inherit them. */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));

	sdnotify_ready();
	assert_string_equal(rx_next(&r), "READY=1\nSTATUS=1 changes");
	sdnotify_reloading();
	const char *m = rx_next(&r);
	assert_true(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	unsigned long long us = strtoull(m + 27, NULL, 10);
	assert_true(us > 0 && us <= mono_now_ns() / 1000);
	sdnotify_ready();
	assert_string_equal(rx_next(&r), "READY=1\nSTATUS=2 changes");
	sdnotify_stopping();
	assert_string_equal(rx_next(&r), "STOPPING=1\nSTATUS=stopping");
	/* After STOPPING=1, no more STATUS= updates. */
	sdnotify_status_changed();
	tu_run_for(l, 150);
	assert_string_equal(rx_next(&r), "");
	assert_int_equal(sdnotify_send("X=1"), 0);
	assert_string_equal(rx_next(&r), "X=1");

	sdnotify_close();
	assert_false(sdnotify_enabled());
	rx_close(&r);
	loop_free(l);
}

/*
 * A burst of changes is one STATUS= from the loop, updates are at least
 * SDN_STATUS_MIN_NS apart, and nothing is sent when the text is the same.
 */
static void
test_status_coalesced(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;
	int n = 0;

	rx_open(&r, false);
	notify_env(&r, NULL);
	status_calls = 0;
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	sdnotify_ready();
	assert_string_equal(rx_next(&r), "READY=1\nSTATUS=1 changes");
	uint64_t t0 = mono_now_ns();
	for (int i = 0; i < 100; i++)
		sdnotify_status_changed();
	/* Not sent from the caller: it would be one send per change. */
	assert_string_equal(rx_next(&r), "");
	tu_run_for(l, 50);
	assert_string_equal(rx_next(&r), "");
	tu_run_for(l, 100);
	assert_string_equal(rx_next(&r), "STATUS=2 changes");
	assert_true(mono_now_ns() - t0 >= SDN_STATUS_MIN_NS);
	assert_int_equal(status_calls, 2);
	/* Changes spread over 500 ms: at most one update per 100 ms. */
	for (int i = 0; i < 50; i++) {
		sdnotify_status_changed();
		tu_run_for(l, 10);
		while (rx_next(&r)[0])
			n++;
	}
	assert_true(n >= 3 && n <= 6);
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

/* A change before READY=1 (which carries STATUS=) does not follow it within 100 ms. */
static void
test_status_spaced_after_ready(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;

	rx_open(&r, true);
	notify_env(&r, NULL);
	status_calls = 0;
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	sdnotify_status_changed();
	sdnotify_ready();
	assert_string_equal(rx_next(&r), "READY=1\nSTATUS=1 changes");
	tu_run_for(l, 50);
	assert_string_equal(rx_next(&r), "");
	tu_run_for(l, 100);
	assert_string_equal(rx_next(&r), "STATUS=2 changes");
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

static int same_calls;

static void
same_fn(char *s, size_t size, void *arg)
{
	(void)arg;
	same_calls++;
	snprintf(s, size, "unchanged");
}

static void
test_status_unchanged_not_sent(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;

	rx_open(&r, true);
	notify_env(&r, NULL);
	assert_int_equal(sdnotify_open(l, same_fn, NULL), 0);
	sdnotify_ready();
	assert_string_equal(rx_next(&r), "READY=1\nSTATUS=unchanged");
	sdnotify_status_changed();
	tu_run_for(l, 150);
	assert_int_equal(same_calls, 2);
	assert_string_equal(rx_next(&r), "");
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

/* WATCHDOG=1 from the loop every half interval, and only while it runs. */
static void
test_watchdog_from_loop(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;
	int n = 0;

	rx_open(&r, true);
	notify_env(&r, "40000"); /* 40 ms: every 20 ms */
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	assert_int_equal(sdnotify_watchdog_interval_us(), 40000);
	/* The loop does not turn: nothing is sent. */
	usleep(100 * 1000);
	assert_string_equal(rx_next(&r), "");
	tu_run_for(l, 205);
	while (!strcmp(rx_next(&r), "WATCHDOG=1"))
		n++;
	/* 0, 20, ... 200 ms: 11, give or take a shared machine's stalls. */
	assert_true(n >= 7 && n <= 12);
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

/* Not meant for us: WATCHDOG_PID names another process. */
static void
test_watchdog_other_pid(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;
	char pid[32];

	rx_open(&r, true);
	notify_env(&r, "40000");
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	assert_int_equal(sdnotify_watchdog_interval_us(), 0);
	assert_null(getenv("WATCHDOG_PID"));
	tu_run_for(l, 60);
	assert_string_equal(rx_next(&r), "");
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

/* A receiver that does not read: sends fail at once, never block. */
static void
test_full_queue_never_blocks(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rx r;
	int failed = 0;

	rx_open(&r, true);
	notify_env(&r, NULL);
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	uint64_t t0 = mono_now_ns();
	for (int i = 0; i < 5000; i++)
		failed += sdnotify_send("WATCHDOG=1") < 0;
	assert_true(failed > 0);
	assert_true(mono_now_ns() - t0 < TU_BLOCKED_NS * 5);
	sdnotify_close();
	rx_close(&r);
	loop_free(l);
}

/* Not run by systemd: nothing opens, nothing is sent, nothing fails. */
static void
test_disabled(void **state)
{
	(void)state;
	struct loop *l = loop_new();

	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "40000", 1);
	assert_int_equal(sdnotify_open(l, status_fn, NULL), 0);
	assert_false(sdnotify_enabled());
	assert_int_equal(sdnotify_watchdog_interval_us(), 0);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	sdnotify_ready();
	sdnotify_status_changed();
	sdnotify_stopping();
	sdnotify_close();
	/* A relative path is no address: refused, not guessed at. */
	setenv("NOTIFY_SOCKET", "notify.sock", 1);
	assert_int_equal(sdnotify_open(l, status_fn, NULL), -1);
	assert_false(sdnotify_enabled());
	assert_null(getenv("NOTIFY_SOCKET"));
	sdnotify_close();
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_path),
	    cmocka_unit_test(test_addr_abstract),
	    cmocka_unit_test(test_addr_refused),
	    cmocka_unit_test(test_watchdog_usec),
	    cmocka_unit_test(test_status_list),
	    cmocka_unit_test(test_status_summary),
	    cmocka_unit_test(test_messages_abstract),
	    cmocka_unit_test(test_status_coalesced),
	    cmocka_unit_test(test_status_spaced_after_ready),
	    cmocka_unit_test(test_status_unchanged_not_sent),
	    cmocka_unit_test(test_watchdog_from_loop),
	    cmocka_unit_test(test_watchdog_other_pid),
	    cmocka_unit_test(test_full_queue_never_blocks),
	    cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
