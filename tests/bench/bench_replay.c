/* Reading the trail back: a 10,000-entry history of one item, replayed, listed and
 * verified by the core (auditstream/replay.h), in entries per second, both formats.
 *
 * The history is made the way the function makes it: a synthetic stream (one INSERT,
 * then MODIFYs that each change one attribute: a number, a string or a nested map's
 * member, in turn) decoded and built by the library into audit items, which are cut into
 * Query pages of at most 1 MB of items, as DynamoDB would return them. Each measurement
 * is checked: the replayed item must be the last NewImage, the history must hold every
 * record, and the trail must verify. */
#include <auditstream.h>
#include <auditstream/replay.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

#define ENTRIES       10000u
#define BATCH_RECORDS 100u /* records per synthetic event, a Lambda batch */
#define PAGE_BYTES    (1024u * 1024u)
#define START_S       INT64_C(1714564800) /* 2024-05-01T12:00:00Z, one record a second */
#define HISTORY_KEY   "Configuration/CACHE_TTL_SEC"

/* The item's state while the stream is made: each MODIFY changes one of these. */
typedef struct item_state {
    unsigned value;
    unsigned note;
    unsigned max;
} item_state;

static void append_image(as_buf *b, const item_state *s)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"pk\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"%u\"},"
             "\"note\":{\"S\":\"set by deploy %u\"},\"tags\":{\"SS\":[\"cache\",\"ttl\"]},"
             "\"limits\":{\"M\":{\"max\":{\"N\":\"%u\"},\"min\":{\"N\":\"1.50\"}}},"
             "\"enabled\":{\"BOOL\":true}}",
             s->value, s->note, s->max);
    as_buf_append_str(b, text);
}

/* Appends records [first, first + n) of the stream as one event. */
static void append_event(as_buf *b, unsigned first, unsigned n, item_state *s)
{
    as_buf_append_str(b, "{\"Records\":[");
    for (unsigned r = first; r < first + n; r++) {
        char head[512];
        snprintf(head, sizeof head,
                 "%s{\"eventID\":\"e%u\",\"eventName\":\"%s\",\"eventVersion\":\"1.1\","
                 "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
                 "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/"
                 "Configuration/stream/2024-01-01T00:00:00.000\",\"dynamodb\":{"
                 "\"ApproximateCreationDateTime\":%lld,\"Keys\":{\"pk\":{\"S\":"
                 "\"CACHE_TTL_SEC\"}},\"SequenceNumber\":\"%u\",\"StreamViewType\":"
                 "\"NEW_AND_OLD_IMAGES\"",
                 r > first ? "," : "", r, r == 0 ? "INSERT" : "MODIFY", (long long)(START_S + r),
                 100000000u + r);
        as_buf_append_str(b, head);
        if (r > 0) {
            as_buf_append_str(b, ",\"OldImage\":");
            append_image(b, s);
            switch (r % 3) {
            case 0: s->value = 3600 + r; break;
            case 1: s->note = r; break;
            default: s->max = r; break;
            }
        }
        as_buf_append_str(b, ",\"NewImage\":");
        append_image(b, s);
        as_buf_append_str(b, "}}");
    }
    as_buf_append_str(b, "]}");
}

/* The Query pages of one format's trail, and the last NewImage to check replay against. */
typedef struct history {
    as_format format;
    as_buf pages[64];
    size_t page_count;
    size_t items;
    uint64_t bytes; /* DynamoDB size of the items */
    as_buf last_event;
    as_event *last; /* decoded last_event: its last record's NewImage */
} history;

static int make_history(history *h, as_format format)
{
    h->format = format;
    as_items *items = as_items_new();
    as_buf event = AS_BUF_INIT;
    item_state s = {3600, 0, 10};
    as_audit_options options = {.format = format, .ignore = NULL, .ignore_count = 0, .now_ms = START_S * 1000};
    size_t page_size = 0;
    int rc = items == NULL ? -1 : 0;
    for (unsigned first = 0; first < ENTRIES && rc == 0; first += BATCH_RECORDS) {
        as_buf_clear(&event);
        append_event(&event, first, BATCH_RECORDS, &s);
        as_event *ev = NULL;
        as_error err = {0};
        if (as_buf_status(&event) != AS_OK ||
            as_event_decode(event.data, event.len, &ev, &err) != AS_OK) {
            fprintf(stderr, "bench_replay: the synthetic event: %s\n", err.message);
            rc = -1;
            break;
        }
        as_items_clear(items);
        if (as_audit_build_event(ev, &options, items, &err) != AS_OK) {
            fprintf(stderr, "bench_replay: building: %s\n", err.message);
            rc = -1;
        }
        for (size_t i = 0; i < as_items_count(items) && rc == 0; i++) {
            as_item item = as_items_get(items, i);
            if (item.flags & AS_ITEM_ERROR) {
                fprintf(stderr, "bench_replay: record %zu refused: %.*s\n", item.record,
                        (int)item.reason.len, item.reason.ptr);
                rc = -1;
                break;
            }
            if (h->page_count == 0 || page_size + item.size > PAGE_BYTES) {
                if (h->page_count > 0) {
                    as_buf_append_str(&h->pages[h->page_count - 1], "]}");
                }
                if (h->page_count == sizeof h->pages / sizeof h->pages[0]) {
                    fprintf(stderr, "bench_replay: too many pages\n");
                    rc = -1;
                    break;
                }
                as_buf_init(&h->pages[h->page_count]);
                as_buf_append_str(&h->pages[h->page_count], "{\"Items\":[");
                h->page_count++;
                page_size = 0;
            } else {
                as_buf_append_char(&h->pages[h->page_count - 1], ',');
            }
            as_buf_append_span(&h->pages[h->page_count - 1], item.json);
            page_size += item.size;
            h->items++;
            h->bytes += item.size;
        }
        if (first + BATCH_RECORDS >= ENTRIES && rc == 0) {
            /* Keep the last batch: its last NewImage is the state replay must give. */
            h->last_event = event;
            as_buf_init(&event);
            h->last = ev;
            ev = NULL;
        }
        as_event_free(ev);
    }
    if (rc == 0 && h->page_count > 0) {
        as_buf_append_str(&h->pages[h->page_count - 1], "]}");
    }
    for (size_t p = 0; p < h->page_count && rc == 0; p++) {
        if (as_buf_status(&h->pages[p]) != AS_OK) {
            fprintf(stderr, "bench_replay: out of memory\n");
            rc = -1;
        }
    }
    as_buf_free(&event);
    as_items_free(items);
    return rc;
}

