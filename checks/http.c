/*
 * http.c - HTTP(S) checks through libcurl's multi interface, on vipd's loop.
 *
 * The target use is Patroni's REST API: GET /primary answers 200 only on
 * the running primary that holds the leader lock and 503 everywhere else,
 * so a check on it tells an instance whether its node should hold the VIP.
 *
 * One CURLM serves every http check, driven by the loop rather than by a
 * thread or curl_multi_perform(): libcurl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> loop_add_fd/mod/del) and when it wants to be
 * called back (CURLMOPT_TIMERFUNCTION -> one loop timer); we tell it what
 * happened with curl_multi_socket_action() and then collect the transfers
 * it has finished. Nothing here blocks: a host name in the URL goes to
 * libcurl's resolver thread, and everything else is non-blocking sockets.
 *
 * There is one multi per process, hence the file-scope state. It is
 * created by the first run and torn down, with curl_global_cleanup(), when
 * the last http check closes. libcurl itself is not linked but loaded on
 * first use (checks/dl.h), normally already by the configuration; every
 * call goes through its table, `curl`, set by the first run.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "checks/check.h"
#include "checks/dl.h"
#include "vipd/buf.h"
#include "vipd/log.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

#define HTTP_BODY_MAX (64 * 1024) /* body bytes kept for expect_body */

/* One run: an easy handle in the multi and what it has received. */
struct http_run {
	CURL *easy;
	struct buf body; /* the first HTTP_BODY_MAX bytes, only with expect_body */
	bool keep_body;
	char err[CURL_ERROR_SIZE];
};

static struct {
	unsigned users;      /* http checks opened and not yet closed */
	struct loop *loop;   /* theirs (vipd has one loop) */
	CURLM *multi;        /* NULL until the first run */
	struct timer *timer; /* libcurl's one timeout */
} hm;

static const struct dl_curl *curl; /* NULL until the first run loads libcurl */

static void http_drain(void);

/* ---- the multi on the loop ---- */

/* An fd libcurl watches became ready: tell libcurl, then collect. */
static void
http_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	int mask = 0, running;

	(void)l;
	(void)arg;
	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & EPOLLERR)
		mask |= CURL_CSELECT_ERR;
	curl->multi_socket_action(hm.multi, fd, mask, &running);
	http_drain();
}

static void
http_timer_cb(struct loop *l, struct timer *t, void *arg)
{
	int running;

	(void)l;
	(void)t;
	(void)arg;
	curl->multi_socket_action(hm.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_drain();
}

/*
 * CURLMOPT_SOCKETFUNCTION. libcurl calls it from inside its own calls
 * (curl_multi_socket_action, curl_multi_remove_handle, cleanups), so it
 * only touches the loop, which allows that anywhere. socketp is non-NULL
 * once the fd is registered with the loop.
 */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	uint32_t events = 0;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			loop_del_fd(hm.loop, fd);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (socketp && loop_mod_fd(hm.loop, fd, events) == 0)
		return 0;
	/* New to us; drop whatever stale registration the number may have. */
	loop_del_fd(hm.loop, fd);
	if (loop_add_fd(hm.loop, fd, events, http_io_cb, NULL) == -1) {
		log_warn("http: watching fd %d", fd);
		return -1;
	}
	curl->multi_assign(hm.multi, fd, &hm);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 disarms, 0 means as soon as possible. */
static int
http_curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	(void)userp;
	if (timeout_ms < 0)
		timer_disarm(hm.timer);
	else
		timer_arm_in(hm.timer, (uint64_t)timeout_ms * NS_PER_MS);
	return 0;
}

/* The shared multi, created by the first run. 0 or -1. */
static int
http_multi_get(void)
{
	if (hm.multi)
		return 0;
	if (curl->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	hm.multi = curl->multi_init();
	if (!hm.multi) {
		curl->global_cleanup();
		return -1;
	}
	hm.timer = timer_new(hm.loop, http_timer_cb, NULL);
	curl->multi_setopt(hm.multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl->multi_setopt(hm.multi, CURLMOPT_TIMERFUNCTION, http_curl_timer_cb);
	return 0;
}

static void
http_multi_put(void)
{
	if (!hm.multi)
		return;
	/* May still call the socket callback for a cached connection. */
	curl->multi_cleanup(hm.multi);
	hm.multi = NULL;
	timer_free(hm.timer);
	hm.timer = NULL;
	curl->global_cleanup();
}

/* ---- one run ---- */

/* CURLOPT_WRITEFUNCTION: keep the head of the body, swallow the rest. */
static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run *r = arg;
	size_t n = size * nmemb;

	if (r->keep_body && r->body.len < HTTP_BODY_MAX)
		buf_append(&r->body, data,
		           n < HTTP_BODY_MAX - r->body.len ? n : HTTP_BODY_MAX - r->body.len);
	return n;
}

static int
http_setup(struct check *c, struct http_run *r)
{
	const struct conf_check *cc = check_conf(c);
	CURL *e = r->easy;
	int bad = 0;

	bad |= curl->easy_setopt(e, CURLOPT_URL, cc->url) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_PRIVATE, c) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_ERRORBUFFER, r->err) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
	/* The engine times the run out too; this only tidies libcurl's side. */
	bad |= curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cc->timeout_ms) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	/* Talk to the node itself: no http_proxy from the environment. */
	bad |= curl->easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
	bad |= curl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= curl->easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
