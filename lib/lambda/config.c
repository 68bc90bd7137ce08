/* The audit function's configuration from the environment, through an injected getenv:
 * strict parsing, and a message naming the variable for every value refused. The only
 * module that reads the environment: the DynamoDB client's settings are read here too. */
#include <string.h>
#include <strings.h>

#include "auditstream/config.h"
#include "aws/wipe.h"
#include "core/base64.h"
#include "core/cursor.h"
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

/* Strict decimal in [min, max]: digits only, no sign, no spaces, no overflow. */
static bool parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    as_cursor c = as_cursor_of(as_span_from_cstr(text));
    uint64_t value = 0;
    if (!as_cursor_take_u64(&c, max, &value) || !as_cursor_at_end(&c) || value < min) {
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

/* `value` for a message: at most QUOTE_MAX bytes, anything but printable ASCII (and '"')
 * as '?', "..." when cut. Only for values that are not secrets. */
static void quote_span(as_span value, char out[QUOTE_MAX + 4])
{
    size_t n = 0;
    for (; n < value.len && n < QUOTE_MAX; n++) {
        unsigned char c = (unsigned char)value.ptr[n];
        out[n] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    }
    if (n < value.len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static void quote(const char *value, char out[QUOTE_MAX + 4])
{
    quote_span(as_span_from_cstr(value), out);
}

static AS_RESULT bad_value(as_error *err, const char *name, const char *value, const char *want)
{
    char shown[QUOTE_MAX + 4];
    quote(value, shown);
    return as_fail(err, AS_ERR_ARGUMENT, 0, "config: %s is \"%s\": %s", name, shown, want);
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

/* A table ARN's fields: arn:<partition>:dynamodb:<region>:<account>:table/<name>. */
typedef struct table_arn {
    as_span partition;
    as_span region;
    as_span account;
    as_span name;
} table_arn;

/* A field of [a-z0-9-] (partition, region), or of digits only (account). */
static bool arn_part_ok(as_span part, bool digits_only, size_t min, size_t max)
{
    if (part.len < min || part.len > max) {
        return false;
    }
    for (size_t i = 0; i < part.len; i++) {
        char c = part.ptr[i];
        if (!((c >= '0' && c <= '9') || (!digits_only && ((c >= 'a' && c <= 'z') || c == '-')))) {
            return false;
        }
    }
    return true;
}

/* Splits and checks a DynamoDB table ARN; false when `text` is not one. */
static bool parse_table_arn(as_span text, table_arn *out)
{
    as_cursor c = as_cursor_of(text);
    if (!as_cursor_take_literal(&c, "arn:")) {
        return false;
    }
    out->partition = as_cursor_take_until(&c, ':');
    if (!as_cursor_take_literal(&c, ":dynamodb:")) {
        return false;
    }
    out->region = as_cursor_take_until(&c, ':');
    if (!as_cursor_take_char(&c, ':')) {
        return false;
    }
    out->account = as_cursor_take_until(&c, ':');
    if (!as_cursor_take_literal(&c, ":table/")) {
        return false;
    }
    out->name = as_cursor_rest(&c);
    return arn_part_ok(out->partition, false, 1, 32) && arn_part_ok(out->region, false, 1, 64) &&
           arn_part_ok(out->account, true, 12, 12) && table_name_ok(out->name.ptr, out->name.len);
}

static bool is_arn(const char *table)
{
    return strncmp(table, "arn:", 4) == 0;
}

/* A table name, or a table ARN (PutItem takes either; an ARN reaches a table in another
 * account). */
static bool table_ok(const char *table)
{
    table_arn arn;
    return is_arn(table) ? parse_table_arn(as_span_from_cstr(table), &arn)
                         : table_name_ok(table, strlen(table));
}

/* The partition a region is in, by the prefixes AWS gives its partitions' regions. */
static const char *partition_of(const char *region)
{
    static const struct {
        const char *prefix;
        const char *partition;
    } PARTITIONS[] = {
        {"cn-", "aws-cn"},         {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"},
        {"us-isof-", "aws-iso-f"}, {"us-iso-", "aws-iso"},    {"eu-isoe-", "aws-iso-e"},
        {"eusc-", "aws-eusc"},
    };
    for (size_t i = 0; i < sizeof PARTITIONS / sizeof PARTITIONS[0]; i++) {
        if (strncmp(region, PARTITIONS[i].prefix, strlen(PARTITIONS[i].prefix)) == 0) {
            return PARTITIONS[i].partition;
        }
    }
    return "aws";
}

static bool span_is_str(as_span span, const char *text)
{
    return span.len == strlen(text) && memcmp(span.ptr, text, span.len) == 0;
}

/* A table ARN must name the region requests are signed for and sent to, in that
 * region's partition: another one's table is not there, and the write would fail on
 * every invocation instead of at init. */
static AS_RESULT check_table_region(const as_config *c, const char *region, as_error *err)
{
    table_arn arn;
    if (!is_arn(c->table) || !parse_table_arn(as_span_from_cstr(c->table), &arn)) {
        return AS_RESULT_OK; /* a table name, or an ARN read_table has refused already */
    }
    as_span partition = arn.partition;
    as_span arn_region = arn.region;
    const char *want = partition_of(region);
    if (!span_is_str(partition, want)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: %s is a table ARN in partition \"%.*s\", but AWS_REGION "
                       "%.64s is in partition %s",
                       c->table_variable, (int)partition.len, partition.ptr, region, want);
    }
    if (!span_is_str(arn_region, region)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: %s is a table ARN in region \"%.*s\", but requests go to "
                       "AWS_REGION %.64s",
                       c->table_variable, (int)arn_region.len, arn_region.ptr, region);
    }
    return AS_RESULT_OK;
}

static AS_RESULT read_table(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    const char *primary = env_value(getenv_fn, ctx, "AUDIT_TABLE");
    const char *alias = env_value(getenv_fn, ctx, "target_table");
    if (primary == NULL && alias == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: AUDIT_TABLE is not set (nor its alias target_table)");
    }
    /* Both set and different: writing the audit trail to the wrong table would be
     * silent, so refuse rather than pick one. */
    if (primary != NULL && alias != NULL && strcmp(primary, alias) != 0) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
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
    return AS_RESULT_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static as_span trim_blanks(as_span s)
{
    while (s.len > 0 && is_blank(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_blank(s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* A comma list of attribute names (AUDIT_IGNORE_ATTRIBUTES, AUDIT_REDACT_ATTRIBUTES)
 * into names[0..max): each trimmed of spaces and tabs, none empty; a blank list is none. */
static AS_RESULT read_names(const char *variable, const char *list, as_span *names, size_t max,
                            size_t *count, as_error *err)
{
    *count = 0;
    if (trim_blanks(as_span_from_cstr(list)).len == 0) {
        return AS_RESULT_OK;
    }
    as_cursor entries = as_cursor_of(as_span_from_cstr(list));
    for (size_t entry = 1;; entry++) {
        as_span name = trim_blanks(as_cursor_take_until(&entries, ','));
        AS_ENSURE(name.len > 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "config: %s: entry %zu is empty (a stray comma?)", variable, entry));
        AS_ENSURE(*count < max, as_fail(err, AS_ERR_ARGUMENT, 0,
                                        "config: %s lists more than %zu names", variable, max));
        names[(*count)++] = name;
        if (!as_cursor_take_char(&entries, ',')) {
            return AS_RESULT_OK;
        }
    }
}

static bool names_hold(const as_span *names, size_t count, as_span name)
{
    for (size_t i = 0; i < count; i++) {
        if (names[i].len == name.len && memcmp(names[i].ptr, name.ptr, name.len) == 0) {
            return true;
        }
    }
    return false;
}

/* One attribute name, trimmed; after the lists, which it may not be in: an actor read
 * from an ignored attribute would name someone the trail does not show changing it, and
 * a redacted one would be stored in clear as `actor`. */
static AS_RESULT read_actor(const char *value, as_config *c, as_error *err)
{
    as_span name = trim_blanks(as_span_from_cstr(value));
    if (name.len == 0) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: AUDIT_ACTOR_ATTRIBUTE is blank: want one attribute name");
    }
    char shown[QUOTE_MAX + 4];
    quote_span(name, shown);
    if (memchr(name.ptr, ',', name.len) != NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: AUDIT_ACTOR_ATTRIBUTE is \"%s\": want one attribute name, not a "
                       "list",
                       shown);
    }
    const char *listed = names_hold(c->redact, c->redact_count, name)   ? "AUDIT_REDACT_ATTRIBUTES"
                         : names_hold(c->ignore, c->ignore_count, name) ? "AUDIT_IGNORE_ATTRIBUTES"
                                                                        : NULL;
    if (listed != NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: AUDIT_ACTOR_ATTRIBUTE \"%s\" is also listed in %s: the attribute "
                       "that names the actor may be neither redacted nor ignored",
                       shown, listed);
    }
    c->actor_attribute = name;
    return AS_RESULT_OK;
}

static bool is_base64_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* What is wrong with a key's text as padded standard base64, or NULL. Said without the
 * value and without a position in it: the key is a secret, and a log reader must not
 * learn a piece of it from an init error. */
static const char *base64_fault(as_span text)
{
    size_t pad = 0;
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] == '=') {
            pad++;
        } else if (!is_base64_char(text.ptr[i])) {
            return "holds a character outside standard base64 (A-Z a-z 0-9 + / and '=' padding; "
                   "spaces, line breaks and the URL-safe - and _ are not accepted)";
        } else if (pad > 0) {
            return "has '=' padding before its end";
        }
    }
    if (pad > 2) {
        return "has more than two '=' of padding";
    }
    if (text.len % 4 != 0) {
        return "is not padded base64: its length is not a multiple of 4 (a missing '='?)";
    }
    return as_base64_valid(text, NULL) ? NULL : "is not padded standard base64";
}

/* Decodes the key into the config's own buffer a quantum at a time, so that no copy of
 * it is left on the heap for the allocator to hand out again. */
static AS_RESULT read_redact_key(const char *value, as_config *c, as_error *err)
{
    as_span text = as_span_from_cstr(value);
    const char *fault = base64_fault(text);
    if (fault != NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "config: AUDIT_REDACT_KEY %s (the value is not shown)", fault);
    }
    size_t len = 0;
    AS_ENSURE(as_base64_valid(text, &len),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "config: AUDIT_REDACT_KEY is not padded base64 (the value is not shown)"));
    if (len < AS_AUDIT_MIN_REDACT_KEY || len > AS_CONFIG_MAX_REDACT_KEY) {
        return as_fail(
            err, AS_ERR_ARGUMENT, 0,
            "config: AUDIT_REDACT_KEY decodes to %zu bytes: want %u to %d (the base64 "
            "of random bytes, e.g. from openssl rand -base64 32; the value is not shown)",
            len, AS_AUDIT_MIN_REDACT_KEY, AS_CONFIG_MAX_REDACT_KEY);
    }
    unsigned char quantum[3];
    size_t at = 0;
    for (size_t i = 0; i + 4 <= text.len; i += 4) {
        size_t n = as_base64_quantum(text.ptr + i, quantum);
        if (n > sizeof c->redact_key - at) {
            break; /* cannot happen after the length check; never write past the buffer */
        }
        memcpy(c->redact_key + at, quantum, n);
        at += n;
    }
    as_wipe(quantum, sizeof quantum);
    c->redact_key_len = at;
    return AS_RESULT_OK;
}