static void free_history(history *h)
{
    for (size_t p = 0; p < h->page_count; p++) {
        as_buf_free(&h->pages[p]);
    }
    as_event_free(h->last);
    as_buf_free(&h->last_event);
}

/* ---- The measured operations ------------------------------------------------------- */

typedef struct run_ctx {
    const history *h;
    as_trail *trail; /* loaded once, for the operations that do not load */
    as_replay *replay;
    as_history *hist;
    as_verify *verify;
    int64_t at_ms;
    as_error err;
    uint64_t sink;
} run_ctx;

static const as_span KEY = {HISTORY_KEY, sizeof HISTORY_KEY - 1};

static int load(const history *h, as_trail **out, as_error *err)
{
    as_trail *trail = as_trail_new();
    if (trail == NULL) {
        return -1;
    }
    for (size_t p = 0; p < h->page_count; p++) {
        if (as_trail_add_json(trail, h->pages[p].data, h->pages[p].len, err) != AS_OK) {
            as_trail_free(trail);
            return -1;
        }
    }
    *out = trail;
    return 0;
}

/* What `auditstream show` does once it has the pages: load them, then replay. */
static int run_load_replay(void *arg)
{
    run_ctx *c = arg;
    as_trail *trail = NULL;
    if (load(c->h, &trail, &c->err) != 0) {
        return 1;
    }
    as_status status = as_trail_replay(trail, KEY, AS_TIME_MAX, c->replay, &c->err);
    c->sink += as_replay_attribute_count(c->replay);
    /* The result borrows from the trail: replay it empty before the trail goes. */
    as_trail_free(trail);
    return status == AS_OK ? 0 : 1;
}

static int run_load(void *arg)
{
    run_ctx *c = arg;
    as_trail *trail = NULL;
    if (load(c->h, &trail, &c->err) != 0) {
        return 1;
    }
    c->sink += as_trail_key_count(trail); /* orders the items */
    as_trail_free(trail);
    return 0;
}

static int run_replay(void *arg)
{
    run_ctx *c = arg;
    if (as_trail_replay(c->trail, KEY, c->at_ms, c->replay, &c->err) != AS_OK) {
        return 1;
    }
    c->sink += as_replay_attribute_count(c->replay);
    return 0;
}

static int run_history(void *arg)
{
    run_ctx *c = arg;
    if (as_trail_history(c->trail, KEY, AS_TIME_MIN, AS_TIME_MAX, c->hist, &c->err) != AS_OK) {
        return 1;
    }
    c->sink += as_history_count(c->hist);
    return 0;
}

static int run_verify(void *arg)
{
    run_ctx *c = arg;
    if (as_trail_verify(c->trail, KEY, c->verify, &c->err) != AS_OK) {
        return 1;
    }
    c->sink += as_verify_entries(c->verify);
    return 0;
}

/* ---- Checks ------------------------------------------------------------------------ */

