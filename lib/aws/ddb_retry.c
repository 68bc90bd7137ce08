/* The DynamoDB client's retry policy as pure functions: error bodies read, errors sorted
 * the way the AWS SDKs' standard mode sorts them, full-jitter backoff and the retry quota. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auditstream/ddb.h"
#include "aws/ddb_retry.h"
#include "core/cursor.h"

/* Standard mode's throttling codes (botocore's list, which the other SDKs share). */
static const char *const THROTTLE_TYPES[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL,
};

/* Transient codes: standard mode's, the server-side failures DynamoDB names, and
 * TransactionConflictException, safe to retry because every write here is idempotent. */
static const char *const TRANSIENT_TYPES[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionConflictException",
    NULL,
};

/* Codes that mean the signing clock is off, whatever the message says. */
static const char *const SKEW_TYPES[] = {
    "RequestTimeTooSkewed",
    "RequestExpired",
    "RequestInTheFuture",
    NULL,
};

static bool in_list(const char *const *list, const char *type)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], type) == 0) {
            return true;
        }
    }
    return false;
}

bool as_ddb_is_throttle_type(const char *type)
{
    return type != NULL && in_list(THROTTLE_TYPES, type);
}

/* A signature refused only because of its time: DynamoDB says "Signature expired: ..."
 * for a clock behind and "Signature not yet current: ..." for one ahead. */
static bool is_skew(const char *type, const char *message)
{
    if (in_list(SKEW_TYPES, type)) {
        return true;
    }
    if (strcmp(type, "InvalidSignatureException") != 0 &&
        strcmp(type, "SignatureDoesNotMatch") != 0) {
        return false;
    }
    return strstr(message, "Signature expired") != NULL ||
           strstr(message, "Signature not yet current") != NULL;
}

const char *as_ddb_fault_type(as_ddb_fault fault)
{
    switch (fault) {
    case AS_DDB_FAULT_NONE: return "";
    case AS_DDB_FAULT_CONNECTION: return "ConnectionError";
    case AS_DDB_FAULT_TIMEOUT: return "Timeout";
    case AS_DDB_FAULT_CRC: return "Crc32Mismatch";
    case AS_DDB_FAULT_TLS: return "TlsError";
    case AS_DDB_FAULT_TOO_LARGE: return "ResponseTooLarge";
    case AS_DDB_FAULT_BAD_BODY: return "InvalidResponse";
    case AS_DDB_FAULT_OTHER: return "TransportError";
    default: return "TransportError";
    }
}

as_ddb_verdict as_ddb_classify(as_ddb_fault fault, long status, const char *type,
                               const char *message)
{
    switch (fault) {
    case AS_DDB_FAULT_NONE: break;
    case AS_DDB_FAULT_CONNECTION: return AS_DDB_RETRY_TRANSIENT;
    case AS_DDB_FAULT_CRC: return AS_DDB_RETRY_TRANSIENT;
    /* A proxy's page or a cut answer: the write may not have happened, and a retry of
     * an idempotent PutItem is harmless. */
    case AS_DDB_FAULT_BAD_BODY: return AS_DDB_RETRY_TRANSIENT;
    case AS_DDB_FAULT_TIMEOUT: return AS_DDB_RETRY_TIMEOUT;
    case AS_DDB_FAULT_TLS:
    case AS_DDB_FAULT_TOO_LARGE:
    case AS_DDB_FAULT_OTHER:
    default: return AS_DDB_GIVE_UP;
    }
    if (status >= 200 && status < 300) {
        return AS_DDB_SUCCESS;
    }
    const char *t = type != NULL ? type : "";
    const char *m = message != NULL ? message : "";
    if (in_list(THROTTLE_TYPES, t)) {
        return AS_DDB_RETRY_THROTTLE;
    }
    if (is_skew(t, m)) {
        return AS_DDB_FIX_CLOCK;
    }
    if (in_list(TRANSIENT_TYPES, t)) {
        return AS_DDB_RETRY_TRANSIENT;
    }
    if (status == 429) {
        return AS_DDB_RETRY_THROTTLE;
    }
    if (status >= 500 && status <= 599) {
        return AS_DDB_RETRY_TRANSIENT;
    }
    return AS_DDB_GIVE_UP;
}

