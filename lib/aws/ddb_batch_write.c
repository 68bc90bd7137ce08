/* BatchWriteItem: the items packed in their order into requests of up to 25 items and
 * 16 MB, each request one unit of the PutItem engine (aws/ddb_call.h), items settled one by one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auditstream/ddb.h"
#include "aws/ddb_batch_write.h"
#include "aws/ddb_call.h"
#include "core/hex.h"
#include "core/json_text.h"
#include "core/internal.h"

#define TARGET    "DynamoDB_20120810.BatchWriteItem"
#define TABLE_MAX 1024 /* a table name or ARN, as put_items allows */
/* DynamoDB allows 32 levels of nesting in an item; past this the item is refused here
 * rather than by the whole request it would share. */
#define DEPTH_MAX   64
#define ENTRY_OPEN  "{\"PutRequest\":{\"Item\":"
#define ENTRY_CLOSE "}}"
#define BODY_CLOSE  "]}}"
#define ENTRY_BYTES (sizeof ENTRY_OPEN - 1 + sizeof ENTRY_CLOSE - 1)
/* An answer echoes at most the request's items under UnprocessedItems; this is room for
 * the rest of it (ConsumedCapacity is not asked for). */
#define ANSWER_SLACK 65536

/* Per item, for one call. */
typedef struct bw_item {
    as_span id;       /* the id's string body, between its quotes, as the caller wrote it */
    bool id_escaped;  /* it holds a backslash escape */
    char id_type;     /* 'S', 'N' or 'B' */
    bool done;        /* written: its result is final */
    bool unprocessed; /* named by the answer being read */
} bw_item;

/* A request holds the items [first, end) not yet done. */
typedef struct bw_request {
    size_t first;
    size_t end;
} bw_request;

typedef struct bw_call {
    const as_span *items;
    bw_item *state;
    bw_request *requests;
    size_t request_count;
    as_ddb_result *request_results; /* the engine's, one a request */
    as_ddb_result *results;         /* the caller's, one an item */
    as_buf prefix;                  /* {"RequestItems":{"<table>":[ */
    size_t largest;                 /* the largest request body */
    uint64_t unprocessed;
} bw_call;

/* ---- checking an item: well-formed JSON, and its id found ---------------------------------- */

typedef struct scanner {
    const char *s;
    size_t len;
    size_t pos;
} scanner;

static void skip_blanks(scanner *sc)
{
    while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
                                 sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r')) {
        sc->pos++;
    }
}

static bool take(scanner *sc, char c)
{
    if (sc->pos < sc->len && sc->s[sc->pos] == c) {
        sc->pos++;
        return true;
    }
    return false;
}

static bool take_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0) {
        return false;
    }
    sc->pos += n;
    return true;
}

/* The four hex digits of a \u escape (the cursor just past the 'u'). */
static bool take_hex4(scanner *sc, unsigned *out)
{
    if (sc->len - sc->pos < 4) {
        return false;
    }
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int d = as_hex_value((unsigned char)sc->s[sc->pos + i]);
        if (d < 0) {
            return false;
        }
        v = v << 4 | (unsigned)d;
    }
    sc->pos += 4;
    *out = v;
    return true;
}

/* A string ('"' next): its body and whether it holds an escape. Escapes are checked as
 * core/json_text.h's readers trust them to be (surrogates paired), and raw bytes must be
 * UTF-8, which DynamoDB asks of every string. */
static bool scan_string(scanner *sc, as_span *body, bool *escaped)
{
    if (!take(sc, '"')) {
        return false;
    }
    size_t start = sc->pos;
    bool esc = false;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            body->ptr = sc->s + start;
            body->len = sc->pos - start;
            *escaped = esc;
            sc->pos++;
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c == '\\') {
            esc = true;
            sc->pos++;
            if (sc->pos >= sc->len) {
                return false;
            }
            char e = sc->s[sc->pos++];
            if (e != 'u') {
                if (e == '\0' || strchr("\"\\/bfnrt", e) == NULL) {
                    return false;
                }
                continue;
            }
            unsigned cp;
            if (!take_hex4(sc, &cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) {
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low;
                if (!take(sc, '\\') || !take(sc, 'u') || !take_hex4(sc, &low) || low < 0xDC00 ||
                    low > 0xDFFF) {
                    return false;
                }
            }
            continue;
        }
        if (c < 0x80) {
            sc->pos++;
            continue;
        }
        size_t n = as_utf8_sequence((const unsigned char *)sc->s + sc->pos, sc->len - sc->pos);
        if (n == 0) {
            return false;
        }
        sc->pos += n;
    }
    return false;
}

