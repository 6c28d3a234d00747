/*
 * argv.h - a command line split into words without a shell: check scripts
 * (when the config is read) and notify hooks (each time one runs) are
 * written as "program arg 'a b'" and run with execve().
 */
#ifndef VIPD_ARGV_H
#define VIPD_ARGV_H

#define ARGV_MAX 32 /* words in a command line; a plain number, it is put in a message */

/*
 * Split a command line at blanks into argv (ARGV_MAX + 1 slots; the words
 * strdup'ed, the rest NULL): 'single' quotes are literal, "double" quotes
 * know \" and \\. No shell expansions: that is what a shell option is
 * for. 0, or -1 with *why (argv freed).
 */
int argv_split(const char *s, char **argv, const char **why);

#endif
