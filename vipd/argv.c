/*
 * argv.c - a command line split into words, see argv.h.
 */
#include "argv.h"

#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* One word at *sp (not at a blank) into w; advances *sp. Length, or -1 with *why. */
static int
split_word(const char **sp, char *w, const char **why)
{
	const char *s = *sp;
	size_t k = 0;

	while (*s && *s != ' ' && *s != '\t') {
		if (*s == '\'') {
			const char *e = strchr(s + 1, '\'');

			if (!e) {
				*why = "unterminated single quote";
				return -1;
			}
			memcpy(w + k, s + 1, (size_t)(e - s - 1));
			k += (size_t)(e - s - 1);
			s = e + 1;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				w[k++] = *s;
			}
			if (!*s++) {
				*why = "unterminated double quote";
				return -1;
			}
		} else {
			w[k++] = *s++;
		}
	}
	*sp = s;
	return (int)k;
}

/* The words of s into argv (strdup'ed); on failure some may be set. 0, or -1 with *why. */
static int
split(const char *s, char **argv, const char **why)
{
	char *w = malloc(strlen(s) + 1);
	size_t n = 0;
	int rc = -1, k;

	*why = "out of memory";
	if (!w)
		return -1;
	for (;; n++) {
		s += strspn(s, " \t");
		if (!*s) {
			*why = "empty command";
			rc = n > 0 ? 0 : -1;
			break;
		}
		if (n == ARGV_MAX) {
			*why = "too many arguments, at most " STR(ARGV_MAX);
			break;
		}
		if ((k = split_word(&s, w, why)) < 0)
			break;
		if (!(argv[n] = strndup(w, (size_t)k))) {
			*why = "out of memory";
			break;
		}
	}
	free(w);
	return rc;
}

int
argv_split(const char *s, char **argv, const char **why)
{
	size_t n;

	for (n = 0; n <= ARGV_MAX; n++)
		argv[n] = NULL;
	if (split(s, argv, why) == 0)
		return 0;
	for (n = 0; n <= ARGV_MAX; n++) {
		free(argv[n]);
		argv[n] = NULL;
	}
	return -1;
}
