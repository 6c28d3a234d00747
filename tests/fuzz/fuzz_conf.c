/*
 * fuzz_conf.c - the config parser, whole files, through conf_load(): the
 * entry point of `vipd -t`, of start-up and of every reload.
 *
 * The input is written to a memfd and conf_load() opens it by its
 * /proc/self/fd path, so the file is read exactly as vipd reads one (open,
 * fstat, getline), with no file on disk. User names are looked up in a
 * table of this file (-Wl,--wrap=getpwnam,--wrap=getpwuid: FUZZ_LDFLAGS_conf
 * in the Makefile), not through NSS, which may ask nscd, sssd or LDAP
 * over a socket, and would make a run depend on the machine's users.
 * Properties: a config is either
 * refused with at least one error line or accepted whole, and an accepted
 * one keeps its documented bounds.
 */
#include <pwd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "vipd/conf.h"
#include "vipd/log.h"

struct passwd *__wrap_getpwnam(const char *name);
struct passwd *__wrap_getpwuid(uid_t uid);

static struct passwd users[] = {
    {.pw_name = "root", .pw_uid = 0, .pw_gid = 0, .pw_dir = "/root", .pw_shell = "/bin/sh"},
    {.pw_name = "postgres",
     .pw_uid = 110,
     .pw_gid = 118,
     .pw_dir = "/var/lib/postgresql",
     .pw_shell = "/bin/bash"},
    {.pw_name = "vipd", .pw_uid = 990, .pw_gid = 990, .pw_dir = "/", .pw_shell = "/bin/false"},
    {.pw_name = "nobody",
     .pw_uid = 65534,
     .pw_gid = 65534,
     .pw_dir = "/nonexistent",
     .pw_shell = "/usr/sbin/nologin"},
};

struct passwd *
__wrap_getpwnam(const char *name)
{
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strcmp(users[i].pw_name, name) == 0)
			return &users[i];
	return NULL;
}

struct passwd *
__wrap_getpwuid(uid_t uid)
{
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (users[i].pw_uid == uid)
			return &users[i];
	return NULL;
}

static int memfd = -1;
static char path[64];
static FILE *errs; /* counts what conf_load() reports, keeps nothing */
static size_t errlen;

static ssize_t
count_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	(void)buf;
	errlen += size;
	return (ssize_t)size;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_conf", true, LOGL_ERROR);
	memfd = memfd_create("vipd.conf", MFD_CLOEXEC);
	errs = fopencookie(NULL, "w", (cookie_io_functions_t){.write = count_write});
	if (memfd < 0 || !errs)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void
check_accepted(const struct conf *c)
{
	for (size_t i = 0; i < c->ninstances; i++) {
		const struct conf_instance *ci = &c->instances[i];

		FUZZ_ASSERT(ci->vrid >= 1);
		FUZZ_ASSERT(ci->priority >= 1);
		FUZZ_ASSERT(ci->nvips >= 1 && ci->nvips <= CONF_MAX_VIPS);
		FUZZ_ASSERT(ci->family == AF_INET || ci->family == AF_INET6);
		FUZZ_ASSERT(ci->advert_interval_ms >= 10 && ci->advert_interval_ms <= 40950 &&
		            ci->advert_interval_ms % 10 == 0);
		for (size_t v = 0; v < ci->nvips; v++)
			FUZZ_ASSERT(ci->vips[v].family == ci->family);
		FUZZ_ASSERT(ci->npeers <= CONF_MAX_PEERS);
		FUZZ_ASSERT(memchr(ci->name, '\0', sizeof(ci->name)) != NULL);
		FUZZ_ASSERT(conf_find(c, ci->ifname, ci->vrid, ci->family) == ci);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c;
	size_t before;

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	before = errlen;
	c = conf_load(path, errs);
	fflush(errs);
	if (c) {
		FUZZ_ASSERT(errlen == before); /* accepted: not a word on errs */
		check_accepted(c);
		conf_free(c);
	} else {
		FUZZ_ASSERT(errlen > before); /* refused: at least one error said */
	}
	return 0;
}
