/* The DynamoDB reads (auditstream/ddb_read.h): Query and Scan followed page by page,
 * GetItem, BatchGetItem and DescribeTable, over the PutItem client's engine (aws/ddb_call.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auditstream/ddb_read.h"
#include "aws/ddb_call.h"
#include "aws/ddb_retry.h"
#include "core/internal.h"

#define TARGET_PREFIX "DynamoDB_20120810."
#define OPERATION_MAX 64
#define TABLE_MAX     1024 /* a table name or ARN, as put_items allows */
/* How jansson reads what DynamoDB and the caller give: a string may hold U+0000. */
#define JSON_FLAGS JSON_ALLOW_NUL

/* ---- error kinds ---------------------------------------------------------------------------- */

static const char *const DENIED_TYPES[] = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
    "NotAuthorized",
    NULL,
};

static bool listed(const char *const *list, const char *type)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], type) == 0) {
            return true;
        }
    }
    return false;
}

as_ddb_error_kind as_ddb_error_kind_of(const as_ddb_result *result)
{
    if (result == NULL || result->outcome != AS_DDB_FAILED) {
        return AS_DDB_KIND_NONE;
    }
    const char *type = result->error_type;
    if (strcmp(type, "ResourceNotFoundException") == 0) {
        return AS_DDB_KIND_NOT_FOUND;
    }
    if (listed(DENIED_TYPES, type)) {
        return AS_DDB_KIND_DENIED;
    }
    if (strcmp(type, "ConnectionError") == 0 || strcmp(type, "Timeout") == 0 ||
        strcmp(type, "TlsError") == 0) {
        return AS_DDB_KIND_CONNECTION;
    }
    if (as_ddb_is_throttle_type(type) || result->http_status == 429) {
        return AS_DDB_KIND_THROTTLED;
    }
    if (strcmp(type, "ValidationException") == 0 || strcmp(type, "SerializationException") == 0) {
        return AS_DDB_KIND_VALIDATION;
    }
    return AS_DDB_KIND_OTHER;
}

const char *as_ddb_error_kind_name(as_ddb_error_kind kind)
{
    switch (kind) {
    case AS_DDB_KIND_NONE: return "none";
    case AS_DDB_KIND_NOT_FOUND: return "not_found";
    case AS_DDB_KIND_DENIED: return "denied";
    case AS_DDB_KIND_CONNECTION: return "connection";
    case AS_DDB_KIND_THROTTLED: return "throttled";
    case AS_DDB_KIND_VALIDATION: return "validation";
    case AS_DDB_KIND_OTHER: return "other";
    default: return "unknown";
    }
}

/* ---- arguments ------------------------------------------------------------------------------ */

