/* One audit invocation: decode -> build -> write, then the partial batch response, the
 * error outcomes, detail log lines, the summary line and the metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/batch.h"
#include "auditstream/chain_store.h"
#include "auditstream/event.h"
#include "auditstream/runtime.h"
#include "aws/arrays.h"
#include "aws/clock.h"
#include "aws/wipe.h"
#include "core/internal.h"

struct as_batch {
    as_ddb_client *client;             /* borrowed */
    const as_credentials *credentials; /* borrowed */
    char *table;
    as_format format;
    as_span *ignore; /* into ignore_names */
    size_t ignore_count;
    as_buf ignore_names;
    /* The trust settings, copied: the names into `names`, the key into `key` (wiped). */
    as_span actor;
    uint32_t retention_days;
    as_span *redact;
    size_t redact_count;
    as_buf names;
    as_buf key;
    as_ddb_write_api write_api;
    as_chain_store *chain;   /* AUDIT_CHAIN=on; NULL otherwise */
    as_chain_entry *entries; /* per record with items */
    size_t entries_cap;
    as_buf anchors; /* the "chain heads" line's heads */
    uint32_t margin_ms;
    as_ddb_clock_fn clock;
    void *clock_ctx;
    as_items *items;
    as_span *spans; /* per item: its JSON, for as_ddb_put_items */
    as_ddb_result *results;
    size_t cap;
    as_buf identifier; /* the item_identifier of the last result */
};

/* The trust settings' names and key copied into the batch, and the chain's store. */
static AS_RESULT copy_trust(as_batch *b, const as_batch_options *options, as_error *err)
{
    AS_ENSURE(options->redact != NULL || options->redact_count == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "batch: the redacted names are missing"));
    AS_ENSURE(options->redact_key != NULL || options->redact_key_len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "batch: the redaction key is missing"));
    AS_ENSURE(options->actor_attribute.ptr != NULL || options->actor_attribute.len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "batch: the actor attribute has no bytes"));
    b->retention_days = options->retention_days;
    b->write_api = options->write_api;
    if (options->redact_count > 0) {
        b->redact = calloc(options->redact_count, sizeof *b->redact);
        AS_ENSURE(b->redact != NULL, as_fail_nomem(err, "batch: copying the redacted names"));
    }
    as_buf_append_span(&b->names, options->actor_attribute);
    for (size_t i = 0; i < options->redact_count; i++) {
        as_buf_append_span(&b->names, options->redact[i]);
    }
    AS_GUARD(as_buf_result(&b->names, err, "batch: copying the trust settings' names"));
    b->actor = (as_span){b->names.data, options->actor_attribute.len};
    size_t off = options->actor_attribute.len;
    for (size_t i = 0; i < options->redact_count; i++) {
        b->redact[i] = (as_span){b->names.data + off, options->redact[i].len};
        off += options->redact[i].len;
    }
    b->redact_count = options->redact_count;
    if (options->redact_key_len > 0) {
        /* Reserved whole first, so that the key is never copied by a growing buffer. */
        AS_ENSURE(as_buf_reserve(&b->key, options->redact_key_len) == AS_OK,
                  as_fail_nomem(err, "batch: copying the redaction key"));
        as_buf_append(&b->key, options->redact_key, options->redact_key_len);
    }
    if (options->chain) {
        as_chain_store_options chain = {.table = options->table, .write_api = options->write_api};
        AS_GUARD_STATUS(as_chain_store_new(b->client, b->credentials, &chain, &b->chain, err));
    }
    return AS_RESULT_OK;
}