/* ---- the DynamoDB client's settings -------------------------------------------------------- */

/* What is wrong with a credential's bytes, or NULL. Said without the value, and without
 * the offending byte's position, which would tell a reader of the logs part of it. */
static const char *credential_fault(const char *value, bool key_id)
{
    for (const char *p = value; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\r' || c == '\n') {
            return "holds a line break (CR or LF), which would end the request header";
        }
        if (c < 0x20 || c == 0x7f) {
            return "holds a control character";
        }
        if (c == ' ') {
            return "holds a space";
        }
        if (c > 0x7f) {
            return "holds a byte outside ASCII";
        }
        if (key_id && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_')) {
            return "holds a character other than letters, digits and '_'";
        }
    }
    return NULL;
}

static AS_RESULT read_credential(as_ddb_getenv_fn getenv_fn, void *ctx, const char *name,
                                 bool required, bool key_id, as_span *out, as_error *err)
{
    const char *value = env_value(getenv_fn, ctx, name);
    if (value == NULL) {
        *out = (as_span){NULL, 0};
        return required ? as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s is not set", name)
                        : AS_RESULT_OK;
    }
    const char *fault = credential_fault(value, key_id);
    if (fault != NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "ddb: %s %s; a credential is printable ASCII without spaces (its "
                       "value is not shown)",
                       name, fault);
    }
    *out = as_span_from_cstr(value);
    return AS_RESULT_OK;
}