static AS_RESULT check_client(as_ddb_client *client, const as_credentials *credentials,
                              as_error *err)
{
    AS_ENSURE(client != NULL && credentials != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: client and credentials are required"));
    return AS_RESULT_OK;
}

static AS_RESULT check_table(const char *table, as_error *err)
{
    AS_ENSURE(table != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: table is required"));
    size_t len = strlen(table);
    AS_ENSURE(len > 0 && len <= TABLE_MAX,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: table name is empty or over %d bytes",
                      TABLE_MAX));
    return AS_RESULT_OK;
}

/* A caller's JSON text that goes into a request as it is: it must be one JSON object and
 * nothing after it, so that it cannot end the request's object early. `optional` lets
 * the empty span through (the parameter is left out). */
static AS_RESULT check_object(as_span text, bool optional, const char *what, as_error *err)
{
    if (text.len == 0 && optional) {
        return AS_RESULT_OK;
    }
    AS_ENSURE(text.ptr != NULL && text.len > 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s is required", what));
    json_error_t jerr;
    json_t *root = json_loadb(text.ptr, text.len, JSON_FLAGS, &jerr);
    if (root == NULL) {
        /* jansson says "out of memory" in its text too; its code tells it apart. */
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory reading %s", what);
        }
        return as_fail(err, AS_ERR_ARGUMENT, jerr.position > 0 ? (size_t)jerr.position : 0,
                       "ddb: %s is not valid JSON: %.120s (byte %ld)", what, jerr.text,
                       (long)jerr.position);
    }
    bool object = json_is_object(root);
    json_decref(root);
    AS_ENSURE(object, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s is not a JSON object", what));
    return AS_RESULT_OK;
}

/* An expression, when given, must not be empty: DynamoDB refuses "" with a less clear
 * ValidationException. */
static AS_RESULT check_expression(const char *text, bool required, const char *what, as_error *err)
{
    if (text == NULL) {
        AS_ENSURE(!required, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s is required", what));
        return AS_RESULT_OK;
    }
    AS_ENSURE(text[0] != '\0', as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %s is empty", what));
    return AS_RESULT_OK;
}

/* ---- request bodies ------------------------------------------------------------------------- */

static void member_name(as_buf *body, const char *name)
{
    if (body->len > 1) {
        as_buf_append_char(body, ',');
    }
    as_buf_append_char(body, '"');
    as_buf_append_str(body, name);
    as_buf_append_str(body, "\":");
}

/* "Name":"text", the text escaped; nothing for NULL. */
static void member_string(as_buf *body, const char *name, const char *text)
{
    if (text == NULL) {
        return;
    }
    member_name(body, name);
    as_buf_append_char(body, '"');
    as_buf_append_json_escaped(body, text, strlen(text));
    as_buf_append_char(body, '"');
}

/* "Name":<json>, checked JSON put in as it is; nothing for the empty span. */
static void member_raw(as_buf *body, const char *name, as_span json)
{
    if (json.len == 0) {
        return;
    }
    member_name(body, name);
    as_buf_append_span(body, json);
}

static void member_u64(as_buf *body, const char *name, uint64_t value)
{
    member_name(body, name);
    as_buf_append_u64(body, value);
}

/* ---- reading answers ------------------------------------------------------------------------ */

static void invalid_answer(as_ddb_result *result, const char *fmt, ...) AS_PRINTF(2, 3);

static void invalid_answer(as_ddb_result *result, const char *fmt, ...)
{
    as_ddb_set_text(result->error_type, sizeof result->error_type, "InvalidResponse");
    va_list args;
    va_start(args, fmt);
    vsnprintf(result->message, sizeof result->message, fmt, args);
    va_end(args);
}

/* Parses a 2xx answer; NULL with the result failed when it is not JSON, or with *nomem
 * when jansson ran out of memory. */
static json_t *load_answer(as_span body, const char *operation, as_ddb_result *result,
                           bool *nomem)
{
    json_error_t jerr;
    *nomem = false;
    json_t *root = json_loadb(body.ptr, body.len, JSON_FLAGS, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            *nomem = true;
            return NULL;
        }
        invalid_answer(result, "the %s answer is not valid JSON", operation);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        invalid_answer(result, "the %s answer is not a JSON object", operation);
        return NULL;
    }
    return root;
}

static int append_dump(const char *buffer, size_t size, void *data)
{
    as_buf *out = data;
    as_buf_append(out, buffer, size);
    return as_buf_status(out) == AS_OK ? 0 : -1;
}

/* `value` as compact JSON text into `out` (cleared). A key's values are DynamoDB JSON,
 * whose numbers are strings, so nothing is lost by the round trip. */
static AS_RESULT dump_json(const json_t *value, as_buf *out, as_error *err, const char *what)
{
    as_buf_clear(out);
    if (json_dump_callback(value, append_dump, out, JSON_COMPACT) != 0 ||
        as_buf_status(out) != AS_OK) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory copying %s", what);
    }
    return AS_RESULT_OK;
}

/* ---- one request ---------------------------------------------------------------------------- */

typedef struct one_call {
    as_span body;
    as_buf *response;
} one_call;

static void build_one(void *ctx, size_t item, as_buf *body)
{
    (void)item;
    const one_call *one = ctx;
    as_buf_append_span(body, one->body);
}

static as_result keep_answer(void *ctx, size_t item, as_span body, as_ddb_result *result,
                             as_ddb_next *next, as_error *err)
{
    (void)item;
    (void)result;
    one_call *one = ctx;
    as_buf_clear(one->response);
    as_buf_append_span(one->response, body);
    *next = AS_DDB_NEXT_DONE;
    return as_buf_result(one->response, err, "for the DynamoDB answer");
}

static AS_RESULT check_operation(const char *operation, as_error *err)
{
    AS_ENSURE(operation != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: the operation is required"));
    size_t len = strlen(operation);
    bool letters = len > 0 && len <= OPERATION_MAX;
    for (size_t i = 0; letters && i < len; i++) {
        char c = operation[i];
        letters = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
    AS_ENSURE(letters, as_fail(err, AS_ERR_ARGUMENT, 0,
                               "ddb: the operation must be 1 to %d letters (\"Query\")",
                               OPERATION_MAX));
    return AS_RESULT_OK;
}

/* One request, the arguments checked by the caller. */
static AS_RESULT request_one(as_ddb_client *client, const as_credentials *credentials,
                             const char *operation, as_span body, int64_t deadline_ms,
                             size_t max_response_bytes, as_buf *response, as_ddb_result *result,
                             as_ddb_stats *stats, as_error *err)
{
    char target[sizeof TARGET_PREFIX + OPERATION_MAX];
    snprintf(target, sizeof target, "%s%s", TARGET_PREFIX, operation);
    as_buf_clear(response);
    one_call one = {body, response};
    as_ddb_call_ops ops = {0};
    ops.target = target;
    ops.max_response_bytes =
        max_response_bytes != 0 ? max_response_bytes : AS_DDB_DEFAULT_MAX_READ_RESPONSE;
    ops.nomem_stops_call = true;
    ops.build = build_one;
    ops.answered = keep_answer;
    ops.ctx = &one;
    AS_GUARD(as_ddb_call_run(client, credentials, &ops, 1, deadline_ms, result, stats, err));
    if (stats != NULL) {
        stats->pages = result->outcome == AS_DDB_ANSWERED ? 1 : 0;
    }
    if (result->outcome != AS_DDB_ANSWERED) {
        as_buf_clear(response);
    }
    return AS_RESULT_OK;
}

static void refuse(as_ddb_stats *stats)
{
    if (stats != NULL) {
        memset(stats, 0, sizeof *stats);
        stats->stopped = AS_DDB_STOP_ARGUMENT;
    }
}

static AS_RESULT ddb_request(as_ddb_client *client, const as_credentials *credentials,
                             const char *operation, as_span body, int64_t deadline_ms,
                             size_t max_response_bytes, as_buf *response, as_ddb_result *result,
                             as_ddb_stats *stats, as_error *err)
{
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_operation(operation, err);
    }
    if (as_result_is_ok(checked) && (response == NULL || result == NULL)) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: response and result are required");
    }
    if (as_result_is_ok(checked)) {
        checked = check_object(body, false, "the request body", err);
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    return request_one(client, credentials, operation, body, deadline_ms, max_response_bytes,
                       response, result, stats, err);
}

as_status as_ddb_request(as_ddb_client *client, const as_credentials *credentials,
                         const char *operation, as_span body, int64_t deadline_ms,
                         size_t max_response_bytes, as_buf *response, as_ddb_result *result,
                         as_ddb_stats *stats, as_error *err)
{
    return as_status_of(ddb_request(client, credentials, operation, body, deadline_ms,
                                    max_response_bytes, response, result, stats, err));
}

/* ---- pages ---------------------------------------------------------------------------------- */

typedef enum pager_kind { PAGER_QUERY, PAGER_SCAN, PAGER_BATCH } pager_kind;

/* Per request (a Query, a Scan segment, a BatchGetItem request): what the next sending
 * carries. */
typedef struct page_state {
    as_buf next;    /* Query, Scan: the ExclusiveStartKey; BatchGetItem: the RequestItems */
    uint64_t pages; /* answers delivered */
} page_state;

typedef struct pager {
    pager_kind kind;
    const as_ddb_query *query;
    const as_ddb_scan *scan;
    const as_ddb_batch_get *batch;
    uint32_t segments;
    page_state *states;
    size_t count;
    as_ddb_page_fn on_page;
    void *ctx;
    uint64_t delivered;
} pager;

static void build_query(const pager *p, size_t item, as_buf *body)
{
    const as_ddb_query *q = p->query;
    const page_state *st = &p->states[item];
    as_buf_append_char(body, '{');
    member_string(body, "TableName", q->table);
    member_string(body, "IndexName", q->index);
    member_string(body, "KeyConditionExpression", q->key_condition);
    member_string(body, "FilterExpression", q->filter);
    member_string(body, "ProjectionExpression", q->projection);
    member_raw(body, "ExpressionAttributeNames", q->names);
    member_raw(body, "ExpressionAttributeValues", q->values);
    if (q->descending) {
        member_name(body, "ScanIndexForward");
        as_buf_append_str(body, "false");
    }
    if (q->consistent_read) {
        member_name(body, "ConsistentRead");
        as_buf_append_str(body, "true");
    }
    if (q->limit != 0) {
        member_u64(body, "Limit", q->limit);
    }
    if (st->next.len > 0) {
        member_raw(body, "ExclusiveStartKey", (as_span){st->next.data, st->next.len});
    } else if (st->pages == 0) {
        member_raw(body, "ExclusiveStartKey", q->start_key);
    }
    as_buf_append_char(body, '}');
}

static void build_scan(const pager *p, size_t item, as_buf *body)
{
    const as_ddb_scan *sc = p->scan;
    const page_state *st = &p->states[item];
    as_buf_append_char(body, '{');
    member_string(body, "TableName", sc->table);
    member_string(body, "IndexName", sc->index);
    member_string(body, "FilterExpression", sc->filter);
    member_string(body, "ProjectionExpression", sc->projection);
    member_raw(body, "ExpressionAttributeNames", sc->names);
    member_raw(body, "ExpressionAttributeValues", sc->values);
    if (sc->consistent_read) {
        member_name(body, "ConsistentRead");
        as_buf_append_str(body, "true");
    }
    if (sc->limit != 0) {
        member_u64(body, "Limit", sc->limit);
    }
    if (p->segments > 1) {
        member_u64(body, "Segment", item);
        member_u64(body, "TotalSegments", p->segments);
    }
    member_raw(body, "ExclusiveStartKey", (as_span){st->next.data, st->next.len});
    as_buf_append_char(body, '}');
}

static void build_batch(const pager *p, size_t item, as_buf *body)
{
    const as_ddb_batch_get *b = p->batch;
    const page_state *st = &p->states[item];
    as_buf_append_str(body, "{\"RequestItems\":");
    if (st->next.len > 0) {
        /* The last answer's UnprocessedKeys, which has RequestItems' shape. */
        as_buf_append(body, st->next.data, st->next.len);
        as_buf_append_char(body, '}');
        return;
    }
    as_buf_append_str(body, "{\"");
    as_buf_append_json_escaped(body, b->table, strlen(b->table));
    as_buf_append_str(body, "\":{\"Keys\":[");
    size_t first = item * AS_DDB_BATCH_GET_MAX;
    size_t end = b->key_count - first < AS_DDB_BATCH_GET_MAX ? b->key_count
                                                              : first + AS_DDB_BATCH_GET_MAX;
    for (size_t k = first; k < end; k++) {
        if (k > first) {
            as_buf_append_char(body, ',');
        }
        as_buf_append_span(body, b->keys[k]);
    }
    as_buf_append_char(body, ']');
    member_string(body, "ProjectionExpression", b->projection);
    member_raw(body, "ExpressionAttributeNames", b->names);
    if (b->consistent_read) {
        member_name(body, "ConsistentRead");
        as_buf_append_str(body, "true");
    }
    as_buf_append_str(body, "}}}");
}

static void build_page(void *ctx, size_t item, as_buf *body)
{
    const pager *p = ctx;
    switch (p->kind) {
    case PAGER_QUERY: build_query(p, item, body); break;
    case PAGER_SCAN: build_scan(p, item, body); break;
    case PAGER_BATCH:
    default: build_batch(p, item, body); break;
    }
}

/* The keys an UnprocessedKeys object still holds, over its tables. */
static size_t unprocessed_count(json_t *unprocessed)
{
    size_t n = 0;
    const char *name;
    json_t *table;
    json_object_foreach(unprocessed, name, table)
    {
        n += json_array_size(json_object_get(table, "Keys"));
    }
    return n;
}

static const char *operation_of(pager_kind kind)
{
    switch (kind) {
    case PAGER_QUERY: return "Query";
    case PAGER_SCAN: return "Scan";
    case PAGER_BATCH:
    default: return "BatchGetItem";
    }
}

/* A page arrived: deliver it, then say whether another request follows. */
static as_result page_answered(void *ctx, size_t item, as_span body, as_ddb_result *result,
                               as_ddb_next *next, as_error *err)
{
    pager *p = ctx;
    page_state *st = &p->states[item];
    const char *operation = operation_of(p->kind);
    bool nomem = false;
    json_t *root = load_answer(body, operation, result, &nomem);
    if (root == NULL) {
        if (nomem) {
            return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory reading a %s page",
                           operation);
        }
        *next = AS_DDB_NEXT_FAIL;
        return AS_RESULT_OK;
    }
    const char *follow = p->kind == PAGER_BATCH ? "UnprocessedKeys" : "LastEvaluatedKey";
    json_t *more = json_object_get(root, follow);
    if (more != NULL && !json_is_object(more)) {
        json_decref(root);
        invalid_answer(result, "the answer's %s is not a JSON object", follow);
        *next = AS_DDB_NEXT_FAIL;
        return AS_RESULT_OK;
    }
    bool last = more == NULL || json_object_size(more) == 0;
    as_ddb_page page = {body, (uint32_t)item, st->pages, last};
    st->pages++;
    p->delivered++;
    if (!p->on_page(&page, p->ctx)) {
        json_decref(root);
        *next = AS_DDB_NEXT_STOP;
        return AS_RESULT_OK;
    }
    if (last || (p->kind == PAGER_QUERY && p->query->max_pages != 0 &&
                 st->pages >= p->query->max_pages)) {
        json_decref(root);
        *next = AS_DDB_NEXT_DONE;
        return AS_RESULT_OK;
    }
    as_result kept = dump_json(more, &st->next, err, follow);
    size_t left = p->kind == PAGER_BATCH ? unprocessed_count(more) : 0;
    json_decref(root);
    AS_GUARD(kept);
    if (p->kind == PAGER_BATCH) {
        as_ddb_set_text(result->error_type, sizeof result->error_type, "UnprocessedKeys");
        snprintf(result->message, sizeof result->message,
                 "%zu keys still unprocessed after %u answers", left, (unsigned)st->pages);
        *next = AS_DDB_NEXT_BACKOFF;
        return AS_RESULT_OK;
    }
    *next = AS_DDB_NEXT_AGAIN;
    return AS_RESULT_OK;
}

static AS_RESULT run_pages(as_ddb_client *client, const as_credentials *credentials, pager *p,
                           int64_t deadline_ms, size_t max_response_bytes,
                           as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    static const char *const TARGETS[] = {TARGET_PREFIX "Query", TARGET_PREFIX "Scan",
                                          TARGET_PREFIX "BatchGetItem"};
    p->states = calloc(p->count, sizeof *p->states);
    if (p->states == NULL) {
        refuse(stats);
        if (stats != NULL) {
            stats->stopped = AS_DDB_STOP_NOMEM;
        }
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory for %zu page states", p->count);
    }
    as_ddb_call_ops ops = {0};
    ops.target = TARGETS[p->kind];
    ops.max_response_bytes =
        max_response_bytes != 0 ? max_response_bytes : AS_DDB_DEFAULT_MAX_READ_RESPONSE;
    ops.nomem_stops_call = true;
    ops.build = build_page;
    ops.answered = page_answered;
    ops.ctx = p;
    as_result ran =
        as_ddb_call_run(client, credentials, &ops, p->count, deadline_ms, results, stats, err);
    for (size_t i = 0; i < p->count; i++) {
        as_buf_free(&p->states[i].next);
    }
    free(p->states);
    p->states = NULL;
    if (stats != NULL) {
        stats->pages = p->delivered;
    }
    return ran;
}

static AS_RESULT check_query(const as_ddb_query *q, as_error *err)
{
    AS_ENSURE(q != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: the query is required"));
    AS_GUARD(check_table(q->table, err));
    AS_GUARD(check_expression(q->index, false, "the index name", err));
    AS_GUARD(check_expression(q->key_condition, true, "the key condition", err));
    AS_GUARD(check_expression(q->filter, false, "the filter expression", err));
    AS_GUARD(check_expression(q->projection, false, "the projection expression", err));
    AS_GUARD(check_object(q->names, true, "the expression attribute names", err));
    AS_GUARD(check_object(q->values, true, "the expression attribute values", err));
    AS_GUARD(check_object(q->start_key, true, "the exclusive start key", err));
    return AS_RESULT_OK;
}

static AS_RESULT query_pages(as_ddb_client *client, const as_credentials *credentials,
                             const as_ddb_query *query, as_ddb_page_fn on_page, void *ctx,
                             as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_query(query, err);
    }
    if (as_result_is_ok(checked) && (on_page == NULL || result == NULL)) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: on_page and result are required");
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    pager p = {0};
    p.kind = PAGER_QUERY;
    p.query = query;
    p.count = 1;
    p.on_page = on_page;
    p.ctx = ctx;
    return run_pages(client, credentials, &p, query->deadline_ms, query->max_response_bytes, result,
                     stats, err);
}

as_status as_ddb_query_pages(as_ddb_client *client, const as_credentials *credentials,
                             const as_ddb_query *query, as_ddb_page_fn on_page, void *ctx,
                             as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    return as_status_of(query_pages(client, credentials, query, on_page, ctx, result, stats, err));
}

static AS_RESULT check_scan(const as_ddb_scan *sc, as_error *err)
{
    AS_ENSURE(sc != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: the scan is required"));
    AS_GUARD(check_table(sc->table, err));
    AS_GUARD(check_expression(sc->index, false, "the index name", err));
    AS_GUARD(check_expression(sc->filter, false, "the filter expression", err));
    AS_GUARD(check_expression(sc->projection, false, "the projection expression", err));
    AS_GUARD(check_object(sc->names, true, "the expression attribute names", err));
    AS_GUARD(check_object(sc->values, true, "the expression attribute values", err));
    AS_ENSURE(sc->segments <= AS_DDB_MAX_SEGMENTS,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: %u segments is over %u",
                      (unsigned)sc->segments, AS_DDB_MAX_SEGMENTS));
    return AS_RESULT_OK;
}

static AS_RESULT scan_pages(as_ddb_client *client, const as_credentials *credentials,
                            const as_ddb_scan *scan, as_ddb_page_fn on_page, void *ctx,
                            as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_scan(scan, err);
    }
    if (as_result_is_ok(checked) && (on_page == NULL || results == NULL)) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: on_page and results are required");
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    pager p = {0};
    p.kind = PAGER_SCAN;
    p.scan = scan;
    p.segments = scan->segments > 1 ? scan->segments : 1;
    p.count = p.segments;
    p.on_page = on_page;
    p.ctx = ctx;
    return run_pages(client, credentials, &p, scan->deadline_ms, scan->max_response_bytes, results,
                     stats, err);
}

as_status as_ddb_scan_pages(as_ddb_client *client, const as_credentials *credentials,
                            const as_ddb_scan *scan, as_ddb_page_fn on_page, void *ctx,
                            as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    return as_status_of(scan_pages(client, credentials, scan, on_page, ctx, results, stats, err));
}

static AS_RESULT check_batch(const as_ddb_batch_get *b, as_error *err)
{
    AS_ENSURE(b != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: the batch is required"));
    AS_GUARD(check_table(b->table, err));
    AS_GUARD(check_expression(b->projection, false, "the projection expression", err));
    AS_GUARD(check_object(b->names, true, "the expression attribute names", err));
    AS_ENSURE(b->key_count == 0 || b->keys != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: keys are required"));
    for (size_t i = 0; i < b->key_count; i++) {
        char what[48];
        snprintf(what, sizeof what, "key %zu", i);
        AS_GUARD(check_object(b->keys[i], false, what, err));
    }
    return AS_RESULT_OK;
}

static AS_RESULT batch_get_items(as_ddb_client *client, const as_credentials *credentials,
                                 const as_ddb_batch_get *batch, as_ddb_page_fn on_page, void *ctx,
                                 as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_batch(batch, err);
    }
    if (as_result_is_ok(checked) &&
        (on_page == NULL || (batch->key_count > 0 && results == NULL))) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: on_page and results are required");
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    pager p = {0};
    p.kind = PAGER_BATCH;
    p.batch = batch;
    p.count = AS_DDB_BATCH_GET_REQUESTS(batch->key_count);
    p.on_page = on_page;
    p.ctx = ctx;
    if (p.count == 0) {
        if (stats != NULL) {
            memset(stats, 0, sizeof *stats);
        }
        return AS_RESULT_OK;
    }
    return run_pages(client, credentials, &p, batch->deadline_ms, batch->max_response_bytes,
                     results, stats, err);
}

as_status as_ddb_batch_get_items(as_ddb_client *client, const as_credentials *credentials,
                                 const as_ddb_batch_get *batch, as_ddb_page_fn on_page, void *ctx,
                                 as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    return as_status_of(
        batch_get_items(client, credentials, batch, on_page, ctx, results, stats, err));
}

/* ---- GetItem -------------------------------------------------------------------------------- */

/* An answer read after the engine called it answered turns out unusable: the result
 * and the counts say so. */
static void fail_answered(as_ddb_result *result, as_ddb_stats *stats)
{
    result->outcome = AS_DDB_FAILED;
    if (stats != NULL) {
        stats->written--;
        stats->failed++;
        stats->pages = 0;
    }
}

static AS_RESULT get_item(as_ddb_client *client, const as_credentials *credentials,
                          const char *table, as_span key, const char *projection, as_span names,
                          bool consistent_read, int64_t deadline_ms, as_buf *response, bool *found,
                          as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    if (found != NULL) {
        *found = false;
    }
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_table(table, err);
    }
    if (as_result_is_ok(checked)) {
        checked = check_object(key, false, "the key", err);
    }
    if (as_result_is_ok(checked)) {
        checked = check_expression(projection, false, "the projection expression", err);
    }
    if (as_result_is_ok(checked)) {
        checked = check_object(names, true, "the expression attribute names", err);
    }
    if (as_result_is_ok(checked) && (response == NULL || result == NULL)) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: response and result are required");
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    as_buf body = AS_BUF_INIT;
    as_buf_append_char(&body, '{');
    member_string(&body, "TableName", table);
    member_raw(&body, "Key", key);
    member_string(&body, "ProjectionExpression", projection);
    member_raw(&body, "ExpressionAttributeNames", names);
    if (consistent_read) {
        member_name(&body, "ConsistentRead");
        as_buf_append_str(&body, "true");
    }
    as_buf_append_char(&body, '}');
    as_result built = as_buf_result(&body, err, "building the GetItem request");
    if (!as_result_is_ok(built)) {
        as_buf_free(&body);
        refuse(stats);
        if (stats != NULL) {
            stats->stopped = AS_DDB_STOP_NOMEM;
        }
        memset(result, 0, sizeof *result);
        return built;
    }
    as_result ran = request_one(client, credentials, "GetItem", (as_span){body.data, body.len},
                                deadline_ms, 0, response, result, stats, err);
    as_buf_free(&body);
    AS_GUARD(ran);
    if (result->outcome != AS_DDB_ANSWERED) {
        return AS_RESULT_OK;
    }
    bool nomem = false;
    json_t *root = load_answer((as_span){response->data, response->len}, "GetItem", result, &nomem);
    if (root == NULL) {
        as_buf_clear(response);
        if (nomem) {
            return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory reading the GetItem answer");
        }
        fail_answered(result, stats);
        return AS_RESULT_OK;
    }
    json_t *item = json_object_get(root, "Item");
    bool is_item = item != NULL && json_is_object(item);
    json_decref(root);
    if (item != NULL && !is_item) {
        as_buf_clear(response);
        invalid_answer(result, "the %s answer's Item is not a JSON object", "GetItem");
        fail_answered(result, stats);
        return AS_RESULT_OK;
    }
    if (found != NULL) {
        *found = is_item;
    }
    return AS_RESULT_OK;
}

as_status as_ddb_get_item(as_ddb_client *client, const as_credentials *credentials,
                          const char *table, as_span key, const char *projection, as_span names,
                          bool consistent_read, int64_t deadline_ms, as_buf *response, bool *found,
                          as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    return as_status_of(get_item(client, credentials, table, key, projection, names,
                                 consistent_read, deadline_ms, response, found, result, stats,
                                 err));
}

/* ---- DescribeTable -------------------------------------------------------------------------- */

/* Why an answer could not be read, for the result's message. */
typedef struct reader {
    const char *problem; /* NULL while all is well */
} reader;

/* A string member into `out`; `required` ones missing, and any too long or not a
 * string, are a problem named `what`. */
static void read_text(reader *rd, json_t *obj, const char *key, bool required, char *out,
                      size_t cap, const char *what)
{
    out[0] = '\0';
    json_t *value = json_object_get(obj, key);
    if (value == NULL) {
        if (required && rd->problem == NULL) {
            rd->problem = what;
        }
        return;
    }
    if (!json_is_string(value) || json_string_length(value) >= cap ||
        memchr(json_string_value(value), '\0', json_string_length(value)) != NULL) {
        if (rd->problem == NULL) {
            rd->problem = what;
        }
        return;
    }
    memcpy(out, json_string_value(value), json_string_length(value) + 1);
}

/* The type of attribute `name` in AttributeDefinitions; "" when not listed. */
static void attribute_type(json_t *definitions, const char *name, char out[2])
{
    out[0] = '\0';
    size_t i;
    json_t *def;
    json_array_foreach(definitions, i, def)
    {
        const char *n = json_string_value(json_object_get(def, "AttributeName"));
        const char *t = json_string_value(json_object_get(def, "AttributeType"));
        if (n != NULL && t != NULL && strcmp(n, name) == 0 &&
            (strcmp(t, "S") == 0 || strcmp(t, "N") == 0 || strcmp(t, "B") == 0)) {
            out[0] = t[0];
            out[1] = '\0';
            return;
        }
    }
}

static void read_keys(reader *rd, json_t *schema, json_t *definitions, as_ddb_key_schema *out,
                      const char *what)
{
    memset(out, 0, sizeof *out);
    if (!json_is_array(schema)) {
        if (rd->problem == NULL) {
            rd->problem = what;
        }
        return;
    }
    size_t i;
    json_t *element;
    json_array_foreach(schema, i, element)
    {
        char type[16];
        char name[AS_DDB_NAME_MAX];
        read_text(rd, element, "KeyType", true, type, sizeof type, what);
        read_text(rd, element, "AttributeName", true, name, sizeof name, what);
        if (rd->problem != NULL) {
            return;
        }
        if (strcmp(type, "HASH") == 0 && out->hash_name[0] == '\0') {
            memcpy(out->hash_name, name, sizeof name);
            attribute_type(definitions, name, out->hash_type);
        } else if (strcmp(type, "RANGE") == 0 && out->range_name[0] == '\0') {
            memcpy(out->range_name, name, sizeof name);
            attribute_type(definitions, name, out->range_type);
        } else {
            rd->problem = what;
            return;
        }
    }
    if (out->hash_name[0] == '\0' && rd->problem == NULL) {
        rd->problem = what;
    }
}

/* Reads `table` (the answer's "Table") into `info`; false only when memory ran out. A
 * problem with the answer is left in rd->problem. */
static bool read_table(reader *rd, json_t *table, as_ddb_table_info *info)
{
    json_t *definitions = json_object_get(table, "AttributeDefinitions");
    read_text(rd, table, "TableName", true, info->name, sizeof info->name, "Table.TableName");
    read_text(rd, table, "TableStatus", false, info->status, sizeof info->status,
              "Table.TableStatus");
    read_keys(rd, json_object_get(table, "KeySchema"), definitions, &info->keys,
              "Table.KeySchema");
    read_text(rd, table, "LatestStreamArn", false, info->stream_arn, sizeof info->stream_arn,
              "Table.LatestStreamArn");
    json_t *count = json_object_get(table, "ItemCount");
    if (json_is_integer(count) && json_integer_value(count) >= 0) {
        info->item_count = (uint64_t)json_integer_value(count);
    }
    json_t *stream = json_object_get(table, "StreamSpecification");
    if (stream != NULL) {
        info->stream_enabled = json_is_true(json_object_get(stream, "StreamEnabled"));
        read_text(rd, stream, "StreamViewType", false, info->stream_view_type,
                  sizeof info->stream_view_type, "Table.StreamSpecification.StreamViewType");
    }
    json_t *indexes = json_object_get(table, "GlobalSecondaryIndexes");
    if (indexes == NULL || rd->problem != NULL) {
        return true;
    }
    if (!json_is_array(indexes)) {
        rd->problem = "Table.GlobalSecondaryIndexes";
        return true;
    }
    size_t n = json_array_size(indexes);
    if (n == 0) {
        return true;
    }
    info->indexes = calloc(n, sizeof *info->indexes);
    if (info->indexes == NULL) {
        return false;
    }
    info->index_count = n;
    size_t i;
    json_t *index;
    json_array_foreach(indexes, i, index)
    {
        as_ddb_index_info *out = &info->indexes[i];
        read_text(rd, index, "IndexName", true, out->name, sizeof out->name,
                  "Table.GlobalSecondaryIndexes[].IndexName");
        read_text(rd, index, "IndexStatus", false, out->status, sizeof out->status,
                  "Table.GlobalSecondaryIndexes[].IndexStatus");
        read_text(rd, json_object_get(index, "Projection"), "ProjectionType", false,
                  out->projection, sizeof out->projection,
                  "Table.GlobalSecondaryIndexes[].Projection");
        read_keys(rd, json_object_get(index, "KeySchema"), definitions, &out->keys,
                  "Table.GlobalSecondaryIndexes[].KeySchema");
    }
    return true;
}

void as_ddb_table_info_free(as_ddb_table_info *info)
{
    if (info == NULL) {
        return;
    }
    free(info->indexes);
    info->indexes = NULL;
    info->index_count = 0;
}

const as_ddb_index_info *as_ddb_table_info_index(const as_ddb_table_info *info, const char *name)
{
    if (info == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < info->index_count; i++) {
        if (strcmp(info->indexes[i].name, name) == 0) {
            return &info->indexes[i];
        }
    }
    return NULL;
}

static AS_RESULT describe_table(as_ddb_client *client, const as_credentials *credentials,
                                const char *table, int64_t deadline_ms, as_ddb_table_info *info,
                                as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    if (info != NULL) {
        memset(info, 0, sizeof *info);
    }
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_table(table, err);
    }
    if (as_result_is_ok(checked) && (info == NULL || result == NULL)) {
        checked = as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: info and result are required");
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    as_buf body = AS_BUF_INIT;
    as_buf response = AS_BUF_INIT;
    as_buf_append_char(&body, '{');
    member_string(&body, "TableName", table);
    as_buf_append_char(&body, '}');
    as_result ran = as_buf_result(&body, err, "building the DescribeTable request");
    if (!as_result_is_ok(ran)) {
        refuse(stats);
        if (stats != NULL) {
            stats->stopped = AS_DDB_STOP_NOMEM;
        }
        memset(result, 0, sizeof *result);
    } else {
        ran = request_one(client, credentials, "DescribeTable", (as_span){body.data, body.len},
                          deadline_ms, 0, &response, result, stats, err);
    }
    as_buf_free(&body);
    if (!as_result_is_ok(ran) || result->outcome != AS_DDB_ANSWERED) {
        as_buf_free(&response);
        return ran;
    }
    bool nomem = false;
    json_t *root =
        load_answer((as_span){response.data, response.len}, "DescribeTable", result, &nomem);
    as_buf_free(&response);
    if (root == NULL) {
        if (nomem) {
            return as_fail(err, AS_ERR_NOMEM, 0,
                           "ddb: out of memory reading the DescribeTable answer");
        }
        fail_answered(result, stats);
        return AS_RESULT_OK;
    }
    reader rd = {NULL};
    json_t *described = json_object_get(root, "Table");
    bool memory = true;
    if (!json_is_object(described)) {
        rd.problem = "Table";
    } else {
        memory = read_table(&rd, described, info);
    }
    json_decref(root);
    if (!memory) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory for the table's indexes");
    }
    if (rd.problem != NULL) {
        as_ddb_table_info_free(info);
        invalid_answer(result, "the DescribeTable answer's %s is missing or malformed",
                       rd.problem);
        fail_answered(result, stats);
    }
    return AS_RESULT_OK;
}