static AS_RESULT batch_new(as_ddb_client *client, const as_credentials *credentials,
                           const as_batch_options *options, as_batch **out, as_error *err)
{
    AS_ENSURE(out != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "batch: out is required"));
    *out = NULL;
    AS_ENSURE(client != NULL && credentials != NULL && options != NULL && options->table != NULL &&
                  options->table[0] != '\0' &&
                  (options->ignore != NULL || options->ignore_count == 0),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "batch: client, credentials, options and a table are required"));
    as_batch *b = calloc(1, sizeof *b);
    AS_ENSURE(b != NULL, as_fail_nomem(err, "batch: making the batch"));
    b->client = client;
    b->credentials = credentials;
    b->format = options->format;
    b->margin_ms = options->margin_ms != 0 ? options->margin_ms : AS_BATCH_DEFAULT_MARGIN_MS;
    b->clock = options->clock != NULL ? options->clock : as_clock_realtime_ms;
    b->clock_ctx = options->clock_ctx;
    b->table = strdup(options->table);
    b->items = as_items_new();
    if (options->ignore_count > 0) {
        b->ignore = calloc(options->ignore_count, sizeof *b->ignore);
    }
    if (b->table == NULL || b->items == NULL || (options->ignore_count > 0 && b->ignore == NULL)) {
        as_batch_free(b);
        return as_fail_nomem(err, "batch: copying the table and the ignored names");
    }
    /* The names are copied into one buffer first and pointed at afterwards, since the
     * buffer moves while it grows. */
    for (size_t i = 0; i < options->ignore_count; i++) {
        as_buf_append_span(&b->ignore_names, options->ignore[i]);
    }
    as_result copied = as_buf_result(&b->ignore_names, err, "batch: copying the ignored names");
    if (!as_result_is_ok(copied)) {
        as_batch_free(b);
        return copied;
    }
    size_t off = 0;
    for (size_t i = 0; i < options->ignore_count; i++) {
        b->ignore[i].ptr = b->ignore_names.data + off;
        b->ignore[i].len = options->ignore[i].len;
        off += options->ignore[i].len;
    }
    b->ignore_count = options->ignore_count;
    as_result trusted = copy_trust(b, options, err);
    if (!as_result_is_ok(trusted)) {
        as_batch_free(b);
        return trusted;
    }
    *out = b;
    return AS_RESULT_OK;
}

as_status as_batch_new(as_ddb_client *client, const as_credentials *credentials,
                       const as_batch_options *options, as_batch **out, as_error *err)
{
    return as_status_of(batch_new(client, credentials, options, out, err));
}

void as_batch_free(as_batch *batch)
{
    if (batch == NULL) {
        return;
    }
    free(batch->table);
    free(batch->ignore);
    as_buf_free(&batch->ignore_names);
    free(batch->redact);
    as_buf_free(&batch->names);
    as_buf_wipe_free(&batch->key);
    as_chain_store_free(batch->chain);
    free(batch->entries);
    as_buf_free(&batch->anchors);
    as_items_free(batch->items);
    free(batch->spans);
    free(batch->results);
    as_buf_free(&batch->identifier);
    free(batch);
}

const char *as_batch_outcome_name(as_batch_outcome outcome)
{
    switch (outcome) {
    case AS_BATCH_COMPLETE: return "complete";
    case AS_BATCH_PARTIAL: return "partial";
    case AS_BATCH_WRITE_FAILED: return "write_failed";
    case AS_BATCH_INVALID_EVENT: return "invalid_event";
    case AS_BATCH_INTERNAL_ERROR: return "internal_error";
    default: return "unknown";
    }
}

static AS_RESULT reserve_items(as_batch *b, size_t count, as_error *err)
{
    void *spans = b->spans;
    void *results = b->results;
    as_result grown = as_grow_pair(&spans, sizeof *b->spans, &results, sizeof *b->results, &b->cap,
                                   count, err, "for the items' results");
    b->spans = spans;
    b->results = results;
    return grown;
}

static void set_error(as_batch_result *r, as_batch_outcome outcome, const char *type,
                      const char *fmt, ...) AS_PRINTF(4, 5);

static void set_error(as_batch_result *r, as_batch_outcome outcome, const char *type,
                      const char *fmt, ...)
{
    r->outcome = outcome;
    snprintf(r->error_type, sizeof r->error_type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error_message, sizeof r->error_message, fmt, ap);
    va_end(ap);
}

/* ---- detail log lines --------------------------------------------------------------------- */

/* What one process call logs into, when the caller asked for lines. */
typedef struct logger {
    const as_log *log;
    as_buf *out;
    as_batch *batch;
} logger;

static bool logging(const logger *lg, as_log_level level)
{
    return lg->out != NULL && as_log_enabled(lg->log, level);
}

static void emit(const logger *lg, as_log_level level, const char *message,
                 const as_log_field *fields, size_t count)
{
    if (logging(lg, level)) {
        as_log_line(lg->log, level, lg->batch->clock(lg->batch->clock_ctx),
                    as_span_from_cstr(message), fields, count, lg->out);
    }
}

/* Fields naming a record: its index, and its SequenceNumber and eventID when it has them
 * (JSON string bodies from the event, valid as they are). Returns the count added. */
