/*
 * fsec.c - whether a file only root can change, see fsec.h.
 *
 * Each prefix of the path as written, and of every symlink's target, is
 * resolved and checked with every directory above it, so that a link in a
 * world-writable directory (/tmp/x -> /usr/bin/true) is refused as well.
 * A sticky o+w directory like /tmp is refused: owner-only deletion does
 * not stop anyone from creating the name first.
 */
#include "fsec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One file or directory: owned by root, not writable by group or others. */
static int
secure_one(const char *path, char *why, size_t whysize)
{
	static const char *const by[] = {"", "others", "group", "group and others"};
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, whysize, "%s is owned by uid %u, not root", path,
		         (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysize, "%s has mode %04o, writable by %s", path,
		         (unsigned)(st.st_mode & 07777),
		         by[(st.st_mode & S_IWGRP ? 2 : 0) | (st.st_mode & S_IWOTH ? 1 : 0)]);
		return -1;
	}
	return 0;
}

/* realpath(path) and every directory above it. */
static int
secure_chain(const char *path, char *why, size_t whysize)
{
	char real[PATH_MAX], *slash;

	if (!realpath(path, real)) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (secure_one(real, why, whysize) < 0)
			return -1;
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		slash[slash == real] = '\0'; /* "/usr" -> "/", "/usr/bin" -> "/usr" */
	}
}

/* The target of the symlink `link` as an absolute path, into out (PATH_MAX). */
static int
link_target(const char *link, char *out, char *why, size_t whysize)
{
	char target[PATH_MAX];
	const char *slash = strrchr(link, '/');
	ssize_t n = readlink(link, target, sizeof(target) - 1);

	if (n < 0)
		return 0; /* not a link */
	target[n] = '\0';
	/* A relative target is relative to the link's directory. */
	if (target[0] == '/')
		n = snprintf(out, PATH_MAX, "%s", target);
	else
		n = snprintf(out, PATH_MAX, "%.*s/%s", (int)(slash - link), link, target);
	if (n >= PATH_MAX) {
		snprintf(why, whysize, "%s: %s", link, strerror(ENAMETOOLONG));
		return -1;
	}
	return 1;
}

/*
 * Every prefix of path, resolved, with every directory above it; and the
 * same for the target of each symlink met on the way, so that the
 * directory holding any link of a chain is checked too.
 */
static int
secure_walk(const char *path, int depth, char *why, size_t whysize)
{
	char prefix[PATH_MAX], target[PATH_MAX];
	int rc;

	if (depth > 16) {
		snprintf(why, whysize, "%s: %s", path, strerror(ELOOP));
		return -1;
	}
	for (size_t i = 1;; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (secure_chain(prefix, why, whysize) < 0)
			return -1;
		if ((rc = link_target(prefix, target, why, whysize)) < 0)
			return -1;
		if (rc > 0 && secure_walk(target, depth + 1, why, whysize) < 0)
			return -1;
		if (!path[i])
			return 0;
	}
}

int
fsec_root_only(const char *path, char *why, size_t whysize)
{
	if (path[0] != '/' || strlen(path) >= PATH_MAX) {
		snprintf(why, whysize, "%s: must be an absolute path", path);
		return -1;
	}
	return secure_walk(path, 0, why, whysize);
}