as_status as_ddb_describe_table(as_ddb_client *client, const as_credentials *credentials,
                                const char *table, int64_t deadline_ms, as_ddb_table_info *info,
                                as_ddb_result *result, as_ddb_stats *stats, as_error *err)
{
    return as_status_of(
        describe_table(client, credentials, table, deadline_ms, info, result, stats, err));
}

/* ---- conditional PutItem -------------------------------------------------------------------- */

typedef struct cond_call {
    const char *table;
    const as_ddb_conditional_put *puts;
} cond_call;

static void build_cond(void *ctx, size_t item, as_buf *body)
{
    const cond_call *c = ctx;
    const as_ddb_conditional_put *put = &c->puts[item];
    as_buf_append_char(body, '{');
    member_string(body, "TableName", c->table);
    member_raw(body, "Item", put->item);
    member_string(body, "ConditionExpression", put->condition);
    member_raw(body, "ExpressionAttributeValues", put->values);
    as_buf_append_char(body, '}');
}

static AS_RESULT check_puts(const as_ddb_conditional_put *puts, size_t count,
                            const as_ddb_result *results, as_error *err)
{
    AS_ENSURE(count == 0 || (puts != NULL && results != NULL),
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: the writes and their results are required"));
    for (size_t i = 0; i < count; i++) {
        char what[64];
        AS_ENSURE(puts[i].item.ptr != NULL && puts[i].item.len > 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: write %zu has no item", i));
        snprintf(what, sizeof what, "the condition of write %zu", i);
        AS_GUARD(check_expression(puts[i].condition, true, what, err));
        snprintf(what, sizeof what, "the expression attribute values of write %zu", i);
        AS_GUARD(check_object(puts[i].values, true, what, err));
    }
    return AS_RESULT_OK;
}

static AS_RESULT put_items_if(as_ddb_client *client, const as_credentials *credentials,
                              const char *table, const as_ddb_conditional_put *puts, size_t count,
                              int64_t deadline_ms, as_ddb_result *results, as_ddb_stats *stats,
                              as_error *err)
{
    as_result checked = check_client(client, credentials, err);
    if (as_result_is_ok(checked)) {
        checked = check_table(table, err);
    }
    if (as_result_is_ok(checked)) {
        checked = check_puts(puts, count, results, err);
    }
    if (!as_result_is_ok(checked)) {
        refuse(stats);
        return checked;
    }
    if (count == 0) {
        if (stats != NULL) {
            memset(stats, 0, sizeof *stats);
        }
        return AS_RESULT_OK;
    }
    cond_call c = {table, puts};
    as_ddb_call_ops ops = {0};
    ops.target = TARGET_PREFIX "PutItem";
    /* The engine's "already there" is exactly a refused condition; renamed below. */
    ops.if_absent = true;
    ops.nomem_stops_call = true;
    ops.build = build_cond;
    ops.ctx = &c;
    as_result ran = as_ddb_call_run(client, credentials, &ops, count, deadline_ms, results, stats,
                                    err);
    for (size_t i = 0; i < count; i++) {
        if (results[i].outcome == AS_DDB_ALREADY_THERE) {
            results[i].outcome = AS_DDB_CONDITION_FAILED;
        }
    }
    if (stats != NULL) {
        stats->already_there = 0;
    }
    return ran;
}

as_status as_ddb_put_items_if(as_ddb_client *client, const as_credentials *credentials,
                              const char *table, const as_ddb_conditional_put *puts, size_t count,
                              int64_t deadline_ms, as_ddb_result *results, as_ddb_stats *stats,
                              as_error *err)
{
    return as_status_of(
        put_items_if(client, credentials, table, puts, count, deadline_ms, results, stats, err));
}