static size_t record_fields(const as_record *rec, as_log_field *f)
{
    size_t n = 0;
    f[n++] = as_log_field_u64("record", rec->index);
    if (rec->sequence_number.len > 0) {
        f[n++] = as_log_field_json_str("sequence_number", rec->sequence_number);
    }
    if (rec->event_id.len > 0) {
        f[n++] = as_log_field_json_str("event_id", rec->event_id);
    }
    return n;
}

static void emit_rest(const logger *lg, as_log_level level, const char *message, uint64_t rest)
{
    if (rest > 0) {
        as_log_field f = as_log_field_u64("more", rest);
        emit(lg, level, message, &f, 1);
    }
}

/* The lines about what the builder met: invalid records, truncated items, records
 * missing images or a time. */
static void log_build(const logger *lg, const as_event *event, const as_batch_stats *st)
{
    const as_items *items = lg->batch->items;
    size_t invalid = 0;
    size_t truncated = 0;
    const as_record *missing = NULL;
    const as_record *untimed = NULL;
    size_t last_record = SIZE_MAX;
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        const as_record *rec = as_event_record(event, item.record);
        as_log_field f[8];
        size_t n;
        if ((item.flags & AS_ITEM_ERROR) != 0 && invalid++ < AS_BATCH_LOG_DETAIL_MAX) {
            n = record_fields(rec, f);
            f[n++] = as_log_field_span("reason", item.reason);
            emit(lg, AS_LOG_ERROR, "invalid record: wrote an error item with its raw JSON", f, n);
        }
        if ((item.flags & AS_ITEM_TRUNCATED) != 0 && truncated++ < AS_BATCH_LOG_DETAIL_MAX) {
            n = record_fields(rec, f);
            f[n++] = as_log_field_u64("size", item.size);
            emit(lg, AS_LOG_WARN, "audit item over 400 KB: largest values replaced by markers", f,
                 n);
        }
        if (item.record != last_record) {
            if ((item.flags & AS_ITEM_MISSING_IMAGES) != 0 && missing == NULL) {
                missing = rec;
            }
            if ((item.flags & AS_ITEM_PROCESSING_TIME) != 0 && untimed == NULL) {
                untimed = rec;
            }
            last_record = item.record;
        }
    }
    emit_rest(lg, AS_LOG_ERROR, "more invalid records",
              invalid > AS_BATCH_LOG_DETAIL_MAX ? invalid - AS_BATCH_LOG_DETAIL_MAX : 0);
    emit_rest(lg, AS_LOG_WARN, "more truncated items",
              truncated > AS_BATCH_LOG_DETAIL_MAX ? truncated - AS_BATCH_LOG_DETAIL_MAX : 0);
    as_log_field f[8];
    if (missing != NULL) {
        size_t n = record_fields(missing, f);
        f[n++] = as_log_field_u64("records", st->missing_images);
        if (missing->stream_view_type.len > 0) {
            f[n++] = as_log_field_json_str("stream_view_type", missing->stream_view_type);
        }
        emit(lg, AS_LOG_WARN,
             "records lack the images their event implies (is the stream's view type "
             "NEW_AND_OLD_IMAGES?): wrote what they hold",
             f, n);
    }
    if (untimed != NULL) {
        size_t n = record_fields(untimed, f);
        f[n++] = as_log_field_u64("records", st->processing_time);
        emit(lg, AS_LOG_WARN,
             "records without ApproximateCreationDateTime: modificationTime is the processing "
             "time",
             f, n);
    }
}

static void log_failed_item(const logger *lg, const as_record *rec, size_t item,
                            const as_ddb_result *r)
{
    as_log_field f[12];
    size_t n = record_fields(rec, f);
    f[n++] = as_log_field_u64("item", item);
    f[n++] = as_log_field_str("error_type", r->error_type);
    f[n++] = as_log_field_str("error_message", r->message);
    f[n++] = as_log_field_u64("attempts", r->attempts);
    f[n++] = as_log_field_i64("http_status", r->http_status);
    if (r->request_id[0] != '\0') {
        f[n++] = as_log_field_str("aws_request_id", r->request_id);
    }
    emit(lg, AS_LOG_ERROR, "audit item not written", f, n);
}

/* ---- judging the writes ------------------------------------------------------------------- */

/* Walks the items (grouped by record, in record order), counts what was written, logs
 * the failures and why writing stopped early (`write_error`: the write call's own
 * failure, or NULL), and finds the first record with an item not written. */
