/* The trail: audit items of many keys, each read once into an entry when it is added
 * (its fields found, its format told), and kept in historyKey, historySort order for
 * replay, history and verify (core/replay.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/wire.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/replay.h"

#define ADDING "adding audit items to the trail"
/* ---- The trail --------------------------------------------------------------------- */

/* The bytes of one add: the copy of the text, its decoded items, the decoded strings the
 * entries point at. Never changed once added. */
typedef struct trail_page {
    char *json;
    as_wire_items *items;
    as_buf text;
} trail_page;

struct as_trail {
    trail_page **pages;
    size_t page_count;
    size_t page_cap;
    trail_entry *entries;
    size_t count;
    size_t cap;
    size_t *key_starts; /* key_count + 1 starts once indexed; room for cap + 1 */
    size_t key_count;
    size_t skipped;
    bool indexed;
};

as_trail *as_trail_new(void)
{
    return calloc(1, sizeof(as_trail));
}

static void page_free(trail_page *page)
{
    if (page != NULL) {
        as_wire_items_free(page->items);
        free(page->json);
        as_buf_free(&page->text);
        free(page);
    }
}

void as_trail_free(as_trail *trail)
{
    if (trail == NULL) {
        return;
    }
    for (size_t i = 0; i < trail->page_count; i++) {
        page_free(trail->pages[i]);
    }
    free(trail->pages);
    free(trail->entries);
    free(trail->key_starts);
    free(trail);
}

size_t as_trail_item_count(const as_trail *trail)
{
    return trail != NULL ? trail->count : 0;
}

size_t as_trail_skipped(const as_trail *trail)
{
    return trail != NULL ? trail->skipped : 0;
}

/* Where an entry's decoded strings are while its page is being read: offsets into the
 * page's text, which may still move. */
typedef struct pending {
    size_t key;
    size_t key_len;
    size_t sort;
    size_t id;
    size_t id_len;
    size_t attr;
    size_t attr_len;
    bool has_attr;
} pending;

/* What an item reports its faults by. */
typedef struct item_ctx {
    size_t index;
    const as_value *item;
    as_error *err;
} item_ctx;

static AS_RESULT item_fault(const item_ctx *ctx, const char *fmt, ...) AS_PRINTF(2, 3);

/* "item 3 (id "..."): <what>"; the id as the item has it, cut after 64 bytes. */
static as_result item_fault(const item_ctx *ctx, const char *fmt, ...)
{
    char what[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const as_value *id = as_wire_attribute(ctx->item, "id");
    if (id != NULL && id->type == AS_TYPE_S) {
        int shown = id->text.len > 64 ? 64 : (int)id->text.len;
        return as_fail(ctx->err, AS_ERR_ARGUMENT, 0, "item %zu (id \"%.*s%s\"): %s", ctx->index,
                       shown, id->text.ptr, id->text.len > 64 ? "..." : "", what);
    }
    return as_fail(ctx->err, AS_ERR_ARGUMENT, 0, "item %zu: %s", ctx->index, what);
}

/* The attribute `name` when it has type `type`; NULL when absent; a fault otherwise. */
static AS_RESULT typed(const item_ctx *ctx, const char *name, as_type type, const as_value **out)
{
    const as_value *v = as_wire_attribute(ctx->item, name);
    AS_ENSURE(v == NULL || v->type == type, item_fault(ctx, "%s has type %s, not %s", name,
                                                       as_type_name(v->type), as_type_name(type)));
    *out = v;
    return AS_RESULT_OK;
}

/* Decodes an S into the page's text; *at gets its offset. */
static void keep_text(as_buf *text, const as_value *s, size_t *at, size_t *len)
{
    *at = text->len;
    as_json_append_unescaped(text, s->text);
    *len = text->len - *at;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
    }
    return true;
}