static bool take_digits(scanner *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9') {
        sc->pos++;
    }
    return sc->pos > start;
}

static bool scan_number(scanner *sc)
{
    (void)take(sc, '-');
    if (!take(sc, '0') && !take_digits(sc)) {
        return false;
    }
    if (take(sc, '.') && !take_digits(sc)) {
        return false;
    }
    if (take(sc, 'e') || take(sc, 'E')) {
        if (!take(sc, '+')) {
            (void)take(sc, '-');
        }
        return take_digits(sc);
    }
    return true;
}

static bool scan_value(scanner *sc, unsigned depth);

/* The members of an object or the elements of an array, its opening bracket taken. */
static bool scan_container(scanner *sc, bool object, unsigned depth)
{
    char close = object ? '}' : ']';
    skip_blanks(sc);
    if (take(sc, close)) {
        return true;
    }
    for (;;) {
        if (object) {
            as_span key;
            bool escaped;
            skip_blanks(sc);
            if (!scan_string(sc, &key, &escaped)) {
                return false;
            }
            skip_blanks(sc);
            if (!take(sc, ':')) {
                return false;
            }
        }
        if (!scan_value(sc, depth + 1)) {
            return false;
        }
        skip_blanks(sc);
        if (take(sc, ',')) {
            continue;
        }
        return take(sc, close);
    }
}

static bool scan_value(scanner *sc, unsigned depth)
{
    skip_blanks(sc);
    if (sc->pos >= sc->len) {
        return false;
    }
    as_span body;
    bool escaped;
    switch (sc->s[sc->pos]) {
    case '{':
    case '[': {
        bool object = sc->s[sc->pos] == '{';
        if (depth >= DEPTH_MAX) {
            return false;
        }
        sc->pos++;
        return scan_container(sc, object, depth);
    }
    case '"': return scan_string(sc, &body, &escaped);
    case 't': return take_literal(sc, "true");
    case 'f': return take_literal(sc, "false");
    case 'n': return take_literal(sc, "null");
    default: return scan_number(sc);
    }
}

/* The id's value: {"S"|"N"|"B": "<string>"}. */
static bool scan_id(scanner *sc, bw_item *out)
{
    as_span type;
    bool type_escaped;
    skip_blanks(sc);
    if (!take(sc, '{')) {
        return false;
    }
    skip_blanks(sc);
    if (!scan_string(sc, &type, &type_escaped) || type_escaped || type.len != 1 ||
        strchr("SNB", type.ptr[0]) == NULL) {
        return false;
    }
    skip_blanks(sc);
    if (!take(sc, ':')) {
        return false;
    }
    skip_blanks(sc);
    if (!scan_string(sc, &out->id, &out->id_escaped)) {
        return false;
    }
    skip_blanks(sc);
    out->id_type = type.ptr[0];
    return take(sc, '}');
}

/* Checks one item and finds its id; NULL, or what is wrong with it (*at: the byte). A
 * malformed item would make DynamoDB refuse the whole request it shares with others, so
 * it is refused here, before anything is sent. */
static const char *scan_item(as_span item, bw_item *out, size_t *at)
{
    scanner sc = {item.ptr, item.len, 0};
    bool have_id = false;
    skip_blanks(&sc);
    if (!take(&sc, '{')) {
        goto malformed;
    }
    skip_blanks(&sc);
    if (!take(&sc, '}')) {
        for (;;) {
            as_span key;
            bool escaped;
            skip_blanks(&sc);
            if (!scan_string(&sc, &key, &escaped)) {
                goto malformed;
            }
            skip_blanks(&sc);
            if (!take(&sc, ':')) {
                goto malformed;
            }
            if (as_json_string_equals(key, escaped, "id", 2)) {
                if (have_id) {
                    *at = sc.pos;
                    return "holds the id attribute twice";
                }
                size_t start = sc.pos;
                if (!scan_id(&sc, out)) {
                    *at = start;
                    return "has an id that is not {\"S\"|\"N\"|\"B\":\"<text>\"}";
                }
                if (out->id.len == 0) {
                    *at = start;
                    return "has an empty id, which DynamoDB refuses as a key";
                }
                have_id = true;
            } else if (!scan_value(&sc, 1)) {
                goto malformed;
            }
            skip_blanks(&sc);
            if (take(&sc, ',')) {
                continue;
            }
            if (take(&sc, '}')) {
                break;
            }
            goto malformed;
        }
    }
    skip_blanks(&sc);
    if (sc.pos != sc.len) {
        goto malformed;
    }
    if (!have_id) {
        *at = 0;
        return "has no top-level id attribute (BatchWriteItem tells its items apart by id)";
    }
    return NULL;
malformed:
    *at = sc.pos;
    return "is not one well-formed JSON object";
}