static void judge(const logger *lg, const as_event *event, const char *write_error,
                  as_batch_result *r, size_t *first_item)
{
    as_batch *b = lg->batch;
    size_t count = as_items_count(b->items);
    size_t last_failed_record = SIZE_MAX;
    size_t logged = 0;
    *first_item = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        const as_ddb_result *res = &b->results[i];
        if (res->outcome == AS_DDB_WRITTEN) {
            continue;
        }
        as_item item = as_items_get(b->items, i);
        if (*first_item == SIZE_MAX) {
            *first_item = i;
            r->first_failed_record = item.record;
        }
        if (item.record != last_failed_record) {
            r->stats.records_failed++;
            last_failed_record = item.record;
        }
        if (res->outcome == AS_DDB_FAILED && logged++ < AS_BATCH_LOG_DETAIL_MAX) {
            log_failed_item(lg, as_event_record(event, item.record), i, res);
        }
    }
    emit_rest(lg, AS_LOG_ERROR, "more audit items not written",
              logged > AS_BATCH_LOG_DETAIL_MAX ? logged - AS_BATCH_LOG_DETAIL_MAX : 0);
    /* The reason said is the one the write call gave: an early stop is not always the
     * deadline (a signing failure or lack of memory also leaves items unsent). */
    bool deadline = r->write_stop == AS_DDB_STOP_DEADLINE;
    if (write_error != NULL || (r->stats.not_attempted > 0 && !deadline)) {
        as_log_field f[3] = {as_log_field_str("stop", as_ddb_stop_name(r->write_stop)),
                             as_log_field_str("reason", write_error != NULL ? write_error : ""),
                             as_log_field_u64("not_attempted", r->stats.not_attempted)};
        emit(lg, AS_LOG_ERROR, "writing stopped before every item was sent", f, 3);
    } else if (r->stats.not_attempted > 0) {
        as_log_field f[2] = {as_log_field_u64("not_attempted", r->stats.not_attempted),
                             as_log_field_i64("write_deadline_ms", r->write_deadline_ms)};
        emit(lg, AS_LOG_WARN, "invocation deadline near: stopped before writing every item", f, 2);
    }
}

/* Sets the outcome from the judged writes: complete, partial with an identifier, or
 * write_failed. */
static AS_RESULT conclude(as_batch *b, const as_event *event, size_t first_item,
                          const char *write_error, as_batch_result *r, as_error *err)
{
    if (r->stats.records_failed == 0) {
        r->outcome = AS_BATCH_COMPLETE;
        return AS_RESULT_OK;
    }
    const as_ddb_result *res = &b->results[first_item];
    char why[384];
    if (write_error != NULL) {
        snprintf(why, sizeof why, "%s", write_error);
    } else if (res->outcome == AS_DDB_NOT_ATTEMPTED) {
        snprintf(why, sizeof why, "item %zu (record %zu) not attempted: %s", first_item,
                 r->first_failed_record, res->message[0] != '\0' ? res->message : "not sent");
    } else {
        snprintf(why, sizeof why, "item %zu (record %zu): %s: %s (after %u attempts)", first_item,
                 r->first_failed_record, res->error_type, res->message, res->attempts);
    }
    if (r->stats.records_failed == r->stats.records) {
        set_error(r, AS_BATCH_WRITE_FAILED, AS_BATCH_ERROR_WRITE_FAILED,
                  "none of the %llu records could be written; first failure: %s",
                  (unsigned long long)r->stats.records, why);
        return AS_RESULT_OK;
    }
    /* Lambda refuses an empty or null identifier by failing the whole batch; a record
     * without a SequenceNumber (an invalid one) is reported through the nearest earlier
     * record that has one: redelivery from there rewrites identical items. */
    for (size_t k = r->first_failed_record + 1; k-- > 0;) {
        const as_record *rec = as_event_record(event, k);
        if (rec->sequence_number.len > 0) {
            as_buf_clear(&b->identifier);
            as_buf_append_span(&b->identifier, rec->sequence_number);
            AS_GUARD(as_buf_result(&b->identifier, err, "copying the item identifier"));
            r->outcome = AS_BATCH_PARTIAL;
            r->item_identifier = (as_span){b->identifier.data, b->identifier.len};
            r->identifier_record = k;
            return AS_RESULT_OK;
        }
    }
    set_error(r, AS_BATCH_WRITE_FAILED, AS_BATCH_ERROR_WRITE_FAILED,
              "record %zu was not written and neither it nor any record before it has a "
              "SequenceNumber to report, so the whole batch is failed; first failure: %s",
              r->first_failed_record, why);
    return AS_RESULT_OK;
}

/* ---- one invocation ----------------------------------------------------------------------- */

