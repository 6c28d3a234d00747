/*
 * drain.c - the drained instances and their state file (drain.h).
 */
#include "drain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_value.h"
#include "checks/check.h"

bool
drain_has(const struct drain_set *s, const char *name)
{
	if (s->all)
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

int
drain_add(struct drain_set *s, const char *name)
{
	char(*n)[CONF_NAME_MAX];

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 0;
	if (!(n = realloc(s->names, (s->n + 1) * sizeof(*n))))
		return -1;
	s->names = n;
	snprintf(s->names[s->n++], CONF_NAME_MAX, "%s", name);
	return 0;
}

void
drain_del(struct drain_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0) {
			memmove(s->names[i], s->names[i + 1], (s->n - i - 1) * sizeof(s->names[0]));
			s->n--;
			return;
		}
}

void
drain_clear(struct drain_set *s)
{
	free(s->names);
	*s = (struct drain_set){0};
}

/*
 * Read the whole file (at most DRAIN_MAX_SIZE) into buf, NUL-terminated:
 * 0, 1 if it does not exist, -1 and why. Opened as checks open their
 * files (check_open_file): non-blocking, no symlink, regular files only.
 */
static int
read_file(const char *path, char *buf, size_t size, char *why, size_t whysize)
{
	char err[128];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = check_open_file(path, true, err, sizeof(err));

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whysize, "%s: %s", path, err);
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size >= (off_t)size) {
		snprintf(why, whysize, "%s: not a file of less than %zu bytes", path, size);
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(why, whysize, "%s: contains a NUL byte", path);
		return -1;
	}
	return 0;
}

/* One line, blanks trimmed: a name, "*", or nothing. */
static int
parse_line(struct drain_set *s, char *line)
{
	char *end;

	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (!*line || *line == '#')
		return 0;
	if (strcmp(line, "*") == 0) {
		s->all = true;
		return 0;
	}
	if (!conf_name_ok(line))
		return -1;
	return drain_add(s, line);
}

int
drain_load(const char *dir, struct drain_set *s, char *why, size_t whysize)
{
	char path[4096 + sizeof(DRAIN_FILE) + 1];
	char *buf = malloc(DRAIN_MAX_SIZE), *line, *next;
	unsigned lineno = 0;
	int rc = -1;

	drain_clear(s);
	snprintf(path, sizeof(path), "%s/%s", dir, DRAIN_FILE);
	if (!buf)
		snprintf(why, whysize, "%s: out of memory", path);
	else
		rc = read_file(path, buf, DRAIN_MAX_SIZE, why, whysize);
	if (rc > 0) {
		free(buf);
		return 0;
	}
	for (line = buf; rc == 0 && line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		lineno++;
		if (parse_line(s, line) < 0) {
			snprintf(why, whysize, "%s:%u: not an instance name or \"*\"", path,
			         lineno);
			rc = -1;
		}
	}
	free(buf);
	if (rc < 0) {
		drain_clear(s);
		s->all = true;
	}
	return rc;
}

int
drain_save(const char *dir, const struct drain_set *s, char *why, size_t whysize)
{
	char path[4096 + sizeof(DRAIN_FILE) + 1], tmp[sizeof(path) + 4];
	FILE *f;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whysize, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, DRAIN_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(why, whysize, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# instances drained by vipctl drain; vipctl undrain resumes them\n");
	if (s->all)
		fprintf(f, "*\n");
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s\n", s->names[i]);
	/* On disk before the rename, so a reboot finds one file or the other. */
	bool ok = fflush(f) == 0 && fsync(fd) == 0;

	if (fclose(f) != 0 || !ok) {
		snprintf(why, whysize, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
