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

/* Like getenv(3): the value of `name`, or NULL when unset. The returned string is
 * borrowed and must stay valid while the config made from it is in use. This module is
 * the only one that reads the environment, and only through such a callback. */
typedef const char *(*as_ddb_getenv_fn)(const char *name, void *ctx);

/* The DynamoDB client's settings from the environment, through `getenv_fn` (a wrapper
 * around getenv(3) in a program, a table in tests). It sets
 *   region            AWS_REGION, else AWS_DEFAULT_REGION (required)
 *   endpoint_url      AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else NULL; both
 *                     ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true"; checked
 *                     with as_ddb_endpoint_resolve here, so a bad one fails early
 *   ca_bundle, ca_bundle_source
 *                     AWS_CA_BUNDLE, else SSL_CERT_FILE (and that name), else NULL
 *   max_attempts      AWS_MAX_ATTEMPTS (1..AS_DDB_MAX_ATTEMPTS_LIMIT), only when set
 * and leaves the other fields (concurrency, timeouts, clock, ...) as the caller set them.
 * When `credentials` is not NULL it also fills it from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (both required) and AWS_SESSION_TOKEN (optional), each of which
 * must be printable ASCII without spaces (the key id letters, digits and '_' only): a
 * control byte (a CR or LF would add a request header), a space or tab, DEL or a byte
 * over 0x7e is refused. Every string is borrowed from what `getenv_fn` returned. Empty
 * values count as unset. On failure nothing is changed and AS_ERR_ARGUMENT's message,
 * prefixed "ddb: ", names the variable that is missing or bad (never the value of a
 * credential).
 *
 *     static const char *env(const char *name, void *ctx) { (void)ctx; return getenv(name); }
 *     ...
 *     as_ddb_config config = {0};
 *     as_credentials creds;
 *     config.concurrency = 8;
 *     if (as_ddb_config_from_env(&config, &creds, env, NULL, &err) != AS_OK ||
 *         as_ddb_client_new(&config, &client, &err) != AS_OK) { ... }
 */
AS_MUST_CHECK as_status as_ddb_config_from_env(as_ddb_config *config, as_credentials *credentials,
                                               as_ddb_getenv_fn getenv_fn, void *ctx,
                                               as_error *err);

/* The most names AUDIT_IGNORE_ATTRIBUTES may list, and AUDIT_REDACT_ATTRIBUTES. */
#define AS_CONFIG_MAX_IGNORE 64
#define AS_CONFIG_MAX_REDACT 64
/* The longest AUDIT_REDACT_KEY, in decoded bytes (the shortest is AS_AUDIT_MIN_REDACT_KEY):
 * HMAC-SHA256 hashes a key longer than its 64-byte block anyway, so more adds nothing. */
#define AS_CONFIG_MAX_REDACT_KEY 256
/* The function name used when AWS_LAMBDA_FUNCTION_NAME is not set (outside Lambda). */
#define AS_CONFIG_DEFAULT_FUNCTION "audit_producer"

/* A plain value. Every string and span is borrowed from what the getenv callback
 * returned, which must stay valid while the config is used: with getenv(3), until the
 * environment changes. It holds the decoded AUDIT_REDACT_KEY itself: wipe every copy
 * with as_config_wipe when done with it. */