static int64_t write_deadline(const as_batch *b, int64_t deadline_ms, int64_t now)
{
    if (deadline_ms <= 0 || deadline_ms <= now) {
        return 0; /* missing, or past on arrival (a bogus one): unknown */
    }
    int64_t left = deadline_ms - now;
    int64_t margin = b->margin_ms;
    if (margin > left / AS_BATCH_MARGIN_MAX_SHARE) {
        margin = left / AS_BATCH_MARGIN_MAX_SHARE;
    }
    return deadline_ms - margin;
}

static void count_build(const as_items *items, as_batch_stats *st)
{
    size_t last_record = SIZE_MAX;
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        st->error_items += (item.flags & AS_ITEM_ERROR) != 0;
        st->truncated += (item.flags & AS_ITEM_TRUNCATED) != 0;
        if (item.record != last_record) {
            st->missing_images += (item.flags & AS_ITEM_MISSING_IMAGES) != 0;
            st->processing_time += (item.flags & AS_ITEM_PROCESSING_TIME) != 0;
            last_record = item.record;
        }
    }
}

/* An internal error met in a call to another module, said in `why`: the result says it,
 * and `err` with the layer's prefix. */
static AS_RESULT internal_error(as_batch_result *r, as_status status, const as_error *why,
                                as_error *err)
{
    set_error(r, AS_BATCH_INTERNAL_ERROR, AS_BATCH_ERROR_INTERNAL, "%s", why->message);
    return as_fail(err, status, 0, "batch: %s", why->message);
}

/* The items as they are, with the configured API. */
static AS_RESULT write_plain(as_batch *b, as_batch_result *r, as_error *err)
{
    size_t count = as_items_count(b->items);
    as_ddb_stats ds = {0};
    as_status status =
        as_ddb_write_items(b->client, b->credentials, b->table, b->write_api, b->spans, count,
                           r->write_deadline_ms, b->results, &ds, err);
    r->write_stop = ds.stopped;
    r->stats.requests = ds.requests;
    if (b->write_api == AS_DDB_WRITE_BATCH) {
        r->stats.requests_batch_write = ds.requests;
    } else {
        r->stats.requests_put_item = ds.requests;
    }
    r->stats.unprocessed = ds.unprocessed;
    r->stats.retries = ds.retries;
    r->stats.throttles = ds.throttles;
    AS_GUARD_STATUS(status);
    return AS_RESULT_OK;
}

/* A "chain heads" line is kept to this many bytes, as formatted (newline included):
 * CloudWatch Logs cuts an event past 256 KB, and a cut line loses its anchors. A batch of
 * 10,000 records can move 10,000 heads (about 174 bytes each), so the heads are spread
 * over as many lines as it takes. */
#define ANCHOR_LINE_BUDGET 200000

/* The heads moved[from .. to) as the anchor line's JSON array, into `out`. */
static void anchor_heads(as_buf *out, const as_chain_moved *moved, size_t from, size_t to)
{
    as_buf_clear(out);
    as_buf_append_char(out, '[');
    for (size_t i = from; i < to; i++) {
        /* The spans are JSON string bodies as the event and the items hold them. */
        as_buf_append_str(out, i == from ? "{\"historyKey\":\"" : ",{\"historyKey\":\"");
        as_buf_append_span(out, moved[i].history_key);
        as_buf_append_str(out, "\",\"sequenceNumber\":\"");
        as_buf_append_span(out, moved[i].sequence_number);
        as_buf_append_str(out, "\",\"chain\":\"");
        as_buf_append_str(out, moved[i].chain);
        as_buf_append_str(out, "\"}");
    }
    as_buf_append_char(out, ']');
}

/* What a head adds to the array: its object and a comma. Exact in JSON lines; a text line
 * may escape a DEL byte of a key into four, which the measured length then catches. */
static size_t anchor_head_size(const as_chain_moved *m)
{
    return sizeof "{\"historyKey\":\"\",\"sequenceNumber\":\"\",\"chain\":\"\"}," - 1 +
           m->history_key.len + m->sequence_number.len + AS_CHAIN_HEX_LEN;
}

/* The anchor lines: the heads the chain moved, INFO lines "chain heads", as few as fit
 * ANCHOR_LINE_BUDGET each (a single head is logged alone whatever its size). */
