/* The audit function's configuration from the environment, through an injected getenv:
 * strict parsing, and a message naming the variable for every value refused. */
#include <string.h>

#include "auditstream/config.h"
#include "core/internal.h"

#define QUOTE_MAX 40 /* value bytes quoted in a message, at most */
#define STR_(x)   #x
#define STR(x)    STR_(x)

/* An environment value, with empty counted as unset. */
static const char *env_value(as_ddb_getenv_fn getenv_fn, void *ctx, const char *name)
{
    const char *value = getenv_fn(name, ctx);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

/* `value` for a message: at most QUOTE_MAX bytes, anything but printable ASCII (and '"')
 * as '?', "..." when cut. Only for values that are not secrets. */
static void quote(const char *value, char out[QUOTE_MAX + 4])
{
    size_t n = 0;
    for (; value[n] != '\0' && n < QUOTE_MAX; n++) {
        unsigned char c = (unsigned char)value[n];
        out[n] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    }
    if (value[n] != '\0') {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static as_status bad_value(as_error *err, const char *name, const char *value, const char *want)
{
    char shown[QUOTE_MAX + 4];
    quote(value, shown);
    return as_error_set(err, AS_ERR_ARGUMENT, 0, "config: %s is \"%s\": %s", name, shown, want);
}

static as_span span_of(const char *s)
{
    as_span span = {s, strlen(s)};
    return span;
}

static bool is_table_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* DynamoDB's table name rules: 3 to 255 of [A-Za-z0-9_.-]. */
static bool table_name_ok(const char *name, size_t len)
{
    if (len < 3 || len > 255) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_table_char(name[i])) {
            return false;
        }
    }
    return true;
}

/* A run of [a-z0-9-] (partition, region) ending at ':'; advances *p past the ':'. */
static bool arn_part(const char **p, bool digits_only, size_t min, size_t max)
{
    size_t n = 0;
    const char *s = *p;
    while (s[n] != '\0' && s[n] != ':') {
        char c = s[n];
        bool ok = (c >= '0' && c <= '9') || (!digits_only && ((c >= 'a' && c <= 'z') || c == '-'));
        if (!ok) {
            return false;
        }
        n++;
    }
    if (s[n] != ':' || n < min || n > max) {
        return false;
    }
    *p = s + n + 1;
    return true;
}

/* A table name, or arn:<partition>:dynamodb:<region>:<12-digit account>:table/<name>
 * (PutItem takes either; an ARN reaches a table in another account). */
static bool table_ok(const char *table)
{
    if (strncmp(table, "arn:", 4) != 0) {
        return table_name_ok(table, strlen(table));
    }
    const char *p = table + 4;
    if (!arn_part(&p, false, 1, 32) || strncmp(p, "dynamodb:", 9) != 0) {
        return false;
    }
    p += 9;
    if (!arn_part(&p, false, 1, 64) || !arn_part(&p, true, 12, 12) ||
        strncmp(p, "table/", 6) != 0) {
        return false;
    }
    p += 6;
    return table_name_ok(p, strlen(p));
}

static as_status read_table(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    const char *primary = env_value(getenv_fn, ctx, "AUDIT_TABLE");
    const char *alias = env_value(getenv_fn, ctx, "target_table");
    if (primary == NULL && alias == NULL) {
        return as_error_set(err, AS_ERR_ARGUMENT, 0,
                            "config: AUDIT_TABLE is not set (nor its alias target_table)");
    }
    /* Both set and different: writing the audit trail to the wrong table would be
     * silent, so refuse rather than pick one. */
    if (primary != NULL && alias != NULL && strcmp(primary, alias) != 0) {
        return as_error_set(err, AS_ERR_ARGUMENT, 0,
                            "config: AUDIT_TABLE and target_table are both set, to different "
                            "tables; set only AUDIT_TABLE");
    }
    c->table = primary != NULL ? primary : alias;
    c->table_variable = primary != NULL ? "AUDIT_TABLE" : "target_table";
    if (!table_ok(c->table)) {
        return bad_value(err, c->table_variable, c->table,
                         "want a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or a "
                         "table ARN");
    }
    return AS_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static as_status read_ignore(const char *list, as_config *c, as_error *err)
{
    const char *p = list;
    bool blank = true;
    for (const char *q = list; *q != '\0'; q++) {
        blank = blank && is_blank(*q);
    }
    if (blank) {
        return AS_OK;
    }
    for (size_t entry = 1;; entry++) {
        const char *end = strchr(p, ',');
        if (end == NULL) {
            end = p + strlen(p);
        }
        const char *a = p;
        const char *b = end;
        while (a < b && is_blank(*a)) {
            a++;
        }
        while (b > a && is_blank(b[-1])) {
            b--;
        }
        if (a == b) {
            return as_error_set(err, AS_ERR_ARGUMENT, 0,
                                "config: AUDIT_IGNORE_ATTRIBUTES: entry %zu is empty (a stray "
                                "comma?)",
                                entry);
        }
        if (c->ignore_count == AS_CONFIG_MAX_IGNORE) {
            return as_error_set(err, AS_ERR_ARGUMENT, 0,
                                "config: AUDIT_IGNORE_ATTRIBUTES lists more than %d names",
                                AS_CONFIG_MAX_IGNORE);
        }
        c->ignore[c->ignore_count].ptr = a;
        c->ignore[c->ignore_count].len = (size_t)(b - a);
        c->ignore_count++;
        if (*end == '\0') {
            return AS_OK;
        }
        p = end + 1;
    }
}

/* Strict decimal in [min, max]: digits only, no sign, no spaces, no overflow. */
static bool parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t value = 0;
    if (text[0] == '\0') {
        return false;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        value = value * 10 + (uint64_t)(*p - '0');
        if (value > max) {
            return false;
        }
    }
    if (value < min) {
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

static as_status read_audit(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    AS_GUARD(read_table(getenv_fn, ctx, c, err));

    const char *format = env_value(getenv_fn, ctx, "AUDIT_FORMAT");
    c->format = AS_FORMAT_CLASSIC;
    if (format != NULL && as_format_parse(format, &c->format) != AS_OK) {
        return bad_value(err, "AUDIT_FORMAT", format, "want classic or detailed");
    }

    const char *ignore = env_value(getenv_fn, ctx, "AUDIT_IGNORE_ATTRIBUTES");
    if (ignore != NULL) {
        AS_GUARD(read_ignore(ignore, c, err));
    }

    const char *concurrency = env_value(getenv_fn, ctx, "AUDIT_CONCURRENCY");
    c->concurrency = AS_DDB_DEFAULT_CONCURRENCY;
    if (concurrency != NULL &&
        !parse_u32(concurrency, 1, AS_DDB_MAX_CONCURRENCY, &c->concurrency)) {
        return bad_value(err, "AUDIT_CONCURRENCY", concurrency,
                         "want a whole number from 1 to " STR(AS_DDB_MAX_CONCURRENCY));
    }
    return AS_OK;
}

static as_status read_log(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    const char *format = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_FORMAT");
    c->log.format = AS_LOG_FORMAT_TEXT;
    if (format != NULL && as_log_format_parse(format, &c->log.format) != AS_OK) {
        return bad_value(err, "AWS_LAMBDA_LOG_FORMAT", format, "want JSON or Text");
    }
    const char *level = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_LEVEL");
    c->log.level = AS_LOG_INFO;
    if (level != NULL && as_log_level_parse(level, &c->log.level) != AS_OK) {
        return bad_value(err, "AWS_LAMBDA_LOG_LEVEL", level,
                         "want TRACE, DEBUG, INFO, WARN, ERROR or FATAL");
    }
    const char *function = env_value(getenv_fn, ctx, "AWS_LAMBDA_FUNCTION_NAME");
    if (function == NULL) {
        function = AS_CONFIG_DEFAULT_FUNCTION;
    }
    const char *service = env_value(getenv_fn, ctx, "POWERTOOLS_SERVICE_NAME");
    if (service == NULL) {
        service = function;
    }
    c->log.function_name = span_of(function);
    c->log.service = span_of(service);
    return AS_OK;
}

as_status as_config_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out, as_error *err)
{
    if (getenv_fn == NULL || out == NULL) {
        return as_error_set(err, AS_ERR_ARGUMENT, 0, "config: getenv_fn and out are required");
    }
    /* Filled on the side, so that a failure hands back nothing half-read. */
    as_config c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    as_status status = read_log(getenv_fn, ctx, &c, err);
    if (status != AS_OK) {
        out->log.level = AS_LOG_INFO;
        out->log.function_name = out->log.service = span_of(AS_CONFIG_DEFAULT_FUNCTION);
        return status;
    }
    /* From here on a failure still hands back the log settings, so that the caller
     * can report it in the format asked for. */
    out->log = c.log;
    AS_GUARD(read_audit(getenv_fn, ctx, &c, err));
    c.ddb.concurrency = c.concurrency;
    AS_GUARD(as_ddb_config_from_env(&c.ddb, &c.credentials, getenv_fn, ctx, err));
    *out = c;
    return AS_OK;
}
