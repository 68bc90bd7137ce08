/* auditstream verify [KEY ...] [--all] [--anchors FILE]: each key's trail read through the
 * history index and its chain head by id, checked by the library (continuity, the hash
 * chain, the anchors the function logged); one line or table row per key, then totals. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anchors.h"
#include "auditstream/chain.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"
#include "commands.h"
#include "session.h"
#include "table.h"

/* The keys found not ok are read again after this long, up to READS times in all, for as
 * long as what is read changes: the index is updated a moment after the table and the
 * function moves a head only after writing its items, so a trail read while the stream
 * flows can look cut short for that moment. A trail that reads the same twice is what is
 * stored. One pause serves every key of a round, so that a table with many broken trails
 * costs seconds, not a second a key. */
#define REREAD_MS 1000
#define READS     3
/* Keys read at once, each by a worker with its own connection: a key costs a GetItem and
 * a Query or more, one after the other, so the time goes in waiting. */
#define MAX_WORKERS 8

/* Problem kinds, for the totals line. */
static const char *const KINDS[] = {"continuity", "altered", "missing",
                                    "head",       "anchor",  "expired"};
#define KIND_COUNT (sizeof KINDS / sizeof KINDS[0])

typedef struct totals {
    size_t keys;
    size_t entries;
    bool ok;
    size_t kinds[KIND_COUNT + 1]; /* the last: any other kind */
} totals;

/* What is kept of a key's verdict until every key is settled: its fingerprint (what was
 * read), the counts, and what will be printed (the JSON line, or for the table each
 * problem's kind, sequence number and detail, each NUL-terminated). */
typedef struct key_result {
    size_t items;       /* audit items read */
    bool head_exists;
    bool head_bad;
    char head_chain[AS_CHAIN_HEX_LEN + 1];
    uint64_t head_entries;
    size_t entries;
    bool ok;
    bool settled; /* read the same twice, or READS times, or ok */
    size_t kinds[KIND_COUNT + 1];
    as_buf text;
    size_t problem_count;
} key_result;

static void key_result_free(key_result *r)
{
    as_buf_free(&r->text);
    memset(r, 0, sizeof *r);
}

static bool add_key_rows(cli_table *t, const char *key, const key_result *r)
{
    char entries[32];
    snprintf(entries, sizeof entries, "%zu", r->entries);
    size_t rows = r->problem_count > 0 ? r->problem_count : 1;
    const char *at = r->text.data;
    for (size_t i = 0; i < rows; i++) {
        if (!cli_table_row(t)) {
            return false;
        }
        if (i == 0 && !(cli_table_set_str(t, 0, key) && cli_table_set_str(t, 1, entries) &&
                        cli_table_set_str(t, 2, r->ok ? "ok" : "NOT OK"))) {
            return false;
        }
        if (r->problem_count > 0) {
            const char *kind = at;
            const char *seq = kind + strlen(kind) + 1;
            const char *detail = seq + strlen(seq) + 1;
            at = detail + strlen(detail) + 1;
            if (!(cli_table_set_str(t, 3, kind) &&
                  cli_table_set_str(t, 4, seq[0] != '\0' ? seq : "-") &&
                  cli_table_set_str(t, 5, detail))) {
                return false;
            }
        } else if (r->entries == 0 && !cli_table_set_str(t, 5, "no audit item for this key")) {
            return false;
        }
    }
    return true;
}

/* One read of a key: its trail and its chain head. */
typedef struct key_read {
    as_trail *trail;
    as_chain_head head; /* exists false: no head item */
    bool head_bad;      /* a head item is there but does not read as one */
    char head_why[256];
} key_read;

static void key_read_free(key_read *r)
{
    as_trail_free(r->trail);
    memset(r, 0, sizeof *r);
}