static AS_RESULT ddb_config_from_env(as_ddb_config *config, as_credentials *credentials,
                                     as_ddb_getenv_fn getenv_fn, void *ctx, as_error *err)
{
    if (config == NULL || getenv_fn == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: config and getenv_fn are required");
    }
    /* Filled on the side, so that a failure leaves the caller's config as it was. */
    as_ddb_config c = *config;
    c.region = env_value(getenv_fn, ctx, "AWS_REGION");
    if (c.region == NULL) {
        c.region = env_value(getenv_fn, ctx, "AWS_DEFAULT_REGION");
    }
    if (c.region == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "ddb: AWS_REGION is not set (nor AWS_DEFAULT_REGION)");
    }

    const char *ignore = env_value(getenv_fn, ctx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    const char *endpoint_var = NULL;
    c.endpoint_url = NULL;
    if (ignore == NULL || strcasecmp(ignore, "true") != 0) {
        endpoint_var = "AWS_ENDPOINT_URL_DYNAMODB";
        c.endpoint_url = env_value(getenv_fn, ctx, endpoint_var);
        if (c.endpoint_url == NULL) {
            endpoint_var = "AWS_ENDPOINT_URL";
            c.endpoint_url = env_value(getenv_fn, ctx, endpoint_var);
        }
    }
    as_ddb_endpoint endpoint;
    as_error inner;
    if (as_ddb_endpoint_resolve(c.endpoint_url, c.region, &endpoint, &inner) != AS_OK) {
        /* "ddb: AWS_ENDPOINT_URL: endpoint URL is ..." rather than two prefixes. */
        const char *why = inner.message;
        if (strncmp(why, "ddb: ", 5) == 0) {
            why += 5;
        }
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s: %s",
                       c.endpoint_url != NULL ? endpoint_var : "AWS_REGION", why);
    }

    const char *attempts = env_value(getenv_fn, ctx, "AWS_MAX_ATTEMPTS");
    if (attempts != NULL && !parse_u32(attempts, 1, AS_DDB_MAX_ATTEMPTS_LIMIT, &c.max_attempts)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "ddb: AWS_MAX_ATTEMPTS is not a whole number from 1 to %d",
                       AS_DDB_MAX_ATTEMPTS_LIMIT);
    }

    c.ca_bundle = env_value(getenv_fn, ctx, "AWS_CA_BUNDLE");
    c.ca_bundle_source = "AWS_CA_BUNDLE";
    if (c.ca_bundle == NULL) {
        c.ca_bundle = env_value(getenv_fn, ctx, "SSL_CERT_FILE");
        c.ca_bundle_source = c.ca_bundle != NULL ? "SSL_CERT_FILE" : NULL;
    }

    if (credentials != NULL) {
        as_credentials k;
        AS_GUARD(read_credential(getenv_fn, ctx, "AWS_ACCESS_KEY_ID", true, true, &k.access_key_id,
                                 err));
        AS_GUARD(read_credential(getenv_fn, ctx, "AWS_SECRET_ACCESS_KEY", true, false,
                                 &k.secret_access_key, err));
        AS_GUARD(read_credential(getenv_fn, ctx, "AWS_SESSION_TOKEN", false, false,
                                 &k.session_token, err));
        *credentials = k;
    }
    *config = c;
    return AS_RESULT_OK;
}