static void log_anchors(as_batch *b, const logger *lg)
{
    size_t moved_count = 0;
    const as_chain_moved *moved = as_chain_store_moved(b->chain, &moved_count);
    if (moved_count == 0 || !logging(lg, AS_LOG_INFO)) {
        return;
    }
    as_buf *out = &b->anchors;
    /* The line without heads, measured once: its time is fixed width, the rest the same. */
    size_t start = lg->out->len;
    as_log_field f = as_log_field_json("heads", as_span_from_cstr("[]"));
    emit(lg, AS_LOG_INFO, "chain heads", &f, 1);
    size_t bare = lg->out->len - start;
    as_buf_truncate(lg->out, start);
    for (size_t from = 0; from < moved_count;) {
        size_t to = from + 1;
        size_t size = bare + anchor_head_size(&moved[from]) - 1;
        while (to < moved_count && size + anchor_head_size(&moved[to]) <= ANCHOR_LINE_BUDGET) {
            size += anchor_head_size(&moved[to++]);
        }
        /* Escapes made it longer: the most heads that fit, found by halving (one always
         * goes, whatever its size). `fits` heads are known to fit, `over` not. */
        size_t fits = from + 1;
        size_t over = to + 1;
        for (;;) {
            anchor_heads(out, moved, from, to);
            if (as_buf_status(out) != AS_OK) {
                /* The line would be cut: say so at ERROR rather than log a partial anchor. */
                as_log_field n = as_log_field_u64("heads_moved", moved_count);
                emit(lg, AS_LOG_ERROR, "chain heads: out of memory writing the anchor line", &n, 1);
                return;
            }
            size_t at = lg->out->len;
            f = as_log_field_json("heads", (as_span){out->data, out->len});
            emit(lg, AS_LOG_INFO, "chain heads", &f, 1);
            if (as_buf_status(lg->out) != AS_OK) {
                return; /* the caller reports the lines lost */
            }
            bool fit = lg->out->len - at <= ANCHOR_LINE_BUDGET || to == from + 1;
            if (fit) {
                fits = to;
            } else {
                over = to;
            }
            if (fit && to + 1 >= over) {
                break;
            }
            as_buf_truncate(lg->out, at);
            /* Halfway into what is left; past the last fitting, that one logged again. */
            to = fit ? to + (over - to) / 2 : fits + (to - fits) / 2;
        }
        from = to;
    }
}

/* The items through the chain: one entry per record with items, in record order. A
 * record without a sequence number or whose items have no historyKey is written as it
 * is (the chain store tells them apart). */
static AS_RESULT write_chained(as_batch *b, const as_event *event, const logger *lg,
                               as_batch_result *r, as_error *err)
{
    size_t count = as_items_count(b->items);
    if (count > b->entries_cap) {
        as_chain_entry *grown = realloc(b->entries, count * sizeof *grown);
        AS_ENSURE(grown != NULL, as_fail_nomem(err, "batch: for the chain's entries"));
        b->entries = grown;
        b->entries_cap = count;
    }
    size_t n = 0;
    for (size_t i = 0; i < count;) {
        as_item first = as_items_get(b->items, i);
        size_t j = i + 1;
        while (j < count && as_items_get(b->items, j).record == first.record) {
            j++;
        }
        const as_record *rec = as_event_record(event, first.record);
        b->entries[n++] = (as_chain_entry){.history_key = first.history_key,
                                           .sequence_number = rec->sequence_number,
                                           .modification_time = first.modification_time,
                                           .items = &b->spans[i],
                                           .item_count = j - i};
        i = j;
    }
    as_chain_stats cs = {0};
    as_status status = as_chain_store_write(b->chain, b->entries, n, r->write_deadline_ms,
                                            b->results, NULL, &cs, err);
    r->write_stop = cs.stopped;
    r->stats.requests_put_item = cs.requests_put_item;
    r->stats.requests_batch_write = cs.requests_batch_write;
    r->stats.requests = cs.requests_put_item + cs.requests_batch_write;
    r->stats.requests_batch_get = cs.requests_batch_get;
    r->stats.unprocessed = cs.unprocessed;
    r->stats.retries = cs.retries;
    r->stats.throttles = cs.throttles;
    r->stats.chain_heads_moved = cs.heads_moved;
    r->stats.chain_condition_retries = cs.condition_retries;
    r->stats.chain_skipped = cs.skipped;
    log_anchors(b, lg);
    AS_GUARD_STATUS(status);
    return AS_RESULT_OK;
}