/* GetItem of the key's chain head (consistent: the head is the last thing written). */
static int read_head(const cli_session *s, as_ddb_client *client, const char *key, key_read *r,
                     char message[CLI_MESSAGE_MAX])
{
    as_error err = {0};
    char id[37];
    as_chain_head_init(&r->head);
    if (as_chain_head_id(as_span_from_cstr(key), id, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        return CLI_EXIT_FAILED;
    }
    char request[64];
    snprintf(request, sizeof request, "{\"id\":{\"S\":\"%s\"}}", id);
    as_buf answer = AS_BUF_INIT;
    as_buf scratch = AS_BUF_INIT;
    as_ddb_result result;
    memset(&result, 0, sizeof result);
    bool found = false;
    int rc = 0;
    if (as_ddb_get_item(client, &s->credentials, s->options->audit_table,
                        as_span_from_cstr(request), NULL, (as_span){NULL, 0}, true, 0, &answer,
                        &found, &result, NULL, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    } else if (result.outcome != AS_DDB_ANSWERED) {
        rc = cli_session_failure(s, "GetItem", s->options->audit_table,
                                 "--audit-table or AUDIT_TABLE", &result, message);
    }
    as_wire_items *items = NULL;
    if (rc == 0 && found &&
        as_wire_decode(answer.data, answer.len, AS_WIRE_GET, &items, &err) != AS_OK) {
        r->head_bad = true;
        snprintf(r->head_why, sizeof r->head_why, "%s", err.message);
    } else if (rc == 0 && found) {
        as_span item = as_wire_item(items, 0)->text;
        as_span of;
        if (as_chain_head_parse(item, &r->head, &scratch, &of, &err) != AS_OK) {
            if (err.code == AS_ERR_NOMEM) {
                snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
                rc = CLI_EXIT_FAILED;
            } else {
                r->head_bad = true;
                snprintf(r->head_why, sizeof r->head_why, "%s", err.message);
                as_chain_head_init(&r->head);
            }
        }
    }
    as_wire_items_free(items);
    as_buf_free(&scratch);
    as_buf_free(&answer);
    return rc;
}

/* The head first, then the trail: a head is moved only after its entries are written. */
static int read_key(const cli_session *s, as_ddb_client *client, const char *key, key_read *r,
                    char message[CLI_MESSAGE_MAX])
{
    memset(r, 0, sizeof *r);
    r->trail = as_trail_new();
    if (r->trail == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory verifying");
        return CLI_EXIT_FAILED;
    }
    int rc = read_head(s, client, key, r, message);
    if (rc == 0) {
        rc = cli_fetch_trail(s, client, key, AS_TIME_MIN, AS_TIME_MAX, r->trail, NULL, message);
    }
    return rc;
}

/* Everything the library checks of one read into `v`: continuity, the chain against the
 * head, and the key's anchors. */
static int check_read(key_read *r, const char *key, const cli_anchors *anchors, int64_t now_ms,
                      as_verify *v, char message[CLI_MESSAGE_MAX])
{
    as_span k = as_span_from_cstr(key);
    as_error err = {0};
    as_status status = as_trail_verify(r->trail, k, v, &err);
    if (status == AS_OK && r->head_bad) {
        char detail[256 + 64];
        snprintf(detail, sizeof detail, "the chain head item does not read as one: %s",
                 r->head_why);
        status = as_verify_add_problem(v, "head", "", detail, &err);
    }
    if (status == AS_OK) {
        status = as_trail_verify_chain(r->trail, k, r->head.exists ? &r->head : NULL, now_ms, v,
                                       &err);
    }
    size_t first = 0;
    size_t count = anchors != NULL ? cli_anchors_of(anchors, key, &first) : 0;
    for (size_t i = first; status == AS_OK && i < first + count; i++) {
        const cli_anchor *a = &anchors->items[i];
        status = as_trail_verify_anchor(r->trail, k, as_span_from_cstr(a->sequence_number),
                                        as_span_from_cstr(a->chain), v, &err);
    }
    if (status != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        return CLI_EXIT_FAILED;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Whether `r` (an earlier read's result) saw what `read` saw: then reading again would
 * tell nothing new. */
static bool same_read(const key_result *r, const key_read *read)
{
    return r->items == as_trail_item_count(read->trail) && r->head_exists == read->head.exists &&
           r->head_bad == read->head_bad && strcmp(r->head_chain, read->head.chain) == 0 &&
           r->head_entries == read->head.entries;
}

/* Keeps what `v` says of the key read as `read` in `r`. False when out of memory. */
static bool keep(key_result *r, const key_read *read, const as_verify *v, bool json)
{
    as_buf_clear(&r->text);
    memset(r->kinds, 0, sizeof r->kinds);
    r->items = as_trail_item_count(read->trail);
    r->head_exists = read->head.exists;
    r->head_bad = read->head_bad;
    memcpy(r->head_chain, read->head.chain, sizeof r->head_chain);
    r->head_entries = read->head.entries;
    r->entries = as_verify_entries(v);
    r->ok = as_verify_ok(v);
    r->problem_count = as_verify_problem_count(v);
    for (size_t i = 0; i < r->problem_count; i++) {
        as_problem p;
        if (!as_verify_problem_get(v, i, &p)) {
            return false;
        }
        size_t k = 0;
        while (k < KIND_COUNT && strcmp(KINDS[k], p.kind) != 0) {
            k++;
        }
        r->kinds[k]++;
        if (!json) {
            as_buf_append(&r->text, p.kind, strlen(p.kind) + 1);
            as_buf_append(&r->text, p.sequence_number, strlen(p.sequence_number) + 1);
            as_buf_append(&r->text, p.detail, strlen(p.detail) + 1);
        }
    }
    as_error err = {0};
    if (json && as_verify_write_json(v, &r->text, &err) != AS_OK) {
        return false;
    }
    return as_buf_status(&r->text) == AS_OK;
}

/* Reads and verifies one key into `r`. With `again` (a later round), a read that saw what
 * the last one saw settles the key as it was. */
static int verify_key(const cli_session *s, as_ddb_client *client, const char *key,
                      const cli_anchors *anchors, bool json, bool again, key_result *r,
                      char message[CLI_MESSAGE_MAX])
{
    as_verify *v = as_verify_new();
    key_read read;
    memset(&read, 0, sizeof read);
    int rc = v == NULL ? CLI_EXIT_FAILED : 0;
    if (v == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory verifying");
    }
    if (rc == 0) {
        rc = read_key(s, client, key, &read, message);
    }
    if (rc == 0 && again && same_read(r, &read)) {
        r->settled = true;
    } else if (rc == 0) {
        rc = check_read(&read, key, anchors, cli_now_ms(), v, message);
        if (rc == 0 && !keep(r, &read, v, json)) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory keeping the result");
            rc = CLI_EXIT_FAILED;
        }
        r->settled = r->ok;
    }
    key_read_free(&read);
    as_verify_free(v);
    return rc;
}

/* The keys of a run and the workers that verify them; `lock` guards `next`, `rc` and
 * `message`. */
typedef struct run {
    const cli_session *session;
    char *const *keys;
    size_t count;
    const cli_anchors *anchors;
    bool json;
    key_result *results;
    bool again; /* a later round: only the keys not settled */
    pthread_mutex_t lock;
    size_t next;
    int rc; /* the first failure, which stops the run, with `message` */
    char message[CLI_MESSAGE_MAX];
} run;

typedef struct worker {
    run *r;
    as_ddb_client *client;
    char message[CLI_MESSAGE_MAX];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->rc == 0 && r->next < r->count && r->again && r->results[r->next].settled) {
            r->next++;
        }
        size_t i = r->next;
        bool done = r->rc != 0 || i >= r->count;
        r->next++;
        pthread_mutex_unlock(&r->lock);
        if (done) {
            return NULL;
        }
        int rc = verify_key(r->session, w->client, r->keys[i], r->anchors, r->json, r->again,
                            &r->results[i], w->message);
        if (rc != 0) {
            pthread_mutex_lock(&r->lock);
            if (r->rc == 0) {
                r->rc = rc;
                memcpy(r->message, w->message, sizeof r->message);
            }
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
    }
}

/* One round over the keys (all, or those not settled) by the workers; with one worker,
 * on this thread. */
static void round_of(run *r, worker *workers, size_t count)
{
    r->next = 0;
    pthread_t threads[MAX_WORKERS];
    size_t started = 0;
    for (; count > 1 && started < count; started++) {
        if (pthread_create(&threads[started], NULL, work, &workers[started]) != 0) {
            break;
        }
    }
    if (started == 0) {
        (void)work(&workers[0]); /* no thread to be had: this one does the work */
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
}

/* Verifies every key, then reads again, a pause before each round, the keys not settled. */
static int verify_keys(cli_session *s, char *const *keys, size_t count, const cli_anchors *anchors,
                       bool json, key_result *results, char message[CLI_MESSAGE_MAX])
{
    run r;
    memset(&r, 0, sizeof r);
    if (pthread_mutex_init(&r.lock, NULL) != 0) {
        snprintf(message, CLI_MESSAGE_MAX, "cannot make a mutex");
        return CLI_EXIT_FAILED;
    }
    r.session = s;
    r.keys = keys;
    r.count = count;
    r.anchors = anchors;
    r.json = json;
    r.results = results;
    worker workers[MAX_WORKERS];
    memset(workers, 0, sizeof workers);
    size_t want = count < MAX_WORKERS ? count : MAX_WORKERS;
    size_t made = 0;
    workers[made++] = (worker){.r = &r, .client = s->client};
    while (r.rc == 0 && made < want) {
        workers[made].r = &r;
        r.rc = cli_session_client(s, 1, &workers[made].client, r.message);
        made += r.rc == 0;
    }
    for (int round = 0; r.rc == 0 && round < READS; round++) {
        size_t unsettled = 0;
        for (size_t i = 0; round > 0 && i < count; i++) {
            unsettled += !results[i].settled;
        }
        if (round > 0 && unsettled == 0) {
            break;
        }
        if (round > 0) {
            sleep_ms(REREAD_MS);
        }
        r.again = round > 0;
        round_of(&r, workers, round > 0 && unsettled < made ? unsettled : made);
    }
    for (size_t i = 1; i < made; i++) {
        as_ddb_client_free(workers[i].client);
    }
    pthread_mutex_destroy(&r.lock);
    if (r.rc != 0) {
        memcpy(message, r.message, CLI_MESSAGE_MAX);
    }
    return r.rc;
}

/* The keys to verify, decoded, sorted and distinct: those of the audit table (a Scan that
 * reads nothing else) and those of the anchors. Each key's trail is then read through the
 * index on its own, so that memory holds one trail at a time, not the table. */
typedef struct key_set {
    char **keys;
    size_t count;
    size_t cap;
    size_t unique; /* keys[0..unique) are sorted and distinct */
    as_error err;
    bool failed;
} key_set;

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dedupe(key_set *k)
{
    if (k->count == 0) {
        return;
    }
    qsort(k->keys, k->count, sizeof *k->keys, compare_keys);
    size_t kept = 1;
    for (size_t i = 1; i < k->count; i++) {
        if (strcmp(k->keys[i], k->keys[kept - 1]) == 0) {
            free(k->keys[i]);
        } else {
            k->keys[kept++] = k->keys[i];
        }
    }
    k->count = kept;
    k->unique = kept;
}

static bool room(key_set *k)
{
    if (k->count < k->cap) {
        return true;
    }
    size_t cap = k->cap == 0 ? 256 : k->cap * 2;
    char **grown = realloc(k->keys, cap * sizeof *grown);
    if (grown == NULL) {
        return false;
    }
    k->keys = grown;
    k->cap = cap;
    return true;
}

static bool add_key(key_set *k, const as_value *hk)
{
    if (!room(k)) {
        return false;
    }
    as_buf key = AS_BUF_INIT;
    as_json_unescape(hk->text, &key);
    bool ok = as_buf_status(&key) == AS_OK;
    if (!ok || key.data == NULL) {
        as_buf_free(&key);
        return ok; /* an empty key names no trail */
    }
    k->keys[k->count++] = key.data; /* NUL-terminated; the set owns it now */
    return true;
}

static bool add_text_key(key_set *k, const char *text)
{
    if (!room(k)) {
        return false;
    }
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        return false;
    }
    memcpy(copy, text, len + 1);
    k->keys[k->count++] = copy;
    return true;
}

static bool collect_keys(const as_ddb_page *page, void *ctx)
{
    key_set *k = ctx;
    as_wire_items *items = NULL;
    if (as_wire_decode(page->body.ptr, page->body.len, AS_WIRE_PAGE, &items, &k->err) != AS_OK) {
        k->failed = true;
        return false;
    }
    for (size_t i = 0; i < as_wire_item_count(items); i++) {
        /* An audit item names its key in historyKey, a chain head in chainOf: a head
         * whose trail is gone is still a key to verify. The error items of unsound keys
         * have neither, and no trail. */
        const as_value *item = as_wire_item(items, i);
        const as_value *hk = as_wire_attribute(item, "historyKey");
        if (hk == NULL || hk->type != AS_TYPE_S) {
            hk = as_wire_attribute(item, "chainOf");
        }
        if (hk != NULL && hk->type == AS_TYPE_S && !add_key(k, hk)) {
            snprintf(k->err.message, sizeof k->err.message, "out of memory gathering keys");
            k->err.code = AS_ERR_NOMEM;
            k->failed = true;
            break;
        }
    }
    as_wire_items_free(items);
    if (!k->failed && k->count > 2 * k->unique + 4096) {
        dedupe(k); /* every item repeats its key: keep the list near the number of keys */
    }
    return !k->failed;
}

static void key_set_free(key_set *k)
{
    for (size_t i = 0; i < k->count; i++) {
        free(k->keys[i]);
    }
    free(k->keys);
    memset(k, 0, sizeof *k);
}

/* Every historyKey and chainOf of the audit table into `keys`. */
static int scan_keys(cli_session *s, key_set *keys, char message[CLI_MESSAGE_MAX])
{
    enum { SEGMENTS = 4 };
    as_ddb_scan scan;
    memset(&scan, 0, sizeof scan);
    scan.table = s->options->audit_table;
    scan.segments = SEGMENTS;
    scan.projection = "historyKey, chainOf";
    as_ddb_result results[SEGMENTS];
    memset(results, 0, sizeof results);
    as_error err = {0};
    if (as_ddb_scan_pages(s->client, &s->credentials, &scan, collect_keys, keys, results, NULL,
                          &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        return err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    if (keys->failed) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", keys->err.message);
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < SEGMENTS; i++) {
        if (results[i].outcome != AS_DDB_ANSWERED) {
            return cli_session_failure(s, "Scan", scan.table, "--audit-table or AUDIT_TABLE",
                                       &results[i], message);
        }
    }
    return 0;
}

/* The keys to verify: the KEYs as given; else those of --all and of the anchors. */
static int gather_keys(cli_session *s, const cli_options *o, const cli_anchors *anchors,
                       key_set *keys, char message[CLI_MESSAGE_MAX])
{
    if (o->key_count > 0) {
        for (size_t i = 0; i < o->key_count; i++) {
            char *key = cli_history_key(o, o->keys[i]);
            if (key == NULL || !room(keys)) {
                free(key);
                snprintf(message, CLI_MESSAGE_MAX, "out of memory gathering keys");
                return CLI_EXIT_FAILED;
            }
            keys->keys[keys->count++] = key;
        }
        return 0;
    }
    int rc = o->all ? scan_keys(s, keys, message) : 0;
    for (size_t i = 0; rc == 0 && i < anchors->count; i++) {
        if (!add_text_key(keys, anchors->items[i].history_key)) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory gathering keys");
            rc = CLI_EXIT_FAILED;
        }
    }
    if (rc == 0) {
        dedupe(keys);
    }
    return rc;
}

static void summary_line(const totals *sum, as_buf *out)
{
    char line[256];
    snprintf(line, sizeof line, "%zu key%s, %zu entr%s: %s", sum->keys, sum->keys == 1 ? "" : "s",
             sum->entries, sum->entries == 1 ? "y" : "ies", sum->ok ? "ok" : "NOT OK");
    as_buf_append_str(out, line);
    const char *sep = " (";
    for (size_t k = 0; k <= KIND_COUNT; k++) {
        if (sum->kinds[k] > 0) {
            snprintf(line, sizeof line, "%s%zu %s", sep, sum->kinds[k],
                     k < KIND_COUNT ? KINDS[k] : "other");
            as_buf_append_str(out, line);
            sep = ", ";
        }
    }
    as_buf_append_str(out, sep[0] == ',' ? ")\n" : "\n");
}

int cli_verify(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
               char message[CLI_MESSAGE_MAX])
{
    static const char *const headers[] = {"KEY",     "ENTRIES",  "RESULT",
                                          "PROBLEM", "SEQUENCE", "DETAIL"};
    static const size_t widths[] = {48, 0, 0, 12, 0, 80};
    cli_session s;
    memset(&s, 0, sizeof s);
    as_ddb_table_info info;
    memset(&info, 0, sizeof info);
    cli_anchors anchors;
    memset(&anchors, 0, sizeof anchors);
    cli_table *t = o->json ? NULL : cli_table_new(6, headers, widths);
    key_set keys;
    memset(&keys, 0, sizeof keys);
    totals sum;
    memset(&sum, 0, sizeof sum);
    sum.ok = true;
    int rc = 0;
    /* The file first: a mistake in it is reported before anything is asked of DynamoDB. */
    if (o->anchors != NULL) {
        char why[CLI_MESSAGE_MAX];
        rc = cli_anchors_read(o->anchors, &anchors, why);
        if (rc != 0) {
            snprintf(message, CLI_MESSAGE_MAX, "verify: --anchors %.*s", CLI_MESSAGE_MAX - 32, why);
        }
    }
    if (rc == 0) {
        rc = cli_session_open(&s, o, getenv_fn, ctx, 4, message);
    }
    if (rc == 0 && !o->json && t == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->audit_table, "--audit-table or AUDIT_TABLE", true, &info, message);
    }
    if (rc == 0) {
        rc = gather_keys(&s, o, &anchors, &keys, message);
    }
    key_result *results = rc == 0 ? calloc(keys.count + 1, sizeof *results) : NULL;
    if (rc == 0 && results == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory verifying");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        rc = verify_keys(&s, keys.keys, keys.count, o->anchors != NULL ? &anchors : NULL, o->json,
                         results, message);
    }
    for (size_t i = 0; rc == 0 && i < keys.count; i++) {
        const key_result *r = &results[i];
        sum.keys++;
        sum.entries += r->entries;
        sum.ok = sum.ok && r->ok;
        for (size_t k = 0; k <= KIND_COUNT; k++) {
            sum.kinds[k] += r->kinds[k];
        }
        if (o->json) {
            as_buf_append(out, r->text.data, r->text.len);
        } else if (!add_key_rows(t, keys.keys[i], r)) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory laying out the result");
            rc = CLI_EXIT_FAILED;
        }
    }
    for (size_t i = 0; results != NULL && i < keys.count; i++) {
        key_result_free(&results[i]);
    }
    free(results);
    as_error err = {0};
    if (rc == 0 && o->json &&
        as_verify_write_summary_json(sum.keys, sum.entries, sum.ok, out, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = CLI_EXIT_FAILED;
    } else if (rc == 0 && !o->json) {
        cli_table_fit(t, o->width);
        cli_table_render(t, out);
        summary_line(&sum, out);
    }
    if (rc == 0 && !sum.ok) {
        rc = CLI_EXIT_FAILED;
    }
    key_set_free(&keys);
    cli_anchors_free(&anchors);
    cli_table_free(t);
    as_ddb_table_info_free(&info);
    cli_session_close(&s);
    return rc;
}
