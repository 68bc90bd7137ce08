/* The audit function's configuration, read once from the environment through a
 * caller-supplied getenv: every variable of docs/configuration.md, each bad value refused
 * with a message that names the variable. */
#ifndef AUDITSTREAM_CONFIG_H
#define AUDITSTREAM_CONFIG_H

#include <stdint.h>

#include "audit.h"
#include "common.h"
#include "ddb.h"
#include "log.h"
#include "sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most names AUDIT_IGNORE_ATTRIBUTES may list. */
#define AS_CONFIG_MAX_IGNORE 64
/* The function name used when AWS_LAMBDA_FUNCTION_NAME is not set (outside Lambda). */
#define AS_CONFIG_DEFAULT_FUNCTION "audit_producer"

/* A plain value (copy it freely). Every string and span is borrowed from what the
 * getenv callback returned, which must stay valid while the config is used: with
 * getenv(3), until the environment changes. */
typedef struct as_config {
    /* AUDIT_TABLE, else target_table (the Java function's name for it); required. A
     * table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN
     * (arn:<partition>:dynamodb:<region>:<account>:table/<name>). */
    const char *table;
    const char *table_variable; /* which of the two it came from, for messages */
    as_format format;           /* AUDIT_FORMAT: classic (default) or detailed, lower case */
    /* AUDIT_IGNORE_ATTRIBUTES: comma-separated top-level attribute names, each trimmed
     * of spaces and tabs; an empty entry ("a,,b", "a,") is refused, an empty or blank
     * value means none. Raw bytes, ready for as_audit_options.ignore. */
    as_span ignore[AS_CONFIG_MAX_IGNORE];
    size_t ignore_count;
    uint32_t concurrency; /* AUDIT_CONCURRENCY: 1..AS_DDB_MAX_CONCURRENCY, default 8 */
    /* AWS_LAMBDA_LOG_FORMAT (JSON or Text, any case; default Text) and
     * AWS_LAMBDA_LOG_LEVEL (TRACE .. FATAL, any case; default INFO); `service` is
     * POWERTOOLS_SERVICE_NAME, else the function name; `function_name` is
     * AWS_LAMBDA_FUNCTION_NAME, else AS_CONFIG_DEFAULT_FUNCTION. The per-invocation
     * fields are left empty. */
    as_log log;
    /* From as_ddb_config_from_env (region, endpoint, CA bundle, AWS_MAX_ATTEMPTS), with
     * `concurrency` set from AUDIT_CONCURRENCY; the rest zero (the defaults). */
    as_ddb_config ddb;
    /* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Never log them. */
    as_credentials credentials;
} as_config;

/* Reads the whole configuration through `getenv_fn` (`ctx` is passed to it). An empty
 * value counts as unset. On success `*out` is filled. On failure `*out` is zeroed but
 * for `log`, which holds the log settings (the defaults when they are what is at
 * fault) so that the failure can be logged as configured, and AS_ERR_ARGUMENT's message, prefixed
 * "config: " (or "ddb: " for the variables as_ddb_config_from_env reads), names the variable at
 * fault and why; it quotes the value (capped, non-printable bytes as '?') only for variables whose
 * value is no secret, never for a credential. AS_ERR_ARGUMENT also for a NULL `getenv_fn` or `out`.
 */
AS_MUST_CHECK as_status as_config_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out,
                                           as_error *err);

#ifdef __cplusplus
}
#endif

#endif
