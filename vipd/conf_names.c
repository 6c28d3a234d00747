/*
 * conf_names.c - the names of conf.h's enums, as vipd.conf spells them.
 *
 * A file of its own so that what only needs a name at run time (hook.c's
 * log lines and environment, checks/check.c's status) links these two
 * tables and not the parser.
 */
#include "conf.h"

const char *const conf_hook_names[CONF_HOOK_MAX] = {
    [CONF_HOOK_MASTER] = "notify_master", [CONF_HOOK_BACKUP] = "notify_backup",
    [CONF_HOOK_FAULT] = "notify_fault",   [CONF_HOOK_STOP] = "notify_stop",
    [CONF_HOOK_NOTIFY] = "notify",
};

const char *const check_type_names[CT_MAX] = {
    [CT_SCRIPT] = "script", [CT_PROCESS] = "process", [CT_TCP] = "tcp",   [CT_HTTP] = "http",
    [CT_PGSQL] = "pgsql",   [CT_HAPROXY] = "haproxy", [CT_FILE] = "file",
};