typedef struct as_config {
    /* AUDIT_TABLE, else target_table (the Java function's name for it); required. A
     * table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN
     * (arn:<partition>:dynamodb:<region>:<account>:table/<name>) whose region is the
     * client's (AWS_REGION) and whose partition is that region's (aws-cn for cn-*,
     * aws-us-gov for us-gov-*, aws-iso for us-iso-*, aws-iso-b for us-isob-*, aws-iso-e
     * for eu-isoe-*, aws-iso-f for us-isof-*, aws-eusc for eusc-*, else aws): PutItem
     * goes to the region's endpoint, which would not find another region's table. */
    const char *table;
    const char *table_variable; /* which of the two it came from, for messages */
    as_format format;           /* AUDIT_FORMAT: classic (default) or detailed, lower case */
    /* AUDIT_IGNORE_ATTRIBUTES: comma-separated top-level attribute names, each trimmed
     * of spaces and tabs; an empty entry ("a,,b", "a,") is refused, an empty or blank
     * value means none. Raw bytes, ready for as_audit_options.ignore. */
    as_span ignore[AS_CONFIG_MAX_IGNORE];
    size_t ignore_count;
    uint32_t concurrency; /* AUDIT_CONCURRENCY: 1..AS_DDB_MAX_CONCURRENCY, default 8 */
    /* AUDIT_ACTOR_ATTRIBUTE: one attribute name, trimmed of spaces and tabs; empty when
     * unset. Refused when blank, when it holds a comma (a list), or when it is also
     * listed in AUDIT_REDACT_ATTRIBUTES or AUDIT_IGNORE_ATTRIBUTES. */
    as_span actor_attribute;
    /* AUDIT_RETENTION_DAYS: whole days, 1..AS_AUDIT_MAX_RETENTION_DAYS, digits only; 0
     * when unset (items kept forever). */
    uint32_t retention_days;
    /* AUDIT_REDACT_ATTRIBUTES, read as AUDIT_IGNORE_ATTRIBUTES is (at most
     * AS_CONFIG_MAX_REDACT names). Raw bytes, ready for as_audit_options.redact. */
    as_span redact[AS_CONFIG_MAX_REDACT];
    size_t redact_count;
    /* AUDIT_REDACT_KEY decoded: standard padded base64 of AS_AUDIT_MIN_REDACT_KEY to
     * AS_CONFIG_MAX_REDACT_KEY bytes; redact_key_len 0 when unset. A secret: never logged,
     * never quoted in a message; as_config_wipe zeroes it. */
    uint8_t redact_key[AS_CONFIG_MAX_REDACT_KEY];
    size_t redact_key_len;
    bool chain; /* AUDIT_CHAIN: "on" or "off" (exact), default off */
    /* AUDIT_WRITE_API: PutItem (default) or BatchWriteItem, as as_ddb_write_api_parse
     * reads it. */
    as_ddb_write_api write_api;
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
 * fault, but for a valid AWS_LAMBDA_LOG_FORMAT, which is kept) so that the failure can be logged
 * as configured, and AS_ERR_ARGUMENT's message, prefixed
 * "config: " (or "ddb: " for the variables as_ddb_config_from_env reads), names the variable at
 * fault and why; it quotes the value (capped, non-printable bytes as '?') only for variables whose
 * value is no secret, never for a credential or AUDIT_REDACT_KEY. AS_ERR_ARGUMENT also for a NULL
 * `getenv_fn` or `out`. The key is wiped from every copy made on the way. */
AS_MUST_CHECK as_status as_config_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out,
                                           as_error *err);

/* The variables that shape the audit items alone, read and checked exactly as
 * as_config_from_env reads them (the same messages): AUDIT_FORMAT,
 * AUDIT_IGNORE_ATTRIBUTES, AUDIT_ACTOR_ATTRIBUTE, AUDIT_RETENTION_DAYS,
 * AUDIT_REDACT_ATTRIBUTES, AUDIT_REDACT_KEY and AUDIT_CHAIN: what `bootstrap --print`
 * needs to build items as the function would, without a table, a region or
 * credentials. Sets those fields of *out (format, ignore, ignore_count,
 * actor_attribute, retention_days, redact, redact_count, redact_key, redact_key_len,
 * chain) and leaves every other field as it was. On failure *out is unchanged and
 * AS_ERR_ARGUMENT's message, prefixed "config: ", names the variable; AS_ERR_ARGUMENT
 * also for a NULL `getenv_fn` or `out`. */
AS_MUST_CHECK as_status as_config_items_from_env(as_ddb_getenv_fn getenv_fn, void *ctx,
                                                 as_config *out, as_error *err);

/* Zeroes the decoded AUDIT_REDACT_KEY held in `config` (and its length) in a way the
 * compiler keeps; the rest is left as it was. NULL is a no-op. */
void as_config_wipe(as_config *config);

/* The log settings alone, for what is logged before (or instead of) as_config_from_env:
 * AWS_LAMBDA_LOG_FORMAT when it is valid (else Text), AWS_LAMBDA_LOG_LEVEL when it is
 * valid (else INFO), the function and service names as as_config_from_env reads them.
 * Never fails, so that a FATAL line about a bad setting is still in the format asked
 * for. `out` is overwritten; its per-invocation fields are left empty. */
void as_config_log_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_log *out);

/* AWS_LAMBDA_RUNTIME_API (host:port of the Runtime API), or NULL when unset or empty;
 * borrowed from what `getenv_fn` returned. as_runtime_new says what is wrong with it. */
const char *as_config_runtime_api(as_ddb_getenv_fn getenv_fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