static bool same_id(const bw_item *a, const bw_item *b)
{
    if (a->id_type != b->id_type) {
        return false;
    }
    if (!a->id_escaped && !b->id_escaped && a->id.len != b->id.len) {
        return false;
    }
    return as_json_string_cmp(a->id, a->id_escaped, b->id, b->id_escaped) == 0;
}

/* ---- packing --------------------------------------------------------------------------------- */

/* Requests in the items' order: a new one when the last holds 25 items, when the next
 * item would take it past the size limit, or when it holds the next item's id already
 * (DynamoDB refuses a request with two items of one key whole). */
static AS_RESULT pack(bw_call *bc, size_t count, as_error *err)
{
    size_t fixed = bc->prefix.len + sizeof BODY_CLOSE - 1;
    size_t first = 0;
    size_t bytes = fixed;
    bc->request_count = 0;
    bc->largest = 0;
    for (size_t i = 0; i <= count; i++) {
        size_t add = 0;
        bool close = i == count;
        if (i < count) {
            add = bc->items[i].len + ENTRY_BYTES;
            AS_ENSURE(fixed + add <= AS_DDB_BATCH_WRITE_MAX_BYTES,
                      as_fail(err, AS_ERR_ARGUMENT, 0,
                              "ddb: item %zu (%zu bytes) makes a BatchWriteItem request over "
                              "%u bytes on its own",
                              i, bc->items[i].len, (unsigned)AS_DDB_BATCH_WRITE_MAX_BYTES));
            size_t held = i - first;
            if (held > 0) {
                add++; /* the comma */
            }
            close =
                held == AS_DDB_BATCH_WRITE_MAX_ITEMS || bytes + add > AS_DDB_BATCH_WRITE_MAX_BYTES;
            for (size_t k = first; !close && k < i; k++) {
                close = same_id(&bc->state[k], &bc->state[i]);
            }
        }
        if (close && i > first) {
            bc->requests[bc->request_count++] = (bw_request){first, i};
            if (bytes > bc->largest) {
                bc->largest = bytes;
            }
            first = i;
            bytes = fixed;
            if (i < count) {
                add -= 1; /* the first of its request: no comma */
            }
        }
        bytes += add;
    }
    return AS_RESULT_OK;
}

/* ---- the engine's hooks ---------------------------------------------------------------------- */

static void build_request(void *ctx, size_t request, as_buf *body)
{
    const bw_call *bc = ctx;
    const bw_request *rq = &bc->requests[request];
    as_buf_append(body, bc->prefix.data, bc->prefix.len);
    bool first = true;
    for (size_t i = rq->first; i < rq->end; i++) {
        if (bc->state[i].done) {
            continue;
        }
        if (!first) {
            as_buf_append_char(body, ',');
        }
        first = false;
        as_buf_append(body, ENTRY_OPEN, sizeof ENTRY_OPEN - 1);
        as_buf_append_span(body, bc->items[i]);
        as_buf_append(body, ENTRY_CLOSE, sizeof ENTRY_CLOSE - 1);
    }
    as_buf_append(body, BODY_CLOSE, sizeof BODY_CLOSE - 1);
}

/* Marks the request's items that an UnprocessedItems entry names (*left: how many);
 * NULL, or why the answer cannot be read. Entries are matched by id among the request's
 * items not yet written, whatever table key they come under (DynamoDB may name the table
 * as the request did, or by name for an ARN). */
static const char *mark_unprocessed(bw_call *bc, const bw_request *rq, json_t *root, size_t *left)
{
    *left = 0;
    json_t *unprocessed = json_object_get(root, "UnprocessedItems");
    if (unprocessed == NULL) {
        return NULL;
    }
    if (!json_is_object(unprocessed)) {
        return "its UnprocessedItems is not a JSON object";
    }
    const char *table;
    json_t *list;
    json_object_foreach(unprocessed, table, list)
    {
        if (!json_is_array(list)) {
            return "an UnprocessedItems member is not a list";
        }
        size_t k;
        json_t *entry;
        json_array_foreach(list, k, entry)
        {
            json_t *id = json_object_get(
                json_object_get(json_object_get(entry, "PutRequest"), "Item"), "id");
            if (!json_is_object(id) || json_object_size(id) != 1) {
                return "an unprocessed item has no id";
            }
            void *member = json_object_iter(id);
            const char *type = json_object_iter_key(member);
            json_t *value = json_object_iter_value(member);
            if (!json_is_string(value) || strlen(type) != 1) {
                return "an unprocessed item's id is not {\"S\"|\"N\"|\"B\":\"<text>\"}";
            }
            size_t found = rq->end;
            for (size_t i = rq->first; i < rq->end; i++) {
                const bw_item *st = &bc->state[i];
                if (!st->done && st->id_type == type[0] &&
                    as_json_string_equals(st->id, st->id_escaped, json_string_value(value),
                                          json_string_length(value))) {
                    found = i;
                    break;
                }
            }
            if (found == rq->end) {
                return "an unprocessed item's id is not one the request sent";
            }
            if (!bc->state[found].unprocessed) {
                bc->state[found].unprocessed = true;
                (*left)++;
            }
        }
    }
    return NULL;
}

