/*
 * kaparse.c - keepalived.conf tokenizer and tree builder, see kaparse.h.
 *
 * Lines are joined (trailing '\'), cut into words (quotes, comments,
 * braces), and the words become statements on a stack of open blocks
 * that lives across include files, as in keepalived, where an included
 * file simply continues the text of the one that includes it.
 */
#include "kaparse.h"

#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define MAX_DEPTH_BLOCKS 64

struct kp {
	struct ka_tree *t;
	FILE *errs;
	int nerr;
	struct ka_node *stack[MAX_DEPTH_BLOCKS]; /* open blocks; [0] = root */
	size_t depth;
	struct ka_node *cur;  /* statement being built on this line, or NULL */
	struct ka_node *last; /* last statement closed at this depth */
	const char *opens[MAX_DEPTH_BLOCKS];
	int open_lines[MAX_DEPTH_BLOCKS];
	char *incl[KA_MAX_INCLUDE_DEPTH + 1]; /* real paths being read, for loops */
	size_t nincl;
};

/* One word of a line: `quoted` words are never braces or keywords to act on. */
struct word {
	char *s;
	bool quoted;
};

static void
kp_err(struct kp *p, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	p->nerr++;
	if (!p->errs)
		return;
	if (line > 0)
		fprintf(p->errs, "%s:%d: ", file, line);
	else
		fprintf(p->errs, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(p->errs, fmt, ap);
	va_end(ap);
	fputc('\n', p->errs);
}

static const char *
intern_file(struct ka_tree *t, const char *path)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (strcmp(t->files[i], path) == 0)
			return t->files[i];
	t->files = xreallocarray(t->files, t->nfiles + 1, sizeof(*t->files));
	t->files[t->nfiles] = xstrdup(path);
	return t->files[t->nfiles++];
}

static struct ka_node *
add_node(struct kp *p, const char *kw, const char *file, int line)
{
	struct ka_node *parent = p->stack[p->depth], *n;

	parent->child = xreallocarray(parent->child, parent->nchild + 1, sizeof(*parent->child));
	n = &parent->child[parent->nchild++];
	memset(n, 0, sizeof(*n));
	n->kw = xstrdup(kw);
	n->file = file;
	n->line = line;
	n->seq = p->t->nseq++;
	/* The parent's array may have moved: refresh what points into it. */
	return n;
}

static void
add_arg(struct ka_node *n, const char *s)
{
	n->args = xreallocarray(n->args, n->nargs + 1, sizeof(*n->args));
	n->args[n->nargs++] = xstrdup(s);
}

/*
 * Cut a logical line into words, copied into buf (at least 2 * strlen(s)
 * + 2 bytes). Outside double quotes: blanks separate, '#' and '!' end
 * the line, '{' and '}' are words of their own. A double-quoted run is
 * one word without its quotes. -1 on an unterminated quote, -2 on too
 * many words.
 */
static int
split_words(const char *s, char *buf, struct word *w, size_t max, size_t *nw)
{
	size_t n = 0;

	*nw = 0;
	while (*s) {
		size_t len;

		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s || *s == '#' || *s == '!')
			break;
		if (n == max)
			return -2;
		if (*s == '"') {
			const char *end = strchr(s + 1, '"');

			if (!end)
				return -1;
			len = (size_t)(end - s - 1);
			memcpy(buf, s + 1, len);
			s = end + 1;
			w[n].quoted = true;
		} else {
			len = (*s == '{' || *s == '}') ? 1 : strcspn(s, " \t\r\n{}#!\"");
			memcpy(buf, s, len);
			s += len;
			w[n].quoted = false;
		}
		buf[len] = '\0';
		w[n++].s = buf;
		buf += len + 1;
	}
	*nw = n;
	return 0;
}

static int read_file(struct kp *p, const char *path, const char *from, int from_line);

/* include PATTERN: glob from the including file's directory, in order. */
static void
do_include(struct kp *p, const char *pattern, const char *file, int line)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	glob_t g;
	int rc;

	if (pattern[0] == '/') {
		snprintf(buf, sizeof(buf), "%s", pattern);
	} else {
		snprintf(dir, sizeof(dir), "%s", file);
		snprintf(buf, sizeof(buf), "%s/%s", dirname(dir), pattern);
	}
	rc = glob(buf, GLOB_NOCHECK, NULL, &g);
	if (rc != 0) {
		kp_err(p, file, line, "include %s: no match", pattern);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		read_file(p, g.gl_pathv[i], file, line);
	globfree(&g);
}

static void
open_block(struct kp *p, struct ka_node *n, const char *file, int line)
{
	if (p->depth + 1 == MAX_DEPTH_BLOCKS) {
		kp_err(p, file, line, "blocks nested too deep");
		return;
	}
	n->block = true;
	p->stack[++p->depth] = n;
	p->opens[p->depth] = file;
	p->open_lines[p->depth] = line;
	p->cur = NULL;
	p->last = NULL;
}

