/*
 * types.c - the check types by name: check_new() picks the type's
 * operations for the engine (check.c). Kept apart from the engine so
 * that the engine does not link every type, and the types, which call
 * back into the engine (check_done...), make no cycle with it.
 */
#include <errno.h>

#include "check.h"

static const struct check_ops *const ops_by_type[CT_MAX] = {
    [CT_SCRIPT] = &check_script_ops, [CT_PROCESS] = &check_process_ops,
    [CT_TCP] = &check_tcp_ops,       [CT_HTTP] = &check_http_ops,
    [CT_PGSQL] = &check_pgsql_ops,   [CT_HAPROXY] = &check_haproxy_ops,
    [CT_FILE] = &check_file_ops,
};

struct check *
check_new(struct loop *l, const struct conf_check *cc)
{
	if ((unsigned)cc->type >= CT_MAX || !ops_by_type[cc->type]) {
		errno = EINVAL;
		return NULL;
	}
	return check_new_with_ops(l, cc, ops_by_type[cc->type]);
}
