/*
 * kaimport.h - keepalived.conf translated into vipd.conf (vipctl
 * import-keepalived).
 *
 * Every keepalived keyword is either translated or reported, on `errs`
 * as "FILE:LINE: KEYWORD: not translated: reason" and in the output as
 * the same line behind "; " where the keyword was. Nothing is dropped
 * silently. A vrrp_script whose command is `killall -0 NAME`, `pidof
 * NAME`, `nc -z ADDR PORT` or `curl -f URL` on one of Patroni's
 * endpoints becomes a process, tcp or http check, only when it means
 * exactly the same; a comment says what was recognised.
 */
#ifndef VIPD_KAIMPORT_H
#define VIPD_KAIMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "kaparse.h"

#define KA_DEFAULT_PATH "/etc/keepalived/keepalived.conf"

/* Exit statuses of vipctl import-keepalived. */
enum { KA_ALL_TRANSLATED = 0, KA_REPORTED = 1, KA_PARSE_ERROR = 2 };

/* Translate a parsed tree to `out`; KA_ALL_TRANSLATED or KA_REPORTED. */
int ka_translate(const struct ka_tree *t, const char *source, FILE *out, FILE *errs);

/* Parse `path` (with its includes) and translate it: 0, 1 or 2 as above. */
int ka_import(const char *path, FILE *out, FILE *errs);

/*
 * What a vrrp_script command is, for the translator and its tests: the
 * check lines to write (type and its keys, '\n'-separated) and a comment
 * of what was recognised; or KA_SCRIPT when it must stay a script.
 * `as_root` is whether keepalived ran it as root (killall -0 on another
 * user's process fails otherwise).
 */
enum ka_probe { KA_SCRIPT = 0, KA_PROCESS, KA_TCP, KA_HTTP };
enum ka_probe ka_recognise(const char *command, int as_root, char *lines, size_t lsize, char *why,
                           size_t wsize);

/* kascript.c: a decimal in min..max; a process name /proc/PID/comm can hold. */
bool ka_int_in(const char *s, long min, long max, long *v);
bool ka_comm_ok(const char *s);

#endif
