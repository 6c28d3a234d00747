/*
 * kaparse.h - keepalived.conf read into a tree, as keepalived reads it.
 *
 * The syntax (keepalived's parser.c): one statement per line, a keyword
 * and its words; '{' opens a block of statements for the statement it
 * ends, '}' closes it, and both may stand anywhere on a line, or alone on
 * the next one; '#' and '!' start a comment anywhere outside double
 * quotes; "double quotes" make one word of blanks and comment characters;
 * a line ending in '\' continues on the next; `include PATTERN` reads
 * the files the glob matches, in order, in its place, a relative pattern
 * being taken from the directory of the file that includes it.
 *
 * Pure apart from reading files: no output but the errors it returns.
 */
#ifndef VIPD_KAPARSE_H
#define VIPD_KAPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One statement: `kw args... [{ children }]`. */
struct ka_node {
	char *kw;
	char **args;
	size_t nargs;
	bool block; /* had a { } (possibly empty) */
	struct ka_node *child;
	size_t nchild;
	const char *file; /* owned by the tree */
	int line;
	unsigned seq; /* order of appearance, includes expanded */
};

struct ka_tree {
	struct ka_node root; /* its children are the top-level statements */
	char **files;        /* every file read, for node.file */
	size_t nfiles;
	unsigned nseq;
};

/* Nesting of include, as keepalived allows (a loop is an error long before). */
#define KA_MAX_INCLUDE_DEPTH 16

/*
 * Read `path` and what it includes into *t. 0, or -1 with each problem
 * written to errs as "FILE:LINE: reason" (unbalanced braces, an
 * unterminated quote, an unreadable file, an include loop or depth); on
 * -1 *t is freed. ka_parse_string reads `text` as the file `name`.
 */
int ka_parse_file(const char *path, struct ka_tree *t, FILE *errs);
int ka_parse_string(const char *name, const char *text, struct ka_tree *t, FILE *errs);
void ka_tree_free(struct ka_tree *t);

#endif
