/* The hash chain in DynamoDB (auditstream/chain_store.h): a batch's heads read, its records
 * linked with core's pure primitives (chain.h), the items written, the heads moved. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auditstream/chain_store.h"
#include "auditstream/ddb_read.h"
#include "core/internal.h"
#include "core/json_text.h"

/* The error types an entry's items are failed with when the chain, not their own write,
 * is why they count as not written. */
#define TYPE_BROKEN   "ChainBroken"
#define TYPE_BAD_HEAD "InvalidChainHead"
#define TYPE_MOVED    "ConditionalCheckFailedException"

/* One entry as the call sees it. */
typedef struct entry_state {
    bool chainable;
    size_t first_item; /* its first item's index in the caller's `results` */
    size_t key;        /* chainable: its source item's index in `keys` */
    uint8_t digest[32];
    char seq[AS_CHAIN_SEQ_LEN + 1];   /* 40 digits; "" for a BASELINE */
    char time[AS_CHAIN_TIME_LEN + 1]; /* modificationTime */
    bool linked;                      /* linked in this round (items built and sent) */
    bool sent;                        /* an item of it was written in an earlier round */
    as_chain_head after;              /* the head once it is linked */
    as_chain_outcome outcome;
} entry_state;

/* One source item (historyKey) of the call, kept in the order of its decoded bytes. */
typedef struct key_state {
    size_t name_off, name_len; /* decoded historyKey, in keyname */
    size_t first, count;       /* its entries: order[first .. first + count) */
    char id[37];               /* the head's id */
    bool active;               /* read and written in this round */
    bool read_ok;              /* its head was read in this round */
    as_chain_head head;        /* as read */
    as_ddb_result read;        /* the read's fate (a failure's reason) */
    size_t target;             /* SIZE_MAX, or the order index of the last entry the head
                                  may move over this round */
    size_t put;                /* its head write's index this round */
    /* if_absent: its BASELINE's item found there already, and read back (in `there`). */
    bool resume;
    size_t id_off, id_len;         /* the item's id (S body, as given) */
    bool found;                    /* the read back found it */
    size_t stored_off, stored_len; /* the item as read back, compact wire JSON */
} key_state;

typedef struct sort_item {
    const char *ptr;
    size_t len;
    size_t entry;
} sort_item;

struct as_chain_store {
    as_ddb_client *client;             /* borrowed */
    const as_credentials *credentials; /* borrowed */
    char *table;
    as_ddb_write_api write_api;
    bool if_absent;

    entry_state *entries;
    size_t entries_cap;
    sort_item *order; /* chainable entries by decoded key, then batch order */
    size_t order_cap;
    key_state *keys;
    size_t keys_cap, key_count;
    as_buf keyname; /* decoded historyKeys */

    /* Per item of the call (flattened): where its chained JSON is, and the writes. */
    size_t *item_off;
    size_t *item_len;
    as_span *wspans;
    as_ddb_result *wresults;
    size_t *wslot;
    size_t items_cap;
    as_buf chained; /* this round's chained items */

    /* Reads and head writes, per key. */
    as_buf keyjson;
    size_t *keyjson_off;
    as_span *get_keys;
    size_t *get_key_of; /* get index -> key */
    as_ddb_result *get_results;
    as_ddb_conditional_put *puts;
    as_ddb_result *put_results;
    size_t *put_key_of;
    size_t per_key_cap;
    as_buf head_items; /* the heads' items, then their condition values */
    as_buf scratch;
    as_buf there; /* if_absent: the ids of BASELINE items found there, then the items */

    as_chain_moved *moved;
    size_t moved_cap, moved_count;
    size_t *moved_first; /* each moved head's first entry, to order them */
    as_buf moved_text;
};

const char *as_chain_outcome_name(as_chain_outcome outcome)
{
    switch (outcome) {
    case AS_CHAIN_NOT_ATTEMPTED: return "not attempted";
    case AS_CHAIN_LINKED: return "linked";
    case AS_CHAIN_PLAIN: return "plain";
    case AS_CHAIN_SKIPPED: return "skipped";
    case AS_CHAIN_ALREADY_THERE: return "already there";
    case AS_CHAIN_FAILED: return "failed";
    case AS_CHAIN_LATE: return "late";
    default: return "unknown";
    }
}

/* ---- the store ------------------------------------------------------------------------------ */

static AS_RESULT store_new(as_ddb_client *client, const as_credentials *credentials,
                           const as_chain_store_options *options, as_chain_store **out,
                           as_error *err)
{
    AS_ENSURE(out != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "chain: out is required"));
    *out = NULL;
    AS_ENSURE(client != NULL && credentials != NULL && options != NULL && options->table != NULL &&
                  options->table[0] != '\0',
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "chain: client, credentials, options and a table are required"));
    as_chain_store *s = calloc(1, sizeof *s);
    AS_ENSURE(s != NULL, as_fail_nomem(err, "chain: making the store"));
    s->table = strdup(options->table);
    if (s->table == NULL) {
        free(s);
        return as_fail_nomem(err, "chain: copying the table name");
    }
    s->client = client;
    s->credentials = credentials;
    s->write_api = options->write_api;
    s->if_absent = options->if_absent;
    *out = s;
    return AS_RESULT_OK;
}

as_status as_chain_store_new(as_ddb_client *client, const as_credentials *credentials,
                             const as_chain_store_options *options, as_chain_store **out,
                             as_error *err)
{
    return as_status_of(store_new(client, credentials, options, out, err));
}

void as_chain_store_free(as_chain_store *store)
{
    if (store == NULL) {
        return;
    }
    free(store->table);
    free(store->entries);
    free(store->order);
    free(store->keys);
    as_buf_free(&store->keyname);
    free(store->item_off);
    free(store->item_len);
    free(store->wspans);
    free(store->wresults);
    free(store->wslot);
    as_buf_free(&store->chained);
    as_buf_free(&store->keyjson);
    free(store->keyjson_off);
    free(store->get_keys);
    free(store->get_key_of);
    free(store->get_results);
    free(store->puts);
    free(store->put_results);
    free(store->put_key_of);
    as_buf_free(&store->head_items);
    as_buf_free(&store->scratch);
    as_buf_free(&store->there);
    free(store->moved);
    free(store->moved_first);
    as_buf_free(&store->moved_text);
    free(store);
}

const as_chain_moved *as_chain_store_moved(const as_chain_store *store, size_t *count)
{
    if (count != NULL) {
        *count = store != NULL ? store->moved_count : 0;
    }
    return store != NULL ? store->moved : NULL;
}

