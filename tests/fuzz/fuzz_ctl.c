/*
 * fuzz_ctl.c - the control-socket request parser: a request line split
 * into words (vipd/control.c's ctl_split) and handed to the command table
 * (vipd/ctlcmd.c, ctl_drain.c), as a client's line is.
 *
 * No socket: the client is a fake, and the link wraps what would reach
 * out of the process (-Wl,--wrap, FUZZ_LDFLAGS_ctl in the Makefile):
 * ctl_printf / ctl_write / ctl_end / ctl_on_gone collect the reply here,
 * reload_apply() answers without reading a file, drain_save() without
 * writing one. The daemon has no instance; requests naming one are
 * refused as they would be. Properties: every request gets exactly one
 * reply that ends the client, or is kept open (events, drain --wait) and
 * ended when the client leaves; a refused request is one "error: " line.
 */
#include <string.h>

#include "fuzz.h"
#include "vipd/buf.h"
#include "vipd/conf.h"
#include "vipd/control.h"
#include "vipd/ctlcmd.h"
#include "vipd/daemon.h"
#include "vipd/event.h"
#include "vipd/log.h"
#include "vipd/loop.h"

struct ctl_client {
	struct buf out;
	bool ended;
	ctl_gone_fn gone;
	void *gone_arg;
};

void __wrap_ctl_write(struct ctl_client *c, const char *data, size_t len);
void __wrap_ctl_printf(struct ctl_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void __wrap_ctl_end(struct ctl_client *c);
void __wrap_ctl_on_gone(struct ctl_client *c, ctl_gone_fn fn, void *arg);
int __wrap_reload_apply(struct vipd *d, struct buf *reply);
int __wrap_drain_save(const char *dir, const struct drain_set *s, char *why, size_t whysize);

void
__wrap_ctl_write(struct ctl_client *c, const char *data, size_t len)
{
	FUZZ_ASSERT(!c->ended);
	buf_append(&c->out, data, len);
}

void
__wrap_ctl_printf(struct ctl_client *c, const char *fmt, ...)
{
	va_list ap;

	FUZZ_ASSERT(!c->ended);
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
}

void
__wrap_ctl_end(struct ctl_client *c)
{
	FUZZ_ASSERT(!c->ended); /* ended once */
	c->ended = true;
}

void
__wrap_ctl_on_gone(struct ctl_client *c, ctl_gone_fn fn, void *arg)
{
	c->gone = fn;
	c->gone_arg = arg;
}

int
__wrap_reload_apply(struct vipd *d, struct buf *reply)
{
	(void)d;
	buf_puts(reply, "reloaded: nothing changed\n");
	return 0;
}

int
__wrap_drain_save(const char *dir, const struct drain_set *s, char *why, size_t whysize)
{
	(void)dir;
	(void)s;
	(void)why;
	(void)whysize;
	return 0;
}

static struct vipd d;
static struct conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_ctl", true, LOGL_ERROR);
	d.loop = loop_new();
	if (!d.loop)
		abort();
	d.conf = &conf;
	d.sigfd = -1;
	snprintf(conf.state_dir, sizeof(conf.state_dir), "/nonexistent");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[CTL_MAX_LINE];
	char *argv[CTL_MAX_ARGS + 1];
	const char *why = NULL;
	struct ctl_client c = {0};
	const uint8_t *nl;
	size_t n;
	int argc;

	if (size < 1)
		return 0;
	/* First byte: the daemon is stopping (instances stopped) or running. */
	d.stopped = data[0] & 1;
	data++, size--;
	/* control.c reads one line of at most CTL_MAX_LINE - 1 bytes. */
	nl = memchr(data, '\n', size);
	n = nl ? (size_t)(nl - data) : size;
	if (n > sizeof(line) - 1)
		return 0;
	memcpy(line, data, n);
	line[n] = '\0';
	buf_init(&c.out);
	argc = ctl_split(line, argv, &why);
	if (argc < 0) {
		FUZZ_ASSERT(why && (strcmp(why, "empty request") == 0 ||
		                    strcmp(why, "too many arguments") == 0));
		buf_free(&c.out);
		return 0;
	}
	FUZZ_ASSERT(argc >= 1 && argc <= CTL_MAX_ARGS && argv[argc] == NULL);
	for (int i = 0; i < argc; i++)
		FUZZ_ASSERT(argv[i][0] && !strpbrk(argv[i], " \t\r"));
	ctlcmd_request(&c, argc, argv, &d);
	if (c.ended) {
		FUZZ_ASSERT(c.out.len > 0); /* nobody is left without an answer */
	} else {
		/* Kept open: the client leaves, as vipctl does on ^C. */
		FUZZ_ASSERT(c.gone != NULL);
		c.gone(&c, c.gone_arg);
		FUZZ_ASSERT(c.ended);
	}
	if (c.out.len >= 7 && memcmp(c.out.data, "error: ", 7) == 0)
		FUZZ_ASSERT(memchr(c.out.data, '\n', c.out.len) == c.out.data + c.out.len - 1);
	buf_free(&c.out);
	/* drain --all / undrain --all change the drained set: start afresh. */
	drain_clear(&d.drained);
	return 0;
}