static AS_RESULT read_event_name(const item_ctx *ctx, trail_entry *e)
{
    const as_value *name;
    AS_GUARD(typed(ctx, "eventName", AS_TYPE_S, &name));
    if (name == NULL) {
        AS_ENSURE(e->error,
                  item_fault(ctx, "eventName is missing (only an error item may lack it)"));
        e->event = EVENT_NONE;
        return AS_RESULT_OK;
    }
    static const struct {
        const char *text;
        entry_event event;
    } names[] = {{"CREATE", EVENT_CREATE},
                 {"UPDATE", EVENT_UPDATE},
                 {"DELETE", EVENT_DELETE},
                 {"BASELINE", EVENT_BASELINE}};
    bool escaped = (name->flags & AS_VALUE_TEXT_ESCAPED) != 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (as_json_string_equals(name->text, escaped, names[i].text, strlen(names[i].text))) {
            e->event = names[i].event;
            return AS_RESULT_OK;
        }
    }
    int shown = name->text.len > 64 ? 64 : (int)name->text.len;
    return item_fault(ctx, "eventName \"%.*s%s\" is not CREATE, UPDATE, DELETE or BASELINE", shown,
                      name->text.ptr, name->text.len > 64 ? "..." : "");
}

/* The fields of the format the item is in; a detailed item is told by any field of its own. */
static AS_RESULT read_format_fields(const item_ctx *ctx, trail_entry *e)
{
    static const char *const detailed_only[] = {"keys",     "sequenceNumber",    "tableName",
                                                "cause",    "updatedAttributes", "changes",
                                                "oldImage", "newImage"};
    for (size_t i = 0; i < sizeof detailed_only / sizeof detailed_only[0]; i++) {
        if (as_wire_attribute(ctx->item, detailed_only[i]) != NULL) {
            e->detailed = true;
        }
    }
    if (e->detailed) {
        AS_GUARD(typed(ctx, "oldImage", AS_TYPE_M, &e->old_image));
        AS_GUARD(typed(ctx, "newImage", AS_TYPE_M, &e->new_image));
        AS_GUARD(typed(ctx, "keys", AS_TYPE_M, &e->keys));
        e->changes = as_wire_attribute(ctx->item, "changes");
        AS_ENSURE(e->changes == NULL || e->changes->type == AS_TYPE_L ||
                      as_replay_marker(e->changes) == MARKER_TRUNCATED,
                  item_fault(ctx, "changes has type %s, not L", as_type_name(e->changes->type)));
        if (e->changes != NULL && e->changes->type == AS_TYPE_L) {
            size_t i = 0;
            for (const as_value *c = e->changes + 1; c < e->changes + e->changes->subtree;
                 c += c->subtree, i++) {
                const as_value *path = as_wire_attribute(c, "path");
                AS_ENSURE(c->type == AS_TYPE_M && path != NULL && path->type == AS_TYPE_S,
                          item_fault(ctx, "changes[%zu] is not a map with a path (S)", i));
            }
        }
        return AS_RESULT_OK;
    }
    AS_GUARD(typed(ctx, "updatedAttribute", AS_TYPE_S, &e->updated_attribute));
    AS_ENSURE(e->updated_attribute == NULL || e->event == EVENT_UPDATE || e->error,
              item_fault(ctx, "updatedAttribute on an item whose eventName is not UPDATE"));
    e->old_value = as_wire_attribute(ctx->item, "oldValue");
    e->new_value = as_wire_attribute(ctx->item, "newValue");
    if (e->updated_attribute == NULL) {
        /* Without updatedAttribute a value is a whole image. */
        AS_ENSURE(e->old_value == NULL || e->old_value->type == AS_TYPE_M,
                  item_fault(ctx,
                             "oldValue has type %s, not M (an item without updatedAttribute "
                             "holds whole images)",
                             as_type_name(e->old_value->type)));
        AS_ENSURE(e->new_value == NULL || e->new_value->type == AS_TYPE_M,
                  item_fault(ctx,
                             "newValue has type %s, not M (an item without updatedAttribute "
                             "holds whole images)",
                             as_type_name(e->new_value->type)));
    }
    return AS_RESULT_OK;
}