as_status as_ddb_config_from_env(as_ddb_config *config, as_credentials *credentials,
                                 as_ddb_getenv_fn getenv_fn, void *ctx, as_error *err)
{
    return as_status_of(ddb_config_from_env(config, credentials, getenv_fn, ctx, err));
}

/* ---- the function's own settings ---------------------------------------------------------- */

/* The variables that shape the items themselves: what `bootstrap --print` reads too. */
static AS_RESULT read_items(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    const char *format = env_value(getenv_fn, ctx, "AUDIT_FORMAT");
    c->format = AS_FORMAT_CLASSIC;
    if (format != NULL && as_format_parse(format, &c->format) != AS_OK) {
        return bad_value(err, "AUDIT_FORMAT", format, "want classic or detailed");
    }

    const char *ignore = env_value(getenv_fn, ctx, "AUDIT_IGNORE_ATTRIBUTES");
    c->ignore_count = 0;
    if (ignore != NULL) {
        AS_GUARD(read_names("AUDIT_IGNORE_ATTRIBUTES", ignore, c->ignore, AS_CONFIG_MAX_IGNORE,
                            &c->ignore_count, err));
    }
    const char *redact = env_value(getenv_fn, ctx, "AUDIT_REDACT_ATTRIBUTES");
    c->redact_count = 0;
    if (redact != NULL) {
        AS_GUARD(read_names("AUDIT_REDACT_ATTRIBUTES", redact, c->redact, AS_CONFIG_MAX_REDACT,
                            &c->redact_count, err));
    }
    const char *actor = env_value(getenv_fn, ctx, "AUDIT_ACTOR_ATTRIBUTE");
    c->actor_attribute = (as_span){NULL, 0};
    if (actor != NULL) {
        AS_GUARD(read_actor(actor, c, err));
    }

    _Static_assert(AS_AUDIT_MAX_RETENTION_DAYS == 36500, "the message below says 36500");
    const char *days = env_value(getenv_fn, ctx, "AUDIT_RETENTION_DAYS");
    c->retention_days = 0;
    if (days != NULL && !parse_u32(days, 1, AS_AUDIT_MAX_RETENTION_DAYS, &c->retention_days)) {
        return bad_value(err, "AUDIT_RETENTION_DAYS", days, "want whole days from 1 to 36500");
    }

    const char *key = env_value(getenv_fn, ctx, "AUDIT_REDACT_KEY");
    as_config_wipe(c);
    if (key != NULL) {
        AS_GUARD(read_redact_key(key, c, err));
    }

    const char *chain = env_value(getenv_fn, ctx, "AUDIT_CHAIN");
    c->chain = false;
    if (chain != NULL) {
        if (strcmp(chain, "on") != 0 && strcmp(chain, "off") != 0) {
            return bad_value(err, "AUDIT_CHAIN", chain, "want on or off");
        }
        c->chain = strcmp(chain, "on") == 0;
    }
    return AS_RESULT_OK;
}