/* Decode, build, write, judge; `r` has its start time. */
static AS_RESULT run(as_batch *b, as_span payload, int64_t deadline_ms, const logger *lg,
                     as_event **event, as_batch_result *r, as_error *err)
{
    as_error inner = {0};
    as_status status =
        as_event_decode(payload.ptr != NULL ? payload.ptr : "", payload.len, event, &inner);
    if (status == AS_ERR_NOMEM) {
        return internal_error(r, status, &inner, err);
    }
    if (status != AS_OK) {
        set_error(r, AS_BATCH_INVALID_EVENT, AS_BATCH_ERROR_INVALID_EVENT, "%s", inner.message);
        as_log_field f[2] = {as_log_field_str("reason", inner.message),
                             as_log_field_u64("offset", inner.offset)};
        emit(lg, AS_LOG_ERROR, "payload is not a DynamoDB Streams event", f, 2);
        return AS_RESULT_OK;
    }
    r->stats.records = as_event_record_count(*event);

    as_items_clear(b->items);
    as_audit_options options = {.format = b->format,
                                .ignore = b->ignore,
                                .ignore_count = b->ignore_count,
                                .now_ms = r->started_ms,
                                .actor_attribute = b->actor,
                                .retention_days = b->retention_days,
                                .redact = b->redact,
                                .redact_count = b->redact_count,
                                .redact_key = (const uint8_t *)b->key.data,
                                .redact_key_len = b->key.len,
                                .reserve_bytes = b->chain != NULL ? AS_CHAIN_FIELDS_SIZE : 0};
    status = as_audit_build_event(*event, &options, b->items, &inner);
    if (status != AS_OK) {
        return internal_error(r, status, &inner, err);
    }
    size_t count = as_items_count(b->items);
    r->stats.items = count;
    count_build(b->items, &r->stats);
    log_build(lg, *event, &r->stats);
    if (!as_result_is_ok(reserve_items(b, count, &inner))) {
        return internal_error(r, inner.code, &inner, err);
    }
    for (size_t i = 0; i < count; i++) {
        b->spans[i] = as_items_get(b->items, i).json;
    }
    if (count > 0) {
        /* A call refused before it starts leaves `results` as they were. */
        memset(b->results, 0, count * sizeof *b->results);
    }

    r->write_deadline_ms = write_deadline(b, deadline_ms, r->started_ms);
    const char *write_error = NULL;
    if (count > 0) {
        as_result wrote =
            b->chain != NULL ? write_chained(b, *event, lg, r, &inner) : write_plain(b, r, &inner);
        if (!as_result_is_ok(wrote)) {
            /* Whatever was written stays written; the rest counts as not written. */
            write_error = inner.message;
        }
    }
    for (size_t i = 0; i < count; i++) {
        switch (b->results[i].outcome) {
        case AS_DDB_WRITTEN: r->stats.written++; break;
        case AS_DDB_FAILED: r->stats.failed++; break;
        case AS_DDB_NOT_ATTEMPTED:
        default: r->stats.not_attempted++; break;
        }
    }
    size_t first_item;
    judge(lg, *event, write_error, r, &first_item);
    if (!as_result_is_ok(conclude(b, *event, first_item, write_error, r, &inner))) {
        return internal_error(r, inner.code, &inner, err);
    }
    return AS_RESULT_OK;
}

as_status as_batch_process(as_batch *batch, as_span payload, int64_t deadline_ms, const as_log *log,
                           as_buf *log_out, as_batch_result *result, as_error *err)
{
    if (batch == NULL || result == NULL || (payload.ptr == NULL && payload.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                    "batch: batch, result and the payload's bytes are required"));
    }
    memset(result, 0, sizeof *result);
    as_buf_clear(&batch->identifier);
    result->started_ms = batch->clock(batch->clock_ctx);
    logger lg = {log, log != NULL ? log_out : NULL, batch};
    as_event *event = NULL;
    as_result ran = run(batch, payload, deadline_ms, &lg, &event, result, err);
    as_event_free(event);
    result->finished_ms = batch->clock(batch->clock_ctx);
    result->stats.duration_ms = result->finished_ms > result->started_ms
                                    ? (uint64_t)(result->finished_ms - result->started_ms)
                                    : 0;
    return as_status_of(ran);
}

/* ---- the reply, the summary, the metrics -------------------------------------------------- */