/* Makes *array hold `count` elements of `size`; the old contents are kept. */
static AS_RESULT grow(void **array, size_t size, size_t count, as_error *err, const char *what)
{
    if (count == 0) {
        count = 1;
    }
    AS_ENSURE(count <= SIZE_MAX / size, as_fail_nomem(err, what));
    void *p = realloc(*array, count * size);
    AS_ENSURE(p != NULL, as_fail_nomem(err, what));
    *array = p;
    return AS_RESULT_OK;
}

#define GROW(field, n, what) grow((void **)&(field), sizeof *(field), (n), err, (what))

static AS_RESULT reserve(as_chain_store *s, size_t entries, size_t items, as_error *err)
{
    if (entries > s->entries_cap) {
        AS_GUARD(GROW(s->entries, entries, "chain: for the entries"));
        AS_GUARD(GROW(s->order, entries, "chain: for the entries"));
        s->entries_cap = entries;
    }
    if (entries > s->per_key_cap) {
        AS_GUARD(GROW(s->keys, entries, "chain: for the source items"));
        AS_GUARD(GROW(s->keyjson_off, entries, "chain: for the source items"));
        AS_GUARD(GROW(s->get_keys, entries, "chain: for the heads' keys"));
        AS_GUARD(GROW(s->get_key_of, entries, "chain: for the heads' keys"));
        AS_GUARD(GROW(s->get_results, AS_DDB_BATCH_GET_REQUESTS(entries),
                      "chain: for the heads' reads"));
        AS_GUARD(GROW(s->puts, entries, "chain: for the heads' writes"));
        AS_GUARD(GROW(s->put_results, entries, "chain: for the heads' writes"));
        AS_GUARD(GROW(s->put_key_of, entries, "chain: for the heads' writes"));
        AS_GUARD(GROW(s->moved, entries, "chain: for the moved heads"));
        AS_GUARD(GROW(s->moved_first, entries, "chain: for the moved heads"));
        s->per_key_cap = entries;
    }
    if (items > s->items_cap) {
        AS_GUARD(GROW(s->item_off, items, "chain: for the items"));
        AS_GUARD(GROW(s->item_len, items, "chain: for the items"));
        AS_GUARD(GROW(s->wspans, items, "chain: for the items' writes"));
        AS_GUARD(GROW(s->wresults, items, "chain: for the items' writes"));
        AS_GUARD(GROW(s->wslot, items, "chain: for the items' writes"));
        s->items_cap = items;
    }
    return AS_RESULT_OK;
}

/* ---- checking and grouping the entries --------------------------------------------------------
 */

/* The sequence number's JSON string body (escapes decoded: the stream may send "\u0031")
 * as 40 digits into `out`; false when it is not 1 to 40 digits. */
static bool padded_seq(as_span body, char out[AS_CHAIN_SEQ_LEN + 1])
{
    char digits[AS_CHAIN_SEQ_LEN];
    size_t n = 0;
    as_json_bytes bytes = as_json_bytes_of(body, memchr(body.ptr, '\\', body.len) != NULL);
    for (int c = as_json_bytes_next(&bytes); c >= 0; c = as_json_bytes_next(&bytes)) {
        if (c < '0' || c > '9' || n == AS_CHAIN_SEQ_LEN) {
            return false;
        }
        digits[n++] = (char)c;
    }
    if (n == 0) {
        return false;
    }
    memset(out, '0', AS_CHAIN_SEQ_LEN - n);
    memcpy(out + AS_CHAIN_SEQ_LEN - n, digits, n);
    out[AS_CHAIN_SEQ_LEN] = '\0';
    return true;
}

static int by_name(const void *a, const void *b)
{
    const sort_item *x = a;
    const sort_item *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n > 0 ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Checks every entry, digests the chainable ones and groups them by source item. */
static AS_RESULT prepare(as_chain_store *s, const as_chain_entry *entries, size_t count,
                         size_t *total_items, as_error *err)
{
    size_t items = 0;
    for (size_t i = 0; i < count; i++) {
        const as_chain_entry *e = &entries[i];
        AS_ENSURE(e->item_count > 0 && e->items != NULL,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "chain: entry %zu has no items", i));
        AS_ENSURE(items <= SIZE_MAX - e->item_count,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "chain: too many items"));
        items += e->item_count;
    }
    *total_items = items;
    AS_GUARD(reserve(s, count, items, err));
    as_buf_clear(&s->keyname);
    size_t chainable = 0;
    size_t first_item = 0;
    for (size_t i = 0; i < count; i++) {
        const as_chain_entry *e = &entries[i];
        entry_state *st = &s->entries[i];
        memset(st, 0, sizeof *st);
        st->first_item = first_item;
        first_item += e->item_count;
        st->chainable = e->history_key.len > 0 && (e->sequence_number.len > 0 || e->baseline);
        if (!st->chainable) {
            continue;
        }
        AS_ENSURE(e->history_key.ptr != NULL,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "chain: entry %zu: historyKey has no bytes", i));
        if (e->sequence_number.len > 0) {
            AS_ENSURE(e->sequence_number.ptr != NULL && padded_seq(e->sequence_number, st->seq),
                      as_fail(err, AS_ERR_ARGUMENT, 0,
                              "chain: entry %zu: the sequence number is not 1 to %d digits", i,
                              AS_CHAIN_SEQ_LEN));
        }
        AS_ENSURE(e->modification_time.len == AS_CHAIN_TIME_LEN && e->modification_time.ptr != NULL,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "chain: entry %zu: modificationTime is not %d characters", i,
                          AS_CHAIN_TIME_LEN));
        memcpy(st->time, e->modification_time.ptr, AS_CHAIN_TIME_LEN);
        as_error inner = {0};
        as_status digested = as_chain_record_digest(e->items, e->item_count, st->digest, &inner);
        AS_ENSURE(digested == AS_OK,
                  as_fail(err, digested, 0, "chain: entry %zu: %s", i, inner.message));
        s->order[chainable].entry = i;
        s->order[chainable].ptr = NULL;
        s->order[chainable].len = s->keyname.len; /* the offset until the names stop moving */
        as_json_append_unescaped(&s->keyname, e->history_key);
        chainable++;
    }
    AS_GUARD(as_buf_result(&s->keyname, err, "chain: decoding the historyKeys"));
    for (size_t k = 0; k < chainable; k++) {
        size_t off = s->order[k].len;
        size_t end = k + 1 < chainable ? s->order[k + 1].len : s->keyname.len;
        s->order[k].ptr = s->keyname.data + off;
        s->order[k].len = end - off;
    }
    if (chainable > 1) {
        qsort(s->order, chainable, sizeof *s->order, by_name);
    }
    s->key_count = 0;
    for (size_t k = 0; k < chainable; k++) {
        const sort_item *o = &s->order[k];
        if (k == 0 || by_name(&(sort_item){o->ptr, o->len, 0},
                              &(sort_item){s->order[k - 1].ptr, s->order[k - 1].len, 0}) != 0) {
            key_state *key = &s->keys[s->key_count++];
            memset(key, 0, sizeof *key);
            key->name_off = (size_t)(o->ptr - s->keyname.data);
            key->name_len = o->len;
            key->first = k;
            as_error inner = {0};
            as_status named = as_chain_head_id((as_span){o->ptr, o->len}, key->id, &inner);
            AS_ENSURE(named == AS_OK,
                      as_fail(err, named, 0, "chain: entry %zu: %s", o->entry, inner.message));
        } else {
            AS_ENSURE(!s->if_absent,
                      as_fail(err, AS_ERR_ARGUMENT, 0,
                              "chain: entries %zu and %zu are of one source item, which a write "
                              "only where absent takes one at a time",
                              s->order[k - 1].entry, o->entry));
        }
        key_state *key = &s->keys[s->key_count - 1];
        key->count++;
        s->entries[o->entry].key = s->key_count - 1;
    }
    return AS_RESULT_OK;
}