/* ---- error bodies -------------------------------------------------------------------------- */

static bool is_type_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

/* The part after the last '#' ("com.amazonaws.dynamodb.v20120810#ThrottlingException"),
 * kept to identifier bytes; an unexpected byte ends it. */
static void copy_type(const char *s, size_t len, char *out, size_t cap)
{
    const char *hash = NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '#') {
            hash = s + i;
        }
    }
    if (hash != NULL) {
        len -= (size_t)(hash + 1 - s);
        s = hash + 1;
    }
    size_t n = 0;
    while (n < len && n + 1 < cap && is_type_char((unsigned char)s[n])) {
        out[n] = s[n];
        n++;
    }
    out[n] = '\0';
}

/* The text between <tag> and </tag>, first occurrence. */
static bool xml_element(as_span body, const char *tag, as_span *out)
{
    char open[32];
    char close[32];
    size_t tag_len = strlen(tag);
    if (tag_len + 3 >= sizeof open) {
        return false;
    }
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    as_cursor c = as_cursor_of(body);
    if (!as_cursor_skip_past_bytes(&c, open, tag_len + 2)) {
        return false;
    }
    as_span text = as_cursor_rest(&c);
    if (!as_cursor_skip_past_bytes(&c, close, tag_len + 3)) {
        return false;
    }
    text.len = as_cursor_rest(&c).ptr - text.ptr - (tag_len + 3);
    *out = text;
    return true;
}

static void parse_json_error(as_span body, const as_span *secrets, size_t secret_count, char *type,
                             size_t type_cap, char *message, size_t message_cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return;
    }
    if (json_is_object(root)) {
        json_t *t = json_object_get(root, "__type");
        if (json_is_string(t)) {
            copy_type(json_string_value(t), json_string_length(t), type, type_cap);
        }
        json_t *m = json_object_get(root, "message");
        if (!json_is_string(m)) {
            m = json_object_get(root, "Message");
        }
        if (json_is_string(m)) {
            as_ddb_clean_message((as_span){json_string_value(m), json_string_length(m)}, secrets,
                                 secret_count, message, message_cap);
        }
    }
    json_decref(root);
}

void as_ddb_parse_error_body(as_span body, const as_span *secrets, size_t secret_count, char *type,
                             size_t type_cap, char *message, size_t message_cap)
{
    type[0] = '\0';
    message[0] = '\0';
    size_t i = 0;
    while (i < body.len && (body.ptr[i] == ' ' || body.ptr[i] == '\t' || body.ptr[i] == '\r' ||
                            body.ptr[i] == '\n')) {
        i++;
    }
    if (i == body.len) {
        return;
    }
    if (body.ptr[i] == '<') {
        as_span found;
        if (xml_element(body, "Code", &found)) {
            copy_type(found.ptr, found.len, type, type_cap);
        }
        if (xml_element(body, "Message", &found)) {
            as_ddb_clean_message(found, secrets, secret_count, message, message_cap);
        }
    } else {
        parse_json_error(body, secrets, secret_count, type, type_cap, message, message_cap);
    }
    /* The type is logged and posted too: one that echoes a secret says so instead. */
    if (type[0] != '\0' && type_cap > 8 && strlen(type) < AS_DDB_ERROR_TYPE_MAX) {
        char cleaned[AS_DDB_ERROR_TYPE_MAX];
        as_ddb_clean_message(as_span_from_cstr(type), secrets, secret_count, cleaned,
                             sizeof cleaned);
        if (strcmp(cleaned, type) != 0) {
            memcpy(type, "Redacted", 9);
        }
    }
}