/* Feed one logical line's words to the statement stack. */
static void
feed_line(struct kp *p, struct word *w, size_t nw, const char *file, int line)
{
	p->cur = NULL;
	if (nw >= 1 && !w[0].quoted && strcmp(w[0].s, "include") == 0) {
		if (nw != 2)
			kp_err(p, file, line, "include: expected one file pattern");
		else
			do_include(p, w[1].s, file, line);
		p->last = NULL;
		return;
	}
	for (size_t i = 0; i < nw; i++) {
		if (!w[i].quoted && strcmp(w[i].s, "{") == 0) {
			/* "name\n{": the brace opens the statement of the line before. */
			struct ka_node *n = p->cur ? p->cur : p->last;

			if (!n || n->block) {
				kp_err(p, file, line, "'{' without a keyword before it");
				continue;
			}
			open_block(p, n, file, line);
		} else if (!w[i].quoted && strcmp(w[i].s, "}") == 0) {
			if (p->depth == 0) {
				kp_err(p, file, line, "'}' without a matching '{'");
				continue;
			}
			p->last = p->stack[p->depth--];
			p->cur = NULL;
		} else if (p->cur) {
			add_arg(p->cur, w[i].s);
		} else {
			p->cur = add_node(p, w[i].s, file, line);
			/*
			 * The node may have moved the parent's array: the stack
			 * holds parents, which do not move, only their children.
			 */
		}
	}
	if (p->cur)
		p->last = p->cur;
	p->cur = NULL;
}

/* Join lines ending in '\', cut them into words, feed them. */
static void
parse_text(struct kp *p, char *text, const char *file)
{
	struct word w[256];
	char *line = text, *next, *buf;
	int lineno = 0;

	while (line && *line) {
		int first = ++lineno;
		size_t len;
		size_t nw;
		int rc;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* keepalived continues a line that ends in a backslash */
		while ((len = strlen(line)) && line[len - 1] == '\\' && next) {
			char *more = strchr(next, '\n');

			line[len - 1] = ' ';
			if (more)
				*more++ = '\0';
			memmove(line + len, next, strlen(next) + 1);
			lineno++;
			next = more ? line + len + strlen(line + len) + 1 : NULL;
			if (more)
				memmove(next, more, strlen(more) + 1);
		}
		buf = xmalloc(2 * strlen(line) + 2);
		rc = split_words(line, buf, w, sizeof(w) / sizeof(w[0]), &nw);
		if (rc == -1)
			kp_err(p, file, first, "unterminated quote");
		else if (rc == -2)
			kp_err(p, file, first, "too many words on one line");
		else
			feed_line(p, w, nw, file, first);
		free(buf);
		line = next;
	}
}

static char *
slurp(FILE *f)
{
	size_t len = 0, cap = 4096, n;
	char *buf = xmalloc(cap);

	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	buf[len] = '\0';
	return buf;
}

static int
read_text(struct kp *p, const char *name, char *text, const char *real)
{
	const char *file = intern_file(p->t, name);

	if (p->nincl > KA_MAX_INCLUDE_DEPTH) {
		kp_err(p, file, 0, "includes nested more than %d deep", KA_MAX_INCLUDE_DEPTH);
		return -1;
	}
	p->incl[p->nincl++] = xstrdup(real);
	parse_text(p, text, file);
	free(p->incl[--p->nincl]);
	return 0;
}

static int
read_file(struct kp *p, const char *path, const char *from, int from_line)
{
	char real[PATH_MAX];
	FILE *f;
	char *text;

	if (!realpath(path, real) || !(f = fopen(path, "r"))) {
		if (from)
			kp_err(p, from, from_line, "include %s: %s", path, strerror(errno));
		else
			kp_err(p, path, 0, "%s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < p->nincl; i++) {
		if (strcmp(p->incl[i], real) == 0) {
			kp_err(p, from ? from : path, from_line, "include %s: include loop", path);
			fclose(f);
			return -1;
		}
	}
	text = slurp(f);
	fclose(f);
	read_text(p, path, text, real);
	free(text);
	return 0;
}

static int
finish(struct kp *p)
{
	while (p->depth > 0) {
		kp_err(p, p->opens[p->depth], p->open_lines[p->depth], "'{' of %s is never closed",
		       p->stack[p->depth]->kw);
		p->depth--;
	}
	if (p->nerr) {
		ka_tree_free(p->t);
		return -1;
	}
	return 0;
}

static void
kp_init(struct kp *p, struct ka_tree *t, FILE *errs)
{
	memset(t, 0, sizeof(*t));
	memset(p, 0, sizeof(*p));
	p->t = t;
	p->errs = errs;
	p->stack[0] = &t->root;
}

int
ka_parse_file(const char *path, struct ka_tree *t, FILE *errs)
{
	struct kp p;

	kp_init(&p, t, errs);
	read_file(&p, path, NULL, 0);
	return finish(&p);
}

int
ka_parse_string(const char *name, const char *text, struct ka_tree *t, FILE *errs)
{
	struct kp p;
	char *copy = xstrdup(text);

	kp_init(&p, t, errs);
	read_text(&p, name, copy, name);
	free(copy);
	return finish(&p);
}

static void
node_free(struct ka_node *n)
{
	for (size_t i = 0; i < n->nchild; i++)
		node_free(&n->child[i]);
	for (size_t i = 0; i < n->nargs; i++)
		free(n->args[i]);
	free(n->args);
	free(n->child);
	free(n->kw);
}

void
ka_tree_free(struct ka_tree *t)
{
	node_free(&t->root);
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->files);
	memset(t, 0, sizeof(*t));
}