void as_batch_reply(const as_batch_result *result, as_runtime_reply *reply)
{
    if (result == NULL || reply == NULL) {
        return;
    }
    switch (result->outcome) {
    case AS_BATCH_COMPLETE:
        as_buf_clear(&reply->body);
        as_buf_append_str(&reply->body, "{\"batchItemFailures\":[]}");
        break;
    case AS_BATCH_PARTIAL:
        /* The identifier is a JSON string body as received: it goes in as it is. */
        as_buf_clear(&reply->body);
        as_buf_append_str(&reply->body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"");
        as_buf_append_span(&reply->body, result->item_identifier);
        as_buf_append_str(&reply->body, "\"}]}");
        break;
    case AS_BATCH_WRITE_FAILED:
    case AS_BATCH_INVALID_EVENT:
    case AS_BATCH_INTERNAL_ERROR:
    default:
        as_runtime_reply_fail(
            reply, result->error_type[0] != '\0' ? result->error_type : AS_BATCH_ERROR_INTERNAL,
            result->error_message);
        break;
    }
}

/* The counts, in one table for the summary line and the metrics. */
typedef struct stat_def {
    const char *field;  /* the summary's name */
    const char *metric; /* the metric's name */
    size_t offset;      /* into as_batch_stats */
} stat_def;

#define STAT(field, metric)                                                                        \
    {                                                                                              \
#field, metric, offsetof(as_batch_stats, field)                                            \
    }
static const stat_def stat_defs[] = {
    STAT(records, "Records"),
    STAT(records_failed, "RecordsFailed"),
    STAT(items, "Items"),
    STAT(written, "ItemsWritten"),
    STAT(failed, "ItemsFailed"),
    STAT(not_attempted, "ItemsNotAttempted"),
    STAT(requests, "Requests"),
    STAT(requests_put_item, "RequestsPutItem"),
    STAT(requests_batch_write, "RequestsBatchWriteItem"),
    STAT(requests_batch_get, "RequestsBatchGetItem"),
    STAT(unprocessed, "UnprocessedItems"),
    STAT(chain_heads_moved, "ChainHeadsMoved"),
    STAT(chain_condition_retries, "ChainConditionRetries"),
    STAT(chain_skipped, "ChainSkipped"),
    STAT(retries, "Retries"),
    STAT(throttles, "Throttles"),
    STAT(error_items, "ErrorItems"),
    STAT(truncated, "TruncatedItems"),
    STAT(missing_images, "RecordsMissingImages"),
    STAT(processing_time, "RecordsProcessingTime"),
    STAT(duration_ms, "Duration"),
};
#undef STAT
#define STAT_COUNT (sizeof stat_defs / sizeof stat_defs[0])

static uint64_t stat_value(const as_batch_stats *st, size_t i)
{
    uint64_t value;
    memcpy(&value, (const char *)st + stat_defs[i].offset, sizeof value);
    return value;
}

void as_batch_log_summary(const as_log *log, const as_batch_result *result, as_buf *out)
{
    if (result == NULL) {
        return;
    }
    as_log_level level = result->outcome == AS_BATCH_COMPLETE  ? AS_LOG_INFO
                         : result->outcome == AS_BATCH_PARTIAL ? AS_LOG_WARN
                                                               : AS_LOG_ERROR;
    as_log_field f[STAT_COUNT + 4];
    size_t n = 0;
    f[n++] = as_log_field_str("outcome", as_batch_outcome_name(result->outcome));
    for (size_t i = 0; i < STAT_COUNT; i++) {
        f[n++] = as_log_field_u64(stat_defs[i].field, stat_value(&result->stats, i));
    }
    if (result->outcome == AS_BATCH_PARTIAL) {
        f[n++] = as_log_field_json_str("item_identifier", result->item_identifier);
    }
    if (result->error_type[0] != '\0') {
        f[n++] = as_log_field_str("error_type", result->error_type);
        f[n++] = as_log_field_str("error_message", result->error_message);
    }
    char message[64];
    snprintf(message, sizeof message, "batch %s", as_batch_outcome_name(result->outcome));
    as_log_line(log, level, result->finished_ms, as_span_from_cstr(message), f, n, out);
}

void as_batch_log_metrics(const as_batch_result *result, as_span function_name, as_buf *out)
{
    if (result == NULL) {
        return;
    }
    as_metric m[STAT_COUNT];
    for (size_t i = 0; i < STAT_COUNT; i++) {
        m[i].name = stat_defs[i].metric;
        m[i].unit = strcmp(stat_defs[i].metric, "Duration") == 0 ? "Milliseconds" : "Count";
        m[i].value = stat_value(&result->stats, i);
    }
    as_log_emf(result->finished_ms, AS_BATCH_METRICS_NAMESPACE, "FunctionName", function_name, m,
               STAT_COUNT, out);
}
