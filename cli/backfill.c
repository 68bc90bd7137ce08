/* auditstream backfill: the source table scanned in parallel segments; for each item
 * whose trail does not replay to it as read, a BASELINE item built by the library with the
 * function's AUDIT_* settings and written only where absent (linked into its key's hash
 * chain when AUDIT_CHAIN=on), the items of a page handled by several workers at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditstream/audit.h"
#include "auditstream/chain.h"
#include "auditstream/chain_store.h"
#include "auditstream/config.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"
#include "commands.h"
#include "progress.h"
#include "session.h"
#include "table.h"

/* At most this many failed items are named on standard error; the count says the rest. */
#define FAILURES_SHOWN 10
/* Items handled at once: each is a few round trips one after another (a Query, then a
 * GetItem and a Query when a BASELINE is due), so the time goes in waiting. */
#define MAX_WORKERS 16
/* With the chain, how long a worker waits before linking its BASELINE items, after which
 * it asks each trail again. A stream record of a change made before the read, still on
 * its way to the function, would sort before the BASELINE yet be linked after it, which
 * verify reports as missing; most arrive within this time and make the BASELINE needless. */
#define SETTLE_MS 2000

/* What every worker shares; `lock` guards the counters, the failure and the page cursor. */
typedef struct backfill {
    cli_session *session;
    const cli_options *options;
    as_audit_options audit;
    bool chain; /* AUDIT_CHAIN=on: BASELINE items go through the chain store */
    as_span key_names[2];
    size_t key_count;
    as_span table; /* the source table's name, for historyKey */
    pthread_mutex_t lock;
    const as_wire_items *page; /* the page being handled */
    size_t next;               /* its next item */
    uint64_t scanned, written, failed, unchanged;
    FILE *errors;
    cli_progress progress;
    bool no_get; /* GetItem on the source table is denied: the Scan's copies are used */
    int rc;      /* a failure that stops the backfill, with `message` (the first one) */
    char message[CLI_MESSAGE_MAX];
} backfill;

/* Where a BASELINE item queued in a worker's `pending` lies, and its historyKey and
 * modificationTime within it (what the chain links by). */
typedef struct pending_item {
    int64_t read_ms; /* the time its trail was replayed as of */
    bool resume;     /* its trail shows it through a BASELINE, which the chain may not hold */
    size_t offset, len;
    size_t key_offset, key_len;
    size_t time_offset, time_len;
} pending_item;

/* One worker's own client, chain store and buffers. */
typedef struct worker {
    backfill *b;
    as_ddb_client *client;
    as_chain_store *chain; /* AUDIT_CHAIN=on only; a store serves one thread */
    as_items *built;
    as_buf pending; /* the BASELINE items to write, one after another */
    pending_item *queued;
    size_t pending_count;
    size_t pending_cap;
    char message[CLI_MESSAGE_MAX];
} worker;

static void item_failed(backfill *b, const char *what, const char *why)
{
    pthread_mutex_lock(&b->lock);
    b->failed++;
    if (b->failed <= FAILURES_SHOWN) {
        cli_progress_clear(&b->progress);
        fprintf(b->errors, "auditstream: backfill: %s: %s\n", what, why);
    }
    pthread_mutex_unlock(&b->lock);
}

/* Records the failure that stops the backfill (the first one wins); returns false. */
static bool stop(backfill *b, int rc, const char *message)
{
    pthread_mutex_lock(&b->lock);
    if (b->rc == 0) {
        b->rc = rc;
        snprintf(b->message, sizeof b->message, "%s", message);
    }
    pthread_mutex_unlock(&b->lock);
    return false;
}

static bool stopped(backfill *b)
{
    pthread_mutex_lock(&b->lock);
    bool done = b->rc != 0;
    pthread_mutex_unlock(&b->lock);
    return done;
}

static void count(backfill *b, uint64_t *counter)
{
    pthread_mutex_lock(&b->lock);
    (*counter)++;
    cli_progress_update(&b->progress, b->scanned, b->written, b->failed);
    pthread_mutex_unlock(&b->lock);
}

/* The offset of `part` (a span of `whole`) in it. */
static size_t offset_in(as_span whole, as_span part)
{
    return part.ptr != NULL ? (size_t)(part.ptr - whole.ptr) : 0;
}