/* Reads item `ctx->index` into *e and *p; *skip when it has no place in any key's trail
 * (no historyKey and no historySort: chain heads, unsound error items). */
static AS_RESULT read_item(const item_ctx *ctx, as_buf *text, trail_entry *e, pending *p,
                           bool *skip)
{
    memset(e, 0, sizeof *e);
    memset(p, 0, sizeof *p);
    e->item = ctx->item;
    const as_value *key;
    const as_value *sort;
    AS_GUARD(typed(ctx, "historyKey", AS_TYPE_S, &key));
    AS_GUARD(typed(ctx, "historySort", AS_TYPE_S, &sort));
    *skip = key == NULL && sort == NULL;
    if (*skip) {
        return AS_RESULT_OK;
    }
    AS_ENSURE(key != NULL, item_fault(ctx, "historyKey is missing (historySort is there)"));
    AS_ENSURE(sort != NULL, item_fault(ctx, "historySort is missing (historyKey is there)"));
    AS_ENSURE(key->size > 0, item_fault(ctx, "historyKey is empty"));
    const as_value *id;
    AS_GUARD(typed(ctx, "id", AS_TYPE_S, &id));
    AS_ENSURE(id != NULL, item_fault(ctx, "id is missing"));
    const as_value *time;
    AS_GUARD(typed(ctx, "modificationTime", AS_TYPE_S, &time));
    AS_ENSURE(time != NULL, item_fault(ctx, "modificationTime is missing"));
    AS_GUARD(typed(ctx, "error", AS_TYPE_S, &e->error_text));
    e->error = e->error_text != NULL;
    AS_GUARD(typed(ctx, "actor", AS_TYPE_S, &e->actor));
    AS_GUARD(read_event_name(ctx, e));
    AS_GUARD(read_format_fields(ctx, e));

    size_t time_at;
    size_t time_len;
    size_t sort_len;
    keep_text(text, time, &time_at, &time_len);
    keep_text(text, key, &p->key, &p->key_len);
    keep_text(text, sort, &p->sort, &sort_len);
    keep_text(text, id, &p->id, &p->id_len);
    if (e->updated_attribute != NULL) {
        keep_text(text, e->updated_attribute, &p->attr, &p->attr_len);
        p->has_attr = true;
    }
    AS_GUARD(as_buf_result(text, ctx->err, ADDING));
    as_span t = {text->data + time_at, time_len};
    AS_ENSURE(as_iso_time_parse(t, true, &e->time_ms),
              item_fault(ctx,
                         "modificationTime \"%.*s\" is not a time like "
                         "2024-05-01T12:30:45.000Z (UTC, milliseconds)",
                         (int)(t.len > 64 ? 64 : t.len), t.ptr));
    const char *s = text->data + p->sort;
    AS_ENSURE(sort_len == HISTORY_SORT_LEN && s[HISTORY_TIME_LEN] == '/' &&
                  all_digits(s + HISTORY_TIME_LEN + 1, HISTORY_SEQ_LEN),
              item_fault(ctx,
                         "historySort \"%.*s\" is not <modificationTime>/<40-digit "
                         "sequence number>",
                         (int)(sort_len > 80 ? 80 : sort_len), s));
    AS_ENSURE(memcmp(s, t.ptr, HISTORY_TIME_LEN) == 0,
              item_fault(ctx, "historySort \"%.*s\" does not start with its modificationTime",
                         (int)sort_len, s));
    return AS_RESULT_OK;
}