static AS_RESULT read_audit(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    AS_GUARD(read_table(getenv_fn, ctx, c, err));
    AS_GUARD(read_items(getenv_fn, ctx, c, err));

    const char *api = env_value(getenv_fn, ctx, "AUDIT_WRITE_API");
    c->write_api = AS_DDB_WRITE_PUT_ITEM;
    if (api != NULL && as_ddb_write_api_parse(api, &c->write_api) != AS_OK) {
        return bad_value(err, "AUDIT_WRITE_API", api, "want PutItem or BatchWriteItem");
    }

    const char *concurrency = env_value(getenv_fn, ctx, "AUDIT_CONCURRENCY");
    c->concurrency = AS_DDB_DEFAULT_CONCURRENCY;
    if (concurrency != NULL &&
        !parse_u32(concurrency, 1, AS_DDB_MAX_CONCURRENCY, &c->concurrency)) {
        return bad_value(err, "AUDIT_CONCURRENCY", concurrency,
                         "want a whole number from 1 to " STR(AS_DDB_MAX_CONCURRENCY));
    }
    return AS_RESULT_OK;
}

void as_config_log_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_log *out)
{
    if (out == NULL) {
        return;
    }
    memset(out, 0, sizeof *out);
    out->format = AS_LOG_FORMAT_TEXT;
    out->level = AS_LOG_INFO;
    out->function_name = out->service = as_span_from_cstr(AS_CONFIG_DEFAULT_FUNCTION);
    if (getenv_fn == NULL) {
        return;
    }
    const char *format = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_FORMAT");
    if (format != NULL && as_log_format_parse(format, &out->format) != AS_OK) {
        out->format = AS_LOG_FORMAT_TEXT;
    }
    const char *level = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_LEVEL");
    if (level != NULL && as_log_level_parse(level, &out->level) != AS_OK) {
        out->level = AS_LOG_INFO;
    }
    const char *function = env_value(getenv_fn, ctx, "AWS_LAMBDA_FUNCTION_NAME");
    if (function == NULL) {
        function = AS_CONFIG_DEFAULT_FUNCTION;
    }
    const char *service = env_value(getenv_fn, ctx, "POWERTOOLS_SERVICE_NAME");
    if (service == NULL) {
        service = function;
    }
    out->function_name = as_span_from_cstr(function);
    out->service = as_span_from_cstr(service);
}