static bool queue(worker *w, const as_item *item, int64_t read_ms)
{
    if (w->pending_count == w->pending_cap) {
        size_t cap = w->pending_cap == 0 ? 64 : w->pending_cap * 2;
        pending_item *grown = realloc(w->queued, cap * sizeof *grown);
        if (grown == NULL) {
            return stop(w->b, CLI_EXIT_FAILED, "out of memory holding BASELINE items");
        }
        w->queued = grown;
        w->pending_cap = cap;
    }
    pending_item *q = &w->queued[w->pending_count++];
    q->read_ms = read_ms;
    q->resume = false;
    q->offset = w->pending.len;
    q->len = item->json.len;
    q->key_offset = offset_in(item->json, item->history_key);
    q->key_len = item->history_key.len;
    q->time_offset = offset_in(item->json, item->modification_time);
    q->time_len = item->modification_time.len;
    as_buf_append_span(&w->pending, item->json);
    return as_buf_status(&w->pending) == AS_OK ||
           stop(w->b, CLI_EXIT_FAILED, "out of memory holding BASELINE items");
}

/* Whether the trail of the BASELINE item `json` already replays, as of `read_ms`, to the
 * image it holds; then it need not be written. *last_ms gets the time of the trail's last
 * record by then (0 when none), *by_baseline whether that is a BASELINE. False when the
 * backfill must stop. */
static bool trail_shows(worker *w, as_span json, int64_t read_ms, bool *shows, int64_t *last_ms,
                        bool *by_baseline)
{
    backfill *b = w->b;
    *shows = false;
    *last_ms = 0;
    *by_baseline = false;
    as_wire_items *item = NULL;
    as_trail *trail = as_trail_new();
    as_replay *replay = as_replay_new();
    as_buf key = AS_BUF_INIT;
    as_error err = {0};
    const char *why = err.message; /* the failure's words, wherever they were written */
    int rc = 0;
    if (trail == NULL || replay == NULL) {
        snprintf(err.message, sizeof err.message, "out of memory replaying a trail");
        rc = CLI_EXIT_FAILED;
    } else if (as_wire_decode(json.ptr, json.len, AS_WIRE_ITEM, &item, &err) != AS_OK) {
        rc = CLI_EXIT_FAILED;
    }
    const as_value *it = rc == 0 ? as_wire_item(item, 0) : NULL;
    const as_value *hk = as_wire_attribute(it, "historyKey");
    const as_value *image =
        as_wire_attribute(it, b->audit.format == AS_FORMAT_DETAILED ? "newImage" : "newValue");
    if (rc == 0 && (hk == NULL || hk->type != AS_TYPE_S || image == NULL)) {
        snprintf(err.message, sizeof err.message, "the BASELINE item built has no %s",
                 hk == NULL ? "historyKey" : "image");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        as_json_unescape(hk->text, &key);
        if (as_buf_status(&key) != AS_OK) {
            snprintf(err.message, sizeof err.message, "out of memory replaying a trail");
            rc = CLI_EXIT_FAILED;
        }
    }
    if (rc == 0) {
        rc = cli_fetch_trail(b->session, w->client, key.data, AS_TIME_MIN, read_ms, trail, NULL,
                             w->message);
        why = w->message;
    }
    if (rc == 0 &&
        as_trail_replay(trail, (as_span){key.data, key.len}, read_ms, replay, &err) != AS_OK) {
        why = err.message;
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        *shows = as_replay_matches(replay, image);
        as_span seq = {NULL, 0};
        *by_baseline = as_replay_last_change(replay, &seq, NULL, last_ms) && seq.len == 0;
    } else {
        stop(b, rc, why);
    }
    as_buf_free(&key);
    as_replay_free(replay);
    as_trail_free(trail);
    as_wire_items_free(item);
    return rc == 0;
}

/* Sends the worker's BASELINE items, each where absent: as they are, or as entries of
 * their keys' chains (AS_CHAIN_STORE's if_absent: one entry a key, and an item already
 * there is not linked again). The results are one per item either way. */
