/* The trail (audit items of many keys, parsed once and kept in historySort order) and
 * replay: an item's state as of a time, applied record by record by one state machine. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/diff.h"
#include "auditstream/wire.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/replay.h"
#include "core/value_json.h"

#define ADDING    "adding audit items to the trail"
#define REPLAYING "replaying the trail"

/* ---- Time --------------------------------------------------------------------------- */

as_status as_replay_time_parse(as_span text, int64_t *ms, as_error *err)
{
    if (ms == NULL || (text.ptr == NULL && text.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_replay_time_parse: NULL argument"));
    }
    if (text.len > 0 && as_iso_time_parse(text, false, ms)) {
        return AS_OK;
    }
    bool digits_first = text.len > 0 && text.ptr[0] >= '0' && text.ptr[0] <= '9';
    const char *why = NULL;
    if (digits_first && as_epoch_text_to_ms(text, ms, &why)) {
        return AS_OK;
    }
    int shown = text.len > 64 ? 64 : (int)text.len;
    return as_status_of(
        as_fail(err, AS_ERR_ARGUMENT, 0,
                "\"%.*s%s\" is not a time: give ISO-8601 UTC (2024-05-01T12:30:45Z, milliseconds "
                "optional) or epoch seconds%s%s",
                shown, text.ptr != NULL ? text.ptr : "", text.len > 64 ? "..." : "",
                digits_first && why != NULL ? ": " : "", digits_first && why != NULL ? why : ""));
}

void as_replay_time_format(int64_t ms, char out[25])
{
    as_iso_time_format(ms, out);
    out[AS_ISO_TIME_LEN] = '\0';
}

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

static int span_cmp(as_span a, as_span b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

/* historyKey, historySort, updatedAttribute (none first), id. */
static int entry_cmp(const void *x, const void *y)
{
    const trail_entry *a = x;
    const trail_entry *b = y;
    int c = span_cmp(a->key, b->key);
    if (c == 0) {
        c = memcmp(a->sort.ptr, b->sort.ptr, HISTORY_SORT_LEN);
    }
    if (c == 0 && (a->attr.ptr == NULL) != (b->attr.ptr == NULL)) {
        c = a->attr.ptr == NULL ? -1 : 1;
    }
    if (c == 0 && a->attr.ptr != NULL) {
        c = span_cmp(a->attr, b->attr);
    }
    if (c == 0) {
        c = span_cmp(a->id, b->id);
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
        if (i == 0 || span_cmp(trail->entries[i - 1].key, trail->entries[i].key) != 0) {
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
        int c = span_cmp(trail->entries[trail->key_starts[mid]].key, key);
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
    return i > begin && span_cmp(entries[i - 1].id, entries[i].id) == 0 &&
           memcmp(entries[i - 1].sort.ptr, entries[i].sort.ptr, HISTORY_SORT_LEN) == 0;
}

/* ---- Markers ------------------------------------------------------------------------- */

static bool bool_true(const as_value *v)
{
    return v != NULL && v->type == AS_TYPE_BOOL && v->text.len == 4;
}

marker_kind as_replay_marker(const as_value *value)
{
    if (value == NULL || value->type != AS_TYPE_M) {
        return MARKER_NONE;
    }
    const as_value *sha = as_wire_attribute(value, "sha256");
    const as_value *size = as_wire_attribute(value, "sizeBytes");
    if (value->count == 3 && bool_true(as_wire_attribute(value, "truncated")) && sha != NULL &&
        sha->type == AS_TYPE_S && size != NULL && size->type == AS_TYPE_N) {
        return MARKER_TRUNCATED;
    }
    const as_value *hmac = as_wire_attribute(value, "hmac");
    if (bool_true(as_wire_attribute(value, "redacted")) &&
        (value->count == 1 || (value->count == 2 && hmac != NULL && hmac->type == AS_TYPE_S))) {
        return MARKER_REDACTED;
    }
    return MARKER_NONE;
}

/* ---- Small writers ------------------------------------------------------------------- */

void as_json_append_string(as_buf *out, as_span bytes)
{
    /* A key or a problem may come from the caller: bytes that are not UTF-8 must still
     * make a valid line. */
    as_buf_append_char(out, '"');
    as_json_append_text(out, bytes);
    as_buf_append_char(out, '"');
}

const char *as_decoded_short(char *out, size_t cap, as_span body, bool escaped)
{
    size_t len = 0;
    bool cut = false;
    as_json_reader reader = as_json_reader_of(body, escaped);
    const char *chunk;
    size_t n;
    while (!cut && as_json_reader_next(&reader, &chunk, &n)) {
        for (size_t i = 0; i < n; i++) {
            if (len + 4 >= cap) {
                /* A continuation byte next: the last character is not whole, drop it. */
                if (((unsigned char)chunk[i] & 0xC0) == 0x80) {
                    while (len > 0 && ((unsigned char)out[len - 1] & 0xC0) == 0x80) {
                        len--;
                    }
                    len -= len > 0 ? 1 : 0;
                }
                cut = true;
                break;
            }
            out[len++] = chunk[i] == '\0' ? '?' : chunk[i];
        }
    }
    if (cut) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
    return out;
}

void as_record_describe(as_buf *out, const trail_record *rec)
{
    as_buf_append_span(out, rec->time);
    if (rec->sequence.ptr != NULL) {
        as_buf_append_str(out, ", sequence ");
        as_buf_append_span(out, rec->sequence);
    } else {
        as_buf_append_str(out, ", no sequence number");
    }
}

void as_value_append_short(as_buf *out, const as_value *value, size_t max)
{
    if (value == NULL) {
        as_buf_append_str(out, "absent");
        return;
    }
    size_t at = out->len;
    as_value_append_wire(out, value);
    if (out->failed || out->len - at <= max) {
        return;
    }
    size_t keep = max;
    while (keep > 0 && ((unsigned char)out->data[at + keep] & 0xC0) == 0x80) {
        keep--;
    }
    as_buf_truncate(out, at + keep);
    as_buf_append_str(out, "...");
}

/* ---- The state machine --------------------------------------------------------------- */

void as_state_reset(replay_state *st)
{
    st->exists = AS_EXISTS_UNKNOWN;
    st->complete = false;
    st->records = 0;
    st->count = 0;
    as_buf_clear(&st->notes);
    st->note_count = 0;
}

void as_state_free(replay_state *st)
{
    free(st->attrs);
    free(st->scratch);
    as_buf_free(&st->notes);
    memset(st, 0, sizeof *st);
}

void as_state_note(replay_state *st, const char *fmt, ...)
{
    if (!st->keep_notes) {
        return;
    }
    char note[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    as_buf_append(&st->notes, note, strlen(note) + 1);
    st->note_count++;
}

static void clear_notes(replay_state *st)
{
    as_buf_clear(&st->notes);
    st->note_count = 0;
}

/* Nothing known of the attributes any more. */
static void forget(replay_state *st, as_exists exists)
{
    st->count = 0;
    st->exists = exists;
    st->complete = exists == AS_EXISTS_NO;
}

static size_t lower_bound(const replay_state *st, as_span name, bool escaped, bool *found)
{
    size_t lo = 0;
    size_t hi = st->count;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const state_attr *a = &st->attrs[mid];
        int c = as_json_string_cmp(a->name, a->escaped, name, escaped);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

const state_attr *as_state_find(const replay_state *st, as_span name, bool escaped)
{
    bool found;
    size_t at = lower_bound(st, name, escaped, &found);
    return found ? &st->attrs[at] : NULL;
}

static AS_RESULT grow_attrs(replay_state *st, size_t need, as_error *err)
{
    if (need <= st->cap) {
        return AS_RESULT_OK;
    }
    size_t cap = st->cap < 16 ? 16 : st->cap;
    while (cap < need) {
        cap *= 2;
    }
    state_attr *attrs = realloc(st->attrs, cap * sizeof *attrs);
    AS_ENSURE(attrs != NULL, as_fail_nomem(err, REPLAYING));
    st->attrs = attrs;
    st->cap = cap;
    return AS_RESULT_OK;
}

/* Sets (or, with a NULL value, removes) one attribute. */
static AS_RESULT put(replay_state *st, as_span name, bool escaped, const as_value *value,
                     as_error *err)
{
    bool found;
    size_t at = lower_bound(st, name, escaped, &found);
    if (found && value == NULL && st->complete) {
        memmove(&st->attrs[at], &st->attrs[at + 1], (st->count - at - 1) * sizeof *st->attrs);
        st->count--;
        return AS_RESULT_OK;
    }
    if (found) {
        st->attrs[at].value = value;
        return AS_RESULT_OK;
    }
    if (value == NULL && st->complete) {
        return AS_RESULT_OK;
    }
    AS_GUARD(grow_attrs(st, st->count + 1, err));
    memmove(&st->attrs[at + 1], &st->attrs[at], (st->count - at) * sizeof *st->attrs);
    st->attrs[at] = (state_attr){name, escaped, value};
    st->count++;
    return AS_RESULT_OK;
}

static int name_order(const void *x, const void *y)
{
    const as_value *a = *(const as_value *const *)x;
    const as_value *b = *(const as_value *const *)y;
    return as_json_string_cmp(a->name, (a->flags & AS_VALUE_NAME_ESCAPED) != 0, b->name,
                              (b->flags & AS_VALUE_NAME_ESCAPED) != 0);
}

as_result as_members_by_name(const as_value *map, const as_value ***scratch, size_t *cap,
                             const char *doing, as_error *err)
{
    size_t n = map->count;
    if (n > *cap) {
        const as_value **grown = realloc(*scratch, n * sizeof *grown);
        AS_ENSURE(grown != NULL, as_fail_nomem(err, doing));
        *scratch = grown;
        *cap = n;
    }
    size_t i = 0;
    for (const as_value *m = map + 1; m < map + map->subtree; m += m->subtree) {
        (*scratch)[i++] = m;
    }
    if (n > 1) {
        qsort(*scratch, n, sizeof **scratch, name_order);
    }
    return AS_RESULT_OK;
}

/* The state becomes the whole image: present, every attribute known. */
static AS_RESULT set_image(replay_state *st, const as_value *image, as_error *err)
{
    size_t n = image->count;
    AS_GUARD(grow_attrs(st, n, err));
    AS_GUARD(as_members_by_name(image, &st->scratch, &st->scratch_cap, REPLAYING, err));
    for (size_t i = 0; i < n; i++) {
        const as_value *m = st->scratch[i];
        st->attrs[i] = (state_attr){m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, m};
    }
    st->count = n;
    st->exists = AS_EXISTS_YES;
    st->complete = true;
    clear_notes(st);
    return AS_RESULT_OK;
}

static const char *event_text(entry_event event)
{
    switch (event) {
    case EVENT_CREATE: return "CREATE";
    case EVENT_UPDATE: return "UPDATE";
    case EVENT_DELETE: return "DELETE";
    case EVENT_BASELINE: return "BASELINE";
    case EVENT_NONE: return "record";
    default: return "record";
    }
}

/* "<time>, sequence <n>" on the stack, for a note. */
static const char *described(char out[96], const trail_record *rec)
{
    int seq = (int)rec->sequence.len;
    if (rec->sequence.ptr != NULL) {
        snprintf(out, 96, "%.*s, sequence %.*s", (int)rec->time.len, rec->time.ptr, seq,
                 rec->sequence.ptr);
    } else {
        snprintf(out, 96, "%.*s", (int)rec->time.len, rec->time.ptr);
    }
    return out;
}

/* CREATE, BASELINE, a detailed UPDATE, a classic item without updatedAttribute: the new
 * image is the whole item, when the record has it. */
static AS_RESULT whole_image(replay_state *st, const trail_record *rec, const as_value *image,
                             as_error *err)
{
    if (image != NULL && as_replay_marker(image) == MARKER_NONE) {
        return set_image(st, image, err);
    }
    forget(st, AS_EXISTS_YES);
    clear_notes(st);
    char d[96];
    if (image == NULL) {
        as_state_note(st,
                      "the %s (%s) has no new image (a stream without images): the values "
                      "of the item are unknown",
                      event_text(rec->event), described(d, rec));
    } else {
        as_state_note(st,
                      "the new image of the %s (%s) was truncated (an item over 400 KB): "
                      "the values of the item are unknown",
                      event_text(rec->event), described(d, rec));
    }
    return AS_RESULT_OK;
}

/* A classic UPDATE: each item sets its attribute, or removes it. */
static AS_RESULT per_attribute(replay_state *st, const trail_entry *entries,
                               const trail_record *rec, bool first, as_error *err)
{
    if (st->exists != AS_EXISTS_YES) {
        as_exists before = st->exists;
        forget(st, AS_EXISTS_YES);
        char d[96];
        if (first) {
            as_state_note(st,
                          "the trail starts with an UPDATE (%s): only the attributes it "
                          "changed are known",
                          described(d, rec));
        } else if (before == AS_EXISTS_NO) {
            clear_notes(st);
            as_state_note(st,
                          "an UPDATE (%s) follows a DELETE with no CREATE between: only the "
                          "attributes it changed are known",
                          described(d, rec));
        }
    }
    for (size_t i = rec->begin; i < rec->end; i++) {
        const trail_entry *e = &entries[i];
        if (e->updated_attribute == NULL || as_trail_repeat(entries, rec->begin, i)) {
            continue;
        }
        AS_GUARD(put(st, e->updated_attribute->text,
                     (e->updated_attribute->flags & AS_VALUE_TEXT_ESCAPED) != 0, e->new_value,
                     err));
    }
    return AS_RESULT_OK;
}

as_result as_state_apply(replay_state *st, const trail_entry *entries, const trail_record *rec,
                         as_error *err)
{
    bool first = st->records == 0;
    st->records++;
    const trail_entry *h = rec->head;
    char d[96];
    if (rec->error) {
        forget(st, AS_EXISTS_UNKNOWN);
        clear_notes(st);
        const trail_entry *e = h;
        for (size_t i = rec->begin; i < rec->end && !e->error; i++) {
            e = &entries[i];
        }
        char why[200];
        as_state_note(st, "an error item (%s) left the state unknown: %s", described(d, rec),
                      as_decoded_short(why, sizeof why, e->error_text->text,
                                       (e->error_text->flags & AS_VALUE_TEXT_ESCAPED) != 0));
        return AS_RESULT_OK;
    }
    switch (rec->event) {
    case EVENT_CREATE:
    case EVENT_BASELINE:
        AS_GUARD(whole_image(st, rec, h->detailed ? h->new_image : h->new_value, err));
        break;
    case EVENT_DELETE:
        forget(st, AS_EXISTS_NO);
        clear_notes(st);
        break;
    case EVENT_UPDATE:
        if (h->detailed || h->updated_attribute == NULL) {
            AS_GUARD(whole_image(st, rec, h->detailed ? h->new_image : h->new_value, err));
        } else {
            AS_GUARD(per_attribute(st, entries, rec, first, err));
        }
        break;
    case EVENT_NONE:
    default: forget(st, AS_EXISTS_UNKNOWN); break;
    }
    /* A detailed item names its keys: they are known even when nothing else is. */
    if (h->detailed && h->keys != NULL && st->exists == AS_EXISTS_YES && !st->complete) {
        for (const as_value *k = h->keys + 1; k < h->keys + h->keys->subtree; k += k->subtree) {
            bool escaped = (k->flags & AS_VALUE_NAME_ESCAPED) != 0;
            if (as_state_find(st, k->name, escaped) == NULL) {
                AS_GUARD(put(st, k->name, escaped, k, err));
            }
        }
    }
    return AS_RESULT_OK;
}

/* ---- Replay ---------------------------------------------------------------------------- */

struct as_replay {
    replay_state st;
    as_buf key;
    int64_t at_ms;
    bool has_trail;
    int64_t last_ms;
    char last_time[HISTORY_TIME_LEN + 1];
    char last_seq[HISTORY_SEQ_LEN + 1];
    bool last_has_seq;
    as_buf item;
    as_buf names;    /* decoded attribute names back to back */
    size_t *name_at; /* count + 1 offsets into names */
    size_t name_cap;
    as_buf notes; /* NUL-terminated, back to back */
    size_t note_count;
};

as_replay *as_replay_new(void)
{
    return calloc(1, sizeof(as_replay));
}

void as_replay_free(as_replay *replay)
{
    if (replay == NULL) {
        return;
    }
    as_state_free(&replay->st);
    as_buf_free(&replay->key);
    as_buf_free(&replay->item);
    as_buf_free(&replay->names);
    free(replay->name_at);
    as_buf_free(&replay->notes);
    free(replay);
}

static void note(as_replay *r, const char *text)
{
    as_buf_append(&r->notes, text, strlen(text) + 1);
    r->note_count++;
}

/* The item, its names and its notes, from the final state. */
static AS_RESULT finish_replay(as_replay *r, as_error *err)
{
    const replay_state *st = &r->st;
    as_buf_append(&r->notes, st->notes.data, st->notes.len);
    r->note_count = st->note_count;
    if (!r->has_trail) {
        char at[25];
        as_replay_time_format(r->at_ms, at);
        char text[96];
        snprintf(text, sizeof text, "no audit item of this key at or before %s", at);
        note(r, text);
    }
    size_t n = st->exists == AS_EXISTS_YES ? st->count : 0;
    if (n + 1 > r->name_cap) {
        size_t *name_at = realloc(r->name_at, (n + 1) * sizeof *name_at);
        AS_ENSURE(name_at != NULL, as_fail_nomem(err, REPLAYING));
        r->name_at = name_at;
        r->name_cap = n + 1;
    }
    if (st->exists == AS_EXISTS_YES) {
        as_buf_append_char(&r->item, '{');
    }
    bool comma = false;
    for (size_t i = 0; i < n; i++) {
        const state_attr *a = &st->attrs[i];
        r->name_at[i] = r->names.len;
        as_json_append_unescaped(&r->names, a->name);
        if (a->value == NULL) {
            continue;
        }
        if (comma) {
            as_buf_append_char(&r->item, ',');
        }
        comma = true;
        as_buf_append_char(&r->item, '"');
        as_buf_append_span(&r->item, a->name);
        as_buf_append(&r->item, "\":", 2);
        as_value_append_wire(&r->item, a->value);
        marker_kind marker = as_replay_marker(a->value);
        if (marker != MARKER_NONE) {
            char text[200];
            char name[72];
            as_decoded_short(name, sizeof name, a->name, a->escaped);
            if (marker == MARKER_TRUNCATED) {
                const as_value *size = as_wire_attribute(a->value, "sizeBytes");
                snprintf(text, sizeof text,
                         "attribute \"%s\" holds a truncated marker (%.*s bytes): its value is "
                         "unknown",
                         name, (int)(size->text.len > 40 ? 40 : size->text.len), size->text.ptr);
            } else {
                snprintf(text, sizeof text, "attribute \"%s\" is redacted: its value is not stored",
                         name);
            }
            note(r, text);
        }
    }
    r->name_at[n] = r->names.len;
    if (st->exists == AS_EXISTS_YES) {
        as_buf_append_char(&r->item, '}');
    }
    AS_GUARD(as_buf_result(&r->st.notes, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->item, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->names, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->key, err, REPLAYING));
    return as_buf_result(&r->notes, err, REPLAYING);
}

static AS_RESULT replay(as_trail *trail, as_span key, int64_t at_ms, as_replay *r, as_error *err)
{
    as_state_reset(&r->st);
    r->st.keep_notes = true;
    as_buf_clear(&r->key);
    as_buf_clear(&r->item);
    as_buf_clear(&r->names);
    as_buf_clear(&r->notes);
    r->note_count = 0;
    r->has_trail = false;
    r->last_has_seq = false;
    r->at_ms = at_ms;
    as_buf_append_span(&r->key, key);
    size_t begin;
    size_t end;
    if (as_trail_find(trail, key, &begin, &end)) {
        size_t count;
        const trail_entry *entries = as_trail_entries(trail, &count);
        for (size_t at = begin; at < end && entries[at].time_ms <= at_ms;) {
            trail_record rec = as_trail_record_at(entries, at, end);
            AS_GUARD(as_state_apply(&r->st, entries, &rec, err));
            r->has_trail = true;
            r->last_ms = rec.head->time_ms;
            memcpy(r->last_time, rec.time.ptr, HISTORY_TIME_LEN);
            r->last_time[HISTORY_TIME_LEN] = '\0';
            r->last_has_seq = rec.sequence.ptr != NULL;
            if (r->last_has_seq) {
                memcpy(r->last_seq, rec.sequence.ptr, rec.sequence.len);
                r->last_seq[rec.sequence.len] = '\0';
            }
            at = rec.end;
        }
    }
    return finish_replay(r, err);
}

as_status as_trail_replay(as_trail *trail, as_span history_key, int64_t at_ms, as_replay *out,
                          as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_replay: NULL argument"));
    }
    return as_status_of(replay(trail, history_key, at_ms, out, err));
}

bool as_replay_has_trail(const as_replay *replay)
{
    return replay != NULL && replay->has_trail;
}

as_exists as_replay_exists(const as_replay *replay)
{
    return replay != NULL ? replay->st.exists : AS_EXISTS_UNKNOWN;
}

bool as_replay_complete(const as_replay *replay)
{
    return replay != NULL && replay->has_trail && replay->st.complete;
}

size_t as_replay_attribute_count(const as_replay *replay)
{
    return replay != NULL && replay->st.exists == AS_EXISTS_YES ? replay->st.count : 0;
}

as_replay_attribute as_replay_attribute_get(const as_replay *replay, size_t index)
{
    as_replay_attribute a = {{NULL, 0}, NULL};
    if (index < as_replay_attribute_count(replay)) {
        size_t at = replay->name_at[index];
        a.name = (as_span){replay->names.data != NULL ? replay->names.data + at : "",
                           replay->name_at[index + 1] - at};
        a.value = replay->st.attrs[index].value;
    }
    return a;
}

as_span as_replay_item_json(const as_replay *replay)
{
    if (replay == NULL || replay->st.exists != AS_EXISTS_YES) {
        return (as_span){NULL, 0};
    }
    return (as_span){replay->item.data, replay->item.len};
}

bool as_replay_last_change(const as_replay *replay, as_span *sequence_number,
                           as_span *modification_time, int64_t *time_ms)
{
    if (replay == NULL || !replay->has_trail) {
        return false;
    }
    if (sequence_number != NULL) {
        *sequence_number =
            replay->last_has_seq ? as_span_from_cstr(replay->last_seq) : (as_span){NULL, 0};
    }
    if (modification_time != NULL) {
        *modification_time = (as_span){replay->last_time, HISTORY_TIME_LEN};
    }
    if (time_ms != NULL) {
        *time_ms = replay->last_ms;
    }
    return true;
}

size_t as_replay_note_count(const as_replay *replay)
{
    return replay != NULL ? replay->note_count : 0;
}

const char *as_replay_note(const as_replay *replay, size_t index)
{
    if (replay == NULL || index >= replay->note_count) {
        return NULL;
    }
    const char *p = replay->notes.data;
    for (size_t i = 0; i < index; i++) {
        p += strlen(p) + 1;
    }
    return p;
}

bool as_state_matches(const replay_state *st, const as_value *item)
{
    if (item == NULL || item->type != AS_TYPE_M || st->exists != AS_EXISTS_YES || !st->complete ||
        st->count != item->count) {
        return false;
    }
    for (const as_value *m = item + 1; m < item + item->subtree; m += m->subtree) {
        const state_attr *a = as_state_find(st, m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0);
        if (a == NULL || a->value == NULL || !as_value_equal(a->value, m)) {
            return false;
        }
    }
    return true;
}

bool as_replay_matches(const as_replay *replay, const as_value *item)
{
    return replay != NULL && as_state_matches(&replay->st, item);
}

as_status as_replay_write_json(const as_replay *replay, as_buf *out, as_error *err)
{
    if (replay == NULL || out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_replay_write_json: NULL argument"));
    }
    char at[25];
    as_replay_time_format(replay->at_ms, at);
    as_buf_append_str(out, "{\"historyKey\":");
    as_json_append_string(out, (as_span){replay->key.data, replay->key.len});
    as_buf_append_str(out, ",\"at\":\"");
    as_buf_append_str(out, at);
    as_buf_append_str(out, "\",\"exists\":");
    as_exists exists = as_replay_exists(replay);
    as_buf_append_str(out, !replay->has_trail || exists == AS_EXISTS_UNKNOWN ? "null"
                           : exists == AS_EXISTS_YES                         ? "true"
                                                                             : "false");
    as_buf_append_str(out, ",\"complete\":");
    as_buf_append_str(out, as_replay_complete(replay) ? "true" : "false");
    as_buf_append_str(out, ",\"item\":");
    as_span item = as_replay_item_json(replay);
    if (item.ptr != NULL) {
        as_buf_append_span(out, item);
    } else {
        as_buf_append_str(out, "null");
    }
    as_buf_append_str(out, ",\"lastChange\":");
    if (replay->has_trail) {
        as_buf_append_char(out, '{');
        if (replay->last_has_seq) {
            as_buf_append_str(out, "\"sequenceNumber\":\"");
            as_buf_append_str(out, replay->last_seq);
            as_buf_append_str(out, "\",");
        }
        as_buf_append_str(out, "\"modificationTime\":\"");
        as_buf_append_str(out, replay->last_time);
        as_buf_append_str(out, "\"}");
    } else {
        as_buf_append_str(out, "null");
    }
    as_buf_append_str(out, ",\"notes\":[");
    for (size_t i = 0; i < replay->note_count; i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        as_json_append_string(out, as_span_from_cstr(as_replay_note(replay, i)));
    }
    as_buf_append_str(out, "]}\n");
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail_nomem(err, "writing the show line"));
    }
    return AS_OK;
}
