/*
 * metrics_http.h - `metrics_listen`: GET /metrics over HTTP, served from
 * the event loop by libmicrohttpd (loaded with dlopen(), checks/dl.h).
 *
 * libmicrohttpd runs in its "external polling" mode with epoll: it owns
 * an epoll fd of its own (the listening socket and every connection),
 * which sits in vipd's loop like any other fd, and a loop timer follows
 * MHD_get_timeout() for its connection timeouts. Nothing blocks: the
 * sockets are non-blocking, MHD_run() only handles what is ready, and the
 * connection count (METRICS_CONN_LIMIT, METRICS_PER_IP_LIMIT), the idle
 * timeout and the request size are bounded, so a slow or hostile client
 * costs the loop at most a few microseconds per event it sends.
 */
#ifndef VIPD_METRICS_HTTP_H
#define VIPD_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct buf;
struct loop;

#define METRICS_CONN_LIMIT   64   /* connections at once; more wait in the backlog */
#define METRICS_PER_IP_LIMIT 8    /* ...from one address; more are closed at once */
#define METRICS_TIMEOUT_S    5    /* an idle connection is closed after this */
#define METRICS_MEMORY_LIMIT 8192 /* a request's headers: larger ones get 431 */
#define METRICS_LISTEN_MAX   64   /* "[ffff:...:ffff]:65535" and its NUL */

/*
 * Parse "ADDR:PORT", ADDR an IPv4 address or an IPv6 one in brackets
 * ("[::1]:9650"), PORT 1..65535. 0, or -1 with the reason in *why.
 */
int metrics_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
                         const char **why);

/* Writes the metrics text into the buffer it is given (metrics.h). */
typedef void (*metrics_render_fn)(struct buf *b, void *arg);

/*
 * Serve GET /metrics on `listen` (already validated) from loop l,
 * rendering each answer with render(b, arg). 0, or -1 with the reason in
 * err (libmicrohttpd missing, the address cannot be bound...).
 */
int metrics_http_open(struct loop *l, const char *listen, metrics_render_fn render, void *arg,
                      char *err, size_t errsize);
/* Close the listener and every connection. A no-op when not open. */
void metrics_http_close(struct loop *l);

#endif