/* A 2xx answer: the items it does not return unprocessed are written. */
static as_result request_answered(void *ctx, size_t request, as_span body, as_ddb_result *result,
                                  as_ddb_next *next, as_error *err)
{
    bw_call *bc = ctx;
    const bw_request *rq = &bc->requests[request];
    json_error_t jerr;
    json_t *root = json_loadb(body.ptr, body.len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
        /* The engine stops the call; its items were sent, so not "not attempted". */
        result->outcome = AS_DDB_FAILED;
        as_ddb_set_text(result->error_type, sizeof result->error_type, "TransportError");
        as_ddb_set_text(result->message, sizeof result->message,
                        "out of memory reading the BatchWriteItem answer");
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory reading a BatchWriteItem answer");
    }
    size_t left = 0;
    const char *bad = root == NULL ? "it is not valid JSON" : mark_unprocessed(bc, rq, root, &left);
    json_decref(root);
    if (bad != NULL) {
        /* Nothing in it can be trusted: the whole request again, as for a 2xx that is
         * not JSON (the writes are idempotent). */
        for (size_t i = rq->first; i < rq->end; i++) {
            bc->state[i].unprocessed = false;
        }
        as_ddb_set_text(result->error_type, sizeof result->error_type, "InvalidResponse");
        snprintf(result->message, sizeof result->message, "the BatchWriteItem answer: %s", bad);
        *next = AS_DDB_NEXT_BACKOFF;
        return AS_RESULT_OK;
    }
    size_t sent = 0;
    for (size_t i = rq->first; i < rq->end; i++) {
        bw_item *st = &bc->state[i];
        if (st->done) {
            continue;
        }
        sent++;
        if (st->unprocessed) {
            st->unprocessed = false;
            continue;
        }
        st->done = true;
        as_ddb_result *r = &bc->results[i];
        memset(r, 0, sizeof *r);
        r->outcome = AS_DDB_WRITTEN;
        r->attempts = result->attempts;
        r->http_status = result->http_status;
        memcpy(r->request_id, result->request_id, sizeof r->request_id);
    }
    if (left == 0) {
        *next = AS_DDB_NEXT_DONE;
        return AS_RESULT_OK;
    }
    bc->unprocessed += left;
    as_ddb_set_text(result->error_type, sizeof result->error_type, "UnprocessedItems");
    snprintf(result->message, sizeof result->message,
             "returned under UnprocessedItems (%zu of the %zu items sent)", left, sent);
    *next = AS_DDB_NEXT_BACKOFF;
    return AS_RESULT_OK;
}

/* ---- the call -------------------------------------------------------------------------------- */