const char *as_config_runtime_api(as_ddb_getenv_fn getenv_fn, void *ctx)
{
    return getenv_fn != NULL ? env_value(getenv_fn, ctx, "AWS_LAMBDA_RUNTIME_API") : NULL;
}

/* The log settings, strictly: a bad value is an error naming its variable. */
static AS_RESULT read_log(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_error *err)
{
    as_config_log_from_env(getenv_fn, ctx, &c->log);
    as_log_format format_seen;
    const char *format = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_FORMAT");
    if (format != NULL && as_log_format_parse(format, &format_seen) != AS_OK) {
        return bad_value(err, "AWS_LAMBDA_LOG_FORMAT", format, "want JSON or Text");
    }
    as_log_level level_seen;
    const char *level = env_value(getenv_fn, ctx, "AWS_LAMBDA_LOG_LEVEL");
    if (level != NULL && as_log_level_parse(level, &level_seen) != AS_OK) {
        return bad_value(err, "AWS_LAMBDA_LOG_LEVEL", level,
                         "want TRACE, DEBUG, INFO, WARN, ERROR or FATAL");
    }
    return AS_RESULT_OK;
}

static AS_RESULT read_config(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *c, as_log *log,
                             as_error *err)
{
    /* Whatever fails, the log settings that could be read go back with the error, so
     * that the caller reports it in the format asked for (a bad level keeps JSON). */
    as_result log_read = read_log(getenv_fn, ctx, c, err);
    *log = c->log;
    AS_GUARD(log_read);
    AS_GUARD(read_audit(getenv_fn, ctx, c, err));
    c->ddb.concurrency = c->concurrency;
    AS_GUARD(ddb_config_from_env(&c->ddb, &c->credentials, getenv_fn, ctx, err));
    AS_GUARD(check_table_region(c, c->ddb.region, err));
    return AS_RESULT_OK;
}

static AS_RESULT config_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out,
                                 as_error *err)
{
    if (getenv_fn == NULL || out == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "config: getenv_fn and out are required");
    }
    /* Filled on the side, so that a failure hands back nothing half-read. */
    as_config c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    as_result read = read_config(getenv_fn, ctx, &c, &out->log, err);
    if (as_result_is_ok(read)) {
        *out = c;
    }
    as_config_wipe(&c); /* the side copy of the key, on the stack */
    return read;
}

as_status as_config_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out, as_error *err)
{
    return as_status_of(config_from_env(getenv_fn, ctx, out, err));
}

static AS_RESULT config_items_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out,
                                       as_error *err)
{
    if (getenv_fn == NULL || out == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "config: getenv_fn and out are required");
    }
    /* Read on the side: a failure leaves *out as it was. */
    as_config c;
    memset(&c, 0, sizeof c);
    as_result read = read_items(getenv_fn, ctx, &c, err);
    if (as_result_is_ok(read)) {
        out->format = c.format;
        memcpy(out->ignore, c.ignore, sizeof c.ignore);
        out->ignore_count = c.ignore_count;
        out->actor_attribute = c.actor_attribute;
        out->retention_days = c.retention_days;
        memcpy(out->redact, c.redact, sizeof c.redact);
        out->redact_count = c.redact_count;
        memcpy(out->redact_key, c.redact_key, sizeof c.redact_key);
        out->redact_key_len = c.redact_key_len;
        out->chain = c.chain;
    }
    as_config_wipe(&c);
    return read;
}

as_status as_config_items_from_env(as_ddb_getenv_fn getenv_fn, void *ctx, as_config *out,
                                   as_error *err)
{
    return as_status_of(config_items_from_env(getenv_fn, ctx, out, err));
}

void as_config_wipe(as_config *config)
{
    if (config != NULL) {
        as_wipe(config->redact_key, sizeof config->redact_key);
        config->redact_key_len = 0;
    }
}