bool as_ddb_parse_crc32(as_span text, uint32_t *out)
{
    size_t i = 0;
    size_t end = text.len;
    while (i < end && (text.ptr[i] == ' ' || text.ptr[i] == '\t')) {
        i++;
    }
    while (end > i && (text.ptr[end - 1] == ' ' || text.ptr[end - 1] == '\t')) {
        end--;
    }
    if (i == end) {
        return false;
    }
    uint64_t value = 0;
    for (; i < end; i++) {
        unsigned char c = (unsigned char)text.ptr[i];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (uint64_t)(c - '0');
        if (value > UINT32_MAX) {
            return false;
        }
    }
    *out = (uint32_t)value;
    return true;
}

/* ---- backoff and quota --------------------------------------------------------------------- */

uint32_t as_ddb_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t cap_ms, uint64_t random)
{
    uint64_t ceiling = base_ms;
    /* Doubling stops once the cap is reached, so no shift can overflow. */
    for (uint32_t i = 1; i < attempt && ceiling < cap_ms; i++) {
        ceiling *= 2;
    }
    if (ceiling > cap_ms) {
        ceiling = cap_ms;
    }
    /* ceiling <= UINT32_MAX and the fraction's numerator < 2^32: no overflow. */
    return (uint32_t)(((random >> 32) * ceiling) >> 32);
}

void as_ddb_quota_init(as_ddb_quota *quota, uint32_t max)
{
    quota->tokens = max;
    quota->max = max;
}

uint32_t as_ddb_quota_acquire(as_ddb_quota *quota, bool after_timeout)
{
    uint32_t cost = after_timeout ? AS_DDB_TIMEOUT_RETRY_COST : AS_DDB_RETRY_COST;
    if (quota->tokens < cost) {
        return 0;
    }
    quota->tokens -= cost;
    return cost;
}

void as_ddb_quota_release(as_ddb_quota *quota, uint32_t last_cost)
{
    uint32_t refund = last_cost > 0 ? last_cost : 1;
    quota->tokens = quota->max - quota->tokens < refund ? quota->max : quota->tokens + refund;
}

as_ddb_skew as_ddb_skew_judge(bool have_date, int64_t server_s, int64_t signed_ms, int64_t now_ms,
                              int64_t *offset_ms)
{
    if (!have_date) {
        return AS_DDB_SKEW_NO_DATE;
    }
    if (server_s < AS_DDB_SKEW_DATE_MIN || server_s > AS_SIGV4_TIME_MAX) {
        return AS_DDB_SKEW_IMPLAUSIBLE;
    }
    int64_t server_ms = server_s * 1000;
    /* Measured against the signing time, not the local clock: a wrong offset learnt
     * earlier shows here as skew, and is then replaced. */
    int64_t shown = server_ms - signed_ms;
    if (shown <= AS_DDB_SKEW_MIN_MS && shown >= -AS_DDB_SKEW_MIN_MS) {
        return AS_DDB_SKEW_NOT_SHOWN;
    }
    int64_t offset = server_ms - now_ms;
    if (offset > AS_DDB_SKEW_MAX_MS || offset < -AS_DDB_SKEW_MAX_MS) {
        return AS_DDB_SKEW_TOO_FAR;
    }
    *offset_ms = offset;
    return AS_DDB_SKEW_FIX;
}

const char *as_ddb_skew_note(as_ddb_skew skew)
{
    switch (skew) {
    case AS_DDB_SKEW_FIX: return "";
    case AS_DDB_SKEW_NO_DATE:
        return " (no usable Date header to correct the clock: missing, unreadable or repeated)";
    case AS_DDB_SKEW_IMPLAUSIBLE:
        return " (the Date header is before 2000 or after 9999: clock not corrected)";
    case AS_DDB_SKEW_NOT_SHOWN:
        return " (the Date header shows no clock skew: clock not corrected)";
    case AS_DDB_SKEW_TOO_FAR:
        return " (the Date header is over 24 h from the local clock: clock not corrected)";
    default: return " (clock not corrected)";
    }
}