static AS_RESULT check_args(as_ddb_client *client, const as_credentials *credentials,
                            const char *table, const as_span *items, size_t count,
                            as_ddb_result *results, as_error *err)
{
    AS_ENSURE(client != NULL && credentials != NULL && table != NULL &&
                  (count == 0 || (items != NULL && results != NULL)),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: client, credentials, table, items and results are required"));
    size_t table_len = strlen(table);
    AS_ENSURE(
        table_len > 0 && table_len <= TABLE_MAX,
        as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: table name is empty or over %d bytes", TABLE_MAX));
    for (size_t i = 0; i < count; i++) {
        AS_ENSURE(items[i].ptr != NULL,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: item %zu is not a JSON object", i));
    }
    return AS_RESULT_OK;
}

static AS_RESULT scan_items(bw_call *bc, size_t count, as_error *err)
{
    for (size_t i = 0; i < count; i++) {
        size_t at = 0;
        const char *wrong = scan_item(bc->items[i], &bc->state[i], &at);
        AS_ENSURE(wrong == NULL,
                  as_fail(err, AS_ERR_ARGUMENT, at, "ddb: item %zu %s (byte %zu)", i, wrong, at));
    }
    return AS_RESULT_OK;
}

static AS_RESULT prepare(bw_call *bc, const char *table, size_t count, as_error *err)
{
    bc->state = calloc(count, sizeof *bc->state);
    bc->requests = calloc(count, sizeof *bc->requests);
    AS_ENSURE(bc->state != NULL && bc->requests != NULL,
              as_fail_nomem(err, "for the BatchWriteItem call's item states"));
    as_buf_append_str(&bc->prefix, "{\"RequestItems\":{\"");
    as_buf_append_json_escaped(&bc->prefix, table, strlen(table));
    as_buf_append_str(&bc->prefix, "\":[");
    AS_GUARD(as_buf_result(&bc->prefix, err, "for the BatchWriteItem request's head"));
    AS_GUARD(scan_items(bc, count, err));
    AS_GUARD(pack(bc, count, err));
    bc->request_results = calloc(bc->request_count, sizeof *bc->request_results);
    AS_ENSURE(bc->request_results != NULL,
              as_fail_nomem(err, "for the BatchWriteItem call's request results"));
    return AS_RESULT_OK;
}

/* Each item not written takes its request's last result. */
static void settle(bw_call *bc, as_ddb_stats *engine)
{
    for (size_t r = 0; r < bc->request_count; r++) {
        const bw_request *rq = &bc->requests[r];
        for (size_t i = rq->first; i < rq->end; i++) {
            if (!bc->state[i].done) {
                bc->results[i] = bc->request_results[r];
            }
        }
    }
    engine->written = 0;
    engine->failed = 0;
    engine->not_attempted = 0;
    engine->already_there = 0;
    for (size_t r = 0; r < bc->request_count; r++) {
        for (size_t i = bc->requests[r].first; i < bc->requests[r].end; i++) {
            switch (bc->results[i].outcome) {
            case AS_DDB_WRITTEN: engine->written++; break;
            case AS_DDB_NOT_ATTEMPTED: engine->not_attempted++; break;
            case AS_DDB_FAILED:
            case AS_DDB_ALREADY_THERE:
            case AS_DDB_CONDITION_FAILED:
            default: engine->failed++; break;
            }
        }
    }
    engine->unprocessed = bc->unprocessed;
}

/* A call refused before anything was sent: every item says so. */
static void refuse(as_ddb_result *results, size_t count, as_ddb_stats *stats, as_ddb_stop stop)
{
    if (results != NULL) {
        for (size_t i = 0; i < count; i++) {
            memset(&results[i], 0, sizeof results[i]);
            snprintf(results[i].message, sizeof results[i].message,
                     "not sent: the call stopped early (%s)", as_ddb_stop_name(stop));
        }
    }
    if (stats != NULL) {
        stats->stopped = stop;
        stats->not_attempted = results != NULL ? count : 0;
    }
}

as_result as_ddb_batch_write(as_ddb_client *client, const as_credentials *credentials,
                             const char *table, const as_span *items, size_t count,
                             int64_t deadline_ms, as_ddb_result *results, as_ddb_stats *stats,
                             as_error *err)
{
    if (stats != NULL) {
        memset(stats, 0, sizeof *stats);
    }
    as_result checked = check_args(client, credentials, table, items, count, results, err);
    if (!as_result_is_ok(checked)) {
        refuse(NULL, 0, stats, AS_DDB_STOP_ARGUMENT);
        return checked;
    }
    if (count == 0) {
        return AS_RESULT_OK;
    }
    bw_call bc = {0};
    bc.items = items;
    bc.results = results;
    as_buf_init(&bc.prefix);
    as_result ran = prepare(&bc, table, count, err);
    if (!as_result_is_ok(ran)) {
        refuse(results, count, stats,
               ran.status == AS_ERR_NOMEM ? AS_DDB_STOP_NOMEM : AS_DDB_STOP_ARGUMENT);
    } else {
        memset(results, 0, count * sizeof *results);
        as_ddb_call_ops ops = {0};
        ops.target = TARGET;
        ops.max_response_bytes = bc.largest + ANSWER_SLACK;
        ops.nomem_stops_call = true;
        ops.build = build_request;
        ops.answered = request_answered;
        ops.ctx = &bc;
        as_ddb_stats engine;
        ran = as_ddb_call_run(client, credentials, &ops, bc.request_count, deadline_ms,
                              bc.request_results, &engine, err);
        settle(&bc, &engine);
        if (stats != NULL) {
            *stats = engine;
        }
    }
    free(bc.state);
    free(bc.requests);
    free(bc.request_results);
    as_buf_free(&bc.prefix);
    return ran;
}
