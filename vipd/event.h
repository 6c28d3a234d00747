/*
 * event.h - the event stream behind `vipctl events`.
 *
 * Whatever happens that an operator would want to follow (a transition, a
 * priority change, a check going up or down, a hook starting or ending) is
 * published here as one JSON object on one line, in the order it happened,
 * to every subscriber:
 *
 *   {"seq":42,"time":"2026-11-22T10:00:00.123Z","type":"transition",...}
 *
 * seq numbers every event since vipd started, published or not, so a
 * subscriber sees consecutive numbers from the point it joined. A
 * publisher builds its line only when somebody listens:
 *
 *   struct buf *b = ev_begin("priority");
 *   if (b) {
 *           ev_str(b, "instance", name);
 *           ev_uint(b, "from", old);
 *           ev_end(b);
 *   }
 *
 * Subscribers are sinks (a function and its argument): the control socket
 * registers its streaming clients, the unit tests a buffer. A sink may
 * unsubscribe itself, or be unsubscribed, from inside its own write.
 */
#ifndef VIPD_EVENT_H
#define VIPD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ev_sink;

/* Gets every line, '\n' included. */
typedef void (*ev_write_fn)(const char *line, size_t len, void *arg);

/* Never NULL (out of memory is fatal, mem.h). */
struct ev_sink *ev_subscribe(ev_write_fn fn, void *arg);
/* NULL is a no-op. */
void ev_unsubscribe(struct ev_sink *s);
size_t ev_subscribers(void);
/* Drop every subscriber and the line buffer (at exit). */
void ev_close(void);
/* The seq of the last event (0 before the first). */
uint64_t ev_last_seq(void);

/*
 * Start an event of this type: always counts it, and returns the line to
 * fill (seq, time and type already in) when somebody listens, else NULL.
 * ev_str() and the others add one member each, through the JSON writer
 * (buf.h); a NULL string is written as "".
 */
struct buf *ev_begin(const char *type);
void ev_str(struct buf *b, const char *key, const char *val);
void ev_uint(struct buf *b, const char *key, uint64_t val);
void ev_int(struct buf *b, const char *key, int64_t val);
void ev_bool(struct buf *b, const char *key, bool val);
/* Close the object and hand the line to every subscriber. */
void ev_end(struct buf *b);

/* "2026-11-22T10:00:00.123Z" for a CLOCK_REALTIME time in ns. */
void ev_iso_time(uint64_t real_ns, char *s, size_t size);
uint64_t ev_real_now_ns(void);

#endif
