/* The DynamoDB client's retry policy as pure functions: error bodies read, errors sorted
 * the way the AWS SDKs' standard mode sorts them, full-jitter backoff and the retry quota. */
#include <string.h>

#include <jansson.h>

#include "auditstream/ddb.h"
#include "aws/ddb_retry.h"

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

/* Raw copy, cut to fit; the message is cleaned later. */
static void copy_raw(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > 0) {
        memcpy(out, s, n);
    }
    out[n] = '\0';
}

static const char *find_bytes(const char *hay, size_t hay_len, const char *needle,
                              size_t needle_len)
{
    if (needle_len == 0 || needle_len > hay_len) {
        return NULL;
    }
    for (size_t i = 0; i + needle_len <= hay_len; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, needle_len) == 0) {
            return hay + i;
        }
    }
    return NULL;
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
    open[0] = '<';
    memcpy(open + 1, tag, tag_len);
    open[tag_len + 1] = '>';
    close[0] = '<';
    close[1] = '/';
    memcpy(close + 2, tag, tag_len);
    close[tag_len + 2] = '>';
    const char *start = find_bytes(body.ptr, body.len, open, tag_len + 2);
    if (start == NULL) {
        return false;
    }
    start += tag_len + 2;
    size_t rest = body.len - (size_t)(start - body.ptr);
    const char *end = find_bytes(start, rest, close, tag_len + 3);
    if (end == NULL) {
        return false;
    }
    *out = (as_span){start, (size_t)(end - start)};
    return true;
}

static void parse_json_error(as_span body, char *type, size_t type_cap, char *message,
                             size_t message_cap)
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
            copy_raw(json_string_value(m), json_string_length(m), message, message_cap);
        }
    }
    json_decref(root);
}

void as_ddb_parse_error_body(as_span body, char *type, size_t type_cap, char *message,
                             size_t message_cap)
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
            copy_raw(found.ptr, found.len, message, message_cap);
        }
        return;
    }
    parse_json_error(body, type, type_cap, message, message_cap);
}

void as_ddb_clean_message(as_span raw, as_span secret, char *out, size_t cap)
{
    static const char *const CUTS[] = {"The Canonical String", "The String-to-Sign"};
    static const char REDACTED[] = "[redacted]";
    if (cap == 0) {
        return;
    }
    size_t len = raw.len;
    for (size_t i = 0; i < len; i++) {
        if (raw.ptr[i] == '\n' || raw.ptr[i] == '\r') {
            len = i;
            break;
        }
    }
    for (size_t c = 0; c < sizeof CUTS / sizeof CUTS[0]; c++) {
        const char *at = find_bytes(raw.ptr, len, CUTS[c], strlen(CUTS[c]));
        if (at != NULL) {
            len = (size_t)(at - raw.ptr);
        }
    }
    size_t n = 0;
    size_t i = 0;
    while (i < len && n + 1 < cap) {
        if (secret.len > 0 && len - i >= secret.len &&
            memcmp(raw.ptr + i, secret.ptr, secret.len) == 0) {
            for (size_t r = 0; REDACTED[r] != '\0' && n + 1 < cap; r++) {
                out[n++] = REDACTED[r];
            }
            i += secret.len;
            continue;
        }
        unsigned char c = (unsigned char)raw.ptr[i++];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) {
        n--;
    }
    out[n] = '\0';
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