#endif
	/*
	 * A fresh connection every run: the check then proves the server
	 * accepts connections now, and no idle socket stays in the loop
	 * between runs (a cached one could also have died meanwhile).
	 */
	bad |= curl->easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	bad |= curl->easy_setopt(e, CURLOPT_USERAGENT, "vipd/" VIPD_VERSION) != CURLE_OK;
	if (strcmp(cc->method, "HEAD") == 0) {
		bad |= curl->easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	} else if (strcmp(cc->method, "OPTIONS") == 0) {
		bad |= curl->easy_setopt(e, CURLOPT_CUSTOMREQUEST, "OPTIONS") != CURLE_OK;
		bad |= curl->easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	}
	return bad ? -1 : 0;
}

static void
http_run_free(struct http_run *r)
{
	if (r->easy)
		curl->easy_cleanup(r->easy);
	buf_free(&r->body);
	free(r);
}

/* End the run without a result: out of the multi, then freed. */
static void
http_stop(struct check *c)
{
	struct http_run *r = check_priv(c);

	if (!r)
		return;
	check_set_priv(c, NULL);
	/* Calls http_socket_cb with CURL_POLL_REMOVE: it only deletes the fd. */
	curl->multi_remove_handle(hm.multi, r->easy);
	http_run_free(r);
}

static bool
http_status_expected(const struct conf_check *cc, long status)
{
	if (cc->nexpect_status == 0)
		return status == 200;
	for (size_t i = 0; i < cc->nexpect_status; i++)
		if (cc->expect_status[i] == status)
			return true;
	return false;
}

bool
http_judge(const struct conf_check *cc, long status, const char *body, size_t len, char *reason,
           size_t size)
{
	snprintf(reason, size, "HTTP %ld", status);
	if (!http_status_expected(cc, status))
		return false;
	if (cc->expect_body[0] != '\0' &&
	    !memmem(body ? body : "", len, cc->expect_body, strlen(cc->expect_body))) {
		snprintf(reason, size, "HTTP %ld but body lacks \"%s\"", status, cc->expect_body);
		return false;
	}
	return true;
}

static bool
http_verdict(const struct conf_check *cc, struct http_run *r, CURLcode res, char *reason,
             size_t size)
{
	long status = 0;

	if (res != CURLE_OK) {
		snprintf(reason, size, "%s", r->err[0] ? r->err : curl->easy_strerror(res));
		return false;
	}
	curl->easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	return http_judge(cc, status, r->body.data, r->body.len, reason, size);
}

/* A transfer is over: judge it, free it, then report (check_done last). */
static void
http_finish(CURL *easy, CURLcode res)
{
	char *p = NULL, reason[CURL_ERROR_SIZE + 64];
	struct check *c;
	bool ok;

	curl->easy_getinfo(easy, CURLINFO_PRIVATE, &p);
	c = (struct check *)p;
	if (!c || check_priv(c) == NULL)
		return;
	ok = http_verdict(check_conf(c), check_priv(c), res, reason, sizeof(reason));
	http_stop(c);
	check_done(c, ok, "%s", reason);
}

/*
 * Finish every transfer libcurl has completed. Each message is copied out
 * before http_finish(): removing a handle invalidates it, and check_done()
 * may close checks (even the last one, tearing the multi down).
 */
static void
http_drain(void)
{
	CURLMsg *m;
	int left;

	while (hm.multi && (m = curl->multi_info_read(hm.multi, &left))) {
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;

		if (m->msg == CURLMSG_DONE)
			http_finish(easy, res);
	}
}

/* ---- the check type ---- */

static int
http_open(struct check *c)
{
	if (hm.users > 0 && hm.loop != check_loop(c)) {
		log_warnx("http: check %s: all http checks must share one loop", check_name(c));
		return -1;
	}
	hm.loop = check_loop(c);
	hm.users++;
	return 0;
}

static void
http_run(struct check *c)
{
	const struct conf_check *cc = check_conf(c);
	struct http_run *r;
	char err[512];
	CURLMcode mc;

	if (!curl && !(curl = dl_curl(err, sizeof(err)))) {
		check_done(c, false, "%s", err);
		return;
	}
	if (http_multi_get() == -1) {
		check_done(c, false, "libcurl initialisation failed");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	buf_init(&r->body);
	r->keep_body = cc->expect_body[0] != '\0';
	r->easy = curl->easy_init();
	if (!r->easy || http_setup(c, r) == -1) {
		http_run_free(r);
		check_done(c, false, "libcurl: cannot set up the request");
		return;
	}
	check_set_priv(c, r);
	/* Arms our timer to "now" through http_curl_timer_cb: nothing is sent yet. */
	mc = curl->multi_add_handle(hm.multi, r->easy);
	if (mc != CURLM_OK) {
		check_set_priv(c, NULL);
		http_run_free(r);
		check_done(c, false, "libcurl: %s", curl->multi_strerror(mc));
	}
}

static void
http_abort(struct check *c)
{
	http_stop(c);
}

static void
http_close(struct check *c)
{
	http_stop(c); /* the engine aborts first; this is only a safety net */
	if (hm.users > 0 && --hm.users == 0)
		http_multi_put();
}

const struct check_ops check_http_ops = {
    .open = http_open,
    .run = http_run,
    .abort = http_abort,
    .close = http_close,
};