/* Room for `extra` more entries (and their key starts) and one more page. */
static AS_RESULT reserve(as_trail *trail, size_t extra, as_error *err)
{
    if (trail->page_count == trail->page_cap) {
        size_t cap = trail->page_cap < 8 ? 8 : trail->page_cap * 2;
        trail_page **pages = realloc(trail->pages, cap * sizeof *pages);
        AS_ENSURE(pages != NULL, as_fail_nomem(err, ADDING));
        trail->pages = pages;
        trail->page_cap = cap;
    }
    AS_ENSURE(extra <= SIZE_MAX / 2 / sizeof(trail_entry) - trail->count,
              as_fail(err, AS_ERR_LIMIT, 0, "the trail cannot hold %zu more items", extra));
    size_t need = trail->count + extra;
    if (need > trail->cap) {
        size_t cap = trail->cap < 64 ? 64 : trail->cap;
        while (cap < need) {
            cap *= 2;
        }
        trail_entry *entries = realloc(trail->entries, cap * sizeof *entries);
        AS_ENSURE(entries != NULL, as_fail_nomem(err, ADDING));
        trail->entries = entries;
        size_t *starts = realloc(trail->key_starts, (cap + 1) * sizeof *starts);
        AS_ENSURE(starts != NULL, as_fail_nomem(err, ADDING));
        trail->key_starts = starts;
        trail->cap = cap;
    }
    return AS_RESULT_OK;
}

static AS_RESULT add_page(as_trail *trail, trail_page *page, pending **pend, as_error *err)
{
    size_t n = as_wire_item_count(page->items);
    AS_GUARD(reserve(trail, n, err));
    if (n > 0) {
        *pend = malloc(n * sizeof **pend);
        AS_ENSURE(*pend != NULL, as_fail_nomem(err, ADDING));
    }
    size_t first = trail->count;
    size_t kept = 0;
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        item_ctx ctx = {i, as_wire_item(page->items, i), err};
        bool skip;
        AS_GUARD(
            read_item(&ctx, &page->text, &trail->entries[first + kept], &(*pend)[kept], &skip));
        if (skip) {
            skipped++;
        } else {
            kept++;
        }
    }
    /* The page's text is final: offsets become spans. */
    for (size_t i = 0; i < kept; i++) {
        trail_entry *e = &trail->entries[first + i];
        const pending *p = &(*pend)[i];
        const char *base = page->text.data;
        e->key = (as_span){base + p->key, p->key_len};
        e->sort = (as_span){base + p->sort, HISTORY_SORT_LEN};
        e->id = (as_span){base + p->id, p->id_len};
        e->attr = p->has_attr ? (as_span){base + p->attr, p->attr_len} : (as_span){NULL, 0};
    }
    trail->count += kept;
    trail->skipped += skipped;
    trail->pages[trail->page_count++] = page;
    trail->indexed = false;
    return AS_RESULT_OK;
}

