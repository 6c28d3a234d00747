/*
 * dl.h - libcurl, libpq and libmicrohttpd, loaded with dlopen() when
 * first needed.
 *
 * Linking them would map their whole dependency graph (OpenSSL, GnuTLS,
 * p11-kit, Kerberos, LDAP...) into every vipd, about 3.5 MiB of PSS, even
 * when no http or pgsql check is configured. Instead the configuration
 * loads a library when it meets a check of its type or a promote_pgsql
 * key (so that `vipd -t` reports a missing one), and the checks and
 * promote_pgsql call it through these tables.
 *
 * The headers <curl/curl.h> and <libpq-fe.h> are used for their types and
 * prototypes only: each member has the type of the function it stands for
 * (variadic ones included), so calls are checked against the prototypes.
 * libmicrohttpd (the metrics_listen HTTP server, vipd/metrics_http.c) is
 * loaded the same way, when the configuration sets metrics_listen.
 *
 * curl's gcc-only checks of setopt/getinfo argument types (its
 * typecheck-gcc.h macros) do not apply through a pointer.
 */
#ifndef VIPD_DL_H
#define VIPD_DL_H

#include <curl/curl.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <stddef.h>

/* The ABI the headers describe (overridable, to test a missing library). */
#ifndef DL_LIBCURL_SONAME
#define DL_LIBCURL_SONAME "libcurl.so.4"
#endif
#ifndef DL_LIBPQ_SONAME
#define DL_LIBPQ_SONAME "libpq.so.5"
#endif
#ifndef DL_LIBMHD_SONAME
#define DL_LIBMHD_SONAME "libmicrohttpd.so.12"
#endif

/* X(symbol, member): the libcurl functions checks/http.c uses. */
#define DL_CURL_FUNCS(X)                                                                           \
	X(curl_global_init, global_init)                                                           \
	X(curl_global_cleanup, global_cleanup)                                                     \
	X(curl_multi_init, multi_init)                                                             \
	X(curl_multi_setopt, multi_setopt)                                                         \
	X(curl_multi_cleanup, multi_cleanup)                                                       \
	X(curl_multi_add_handle, multi_add_handle)                                                 \
	X(curl_multi_remove_handle, multi_remove_handle)                                           \
	X(curl_multi_socket_action, multi_socket_action)                                           \
	X(curl_multi_assign, multi_assign)                                                         \
	X(curl_multi_info_read, multi_info_read)                                                   \
	X(curl_multi_strerror, multi_strerror)                                                     \
	X(curl_easy_init, easy_init)                                                               \
	X(curl_easy_setopt, easy_setopt)                                                           \
	X(curl_easy_getinfo, easy_getinfo)                                                         \
	X(curl_easy_cleanup, easy_cleanup)                                                         \
	X(curl_easy_strerror, easy_strerror)                                                       \
	X(curl_version_info, version_info)

/* X(symbol, member): the libpq functions checks/pgq.c and vipd/conf_check.c use. */
#define DL_PQ_FUNCS(X)                                                                             \
	X(PQconnectStart, connectStart)                                                            \
	X(PQconnectPoll, connectPoll)                                                              \
	X(PQstatus, status)                                                                        \
	X(PQsocket, socket)                                                                        \
	X(PQerrorMessage, errorMessage)                                                            \
	X(PQsetNoticeProcessor, setNoticeProcessor)                                                \
	X(PQsetnonblocking, setnonblocking)                                                        \
	X(PQsendQuery, sendQuery)                                                                  \
	X(PQflush, flush)                                                                          \
	X(PQconsumeInput, consumeInput)                                                            \
	X(PQisBusy, isBusy)                                                                        \
	X(PQgetResult, getResult)                                                                  \
	X(PQresultStatus, resultStatus)                                                            \
	X(PQresStatus, resStatus)                                                                  \
	X(PQresultErrorMessage, resultErrorMessage)                                                \
	X(PQntuples, ntuples)                                                                      \
	X(PQnfields, nfields)                                                                      \
	X(PQgetisnull, getisnull)                                                                  \
	X(PQgetvalue, getvalue)                                                                    \
	X(PQclear, clear)                                                                          \
	X(PQfinish, finish)                                                                        \
	X(PQconninfoParse, conninfoParse)                                                          \
	X(PQconninfoFree, conninfoFree)                                                            \
	X(PQfreemem, freemem)

/* X(symbol, member): the libmicrohttpd functions vipd/metrics_http.c uses. */
#define DL_MHD_FUNCS(X)                                                                            \
	X(MHD_start_daemon, start_daemon)                                                          \
	X(MHD_stop_daemon, stop_daemon)                                                            \
	X(MHD_get_daemon_info, get_daemon_info)                                                    \
	X(MHD_run, run)                                                                            \
	X(MHD_get_timeout, get_timeout)                                                            \
	X(MHD_create_response_from_buffer, create_response_from_buffer)                            \
	X(MHD_add_response_header, add_response_header)                                            \
	X(MHD_queue_response, queue_response)                                                      \
	X(MHD_destroy_response, destroy_response)

/* (The symbol is not followed by '(' here, so curl's type-checking macros stay out.) */
#define DL_MEMBER_(sym, member) __typeof__(sym) *member;

struct dl_curl {
	DL_CURL_FUNCS(DL_MEMBER_)
};

struct dl_pq {
	DL_PQ_FUNCS(DL_MEMBER_)
};

struct dl_mhd {
	DL_MHD_FUNCS(DL_MEMBER_)
};

/*
 * The library's table, loading it on the first call (RTLD_NOW |
 * RTLD_LOCAL, every symbol resolved). NULL when it cannot be loaded, with
 * the reason in err, e.g. "http checks need libcurl (libcurl.so.4):
 * libcurl.so.4: cannot open shared object file: ...". A later call tries
 * again. err may be NULL.
 */
const struct dl_curl *dl_curl(char *err, size_t errsize);
const struct dl_pq *dl_pq(char *err, size_t errsize);
const struct dl_mhd *dl_mhd(char *err, size_t errsize);

#endif