static bool send_pending(worker *w, as_span *items, as_ddb_result *results)
{
    backfill *b = w->b;
    as_error err = {0};
    as_status status;
    if (!b->chain) {
        status = as_ddb_put_items_if_absent(w->client, &b->session->credentials,
                                            b->options->audit_table, items, w->pending_count, 0,
                                            results, NULL, &err);
    } else {
        as_chain_entry *entries = calloc(w->pending_count, sizeof *entries);
        if (entries == NULL) {
            return stop(b, CLI_EXIT_FAILED, "out of memory linking BASELINE items");
        }
        for (size_t i = 0; i < w->pending_count; i++) {
            const pending_item *q = &w->queued[i];
            const char *at = w->pending.data + q->offset;
            entries[i].history_key = (as_span){at + q->key_offset, q->key_len};
            entries[i].baseline = true;
            entries[i].modification_time = (as_span){at + q->time_offset, q->time_len};
            entries[i].items = &items[i];
            entries[i].item_count = 1;
        }
        status = as_chain_store_write(w->chain, entries, w->pending_count, 0, results, NULL,
                                      NULL, &err);
        free(entries);
    }
    if (status != AS_OK) {
        return stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
    }
    return true;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* With the chain: one pause, then the BASELINE items whose trails now show their items
 * (the stream caught up) are dropped as not needed. Those whose key's chain has moved to
 * their time or past it (a change of the item in the second it was read, or after) the
 * chain store leaves out (AS_CHAIN_LATE), at its first read of the head and at every
 * read after. False when the backfill must stop. */
static bool settle(worker *w)
{
    backfill *b = w->b;
    bool due = false;
    for (size_t i = 0; i < w->pending_count; i++) {
        due = due || !w->queued[i].resume;
    }
    if (due) {
        sleep_ms(SETTLE_MS);
    }
    size_t kept = 0;
    for (size_t i = 0; i < w->pending_count; i++) {
        const pending_item *q = &w->queued[i];
        bool shows = false, by_baseline;
        int64_t last_ms;
        if (q->resume) {
            w->queued[kept++] = *q; /* already shown: only the chain store can tell more */
            continue;
        }
        if (!trail_shows(w, (as_span){w->pending.data + q->offset, q->len}, q->read_ms, &shows,
                         &last_ms, &by_baseline)) {
            return false;
        }
        if (shows) {
            count(b, &b->unchanged);
        } else {
            w->queued[kept++] = *q;
        }
    }
    w->pending_count = kept;
    return true;
}

/* Writes the worker's BASELINE items where absent. False when the backfill must stop. */
static bool write_pending(worker *w)
{
    backfill *b = w->b;
    if (w->pending_count > 0 && b->chain && !settle(w)) {
        return false;
    }
    if (w->pending_count == 0) {
        as_buf_clear(&w->pending);
        return true;
    }
    as_span *items = calloc(w->pending_count, sizeof *items);
    as_ddb_result *results = calloc(w->pending_count, sizeof *results);
    bool ok = items != NULL && results != NULL;
    if (!ok) {
        stop(b, CLI_EXIT_FAILED, "out of memory writing BASELINE items");
    }
    for (size_t i = 0; ok && i < w->pending_count; i++) {
        items[i] = (as_span){w->pending.data + w->queued[i].offset, w->queued[i].len};
    }
    ok = ok && send_pending(w, items, results);
    for (size_t i = 0; ok && i < w->pending_count; i++) {
        bool resume = w->queued[i].resume;
        if (results[i].outcome == AS_DDB_WRITTEN) {
            count(b, &b->written); /* a resumed one's head moved over it: now it counts */
        } else if (results[i].outcome == AS_DDB_ALREADY_THERE ||
                   (resume && strcmp(results[i].error_type, AS_CHAIN_LATE_TYPE) == 0)) {
            /* A resumed one the chain moved past since its trail was read is behind the
             * head as its trail showed: unchanged, as it would have counted. */
            count(b, &b->unchanged);
        } else {
            as_ddb_error_kind kind = as_ddb_error_kind_of(&results[i]);
            if (kind == AS_DDB_KIND_DENIED || kind == AS_DDB_KIND_NOT_FOUND ||
                kind == AS_DDB_KIND_CONNECTION) {
                /* No other item would fare better: say why once, and stop. A chain head's
                 * read is a BatchGetItem, its move a PutItem. */
                bool head_read = strncmp(results[i].message, "chain head not read", 19) == 0;
                int rc = cli_session_failure(b->session, head_read ? "BatchGetItem" : "PutItem",
                                             b->options->audit_table,
                                             "--audit-table or AUDIT_TABLE", &results[i],
                                             w->message);
                ok = stop(b, rc, w->message);
                break;
            }
            if (strcmp(results[i].error_type, AS_CHAIN_LATE_TYPE) == 0) {
                /* Named by its key, with the chain store's words on what to do. */
                const pending_item *q = &w->queued[i];
                char what[128];
                snprintf(what, sizeof what, "%.*s", (int)(q->key_len < 100 ? q->key_len : 100),
                         w->pending.data + q->offset + q->key_offset);
                item_failed(b, what, results[i].message);
                continue;
            }
            char why[AS_DDB_ERROR_TYPE_MAX + AS_DDB_MESSAGE_MAX + 4];
            snprintf(why, sizeof why, "%s: %s", results[i].error_type, results[i].message);
            item_failed(b, b->chain ? "PutItem (chained)" : "PutItem", why);
        }
    }
    free(items);
    free(results);
    w->pending_count = 0;
    as_buf_clear(&w->pending);
    return ok;
}

/* Builds the BASELINE item of `item` as read at `read_ms` into w->built. 0, 1 when the item
 * cannot have one (counted and named as failed), or -1 when the backfill must stop. */
static int build(worker *w, const as_value *item, int64_t read_ms, as_item *built)
{
    backfill *b = w->b;
    as_error err = {0};
    as_baseline baseline = {
        .item = item,
        .key_names = b->key_names,
        .key_count = b->key_count,
        .table = b->table,
        .read_ms = read_ms,
    };
    as_items_clear(w->built);
    if (as_audit_build_baseline(&baseline, &b->audit, w->built, &err) != AS_OK) {
        if (err.code == AS_ERR_NOMEM) {
            stop(b, CLI_EXIT_FAILED, err.message);
            return -1;
        }
        item_failed(b, "an item", err.message);
        return 1;
    }
    *built = as_items_get(w->built, 0);
    return 0;
}

/* {"<hash key>":<value>,"<range key>":<value>} of `item`, for GetItem. */
static bool key_of(const backfill *b, const as_value *item, as_buf *key)
{
    as_buf_clear(key);
    as_buf_append_char(key, '{');
    for (size_t i = 0; i < b->key_count; i++) {
        const as_value *v = as_wire_member(item, b->key_names[i].ptr, b->key_names[i].len);
        if (v == NULL || v->wire.len == 0) {
            return false;
        }
        as_buf_append_str(key, i > 0 ? ",\"" : "\"");
        as_buf_append_json_escaped(key, b->key_names[i].ptr, b->key_names[i].len);
        as_buf_append_str(key, "\":");
        as_buf_append_span(key, v->wire);
    }
    as_buf_append_char(key, '}');
    return as_buf_status(key) == AS_OK;
}

/* After a GetItem the policy refuses: carry on with the Scan's copies, which changes made
 * during the backfill may have made stale, and say so once. */
static void without_get(backfill *b)
{
    pthread_mutex_lock(&b->lock);
    if (!b->no_get) {
        b->no_get = true;
        cli_progress_clear(&b->progress);
        fprintf(b->errors,
                "auditstream: backfill: dynamodb:GetItem on table \"%s\" is denied: the Scan's "
                "copies are written, which changes made meanwhile may have made stale (grant "
                "GetItem on the source table to avoid it)\n",
                b->options->source_table);
    }
    pthread_mutex_unlock(&b->lock);
}

static bool no_get(backfill *b)
{
    pthread_mutex_lock(&b->lock);
    bool refused = b->no_get;
    pthread_mutex_unlock(&b->lock);
    return refused;
}

/* The item read again, consistently, and `read_ms` the time just before it was asked for;
 * *fresh NULL when it is gone. 1 when GetItem is refused by policy, 0 when read, -1 to
 * stop. */
static int read_again(worker *w, const as_value *scanned, as_wire_items **fresh, as_buf *answer,
                      int64_t *read_ms)
{
    backfill *b = w->b;
    as_buf key = AS_BUF_INIT;
    as_ddb_result result;
    memset(&result, 0, sizeof result);
    as_error err = {0};
    bool found = false;
    int rc = 0;
    *fresh = NULL;
    *read_ms = cli_now_ms();
    if (!key_of(b, scanned, &key)) {
        as_buf_free(&key);
        stop(b, CLI_EXIT_FAILED, "out of memory reading an item's key");
        return -1;
    }
    if (as_ddb_get_item(w->client, &b->session->credentials, b->options->source_table,
                        (as_span){key.data, key.len}, NULL, (as_span){NULL, 0}, true, 0, answer,
                        &found, &result, NULL, &err) != AS_OK) {
        stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
        rc = -1;
    } else if (result.outcome != AS_DDB_ANSWERED &&
               as_ddb_error_kind_of(&result) == AS_DDB_KIND_DENIED &&
               strncmp(result.error_type, "AccessDenied", 12) == 0) {
        rc = 1;
    } else if (result.outcome != AS_DDB_ANSWERED) {
        int status = cli_session_failure(b->session, "GetItem", b->options->source_table,
                                         "--table or AUDIT_SOURCE_TABLE", &result, w->message);
        stop(b, status, w->message);
        rc = -1;
    }
    if (rc == 0 && found &&
        as_wire_decode(answer->data, answer->len, AS_WIRE_GET, fresh, &err) != AS_OK) {
        stop(b, CLI_EXIT_FAILED, err.message);
        rc = -1;
    }
    as_buf_free(&key);
    return rc;
}

/* One scanned item. The page may have been read well before it is handed over (pages of
 * other segments are served first, and each item costs round trips), so the Scan's copy
 * only answers "is the trail already right?". When it is not, the item is read again,
 * consistently, and that copy is what the BASELINE holds, stamped with the time the read
 * began: a change dated before it was made before the read and is in it. DynamoDB Streams
 * dates records to the second, so unless the key's trail shows milliseconds the stamp is
 * that whole second, and a change of that second sorts after the BASELINE (whose
 * historySort has zeros), whether it was made before the read (verify then takes it as
 * read by the BASELINE) or after (it follows from it). False when the backfill must stop. */
static bool backfill_item(worker *w, const as_value *scanned, int64_t handed_ms)
{
    backfill *b = w->b;
    as_item built;
    bool shows = false;
    int rc = build(w, scanned, handed_ms, &built);
    if (rc != 0) {
        return rc > 0;
    }
    int64_t last_ms;
    bool by_baseline;
    if (!trail_shows(w, built.json, handed_ms, &shows, &last_ms, &by_baseline)) {
        return false;
    }
    if (shows && b->chain && by_baseline) {
        /* Shown by a BASELINE whose head write may have failed: the chain store reads it
         * back and moves the head over it, or finds it on the chain (unchanged). */
        if (!queue(w, &built, handed_ms)) {
            return false;
        }
        w->queued[w->pending_count - 1].resume = true;
        return true;
    }
    if (shows) {
        count(b, &b->unchanged);
        return true;
    }
    if (no_get(b)) {
        return queue(w, &built, handed_ms);
    }
    as_buf answer = AS_BUF_INIT;
    as_wire_items *fresh = NULL;
    int64_t read_ms = 0;
    rc = read_again(w, scanned, &fresh, &answer, &read_ms);
    bool go_on = rc >= 0;
    if (rc == 1) {
        without_get(b);
        go_on = queue(w, &built, handed_ms); /* the Scan's copy's, still in w->built */
    } else if (go_on && fresh == NULL) {
        count(b, &b->unchanged); /* deleted since the Scan: its trail has the DELETE, or will */
    } else if (go_on) {
        /* A trail dated to the millisecond comes from a stream that dates so; else the
         * stream is taken to be DynamoDB Streams, which dates to the second. */
        int64_t stamp = last_ms % 1000 != 0 ? read_ms : read_ms - read_ms % 1000;
        rc = build(w, as_wire_item(fresh, 0), stamp, &built);
        if (rc < 0 ||
            (rc == 0 && !trail_shows(w, built.json, read_ms, &shows, &last_ms, &by_baseline))) {
            go_on = false;
        } else if (rc == 0 && shows) {
            count(b, &b->unchanged);
        } else if (rc == 0) {
            go_on = queue(w, &built, read_ms);
        }
    }
    as_wire_items_free(fresh);
    as_buf_free(&answer);
    return go_on;
}

/* A worker's loop over the page's items, then its writes. */
static void *work(void *arg)
{
    worker *w = arg;
    backfill *b = w->b;
    int64_t handed_ms = cli_now_ms();
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next;
        bool done = b->rc != 0 || i >= as_wire_item_count(b->page);
        if (!done) {
            b->next++;
            b->scanned++;
        }
        pthread_mutex_unlock(&b->lock);
        if (done || !backfill_item(w, as_wire_item(b->page, i), handed_ms)) {
            break;
        }
    }
    if (!stopped(b)) {
        (void)write_pending(w);
    }
    return NULL;
}