/* The results are right before any is timed. */
static int check(run_ctx *c)
{
    const history *h = c->h;
    const as_record *last = as_event_record(h->last, as_event_record_count(h->last) - 1);
    if (as_trail_replay(c->trail, KEY, AS_TIME_MAX, c->replay, &c->err) != AS_OK ||
        as_replay_exists(c->replay) != AS_EXISTS_YES || !as_replay_complete(c->replay) ||
        !as_replay_matches(c->replay, last->new_image)) {
        fprintf(stderr, "bench_replay: the replayed state is not the last NewImage\n");
        return -1;
    }
    if (as_trail_history(c->trail, KEY, AS_TIME_MIN, AS_TIME_MAX, c->hist, &c->err) != AS_OK ||
        as_history_count(c->hist) != ENTRIES) {
        fprintf(stderr, "bench_replay: history lists %zu records, want %u\n",
                as_history_count(c->hist), ENTRIES);
        return -1;
    }
    if (as_trail_verify(c->trail, KEY, c->verify, &c->err) != AS_OK || !as_verify_ok(c->verify) ||
        as_verify_entries(c->verify) != ENTRIES) {
        fprintf(stderr, "bench_replay: verify: %zu entries, ok %d\n", as_verify_entries(c->verify),
                as_verify_ok(c->verify));
        return -1;
    }
    /* Half way: the state after record ENTRIES / 2 - 1 (one record a second). */
    if (as_trail_replay(c->trail, KEY, c->at_ms, c->replay, &c->err) != AS_OK ||
        as_replay_exists(c->replay) != AS_EXISTS_YES) {
        fprintf(stderr, "bench_replay: the mid-trail replay failed\n");
        return -1;
    }
    int64_t t = 0;
    if (!as_replay_last_change(c->replay, NULL, NULL, &t) || t > c->at_ms) {
        fprintf(stderr, "bench_replay: the mid-trail replay went past its time\n");
        return -1;
    }
    return 0;
}

enum { OP_LOAD_REPLAY, OP_LOAD, OP_REPLAY_END, OP_REPLAY_MID, OP_HISTORY, OP_VERIFY, OP_COUNT };

static const char *const OP_NAMES[OP_COUNT] = {
    "load pages + replay (show)", "load pages",    "replay, latest",
    "replay, half way",           "history (all)", "verify (continuity)"};

static int measure(const bench_config *config, const history *h)
{
    run_ctx ctx[OP_COUNT];
    bench_fn fns[OP_COUNT] = {run_load_replay, run_load,    run_replay,
                              run_replay,      run_history, run_verify};
    void *ctxs[OP_COUNT];
    bench_result results[OP_COUNT];
    int rc = 0;
    memset(ctx, 0, sizeof ctx);
    for (int k = 0; k < OP_COUNT; k++) {
        run_ctx *c = &ctx[k];
        c->h = h;
        c->at_ms = (START_S + ENTRIES / 2 - 1) * 1000 + 500;
        if (k == OP_REPLAY_END) {
            c->at_ms = AS_TIME_MAX;
        }
        c->replay = as_replay_new();
        c->hist = as_history_new();
        c->verify = as_verify_new();
        ctxs[k] = c;
        if (c->replay == NULL || c->hist == NULL || c->verify == NULL ||
            load(h, &c->trail, &c->err) != 0) {
            fprintf(stderr, "bench_replay: loading the trail: %s\n", c->err.message);
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        rc = check(&ctx[0]);
    }
    size_t failed = 0;
    if (rc == 0) {
        rc = bench_measure_interleaved(config, OP_COUNT, fns, ctxs, results, &failed);
        if (rc != 0) {
            fprintf(stderr, "bench_replay: %s failed: %s\n", OP_NAMES[failed],
                    ctx[failed].err.message);
        }
    }
    if (rc == 0) {
        const char *fname = h->format == AS_FORMAT_CLASSIC ? "classic" : "detailed";
        for (int k = 0; k < OP_COUNT; k++) {
            double entries = k == OP_REPLAY_MID ? ENTRIES / 2.0 : (double)ENTRIES;
            double t = results[k].median;
            printf("%-9s %-28s %10.2f %12.0f %10.2f %10.2f %6.2fx\n", fname, OP_NAMES[k], t * 1e3,
                   entries / t, results[k].best * 1e3, results[k].worst * 1e3,
                   t / results[OP_REPLAY_END].median);
        }
    }
    for (int k = 0; k < OP_COUNT; k++) {
        /* Results borrow from their trail: free them first. */
        as_replay_free(ctx[k].replay);
        as_history_free(ctx[k].hist);
        as_verify_free(ctx[k].verify);
        as_trail_free(ctx[k].trail);
    }
    return rc;
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0) {
        return 2;
    }
    int rc = 0;
    printf("bench_replay: one item's trail of %u records (1 INSERT, %u MODIFYs of one attribute "
           "each)\n",
           ENTRIES, ENTRIES - 1);
    history h[2];
    memset(h, 0, sizeof h);
    for (int f = 0; f < 2 && rc == 0; f++) {
        rc = make_history(&h[f], f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
        if (rc == 0) {
            printf("  %s: %zu items, %.1f MB of items (DynamoDB size), %zu Query pages of up to "
                   "1 MB\n",
                   f == 0 ? "classic" : "detailed", h[f].items, (double)h[f].bytes / 1e6,
                   h[f].page_count);
        }
    }
    if (rc == 0) {
        printf("%-9s %-28s %10s %12s %10s %10s %7s\n", "format", "operation", "median ms",
               "entries/s", "min ms", "max ms", "vs rep");
    }
    for (int f = 0; f < 2 && rc == 0; f++) {
        rc = measure(&config, &h[f]);
    }
    for (int f = 0; f < 2; f++) {
        free_history(&h[f]);
    }
    return rc == 0 ? 0 : 1;
}