/* ---- results -------------------------------------------------------------------------------- */

static void fail_text(as_ddb_result *r, const char *type, const char *fmt, ...) AS_PRINTF(3, 4);

static void fail_text(as_ddb_result *r, const char *type, const char *fmt, ...)
{
    r->outcome = AS_DDB_FAILED;
    snprintf(r->error_type, sizeof r->error_type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Marks entry `i`'s items as not written for the chain's reason `why` (its outcome
 * FAILED, or NOT_ATTEMPTED when why's outcome is), keeping an item's own failure. */
static void fail_entry(as_chain_store *s, const as_chain_entry *entries, size_t i,
                       const as_ddb_result *why, as_ddb_result *results)
{
    entry_state *st = &s->entries[i];
    st->outcome = why->outcome == AS_DDB_NOT_ATTEMPTED ? AS_CHAIN_NOT_ATTEMPTED : AS_CHAIN_FAILED;
    for (size_t j = 0; j < entries[i].item_count; j++) {
        as_ddb_result *r = &results[st->first_item + j];
        if (r->outcome == AS_DDB_WRITTEN || r->outcome == AS_DDB_ALREADY_THERE ||
            (r->outcome == AS_DDB_NOT_ATTEMPTED && why->outcome != AS_DDB_NOT_ATTEMPTED)) {
            uint32_t attempts = r->attempts;
            *r = *why;
            r->attempts = attempts;
        }
    }
}

/* The reason given for a head that was not read or not written: its request's own, its
 * message led by what it was for. */
static void head_reason(as_ddb_result *out, const as_ddb_result *call, const char *doing)
{
    *out = *call;
    if (call->outcome == AS_DDB_NOT_ATTEMPTED) {
        snprintf(out->message, sizeof out->message, "chain head not %s: %.200s", doing,
                 call->message[0] != '\0' ? call->message : "the deadline came first");
        return;
    }
    out->outcome = AS_DDB_FAILED;
    char message[AS_DDB_MESSAGE_MAX];
    snprintf(message, sizeof message, "%s", call->message);
    snprintf(out->message, sizeof out->message, "chain head not %s: %.200s", doing, message);
    if (out->error_type[0] == '\0') {
        snprintf(out->error_type, sizeof out->error_type, "%s", TYPE_BAD_HEAD);
    }
}

static void add_stats(as_chain_stats *st, const as_ddb_stats *ds)
{
    st->retries += ds->retries;
    st->throttles += ds->throttles;
    st->unprocessed += ds->unprocessed;
    if (st->stopped == AS_DDB_STOP_NONE) {
        st->stopped = ds->stopped;
    }
}

/* ---- one round: read, link, write items, move heads ----------------------------------------- */

typedef struct call {
    as_chain_store *s;
    const as_chain_entry *entries;
    size_t count;
    int64_t deadline_ms;
    as_ddb_result *results;
    as_chain_stats *stats;
    bool first_round;
} call;

/* The key whose decoded historyKey is `name`, or SIZE_MAX. */
static size_t find_key(const as_chain_store *s, as_span name)
{
    size_t lo = 0;
    size_t hi = s->key_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const key_state *k = &s->keys[mid];
        sort_item a = {s->keyname.data + k->name_off, k->name_len, 0};
        sort_item b = {name.ptr, name.len, 0};
        int c = by_name(&a, &b);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return SIZE_MAX;
}

typedef struct page_ctx {
    as_chain_store *s;
    as_error *err;
    as_status status; /* memory ran out reading a page */
} page_ctx;

static int append_dump(const char *buffer, size_t size, void *data)
{
    as_buf_append(data, buffer, size);
    return 0;
}

/* Reads one BatchGetItem answer's heads into their keys. A head that does not parse
 * fails its key. */
static bool on_heads(const as_ddb_page *page, void *ctx)
{
    page_ctx *pc = ctx;
    as_chain_store *s = pc->s;
    json_t *root = json_loadb(page->body.ptr, page->body.len, JSON_ALLOW_NUL, NULL);
    json_t *items = json_object_get(json_object_get(root, "Responses"), s->table);
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item)
    {
        as_buf_clear(&s->head_items);
        if (json_dump_callback(item, append_dump, &s->head_items, JSON_COMPACT) != 0 ||
            as_buf_status(&s->head_items) != AS_OK) {
            pc->status = AS_ERR_NOMEM;
            break;
        }
        as_chain_head head;
        as_span name = {0};
        as_error inner = {0};
        as_span text = {s->head_items.data, s->head_items.len};
        as_status parsed = as_chain_head_parse(text, &head, &s->scratch, &name, &inner);
        if (parsed == AS_ERR_NOMEM) {
            pc->status = AS_ERR_NOMEM;
            break;
        }
        size_t k = parsed == AS_OK ? find_key(s, name) : SIZE_MAX;
        if (parsed != AS_OK) {
            /* Which key it was for is in its id: every active key is compared. */
            json_t *id = json_object_get(json_object_get(item, "id"), "S");
            for (size_t j = 0; j < s->key_count && json_is_string(id); j++) {
                if (strcmp(s->keys[j].id, json_string_value(id)) == 0) {
                    fail_text(&s->keys[j].read, TYPE_BAD_HEAD, "chain head unreadable: %s",
                              inner.message);
                    s->keys[j].read_ok = false;
                }
            }
            continue;
        }
        if (k != SIZE_MAX && s->keys[k].active && s->keys[k].read.outcome != AS_DDB_FAILED) {
            s->keys[k].head = head;
        }
    }
    if (root == NULL) {
        pc->status = AS_ERR_NOMEM; /* the engine handed over a JSON object it had read */
    }
    json_decref(root);
    return pc->status == AS_OK;
}

/* One consistent BatchGetItem of the n keys laid end to end in keyjson (keyjson_off says
 * where each starts), each page handed to on_page, a result per request in get_results;
 * `what` names the read in the error. Shared by the heads' read and the read back of
 * BASELINE items there already, which differ only in what a page means. */
static AS_RESULT get_keys(call *c, size_t n, as_ddb_page_fn on_page, const char *what,
                          as_error *err)
{
    as_chain_store *s = c->s;
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? s->keyjson_off[i + 1] : s->keyjson.len;
        s->get_keys[i] = (as_span){s->keyjson.data + s->keyjson_off[i], end - s->keyjson_off[i]};
    }
    as_ddb_batch_get get = {0};
    get.table = s->table;
    get.keys = s->get_keys;
    get.key_count = n;
    get.consistent_read = true;
    get.deadline_ms = c->deadline_ms;
    page_ctx pc = {s, err, AS_OK};
    as_ddb_stats ds = {0};
    as_error inner = {0};
    memset(s->get_results, 0, AS_DDB_BATCH_GET_REQUESTS(n) * sizeof *s->get_results);
    as_status got = as_ddb_batch_get_items(s->client, s->credentials, &get, on_page, &pc,
                                           s->get_results, &ds, &inner);
    c->stats->requests_batch_get += ds.requests;
    add_stats(c->stats, &ds);
    if (pc.status != AS_OK) {
        /* as_fail_nomem's message, with `what` in it */
        return as_fail(err, AS_ERR_NOMEM, 0, "out of memory chain: %s", what);
    }
    AS_ENSURE(got == AS_OK, as_fail(err, got, 0, "chain: %s: %s", what, inner.message));
    return AS_RESULT_OK;
}

static AS_RESULT read_heads(call *c, as_error *err)
{
    as_chain_store *s = c->s;
    as_buf_clear(&s->keyjson);
    size_t n = 0;
    for (size_t k = 0; k < s->key_count; k++) {
        key_state *key = &s->keys[k];
        if (!key->active) {
            continue;
        }
        as_chain_head_init(&key->head);
        memset(&key->read, 0, sizeof key->read);
        key->read_ok = false;
        s->keyjson_off[n] = s->keyjson.len;
        as_buf_append_str(&s->keyjson, "{\"id\":{\"S\":\"");
        as_buf_append_str(&s->keyjson, key->id);
        as_buf_append_str(&s->keyjson, "\"}}");
        s->get_key_of[n++] = k;
    }
    AS_GUARD(as_buf_result(&s->keyjson, err, "chain: for the heads' keys"));
    if (n == 0) {
        return AS_RESULT_OK;
    }
    AS_GUARD(get_keys(c, n, on_heads, "reading the heads", err));
    for (size_t i = 0; i < n; i++) {
        key_state *key = &s->keys[s->get_key_of[i]];
        const as_ddb_result *r = &s->get_results[i / AS_DDB_BATCH_GET_MAX];
        if (key->read.outcome == AS_DDB_FAILED) {
            continue; /* its head did not parse */
        }
        if (r->outcome == AS_DDB_ANSWERED) {
            key->read_ok = true;
        } else {
            head_reason(&key->read, r, "read");
        }
    }
    return AS_RESULT_OK;
}

/* Links the active keys' entries from their heads and builds their items; returns in
 * *n the writes filled into wspans/wslot (the plain entries' items too, first round). */
static AS_RESULT link_keys(call *c, size_t *n, as_error *err)
{
    as_chain_store *s = c->s;
    as_buf_clear(&s->chained);
    size_t w = 0;
    if (c->first_round) {
        for (size_t i = 0; i < c->count; i++) {
            const entry_state *st = &s->entries[i];
            if (st->chainable) {
                continue;
            }
            for (size_t j = 0; j < c->entries[i].item_count; j++) {
                s->wspans[w] = c->entries[i].items[j];
                s->wslot[w++] = st->first_item + j;
                s->item_len[st->first_item + j] = SIZE_MAX; /* sent as given */
            }
        }
    }
    for (size_t k = 0; k < s->key_count; k++) {
        key_state *key = &s->keys[k];
        if (!key->active) {
            continue;
        }
        as_chain_head head = key->head;
        for (size_t o = key->first; o < key->first + key->count; o++) {
            size_t i = s->order[o].entry;
            entry_state *st = &s->entries[i];
            const as_chain_entry *e = &c->entries[i];
            /* A key read again starts its entries afresh: nothing from the round before. */
            st->linked = false;
            st->outcome = AS_CHAIN_NOT_ATTEMPTED;
            for (size_t j = 0; j < e->item_count; j++) {
                st->sent = st->sent || c->results[st->first_item + j].outcome == AS_DDB_WRITTEN;
                memset(&c->results[st->first_item + j], 0, sizeof *c->results);
            }
            if (!key->read_ok) {
                fail_entry(s, c->entries, i, &key->read, c->results);
                continue;
            }
            if (!e->baseline && head.exists && strcmp(st->seq, head.seq) <= 0) {
                st->outcome = AS_CHAIN_SKIPPED;
                continue;
            }
            /* Verify walks historySort, where a BASELINE sorts before every record of its
             * time or later: linked after one, it would break the chain. Checked against
             * the head as read in each round, so a head moved meanwhile is caught too;
             * both times are 24 characters whose bytes sort as the times do. */
            if (e->baseline && head.exists && strcmp(head.time, st->time) >= 0) {
                /* Written in a round before the head moved, its item stays with links
                 * from the old head (nothing here deletes): verify will say so. */
                as_ddb_result late = {0};
                fail_text(&late, AS_CHAIN_LATE_TYPE, "%s%s", AS_CHAIN_LATE_MESSAGE,
                          st->sent ? " (its item, written before the head moved, is left "
                                     "unlinked; verify reports it)"
                                   : "");
                fail_entry(s, c->entries, i, &late, c->results);
                st->outcome = AS_CHAIN_LATE;
                continue;
            }
            as_chain_link link;
            as_error inner = {0};
            as_status advanced = as_chain_advance(&head, st->digest, e->baseline ? NULL : st->seq,
                                                  st->time, &link, &inner);
            AS_ENSURE(advanced == AS_OK,
                      as_fail(err, advanced, 0, "chain: entry %zu: %s", i, inner.message));
            st->after = head;
            st->linked = true;
            for (size_t j = 0; j < e->item_count; j++) {
                size_t slot = st->first_item + j;
                s->item_off[slot] = s->chained.len;
                as_status added = as_chain_item_append(e->items[j], &link, &s->chained, &inner);
                AS_ENSURE(added == AS_OK, as_fail(err, added, 0, "chain: entry %zu, item %zu: %s",
                                                  i, j, inner.message));
                s->item_len[slot] = s->chained.len - s->item_off[slot];
                s->wslot[w++] = slot;
            }
        }
    }
    AS_GUARD(as_buf_result(&s->chained, err, "chain: linking the items"));
    for (size_t x = 0; x < w; x++) {
        size_t slot = s->wslot[x];
        if (s->item_len[slot] != SIZE_MAX) {
            s->wspans[x] = (as_span){s->chained.data + s->item_off[slot], s->item_len[slot]};
        }
    }
    *n = w;
    return AS_RESULT_OK;
}

static AS_RESULT write_items(call *c, size_t n, as_error *err)
{
    as_chain_store *s = c->s;
    if (n == 0) {
        return AS_RESULT_OK;
    }
    memset(s->wresults, 0, n * sizeof *s->wresults);
    as_ddb_stats ds = {0};
    as_error inner = {0};
    as_status wrote;
    int64_t deadline = c->deadline_ms;
    if (deadline > 0) {
        deadline = deadline > AS_CHAIN_STORE_HEAD_RESERVE_MS
                       ? deadline - AS_CHAIN_STORE_HEAD_RESERVE_MS
                       : 1; /* already past: nothing is sent */
    }
    if (s->if_absent && c->first_round) {
        wrote = as_ddb_put_items_if_absent(s->client, s->credentials, s->table, s->wspans, n,
                                           deadline, s->wresults, &ds, &inner);
        c->stats->requests_put_item += ds.requests;
    } else {
        wrote = as_ddb_write_items(s->client, s->credentials, s->table, s->write_api, s->wspans, n,
                                   deadline, s->wresults, &ds, &inner);
        if (s->write_api == AS_DDB_WRITE_BATCH) {
            c->stats->requests_batch_write += ds.requests;
        } else {
            c->stats->requests_put_item += ds.requests;
        }
    }
    add_stats(c->stats, &ds);
    for (size_t x = 0; x < n; x++) {
        c->results[s->wslot[x]] = s->wresults[x];
    }
    AS_ENSURE(wrote == AS_OK,
              as_fail(err, wrote, 0, "chain: writing the items: %s", inner.message));
    return AS_RESULT_OK;
}

/* ---- if_absent: a BASELINE item there already ----------------------------------------------- */

/* The S text of member `name` of the JSON object `item`, or NULL. */
static const char *s_member(json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

/* Reads one BatchGetItem answer's items into the keys whose BASELINE item they are. */
static bool on_there(const as_ddb_page *page, void *ctx)
{
    page_ctx *pc = ctx;
    as_chain_store *s = pc->s;
    json_t *root = json_loadb(page->body.ptr, page->body.len, JSON_ALLOW_NUL, NULL);
    json_t *items = json_object_get(json_object_get(root, "Responses"), s->table);
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item)
    {
        const char *id = s_member(item, "id");
        for (size_t k = 0; k < s->key_count && id != NULL; k++) {
            key_state *key = &s->keys[k];
            if (!key->resume || key->found || strlen(id) != key->id_len ||
                memcmp(id, s->there.data + key->id_off, key->id_len) != 0) {
                continue;
            }
            key->stored_off = s->there.len;
            if (json_dump_callback(item, append_dump, &s->there, JSON_COMPACT) != 0 ||
                as_buf_status(&s->there) != AS_OK) {
                pc->status = AS_ERR_NOMEM;
                break;
            }
            key->stored_len = s->there.len - key->stored_off;
            key->found = true;
        }
    }
    if (root == NULL) {
        pc->status = AS_ERR_NOMEM;
    }
    json_decref(root);
    return pc->status == AS_OK;
}

/* How a BASELINE item read back stands to its key's head, as read this round. */
typedef enum there_fate {
    THERE_ON_CHAIN, /* the head's entry, or behind it, or written without the chain */
    THERE_RESUME,   /* written after the head, which never moved over it: move it now */
    THERE_LATE,     /* it follows the head, but the head is as late as it */
    THERE_ASTRAY    /* on no chain this store can see: reported */
} there_fate;

static bool is_hex64(const char *text)
{
    if (text == NULL || strlen(text) != AS_CHAIN_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < AS_CHAIN_HEX_LEN; i++) {
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Judges key `k`'s stored BASELINE item; for THERE_RESUME, *after is the head moved over
 * it (its digest taken from the item as stored, which DynamoDB's rewriting leaves alone). */
static AS_RESULT judge_there(as_chain_store *s, const key_state *key, there_fate *fate,
                             as_chain_head *after, const char **why, as_error *err)
{
    as_span text = {s->there.data + key->stored_off, key->stored_len};
    json_t *item = json_loadb(text.ptr, text.len, JSON_ALLOW_NUL, NULL);
    AS_ENSURE(item != NULL, as_fail_nomem(err, "chain: reading a BASELINE item back"));
    const char *prev = s_member(item, "chainPrev");
    const char *chain = s_member(item, "chain");
    const char *time = s_member(item, "modificationTime");
    const as_chain_head *head = &key->head;
    *fate = THERE_ASTRAY;
    *why = "a BASELINE item of this source item is in the table but does not follow its "
           "chain's head: verify reports it";
    if (prev == NULL && chain == NULL) {
        *fate = THERE_ON_CHAIN; /* written without the chain, as before it was on */
    } else if (!is_hex64(prev) || !is_hex64(chain) || time == NULL ||
               strlen(time) != AS_CHAIN_TIME_LEN) {
        *why = "the BASELINE item in the table has malformed chain fields: verify reports it";
    } else if (head->exists && strcmp(chain, head->chain) == 0) {
        *fate = THERE_ON_CHAIN;
    } else if (strcmp(prev, head->chain) == 0) {
        if (head->exists && strcmp(head->time, time) >= 0) {
            *fate = THERE_LATE;
        } else {
            uint8_t digest[32];
            as_chain_link link;
            as_error inner = {0};
            as_status done = as_chain_record_digest(&text, 1, digest, &inner);
            *after = *head;
            if (done == AS_OK) {
                done = as_chain_advance(after, digest, NULL, time, &link, &inner);
            }
            if (done == AS_ERR_NOMEM) {
                json_decref(item);
                return as_fail(err, done, 0, "chain: a BASELINE item read back: %s", inner.message);
            }
            if (done == AS_OK && strcmp(link.chain, chain) == 0) {
                *fate = THERE_RESUME;
            } else {
                *why = "the BASELINE item in the table does not hash to its chain: verify "
                       "reports it";
            }
        }
    } else if (head->exists && strcmp(time, head->time) <= 0) {
        *fate = THERE_ON_CHAIN; /* behind the head, which moved on after it */
    }
    json_decref(item);
    return AS_RESULT_OK;
}

/* if_absent, first round: each BASELINE whose item was there already is read back
 * (BatchGetItem, consistent: the grant the heads' reads already have). One written by an
 * earlier call whose head write failed (its chainPrev is the head's chain) is resumed: the
 * head moves over it as stored. One on the chain counts as there; any other is reported. */
static AS_RESULT resume_there(call *c, as_error *err)
{
    as_chain_store *s = c->s;
    as_buf_clear(&s->there);
    as_buf_clear(&s->keyjson);
    size_t n = 0;
    for (size_t k = 0; k < s->key_count; k++) {
        key_state *key = &s->keys[k];
        key->resume = false;
        key->found = false;
        if (!key->active || !key->read_ok || key->count != 1) {
            continue;
        }
        size_t i = s->order[key->first].entry;
        const as_chain_entry *e = &c->entries[i];
        if (!s->entries[i].linked || !e->baseline || e->item_count != 1 ||
            c->results[s->entries[i].first_item].outcome != AS_DDB_ALREADY_THERE) {
            continue;
        }
        json_t *item = json_loadb(e->items[0].ptr, e->items[0].len, JSON_ALLOW_NUL, NULL);
        json_t *id = json_object_get(item, "id");
        json_t *request = json_string_value(json_object_get(id, "S")) != NULL
                              ? json_pack("{sO}", "id", id)
                              : NULL;
        const char *id_text = json_string_value(json_object_get(id, "S"));
        key->id_off = s->there.len;
        key->id_len = id_text != NULL ? strlen(id_text) : 0;
        as_buf_append(&s->there, id_text, key->id_len);
        s->keyjson_off[n] = s->keyjson.len;
        bool dumped = request != NULL &&
                      json_dump_callback(request, append_dump, &s->keyjson, JSON_COMPACT) == 0;
        json_decref(request);
        json_decref(item);
        /* The item was checked to be one with an S id: only memory can fail here. */
        AS_ENSURE(dumped, as_fail_nomem(err, "chain: for a BASELINE item's key"));
        key->resume = true;
        s->get_key_of[n++] = k;
    }
    AS_GUARD(as_buf_result(&s->keyjson, err, "chain: for a BASELINE item's key"));
    AS_GUARD(as_buf_result(&s->there, err, "chain: for a BASELINE item's key"));
    if (n == 0) {
        return AS_RESULT_OK;
    }
    AS_GUARD(get_keys(c, n, on_there, "reading BASELINE items back", err));
    for (size_t x = 0; x < n; x++) {
        key_state *key = &s->keys[s->get_key_of[x]];
        size_t i = s->order[key->first].entry;
        entry_state *st = &s->entries[i];
        as_ddb_result *r = &c->results[st->first_item];
        const as_ddb_result *read = &s->get_results[x / AS_DDB_BATCH_GET_MAX];
        as_ddb_result why = {0};
        st->linked = false;
        if (read->outcome != AS_DDB_ANSWERED) {
            /* Said as a head not read: the head cannot move without it. */
            head_reason(&why, read, "read past the BASELINE item there already");
            fail_entry(s, c->entries, i, &why, c->results);
            continue;
        }
        if (!key->found) {
            fail_text(&why, TYPE_BROKEN, "the BASELINE item was in the table, then gone");
            fail_entry(s, c->entries, i, &why, c->results);
            continue;
        }
        there_fate fate = THERE_ASTRAY;
        const char *astray = "";
        AS_GUARD(judge_there(s, key, &fate, &st->after, &astray, err));
        switch (fate) {
        case THERE_ON_CHAIN: st->outcome = AS_CHAIN_ALREADY_THERE; break;
        case THERE_RESUME: {
            /* Its head write failed after it went in: moved over now, and it counts as
             * written, as it would have then. */
            uint32_t attempts = r->attempts;
            memset(r, 0, sizeof *r);
            r->outcome = AS_DDB_WRITTEN;
            r->attempts = attempts;
            st->linked = true;
            break;
        }
        case THERE_LATE:
            fail_text(&why, AS_CHAIN_LATE_TYPE, "%s", AS_CHAIN_LATE_MESSAGE);
            fail_entry(s, c->entries, i, &why, c->results);
            st->outcome = AS_CHAIN_LATE;
            break;
        case THERE_ASTRAY:
        default:
            fail_text(&why, TYPE_BROKEN, "%s", astray);
            fail_entry(s, c->entries, i, &why, c->results);
            break;
        }
    }
    return AS_RESULT_OK;
}

/* Whether all of entry `i`'s items were written; *there when one was there already. */
static bool entry_written(const call *c, size_t i, bool *there)
{
    const entry_state *st = &c->s->entries[i];
    bool all = true;
    *there = false;
    for (size_t j = 0; j < c->entries[i].item_count; j++) {
        as_ddb_outcome o = c->results[st->first_item + j].outcome;
        *there = *there || o == AS_DDB_ALREADY_THERE;
        all = all && o == AS_DDB_WRITTEN;
    }
    return all;
}

/* Whether none of entry `i`'s items was sent (the deadline came first). */
static bool unsent(const call *c, size_t i)
{
    const entry_state *st = &c->s->entries[i];
    for (size_t j = 0; j < c->entries[i].item_count; j++) {
        if (c->results[st->first_item + j].outcome != AS_DDB_NOT_ATTEMPTED) {
            return false;
        }
    }
    return true;
}

/* After the items' writes: how far each active key's head may move (over its entries
 * written in a row), the later entries failed; fills the head writes. */
static AS_RESULT plan_heads(call *c, size_t *n, as_error *err)
{
    as_chain_store *s = c->s;
    as_buf_clear(&s->head_items);
    size_t p = 0;
    /* Offsets first, spans once the buffer has stopped moving. */
    for (size_t k = 0; k < s->key_count; k++) {
        key_state *key = &s->keys[k];
        key->target = SIZE_MAX;
        if (!key->active || !key->read_ok) {
            continue;
        }
        const as_ddb_result *broken = NULL;
        as_ddb_result why = {0};
        for (size_t o = key->first; o < key->first + key->count; o++) {
            size_t i = s->order[o].entry;
            entry_state *st = &s->entries[i];
            if (!st->linked) {
                continue;
            }
            if (broken != NULL) {
                fail_entry(s, c->entries, i, broken, c->results);
                st->linked = false;
                continue;
            }
            bool there;
            if (entry_written(c, i, &there)) {
                key->target = o;
                continue;
            }
            st->linked = false;
            if (there) {
                st->outcome = AS_CHAIN_ALREADY_THERE;
                fail_text(&why, TYPE_BROKEN,
                          "an earlier entry of this source item was in the table already");
            } else {
                /* Its own items say why; those written stay counted as written. */
                st->outcome = unsent(c, i) ? AS_CHAIN_NOT_ATTEMPTED : AS_CHAIN_FAILED;
                fail_text(&why, TYPE_BROKEN,
                          "an earlier record of this source item was not written");
            }
            broken = &why;
        }
        if (key->target == SIZE_MAX) {
            continue;
        }
        const entry_state *last = &s->entries[s->order[key->target].entry];
        as_span name = {s->keyname.data + key->name_off, key->name_len};
        size_t item_off = s->head_items.len;
        as_error inner = {0};
        as_status built = as_chain_head_item(name, &last->after, &s->head_items, &inner);
        AS_ENSURE(built == AS_OK, as_fail(err, built, 0, "chain: the head of entry %zu: %s",
                                          s->order[key->target].entry, inner.message));
        size_t values_off = s->head_items.len;
        if (key->head.exists) {
            as_buf_append_str(&s->head_items, "{\":old\":{\"S\":\"");
            as_buf_append_str(&s->head_items, key->head.chain);
            as_buf_append_str(&s->head_items, "\"}}");
        }
        s->puts[p].item = (as_span){NULL, item_off};
        s->puts[p].values = (as_span){NULL, values_off};
        s->puts[p].condition = key->head.exists ? "chain = :old" : "attribute_not_exists(id)";
        s->put_key_of[p] = k;
        key->put = p++;
    }
    AS_GUARD(as_buf_result(&s->head_items, err, "chain: the heads' items"));
    for (size_t x = 0; x < p; x++) {
        size_t item_off = s->puts[x].item.len;
        size_t values_off = s->puts[x].values.len;
        size_t end = x + 1 < p ? s->puts[x + 1].item.len : s->head_items.len;
        s->puts[x].item = (as_span){s->head_items.data + item_off, values_off - item_off};
        s->puts[x].values = (as_span){s->head_items.data + values_off, end - values_off};
    }
    *n = p;
    return AS_RESULT_OK;
}

/* Records a moved head for the anchor line; its texts are copied, spans set at the end. */
static void note_moved(call *c, key_state *key)
{
    as_chain_store *s = c->s;
    const entry_state *last = &s->entries[s->order[key->target].entry];
    as_chain_moved *m = &s->moved[s->moved_count];
    size_t first = s->order[key->first].entry;
    const as_chain_entry *seq_entry = NULL;
    for (size_t o = key->first; o <= key->target; o++) {
        const as_chain_entry *e = &c->entries[s->order[o].entry];
        if (s->entries[s->order[o].entry].outcome == AS_CHAIN_LINKED &&
            e->sequence_number.len > 0) {
            seq_entry = e;
        }
    }
    memcpy(m->chain, last->after.chain, sizeof m->chain);
    m->entries = last->after.entries;
    m->history_key = (as_span){NULL, s->moved_text.len};
    as_buf_append_span(&s->moved_text, c->entries[first].history_key);
    m->sequence_number = (as_span){NULL, s->moved_text.len};
    if (seq_entry != NULL) {
        as_buf_append_span(&s->moved_text, seq_entry->sequence_number);
    }
    s->moved_first[s->moved_count++] = first;
}

/* Moves the heads planned; decides per key: done, read again, or not written. Returns
 * in *again whether a key is to be read again. */
static AS_RESULT move_heads(call *c, size_t n, bool last_round, bool *again, as_error *err)
{
    as_chain_store *s = c->s;
    *again = false;
    if (n > 0) {
        memset(s->put_results, 0, n * sizeof *s->put_results);
        as_ddb_stats ds = {0};
        as_error inner = {0};
        as_status put = as_ddb_put_items_if(s->client, s->credentials, s->table, s->puts, n,
                                            c->deadline_ms, s->put_results, &ds, &inner);
        c->stats->requests_put_item += ds.requests;
        add_stats(c->stats, &ds);
        AS_ENSURE(put == AS_OK, as_fail(err, put, 0, "chain: moving the heads: %s", inner.message));
    }
    for (size_t k = 0; k < s->key_count; k++) {
        key_state *key = &s->keys[k];
        if (!key->active) {
            continue;
        }
        key->active = false;
        if (key->target == SIZE_MAX) {
            continue;
        }
        const as_ddb_result *r = &s->put_results[key->put];
        as_ddb_result why = {0};
        if (r->outcome == AS_DDB_WRITTEN) {
            for (size_t o = key->first; o <= key->target; o++) {
                entry_state *st = &s->entries[s->order[o].entry];
                if (st->linked) {
                    st->outcome = AS_CHAIN_LINKED;
                }
            }
            c->stats->heads_moved++;
            note_moved(c, key);
            continue;
        }
        if (r->outcome == AS_DDB_CONDITION_FAILED) {
            c->stats->condition_retries++;
            if (!last_round) {
                key->active = true;
                *again = true;
                continue;
            }
            fail_text(&why, TYPE_MOVED,
                      "chain head moved by another writer %d times in a row: not written",
                      AS_CHAIN_STORE_MAX_CONDITION_RETRIES + 1);
        } else {
            head_reason(&why, r, "moved");
        }
        for (size_t o = key->first; o <= key->target; o++) {
            size_t i = s->order[o].entry;
            if (s->entries[i].linked) {
                fail_entry(s, c->entries, i, &why, c->results);
                s->entries[i].linked = false;
            }
        }
    }
    return AS_RESULT_OK;
}

/* ---- the call ------------------------------------------------------------------------------- */

static AS_RESULT rounds(call *c, as_error *err)
{
    as_chain_store *s = c->s;
    for (size_t k = 0; k < s->key_count; k++) {
        s->keys[k].active = true;
    }
    for (int round = 0; round <= AS_CHAIN_STORE_MAX_CONDITION_RETRIES; round++) {
        c->first_round = round == 0;
        AS_GUARD(read_heads(c, err));
        size_t writes = 0;
        AS_GUARD(link_keys(c, &writes, err));
        AS_GUARD(write_items(c, writes, err));
        if (s->if_absent && c->first_round) {
            AS_GUARD(resume_there(c, err));
        }
        size_t heads = 0;
        AS_GUARD(plan_heads(c, &heads, err));
        bool again = false;
        AS_GUARD(move_heads(c, heads, round == AS_CHAIN_STORE_MAX_CONDITION_RETRIES, &again, err));
        if (!again) {
            break;
        }
    }
    return AS_RESULT_OK;
}

/* What the call leaves, whatever happened: plain entries judged by their items, and a
 * chainable entry neither linked nor skipped never counts as written. */
static void conclude(call *c, as_error *failure)
{
    as_chain_store *s = c->s;
    as_ddb_result stopped = {0};
    if (failure != NULL) {
        snprintf(stopped.message, sizeof stopped.message,
                 "not sent: the chain stopped early: %.200s", failure->message);
    }
    for (size_t i = 0; i < c->count; i++) {
        entry_state *st = &s->entries[i];
        const as_chain_entry *e = &c->entries[i];
        if (!st->chainable) {
            bool there;
            st->outcome = entry_written(c, i, &there) ? AS_CHAIN_PLAIN
                          : c->results[st->first_item].outcome == AS_DDB_NOT_ATTEMPTED
                              ? AS_CHAIN_NOT_ATTEMPTED
                              : AS_CHAIN_FAILED;
            continue;
        }
        switch (st->outcome) {
        case AS_CHAIN_LINKED:
        case AS_CHAIN_ALREADY_THERE: break;
        case AS_CHAIN_SKIPPED:
            for (size_t j = 0; j < e->item_count; j++) {
                as_ddb_result *r = &c->results[st->first_item + j];
                memset(r, 0, sizeof *r);
                r->outcome = AS_DDB_WRITTEN;
            }
            c->stats->skipped++;
            break;
        case AS_CHAIN_FAILED:
        case AS_CHAIN_LATE: break;
        case AS_CHAIN_NOT_ATTEMPTED:
        case AS_CHAIN_PLAIN:
        default: fail_entry(s, c->entries, i, &stopped, c->results); break;
        }
    }
}

/* The moved heads in the order their source items first appear; their spans set. */
static AS_RESULT finish_moved(as_chain_store *s, as_error *err)
{
    AS_GUARD(as_buf_result(&s->moved_text, err, "chain: for the moved heads"));
    for (size_t m = 0; m < s->moved_count; m++) {
        size_t key_off = s->moved[m].history_key.len;
        size_t seq_off = s->moved[m].sequence_number.len;
        size_t end = m + 1 < s->moved_count ? s->moved[m + 1].history_key.len : s->moved_text.len;
        s->moved[m].history_key = (as_span){s->moved_text.data + key_off, seq_off - key_off};
        s->moved[m].sequence_number = (as_span){s->moved_text.data + seq_off, end - seq_off};
    }
    /* Insertion sort: heads arrive in key order, few, and qsort has no context. */
    for (size_t m = 1; m < s->moved_count; m++) {
        as_chain_moved held = s->moved[m];
        size_t held_first = s->moved_first[m];
        size_t j = m;
        while (j > 0 && s->moved_first[j - 1] > held_first) {
            s->moved[j] = s->moved[j - 1];
            s->moved_first[j] = s->moved_first[j - 1];
            j--;
        }
        s->moved[j] = held;
        s->moved_first[j] = held_first;
    }
    return AS_RESULT_OK;
}

static AS_RESULT store_write(as_chain_store *s, const as_chain_entry *entries, size_t count,
                             int64_t deadline_ms, as_ddb_result *results,
                             as_chain_outcome *outcomes, as_chain_stats *stats, as_error *err)
{
    AS_ENSURE(s != NULL && (count == 0 || (entries != NULL && results != NULL)),
              as_fail(err, AS_ERR_ARGUMENT, 0, "chain: store, entries and results are required"));
    s->moved_count = 0;
    as_buf_clear(&s->moved_text);
    as_chain_stats local;
    as_chain_stats *st = stats != NULL ? stats : &local;
    memset(st, 0, sizeof *st);
    if (count == 0) {
        return AS_RESULT_OK;
    }
    size_t items = 0;
    as_result prepared = prepare(s, entries, count, &items, err);
    if (!as_result_is_ok(prepared)) {
        st->stopped = prepared.status == AS_ERR_NOMEM ? AS_DDB_STOP_NOMEM : AS_DDB_STOP_ARGUMENT;
        return prepared;
    }
    memset(results, 0, items * sizeof *results);
    call c = {s, entries, count, deadline_ms, results, st, true};
    as_error failure = {0};
    as_result ran = rounds(&c, &failure);
    conclude(&c, as_result_is_ok(ran) ? NULL : &failure);
    if (outcomes != NULL) {
        for (size_t i = 0; i < count; i++) {
            outcomes[i] = s->entries[i].outcome;
        }
    }
    /* Heads moved before a failure stay moved: the anchor line still wants them. */
    as_result finished = finish_moved(s, err);
    if (!as_result_is_ok(finished)) {
        s->moved_count = 0;
    }
    if (!as_result_is_ok(ran)) {
        /* Out of memory is the real reason, whatever an inner call's stop said (a page
         * callback that ran out of it stops its read as "the caller"). */
        if (failure.code == AS_ERR_NOMEM) {
            st->stopped = AS_DDB_STOP_NOMEM;
        } else if (st->stopped == AS_DDB_STOP_NONE) {
            st->stopped = AS_DDB_STOP_ARGUMENT;
        }
        return as_fail(err, failure.code, failure.offset, "%s", failure.message);
    }
    return finished;
}

as_status as_chain_store_write(as_chain_store *store, const as_chain_entry *entries, size_t count,
                               int64_t deadline_ms, as_ddb_result *results,
                               as_chain_outcome *outcomes, as_chain_stats *stats, as_error *err)
{
    return as_status_of(
        store_write(store, entries, count, deadline_ms, results, outcomes, stats, err));
}