as_status as_trail_add_json(as_trail *trail, const char *json, size_t len, as_error *err)
{
    if (trail == NULL || (json == NULL && len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_add_json: NULL argument"));
    }
    if (len == SIZE_MAX) {
        return as_status_of(as_fail(err, AS_ERR_LIMIT, 0, "as_trail_add_json: input too long"));
    }
    trail_page *page = calloc(1, sizeof *page);
    if (page == NULL) {
        return as_status_of(as_fail_nomem(err, ADDING));
    }
    pending *pend = NULL;
    as_result result = AS_RESULT_OK;
    page->json = malloc(len + 1);
    if (page->json == NULL) {
        result = as_fail_nomem(err, ADDING);
    } else {
        if (len > 0) {
            memcpy(page->json, json, len);
        }
        page->json[len] = '\0';
        as_status status = as_wire_decode(page->json, len, AS_WIRE_ANY, &page->items, err);
        result = (as_result){status};
    }
    if (as_result_is_ok(result)) {
        result = add_page(trail, page, &pend, err);
    }
    free(pend);
    if (!as_result_is_ok(result)) {
        page_free(page);
    }
    return as_status_of(result);
}

/* ---- Order -------------------------------------------------------------------------- */

/* historyKey, historySort, updatedAttribute (none first), id. */
static int entry_cmp(const void *x, const void *y)
{
    const trail_entry *a = x;
    const trail_entry *b = y;
    int c = as_span_cmp(a->key, b->key);
    if (c == 0) {
        c = memcmp(a->sort.ptr, b->sort.ptr, HISTORY_SORT_LEN);
    }
    if (c == 0 && (a->attr.ptr == NULL) != (b->attr.ptr == NULL)) {
        c = a->attr.ptr == NULL ? -1 : 1;
    }
    if (c == 0 && a->attr.ptr != NULL) {
        c = as_span_cmp(a->attr, b->attr);
    }
    if (c == 0) {
        c = as_span_cmp(a->id, b->id);
    }
    return c;
}

/* Sorts and finds the keys; the arrays were sized when the items came. */
static void index_trail(as_trail *trail)
{
    if (trail->indexed) {
        return;
    }
    if (trail->count > 1) {
        qsort(trail->entries, trail->count, sizeof *trail->entries, entry_cmp);
    }
    trail->key_count = 0;
    for (size_t i = 0; i < trail->count; i++) {
        if (i == 0 || as_span_cmp(trail->entries[i - 1].key, trail->entries[i].key) != 0) {
            trail->key_starts[trail->key_count++] = i;
        }
    }
    if (trail->key_starts != NULL) {
        trail->key_starts[trail->key_count] = trail->count;
    }
    trail->indexed = true;
}

size_t as_trail_key_count(as_trail *trail)
{
    if (trail == NULL) {
        return 0;
    }
    index_trail(trail);
    return trail->key_count;
}

as_span as_trail_key(as_trail *trail, size_t index)
{
    if (trail == NULL) {
        return (as_span){NULL, 0};
    }
    index_trail(trail);
    if (index >= trail->key_count) {
        return (as_span){NULL, 0};
    }
    return trail->entries[trail->key_starts[index]].key;
}

const trail_entry *as_trail_entries(as_trail *trail, size_t *count)
{
    index_trail(trail);
    *count = trail->count;
    return trail->entries;
}

bool as_trail_find(as_trail *trail, as_span key, size_t *begin, size_t *end)
{
    index_trail(trail);
    size_t lo = 0;
    size_t hi = trail->key_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = as_span_cmp(trail->entries[trail->key_starts[mid]].key, key);
        if (c == 0) {
            *begin = trail->key_starts[mid];
            *end = trail->key_starts[mid + 1];
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

trail_record as_trail_record_at(const trail_entry *entries, size_t at, size_t end)
{
    trail_record rec = {at, at, &entries[at], false, entries[at].event, {NULL, 0}, {NULL, 0}};
    while (rec.end < end &&
           memcmp(entries[rec.end].sort.ptr, rec.head->sort.ptr, HISTORY_SORT_LEN) == 0) {
        rec.error = rec.error || entries[rec.end].error;
        rec.end++;
    }
    const char *digits = rec.head->sort.ptr + HISTORY_TIME_LEN + 1;
    size_t zeros = 0;
    while (zeros < HISTORY_SEQ_LEN && digits[zeros] == '0') {
        zeros++;
    }
    if (zeros < HISTORY_SEQ_LEN) {
        rec.sequence = (as_span){digits + zeros, HISTORY_SEQ_LEN - zeros};
    }
    rec.time = (as_span){rec.head->sort.ptr, HISTORY_TIME_LEN};
    return rec;
}

bool as_trail_repeat(const trail_entry *entries, size_t begin, size_t i)
{
    return i > begin && as_span_cmp(entries[i - 1].id, entries[i].id) == 0 &&
           memcmp(entries[i - 1].sort.ptr, entries[i].sort.ptr, HISTORY_SORT_LEN) == 0;
}