typedef struct pool {
    backfill *b;
    worker workers[MAX_WORKERS];
    size_t count;
} pool;

static bool on_page(const as_ddb_page *page, void *ctx)
{
    pool *p = ctx;
    backfill *b = p->b;
    as_wire_items *items = NULL;
    as_error err = {0};
    if (as_wire_decode(page->body.ptr, page->body.len, AS_WIRE_PAGE, &items, &err) != AS_OK) {
        return stop(b, CLI_EXIT_FAILED, err.message);
    }
    b->page = items;
    b->next = 0;
    size_t want = as_wire_item_count(items) < p->count ? as_wire_item_count(items) : p->count;
    pthread_t threads[MAX_WORKERS];
    size_t started = 0;
    for (; started < want; started++) {
        if (pthread_create(&threads[started], NULL, work, &p->workers[started]) != 0) {
            break;
        }
    }
    if (started == 0 && want > 0) {
        (void)work(&p->workers[0]); /* no thread to be had: this one does the work */
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    b->page = NULL;
    as_wire_items_free(items);
    pthread_mutex_lock(&b->lock);
    cli_progress_update(&b->progress, b->scanned, b->written, b->failed);
    pthread_mutex_unlock(&b->lock);
    return !stopped(b);
}

static int scan(pool *p, uint64_t expected)
{
    backfill *b = p->b;
    uint32_t segments = b->options->segments;
    as_ddb_result *results = calloc(segments, sizeof *results);
    if (results == NULL) {
        stop(b, CLI_EXIT_FAILED, "out of memory starting the Scan");
        return b->rc;
    }
    as_ddb_scan request;
    memset(&request, 0, sizeof request);
    request.table = b->options->source_table;
    request.segments = segments;
    as_error err = {0};
    cli_progress_start(&b->progress, expected);
    as_status status = as_ddb_scan_pages(b->session->client, &b->session->credentials, &request,
                                         on_page, p, results, NULL, &err);
    cli_progress_finish(&b->progress, b->scanned, b->written, b->failed);
    if (b->rc == 0 && status != AS_OK) {
        stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
    }
    for (uint32_t i = 0; b->rc == 0 && i < segments; i++) {
        if (results[i].outcome != AS_DDB_ANSWERED) {
            b->rc = cli_session_failure(b->session, "Scan", request.table,
                                        "--table or AUDIT_SOURCE_TABLE", &results[i], b->message);
        }
    }
    free(results);
    return b->rc;
}

static void report(const backfill *b, bool json, as_buf *out)
{
    char line[256];
    if (json) {
        snprintf(line, sizeof line, "{\"scanned\":%llu,\"written\":%llu,\"failed\":%llu}\n",
                 (unsigned long long)b->scanned, (unsigned long long)b->written,
                 (unsigned long long)b->failed);
    } else {
        snprintf(line, sizeof line,
                 "SCANNED  WRITTEN  UNCHANGED  FAILED\n%-7llu  %-7llu  %-9llu  %llu\n",
                 (unsigned long long)b->scanned, (unsigned long long)b->written,
                 (unsigned long long)b->unchanged, (unsigned long long)b->failed);
    }
    as_buf_append_str(out, line);
}

/* The workers' clients, chain stores and buffers; 0 or an exit status with `message`. */
static int pool_open(pool *p, backfill *b, cli_session *s, char message[CLI_MESSAGE_MAX])
{
    /* BASELINE items go out one PutItem each, under attribute_not_exists(id):
     * BatchWriteItem takes no condition. */
    as_chain_store_options chain = {
        .table = b->options->audit_table,
        .write_api = AS_DDB_WRITE_PUT_ITEM,
        .if_absent = true,
    };
    memset(p, 0, sizeof *p);
    p->b = b;
    size_t want = b->options->segments < MAX_WORKERS ? b->options->segments : MAX_WORKERS;
    for (; p->count < want; p->count++) {
        worker *w = &p->workers[p->count];
        w->b = b;
        w->built = as_items_new();
        if (w->built == NULL) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory");
            p->count++;
            return CLI_EXIT_FAILED;
        }
        int rc = cli_session_client(s, 2, &w->client, message);
        if (rc != 0) {
            p->count++;
            return rc;
        }
        as_error err = {0};
        if (b->chain && as_chain_store_new(w->client, &s->credentials, &chain, &w->chain, &err) !=
                            AS_OK) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
            p->count++;
            return CLI_EXIT_FAILED;
        }
    }
    return 0;
}

static void pool_close(pool *p)
{
    for (size_t i = 0; i < p->count; i++) {
        worker *w = &p->workers[i];
        as_chain_store_free(w->chain);
        as_items_free(w->built);
        as_buf_free(&w->pending);
        free(w->queued);
        as_ddb_client_free(w->client);
    }
}

int cli_backfill(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
                 FILE *progress, bool is_terminal, char message[CLI_MESSAGE_MAX])
{
    cli_session s;
    backfill b;
    pool p;
    memset(&b, 0, sizeof b);
    memset(&p, 0, sizeof p);
    if (pthread_mutex_init(&b.lock, NULL) != 0) {
        snprintf(message, CLI_MESSAGE_MAX, "cannot make a mutex");
        return CLI_EXIT_FAILED;
    }
    b.session = &s;
    b.options = o;
    b.errors = progress;
    b.table = as_span_from_cstr(cli_table_name(o->source_table));
    cli_progress_init(&b.progress, progress, is_terminal);
    as_ddb_table_info source, audit;
    memset(&source, 0, sizeof source);
    memset(&audit, 0, sizeof audit);
    as_config config;
    memset(&config, 0, sizeof config);
    memset(&s, 0, sizeof s);
    as_error err = {0};
    uint32_t connections =
        o->segments < AS_DDB_MAX_CONCURRENCY ? o->segments : AS_DDB_MAX_CONCURRENCY;
    /* The function's AUDIT_* settings, read and checked as the function reads them, before
     * anything else: a mistake in them is what gets reported. */
    int rc = 0;
    if (as_config_items_from_env(getenv_fn, ctx, &config, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    if (rc == 0) {
        rc = cli_session_open(&s, o, getenv_fn, ctx, connections, message);
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->source_table, "--table or AUDIT_SOURCE_TABLE", false, &source,
                          message);
    }
    if (rc == 0) {
        rc =
            cli_describe(&s, o->audit_table, "--audit-table or AUDIT_TABLE", true, &audit, message);
    }
    if (rc == 0) {
        b.audit.format = config.format;
        b.audit.ignore = config.ignore;
        b.audit.ignore_count = config.ignore_count;
        b.audit.actor_attribute = config.actor_attribute;
        b.audit.retention_days = config.retention_days;
        b.audit.redact = config.redact;
        b.audit.redact_count = config.redact_count;
        b.audit.redact_key = config.redact_key_len > 0 ? config.redact_key : NULL;
        b.audit.redact_key_len = config.redact_key_len;
        b.audit.reserve_bytes = config.chain ? AS_CHAIN_FIELDS_SIZE : 0;
        b.chain = config.chain;
        b.key_names[b.key_count++] = as_span_from_cstr(source.keys.hash_name);
        if (source.keys.range_name[0] != '\0') {
            b.key_names[b.key_count++] = as_span_from_cstr(source.keys.range_name);
        }
        rc = pool_open(&p, &b, &s, message);
    }
    if (rc == 0) {
        rc = scan(&p, source.item_count);
        if (rc != 0) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", b.message);
        }
    }
    if (rc == 0) {
        report(&b, o->json, out);
        if (b.failed > FAILURES_SHOWN) {
            fprintf(progress, "auditstream: backfill: %llu more items failed\n",
                    (unsigned long long)(b.failed - FAILURES_SHOWN));
        }
        rc = b.failed > 0 ? CLI_EXIT_FAILED : 0;
    }
    pool_close(&p);
    as_ddb_table_info_free(&source);
    as_ddb_table_info_free(&audit);
    cli_session_close(&s);
    as_config_wipe(&config);
    memset(&b.audit, 0, sizeof b.audit);
    pthread_mutex_destroy(&b.lock);
    return rc;
}
